//! `credence.v1.Datanet`: registrations and epoch snapshots.
//!
//! Invariants: a contribution is keyed by `(contributor_id, commitment)`, so the same commitment
//! under another id never blocks the first; a snapshot only contains registered leaves, has a
//! total weight in `1..2^64`, and is immutable once published.

use std::collections::BTreeSet;
use std::sync::Arc;

use ark_bn254::Fr;
use credence_circuits::merkle_sum::{MAX_DEPTH, MIN_DEPTH};
use credence_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access::{Action, Caller};
use crate::blocking::blocking;
use crate::error::ServiceError;
use crate::log::hook::AuditEvent;
use crate::service::convert;
use crate::service::state::{State, build_tree, snapshot_path};
use crate::store::{
    Published, QuotaLimit, Registered, RegistrationQuota, SnapshotLeaf, SnapshotRecord,
};

/// The Datanet service.
#[derive(Clone, Debug)]
pub struct DatanetService {
    state: Arc<State>,
}

impl DatanetService {
    /// A service over shared state.
    pub fn new(state: Arc<State>) -> Self {
        DatanetService { state }
    }

    async fn register(
        &self,
        caller: Caller,
        req: pb::RegisterRequest,
    ) -> Result<pb::RegisterResponse, ServiceError> {
        let pair = decode_pair(&req, "")?;
        let mut answers = self.register_pairs(caller, vec![pair], None).await?;
        answers
            .pop()
            .ok_or_else(|| ServiceError::Internal("registration without an answer".into()))
    }

    async fn register_batch(
        &self,
        caller: Caller,
        req: pb::RegisterBatchRequest,
    ) -> Result<pb::RegisterBatchResponse, ServiceError> {
        if req.registrations.is_empty() || req.registrations.len() > MAX_REGISTER_BATCH {
            return Err(ServiceError::invalid(
                "registrations",
                format!(
                    "{} registrations; a call takes 1 to {MAX_REGISTER_BATCH}",
                    req.registrations.len()
                ),
            ));
        }
        let pairs = req
            .registrations
            .iter()
            .enumerate()
            .map(|(i, r)| decode_pair(r, &format!("registrations[{i}].")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pb::RegisterBatchResponse {
            registrations: self
                .register_pairs(caller, pairs, Some("registrations"))
                .await?,
        })
    }

    /// Authorizes and registers `pairs` in one transaction (all or none), naming
    /// `<list>[i]` in an error about one of them when they came as a list.
    async fn register_pairs(
        &self,
        caller: Caller,
        pairs: Vec<(Fr, Fr)>,
        list: Option<&'static str>,
    ) -> Result<Vec<pb::RegisterResponse>, ServiceError> {
        let which = move |i: usize| list.map_or_else(String::new, |l| format!("{l}[{i}]: "));
        for (i, (id, _)) in pairs.iter().enumerate() {
            self.state
                .access
                .authorize(&caller, &Action::Register { contributor_id: id })
                .map_err(|e| match e {
                    ServiceError::PermissionDenied(m) => {
                        ServiceError::PermissionDenied(format!("{}{m}", which(i)))
                    }
                    e => e,
                })?;
        }
        let state = self.state.clone();
        let capacity = 1u64 << state.config.datanet.depth;
        let limits = &self.state.config.limits;
        let (per_contributor, per_tenant) = (
            limits.registrations_per_contributor,
            limits.registrations_per_tenant,
        );
        blocking(move || {
            let quota = RegistrationQuota {
                tenant: &caller.tenant,
                per_contributor,
                per_tenant,
            };
            let outcomes = state.store.register_batch(&pairs, capacity, &quota)?;
            let mut answers = Vec::with_capacity(outcomes.len());
            for (i, outcome) in outcomes.into_iter().enumerate() {
                let (leaf_index, created) = match outcome {
                    Registered::Created(leaf_index) => (leaf_index, true),
                    Registered::Existing(leaf_index) => (leaf_index, false),
                    Registered::Full => {
                        return Err(ServiceError::ResourceExhausted(format!(
                            "{}the datanet is full ({capacity} leaves at depth {})",
                            which(i),
                            state.config.datanet.depth
                        )));
                    }
                    Registered::Quota(QuotaLimit::Contributor(n)) => {
                        return Err(ServiceError::ResourceExhausted(format!(
                            "{}this contributor has {n} contributions, \
                             limits.registrations_per_contributor",
                            which(i)
                        )));
                    }
                    Registered::Quota(QuotaLimit::Tenant(n)) => {
                        return Err(ServiceError::ResourceExhausted(format!(
                            "{}this tenant has {n} contributions, limits.registrations_per_tenant",
                            which(i)
                        )));
                    }
                };
                if created {
                    let (id, cm) = &pairs[i];
                    // The log entry is already committed with the leaf; this tells the
                    // embedder's own hook.
                    state
                        .audit
                        .record(AuditEvent::Registration {
                            tenant: &caller.tenant,
                            leaf_index,
                            contributor_id: id,
                            commitment: cm,
                        })
                        .map_err(|e| ServiceError::Internal(e.to_string()))?;
                }
                answers.push(pb::RegisterResponse {
                    leaf_index,
                    created,
                });
            }
            let created = answers.iter().filter(|a| a.created).count();
            if created > 0 {
                tracing::info!(created, "contributions registered");
            }
            Ok(answers)
        })
        .await
    }

    /// The parts of a PublishSnapshotStream as one request: each part must repeat the first's
    /// epoch, depth and revenue, and all of them together may hold no more weights than a
    /// tree of the largest depth this server takes has leaves (so memory stays bounded).
    async fn gather(
        &self,
        mut parts: tonic::Streaming<pb::PublishSnapshotRequest>,
    ) -> Result<pb::PublishSnapshotRequest, ServiceError> {
        let received = |e: Status| match e.code() {
            // A part over the message limit.
            tonic::Code::OutOfRange => ServiceError::OutOfRange(e.message().to_owned()),
            _ => ServiceError::invalid(
                "stream",
                format!("the parts did not arrive: {}", e.message()),
            ),
        };
        let Some(mut whole) = parts.message().await.map_err(received)? else {
            return Err(ServiceError::invalid(
                "stream",
                "no part was sent (a snapshot needs at least one leaf)",
            ));
        };
        let depth = if whole.depth == 0 {
            self.state.config.datanet.depth
        } else {
            whole.depth
        };
        let most = 1u64 << depth.min(self.state.config.limits.max_depth).min(MAX_DEPTH);
        let expected = whole.leaf_count;
        if expected == 0 || expected > most {
            return Err(ServiceError::invalid(
                "leaf_count",
                format!(
                    "{expected}: a stream says how many weights it sends, 1 to the {most} \
                     leaves of a tree of depth {depth}"
                ),
            ));
        }
        while let Some(part) = parts.message().await.map_err(received)? {
            for (field, first, this) in [
                ("epoch", whole.epoch, part.epoch),
                ("depth", u64::from(whole.depth), u64::from(part.depth)),
                ("revenue", whole.revenue, part.revenue),
                ("leaf_count", whole.leaf_count, part.leaf_count),
            ] {
                if first != this {
                    return Err(ServiceError::invalid(
                        field,
                        format!("a part says {this}, the first part {first}"),
                    ));
                }
            }
            if (whole.weights.len() + part.weights.len()) as u64 > expected {
                return Err(ServiceError::invalid(
                    "weights",
                    format!("more than the leaf_count of {expected} weights"),
                ));
            }
            whole.weights.extend(part.weights);
        }
        if whole.weights.len() as u64 != expected {
            return Err(ServiceError::invalid(
                "leaf_count",
                format!(
                    "the stream ended after {} of its {expected} weights: nothing was published",
                    whole.weights.len()
                ),
            ));
        }
        Ok(whole)
    }

    async fn publish(
        &self,
        caller: Caller,
        req: pb::PublishSnapshotRequest,
    ) -> Result<pb::Snapshot, ServiceError> {
        self.state
            .access
            .authorize(&caller, &Action::PublishSnapshot)?;
        let depth = if req.depth == 0 {
            self.state.config.datanet.depth
        } else {
            req.depth
        };
        if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
            return Err(ServiceError::invalid(
                "depth",
                format!("must be in {MIN_DEPTH}..={MAX_DEPTH} (or 0 for the server's)"),
            ));
        }
        if depth > self.state.config.limits.max_depth {
            return Err(ServiceError::invalid(
                "depth",
                format!(
                    "above this server's maximum shape (depth {})",
                    self.state.config.limits.max_depth
                ),
            ));
        }
        if req.weights.is_empty() {
            return Err(ServiceError::invalid(
                "weights",
                "a snapshot needs at least one leaf",
            ));
        }
        if req.leaf_count != 0 && req.leaf_count != req.weights.len() as u64 {
            return Err(ServiceError::invalid(
                "leaf_count",
                format!(
                    "{}, but {} weights were sent",
                    req.leaf_count,
                    req.weights.len()
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut total: u64 = 0;
        for (i, w) in req.weights.iter().enumerate() {
            let field = format!("weights[{i}].leaf_index");
            if w.leaf_index >= 1u64 << depth {
                return Err(ServiceError::invalid(
                    field,
                    format!("outside a tree of depth {depth}"),
                ));
            }
            if !seen.insert(w.leaf_index) {
                return Err(ServiceError::invalid(field, "leaf listed twice"));
            }
            total = total.checked_add(w.weight).ok_or_else(|| {
                ServiceError::invalid("weights", "total weight does not fit 64 bits")
            })?;
        }
        if total == 0 {
            return Err(ServiceError::invalid("weights", "total weight is 0"));
        }
        let state = self.state.clone();
        blocking(move || {
            let mut weights = req.weights.clone();
            weights.sort_by_key(|w| w.leaf_index);
            let indices: Vec<u64> = weights.iter().map(|w| w.leaf_index).collect();
            let registered = state.store.contributions(&indices)?;
            let mut leaves = Vec::with_capacity(weights.len());
            let mut registered = registered.into_iter().peekable();
            for w in &weights {
                match registered.next_if(|c| c.leaf_index == w.leaf_index) {
                    Some(c) => leaves.push(SnapshotLeaf {
                        leaf_index: w.leaf_index,
                        contributor_id: c.contributor_id,
                        commitment: c.commitment,
                        weight: w.weight,
                    }),
                    None => {
                        let pos = req
                            .weights
                            .iter()
                            .position(|x| x.leaf_index == w.leaf_index)
                            .unwrap_or(0);
                        return Err(ServiceError::invalid(
                            format!("weights[{pos}].leaf_index"),
                            "no contribution is registered at this leaf",
                        ));
                    }
                }
            }
            let tree = build_tree(depth, &leaves)?;
            let record = SnapshotRecord {
                epoch: req.epoch,
                depth,
                root: tree.root().hash,
                total_weight: tree.root().sum,
                revenue: req.revenue,
                leaf_count: leaves.len() as u64,
            };
            let nodes = crate::service::state::stored_nodes(&tree);
            match state
                .store
                .publish_snapshot(&caller.tenant, &record, &leaves, &nodes)?
            {
                Published::Created => {
                    state
                        .audit
                        .record(AuditEvent::Snapshot {
                            tenant: &caller.tenant,
                            snapshot: &record,
                        })
                        .map_err(|e| ServiceError::Internal(e.to_string()))?;
                    tracing::info!(epoch = record.epoch, leaves = record.leaf_count, "snapshot published");
                }
                Published::Identical => {}
                Published::Conflict => {
                    return Err(ServiceError::AlreadyExists(format!(
                        "epoch {} already has a different snapshot (snapshots are immutable; publish a correction as a new epoch)",
                        record.epoch
                    )));
                }
            }
            Ok(convert::snapshot_to_pb(&record))
        })
        .await
    }

    async fn get_snapshot(
        &self,
        caller: Caller,
        req: pb::GetSnapshotRequest,
    ) -> Result<pb::Snapshot, ServiceError> {
        self.state
            .access
            .authorize(&caller, &Action::ReadSnapshot)?;
        let state = self.state.clone();
        let snap = blocking(move || Ok(state.store.snapshot(req.epoch)?)).await?;
        snap.map(|s| convert::snapshot_to_pb(&s)).ok_or_else(|| {
            ServiceError::NotFound(match req.epoch {
                Some(e) => format!("no snapshot for epoch {e}"),
                None => "no snapshot has been published".into(),
            })
        })
    }

    async fn get_leaves(
        &self,
        caller: Caller,
        req: pb::GetLeavesRequest,
    ) -> Result<pb::GetLeavesResponse, ServiceError> {
        let id = convert::fr("contributor_id", &req.contributor_id)?;
        self.state.access.authorize(
            &caller,
            &Action::ReadLeaves {
                contributor_id: &id,
            },
        )?;
        let state = self.state.clone();
        blocking(move || {
            let snap = state.store.snapshot(Some(req.epoch))?.ok_or_else(|| {
                ServiceError::NotFound(format!("no snapshot for epoch {}", req.epoch))
            })?;
            let mine = state.store.snapshot_leaves_of(snap.epoch, &id)?;
            let leaves = mine
                .iter()
                .map(|l| {
                    let path = snapshot_path(&state, &snap, l.leaf_index)?;
                    Ok(pb::Leaf {
                        leaf_index: l.leaf_index,
                        commitment: credence_verifier::encoding::fr_to_decimal(&l.commitment),
                        weight: l.weight,
                        path: Some(convert::path_to_pb(&path)),
                    })
                })
                .collect::<Result<_, ServiceError>>()?;
            Ok(pb::GetLeavesResponse {
                snapshot: Some(convert::snapshot_to_pb(&snap)),
                leaves,
            })
        })
        .await
    }
}

/// The most registrations one RegisterBatch call takes (a 4 MiB message holds about 25,000;
/// this keeps one call's transaction short enough not to hold up the others).
pub const MAX_REGISTER_BATCH: usize = 4096;

/// Decodes one registration, naming its fields after `prefix` (`registrations[i].`).
fn decode_pair(r: &pb::RegisterRequest, prefix: &str) -> Result<(Fr, Fr), ServiceError> {
    Ok((
        convert::fr(&format!("{prefix}contributor_id"), &r.contributor_id)?,
        convert::fr(&format!("{prefix}commitment"), &r.commitment)?,
    ))
}

#[tonic::async_trait]
impl pb::datanet_server::Datanet for DatanetService {
    async fn register_batch(
        &self,
        request: Request<pb::RegisterBatchRequest>,
    ) -> Result<Response<pb::RegisterBatchResponse>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.register_batch(caller, request.into_inner()).await?,
        ))
    }

    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.register(caller, request.into_inner()).await?,
        ))
    }

    async fn publish_snapshot(
        &self,
        request: Request<pb::PublishSnapshotRequest>,
    ) -> Result<Response<pb::Snapshot>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.publish(caller, request.into_inner()).await?,
        ))
    }

    async fn publish_snapshot_stream(
        &self,
        request: Request<tonic::Streaming<pb::PublishSnapshotRequest>>,
    ) -> Result<Response<pb::Snapshot>, Status> {
        let caller = Caller::of(&request);
        // Refused before a byte of the parts is read.
        self.state
            .access
            .authorize(&caller, &Action::PublishSnapshot)?;
        let whole = self.gather(request.into_inner()).await?;
        Ok(Response::new(self.publish(caller, whole).await?))
    }

    async fn get_snapshot(
        &self,
        request: Request<pb::GetSnapshotRequest>,
    ) -> Result<Response<pb::Snapshot>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.get_snapshot(caller, request.into_inner()).await?,
        ))
    }

    async fn get_leaves(
        &self,
        request: Request<pb::GetLeavesRequest>,
    ) -> Result<Response<pb::GetLeavesResponse>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.get_leaves(caller, request.into_inner()).await?,
        ))
    }
}
