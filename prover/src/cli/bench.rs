//! `credence bench`: how fast a claim is proven and checked, and how close proving is to the
//! hardware floor. Figures are measured in this process, on this machine, in one run.
//!
//! Per shape: constraints, public inputs, witness variables, constraints per slot (marginal:
//! the cost of one more slot); key setup time and proving-key size; prove time (median of
//! `--runs` after a warm-up) split into witness generation (native check plus a synthesis that
//! builds no matrices) and the Groth16 prover on cached matrices; the floor, the time of that
//! proof's MSMs and FFTs alone on its own scalars; prove time over floor; peak RSS while
//! proving. Then single verification, per-claim batch verification of 16 and 64 claims, and
//! claims verified per second through the `Verifier` gRPC service with concurrent clients.
//!
//! All randomness (keys, claims, proofs, batch coefficients) comes from the OS.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ark_serialize::CanonicalSerialize;
use clap::Args;
use credence_circuits::{
    ClaimProver, Shape,
    bench::{measure_floor, synthetic_claim},
    prover::{CircuitMatrices, Msm, Qap, full_assignment, os_rng},
};
use credence_proto::v1 as pb;
use credence_verifier::{ClaimBundle, ClaimStatement, Proof, TrustedKey, verify, verify_batch};
use serde::Serialize;

use crate::config::{Config, parse_shape};

/// `credence bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A circuit shape `N,D` to prove; repeat for several (default: 1,20 16,20 64,20).
    #[arg(long = "shape", value_parser = parse_shape)]
    pub shapes: Vec<credence_circuits::Shape>,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Timed proofs per shape, after one warm-up (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Concurrent clients of the gRPC verification measurement (default 8), or of the
    /// registrations with `--datanet` (default 16).
    #[arg(long)]
    pub clients: Option<usize>,
    /// Measure the datanet instead of proving: register this many contributions over gRPC
    /// (reported by blocks of 8192, to show whether a registration costs more as the datanet
    /// grows), then publish one snapshot over all of them.
    #[arg(long, value_name = "CONTRIBUTIONS")]
    pub datanet: Option<u64>,
    /// With `--datanet`: registrations per call (1: Register; up to 4096: RegisterBatch).
    #[arg(long, default_value_t = 256, requires = "datanet")]
    pub batch: usize,
    /// Measure claim jobs per minute on 1, 2, ... up to this many replicas sharing the
    /// PostgreSQL `--database` (replicas that wait `--latency-ms` instead of proving long, so
    /// the queue is measured, not the CPU).
    #[arg(long, value_name = "R")]
    pub replicas: Option<usize>,
    /// With `--replicas`: claim jobs per run.
    #[arg(long, default_value_t = 24, requires = "replicas")]
    pub jobs: usize,
    /// With `--replicas`: how long each replica's proving stage lasts.
    #[arg(long, default_value_t = 1000, requires = "replicas")]
    pub latency_ms: u64,
    /// With `--replicas`: proofs each replica runs at once.
    #[arg(long, default_value_t = 2, requires = "replicas")]
    pub concurrency: usize,
    /// Measure the gas of on-chain settlement instead of proving: per shape, `verifyProof` of
    /// its generated verifier contract and a whole `claim` of the settlement contract, in an
    /// in-process EVM (needs the pinned solc: `npm ci` in verifier/contracts).
    #[arg(long, conflicts_with_all = ["datanet", "replicas"])]
    pub gas: bool,
    /// With `--gas`: read each shape's keys (`<circuit_id>.pk`) from here instead of making
    /// single-party ones (the gas is the same for every key of a shape).
    #[arg(long, value_name = "DIR", requires = "gas")]
    pub keys_dir: Option<PathBuf>,
    /// With `--gas`: a snarkjs executable, to measure its generated verifier beside ours on one
    /// key and one proof; with `--peers`, the snarkjs that proves beside us (default `snarkjs`
    /// on the PATH). Also read from `SNARKJS`.
    #[arg(long, value_name = "PATH")]
    pub snarkjs: Option<PathBuf>,
    /// Prove beside the peers on exactly our R1CS instead: per shape (default N = 1, 4, 16 at
    /// D = 20), ours, ark-groth16's plain prove (synthesizing every time) and `snarkjs groth16
    /// prove` on a `.zkey` of the same circuit and a synthetic claim's `.wtns`; prints each
    /// median prove time and the ratios to ours.
    #[arg(long, conflicts_with_all = ["datanet", "replicas", "gas"])]
    pub peers: bool,
    /// With `--peers`: keep each shape's `.r1cs`, `.zkey` and synthetic `.wtns` in this
    /// directory (to rerun snarkjs by hand); by default they go to a temporary one.
    #[arg(long, value_name = "DIR", requires = "peers")]
    pub keep: Option<PathBuf>,
    /// The PostgreSQL database of `--datanet` (instead of SQLite) and `--replicas`: a schema
    /// of its own is made in it for each run and dropped afterwards. Also read from
    /// `CREDENCE_DATABASE`.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Seconds the gRPC verification measurement runs.
    #[arg(long, default_value_t = 5.0)]
    pub grpc_seconds: f64,
    /// The QAP reduction of the keys proofs are measured under: `libsnark` (single-party keys
    /// from `credence setup`) or `circom` (the form of a ceremony's keys, snarkjs' reduction).
    #[arg(long, default_value = "libsnark", value_parser = parse_qap)]
    pub qap: Qap,
}

fn parse_qap(s: &str) -> Result<Qap, String> {
    Qap::from_name(s).ok_or_else(|| format!("`{s}`: expected `libsnark` or `circom`"))
}

pub(crate) async fn command(a: BenchArgs) -> Result<()> {
    let database = super::serve::database_url(a.database.clone());
    if let Some(replicas) = a.replicas {
        let report = super::replica_bench::run(super::replica_bench::ReplicaOptions {
            replicas,
            jobs: a.jobs,
            latency_ms: a.latency_ms,
            concurrency: a.concurrency,
            database: database.context("--replicas needs --database (or CREDENCE_DATABASE)")?,
            scratch: std::env::temp_dir(),
        })
        .await?;
        return print_report(a.json, &report, super::replica_bench::table);
    }
    if let Some(contributions) = a.datanet {
        let report = super::datanet_bench::run(super::datanet_bench::DatanetOptions {
            contributions,
            clients: a.clients.unwrap_or(16),
            batch: a.batch,
            scratch: std::env::temp_dir(),
            database,
        })
        .await?;
        return print_report(a.json, &report, super::datanet_bench::table);
    }
    if a.snarkjs.is_some() && !(a.gas || a.peers) {
        bail!("--snarkjs goes with --gas or --peers");
    }
    let clients = a.clients.unwrap_or(8);
    let default_sizes: &[usize] = if a.peers { &[1, 4, 16] } else { &[1, 16, 64] };
    let shapes = if a.shapes.is_empty() {
        default_sizes
            .iter()
            .copied()
            .map(|n| credence_circuits::Shape::new(n, credence_circuits::claim::DEFAULT_DEPTH))
            .collect::<Result<_, _>>()?
    } else {
        a.shapes
    };
    let snarkjs = a
        .snarkjs
        .clone()
        .or_else(|| std::env::var_os("SNARKJS").map(PathBuf::from));
    if a.peers {
        let options = super::peers_bench::PeersOptions {
            shapes,
            runs: a.runs,
            snarkjs: snarkjs.unwrap_or_else(|| PathBuf::from("snarkjs")),
            keep: a.keep,
        };
        let report =
            tokio::task::spawn_blocking(move || super::peers_bench::run(options)).await??;
        return print_report(a.json, &report, super::peers_bench::table);
    }
    if a.gas {
        let options = super::gas_bench::GasOptions {
            shapes,
            keys_dir: a.keys_dir,
            snarkjs,
        };
        let report = tokio::task::spawn_blocking(move || super::gas_bench::run(options)).await??;
        return print_report(a.json, &report, super::gas_bench::table);
    }
    if a.runs == 0 || clients == 0 {
        bail!("--runs and --clients must be at least 1");
    }
    let report = run(BenchOptions {
        shapes,
        runs: a.runs,
        clients,
        grpc_seconds: a.grpc_seconds,
        scratch: std::env::temp_dir(),
        qap: a.qap,
    })
    .await?;
    print_report(a.json, &report, table)
}

/// Prints a report as one JSON line (`--json`) or as its table.
fn print_report<R: Serialize>(json: bool, report: &R, table: impl Fn(&R) -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        print!("{}", table(report));
    }
    Ok(())
}

/// Options of `credence bench`.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Shapes to prove (default: N in {1, 16, 64} at D = 20).
    pub shapes: Vec<Shape>,
    /// Timed proofs per shape, after one warm-up.
    pub runs: usize,
    /// Concurrent gRPC clients.
    pub clients: usize,
    /// How long the gRPC measurement runs.
    pub grpc_seconds: f64,
    /// Where the gRPC benchmark's temporary server keeps its data.
    pub scratch: PathBuf,
    /// The reduction of the keys proofs are measured under.
    pub qap: Qap,
}

/// One shape's figures (JSON names are a contract: the README documents them).
#[derive(Clone, Debug, Serialize)]
pub struct ShapeReport {
    /// Slots.
    pub n: usize,
    /// Depth.
    pub d: u32,
    /// `claim-v1-n{n}-d{d}`.
    pub circuit_id: String,
    /// The keys' QAP reduction: `libsnark` or `circom` (ceremony keys).
    pub qap: &'static str,
    /// R1CS constraints.
    pub constraints: usize,
    /// Public inputs (without the constant one).
    pub public_inputs: usize,
    /// Witness variables.
    pub witness_variables: usize,
    /// Constraints one more slot costs.
    pub constraints_per_slot: usize,
    /// Groth16 key generation, seconds.
    pub setup_s: f64,
    /// Proving key as `credence setup` stores it (uncompressed), MiB.
    pub proving_key_mb: f64,
    /// Median prove time (witness + Groth16), seconds.
    pub prove_s: f64,
    /// Median witness time, seconds.
    pub witness_s: f64,
    /// Median Groth16 prover time on cached matrices, seconds.
    pub groth16_s: f64,
    /// Median floor (MSMs + FFTs on the proof's own scalars), seconds.
    pub floor_s: f64,
    /// Median FFT part of the floor.
    pub floor_fft_s: f64,
    /// Median G1 MSM part of the floor.
    pub floor_msm_g1_s: f64,
    /// Median G2 MSM part of the floor.
    pub floor_msm_g2_s: f64,
    /// Median over runs of prove time / floor of the same run.
    pub prove_over_floor: f64,
    /// Peak resident memory of the process while proving this shape, MiB.
    pub peak_rss_mb: f64,
    /// Median prove time with arkworks' MSM instead of ours (same witness, key, prover).
    pub prove_arkworks_s: f64,
    /// Median over runs of prove time / prove time with arkworks' MSM.
    pub prove_vs_arkworks: f64,
    /// The floor with arkworks' MSM, on the same scalars and bases.
    pub floor_arkworks_s: f64,
    /// Its G1 MSM part.
    pub floor_arkworks_msm_g1_s: f64,
    /// Its G2 MSM part.
    pub floor_arkworks_msm_g2_s: f64,
    /// arkworks' G1 MSMs over ours on the proof's own scalars (median of per-run ratios).
    pub msm_g1_speedup: f64,
    /// arkworks' G2 MSM over ours on the proof's own scalars (median of per-run ratios).
    pub msm_g2_speedup: f64,
    /// Peak resident memory while proving with arkworks' MSM, MiB.
    pub peak_rss_arkworks_mb: f64,
    /// Timed runs.
    pub runs: usize,
}

/// The whole report (JSON names are a contract: the README documents them).
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Logical CPUs available.
    pub cores: usize,
    /// The base-field multiplication our MSM ran on: `bmi2-adx` (its own
    /// assembly, chosen at run time) or `ark-ff` (arkworks', the fallback).
    /// arkworks' MSM always runs on ark-ff's.
    pub msm_field: String,
    /// The vector routine our MSM's G1 additions ran on: `avx512-ifma`
    /// (eight at once, chosen at run time) or `none`.
    pub msm_lanes: String,
    /// Per-shape figures.
    pub shapes: Vec<ShapeReport>,
    /// One verification, milliseconds (median).
    pub verify_single_ms: f64,
    /// Batch of 16, per claim, milliseconds (median).
    pub batch16_per_claim_ms: f64,
    /// Batch of 64, per claim, milliseconds (median).
    pub batch64_per_claim_ms: f64,
    /// Single over batch-of-16 per-claim time.
    pub batch16_speedup: f64,
    /// Single over batch-of-64 per-claim time.
    pub batch64_speedup: f64,
    /// Claims verified per second through the `Verifier` service.
    pub grpc_verify_per_s: f64,
    /// Concurrent clients of that measurement.
    pub grpc_clients: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Peak RSS since the last [`reset_peak_rss`], in MiB (Linux; NaN elsewhere).
fn peak_rss_mb() -> f64 {
    peak_rss_mib_of("self").unwrap_or(f64::NAN)
}

/// The peak resident memory (`VmHWM`) of process `pid` (`self`, or a number), MiB; `None`
/// where `/proc` does not say (not Linux, or the process is gone).
pub(crate) fn peak_rss_mib_of(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()?;
    Some(kb / 1024.0)
}

/// Resets the kernel's peak-RSS mark (writing 5 to `clear_refs`, Linux 4.0+).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Measures one shape.
pub fn bench_shape(shape: Shape, runs: usize, qap: Qap) -> Result<ShapeReport> {
    let id = shape.circuit_id();
    let bar = super::progress::spinner(format!("{id}: synthesizing"));
    let matrices = CircuitMatrices::synthesize(shape)?;
    // The marginal cost of a slot: the difference to the shape with one slot more or less.
    let neighbour = Shape::new(if shape.n > 1 { shape.n - 1 } else { 2 }, shape.depth)?;
    let per_slot = CircuitMatrices::synthesize(neighbour)?
        .num_constraints
        .abs_diff(matrices.num_constraints);

    bar.set_message(format!("{id}: key setup"));
    let mut rng = os_rng();
    let start = Instant::now();
    let prover = ClaimProver::setup_for(shape, qap, &mut rng)?;
    let setup_s = start.elapsed().as_secs_f64();
    // What `credence setup` writes to disk (uncompressed: see `keys`).
    let pk_bytes = prover.proving_key().uncompressed_size();

    let input = synthetic_claim(shape, &mut rng);
    let (mut witness, mut groth16, mut total) = (vec![], vec![], vec![]);
    let (mut floor, mut fft, mut g1, mut g2, mut ratio) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut ark_total, mut ark_floor, mut ark_g1, mut ark_g2) = (vec![], vec![], vec![], vec![]);
    let (mut vs_ark, mut g1_speedup, mut g2_speedup) = (vec![], vec![], vec![]);
    let (mut peak, mut ark_peak) = (0f64, 0f64);
    for run in 0..=runs {
        bar.set_message(format!("{id}: proof {run} of {runs} (0 is the warm-up)"));
        let start = Instant::now();
        let assignment = prover.prepare(&input)?.into_assignment();
        let z = full_assignment(shape, assignment)?;
        let w = start.elapsed();
        // Both MSM engines on the same witness, in alternating order (neither always runs on
        // a warmer cache), each with its own peak-RSS mark.
        let mut prove_with = |msm: Msm| -> Result<(Duration, f64)> {
            reset_peak_rss();
            let start = Instant::now();
            let _proof = prover.prove_full_assignment_with(&z, msm, &mut rng)?;
            Ok((start.elapsed(), peak_rss_mb()))
        };
        let ((g, p_ours), (g_ark, p_ark)) = if run % 2 == 0 {
            let ours = prove_with(Msm::Credence)?;
            (ours, prove_with(Msm::Arkworks)?)
        } else {
            let ark = prove_with(Msm::Arkworks)?;
            (prove_with(Msm::Credence)?, ark)
        };
        bar.set_message(format!("{id}: floor {run} of {runs}"));
        let f = measure_floor(&prover, &z, Msm::Credence);
        let fa = measure_floor(&prover, &z, Msm::Arkworks);
        if run == 0 {
            continue;
        }
        peak = peak.max(p_ours);
        ark_peak = ark_peak.max(p_ark);
        let p = (w + g).as_secs_f64();
        let pa = (w + g_ark).as_secs_f64();
        witness.push(w.as_secs_f64());
        groth16.push(g.as_secs_f64());
        total.push(p);
        floor.push(f.total().as_secs_f64());
        fft.push(f.fft.as_secs_f64());
        g1.push(f.msm_g1.as_secs_f64());
        g2.push(f.msm_g2.as_secs_f64());
        ratio.push(p / f.total().as_secs_f64());
        ark_total.push(pa);
        ark_floor.push(fa.total().as_secs_f64());
        ark_g1.push(fa.msm_g1.as_secs_f64());
        ark_g2.push(fa.msm_g2.as_secs_f64());
        vs_ark.push(p / pa);
        g1_speedup.push(fa.msm_g1.as_secs_f64() / f.msm_g1.as_secs_f64());
        g2_speedup.push(fa.msm_g2.as_secs_f64() / f.msm_g2.as_secs_f64());
    }
    bar.finish_and_clear();
    Ok(ShapeReport {
        n: shape.n,
        d: shape.depth,
        circuit_id: id,
        qap: qap.name(),
        constraints: matrices.num_constraints,
        public_inputs: matrices.num_instance_variables - 1,
        witness_variables: matrices.num_witness_variables,
        constraints_per_slot: per_slot,
        setup_s,
        proving_key_mb: pk_bytes as f64 / (1024.0 * 1024.0),
        prove_s: median(total),
        witness_s: median(witness),
        groth16_s: median(groth16),
        floor_s: median(floor),
        floor_fft_s: median(fft),
        floor_msm_g1_s: median(g1),
        floor_msm_g2_s: median(g2),
        prove_over_floor: median(ratio),
        peak_rss_mb: peak,
        prove_arkworks_s: median(ark_total),
        prove_vs_arkworks: median(vs_ark),
        floor_arkworks_s: median(ark_floor),
        floor_arkworks_msm_g1_s: median(ark_g1),
        floor_arkworks_msm_g2_s: median(ark_g2),
        msm_g1_speedup: median(g1_speedup),
        msm_g2_speedup: median(g2_speedup),
        peak_rss_arkworks_mb: ark_peak,
        runs,
    })
}

/// Distinct valid claims of the smallest shape (verification cost does not depend on the
/// circuit's size: every claim has the same nine public inputs).
fn claims(prover: &ClaimProver, count: usize) -> Result<Vec<(ClaimStatement, Proof)>> {
    let mut rng = os_rng();
    (0..count)
        .map(|_| {
            let input = synthetic_claim(prover.shape(), &mut rng);
            let (s, p) = prover.prove(&input, &mut rng)?;
            Ok((s, Proof::from(p)))
        })
        .collect()
}

/// Verification figures: (single ms, batch16 per-claim ms, batch64 per-claim ms).
fn bench_verify(key: &TrustedKey, claims: &[(ClaimStatement, Proof)]) -> Result<(f64, f64, f64)> {
    let mut rng = os_rng();
    let refs: Vec<_> = claims.iter().map(|(s, p)| (s, p)).collect();
    let (mut single, mut b16, mut b64) = (vec![], vec![], vec![]);
    // Interleaved rounds, so that load changes hit all three alike.
    for _ in 0..15 {
        let start = Instant::now();
        for (s, p) in &refs {
            verify(key, s, p).map_err(|e| anyhow::anyhow!("a valid claim failed: {e}"))?;
        }
        single.push(start.elapsed().as_secs_f64() * 1e3 / refs.len() as f64);
        let start = Instant::now();
        for chunk in refs.chunks(16) {
            verify_batch(key, chunk, &mut rng)
                .map_err(|e| anyhow::anyhow!("a valid batch failed: {e}"))?;
        }
        b16.push(start.elapsed().as_secs_f64() * 1e3 / refs.len() as f64);
        let start = Instant::now();
        verify_batch(key, &refs, &mut rng)
            .map_err(|e| anyhow::anyhow!("a valid batch failed: {e}"))?;
        b64.push(start.elapsed().as_secs_f64() * 1e3 / refs.len() as f64);
    }
    Ok((median(single), median(b16), median(b64)))
}

/// Claims per second verified through a real `Verifier` service on loopback by `clients`
/// concurrent clients, each with its own connection.
async fn bench_grpc(
    bundles: Vec<String>,
    config: Config,
    clients: usize,
    seconds: f64,
) -> Result<f64> {
    let app = tokio::task::spawn_blocking(move || {
        crate::server::App::open(config, crate::server::Hooks::default(), |_| {})
    })
    .await??;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stop_rx.await;
    }));
    let bundles = Arc::new(bundles);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    let start = Instant::now();
    for c in 0..clients {
        let (bundles, done) = (bundles.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let channel = tonic::transport::Endpoint::new(format!("http://{addr}"))?
                .connect()
                .await?;
            let mut client = pb::verifier_client::VerifierClient::new(channel);
            let mut i = c;
            while Instant::now() < deadline {
                let bundle_json = bundles[i % bundles.len()].clone();
                let verdict = client
                    .verify_bundle(pb::VerifyBundleRequest { bundle_json })
                    .await?
                    .into_inner();
                if !verdict.valid {
                    bail!("the server refused a valid bundle: {}", verdict.reason);
                }
                done.fetch_add(1, Ordering::Relaxed);
                i += clients;
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    server.await??;
    Ok(done.load(Ordering::Relaxed) as f64 / elapsed)
}

/// Runs every measurement and returns the report.
pub async fn run(options: BenchOptions) -> Result<BenchReport> {
    let mut shapes = Vec::new();
    for shape in &options.shapes {
        let (shape, runs, qap) = (*shape, options.runs, options.qap);
        shapes.push(tokio::task::spawn_blocking(move || bench_shape(shape, runs, qap)).await??);
    }

    // Verification: a server of the smallest shape, whose keys and proofs also feed the
    // in-process figures.
    let small = Shape::new(1, credence_circuits::merkle_sum::MIN_DEPTH)?;
    let data_dir = options
        .scratch
        .join(format!("credence-bench-{}", std::process::id()));
    let config = Config {
        data_dir: data_dir.clone(),
        shapes: vec![format!("{},{}", small.n, small.depth)],
        // Its snapshots must be claimable with its one shape (the config refuses otherwise).
        datanet: crate::config::DatanetConfig { depth: small.depth },
        ..Config::default()
    };
    let bar = super::progress::spinner("verification: keys and 64 claims".into());
    let app_config = config.clone();
    let (key, claims) = tokio::task::spawn_blocking(move || -> Result<_> {
        let app = crate::server::App::open(app_config, crate::server::Hooks::default(), |_| {})?;
        let keys = app.keys().get(&small).context("the bench shape's keys")?;
        let prover = keys.prover.clone().context("the bench shape's prover")?;
        Ok((keys.vk.clone(), claims(&prover, 64)?))
    })
    .await??;
    bar.set_message("verification: single and batch".to_string());
    let (single, b16, b64) = {
        let (key, claims) = (key.clone(), claims.clone());
        tokio::task::spawn_blocking(move || bench_verify(&key, &claims)).await??
    };
    bar.set_message(format!("verification: gRPC, {} clients", options.clients));
    let bundles = claims
        .iter()
        .map(|(s, p)| ClaimBundle::new(&key, s.clone(), p.clone()).to_json())
        .collect();
    let per_s = bench_grpc(bundles, config, options.clients, options.grpc_seconds).await;
    bar.finish_and_clear();
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(BenchReport {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        msm_field: Msm::Credence.field().to_owned(),
        msm_lanes: Msm::Credence.lanes().to_owned(),
        shapes,
        verify_single_ms: single,
        batch16_per_claim_ms: b16,
        batch64_per_claim_ms: b64,
        batch16_speedup: single / b16,
        batch64_speedup: single / b64,
        grpc_verify_per_s: per_s?,
        grpc_clients: options.clients,
    })
}

/// The report as a table a person reads.
pub fn table(r: &BenchReport) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "credence bench ({} cores; our MSM's field multiplication: {}, G1 lanes: {})",
        r.cores, r.msm_field, r.msm_lanes
    ));
    line(String::new());
    let header = [
        "circuit",
        "constraints",
        "per slot",
        "witness vars",
        "setup s",
        "pk MiB",
        "prove s",
        "witness s",
        "groth16 s",
        "floor s",
        "prove/floor",
        "peak RSS MiB",
    ];
    line(header.join(" | "));
    line(
        header
            .iter()
            .map(|h| "-".repeat(h.len().max(3)))
            .collect::<Vec<_>>()
            .join(" | "),
    );
    for s in &r.shapes {
        line(format!(
            "{}{} | {} | {} | {} | {:.1} | {:.1} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0}",
            s.circuit_id,
            if s.qap == "libsnark" {
                ""
            } else {
                " (circom keys)"
            },
            s.constraints,
            s.constraints_per_slot,
            s.witness_variables,
            s.setup_s,
            s.proving_key_mb,
            s.prove_s,
            s.witness_s,
            s.groth16_s,
            s.floor_s,
            s.prove_over_floor,
            s.peak_rss_mb
        ));
    }
    line(String::new());
    line(
        "floor by part (median s): circuit | FFT | G1 MSM | G2 MSM | arkworks' G1 MSM | \
         arkworks' G2 MSM | G1 speedup | G2 speedup"
            .into(),
    );
    for s in &r.shapes {
        line(format!(
            "  {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2}x | {:.2}x",
            s.circuit_id,
            s.floor_fft_s,
            s.floor_msm_g1_s,
            s.floor_msm_g2_s,
            s.floor_arkworks_msm_g1_s,
            s.floor_arkworks_msm_g2_s,
            s.msm_g1_speedup,
            s.msm_g2_speedup
        ));
    }
    line(String::new());
    line(
        "ours vs arkworks' MSM (median): circuit | prove s | prove s, arkworks' MSM | ratio | \
         peak RSS MiB | peak RSS MiB, arkworks' MSM"
            .into(),
    );
    for s in &r.shapes {
        line(format!(
            "  {} | {:.3} | {:.3} | {:.2} | {:.0} | {:.0}",
            s.circuit_id,
            s.prove_s,
            s.prove_arkworks_s,
            s.prove_vs_arkworks,
            s.peak_rss_mb,
            s.peak_rss_arkworks_mb
        ));
    }
    line(String::new());
    line(format!(
        "verify, single:          {:.3} ms",
        r.verify_single_ms
    ));
    line(format!(
        "verify, batch of 16:     {:.3} ms per claim ({:.1}x cheaper)",
        r.batch16_per_claim_ms, r.batch16_speedup
    ));
    line(format!(
        "verify, batch of 64:     {:.3} ms per claim ({:.1}x cheaper)",
        r.batch64_per_claim_ms, r.batch64_speedup
    ));
    line(format!(
        "gRPC Verifier service:   {:.0} claims/s with {} concurrent clients",
        r.grpc_verify_per_s, r.grpc_clients
    ));
    out
}
