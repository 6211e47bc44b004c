//! The load: concurrent clients, each its own tenant and contributor, mixing every kind of
//! call the server takes: registrations, claims (submitted, watched, fetched), single and
//! batch verification of the bundles others received, and audit reads (checkpoints,
//! inclusion and consistency proofs).
//!
//! Each client records what the server *accepted* (a registration answered with its leaf, a
//! claim answered with its job), because that is what the checks after the run hold the server
//! to, and what it merely *sent* (a claim whose answer was lost may still have been accepted).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ark_bn254::Fr;
use ark_std::UniformRand;
use ark_std::rand::RngCore;
use credence_circuits::{commitment, prover::os_rng};
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_to_decimal;
use tonic::Code;

use crate::cli::client::{AuthChannel, BearerToken};

/// A client-side deadline on every call (sent as `grpc-timeout` too).
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Jobs a client keeps queued or running at once (more would only meet the tenant quota).
const OUTSTANDING_JOBS: usize = 2;

/// Bundles kept for verification calls (the most recent).
const BUNDLE_POOL: usize = 64;

/// Bundles per `VerifyBatch` call.
const BATCH: usize = 8;

/// Latencies of answered calls and errors by code, per RPC.
#[derive(Default)]
pub(super) struct Stats {
    /// Microseconds of each answered call.
    pub(super) ok: HashMap<&'static str, Vec<u32>>,
    /// Errors by (RPC, code name).
    pub(super) errors: BTreeMap<(&'static str, String), u64>,
    /// The first message of each (RPC, code), to show what the errors were.
    pub(super) examples: BTreeMap<(&'static str, String), String>,
}

impl Stats {
    fn answered(&mut self, rpc: &'static str, took: Duration) {
        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.ok.entry(rpc).or_default().push(us);
    }

    fn failed(&mut self, rpc: &'static str, code: &str, message: &str) {
        *self.errors.entry((rpc, code.to_owned())).or_default() += 1;
        self.examples
            .entry((rpc, code.to_owned()))
            .or_insert_with(|| message.to_owned());
    }

    pub(super) fn merge(&mut self, other: Stats) {
        for (rpc, v) in other.ok {
            self.ok.entry(rpc).or_default().extend(v);
        }
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        for (k, m) in other.examples {
            self.examples.entry(k).or_insert(m);
        }
    }
}

/// What the clients share: bundles to verify and the log size last seen.
#[derive(Default)]
pub(super) struct Shared {
    bundles: Mutex<VecDeque<String>>,
    log_size: AtomicU64,
}

/// One contribution a client can claim, registered before the load.
#[derive(Clone)]
pub(super) struct Claimable {
    digest: Fr,
    blinding: Fr,
    leaf_index: u64,
}

impl Claimable {
    /// Its leaf.
    pub(super) fn leaf_index(&self) -> u64 {
        self.leaf_index
    }
}

/// A client's identity: its secret, contributor id and tokens.
pub(super) struct Identity {
    pub(super) secret: Fr,
    pub(super) id: Fr,
    /// Its contributor token (tenant `load-<i>`).
    pub(super) token: String,
}

impl Identity {
    pub(super) fn fresh(token: String) -> Self {
        let secret = Fr::rand(&mut os_rng());
        Identity {
            id: commitment::contributor_id(&secret),
            secret,
            token,
        }
    }
}

/// A registration the server answered.
pub(super) struct Accepted {
    pub(super) commitment: Fr,
    pub(super) leaf_index: u64,
}

/// A claim the server answered with a job.
pub(super) struct AcceptedJob {
    pub(super) job_id: String,
    pub(super) range_end: u64,
}

/// What one client saw.
pub(super) struct Outcome {
    pub(super) stats: Stats,
    pub(super) registrations: Vec<Accepted>,
    pub(super) jobs: Vec<AcceptedJob>,
    /// `range_end` of every claim sent (each claim's own; see [`Client::submit`]).
    pub(super) sent_claims: Vec<u64>,
    /// Claims submitted again after the server marked their job interrupted.
    pub(super) resubmitted: u64,
    /// The contributions every claim of this client claims.
    pub(super) claimable: Vec<Claimable>,
}

/// The failure of a job the server found queued or running when it started (or at the end of
/// a drain): the client must submit it again.
pub(super) const INTERRUPTED: &str = "interrupted";

/// The claim of `who` over `claimable` with range `[0, range_end)`.
pub(super) fn claim_request(
    who: &Identity,
    claimable: &[Claimable],
    range_end: u64,
) -> pb::SubmitClaimRequest {
    pb::SubmitClaimRequest {
        secret: fr_to_decimal(&who.secret),
        epoch: 1,
        contributions: claimable
            .iter()
            .map(|c| pb::ClaimContribution {
                data: Some(pb::claim_contribution::Data::Digest(fr_to_decimal(
                    &c.digest,
                ))),
                blinding: fr_to_decimal(&c.blinding),
                leaf_index: c.leaf_index,
                leaf: None,
            })
            .collect(),
        range_start: Some(0),
        range_end: Some(range_end),
        snapshot: None,
    }
}

/// A lazily connected channel to `url` (it reconnects by itself after the server restarts).
pub(super) fn channel(url: &str) -> Result<tonic::transport::Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.to_owned())
        .context("server URL")?
        .connect_timeout(Duration::from_secs(2))
        .connect_lazy())
}

/// `channel` sending `token`.
pub(super) fn as_token(channel: &tonic::transport::Channel, token: &str) -> Result<AuthChannel> {
    Ok(tonic::service::interceptor::InterceptedService::new(
        channel.clone(),
        BearerToken::new(token)?,
    ))
}

/// A request carrying the call deadline.
pub(super) fn request<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.set_timeout(CALL_TIMEOUT);
    r
}

/// Registers `count` contributions to claim later; returns them with their leaves.
pub(super) async fn register_claimables(
    url: &str,
    who: &Identity,
    count: usize,
) -> Result<Vec<Claimable>> {
    let mut datanet = pb::datanet_client::DatanetClient::new(as_token(&channel(url)?, &who.token)?);
    let mut out = Vec::new();
    for _ in 0..count {
        let (digest, blinding) = (Fr::rand(&mut os_rng()), Fr::rand(&mut os_rng()));
        let r = datanet
            .register(request(pb::RegisterRequest {
                contributor_id: fr_to_decimal(&who.id),
                commitment: fr_to_decimal(&commitment::commitment(&digest, &blinding)),
            }))
            .await
            .map_err(crate::cli::client::status)
            .context("registering a claimable contribution")?
            .into_inner();
        out.push(Claimable {
            digest,
            blinding,
            leaf_index: r.leaf_index,
        });
    }
    Ok(out)
}

/// One client of the load.
pub(super) struct Client {
    who: Arc<Identity>,
    claimable: Vec<Claimable>,
    /// The next claim's `range_end`: every claim of a client gets its own, so its statement
    /// (and the log's claim entry) names the claim.
    next_range_end: u64,
    /// Jobs not seen ending, with their claim's `range_end`.
    unfinished: Vec<(String, u64)>,
    done: Vec<String>,
    /// Claims (by `range_end`) whose job the server marked interrupted.
    to_resubmit: Vec<u64>,
    datanet: pb::datanet_client::DatanetClient<AuthChannel>,
    prover: pb::prover_client::ProverClient<AuthChannel>,
    verifier: pb::verifier_client::VerifierClient<AuthChannel>,
    audit: pb::audit_log_client::AuditLogClient<AuthChannel>,
    shared: Arc<Shared>,
    out: Outcome,
}

impl Client {
    /// A client on its own connection; `first_range_end` is past every claimable leaf.
    pub(super) fn new(
        url: &str,
        who: Arc<Identity>,
        claimable: Vec<Claimable>,
        first_range_end: u64,
        verifier_token: &str,
        auditor_token: &str,
        shared: Arc<Shared>,
    ) -> Result<Self> {
        let channel = channel(url)?;
        Ok(Client {
            datanet: pb::datanet_client::DatanetClient::new(as_token(&channel, &who.token)?),
            prover: pb::prover_client::ProverClient::new(as_token(&channel, &who.token)?),
            who,
            claimable,
            next_range_end: first_range_end,
            unfinished: Vec::new(),
            done: Vec::new(),
            to_resubmit: Vec::new(),
            verifier: pb::verifier_client::VerifierClient::new(as_token(&channel, verifier_token)?),
            audit: pb::audit_log_client::AuditLogClient::new(as_token(&channel, auditor_token)?),
            shared,
            out: Outcome {
                stats: Stats::default(),
                registrations: Vec::new(),
                jobs: Vec::new(),
                sent_claims: Vec::new(),
                resubmitted: 0,
                claimable: Vec::new(),
            },
        })
    }

    /// Calls until `until`, then returns what it saw.
    pub(super) async fn run(mut self, until: Instant) -> Outcome {
        let mut rng = os_rng();
        while Instant::now() < until {
            let dice = rng.next_u64() % 100;
            let answered = match dice {
                0..35 => self.register().await,
                35..45
                    if self.unfinished.len() < OUTSTANDING_JOBS || !self.to_resubmit.is_empty() =>
                {
                    self.submit().await
                }
                45..50 if !self.done.is_empty() => self.bundle().await,
                35..55 if !self.unfinished.is_empty() => self.watch(&mut rng).await,
                35..55 if !self.done.is_empty() => self.bundle().await,
                55..70 => self.verify(&mut rng, 1).await,
                70..75 => self.verify(&mut rng, BATCH).await,
                85..93 => self.inclusion(&mut rng).await,
                93..100 => self.consistency(&mut rng).await,
                _ => self.checkpoint().await,
            };
            if !answered {
                // The server is down or shedding load: do not spin on it.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.out.claimable = self.claimable;
        self.out
    }

    /// Times `call`, records its latency or its error; `None` on error.
    async fn timed<T>(
        stats: &mut Stats,
        rpc: &'static str,
        call: impl std::future::Future<Output = Result<T, tonic::Status>>,
    ) -> Option<T> {
        let start = Instant::now();
        match tokio::time::timeout(CALL_TIMEOUT + Duration::from_secs(1), call).await {
            Ok(Ok(v)) => {
                stats.answered(rpc, start.elapsed());
                Some(v)
            }
            Ok(Err(s)) => {
                stats.failed(rpc, &code_name(s.code()), s.message());
                None
            }
            Err(_) => {
                stats.failed(rpc, &code_name(Code::DeadlineExceeded), "no answer in time");
                None
            }
        }
    }

    async fn register(&mut self) -> bool {
        let c = commitment::commitment(&Fr::rand(&mut os_rng()), &Fr::rand(&mut os_rng()));
        let call = self.datanet.register(request(pb::RegisterRequest {
            contributor_id: fr_to_decimal(&self.who.id),
            commitment: fr_to_decimal(&c),
        }));
        match Self::timed(&mut self.out.stats, "Register", call).await {
            Some(r) => {
                self.out.registrations.push(Accepted {
                    commitment: c,
                    leaf_index: r.into_inner().leaf_index,
                });
                true
            }
            None => false,
        }
    }

    /// Submits a new claim, or again one whose job the server marked interrupted (as a client
    /// must after the server restarted: it never stores the secret, so it cannot resume alone).
    async fn submit(&mut self) -> bool {
        let (range_end, again) = match self.to_resubmit.pop() {
            Some(end) => (end, true),
            None => {
                let end = self.next_range_end;
                self.next_range_end += 1;
                self.out.sent_claims.push(end);
                (end, false)
            }
        };
        let call = self.prover.submit_claim(request(claim_request(
            &self.who,
            &self.claimable,
            range_end,
        )));
        match Self::timed(&mut self.out.stats, "SubmitClaim", call).await {
            Some(job) => {
                let job_id = job.into_inner().job_id;
                if again {
                    self.out.resubmitted += 1;
                }
                // The same request is the same job: only a new job id is a new accepted job
                // (and a resubmission answered with a new one shows up as a duplicated claim).
                if !self.out.jobs.iter().any(|j| j.job_id == job_id) {
                    self.out.jobs.push(AcceptedJob {
                        job_id: job_id.clone(),
                        range_end,
                    });
                }
                self.unfinished.push((job_id, range_end));
                true
            }
            None => {
                if again {
                    self.to_resubmit.push(range_end);
                }
                false
            }
        }
    }

    /// Opens a watch of one unfinished job; the latency is to its first event (the job's
    /// state now). The watch is then dropped (a client going away mid-stream).
    async fn watch(&mut self, rng: &mut impl RngCore) -> bool {
        let i = (rng.next_u64() % self.unfinished.len() as u64) as usize;
        let (job_id, range_end) = self.unfinished[i].clone();
        let prover = &mut self.prover;
        let call = async {
            let mut stream = prover
                .watch_job(request(pb::JobRequest { job_id }))
                .await?
                .into_inner();
            stream
                .message()
                .await?
                .ok_or_else(|| tonic::Status::internal("the watch ended without an event"))
        };
        let Some(job) = Self::timed(&mut self.out.stats, "WatchJob", call).await else {
            return false;
        };
        match pb::JobState::try_from(job.state) {
            Ok(pb::JobState::Done) => self.done.push(self.unfinished.swap_remove(i).0),
            Ok(pb::JobState::Failed) if job.failure.starts_with(INTERRUPTED) => {
                self.unfinished.swap_remove(i);
                self.to_resubmit.push(range_end);
            }
            Ok(pb::JobState::Failed | pb::JobState::Cancelled) => {
                // The checks after the run report it.
                self.unfinished.swap_remove(i);
            }
            _ => {}
        }
        true
    }

    async fn bundle(&mut self) -> bool {
        let job_id = self.done.pop().expect("called with a done job");
        let call = self.prover.get_bundle(request(pb::JobRequest { job_id }));
        match Self::timed(&mut self.out.stats, "GetBundle", call).await {
            Some(b) => {
                let mut pool = self.shared.bundles.lock().expect("not poisoned");
                if pool.len() == BUNDLE_POOL {
                    pool.pop_front();
                }
                pool.push_back(b.into_inner().bundle_json);
                true
            }
            None => false,
        }
    }

    /// `VerifyBundle` (`n` = 1) or `VerifyBatch` of `n` bundles others received. A verdict
    /// other than valid is counted as an error (`invalid_verdict`): every bundle is genuine.
    async fn verify(&mut self, rng: &mut impl RngCore, n: usize) -> bool {
        let picked: Vec<String> = {
            let pool = self.shared.bundles.lock().expect("not poisoned");
            if pool.is_empty() {
                Vec::new()
            } else {
                (0..n)
                    .map(|_| pool[(rng.next_u64() % pool.len() as u64) as usize].clone())
                    .collect()
            }
        };
        if picked.is_empty() {
            return self.checkpoint().await;
        }
        let verdicts = if n == 1 {
            let call = self
                .verifier
                .verify_bundle(request(pb::VerifyBundleRequest {
                    bundle_json: picked.into_iter().next().expect("one"),
                }));
            Self::timed(&mut self.out.stats, "VerifyBundle", call)
                .await
                .map(|v| vec![v.into_inner()])
        } else {
            let call = self.verifier.verify_batch(request(pb::VerifyBatchRequest {
                bundle_json: picked,
            }));
            Self::timed(&mut self.out.stats, "VerifyBatch", call)
                .await
                .map(|v| v.into_inner().verdicts)
        };
        match verdicts {
            Some(v) => {
                let rpc = if n == 1 {
                    "VerifyBundle"
                } else {
                    "VerifyBatch"
                };
                for v in v.iter().filter(|v| !v.valid) {
                    self.out.stats.failed(rpc, "invalid_verdict", &v.reason);
                }
                true
            }
            None => false,
        }
    }

    async fn checkpoint(&mut self) -> bool {
        let call = self
            .audit
            .get_checkpoint(request(pb::GetCheckpointRequest { tree_size: 0 }));
        match Self::timed(&mut self.out.stats, "GetCheckpoint", call).await {
            Some(c) => {
                self.shared
                    .log_size
                    .fetch_max(c.into_inner().tree_size, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    async fn inclusion(&mut self, rng: &mut impl RngCore) -> bool {
        let size = self.shared.log_size.load(Ordering::Relaxed);
        if size == 0 {
            return self.checkpoint().await;
        }
        let call = self
            .audit
            .get_inclusion_proof(request(pb::GetInclusionProofRequest {
                index: rng.next_u64() % size,
                tree_size: size,
            }));
        Self::timed(&mut self.out.stats, "GetInclusionProof", call)
            .await
            .is_some()
    }

    async fn consistency(&mut self, rng: &mut impl RngCore) -> bool {
        let size = self.shared.log_size.load(Ordering::Relaxed);
        if size == 0 {
            return self.checkpoint().await;
        }
        let call = self
            .audit
            .get_consistency_proof(request(pb::GetConsistencyProofRequest {
                old_size: 1 + rng.next_u64() % size,
                new_size: size,
            }));
        Self::timed(&mut self.out.stats, "GetConsistencyProof", call)
            .await
            .is_some()
    }
}

/// A status code's name as gRPC spells it (`UNAVAILABLE`, ...).
pub(super) fn code_name(code: Code) -> String {
    let debug = format!("{code:?}");
    let mut out = String::new();
    for (i, ch) in debug.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_are_grpc_spellings() {
        assert_eq!(code_name(Code::Unavailable), "UNAVAILABLE");
        assert_eq!(code_name(Code::ResourceExhausted), "RESOURCE_EXHAUSTED");
        assert_eq!(code_name(Code::DeadlineExceeded), "DEADLINE_EXCEEDED");
    }
}
