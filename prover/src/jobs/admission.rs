//! Admission control: the bounded queue and the per-tenant quota of live jobs.
//!
//! Invariant: the jobs queued or running never exceed the configured queue, nor one tenant's
//! quota: a place is reserved under one lock before a job exists, and freed when the job's task
//! ends ([`QueueSlot`] is dropped).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Admission control: the bounded queue and the per-tenant quota of live jobs.
#[derive(Debug)]
pub struct Admission {
    queue: usize,
    per_tenant: usize,
    live: Arc<Mutex<HashMap<String, usize>>>,
}

/// A reserved place in the queue; dropping it frees the place.
#[derive(Debug)]
pub struct QueueSlot {
    tenant: String,
    live: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for QueueSlot {
    fn drop(&mut self) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = live.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                live.remove(&self.tenant);
            }
        }
    }
}

/// Why a job was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The queue (all tenants) is full.
    QueueFull,
    /// The tenant has its quota of live jobs.
    TenantQuota,
}

impl Admission {
    /// At most `queue` live jobs, at most `per_tenant` of them for one tenant.
    pub fn new(queue: usize, per_tenant: usize) -> Self {
        Admission {
            queue,
            per_tenant,
            live: Default::default(),
        }
    }

    /// Reserves a place for a job of `tenant`, or says why not. Check and reservation happen
    /// under one lock, so concurrent submissions cannot overshoot.
    pub fn reserve(&self, tenant: &str) -> Result<QueueSlot, Refusal> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = live.values().sum();
        if total >= self.queue {
            return Err(Refusal::QueueFull);
        }
        let mine = live.entry(tenant.to_owned()).or_insert(0);
        if *mine >= self.per_tenant {
            return Err(Refusal::TenantQuota);
        }
        *mine += 1;
        Ok(QueueSlot {
            tenant: tenant.to_owned(),
            live: self.live.clone(),
        })
    }

    /// Live jobs (queued or running) over all tenants.
    pub fn live(&self) -> usize {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }
}
