//! `credence bench --replicas R --database URL`: claim jobs per minute on one PostgreSQL with
//! 1, 2, ... R replicas (`credence serve` children on loopback ports, sharing the database and
//! copies of the first replica's key files, as "Running several replicas" sets them up).
//!
//! Proving is CPU-bound, and on a small machine replicas share the same cores, so more replicas
//! could not prove faster here. What this measures is whether the shared queue, the leases and
//! the log let throughput grow with replicas: each replica waits `--latency-ms` in its proving
//! stage (`prover.added_latency_ms`, the drill setting) before a proof of the smallest shape, so
//! a replica finishes about `concurrency / latency` jobs per second, and R replicas should
//! finish R times as many. A queue that serialized them would show a flat line.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ark_bn254::Fr;
use ark_std::UniformRand as _;
use credence_circuits::commitment;
use credence_circuits::prover::os_rng;
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_to_decimal;
use serde::Serialize;

use super::load_test::server::{ServerProcess, ServerSpec};
use crate::config::{Config, DatabaseUrl};
use crate::store::postgres::ScratchSchema;

/// What `credence bench --replicas` measures.
#[derive(Clone, Debug)]
pub struct ReplicaOptions {
    /// The most replicas (runs with 1, 2, ... this many).
    pub replicas: usize,
    /// Claim jobs per run.
    pub jobs: usize,
    /// Each replica's proving stage, milliseconds.
    pub latency_ms: u64,
    /// Proofs each replica runs at once.
    pub concurrency: usize,
    /// The PostgreSQL database (a schema of its own per run).
    pub database: String,
    /// Where the replicas' data directories, keys and logs go.
    pub scratch: PathBuf,
}

/// One run.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicaRun {
    /// Replicas serving.
    pub replicas: usize,
    /// Jobs submitted (round-robin) and finished.
    pub jobs: usize,
    /// From the first submission to the last job done, seconds.
    pub seconds: f64,
    /// Jobs finished per minute.
    pub jobs_per_minute: f64,
    /// This run's jobs per minute over one replica's.
    pub over_one_replica: f64,
}

/// The report of `credence bench --replicas`.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicaReport {
    /// The claim circuit proven.
    pub circuit_id: String,
    /// Each replica's proving stage, milliseconds.
    pub latency_ms: u64,
    /// Proofs each replica runs at once.
    pub concurrency: usize,
    /// One run per replica count.
    pub runs: Vec<ReplicaRun>,
}

/// Runs the measurement.
pub async fn run(o: ReplicaOptions) -> Result<ReplicaReport> {
    if o.replicas == 0 || o.jobs == 0 || o.concurrency == 0 {
        bail!("--replicas, --jobs and --concurrency must be at least 1");
    }
    let depth = (usize::BITS - (o.jobs - 1).max(1).leading_zeros()).max(4);
    let shape = format!("1,{depth}");
    let scratch = o
        .scratch
        .join(format!("credence-bench-replicas-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("{}", scratch.display()))?;
    let mut runs: Vec<ReplicaRun> = Vec::new();
    let mut circuit_id = String::new();
    for replicas in 1..=o.replicas {
        let bar = super::progress::spinner(format!("{replicas} replica(s): starting"));
        // The postgres client blocks: off the async threads.
        let database = o.database.clone();
        let schema =
            tokio::task::spawn_blocking(move || ScratchSchema::create(&database, "credence_bench"))
                .await?
                .context("a schema for the run")?;
        let mut servers: Vec<(ServerProcess, String)> = Vec::new();
        for i in 0..replicas {
            let data = scratch.join(format!("run{replicas}-replica{i}"));
            if i > 0 {
                // The first replica's key files, as every replica of a deployment has them.
                std::fs::create_dir_all(&data)?;
                let first = scratch.join(format!("run{replicas}-replica0"));
                for file in [
                    crate::log::LOG_KEY_FILE,
                    crate::log::LOG_PUB_FILE,
                    crate::server::IDEMPOTENCY_KEY_FILE,
                ] {
                    std::fs::copy(first.join(file), data.join(file))
                        .with_context(|| format!("copying {file}"))?;
                }
            }
            let port = super::load_test::free_port()?;
            let url = format!("http://127.0.0.1:{port}");
            let mut config = Config {
                listen: format!("127.0.0.1:{port}").parse()?,
                data_dir: data.clone(),
                keys_dir: Some(scratch.join("keys")),
                database: Some(DatabaseUrl(schema.url().to_owned())),
                shapes: vec![shape.clone()],
                ..Config::default()
            };
            config.datanet.depth = depth;
            config.prover.concurrency = o.concurrency;
            config.prover.added_latency_ms = o.latency_ms;
            config.limits.queue = o.jobs.max(64);
            config.limits.tenant_jobs = o.jobs.max(64);
            config.log.origin = Some("credence.bench/replicas".into());
            let config_path = data.with_extension("toml");
            std::fs::create_dir_all(&data)?;
            super::files::write_private(&config_path, toml::to_string(&config)?.as_bytes())?;
            let spec = ServerSpec {
                config: config_path,
                log: data.with_extension("log"),
                url: url.clone(),
            };
            let (process, _) = spec.start().await?;
            servers.push((process, url));
        }
        let urls: Vec<String> = servers.iter().map(|(_, u)| u.clone()).collect();
        bar.set_message(format!("{replicas} replica(s): registering and publishing"));
        let claims = prepare(&urls[0], o.jobs).await?;

        bar.set_message(format!("{replicas} replica(s): {} claim jobs", o.jobs));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (i, claim) in claims.into_iter().enumerate() {
            let url = urls[i % urls.len()].clone();
            tasks.push(tokio::spawn(async move { prove(&url, claim).await }));
        }
        for t in tasks {
            circuit_id = t.await??;
        }
        let seconds = started.elapsed().as_secs_f64();
        bar.finish_and_clear();
        for (process, _) in servers {
            process.terminate(Duration::from_secs(60)).await?;
        }
        tokio::task::spawn_blocking(move || drop(schema)).await?;
        let jobs_per_minute = o.jobs as f64 / seconds * 60.0;
        let one = runs.first().map_or(jobs_per_minute, |r| r.jobs_per_minute);
        runs.push(ReplicaRun {
            replicas,
            jobs: o.jobs,
            seconds,
            jobs_per_minute,
            over_one_replica: jobs_per_minute / one,
        });
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(ReplicaReport {
        circuit_id,
        latency_ms: o.latency_ms,
        concurrency: o.concurrency,
        runs,
    })
}

/// Registers `jobs` contributions of one contributor on `url`, publishes a snapshot over them,
/// and returns one claim per contribution (each over its own leaf's range).
async fn prepare(url: &str, jobs: usize) -> Result<Vec<pb::SubmitClaimRequest>> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
        .connect()
        .await?;
    let mut datanet = pb::datanet_client::DatanetClient::new(channel);
    let secret = Fr::rand(&mut os_rng());
    let id = fr_to_decimal(&commitment::contributor_id(&secret));
    let openings: Vec<(Fr, Fr)> = (0..jobs)
        .map(|_| (Fr::rand(&mut os_rng()), Fr::rand(&mut os_rng())))
        .collect();
    let registered = datanet
        .register_batch(pb::RegisterBatchRequest {
            registrations: openings
                .iter()
                .map(|(digest, blinding)| pb::RegisterRequest {
                    contributor_id: id.clone(),
                    commitment: fr_to_decimal(&commitment::commitment(digest, blinding)),
                })
                .collect(),
        })
        .await
        .context("RegisterBatch")?
        .into_inner();
    let leaves: Vec<u64> = registered
        .registrations
        .iter()
        .map(|r| r.leaf_index)
        .collect();
    datanet
        .publish_snapshot(pb::PublishSnapshotRequest {
            epoch: 1,
            depth: 0,
            revenue: 1_000_000,
            weights: leaves
                .iter()
                .map(|&leaf_index| pb::LeafWeight {
                    leaf_index,
                    weight: 1 + leaf_index,
                })
                .collect(),
            leaf_count: 0,
        })
        .await
        .context("PublishSnapshot")?;
    Ok(openings
        .iter()
        .zip(&leaves)
        .map(|((digest, blinding), &leaf_index)| pb::SubmitClaimRequest {
            secret: fr_to_decimal(&secret),
            epoch: 1,
            contributions: vec![pb::ClaimContribution {
                data: Some(pb::claim_contribution::Data::Digest(fr_to_decimal(digest))),
                blinding: fr_to_decimal(blinding),
                leaf_index,
                leaf: None,
            }],
            range_start: Some(leaf_index),
            range_end: Some(leaf_index + 1),
            snapshot: None,
        })
        .collect())
}

/// Submits one claim on `url` and follows its job to the end; returns its circuit id.
async fn prove(url: &str, claim: pb::SubmitClaimRequest) -> Result<String> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
        .connect()
        .await?;
    let mut prover = pb::prover_client::ProverClient::new(channel);
    let job = prover
        .submit_claim(claim)
        .await
        .context("SubmitClaim")?
        .into_inner();
    let mut stream = prover
        .watch_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .context("WatchJob")?
        .into_inner();
    let mut last = job;
    while let Some(ev) = stream.message().await.context("WatchJob")? {
        last = ev;
    }
    if last.state != pb::JobState::Done as i32 {
        bail!(
            "job {} ended in state {}: {}",
            last.job_id,
            last.state,
            last.failure
        );
    }
    Ok(last.circuit_id)
}

/// The report as a table.
pub fn table(r: &ReplicaReport) -> String {
    let mut out = format!(
        "claim jobs ({}) on replicas sharing one PostgreSQL, loopback; each replica proves {} \
         at once and its proving stage lasts {} ms\n\n{:>9} {:>6} {:>10} {:>13} {:>13}\n",
        r.circuit_id,
        r.concurrency,
        r.latency_ms,
        "replicas",
        "jobs",
        "seconds",
        "jobs/minute",
        "× 1 replica"
    );
    for run in &r.runs {
        out += &format!(
            "{:>9} {:>6} {:>10.2} {:>13.0} {:>13.2}\n",
            run.replicas, run.jobs, run.seconds, run.jobs_per_minute, run.over_one_replica
        );
    }
    out
}
