//! Proving jobs: their life, their progress events, and the idempotency fingerprint.
//!
//! A job moves `queued -> witness -> proving -> verifying -> logged -> done`, or ends `failed`
//! (with a reason) or `cancelled`. Each step is first written to the store with a conditional
//! update that only succeeds while the job is still running ([`Store::advance_job`]); the store
//! is the arbiter, so a cancellation and a step racing each other resolve in one order, and a
//! job that lost the race stops without writing anything.
//!
//! Invariants:
//! - the job's secrets ([`ClaimInput`], then its [`ClaimAssignment`]) live only in the job
//!   task's memory and are zeroized when dropped; nothing secret is stored, logged or sent;
//! - proving runs on the blocking pool holding one permit of the global semaphore;
//! - a bundle is stored only for a proof that verified under the shape's trusted key, and only
//!   after the audit sink recorded it;
//! - a job interrupted by a shutdown writes nothing more: the server marks it failed
//!   "interrupted, resubmit" when the drain deadline passes (or the next start does, after a
//!   crash: [`Store::interrupt_running_jobs`]); a resubmission starts it again;
//! - every job task holds a [`QueueSlot`] from [`Admission`] for its whole life, so the jobs
//!   queued or running never exceed the configured queue and per-tenant quota, and a job that
//!   was admitted is never dropped for lack of room.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use credence_circuits::{ClaimInput, ClaimProver};
use credence_verifier::{ClaimBundle, TrustedKey};
use tokio::sync::watch;
use zeroize::Zeroizing;

use crate::audit::AuditEvent;
use crate::service::{State, blocking};
use crate::storage::{JobRecord, JobState, Store, now};

/// The jobs running in this process, each with a channel of its latest record.
#[derive(Debug, Default)]
pub struct JobRegistry {
    live: Mutex<HashMap<String, watch::Sender<JobRecord>>>,
}

impl JobRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<JobRecord>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a job that is about to run; returns a receiver of its records.
    pub fn start(&self, record: JobRecord) -> watch::Receiver<JobRecord> {
        let (tx, rx) = watch::channel(record.clone());
        self.lock().insert(record.id, tx);
        rx
    }

    /// A receiver of a running job's records, if it runs in this process.
    pub fn subscribe(&self, id: &str) -> Option<watch::Receiver<JobRecord>> {
        self.lock().get(id).map(|tx| tx.subscribe())
    }

    /// Publishes a job's new record to its watchers. A terminal record is final: a late
    /// running-stage record (from a step that raced a cancellation) is ignored.
    pub fn publish(&self, record: &JobRecord) {
        if let Some(tx) = self.lock().get(&record.id) {
            tx.send_if_modified(|current| {
                if current.state.is_terminal() {
                    false
                } else {
                    *current = record.clone();
                    true
                }
            });
        }
    }

    /// How many jobs run in this process.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No job runs in this process.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets a finished job (its watchers then read the store).
    pub fn finish(&self, id: &str) {
        self.lock().remove(id);
    }
}

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

/// Domain separation of request fingerprints.
const FINGERPRINT_DOMAIN: &[u8] = b"credence-claim-request/v1\0";

/// The idempotency fingerprint of a claim request.
///
/// A keyed blake3 (key: 32 random bytes in `<data_dir>/idempotency.key`, mode 0600) over a
/// canonical, fixed-width encoding of the *resolved* request: snapshot (epoch, root, total,
/// revenue), range, secret, and per contribution leaf index, digest, blinding, weight and path.
/// Resolved, so that raw data and its digest, or a path looked up and the same path supplied,
/// are the same request. The circuit shape is left out, so a configuration change does not
/// turn a resubmission into a new job.
///
/// Why keyed: the request holds secrets, and parts of it (weights, indices, a digest of known
/// data) can be guessed. A plain hash stored in the jobs table would let anyone holding a copy
/// of the database confirm a guessed request offline; with the key kept outside the database,
/// the fingerprint says nothing without it. The encoding buffer is zeroized after hashing.
pub fn request_fingerprint(key: &[u8; 32], input: &ClaimInput) -> [u8; 32] {
    let mut buf = Zeroizing::new(Vec::with_capacity(256 + input.contributions.len() * 2048));
    let fr = |buf: &mut Vec<u8>, x: &Fr| buf.extend_from_slice(&x.into_bigint().to_bytes_le());
    buf.extend_from_slice(FINGERPRINT_DOMAIN);
    buf.extend_from_slice(&input.epoch.to_le_bytes());
    fr(&mut buf, &input.root);
    buf.extend_from_slice(&input.total_weight.to_le_bytes());
    buf.extend_from_slice(&input.revenue.to_le_bytes());
    buf.extend_from_slice(&input.range_start.to_le_bytes());
    buf.extend_from_slice(&input.range_end.to_le_bytes());
    fr(&mut buf, &input.secret);
    buf.extend_from_slice(&(input.contributions.len() as u64).to_le_bytes());
    for c in &input.contributions {
        buf.extend_from_slice(&c.leaf_index.to_le_bytes());
        fr(&mut buf, &c.digest);
        fr(&mut buf, &c.blinding);
        buf.extend_from_slice(&c.weight.to_le_bytes());
        buf.extend_from_slice(&(c.path.siblings.len() as u64).to_le_bytes());
        for s in &c.path.siblings {
            fr(&mut buf, &s.hash);
            buf.extend_from_slice(&s.sum.to_le_bytes());
        }
    }
    *blake3::keyed_hash(key, &buf).as_bytes()
}

/// A fresh job id: 16 bytes of OS randomness, hex.
pub fn new_job_id() -> String {
    use ark_std::rand::RngCore;
    let mut b = [0u8; 16];
    credence_circuits::prover::os_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Everything a job task needs.
pub struct JobSpec {
    /// The job as stored (queued).
    pub record: JobRecord,
    /// The secrets; dropped (zeroized) as soon as the witness is computed.
    pub input: ClaimInput,
    /// The shape's prover.
    pub prover: Arc<ClaimProver>,
    /// The shape's trusted verifying key.
    pub key: TrustedKey,
}

impl std::fmt::Debug for JobSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSpec")
            .field("id", &self.record.id)
            .finish_non_exhaustive()
    }
}

/// Starts a queued job in the background; it holds `slot` until it ends.
pub fn spawn(state: Arc<State>, spec: JobSpec, slot: QueueSlot) {
    let rx = state.jobs.start(spec.record.clone());
    tokio::spawn(async move {
        let id = spec.record.id.clone();
        run(state.clone(), spec, rx).await;
        state.jobs.finish(&id);
        drop(slot);
    });
}

/// How a job step ended, when it did not simply continue.
enum Stop {
    /// Cancelled, or the job otherwise became terminal elsewhere; nothing to write.
    Gone,
    /// The server is shutting down; write nothing (the next start marks it interrupted).
    Shutdown,
    /// The job failed; write this reason.
    Failed(String),
}

async fn advance(state: &Arc<State>, id: &str, to: JobState) -> Result<(), Stop> {
    if *state.shutdown.borrow() {
        return Err(Stop::Shutdown);
    }
    let store = state.store.clone();
    let id2 = id.to_owned();
    let updated = blocking(move || Ok(store.advance_job(&id2, to, None, now())?))
        .await
        .map_err(|e| Stop::Failed(e.to_string()))?;
    match updated {
        Some(record) => {
            tracing::debug!(job = id, state = to.as_str(), "job advanced");
            state.jobs.publish(&record);
            Ok(())
        }
        None => Err(Stop::Gone),
    }
}

async fn run(state: Arc<State>, spec: JobSpec, mut events: watch::Receiver<JobRecord>) {
    let id = spec.record.id.clone();
    let result = steps(&state, spec, &mut events).await;
    match result {
        Ok(()) | Err(Stop::Gone) => {}
        Err(Stop::Shutdown) => tracing::info!(job = %id, "job stopped by shutdown"),
        Err(Stop::Failed(reason)) => {
            tracing::warn!(job = %id, %reason, "job failed");
            let store = state.store.clone();
            let id2 = id.clone();
            match blocking(move || {
                Ok(store.advance_job(&id2, JobState::Failed, Some(&reason), now())?)
            })
            .await
            {
                Ok(Some(record)) => state.jobs.publish(&record),
                Ok(None) => {}
                Err(e) => tracing::error!(job = %id, error = %e, "could not record the failure"),
            }
        }
    }
}

async fn steps(
    state: &Arc<State>,
    spec: JobSpec,
    events: &mut watch::Receiver<JobRecord>,
) -> Result<(), Stop> {
    let JobSpec {
        record,
        input,
        prover,
        key,
    } = spec;
    let id = record.id.as_str();
    let mut shutdown = state.shutdown.clone();
    let mut draining = state.draining.clone();
    // Wait for a prover slot, unless cancelled or shut down first. A draining server starts
    // no new proof: the job is marked interrupted when the drain ends.
    let permit = tokio::select! {
        biased;
        _ = draining.wait_for(|d| *d) => return Err(Stop::Shutdown),
        _ = shutdown.wait_for(|s| *s) => return Err(Stop::Shutdown),
        _ = events.wait_for(|r| r.state.is_terminal()) => return Err(Stop::Gone),
        permit = state.proving_slots.clone().acquire_owned() => {
            permit.map_err(|_| Stop::Shutdown)?
        }
    };

    advance(state, id, JobState::Witness).await?;
    let p = prover.clone();
    let (statement, assignment) = blocking(move || {
        // `input` is moved in and dropped (zeroized) here, once the assignment exists.
        let prepared = p.prepare(&input);
        drop(input);
        prepared.map_err(|e| crate::error::ServiceError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Stop::Failed(format!("witness: {e}")))?;

    advance(state, id, JobState::Proving).await?;
    let p = prover.clone();
    let proof = blocking(move || {
        p.prove_assignment(assignment, &mut credence_circuits::prover::os_rng())
            .map_err(|e| crate::error::ServiceError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Stop::Failed(format!("proving: {e}")))?;
    drop(permit);

    advance(state, id, JobState::Verifying).await?;
    let proof: credence_verifier::Proof = proof.into();
    credence_verifier::verify(&key, &statement, &proof).map_err(|_| {
        Stop::Failed(
            "the new proof does not verify under the published key (internal error)".into(),
        )
    })?;

    let mut bundle = ClaimBundle::new(&key, statement, proof);
    let audit = state.audit.clone();
    let tenant = record.tenant.clone();
    let logged = bundle.clone();
    let log = blocking(move || {
        audit
            .record(AuditEvent::Claim {
                tenant: &tenant,
                bundle: &logged,
            })
            .map_err(|e| crate::error::ServiceError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Stop::Failed(format!("proof log: {e}")))?;
    bundle.log = log;
    advance(state, id, JobState::Logged).await?;

    if *state.shutdown.borrow() {
        return Err(Stop::Shutdown);
    }
    let store: Arc<dyn Store> = state.store.clone();
    let id2 = id.to_owned();
    let json = bundle.to_json();
    let done = blocking(move || Ok(store.finish_job(&id2, &json, now())?))
        .await
        .map_err(|e| Stop::Failed(e.to_string()))?;
    match done {
        Some(record) => {
            tracing::info!(job = id, circuit = %record.circuit_id, "job done");
            state.jobs.publish(&record);
            Ok(())
        }
        None => Err(Stop::Gone),
    }
}
