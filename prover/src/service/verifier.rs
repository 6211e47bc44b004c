//! `credence.v1.Verifier`: bundle verification with the verifier crate, and verifying keys.
//!
//! Invariant: a verdict comes only from `credence_verifier` against this server's trusted key
//! ring (the checked verifying keys of the configured shapes); a bundle never supplies its key.
//!
//! Bounds: at most `limits.concurrent_verifications` calls decode and verify at once (the
//! others wait, within their deadline), so memory is bounded by that many requests; each
//! tenant may add `limits.verdicts_per_tenant_per_hour` verdict entries to the compliance log
//! (beyond: RESOURCE_EXHAUSTED before anything is verified or logged); and a batch's verdicts
//! are appended in one transaction under one checkpoint, so claims and registrations wait for
//! one commit, not one per bundle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credence_proto::v1 as pb;
use credence_verifier::{ClaimBundle, Fingerprint, verify_bundle, verify_bundles};
use tonic::{Request, Response, Status};

use crate::access::{Action, Caller};
use crate::blocking::blocking;
use crate::error::ServiceError;
use crate::log::hook::AuditEvent;
use crate::service::state::State;

/// The Verifier service.
#[derive(Clone, Debug)]
pub struct VerifierService {
    state: Arc<State>,
    running: Arc<tokio::sync::Semaphore>,
    quota: Arc<VerdictQuota>,
}

/// Verdict entries per tenant in the current hour (a fixed window per tenant).
#[derive(Debug, Default)]
struct VerdictQuota {
    windows: Mutex<HashMap<String, (Instant, u64)>>,
}

const QUOTA_WINDOW: Duration = Duration::from_secs(3600);

impl VerdictQuota {
    /// Takes `n` verdicts from `tenant`'s hour, or refuses them all.
    fn take(&self, tenant: &str, n: u64, per_hour: u64) -> Result<(), ServiceError> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        windows.retain(|_, (start, _)| now.duration_since(*start) < QUOTA_WINDOW);
        let (_, used) = windows.entry(tenant.to_owned()).or_insert((now, 0));
        if used.saturating_add(n) > per_hour {
            return Err(ServiceError::ResourceExhausted(format!(
                "this tenant has {used} of its {per_hour} verdicts this hour \
                 (limits.verdicts_per_tenant_per_hour); retry later or verify offline with \
                 credence-verify"
            )));
        }
        *used += n;
        Ok(())
    }

    /// Gives back `n` verdicts taken for bundles that turned out malformed: they are refused
    /// without a verdict entry, so they cost the log nothing and the tenant no quota.
    fn refund(&self, tenant: &str, n: u64) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, used)) = windows.get_mut(tenant) {
            *used = used.saturating_sub(n);
        }
    }
}

/// Most bundles in one batch call.
pub const MAX_BATCH: usize = 1024;

fn verdict(bundle: &ClaimBundle, result: Result<(), String>) -> pb::Verdict {
    pb::Verdict {
        valid: result.is_ok(),
        reason: result.err().unwrap_or_default(),
        circuit_id: bundle.circuit_id.to_string(),
        vk_fingerprint: bundle.vk_fingerprint.to_hex(),
        payout: bundle.statement.payout,
    }
}

fn key_to_pb(state: &State, k: &credence_verifier::TrustedKey) -> pb::VerifyingKey {
    let entry = state
        .keys
        .values()
        .find(|s| s.vk.fingerprint() == k.fingerprint())
        .map(|s| &s.entry);
    pb::VerifyingKey {
        circuit_id: k.circuit_id().to_string(),
        fingerprint: k.fingerprint().to_hex(),
        vk: k.to_bytes().to_vec(),
        provenance: entry.map(provenance_to_pb),
    }
}

fn provenance_to_pb(e: &crate::keys::ManifestEntry) -> pb::KeyProvenance {
    match &e.ceremony {
        None => pb::KeyProvenance {
            setup: "single-party".into(),
            ..Default::default()
        },
        Some(c) => pb::KeyProvenance {
            setup: "ceremony".into(),
            circuit_hash: c.circuit_hash.clone(),
            ptau_blake2b: c.ptau_blake2b.clone(),
            transcript_blake2b: c.transcript_blake2b.clone(),
            contributions: c
                .contributions
                .iter()
                .map(|c| pb::CeremonyContribution {
                    name: c.name.clone(),
                    hash: c.hash.clone(),
                    beacon: c
                        .beacon
                        .as_ref()
                        .map(|b| b.value.clone())
                        .unwrap_or_default(),
                    beacon_iterations_exp: c
                        .beacon
                        .as_ref()
                        .map_or(0, |b| u32::from(b.iterations_exp)),
                })
                .collect(),
        },
    }
}

impl VerifierService {
    /// A service over shared state.
    pub fn new(state: Arc<State>) -> Self {
        let running = state.config.limits.concurrent_verifications;
        VerifierService {
            state,
            running: Arc::new(tokio::sync::Semaphore::new(running)),
            quota: Arc::default(),
        }
    }

    /// Records verdicts in the compliance log, in one append.
    fn record(
        state: &State,
        tenant: &str,
        verdicts: &[(&ClaimBundle, bool)],
    ) -> Result<(), ServiceError> {
        state
            .audit
            .record(AuditEvent::Verifications { tenant, verdicts })
            .map(|_| ())
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Waits for a verification slot (bounded by the call's deadline, like any wait).
    async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ServiceError> {
        self.running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::Unavailable("the server is shutting down".into()))
    }

    fn take_quota(&self, tenant: &str, n: usize) -> Result<(), ServiceError> {
        self.quota.take(
            tenant,
            n as u64,
            self.state.config.limits.verdicts_per_tenant_per_hour,
        )
    }

    async fn verify_one(
        &self,
        caller: Caller,
        req: pb::VerifyBundleRequest,
    ) -> Result<pb::Verdict, ServiceError> {
        self.state.access.authorize(&caller, &Action::Verify)?;
        self.take_quota(&caller.tenant, 1)?;
        let permit = self.slot().await?;
        let state = self.state.clone();
        let quota = self.quota.clone();
        blocking(move || {
            let _permit = permit;
            let bundle = ClaimBundle::from_json(&req.bundle_json).map_err(|e| {
                quota.refund(&caller.tenant, 1);
                ServiceError::invalid("bundle_json", e)
            })?;
            let result = verify_bundle(&state.ring, &bundle)
                .map(|_| ())
                .map_err(|e| e.to_string());
            Self::record(&state, &caller.tenant, &[(&bundle, result.is_ok())])?;
            Ok(verdict(&bundle, result))
        })
        .await
    }

    async fn verify_many(
        &self,
        caller: Caller,
        req: pb::VerifyBatchRequest,
    ) -> Result<pb::VerifyBatchResponse, ServiceError> {
        self.state.access.authorize(&caller, &Action::Verify)?;
        if req.bundle_json.len() > MAX_BATCH {
            return Err(ServiceError::invalid(
                "bundle_json",
                format!("more than {MAX_BATCH} bundles"),
            ));
        }
        self.take_quota(&caller.tenant, req.bundle_json.len())?;
        let permit = self.slot().await?;
        let state = self.state.clone();
        let quota = self.quota.clone();
        blocking(move || {
            let _permit = permit;
            // Decoded off the async threads, each text dropped as soon as it is decoded, each
            // bundle moved (never copied) into the batch; `slots` says where each one went.
            let mut good: Vec<ClaimBundle> = Vec::with_capacity(req.bundle_json.len());
            let slots: Vec<Result<usize, String>> = req
                .bundle_json
                .into_iter()
                .map(|j| match ClaimBundle::from_json(&j) {
                    Ok(bundle) => {
                        good.push(bundle);
                        Ok(good.len() - 1)
                    }
                    Err(e) => Err(e.to_string()),
                })
                .collect();
            quota.refund(&caller.tenant, (slots.len() - good.len()) as u64);
            let results =
                verify_bundles(&state.ring, &good, &mut credence_circuits::prover::os_rng());
            if results.len() != good.len() {
                return Err(ServiceError::Internal("batch result count".into()));
            }
            let logged: Vec<(&ClaimBundle, bool)> =
                good.iter().zip(results.iter().map(Result::is_ok)).collect();
            Self::record(&state, &caller.tenant, &logged)?;
            let verdicts = slots
                .into_iter()
                .map(|slot| match slot {
                    Err(reason) => pb::Verdict {
                        valid: false,
                        reason: format!("malformed: {reason}"),
                        ..Default::default()
                    },
                    Ok(i) => verdict(
                        &good[i],
                        results[i].as_ref().map(|_| ()).map_err(|e| e.to_string()),
                    ),
                })
                .collect();
            Ok(pb::VerifyBatchResponse { verdicts })
        })
        .await
    }

    fn get_key(
        &self,
        caller: Caller,
        req: pb::GetVerifyingKeyRequest,
    ) -> Result<pb::VerifyingKey, ServiceError> {
        self.state.access.authorize(&caller, &Action::ReadKeys)?;
        use pb::get_verifying_key_request::Selector;
        let key = match req.selector {
            Some(Selector::CircuitId(id)) => self
                .state
                .ring
                .iter()
                .find(|k| k.circuit_id().as_str() == id)
                .ok_or_else(|| {
                    ServiceError::NotFound("no trusted key for this circuit id".into())
                })?,
            Some(Selector::Fingerprint(f)) => {
                let f = Fingerprint::from_hex(&f)
                    .map_err(|e| ServiceError::invalid("fingerprint", e))?;
                self.state
                    .ring
                    .iter()
                    .find(|k| k.fingerprint() == f)
                    .ok_or_else(|| {
                        ServiceError::NotFound("no trusted key with this fingerprint".into())
                    })?
            }
            None => {
                return Err(ServiceError::invalid(
                    "selector",
                    "set `circuit_id` or `fingerprint`",
                ));
            }
        };
        Ok(key_to_pb(&self.state, key))
    }
}

#[tonic::async_trait]
impl pb::verifier_server::Verifier for VerifierService {
    async fn verify_bundle(
        &self,
        request: Request<pb::VerifyBundleRequest>,
    ) -> Result<Response<pb::Verdict>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.verify_one(caller, request.into_inner()).await?,
        ))
    }

    async fn verify_batch(
        &self,
        request: Request<pb::VerifyBatchRequest>,
    ) -> Result<Response<pb::VerifyBatchResponse>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(
            self.verify_many(caller, request.into_inner()).await?,
        ))
    }

    async fn get_verifying_key(
        &self,
        request: Request<pb::GetVerifyingKeyRequest>,
    ) -> Result<Response<pb::VerifyingKey>, Status> {
        let caller = Caller::of(&request);
        Ok(Response::new(self.get_key(caller, request.into_inner())?))
    }

    async fn list_verifying_keys(
        &self,
        request: Request<pb::ListVerifyingKeysRequest>,
    ) -> Result<Response<pb::ListVerifyingKeysResponse>, Status> {
        let caller = Caller::of(&request);
        self.state.access.authorize(&caller, &Action::ReadKeys)?;
        Ok(Response::new(pb::ListVerifyingKeysResponse {
            keys: self
                .state
                .ring
                .iter()
                .map(|k| key_to_pb(&self.state, k))
                .collect(),
        }))
    }
}
