//! `credence load-test`: the server under load and faults, measured.
//!
//! A `credence serve` child process on a loopback port (its own data directory under the
//! scratch directory, tokens for an operator, a verifier, an auditor and one contributor tenant
//! per client) is driven for a fixed time by concurrent clients mixing Register, SubmitClaim
//! (a small shape), WatchJob, GetBundle, VerifyBundle/VerifyBatch and the audit reads. The
//! report gives requests per second and p50/p99 latency per RPC, errors by code and the
//! server's peak RSS.
//!
//! The `kill` run does the same and kills the server with SIGKILL at a random moment in the
//! middle half of the run, restarts it on the same data directory and lets the clients carry
//! on. Both runs then hold the server to its promises ([`checks`]): no accepted registration
//! or job lost, no job proven twice to completion, the exported log audits clean, SIGTERM
//! drains. The command exits 1 when a check fails.
//!
//! Loopback only and bounded: the clients, the run time and the server's own limits (its
//! default `[limits]`) bound everything; nothing is sent off the machine.

mod checks;
mod clients;
pub(crate) mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ark_std::rand::RngCore;
use clap::{Args, ValueEnum};
use credence_circuits::{Shape, prover::os_rng};
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_to_decimal;
use serde::Serialize;

pub use checks::Checks;
use checks::ClientRecord;
use clients::{Client, Identity, Shared, Stats};
use server::ServerSpec;

use crate::config::{Config, RoleName, TokenConfig, fresh_token, parse_shape};

/// `credence load-test`.
#[derive(Debug, Args)]
pub struct LoadTestArgs {
    /// Seconds each run drives the server.
    #[arg(long, default_value_t = 60.0)]
    pub seconds: f64,
    /// Concurrent clients (each its own tenant, contributor and connection).
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// The claim circuit `N,D` (keys are made on the first run; D is also the datanet depth).
    #[arg(long, default_value = "2,20", value_parser = parse_shape)]
    pub shape: Shape,
    /// Which runs: `clean`, `kill` (SIGKILL and restart mid-run) or `both`.
    #[arg(long, value_enum, default_value_t = Runs::Both)]
    pub runs: Runs,
    /// Where the servers' data, keys and logs go (default: a new directory under the system's
    /// temporary directory, removed afterwards).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Which runs `credence load-test` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Runs {
    /// Without faults.
    Clean,
    /// With a SIGKILL of the server and a restart in the middle.
    Kill,
    /// `clean`, then `kill`.
    Both,
}

/// One RPC's figures.
#[derive(Clone, Debug, Serialize)]
pub struct RpcFigures {
    /// Answered calls.
    pub ok: u64,
    /// Answered calls per second.
    pub per_s: f64,
    /// Median latency of answered calls, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
}

/// One run's report (JSON names are a contract: the README documents them).
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// `clean` or `kill`.
    pub run: &'static str,
    /// Seconds the clients called.
    pub seconds: f64,
    /// Concurrent clients.
    pub clients: usize,
    /// The claim circuit.
    pub circuit_id: String,
    /// Answered calls per second, all RPCs.
    pub per_s: f64,
    /// Per RPC.
    pub rpcs: BTreeMap<String, RpcFigures>,
    /// Errors by `RPC CODE` (`invalid_verdict`: a genuine bundle judged invalid).
    pub errors: BTreeMap<String, u64>,
    /// The first message of each `RPC CODE`.
    pub error_examples: BTreeMap<String, String>,
    /// The server's peak RSS (the larger of its two processes in a kill run), MiB.
    pub server_peak_rss_mib: f64,
    /// Seconds into the run the server was killed (kill run).
    pub killed_at_s: Option<f64>,
    /// Seconds from the kill until the restarted server served again.
    pub restart_s: Option<f64>,
    /// What the server was held to after the run.
    pub checks: Checks,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    /// Logical CPUs available.
    pub cores: usize,
    /// The runs, in order.
    pub runs: Vec<RunReport>,
}

pub(crate) async fn command(a: LoadTestArgs) -> Result<i32> {
    if a.clients == 0 || a.seconds.is_nan() || a.seconds <= 0.0 {
        bail!("--clients and --seconds must be positive");
    }
    let (scratch, remove) = match &a.scratch {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("credence-load-test-{}", std::process::id())),
            true,
        ),
    };
    crate::store::private_dir(&scratch)
        .with_context(|| format!("creating {}", scratch.display()))?;
    let kinds: &[bool] = match a.runs {
        Runs::Clean => &[false],
        Runs::Kill => &[true],
        Runs::Both => &[false, true],
    };
    let mut runs = Vec::new();
    let mut result = Ok(());
    for &kill in kinds {
        match run(&a, &scratch, kill).await {
            Ok(r) => runs.push(r),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if remove && result.is_ok() {
        std::fs::remove_dir_all(&scratch).ok();
    } else if result.is_err() {
        eprintln!(
            "credence: the servers' data and logs are kept in {}",
            scratch.display()
        );
    }
    result?;
    let report = LoadReport {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs,
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(if report.runs.iter().all(|r| r.checks.passed()) {
        0
    } else {
        1
    })
}

/// A free loopback port (bound, then released for the server).
pub(crate) fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// One run on a fresh data directory.
async fn run(a: &LoadTestArgs, scratch: &Path, kill: bool) -> Result<RunReport> {
    let name = if kill { "kill" } else { "clean" };
    let data_dir = scratch.join(name);
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)?;
    }
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");

    // Tokens: an operator, a verifier, an auditor, a contributor tenant per client.
    let identities: Vec<Arc<Identity>> = (0..a.clients)
        .map(|_| Arc::new(Identity::fresh(fresh_token())))
        .collect();
    let (operator, verifier, auditor) = (fresh_token(), fresh_token(), fresh_token());
    let token = |token: &str, tenant: String, role, id: Option<String>| TokenConfig {
        token: token.to_owned(),
        tenant,
        role,
        contributor_id: id,
    };
    let mut tokens = vec![
        token(&operator, "operator".into(), RoleName::Operator, None),
        token(&verifier, "verifier".into(), RoleName::Verifier, None),
        token(&auditor, "auditor".into(), RoleName::Auditor, None),
    ];
    for (i, who) in identities.iter().enumerate() {
        tokens.push(token(
            &who.token,
            format!("load-{i}"),
            RoleName::Contributor,
            Some(fr_to_decimal(&who.id)),
        ));
    }
    let mut config = Config {
        listen: format!("127.0.0.1:{port}").parse()?,
        data_dir: data_dir.clone(),
        keys_dir: Some(scratch.join("keys")),
        shapes: vec![format!("{},{}", a.shape.n, a.shape.depth)],
        tokens,
        ..Config::default()
    };
    config.datanet.depth = a.shape.depth;
    config.log.origin = Some("credence.load-test/log".into());
    let config_path = scratch.join(format!("{name}.toml"));
    // The configuration holds tokens: owner-only, as the server requires.
    super::files::write_private(&config_path, toml::to_string(&config)?.as_bytes())?;
    let spec = ServerSpec {
        config: config_path,
        log: scratch.join(format!("{name}.log")),
        url: url.clone(),
    };

    let bar = super::progress::spinner(format!("{name} run: starting the server"));
    let (mut process, _) = spec.start().await?;

    // Before the clock: each client registers the contributions it will claim (two, or one
    // at N = 1), and the operator publishes epoch 1 over them.
    bar.set_message(format!("{name} run: registering and publishing epoch 1"));
    let mut claimables = Vec::new();
    for who in &identities {
        claimables.push(clients::register_claimables(&url, who, a.shape.n.min(2)).await?);
    }
    let weights: Vec<pb::LeafWeight> = claimables
        .iter()
        .flatten()
        .map(|c| pb::LeafWeight {
            leaf_index: c.leaf_index(),
            weight: 1 + os_rng().next_u64() % 1000,
        })
        .collect();
    let first_range_end = weights.iter().map(|w| w.leaf_index).max().unwrap_or(0) + 1;
    let mut datanet = pb::datanet_client::DatanetClient::new(clients::as_token(
        &clients::channel(&url)?,
        &operator,
    )?);
    datanet
        .publish_snapshot(clients::request(pb::PublishSnapshotRequest {
            leaf_count: 0,
            epoch: 1,
            depth: a.shape.depth,
            revenue: 1_000_000_000,
            weights,
        }))
        .await
        .map_err(super::client::status)
        .context("publishing epoch 1")?;

    // The load.
    let shared = Arc::new(Shared::default());
    let seconds = Duration::from_secs_f64(a.seconds);
    let started = Instant::now();
    let until = started + seconds;
    let (outcomes, killed_at_s, restart_s, server_peak_rss_mib) = {
        let mut calls = Vec::new();
        for (who, claimable) in identities.iter().zip(claimables) {
            let client = Client::new(
                &url,
                who.clone(),
                claimable,
                first_range_end,
                &verifier,
                &auditor,
                shared.clone(),
            )?;
            // Spawned, so that the clients' work spreads over the runtime's threads.
            calls.push(tokio::spawn(client.run(until)));
        }
        let mut all = std::pin::pin!(async move {
            let mut outcomes = Vec::new();
            for call in calls {
                outcomes.push(call.await);
            }
            outcomes
        });
        let (mut killed_at, mut restart, mut peak) = (None, None, 0.0f64);
        if kill {
            // A random moment in the middle half of the run.
            let at = seconds.mul_f64(0.25 + 0.5 * (os_rng().next_u64() % 1000) as f64 / 1000.0);
            bar.set_message(format!(
                "{name} run: load, SIGKILL at {:.1} s",
                at.as_secs_f64()
            ));
            tokio::select! {
                _ = tokio::time::sleep_until((started + at).into()) => {}
                _ = &mut all => bail!("the clients stopped before the kill"),
            }
            peak = peak.max(process.peak_rss_mib().unwrap_or(f64::NAN));
            process.kill()?;
            killed_at = Some(started.elapsed().as_secs_f64());
            bar.set_message(format!("{name} run: load, restarting after SIGKILL"));
            // The clients keep calling (and meet UNAVAILABLE) while the server restarts.
            let (restarted, took) = tokio::select! {
                r = spec.start() => r?,
                _ = &mut all => bail!("the clients stopped while the server restarted"),
            };
            process = restarted;
            restart = Some(took.as_secs_f64());
        }
        bar.set_message(format!("{name} run: load"));
        let outcomes = all.await;
        peak = peak.max(process.peak_rss_mib().unwrap_or(f64::NAN));
        (outcomes, killed_at, restart, peak)
    };
    let elapsed = started.elapsed().as_secs_f64().max(a.seconds);

    let mut stats = Stats::default();
    let mut records = Vec::new();
    let mut resubmitted_in_run = 0;
    for (who, o) in identities.iter().zip(outcomes) {
        let o = o.context("a load client panicked")?;
        stats.merge(o.stats);
        resubmitted_in_run += o.resubmitted;
        records.push(ClientRecord {
            who: who.as_ref(),
            claimable: o.claimable,
            registrations: o.registrations,
            jobs: o.jobs,
            sent_claims: o.sent_claims,
        });
    }

    bar.set_message(format!(
        "{name} run: checking (jobs still queued finish first)"
    ));
    let mut checks = Checks {
        jobs_resubmitted: resubmitted_in_run,
        ..Checks::default()
    };
    checks::check_server(&url, &records, &mut checks).await?;
    checks::check_log(&data_dir, &records, &mut checks)?;
    bar.set_message(format!("{name} run: SIGTERM"));
    let (status, took) = process.terminate(Duration::from_secs(120)).await?;
    checks.exit = status.to_string();
    checks.sigterm_exit_s = took.as_secs_f64();
    bar.finish_and_clear();

    let total_ok: usize = stats.ok.values().map(Vec::len).sum();
    let rpcs = stats
        .ok
        .into_iter()
        .map(|(rpc, mut us)| {
            us.sort_unstable();
            let pct = |p: usize| us[(us.len() - 1) * p / 100] as f64 / 1000.0;
            let figures = RpcFigures {
                ok: us.len() as u64,
                per_s: us.len() as f64 / elapsed,
                p50_ms: pct(50),
                p99_ms: pct(99),
            };
            (rpc.to_owned(), figures)
        })
        .collect();
    Ok(RunReport {
        run: name,
        seconds: elapsed,
        clients: a.clients,
        circuit_id: a.shape.circuit_id(),
        per_s: total_ok as f64 / elapsed,
        rpcs,
        errors: stats
            .errors
            .into_iter()
            .map(|((rpc, code), n)| (format!("{rpc} {code}"), n))
            .collect(),
        error_examples: stats
            .examples
            .into_iter()
            .map(|((rpc, code), m)| (format!("{rpc} {code}"), m))
            .collect(),
        server_peak_rss_mib,
        killed_at_s,
        restart_s,
        checks,
    })
}

/// The report as text.
pub fn table(r: &LoadReport) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("credence load-test ({} cores)", r.cores));
    for run in &r.runs {
        line(String::new());
        line(format!(
            "{} run: {} clients for {:.1} s on {}, {:.0} answered calls/s, server peak RSS {:.0} MiB",
            run.run, run.clients, run.seconds, run.circuit_id, run.per_s, run.server_peak_rss_mib
        ));
        if let (Some(at), Some(restart)) = (run.killed_at_s, run.restart_s) {
            line(format!(
                "SIGKILL at {at:.1} s; serving again {restart:.2} s later"
            ));
        }
        line("rpc | ok | per s | p50 ms | p99 ms".into());
        line("--- | --- | --- | --- | ---".into());
        for (rpc, f) in &run.rpcs {
            line(format!(
                "{rpc} | {} | {:.1} | {:.2} | {:.2}",
                f.ok, f.per_s, f.p50_ms, f.p99_ms
            ));
        }
        if run.errors.is_empty() {
            line("errors: none".into());
        } else {
            line("errors (count, first message):".into());
            for (k, n) in &run.errors {
                let example = run.error_examples.get(k).map_or("", String::as_str);
                line(format!("  {k} {n}: {example}"));
            }
        }
        let c = &run.checks;
        line(format!(
            "registrations: {} accepted, {} kept, {} lost, {} leaf collisions",
            c.registrations_accepted, c.registrations_kept, c.registrations_lost, c.leaf_collisions
        ));
        line(format!(
            "jobs: {} accepted, {} done ({} submitted again after the kill); claims logged {}, \
             duplicated {}, missing {}, unknown {}",
            c.jobs_accepted,
            c.jobs_done,
            c.jobs_resubmitted,
            c.claims_logged,
            c.claims_duplicated,
            c.claims_missing,
            c.claims_unknown
        ));
        for j in &c.jobs_not_done {
            line(format!("  not done: {j}"));
        }
        line(format!(
            "log: {} entries, {} checkpoints verified, audit {}; SIGTERM: {} after {:.2} s",
            c.log_entries, c.log_checkpoints, c.audit, c.exit, c.sigterm_exit_s
        ));
        line(format!(
            "checks: {}",
            if c.passed() { "passed" } else { "FAILED" }
        ));
    }
    out
}
