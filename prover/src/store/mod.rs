//! Durable state of the service behind one narrow interface: [`Store`].
//!
//! Tables (see [`sqlite`] for the schema): contributions, snapshots (with their per-leaf
//! weights, so paths can be served), jobs and bundles. Two backends keep the same invariants and
//! pass one test suite (`store/tests.rs`): SQLite in the data directory
//! ([`sqlite::SqliteStore`], the embedded default, one server), and PostgreSQL
//! ([`postgres::PgStore`]) shared by any number of replicas, which then keep no state of their
//! own.
//!
//! Invariants every backend keeps:
//! - every write is one transaction, durable when the call returns (SQLite: WAL with
//!   `synchronous=FULL`), so an acknowledged write survives a crash;
//! - a contribution is keyed by the pair `(contributor_id, commitment)` and its leaf index never
//!   changes; a snapshot is immutable once written;
//! - no secret is ever stored: a job row holds a keyed fingerprint of its request, never the
//!   request;
//! - job state only moves forward: a terminal job (done, failed, cancelled) changes state only
//!   through [`Store::restart_job`], and a bundle is written in the same transaction as `done`;
//! - a running job is leased to the replica whose task runs it (the only one holding its
//!   secret); no other replica restarts it before the lease has expired ([`restartable`]);
//! - the live jobs never exceed the queue and per-tenant limits ([`JobQuota`]), counted in the
//!   database, so the limits hold across replicas.
//!
//! The trait is synchronous: the service calls it from `tokio::task::spawn_blocking`.

pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod tests;

use ark_bn254::Fr;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Creates a data directory the owner's alone (0700): the databases in it say whose each leaf
/// is and hold the job queue. An existing directory is left as it is (it may be shared on
/// purpose), with a warning when others may enter it; the files in it are 0600 anyway.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        match std::fs::metadata(dir) {
            Ok(m) => {
                let mode = m.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        dir = %dir.display(),
                        mode = format!("{mode:o}"),
                        "the data directory is open to other users; `chmod 700` it"
                    );
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Makes the database at `path` and its `-wal` and `-shm` files readable by the owner only
/// (0600). A missing database is created empty with that mode first: SQLite gives its journal
/// files the mode of the database, so none is ever created readable by others.
pub fn private_database(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
    /// A stored value does not decode (corruption or a foreign database).
    #[error("corrupt row in `{table}`: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// Why.
        reason: String,
    },
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::Database(e.to_string())
    }
}

/// A registered contribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionRecord {
    /// Its leaf index in every snapshot.
    pub leaf_index: u64,
    /// `H(secret)` of the contributor.
    pub contributor_id: Fr,
    /// `H(digest, blinding)`.
    pub commitment: Fr,
}

/// What [`Store::register`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    /// A new leaf.
    Created(u64),
    /// The pair was registered before, at this leaf.
    Existing(u64),
    /// The tree is full.
    Full,
    /// The registrant has its quota of contributions (nothing was written).
    Quota(QuotaLimit),
}

/// Which registration quota was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaLimit {
    /// `limits.registrations_per_contributor`.
    Contributor(u64),
    /// `limits.registrations_per_tenant`.
    Tenant(u64),
}

/// Who registers, and how many contributions each may hold: one token cannot fill the tree
/// and lock every other contributor out.
#[derive(Clone, Copy, Debug)]
pub struct RegistrationQuota<'a> {
    /// The registering tenant.
    pub tenant: &'a str,
    /// Contributions one contributor id may hold.
    pub per_contributor: u64,
    /// Contributions one tenant may hold (over all its contributor ids).
    pub per_tenant: u64,
}

/// A published snapshot's public header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRecord {
    /// The epoch.
    pub epoch: u64,
    /// Tree depth.
    pub depth: u32,
    /// Root hash.
    pub root: Fr,
    /// Root sum.
    pub total_weight: u64,
    /// Revenue of the epoch.
    pub revenue: u64,
    /// Leaves with a weight.
    pub leaf_count: u64,
}

/// One weighted leaf of a snapshot (the registration is copied in, so a snapshot is
/// self-contained).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotLeaf {
    /// Leaf index.
    pub leaf_index: u64,
    /// The registered contributor.
    pub contributor_id: Fr,
    /// The registered commitment.
    pub commitment: Fr,
    /// The leaf's weight in this snapshot.
    pub weight: u64,
}

/// The lowest tree level whose nodes a snapshot stores: a path's siblings below it are
/// recomputed from the `2^STORED_FROM_LEVEL` leaves of the leaf's block, those above read from
/// the store, so GetLeaves never rebuilds the tree (and a snapshot of `n` leaves stores about
/// `n / 8` nodes beside them).
pub const STORED_FROM_LEVEL: u32 = 4;

/// A stored inner node of a snapshot's tree (level [`STORED_FROM_LEVEL`] or above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredNode {
    /// Its level (the leaves are level 0, the root level `depth`).
    pub level: u32,
    /// Its index within the level.
    pub index: u64,
    /// Its hash and sum.
    pub node: credence_circuits::merkle_sum::SumNode,
}

/// What [`Store::publish_snapshot`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// Written now.
    Created,
    /// The same snapshot was already published.
    Identical,
    /// Another snapshot is published for this epoch.
    Conflict,
}

/// A job's state. The order of the running stages is the order of a job's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for a prover slot.
    Queued,
    /// Computing the witness.
    Witness,
    /// Groth16 proving.
    Proving,
    /// Verifying its own proof.
    Verifying,
    /// Appended to the proof log.
    Logged,
    /// Finished with a bundle.
    Done,
    /// Failed, with a reason.
    Failed,
    /// Cancelled by a client.
    Cancelled,
}

impl JobState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Witness => "witness",
            JobState::Proving => "proving",
            JobState::Verifying => "verifying",
            JobState::Logged => "logged",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobState::Queued,
            "witness" => JobState::Witness,
            "proving" => JobState::Proving,
            "verifying" => JobState::Verifying,
            "logged" => JobState::Logged,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    /// How far along a job's life the state is: the running stages in order, then every
    /// terminal state. Within one attempt a job's stage never decreases.
    pub fn stage(self) -> u8 {
        match self {
            JobState::Queued => 0,
            JobState::Witness => 1,
            JobState::Proving => 2,
            JobState::Verifying => 3,
            JobState::Logged => 4,
            JobState::Done | JobState::Failed | JobState::Cancelled => 5,
        }
    }

    /// Done, failed or cancelled.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }

    /// Every non-terminal state.
    pub const RUNNING: [JobState; 5] = [
        JobState::Queued,
        JobState::Witness,
        JobState::Proving,
        JobState::Verifying,
        JobState::Logged,
    ];
}

/// The failure reason of a job that was queued or running when the server stopped.
pub const INTERRUPTED: &str = "interrupted, resubmit";

/// A proving job (no secrets: the request itself lives only in the job's memory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    /// 32 lowercase hex digits.
    pub id: String,
    /// Keyed blake3 of the request's canonical encoding (the idempotency key).
    pub fingerprint: [u8; 32],
    /// Current state.
    pub state: JobState,
    /// Why it failed or was cancelled.
    pub failure: Option<String>,
    /// The circuit it proves in.
    pub circuit_id: String,
    /// The snapshot epoch.
    pub epoch: u64,
    /// The tenant that submitted it.
    pub tenant: String,
    /// Which run of the job this is: 1 for the first, one more for each restart. A job task
    /// writes only while the stored attempt is its own, so a task that outlived a cancellation
    /// and resubmission (or a takeover) can change nothing.
    pub attempt: u32,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
    /// The replica whose task runs the job (the secret is in its memory alone).
    pub lease_owner: Option<String>,
    /// Unix seconds until which the job is that replica's; its task renews the lease while it
    /// runs. Past it, the job is marked interrupted ([`Store::interrupt_expired_jobs`]) and a
    /// resubmission on any replica starts it again.
    pub lease_until: u64,
}

/// The replica taking a job and until when ([`Store::restart_job`]).
#[derive(Clone, Copy, Debug)]
pub struct Lease<'a> {
    /// The replica.
    pub owner: &'a str,
    /// Unix seconds now.
    pub now: u64,
    /// Unix seconds until which the job is its.
    pub until: u64,
}

/// The limits on live (queued or running) jobs, counted in the store so that they hold across
/// replicas.
#[derive(Clone, Copy, Debug)]
pub struct JobQuota {
    /// Live jobs over all tenants.
    pub queue: usize,
    /// Live jobs of one tenant.
    pub per_tenant: usize,
}

/// What [`Store::insert_job`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admitted {
    /// The job is stored now.
    Inserted(JobRecord),
    /// A job with the same fingerprint was stored before: this one.
    Existing(JobRecord),
    /// The queue (all tenants) is full; nothing was stored.
    QueueFull,
    /// The tenant has its quota of live jobs; nothing was stored.
    TenantQuota,
}

/// Whether `job`, seen as stored, may be restarted as the attempt after `attempt` by the
/// replica of `lease`: it is not done, nobody restarted it since (`attempt`), and no other
/// replica holds a live lease on it (that replica's task runs it and has its secret).
pub fn restartable(job: &JobRecord, attempt: u32, lease: &Lease<'_>) -> bool {
    job.attempt == attempt
        && job.state != JobState::Done
        && (job.state.is_terminal()
            || job.lease_owner.as_deref().is_none_or(|o| o == lease.owner)
            || job.lease_until < lease.now)
}

/// A registration batch as the change that commits it owns it: the pairs, their stored
/// spelling (canonical decimal) and the quota.
pub(crate) struct RegistrationBatch {
    pairs: Vec<(Fr, Fr)>,
    /// `(contributor_id, commitment)` as stored.
    pub(crate) stored: Vec<(String, String)>,
    /// The registering tenant.
    pub(crate) tenant: String,
    /// Contributions one contributor id may hold.
    pub(crate) per_contributor: u64,
    /// Contributions one tenant may hold.
    pub(crate) per_tenant: u64,
}

impl RegistrationBatch {
    pub(crate) fn new(pairs: &[(Fr, Fr)], quota: &RegistrationQuota<'_>) -> Self {
        RegistrationBatch {
            pairs: pairs.to_vec(),
            stored: pairs
                .iter()
                .map(|(id, cm)| {
                    (
                        credence_verifier::encoding::fr_to_decimal(id),
                        credence_verifier::encoding::fr_to_decimal(cm),
                    )
                })
                .collect(),
            tenant: quota.tenant.to_owned(),
            per_contributor: quota.per_contributor,
            per_tenant: quota.per_tenant,
        }
    }

    /// What the batch commits once its pairs had the outcomes `out`: nothing when one was
    /// refused (all or nothing), else `out` with the log entries of its new leaves.
    pub(crate) fn committed(&self, out: Vec<Registered>, now: u64) -> Logged<Vec<Registered>> {
        if matches!(out.last(), Some(Registered::Full | Registered::Quota(_))) {
            return (out, None);
        }
        let mut entries = Vec::new();
        for (r, (id, cm)) in out.iter().zip(&self.pairs) {
            if let Registered::Created(leaf_index) = *r {
                entries.extend(crate::log::entries_of(
                    &crate::log::hook::AuditEvent::Registration {
                        tenant: &self.tenant,
                        leaf_index,
                        contributor_id: id,
                        commitment: cm,
                    },
                    now,
                ));
            }
        }
        (out, Some(entries))
    }
}

/// What a change returns: its outcome, and the log entries to commit with it (`None`: write
/// nothing, roll the change back).
pub(crate) type Logged<T> = (T, Option<Vec<credence_verifier::log::LogEntry>>);

/// What publishing `snapshot` commits: the log entry of a new snapshot, nothing otherwise.
pub(crate) fn snapshot_committed(
    published: Published,
    tenant: &str,
    snapshot: &SnapshotRecord,
) -> Logged<Published> {
    let entries = (published == Published::Created).then(|| {
        crate::log::entries_of(
            &crate::log::hook::AuditEvent::Snapshot { tenant, snapshot },
            now(),
        )
    });
    (published, entries)
}

/// Hands a change's result to [`commit_logged`], which returns it to the caller.
pub(crate) type Report<T> = Box<
    dyn FnOnce(
            Result<Logged<T>, StorageError>,
        ) -> Result<Vec<credence_verifier::log::LogEntry>, crate::log::ChangeError>
        + Send,
>;

/// Commits a change through the log's batched commit and returns the change's own outcome.
/// `change` builds the backend's [`crate::log::Change`] around a closure that must pass its
/// result to the [`Report`] it is given: a change that returns no entries, or fails, is rolled
/// back alone (the rest of its batch commits).
pub(crate) fn commit_logged<T: Send + 'static>(
    log: &crate::log::LogStore,
    change: impl FnOnce(Report<T>) -> crate::log::Change,
) -> Result<T, StorageError> {
    use crate::log::{ChangeError, CommitError};
    let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
    let filled = slot.clone();
    let report: Report<T> = Box::new(move |result| {
        let entries = match &result {
            Ok((_, Some(entries))) => Ok(entries.clone()),
            Ok((_, None)) | Err(_) => Err(ChangeError::Declined),
        };
        *filled.lock().unwrap_or_else(|p| p.into_inner()) = Some(result.map(|(out, _)| out));
        entries
    });
    let committed = log.commit(change(report));
    let outcome = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (committed, outcome) {
        (Ok(_) | Err(CommitError::Declined), Some(outcome)) => outcome,
        (Err(CommitError::Failed(e)), _) => Err(StorageError::Database(e)),
        (_, None) => Err(StorageError::Database(
            "the log's batch ended without running the change".into(),
        )),
    }
}

/// A `u64` in a signed 64-bit column, by bit cast ([`from_column`] undoes it), so values above
/// `i64::MAX` read back exactly (nothing compares them in SQL).
pub(crate) fn to_column(v: u64) -> i64 {
    v as i64
}

/// Undoes [`to_column`].
pub(crate) fn from_column(v: i64) -> u64 {
    v as u64
}

/// A stored field element (canonical decimal text) of `table`.
pub(crate) fn stored_fr(table: &'static str, s: &str) -> Result<Fr, StorageError> {
    credence_verifier::encoding::fr_from_decimal("stored value", s).map_err(|e| {
        StorageError::Corrupt {
            table,
            reason: e.to_string(),
        }
    })
}

/// The service's durable state. Every method is one transaction.
pub trait Store: Send + Sync + 'static {
    /// Registers each `(contributor_id, commitment)` pair at the next free leaf below
    /// `capacity`, within `quota`, or finds its existing leaf (an existing pair counts against
    /// no quota), in one transaction that also logs every new leaf (when the store has a log).
    /// All or nothing: at the first refused pair ([`Registered::Full`], [`Registered::Quota`])
    /// the list ends with that refusal and nothing is written.
    fn register_batch(
        &self,
        pairs: &[(Fr, Fr)],
        capacity: u64,
        quota: &RegistrationQuota<'_>,
    ) -> Result<Vec<Registered>, StorageError>;

    /// [`Store::register_batch`] of one pair.
    fn register(
        &self,
        contributor_id: &Fr,
        commitment: &Fr,
        capacity: u64,
        quota: &RegistrationQuota<'_>,
    ) -> Result<Registered, StorageError> {
        self.register_batch(&[(*contributor_id, *commitment)], capacity, quota)?
            .pop()
            .ok_or_else(|| StorageError::Database("registration without an outcome".into()))
    }

    /// The contributions at these leaf indices (absent ones are left out).
    fn contributions(&self, leaf_indices: &[u64]) -> Result<Vec<ContributionRecord>, StorageError>;

    /// Writes a snapshot, its leaves and its tree's nodes from level [`STORED_FROM_LEVEL`] up,
    /// unless the epoch is taken, in one transaction that also logs it as published by
    /// `tenant` (when the store has a log).
    fn publish_snapshot(
        &self,
        tenant: &str,
        snapshot: &SnapshotRecord,
        leaves: &[SnapshotLeaf],
        nodes: &[StoredNode],
    ) -> Result<Published, StorageError>;

    /// The leaves of `contributor_id` in a snapshot, by leaf index (an index lookup).
    fn snapshot_leaves_of(
        &self,
        epoch: u64,
        contributor_id: &Fr,
    ) -> Result<Vec<SnapshotLeaf>, StorageError>;

    /// A snapshot's leaves with an index in `range`, by leaf index.
    fn snapshot_leaves_in(
        &self,
        epoch: u64,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<SnapshotLeaf>, StorageError>;

    /// The stored nodes `(level, index)` of a snapshot, `None` where the node is empty; or
    /// `None` altogether for a snapshot stored without its nodes (published by an earlier
    /// version).
    fn snapshot_nodes(
        &self,
        epoch: u64,
        wanted: &[(u32, u64)],
    ) -> Result<Option<Vec<Option<credence_circuits::merkle_sum::SumNode>>>, StorageError>;

    /// A snapshot by epoch, or the most recently published one.
    fn snapshot(&self, epoch: Option<u64>) -> Result<Option<SnapshotRecord>, StorageError>;

    /// A snapshot's weighted leaves, by leaf index.
    fn snapshot_leaves(&self, epoch: u64) -> Result<Vec<SnapshotLeaf>, StorageError>;

    /// Inserts `job` if `quota` has room for it, or returns the job that already has its
    /// fingerprint (whatever the quota).
    fn insert_job(&self, job: &JobRecord, quota: &JobQuota) -> Result<Admitted, StorageError>;

    /// A job by id.
    fn job(&self, id: &str) -> Result<Option<JobRecord>, StorageError>;

    /// The job with this request fingerprint, if any.
    fn job_by_fingerprint(&self, fingerprint: &[u8; 32])
    -> Result<Option<JobRecord>, StorageError>;

    /// Moves a running job to `state` (a running stage, failed or cancelled), if its attempt is
    /// still `attempt` (any attempt for `None`: a cancellation). Returns the new record, or
    /// `None` if the job is terminal or in another attempt (the update is then not made).
    fn advance_job(
        &self,
        id: &str,
        attempt: Option<u32>,
        state: JobState,
        failure: Option<&str>,
        now: u64,
    ) -> Result<Option<JobRecord>, StorageError>;

    /// Stores the bundle and marks the job done, in one transaction, if it is still running in
    /// `attempt`.
    fn finish_job(
        &self,
        id: &str,
        attempt: u32,
        bundle_json: &str,
        now: u64,
    ) -> Result<Option<JobRecord>, StorageError>;

    /// Puts a job that is not done back in the queue as its next attempt, leased to `lease`,
    /// if it is [`restartable`] (so that of two resubmissions racing, one restarts it, and a
    /// job another replica runs is left to it) and, when it had ended, `quota` has room for
    /// it. The caller restarts a running job only when no task of its own runs it (see `jobs`).
    fn restart_job(
        &self,
        id: &str,
        attempt: u32,
        circuit_id: &str,
        lease: &Lease<'_>,
        quota: &JobQuota,
    ) -> Result<Option<JobRecord>, StorageError>;

    /// The bundle of a done job.
    fn bundle(&self, job_id: &str) -> Result<Option<String>, StorageError>;

    /// At start-up: marks every running job failed with [`INTERRUPTED`] when this server is
    /// the store's only one (SQLite: their secrets are gone); a store shared by replicas marks
    /// none (their leases tell, [`Store::interrupt_expired_jobs`]). Returns how many.
    fn interrupt_running_jobs(&self, now: u64) -> Result<usize, StorageError>;

    /// Marks the running jobs leased to `owner` failed with [`INTERRUPTED`] (a replica's own
    /// jobs when its drain ends). Returns how many.
    fn interrupt_jobs_of(&self, owner: &str, now: u64) -> Result<usize, StorageError>;

    /// Extends to `until` the leases `owner` holds on these jobs `(id, attempt)`, while they
    /// run.
    fn renew_leases(
        &self,
        owner: &str,
        jobs: &[(String, u32)],
        until: u64,
    ) -> Result<(), StorageError>;

    /// Marks every running job whose lease ended before `now` failed with [`INTERRUPTED`]:
    /// its replica stopped (its secret is gone with it). Returns how many.
    fn interrupt_expired_jobs(&self, now: u64) -> Result<usize, StorageError>;
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
