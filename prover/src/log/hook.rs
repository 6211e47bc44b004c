//! The hook through which the service records what it did in the compliance log.
//!
//! The service calls [`AuditSink::record`] for every registration, snapshot publication, issued
//! claim bundle and verification verdict, from a blocking thread, after the action is durable
//! in the service's own store. For a claim, the sink returns the inclusion data (entry index,
//! inclusion proof, checkpoint) that the bundle then carries in its `log` field; the job is
//! `LOGGED` once that returned, and only then `DONE`.
//!
//! Invariant: events carry public data only (commitments, statements, proofs, verdicts); the
//! sink never sees a secret, digest or blinding, because the service never has them outside a
//! job's memory.

use ark_bn254::Fr;
use credence_verifier::ClaimBundle;
use credence_verifier::log::LogInclusion;

use crate::store::SnapshotRecord;

/// Something the service did that the compliance log records.
#[derive(Clone, Copy, Debug)]
pub enum AuditEvent<'a> {
    /// A new contribution was registered.
    Registration {
        /// The tenant that registered it.
        tenant: &'a str,
        /// Its leaf index.
        leaf_index: u64,
        /// The contributor.
        contributor_id: &'a Fr,
        /// The commitment.
        commitment: &'a Fr,
    },
    /// A snapshot was published.
    Snapshot {
        /// The publishing tenant.
        tenant: &'a str,
        /// Its header.
        snapshot: &'a SnapshotRecord,
    },
    /// A claim bundle was issued (its proof verified).
    Claim {
        /// The tenant that submitted the job.
        tenant: &'a str,
        /// The job: the log records one claim per job, whatever its attempts (the answer for a
        /// job already logged is its logged entry, whose proof the job then issues).
        job_id: &'a str,
        /// The bundle.
        bundle: &'a ClaimBundle,
    },
    /// Bundles were verified by the Verifier service (one for VerifyBundle, a batch's for
    /// VerifyBatch): one entry each, appended together.
    Verifications {
        /// The caller's tenant.
        tenant: &'a str,
        /// Each bundle with its verdict.
        verdicts: &'a [(&'a ClaimBundle, bool)],
    },
}

/// Why an event could not be recorded.
#[derive(Debug, thiserror::Error)]
#[error("audit log: {0}")]
pub struct AuditError(pub String);

/// Records events; for a claim, returns the bundle's `log` value.
pub trait AuditSink: Send + Sync + 'static {
    /// Records `event` durably; returns the log inclusion of a claim (or `None`).
    fn record(&self, event: AuditEvent<'_>) -> Result<Option<LogInclusion>, AuditError>;
}

/// Records nothing (no compliance log configured).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn record(&self, _: AuditEvent<'_>) -> Result<Option<LogInclusion>, AuditError> {
        Ok(None)
    }
}
