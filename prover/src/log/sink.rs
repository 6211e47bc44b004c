//! The service's [`AuditSink`] backed by the [`LogStore`]: every event the service reports
//! becomes one log entry, public data only. Registrations and snapshots are the exception in
//! *when*: the store writes their entries ([`entries_of`]) in the transaction that makes them,
//! so the sink passes them by.
//!
//! - registration: the leaf index and `H(contributor_id, commitment)`, never the contributor id
//!   or the commitment in clear, so a log reader cannot count one contributor's registrations;
//! - snapshot: epoch, depth, root, total weight, revenue;
//! - claim: circuit id, key fingerprint, statement and proof, appended with
//!   [`LogStore::append_once_and_prove`] under the job's id (one claim entry per job, whatever
//!   its attempts), so the returned `log` value (a [`LogInclusion`] with the
//!   entry's bytes) is covered by a signed, durable checkpoint before the job is acknowledged;
//! - verification: circuit id, key fingerprint, statement and the verdict (`valid`/`invalid`);
//! - key ([`key_entry`], once per key at start): circuit id, fingerprint, `single-party` or
//!   `ceremony` with the circuit, ptau, transcript and contribution hashes.
//!
//! Invariant: nothing but the values listed above reaches an entry (the events carry no secret,
//! digest or blinding, and [`LogEntry::to_bytes`] refuses free text), and `record` returns only
//! once the entry and a checkpoint covering it are durable.

use std::sync::Arc;

use credence_circuits::commitment::registration_hash;
use credence_verifier::bundle::StatementJson;
use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::log::LogInclusion;
use credence_verifier::log::{KeyCeremony, LogEntry, LogEvent};

use super::LogStore;
use crate::log::hook::{AuditError, AuditEvent, AuditSink};

/// Records the service's events in a [`LogStore`].
#[derive(Clone, Debug)]
pub struct LogSink {
    store: Arc<LogStore>,
}

impl LogSink {
    /// A sink appending to `store`.
    pub fn new(store: Arc<LogStore>) -> Self {
        LogSink { store }
    }

    /// The store it appends to.
    pub fn store(&self) -> &Arc<LogStore> {
        &self.store
    }
}

/// The entries of an event, in order (public data only; see the module docs): one, except for
/// a batch of verifications, one per verdict.
pub fn entries_of(event: &AuditEvent<'_>, time: u64) -> Vec<LogEntry> {
    let entry = |tenant: &str, event| LogEntry {
        time,
        tenant: tenant.to_owned(),
        event,
    };
    let (tenant, event) = match *event {
        AuditEvent::Registration {
            tenant,
            leaf_index,
            contributor_id,
            commitment,
        } => (
            tenant,
            LogEvent::Registration {
                leaf_index,
                registration_hash: fr_to_decimal(&registration_hash(contributor_id, commitment)),
            },
        ),
        AuditEvent::Snapshot { tenant, snapshot } => (
            tenant,
            LogEvent::Snapshot {
                epoch: snapshot.epoch,
                depth: snapshot.depth,
                root: fr_to_decimal(&snapshot.root),
                total_weight: snapshot.total_weight.to_string(),
                revenue: snapshot.revenue.to_string(),
            },
        ),
        AuditEvent::Claim { tenant, bundle, .. } => (
            tenant,
            LogEvent::Claim {
                circuit_id: bundle.circuit_id.to_string(),
                vk_fingerprint: bundle.vk_fingerprint.to_hex(),
                statement: StatementJson::encode(&bundle.statement),
                proof: hex::encode(bundle.proof.to_bytes()),
            },
        ),
        AuditEvent::Verifications { tenant, verdicts } => {
            return verdicts
                .iter()
                .map(|&(bundle, valid)| {
                    entry(
                        tenant,
                        LogEvent::Verification {
                            circuit_id: bundle.circuit_id.to_string(),
                            vk_fingerprint: bundle.vk_fingerprint.to_hex(),
                            statement: StatementJson::encode(&bundle.statement),
                            verdict: if valid { "valid" } else { "invalid" }.into(),
                        },
                    )
                })
                .collect();
        }
    };
    vec![entry(tenant, event)]
}

/// The entry that introduces a key: its circuit, fingerprint and provenance (hashes only), as
/// the tenant `server`. [`LogStore::append_once`] appends it under the marker
/// [`key_marker`], so each key is logged once, before any claim under it.
pub fn key_entry(keys: &crate::keys::ShapeKeys) -> LogEntry {
    let e = &keys.entry;
    LogEntry {
        time: now(),
        tenant: "server".into(),
        event: LogEvent::Key {
            circuit_id: keys.shape.circuit_id(),
            vk_fingerprint: keys.vk.fingerprint().to_hex(),
            setup: if e.ceremony.is_some() {
                "ceremony"
            } else {
                "single-party"
            }
            .into(),
            ceremony: e.ceremony.as_ref().map(|c| KeyCeremony {
                circuit_hash: c.circuit_hash.clone(),
                ptau_blake2b: c.ptau_blake2b.clone(),
                transcript_blake2b: c.transcript_blake2b.clone(),
                contributions: c.contributions.iter().map(|c| c.hash.clone()).collect(),
            }),
        },
    }
}

/// The `append_once` marker of a key's entry.
pub fn key_marker(keys: &crate::keys::ShapeKeys) -> String {
    format!("key:{}", keys.vk.fingerprint().to_hex())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl AuditSink for LogSink {
    fn record(&self, event: AuditEvent<'_>) -> Result<Option<LogInclusion>, AuditError> {
        if let AuditEvent::Registration { .. } | AuditEvent::Snapshot { .. } = event {
            // Logged by the store, in the transaction that made them
            // (`SqliteStore::with_log`): nothing is left to append.
            return Ok(None);
        }
        let entries = entries_of(&event, now());
        let failed = |e: &dyn std::fmt::Display| AuditError(e.to_string());
        match (event, entries.as_slice()) {
            (AuditEvent::Claim { job_id, .. }, [entry]) => self
                .store
                .append_once_and_prove(&format!("claim:{job_id}"), entry)
                .map(Some)
                .map_err(|e| failed(&e)),
            // One transaction and one checkpoint for a whole batch.
            _ => {
                self.store.append_batch(&entries).map_err(|e| failed(&e))?;
                Ok(None)
            }
        }
    }
}

/// Records in the log, then tells another sink (the embedder's own hook). The log's answer is
/// the one returned: it is what a bundle's `log` field must hold.
pub struct LogThen {
    log: LogSink,
    next: Arc<dyn AuditSink>,
}

impl LogThen {
    /// Logs to `log`, then forwards every event to `next`.
    pub fn new(log: LogSink, next: Arc<dyn AuditSink>) -> Self {
        LogThen { log, next }
    }
}

impl AuditSink for LogThen {
    fn record(&self, event: AuditEvent<'_>) -> Result<Option<LogInclusion>, AuditError> {
        let logged = self.log.record(event)?;
        self.next.record(event)?;
        Ok(logged)
    }
}
