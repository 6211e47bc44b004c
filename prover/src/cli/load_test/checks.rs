//! What the server is held to after a run (and after a kill -9 and restart in the middle):
//!
//! - every registration it answered is still there, at the leaf it answered (registering it
//!   again answers "already registered" with that leaf), and no two share a leaf;
//! - every claim it answered with a job ends DONE, and its claim is in the compliance log
//!   exactly once (a job proven twice to completion would log two claims of one statement);
//!   the log holds no claim that was never sent;
//! - the exported log audits clean against the log's key (signatures, every checkpoint
//!   consistent, every entry hashed into the tree it signs);
//! - SIGTERM drains and the process exits successfully.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::log::{LogEvent, LogExport, LogVerifier};
use serde::Serialize;
use tokio::task::JoinSet;

use super::clients::{
    Accepted, AcceptedJob, Claimable, INTERRUPTED, Identity, as_token, channel, claim_request,
    request,
};

/// How long the jobs still queued at the end may take to finish.
const JOBS_DEADLINE: Duration = Duration::from_secs(900);

/// The outcome of the checks (JSON names are part of `credence load-test --json`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Checks {
    /// Registrations the server answered during the run.
    pub registrations_accepted: u64,
    /// Of those, answered "already registered" at the same leaf afterwards.
    pub registrations_kept: u64,
    /// Accepted registrations missing or at another leaf afterwards (must be 0).
    pub registrations_lost: u64,
    /// Leaves answered to two different registrations (must be 0).
    pub leaf_collisions: u64,
    /// Claims the server answered with a job.
    pub jobs_accepted: u64,
    /// Of those, DONE at the end.
    pub jobs_done: u64,
    /// Submissions again of a claim whose job the server marked interrupted (after the kill),
    /// during the run or after it; each answered with the same job.
    pub jobs_resubmitted: u64,
    /// Accepted jobs that ended otherwise, with state and reason (must be empty).
    pub jobs_not_done: Vec<String>,
    /// Claim entries in the log.
    pub claims_logged: u64,
    /// Statements logged more than once (a job proven twice; must be 0).
    pub claims_duplicated: u64,
    /// DONE jobs whose claim is not in the log (must be 0).
    pub claims_missing: u64,
    /// Logged claims nobody sent (must be 0).
    pub claims_unknown: u64,
    /// Entries the audit read.
    pub log_entries: u64,
    /// Signed checkpoints it verified.
    pub log_checkpoints: usize,
    /// The audit's verdict: `ok` or the first problem.
    pub audit: String,
    /// Seconds from SIGTERM to the process's exit.
    pub sigterm_exit_s: f64,
    /// The exit status after SIGTERM.
    pub exit: String,
}

impl Checks {
    /// True when every promise held.
    pub fn passed(&self) -> bool {
        self.registrations_lost == 0
            && self.leaf_collisions == 0
            && self.jobs_not_done.is_empty()
            && self.jobs_done == self.jobs_accepted
            && self.claims_duplicated == 0
            && self.claims_missing == 0
            && self.claims_unknown == 0
            && self.audit == "ok"
            && self.exit == "exit status: 0"
    }
}

/// What one client contributed to the checks.
pub(super) struct ClientRecord<'a> {
    pub(super) who: &'a Identity,
    pub(super) claimable: Vec<Claimable>,
    pub(super) registrations: Vec<Accepted>,
    pub(super) jobs: Vec<AcceptedJob>,
    pub(super) sent_claims: Vec<u64>,
}

/// Registrations and jobs, checked against the running server.
pub(super) async fn check_server(
    url: &str,
    records: &[ClientRecord<'_>],
    checks: &mut Checks,
) -> Result<()> {
    // Leaves answered twice.
    let mut leaves = HashSet::new();
    for r in records.iter().flat_map(|r| &r.registrations) {
        checks.registrations_accepted += 1;
        if !leaves.insert(r.leaf_index) {
            checks.leaf_collisions += 1;
        }
    }
    checks.jobs_accepted = records.iter().map(|r| r.jobs.len() as u64).sum();

    // Each client's registrations and jobs, checked on its own connection with its token.
    let mut tasks = JoinSet::new();
    for r in records {
        let own = as_token(&channel(url)?, &r.who.token)?;
        let datanet = pb::datanet_client::DatanetClient::new(own.clone());
        let prover = pb::prover_client::ProverClient::new(own);
        let id = fr_to_decimal(&r.who.id);
        let regs: Vec<(String, u64)> = r
            .registrations
            .iter()
            .map(|a| (fr_to_decimal(&a.commitment), a.leaf_index))
            .collect();
        let jobs: Vec<(String, pb::SubmitClaimRequest)> = r
            .jobs
            .iter()
            .map(|j| {
                (
                    j.job_id.clone(),
                    claim_request(r.who, &r.claimable, j.range_end),
                )
            })
            .collect();
        tasks.spawn(check_client(datanet, prover, id, regs, jobs));
    }
    while let Some(done) = tasks.join_next().await {
        let c = done.context("a check task")??;
        checks.registrations_kept += c.kept;
        checks.registrations_lost += c.lost;
        checks.jobs_done += c.done;
        checks.jobs_resubmitted += c.resubmitted;
        checks.jobs_not_done.extend(c.not_done);
    }
    Ok(())
}

#[derive(Default)]
struct ClientChecks {
    kept: u64,
    lost: u64,
    done: u64,
    resubmitted: u64,
    not_done: Vec<String>,
}

async fn check_client(
    mut datanet: pb::datanet_client::DatanetClient<crate::cli::AuthChannel>,
    mut prover: pb::prover_client::ProverClient<crate::cli::AuthChannel>,
    contributor_id: String,
    registrations: Vec<(String, u64)>,
    jobs: Vec<(String, pb::SubmitClaimRequest)>,
) -> Result<ClientChecks> {
    let mut c = ClientChecks::default();
    for (commitment, leaf) in registrations {
        let again = datanet
            .register(request(pb::RegisterRequest {
                contributor_id: contributor_id.clone(),
                commitment,
            }))
            .await
            .map_err(crate::cli::client::status)
            .context("registering an accepted contribution again")?
            .into_inner();
        if !again.created && again.leaf_index == leaf {
            c.kept += 1;
        } else {
            c.lost += 1;
        }
    }
    let deadline = Instant::now() + JOBS_DEADLINE;
    for (job_id, claim) in jobs {
        let mut last = watch_to_end(&mut prover, &job_id, deadline).await?;
        if last.state == pb::JobState::Failed as i32 && last.failure.starts_with(INTERRUPTED) {
            // What a client does after the server restarted (it cannot resume without the
            // secret): submit the same claim again, which must answer the same job.
            let again = prover
                .submit_claim(request(claim))
                .await
                .map_err(crate::cli::client::status)
                .context("submitting an interrupted claim again")?
                .into_inner();
            c.resubmitted += 1;
            if again.job_id != job_id {
                c.not_done.push(format!(
                    "{job_id}: submitted again, answered with another job {}",
                    again.job_id
                ));
                continue;
            }
            last = watch_to_end(&mut prover, &job_id, deadline).await?;
        }
        if last.state == pb::JobState::Done as i32 {
            c.done += 1;
        } else {
            c.not_done.push(format!(
                "{job_id}: {} {}",
                state_name(last.state),
                last.failure
            ));
        }
    }
    Ok(c)
}

/// Watches a job until its stream ends, re-opening the watch after a transport error.
async fn watch_to_end(
    prover: &mut pb::prover_client::ProverClient<crate::cli::AuthChannel>,
    job_id: &str,
    deadline: Instant,
) -> Result<pb::Job> {
    loop {
        let mut last = None;
        let mut r = tonic::Request::new(pb::JobRequest {
            job_id: job_id.to_owned(),
        });
        r.set_timeout(deadline.saturating_duration_since(Instant::now()));
        let ended = match prover.watch_job(r).await {
            Ok(s) => {
                let mut s = s.into_inner();
                loop {
                    match s.message().await {
                        Ok(Some(ev)) => last = Some(ev),
                        Ok(None) => break true,
                        Err(_) => break false,
                    }
                }
            }
            Err(e) if e.code() == tonic::Code::NotFound => {
                anyhow::bail!("job {job_id} was accepted but the server no longer knows it")
            }
            Err(_) => false,
        };
        if let (true, Some(last)) = (ended, last.clone()) {
            return Ok(last);
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "job {job_id} did not end within {JOBS_DEADLINE:?} (last state {:?})",
                last.map(|j| state_name(j.state))
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A job state as the proto names it (the number, if this build does not know it).
fn state_name(state: i32) -> String {
    pb::JobState::try_from(state)
        .map(|s| s.as_str_name().to_owned())
        .unwrap_or_else(|_| state.to_string())
}

/// Exports the data directory's log and audits it; matches its claims against what was sent
/// and accepted (by contributor id and range end, which name a claim: see `clients`).
pub(super) fn check_log(
    data_dir: &Path,
    records: &[ClientRecord<'_>],
    checks: &mut Checks,
) -> Result<()> {
    let export_path = data_dir.join("load-test-export.json");
    crate::log::export_db(&data_dir.join(crate::log::LOG_DB_FILE), &export_path)
        .context("exporting the log")?;
    let export = LogExport::from_json(&std::fs::read(&export_path)?)?;
    let key_text = std::fs::read_to_string(data_dir.join(crate::log::LOG_PUB_FILE))
        .context("reading the log's public key")?;
    let trusted = LogVerifier::parse(key_text.trim()).context("the log's public key")?;

    let mut logged: HashMap<(String, String), u64> = HashMap::new();
    let report = export.audit(&trusted, None, |_, entry, _| {
        if let LogEvent::Claim { statement, .. } = &entry.event {
            *logged
                .entry((
                    statement.contributor_id.clone(),
                    statement.range_end.clone(),
                ))
                .or_default() += 1;
        }
        Ok(())
    })?;
    checks.log_entries = report.entries_read;
    checks.log_checkpoints = report.checkpoints_verified;
    checks.audit = match &report.problem {
        None => "ok".into(),
        Some(p) => p.to_string(),
    };
    checks.claims_logged = logged.values().sum();
    checks.claims_duplicated = logged.values().filter(|&&n| n > 1).count() as u64;

    let mut sent = HashSet::new();
    for r in records {
        let id = fr_to_decimal(&r.who.id);
        for end in &r.sent_claims {
            sent.insert((id.clone(), end.to_string()));
        }
    }
    checks.claims_unknown = logged.keys().filter(|k| !sent.contains(*k)).count() as u64;
    // Every accepted job ended DONE (checked on the server), so each must be logged.
    checks.claims_missing = records
        .iter()
        .flat_map(|r| {
            let id = fr_to_decimal(&r.who.id);
            r.jobs
                .iter()
                .map(move |j| (id.clone(), j.range_end.to_string()))
        })
        .filter(|k| !logged.contains_key(k))
        .count() as u64;
    std::fs::remove_file(&export_path).ok();
    Ok(())
}
