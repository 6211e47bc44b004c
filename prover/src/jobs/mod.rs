//! Proving jobs: their life, their progress events, admission and the idempotency fingerprint.
//!
//! A job moves `queued -> witness -> proving -> verifying -> logged -> done`, or ends `failed`
//! (with a reason) or `cancelled`. Each step is first written to the store with a conditional
//! update that only succeeds while the job is still running *in the task's attempt*
//! ([`Store::advance_job`]); the store is the arbiter, so a cancellation and a step racing each
//! other resolve in one order, and a task that lost the race, or whose job was restarted as a
//! later attempt, stops without writing anything.
//!
//! Invariants:
//! - every write of a job task (its steps, its failure, its bundle) is fenced by its attempt;
//!   the registry holds one task per job, the latest attempt's, and only that task publishes
//!   to watchers or removes its entry;
//! - the compliance log holds at most one claim entry per job: the claim is appended under the
//!   job's id, and an attempt that finds its job already logged issues the logged proof;
//! - a job's secrets arrive as a [`PreparedClaim`] (checked once, at submission), become its
//!   [`Witness`] in the `witness` step and are zeroized when dropped; nothing secret is stored,
//!   logged or sent;
//! - proving runs on the blocking pool holding one permit of the proving semaphore;
//! - a bundle is stored only for a proof that verified under the shape's trusted key, and only
//!   after the audit sink recorded it;
//! - a job interrupted by a shutdown writes nothing more: the server marks it failed
//!   "interrupted, resubmit" when the drain deadline passes (or, after a crash, the next start
//!   on SQLite, [`Store::interrupt_running_jobs`], or on PostgreSQL any replica once the job's
//!   lease has expired, [`Store::interrupt_expired_jobs`]); a resubmission starts it again;
//! - a job is leased to this process while its task runs ([`Jobs::keep_leases`] renews it), and
//!   no other replica restarts it before the lease has expired: only this process holds its
//!   secret;
//! - every job task holds a [`QueueSlot`] from [`Admission`] for its whole life, so the jobs
//!   queued or running never exceed the configured queue and per-tenant quota, and a job that
//!   was admitted is never dropped for lack of room;
//! - a job fails with a typed [`JobFailure`], whose text (no value, no secret) is its stored
//!   reason.

mod admission;
mod fingerprint;

pub use admission::{Admission, QueueSlot, Refusal};
pub use fingerprint::{new_job_id, request_fingerprint};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use credence_circuits::{ClaimProver, PreparedClaim, ProveError};
use credence_verifier::{ClaimBundle, TrustedKey};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::blocking::blocking_as;
use crate::log::hook::{AuditError, AuditEvent, AuditSink};
use crate::store::{JobQuota, JobRecord, JobState, Lease, StorageError, Store, now};

/// Why a job failed: its stored reason is this error's text.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    /// The witness or the proof could not be computed.
    #[error("proving: {0}")]
    Prove(#[from] ProveError),
    /// The new proof does not verify under the shape's published key.
    #[error("the new proof does not verify under the published key (internal error)")]
    SelfCheck,
    /// The compliance log refused the claim entry.
    #[error("proof log: {0}")]
    Log(#[from] AuditError),
    /// The job store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The log's claim entry for this job cannot be issued (internal error).
    #[error("compliance log: {0}")]
    LoggedClaim(&'static str),
    /// A blocking task panicked or was cancelled.
    #[error("blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The jobs running in this process: per job, the attempt its task runs and a channel of its
/// latest record.
#[derive(Debug, Default)]
struct JobRegistry {
    live: Mutex<HashMap<String, (u32, watch::Sender<JobRecord>)>>,
}

impl JobRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, watch::Sender<JobRecord>)>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Everything that runs jobs: the live registry, admission, the proving semaphore, and what a
/// job writes to (the store, the compliance log).
pub struct Jobs {
    registry: JobRegistry,
    admission: Admission,
    proving_slots: Arc<Semaphore>,
    concurrency: usize,
    store: Arc<dyn Store>,
    audit: Arc<dyn AuditSink>,
    /// Becomes `true` when the drain deadline has passed: running jobs stop writing.
    shutdown: watch::Receiver<bool>,
    /// Becomes `true` when a shutdown begins: no new proof starts.
    draining: watch::Receiver<bool>,
    /// This process's name as a job's lease holder: random per start, so a restarted replica
    /// never mistakes its predecessor's jobs for its own.
    replica: String,
    /// How long a lease lasts unrenewed.
    lease_secs: u64,
    /// The live-job limits, counted in the store (across replicas).
    quota: JobQuota,
    /// Waited in the proving stage before each proof (see [`JobLimits::added_latency`]).
    added_latency: std::time::Duration,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("running", &self.len())
            .field("live", &self.admission.live())
            .finish_non_exhaustive()
    }
}

/// The limits [`Jobs`] enforces.
#[derive(Clone, Copy, Debug)]
pub struct JobLimits {
    /// Live jobs (queued or running) over all tenants.
    pub queue: usize,
    /// Live jobs of one tenant.
    pub tenant_jobs: usize,
    /// Proofs running at once.
    pub concurrency: usize,
    /// How long a job's lease lasts unless its task renews it (every third of it).
    pub lease_secs: u64,
    /// Waited in the proving stage before each proof (drills and load tests; zero otherwise).
    pub added_latency: std::time::Duration,
}

/// Everything a job task needs.
pub struct JobSpec {
    /// The job as stored (queued).
    pub record: JobRecord,
    /// The checked claim (secret); becomes the witness, then is dropped.
    pub claim: PreparedClaim,
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

/// How a job step ended, when it did not simply continue.
enum Stop {
    /// Cancelled, or the job otherwise became terminal elsewhere; nothing to write.
    Gone,
    /// The server is shutting down; write nothing (the next start marks it interrupted).
    Shutdown,
    /// The job failed; write this reason.
    Failed(JobFailure),
}

impl From<JobFailure> for Stop {
    fn from(e: JobFailure) -> Self {
        Stop::Failed(e)
    }
}

impl Jobs {
    /// Jobs writing to `store` and `audit`, within `limits`, stopping on `shutdown` and starting
    /// no proof once `draining`.
    pub fn new(
        store: Arc<dyn Store>,
        audit: Arc<dyn AuditSink>,
        limits: JobLimits,
        shutdown: watch::Receiver<bool>,
        draining: watch::Receiver<bool>,
    ) -> Self {
        Jobs {
            registry: JobRegistry::default(),
            admission: Admission::new(limits.queue, limits.tenant_jobs),
            proving_slots: Arc::new(Semaphore::new(limits.concurrency)),
            concurrency: limits.concurrency,
            store,
            audit,
            shutdown,
            draining,
            replica: new_job_id(),
            lease_secs: limits.lease_secs.max(1),
            quota: JobQuota {
                queue: limits.queue,
                per_tenant: limits.tenant_jobs,
            },
            added_latency: limits.added_latency,
        }
    }

    /// This process's name as a lease holder.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// A lease taken now, for [`Store::restart_job`].
    pub fn lease(&self) -> Lease<'_> {
        let now = now();
        Lease {
            owner: &self.replica,
            now,
            until: now + self.lease_secs,
        }
    }

    /// The live-job limits.
    pub fn quota(&self) -> JobQuota {
        self.quota
    }

    /// Renews the leases of the jobs this process runs, and marks interrupted the running jobs
    /// whose lease has expired (their replica stopped), every third of a lease, until `stop`.
    pub async fn keep_leases(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let period = std::time::Duration::from_millis(self.lease_secs * 1000 / 3)
            .max(std::time::Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                () = tokio::time::sleep(period) => {}
            }
            let held: Vec<(String, u32)> = self
                .registry
                .lock()
                .iter()
                .map(|(id, (attempt, _))| (id.clone(), *attempt))
                .collect();
            let (store, replica, until) = (
                self.store.clone(),
                self.replica.clone(),
                now() + self.lease_secs,
            );
            let swept = tokio::task::spawn_blocking(move || {
                store.renew_leases(&replica, &held, until)?;
                store.interrupt_expired_jobs(now())
            })
            .await;
            match swept {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::warn!(
                    interrupted = n,
                    "jobs whose replica stopped renewing their lease were marked interrupted"
                ),
                Ok(Err(e)) => tracing::error!(error = %e, "could not renew job leases"),
                Err(e) => tracing::error!(error = %e, "could not renew job leases"),
            }
        }
    }

    /// The queue and quotas.
    pub fn admission(&self) -> &Admission {
        &self.admission
    }

    /// A receiver of a running job's records, if it runs in this process.
    pub fn subscribe(&self, id: &str) -> Option<watch::Receiver<JobRecord>> {
        self.registry.lock().get(id).map(|(_, tx)| tx.subscribe())
    }

    /// Whether a task of this process runs the job (in any attempt): a resubmission of a job
    /// that is running but has no task here (its task never started, or its server died)
    /// restarts it.
    pub fn is_running_here(&self, id: &str) -> bool {
        self.registry.lock().contains_key(id)
    }

    /// Publishes a job's new record to its watchers, if it is of the attempt the registry
    /// runs. A terminal record is final: a late running-stage record (from a step that raced a
    /// cancellation) is ignored.
    pub fn publish(&self, record: &JobRecord) {
        if let Some((attempt, tx)) = self.registry.lock().get(&record.id) {
            if *attempt != record.attempt {
                return;
            }
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
        self.registry.lock().len()
    }

    /// No job runs in this process.
    pub fn is_empty(&self) -> bool {
        self.registry.lock().is_empty()
    }

    /// Takes every proving slot until the returned guard is dropped: queued jobs wait.
    pub async fn pause_proving(&self) -> OwnedSemaphorePermit {
        self.proving_slots
            .clone()
            .acquire_many_owned(self.concurrency as u32)
            .await
            .expect("the proving semaphore is never closed")
    }

    /// Starts a queued job (in `spec.record.attempt`) in the background; it holds `slot` until
    /// it ends. If a later attempt of the job already runs here, this one does not start.
    pub fn spawn(self: &Arc<Self>, spec: JobSpec, slot: QueueSlot) {
        let (id, attempt) = (spec.record.id.clone(), spec.record.attempt);
        let (tx, rx) = watch::channel(spec.record.clone());
        {
            let mut live = self.registry.lock();
            if live
                .get(&id)
                .is_some_and(|(running, _)| *running >= attempt)
            {
                return;
            }
            // An earlier attempt's task, if any, is fenced out by the store; it keeps running
            // until its next write fails, but no longer owns the entry.
            live.insert(id.clone(), (attempt, tx));
        }
        let jobs = self.clone();
        tokio::spawn(async move {
            jobs.run(spec, rx).await;
            let mut live = jobs.registry.lock();
            if live
                .get(&id)
                .is_some_and(|(running, _)| *running == attempt)
            {
                live.remove(&id);
            }
            drop(live);
            drop(slot);
        });
    }

    async fn advance(&self, record: &JobRecord, to: JobState) -> Result<(), Stop> {
        if *self.shutdown.borrow() {
            return Err(Stop::Shutdown);
        }
        let store = self.store.clone();
        let (id, attempt) = (record.id.clone(), record.attempt);
        let updated = blocking_as(move || {
            store
                .advance_job(&id, Some(attempt), to, None, now())
                .map_err(JobFailure::from)
        })
        .await?;
        let id = record.id.as_str();
        match updated {
            Some(record) => {
                tracing::debug!(job = id, state = to.as_str(), "job advanced");
                self.publish(&record);
                Ok(())
            }
            None => Err(Stop::Gone),
        }
    }

    async fn run(&self, spec: JobSpec, mut events: watch::Receiver<JobRecord>) {
        let (id, attempt) = (spec.record.id.clone(), spec.record.attempt);
        match self.steps(spec, &mut events).await {
            Ok(()) | Err(Stop::Gone) => {}
            Err(Stop::Shutdown) => tracing::info!(job = %id, "job stopped by shutdown"),
            Err(Stop::Failed(failure)) => {
                let reason = failure.to_string();
                tracing::warn!(job = %id, %reason, "job failed");
                let store = self.store.clone();
                let id2 = id.clone();
                let recorded = blocking_as(move || {
                    store
                        .advance_job(&id2, Some(attempt), JobState::Failed, Some(&reason), now())
                        .map_err(JobFailure::from)
                })
                .await;
                match recorded {
                    Ok(Some(record)) => self.publish(&record),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(job = %id, error = %e, "could not record the failure")
                    }
                }
            }
        }
    }

    async fn steps(
        &self,
        spec: JobSpec,
        events: &mut watch::Receiver<JobRecord>,
    ) -> Result<(), Stop> {
        let JobSpec {
            record,
            claim,
            prover,
            key,
        } = spec;
        let mut shutdown = self.shutdown.clone();
        let mut draining = self.draining.clone();
        // Wait for a prover slot, unless cancelled or shut down first. A draining server starts
        // no new proof: the job is marked interrupted when the drain ends.
        let permit = tokio::select! {
            biased;
            _ = draining.wait_for(|d| *d) => return Err(Stop::Shutdown),
            _ = shutdown.wait_for(|s| *s) => return Err(Stop::Shutdown),
            _ = events.wait_for(|r| r.state.is_terminal()) => return Err(Stop::Gone),
            permit = self.proving_slots.clone().acquire_owned() => {
                permit.map_err(|_| Stop::Shutdown)?
            }
        };

        self.advance(&record, JobState::Witness).await?;
        let statement = claim.statement().clone();
        let p = prover.clone();
        // The claim is moved in and dropped (zeroized) once its witness exists.
        let witness = blocking_as(move || p.witness(claim).map_err(JobFailure::from)).await?;

        self.advance(&record, JobState::Proving).await?;
        if !self.added_latency.is_zero() {
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return Err(Stop::Shutdown),
                () = tokio::time::sleep(self.added_latency) => {}
            }
        }
        let p = prover.clone();
        let proof = blocking_as(move || {
            let proof = p.prove_witness(&witness, &mut credence_circuits::prover::os_rng());
            drop(witness);
            proof.map_err(JobFailure::from)
        })
        .await?;
        drop(permit);

        self.advance(&record, JobState::Verifying).await?;
        let proof: credence_verifier::Proof = proof.into();
        credence_verifier::verify(&key, &statement, &proof)
            .map_err(|_| Stop::Failed(JobFailure::SelfCheck))?;

        let mut bundle = ClaimBundle::new(&key, statement, proof);
        let audit = self.audit.clone();
        let (tenant, job_id) = (record.tenant.clone(), record.id.clone());
        let logged = bundle.clone();
        let log = blocking_as(move || {
            audit
                .record(AuditEvent::Claim {
                    tenant: &tenant,
                    job_id: &job_id,
                    bundle: &logged,
                })
                .map_err(JobFailure::from)
        })
        .await?;
        if let Some(log) = &log {
            adopt_logged_proof(&mut bundle, log, &key)?;
        }
        bundle.log = log;
        self.advance(&record, JobState::Logged).await?;

        if *self.shutdown.borrow() {
            return Err(Stop::Shutdown);
        }
        let store = self.store.clone();
        let (id, attempt) = (record.id.clone(), record.attempt);
        let json = bundle.to_json();
        let done = blocking_as(move || {
            store
                .finish_job(&id, attempt, &json, now())
                .map_err(JobFailure::from)
        })
        .await?;
        match done {
            Some(record) => {
                tracing::info!(job = %record.id, circuit = %record.circuit_id, "job done");
                self.publish(&record);
                Ok(())
            }
            None => Err(Stop::Gone),
        }
    }
}

/// Makes `bundle` the claim the log holds for its job. An earlier attempt of the job may have
/// logged its own proof of the same statement before it stopped (a crash, a cancellation):
/// the log answers with that entry, and this attempt issues its proof instead of a second one,
/// after checking that it records this very statement under this key and verifies.
fn adopt_logged_proof(
    bundle: &mut ClaimBundle,
    log: &credence_verifier::log::LogInclusion,
    key: &TrustedKey,
) -> Result<(), Stop> {
    let failed = |why| Stop::Failed(JobFailure::LoggedClaim(why));
    let logged = log
        .carried_entry()
        .ok()
        .and_then(|e| e.claim_bundle().ok().flatten())
        .ok_or_else(|| failed("the log answered without a claim entry"))?;
    if logged.proof == bundle.proof {
        return Ok(());
    }
    if logged.statement != bundle.statement
        || logged.vk_fingerprint != bundle.vk_fingerprint
        || logged.circuit_id != bundle.circuit_id
    {
        return Err(failed(
            "the job's logged claim is for another statement or key",
        ));
    }
    credence_verifier::verify(key, &logged.statement, &logged.proof)
        .map_err(|_| failed("the job's logged proof does not verify under the key"))?;
    tracing::info!("job already logged by an earlier attempt: issuing the logged proof");
    bundle.proof = logged.proof;
    Ok(())
}
