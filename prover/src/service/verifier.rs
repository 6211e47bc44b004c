//! `credence.v1.Verifier`: bundle verification with the verifier crate, and verifying keys.
//!
//! Invariant: a verdict comes only from `credence_verifier` against this server's trusted key
//! ring (the checked verifying keys of the configured shapes); a bundle never supplies its key.

use std::sync::Arc;

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
        VerifierService { state }
    }

    fn record(
        state: &State,
        tenant: &str,
        bundle: &ClaimBundle,
        valid: bool,
    ) -> Result<(), ServiceError> {
        state
            .audit
            .record(AuditEvent::Verification {
                tenant,
                bundle,
                valid,
            })
            .map(|_| ())
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    async fn verify_one(
        &self,
        caller: Caller,
        req: pb::VerifyBundleRequest,
    ) -> Result<pb::Verdict, ServiceError> {
        self.state.access.authorize(&caller, &Action::Verify)?;
        let bundle = ClaimBundle::from_json(&req.bundle_json)
            .map_err(|e| ServiceError::invalid("bundle_json", e))?;
        let state = self.state.clone();
        blocking(move || {
            let result = verify_bundle(&state.ring, &bundle)
                .map(|_| ())
                .map_err(|e| e.to_string());
            Self::record(&state, &caller.tenant, &bundle, result.is_ok())?;
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
        let state = self.state.clone();
        blocking(move || {
            let decoded: Vec<Result<ClaimBundle, String>> = req
                .bundle_json
                .iter()
                .map(|j| ClaimBundle::from_json(j).map_err(|e| e.to_string()))
                .collect();
            let good: Vec<ClaimBundle> = decoded
                .iter()
                .filter_map(|d| d.as_ref().ok().cloned())
                .collect();
            let mut results =
                verify_bundles(&state.ring, &good, &mut credence_circuits::prover::os_rng())
                    .into_iter();
            let mut verdicts = Vec::with_capacity(decoded.len());
            for d in decoded {
                match d {
                    Err(reason) => verdicts.push(pb::Verdict {
                        valid: false,
                        reason: format!("malformed: {reason}"),
                        ..Default::default()
                    }),
                    Ok(bundle) => {
                        let r = results
                            .next()
                            .ok_or_else(|| ServiceError::Internal("batch result count".into()))?
                            .map(|_| ())
                            .map_err(|e| e.to_string());
                        Self::record(&state, &caller.tenant, &bundle, r.is_ok())?;
                        verdicts.push(verdict(&bundle, r));
                    }
                }
            }
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
