//! `credence.v1.Prover`: submit, watch, fetch and cancel claim jobs.
//!
//! Submission resolves the request into a [`ClaimInput`] (decoding every field, looking up
//! weights and paths in this server's snapshot unless supplied), picks the smallest configured
//! shape that fits, and runs the witness check *before* creating a job, so a false claim is
//! refused with FAILED_PRECONDITION naming the condition and leaves nothing behind.
//!
//! Invariant: the request's secrets are decoded into zeroizing types at once, handed to the job
//! task and never stored, logged or echoed; only the keyed request fingerprint is stored.

use std::pin::Pin;
use std::sync::Arc;

use ark_bn254::Fr;
use credence_circuits::{ClaimInput, Contribution, MerkleSumPath, Shape, commitment};
use credence_proto::v1 as pb;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use zeroize::Zeroizing;

use crate::access::{Action, Caller};
use crate::blocking::blocking;
use crate::error::ServiceError;
use crate::jobs::{self, JobSpec};
use crate::service::convert;
use crate::service::state::{State, snapshot_path};
use crate::store::{Admitted, JobRecord, JobState, now};

/// How often WatchJob reads the store for a job no task of this process runs.
const WATCH_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// The Prover service.
#[derive(Clone, Debug)]
pub struct ProverService {
    state: Arc<State>,
}

/// A resolved contribution before its weight and path are known.
struct Pending {
    digest: ark_bn254::Fr,
    blinding: ark_bn254::Fr,
    leaf_index: u64,
    leaf: Option<(u64, MerkleSumPath)>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.digest.zeroize();
        self.blinding.zeroize();
    }
}

/// A claim request whose secret fields are zeroized when it is dropped.
struct WipeOnDrop(pb::SubmitClaimRequest);

impl Drop for WipeOnDrop {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.0.secret.zeroize();
        for c in &mut self.0.contributions {
            c.blinding.zeroize();
            match &mut c.data {
                Some(pb::claim_contribution::Data::Digest(d)) => d.zeroize(),
                Some(pb::claim_contribution::Data::RawData(b)) => b.zeroize(),
                None => {}
            }
        }
    }
}

impl ProverService {
    /// A service over shared state.
    pub fn new(state: Arc<State>) -> Self {
        ProverService { state }
    }

    /// Decodes the request and resolves it against a snapshot into a claim input; `secret` is
    /// the request's secret, decoded once by the caller.
    async fn resolve(
        &self,
        req: &pb::SubmitClaimRequest,
        secret: Zeroizing<Fr>,
    ) -> Result<ClaimInput, ServiceError> {
        let max_slots = self.state.keys.keys().map(|s| s.n).max().unwrap_or(0);
        if req.contributions.is_empty() {
            return Err(ServiceError::invalid(
                "contributions",
                "a claim needs at least one contribution",
            ));
        }
        if req.contributions.len() > max_slots {
            return Err(ServiceError::invalid(
                "contributions",
                format!(
                    "{} contributions; the largest configured circuit has {max_slots} slots",
                    req.contributions.len()
                ),
            ));
        }
        // The snapshot: supplied, or this server's.
        let (depth, root, total_weight, revenue, local) = match &req.snapshot {
            Some(s) => {
                if !(credence_circuits::merkle_sum::MIN_DEPTH
                    ..=credence_circuits::merkle_sum::MAX_DEPTH)
                    .contains(&s.depth)
                {
                    return Err(ServiceError::invalid("snapshot.depth", "must be in 4..=32"));
                }
                if s.depth > self.state.config.limits.max_depth {
                    return Err(ServiceError::invalid(
                        "snapshot.depth",
                        format!(
                            "above this server's maximum shape (depth {})",
                            self.state.config.limits.max_depth
                        ),
                    ));
                }
                if s.total_weight == 0 {
                    return Err(ServiceError::invalid(
                        "snapshot.total_weight",
                        "must be positive",
                    ));
                }
                (
                    s.depth,
                    convert::fr("snapshot.root", &s.root)?,
                    s.total_weight,
                    s.revenue,
                    None,
                )
            }
            None => {
                let store = self.state.store.clone();
                let epoch = req.epoch;
                let snap = blocking(move || Ok(store.snapshot(Some(epoch))?))
                    .await?
                    .ok_or_else(|| {
                        ServiceError::NotFound(format!(
                            "this server has no snapshot for epoch {}; supply `snapshot` and each leaf",
                            req.epoch
                        ))
                    })?;
                (
                    snap.depth,
                    snap.root,
                    snap.total_weight,
                    snap.revenue,
                    Some(snap),
                )
            }
        };
        let mut pending = Vec::with_capacity(req.contributions.len());
        for (i, c) in req.contributions.iter().enumerate() {
            let field = |f: &str| format!("contributions[{i}].{f}");
            let digest = match &c.data {
                Some(pb::claim_contribution::Data::Digest(d)) => convert::fr(&field("digest"), d)?,
                Some(pb::claim_contribution::Data::RawData(bytes)) => commitment::digest(bytes),
                None => {
                    return Err(ServiceError::invalid(
                        field("data"),
                        "set `digest` or `raw_data`",
                    ));
                }
            };
            let blinding = convert::fr(&field("blinding"), &c.blinding)?;
            if c.leaf_index >= 1u64 << depth {
                return Err(ServiceError::invalid(
                    field("leaf_index"),
                    format!("outside a tree of depth {depth}"),
                ));
            }
            let leaf = match &c.leaf {
                Some(l) => Some((
                    l.weight,
                    convert::path(&field("leaf.path"), l.path.as_ref(), depth)?,
                )),
                None if local.is_none() => {
                    return Err(ServiceError::invalid(
                        field("leaf"),
                        "required when `snapshot` is supplied",
                    ));
                }
                None => None,
            };
            pending.push(Pending {
                digest,
                blinding,
                leaf_index: c.leaf_index,
                leaf,
            });
        }
        // Weights and paths from this server's snapshot where not supplied.
        let paths: Vec<Option<(u64, MerkleSumPath)>> = match local {
            Some(snap) if pending.iter().any(|p| p.leaf.is_none()) => {
                let state = self.state.clone();
                let wanted: Vec<(usize, u64)> = pending
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.leaf.is_none())
                    .map(|(i, p)| (i, p.leaf_index))
                    .collect();
                let n = pending.len();
                blocking(move || {
                    let epoch = snap.epoch;
                    let mut out = vec![None; n];
                    for (i, index) in wanted {
                        // The leaf alone, and its path from the stored nodes: no read of the
                        // whole snapshot per claim.
                        let weight = state
                            .store
                            .snapshot_leaves_in(epoch, index..index.saturating_add(1))?
                            .first()
                            .map(|l| l.weight)
                            .ok_or_else(|| {
                                ServiceError::FailedPrecondition(format!(
                                    "contributions[{i}]: the leaf has no weight in the snapshot of epoch {epoch}"
                                ))
                            })?;
                        let path = snapshot_path(&state, &snap, index)?;
                        out[i] = Some((weight, path));
                    }
                    Ok(out)
                })
                .await?
            }
            _ => vec![None; pending.len()],
        };
        let contributions = pending
            .into_iter()
            .zip(paths)
            .map(|(mut p, looked_up)| {
                let (weight, path) = p
                    .leaf
                    .take()
                    .or(looked_up)
                    .expect("every leaf resolved above");
                Contribution {
                    digest: p.digest,
                    blinding: p.blinding,
                    weight,
                    leaf_index: p.leaf_index,
                    path,
                }
            })
            .collect();
        Ok(ClaimInput {
            secret: *secret,
            contributions,
            epoch: req.epoch,
            root,
            total_weight,
            revenue,
            range_start: req.range_start.unwrap_or(0),
            range_end: req.range_end.unwrap_or(1u64 << depth),
        })
    }

    /// The smallest configured shape with at least `count` slots at `depth`.
    fn pick_shape(&self, count: usize, depth: u32) -> Result<Shape, ServiceError> {
        self.state
            .keys
            .keys()
            .filter(|s| s.depth == depth && s.n >= count && self.state.keys[*s].prover.is_some())
            .min_by_key(|s| s.n)
            .copied()
            .ok_or_else(|| {
                ServiceError::FailedPrecondition(format!(
                    "no configured circuit fits {count} contributions at depth {depth}"
                ))
            })
    }

    async fn submit(
        &self,
        caller: Caller,
        req: pb::SubmitClaimRequest,
    ) -> Result<pb::Job, ServiceError> {
        // The request's own copies of the secrets (decimal strings, raw data) are wiped when
        // the handler ends, on every path.
        let req = WipeOnDrop(req);
        if *self.state.draining.borrow() {
            return Err(ServiceError::Unavailable(
                "the server is shutting down; submit to another server or later".into(),
            ));
        }
        // Authorize before resolving: the claim's contributor id is H(secret), computed here,
        // so a token can only claim for the contributor whose secret it holds *and* is bound to.
        // The secret is decoded once, here, and handed on.
        let secret = Zeroizing::new(convert::fr("secret", &req.0.secret)?);
        self.state.access.authorize(
            &caller,
            &Action::SubmitClaim {
                contributor_id: &commitment::contributor_id(&secret),
            },
        )?;
        let input = self.resolve(&req.0, secret).await?;
        let depth = input.contributions[0].path.siblings.len() as u32;
        let depth = if input
            .contributions
            .iter()
            .all(|c| c.path.siblings.len() as u32 == depth)
        {
            depth
        } else {
            return Err(ServiceError::invalid(
                "contributions",
                "paths of different depths",
            ));
        };
        let shape = self.pick_shape(input.contributions.len(), depth)?;
        let keys = &self.state.keys[&shape];
        let prover = keys
            .prover
            .clone()
            .expect("pick_shape only picks shapes with a prover");
        let fingerprint =
            jobs::request_fingerprint(&self.state.idempotency_key, &caller.tenant, &input);

        // An identical request first: it needs neither a queue place nor a witness check, so a
        // resubmission is answered even while the tenant's quota is full.
        let store = self.state.store.clone();
        let existing = blocking(move || Ok(store.job_by_fingerprint(&fingerprint)?)).await?;
        if let Some(existing) = existing
            && !self.needs_start(&existing)
        {
            return Ok(convert::job_to_pb(&existing));
        }

        // A place in the queue before the (costly) witness check and before the job exists: a
        // job that is stored as queued always has one, so no accepted job is dropped for lack
        // of room.
        let slot = self
            .state
            .jobs
            .admission()
            .reserve(&caller.tenant)
            .map_err(|refusal| match refusal {
                jobs::Refusal::QueueFull => queue_full(),
                jobs::Refusal::TenantQuota => tenant_quota(),
            })?;

        // The witness check, before any job exists: a false claim leaves nothing behind. The
        // checked claim is what the job proves (it is never checked or assigned again); the
        // input is dropped (zeroized) here.
        let p = prover.clone();
        let claim = blocking(move || Ok(p.prepare(&input)?)).await?;

        let t = now();
        let fresh = JobRecord {
            id: jobs::new_job_id(),
            fingerprint,
            state: JobState::Queued,
            failure: None,
            circuit_id: shape.circuit_id(),
            epoch: claim.statement().epoch,
            tenant: caller.tenant.clone(),
            attempt: 1,
            created_at: t,
            updated_at: t,
            lease_owner: Some(self.state.jobs.replica().to_owned()),
            lease_until: self.state.jobs.lease().until,
        };
        let spec = JobSpec {
            record: fresh,
            claim,
            prover,
            key: keys.vk.clone(),
        };
        // From here the job is stored and started by a task of its own: the handler may be
        // dropped at any await (a client's deadline or cancel, a dropped connection, the
        // server's request timeout) and the job still runs. Awaiting the handle does not tie
        // the task to the handler.
        let this = self.clone();
        let record = tokio::spawn(async move { this.store_and_start(spec, slot).await })
            .await
            .map_err(|e| ServiceError::Internal(format!("job admission task: {e}")))??;
        Ok(convert::job_to_pb(&record))
    }

    /// Whether a stored job must be (re)started by its resubmission: it failed, was cancelled,
    /// or is running with no task here and no live lease of another replica (its task never
    /// started, or its server stopped). A job another replica runs is left to it: only that
    /// replica holds its secret.
    fn needs_start(&self, job: &JobRecord) -> bool {
        match job.state {
            JobState::Done => false,
            JobState::Failed | JobState::Cancelled => true,
            _ => {
                !self.state.jobs.is_running_here(&job.id)
                    && crate::store::restartable(job, job.attempt, &self.state.jobs.lease())
            }
        }
    }

    /// Stores a new job, or restarts the stored job with its fingerprint as its next attempt,
    /// and starts its task; or returns the stored job when it needs no start (done, or running
    /// here). Runs detached from the request handler.
    async fn store_and_start(
        &self,
        mut spec: JobSpec,
        slot: jobs::QueueSlot,
    ) -> Result<JobRecord, ServiceError> {
        let store = self.state.store.clone();
        let fresh = spec.record.clone();
        let quota = self.state.jobs.quota();
        let admitted = blocking(move || Ok(store.insert_job(&fresh, &quota)?)).await?;
        let record = match admitted {
            Admitted::Inserted(record) => record,
            Admitted::QueueFull => return Err(queue_full()),
            Admitted::TenantQuota => return Err(tenant_quota()),
            Admitted::Existing(existing) if !self.needs_start(&existing) => return Ok(existing),
            Admitted::Existing(existing) => {
                let store = self.state.store.clone();
                let circuit_id = spec.record.circuit_id.clone();
                let jobs = self.state.jobs.clone();
                let restarted = blocking(move || {
                    let restarted = store.restart_job(
                        &existing.id,
                        existing.attempt,
                        &circuit_id,
                        &jobs.lease(),
                        &jobs.quota(),
                    )?;
                    // `None`: another resubmission restarted it first (that one runs it), or
                    // another replica holds it, or the queue has no room for it again.
                    Ok(restarted.ok_or(existing))
                })
                .await?;
                match restarted {
                    Ok(r) => r,
                    Err(existing) => return Ok(existing),
                }
            }
        };
        tracing::info!(job = %record.id, attempt = record.attempt, circuit = %record.circuit_id, "job queued");
        spec.record = record.clone();
        self.state.jobs.spawn(spec, slot);
        Ok(record)
    }

    async fn load_job(
        &self,
        caller: &Caller,
        field_value: &str,
        cancel: bool,
    ) -> Result<JobRecord, ServiceError> {
        let id = convert::job_id("job_id", field_value)?;
        // The role first (may this caller read or cancel jobs at all?), so a caller without
        // the role learns nothing, not even whether the job exists; the owner check follows.
        let own = Action::ReadJob {
            owner: &caller.tenant,
        };
        self.state.access.authorize(caller, &own)?;
        let store = self.state.store.clone();
        let record = blocking(move || Ok(store.job(&id)?))
            .await?
            .ok_or_else(|| ServiceError::NotFound("no such job".into()))?;
        let action = if cancel {
            Action::CancelJob {
                owner: &record.tenant,
            }
        } else {
            Action::ReadJob {
                owner: &record.tenant,
            }
        };
        self.state.access.authorize(caller, &action)?;
        Ok(record)
    }

    async fn cancel(&self, caller: Caller, req: pb::JobRequest) -> Result<pb::Job, ServiceError> {
        let record = self.load_job(&caller, &req.job_id, true).await?;
        let store = self.state.store.clone();
        let id = record.id.clone();
        let updated = blocking(move || {
            Ok(store.advance_job(
                &id,
                None,
                JobState::Cancelled,
                Some("cancelled by the client"),
                now(),
            )?)
        })
        .await?;
        match updated {
            Some(r) => {
                tracing::info!(job = %r.id, "job cancelled");
                self.state.jobs.publish(&r);
                Ok(convert::job_to_pb(&r))
            }
            None => {
                let store = self.state.store.clone();
                let id = record.id.clone();
                let now_record = blocking(move || Ok(store.job(&id)?))
                    .await?
                    .ok_or_else(|| ServiceError::NotFound("no such job".into()))?;
                if now_record.state == JobState::Cancelled {
                    Ok(convert::job_to_pb(&now_record))
                } else {
                    Err(ServiceError::FailedPrecondition(format!(
                        "the job is already {}",
                        now_record.state.as_str()
                    )))
                }
            }
        }
    }
}

/// The queue (all tenants, over every replica) is full.
fn queue_full() -> ServiceError {
    ServiceError::ResourceExhausted("the job queue is full; retry later".into())
}

/// The tenant has its quota of live jobs (over every replica).
fn tenant_quota() -> ServiceError {
    ServiceError::ResourceExhausted(
        "this tenant has its quota of queued and running jobs; retry later".into(),
    )
}

type JobStream = Pin<Box<dyn Stream<Item = Result<pb::Job, Status>> + Send>>;

#[tonic::async_trait]
impl pb::prover_server::Prover for ProverService {
    async fn submit_claim(
        &self,
        request: Request<pb::SubmitClaimRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.submit(caller, request.into_inner()).await?,
        ))
    }

    async fn get_job(&self, request: Request<pb::JobRequest>) -> Result<Response<pb::Job>, Status> {
        let caller = Caller::of(&request);
        let record = self
            .load_job(&caller, &request.get_ref().job_id, false)
            .await?;
        Ok(Response::new(convert::job_to_pb(&record)))
    }

    type WatchJobStream = JobStream;

    async fn watch_job(
        &self,
        request: Request<pb::JobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        let caller = Caller::of(&request);
        let record = self
            .load_job(&caller, &request.get_ref().job_id, false)
            .await?;
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let jobs = self.state.jobs.clone();
        let store = self.state.store.clone();
        tokio::spawn(async move {
            // Follows the job's task while one runs here; between tasks (an attempt ended, a
            // resubmission starts the next) and for a job no task here runs, follows the store,
            // so a watcher always sees the job to its end.
            let mut last = record;
            if tx.send(Ok(convert::job_to_pb(&last))).await.is_err() {
                return;
            }
            loop {
                if last.state.is_terminal() {
                    return;
                }
                if let Some(mut live) = jobs.subscribe(&last.id) {
                    loop {
                        let current = live.borrow_and_update().clone();
                        // The task's channel can lag the store the first record came from
                        // (stored, then published): a stage of the same attempt already
                        // passed is not news, and sending it would show the job going back.
                        let behind = current.attempt == last.attempt
                            && current.state.stage() < last.state.stage();
                        if current != last && !behind {
                            if tx.send(Ok(convert::job_to_pb(&current))).await.is_err() {
                                return;
                            }
                            last = current;
                        }
                        if last.state.is_terminal() {
                            break;
                        }
                        tokio::select! {
                            changed = live.changed() => if changed.is_err() { break },
                            () = tx.closed() => return, // the watcher left
                        }
                    }
                } else {
                    tokio::select! {
                        () = tokio::time::sleep(WATCH_POLL) => {}
                        () = tx.closed() => return,
                    }
                }
                let id = last.id.clone();
                let store = store.clone();
                let Ok(Ok(Some(stored))) =
                    tokio::task::spawn_blocking(move || store.job(&id)).await
                else {
                    return;
                };
                if stored != last {
                    if tx.send(Ok(convert::job_to_pb(&stored))).await.is_err() {
                        return;
                    }
                    last = stored;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn get_bundle(
        &self,
        request: Request<pb::JobRequest>,
    ) -> Result<Response<pb::BundleResponse>, Status> {
        let caller = Caller::of(&request);
        let record = self
            .load_job(&caller, &request.get_ref().job_id, false)
            .await?;
        if record.state != JobState::Done {
            return Err(ServiceError::FailedPrecondition(format!(
                "the job is {}, not done",
                record.state.as_str()
            ))
            .into());
        }
        let store = self.state.store.clone();
        let id = record.id.clone();
        let bundle = blocking(move || Ok(store.bundle(&id)?))
            .await?
            .ok_or_else(|| ServiceError::Internal("a done job has no bundle".into()))?;
        Ok(Response::new(pb::BundleResponse {
            job_id: record.id,
            bundle_json: bundle,
        }))
    }

    async fn cancel_job(
        &self,
        request: Request<pb::JobRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.cancel(caller, request.into_inner()).await?,
        ))
    }
}
