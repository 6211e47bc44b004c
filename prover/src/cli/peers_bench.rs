//! `credence bench --peers`: our prover beside two peers on exactly our R1CS, in one run.
//!
//! Per shape: the claim circuit's `.r1cs` (as `credence ceremony r1cs` writes it), a
//! single-party key of snarkjs' form written as a `.zkey`, and one synthetic claim whose full
//! witness is written as a `.wtns` (synthetic only: a real claim's witness holds its secret).
//! Then, median of `--runs` after a warm-up, from the same claim:
//!
//! - **ours**: the native check, the witness, and our Groth16 prover on cached matrices with
//!   our MSM, under that key;
//! - **arkworks**: ark-groth16 0.6's plain `Groth16::create_random_proof_with_reduction` (the
//!   `SNARK::prove` path, libsnark's reduction) on the same circuit, synthesizing it every
//!   time, under a key of its own form for the same circuit;
//! - **snarkjs**: `snarkjs groth16 prove circuit.zkey witness.wtns proof.json public.json`, a
//!   process per proof, timed from spawn to exit (its witness is given, so witness generation
//!   is not in its time, unlike ours).
//!
//! Every proof is verified (snarkjs' with our verifier, against the key's statement), so each
//! peer is known to have proven the same statement. The keys are single-party (made here, for
//! the measurement only) and their `r, s` come from the OS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ark_bn254::Bn254;
use ark_groth16::Groth16;
use credence_circuits::bench::synthetic_claim;
use credence_circuits::prover::{CircuitMatrices, Qap, full_assignment, os_rng};
use credence_circuits::{ClaimCircuit, ClaimProver, Shape};
use credence_verifier::snarkjs::{SnarkjsProof, public_from_json};
use credence_verifier::{CircuitId, Proof, TrustedKey, VerifyingKey, verify};
use serde::Serialize;

use super::progress::spinner;

/// Options of `credence bench --peers`.
#[derive(Clone, Debug)]
pub struct PeersOptions {
    /// The claim shapes (default N = 1, 4, 16 at D = 20).
    pub shapes: Vec<Shape>,
    /// Timed proofs per prover and shape, after one warm-up.
    pub runs: usize,
    /// The snarkjs executable (`--snarkjs` or `SNARKJS`; else `snarkjs` on the PATH).
    pub snarkjs: PathBuf,
    /// Keep each shape's `.r1cs`, `.zkey` and `.wtns` here (else a temporary directory).
    pub keep: Option<PathBuf>,
}

/// One shape's figures (JSON names are a contract: the README documents them).
#[derive(Clone, Debug, Serialize)]
pub struct PeerShape {
    /// `claim-v1-n{n}-d{d}`.
    pub circuit_id: String,
    /// Slots.
    pub n: usize,
    /// Depth.
    pub d: u32,
    /// R1CS constraints.
    pub constraints: usize,
    /// Ours, median seconds (native check, witness, Groth16 with our MSM).
    pub ours_s: f64,
    /// ark-groth16's plain prove (synthesis included), median seconds.
    pub arkworks_s: f64,
    /// `snarkjs groth16 prove`, median seconds (process spawn to exit; witness given).
    pub snarkjs_s: f64,
    /// `arkworks_s / ours_s`.
    pub arkworks_over_ours: f64,
    /// `snarkjs_s / ours_s`.
    pub snarkjs_over_ours: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct PeersReport {
    /// Logical CPUs available.
    pub cores: usize,
    /// `snarkjs --version`'s first line.
    pub snarkjs: String,
    /// Timed runs per prover and shape.
    pub runs: usize,
    /// Per-shape figures.
    pub shapes: Vec<PeerShape>,
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2).map_or(f64::NAN, Duration::as_secs_f64)
}

/// The first line `snarkjs` prints about itself (it has no `--version`; its usage header
/// names the version), or an error saying how to install it.
fn snarkjs_version(snarkjs: &Path) -> Result<String> {
    let out = Command::new(snarkjs).arg("--help").output().with_context(|| {
        format!(
            "running {} (install snarkjs 0.7.6 with npm and pass --snarkjs PATH or set SNARKJS)",
            snarkjs.display()
        )
    })?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find(|l| l.contains("snarkjs@"))
        .map(|l| l.trim().to_string())
        .context("snarkjs --help did not name its version")
}

/// Writes `bytes` to `dir/name` (owner-only and atomic: one of them is a witness).
fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir.join(name);
    super::files::write_private(&path, bytes)?;
    Ok(path)
}

/// Measures one shape.
fn bench_shape(o: &PeersOptions, shape: Shape, dir: &Path) -> Result<PeerShape> {
    let id = shape.circuit_id();
    let bar = spinner(format!("{id}: synthesizing, keys"));
    let mut rng = os_rng();
    let matrices = CircuitMatrices::synthesize(shape)?;
    let r1cs = credence_ceremony::R1cs::from_matrices(
        &matrices.matrices,
        matrices.num_instance_variables,
        matrices.num_witness_variables,
        matrices.num_constraints,
    )?;
    let ours = ClaimProver::setup_for(shape, Qap::Circom, &mut rng)?;
    let plain = ClaimProver::setup_for(shape, Qap::Libsnark, &mut rng)?;
    let plain_pk = plain.proving_key();
    let zkey = credence_ceremony::zkey_from_proving_key(ours.proving_key(), &r1cs)?;
    let key = TrustedKey::new(
        CircuitId::new(&id)?,
        VerifyingKey::from(ours.verifying_key().clone()),
    )?;
    let plain_key = TrustedKey::new(
        CircuitId::new(&id)?,
        VerifyingKey::from(plain.verifying_key().clone()),
    )?;

    let input = synthetic_claim(shape, &mut rng);
    let prepared = ours.prepare(&input)?;
    let statement = prepared.statement().clone();
    let z = full_assignment(shape, prepared.into_assignment())?;
    let stem = format!("claim-{}-{}", shape.n, shape.depth);
    write_private(dir, &format!("{stem}.r1cs"), &r1cs.to_bytes())?;
    let zkey_path = write_private(dir, &format!("{stem}.zkey"), &zkey.to_bytes())?;
    let mut wtns = Vec::new();
    credence_ceremony::write_wtns(&z, &mut wtns)?;
    let wtns_path = write_private(dir, &format!("{stem}.synthetic.wtns"), &wtns)?;
    drop(z);

    let (mut t_ours, mut t_ark, mut t_snarkjs) = (vec![], vec![], vec![]);
    for run in 0..=o.runs {
        bar.set_message(format!(
            "{id}: run {run} of {} (0 is the warm-up): ours",
            o.runs
        ));
        let start = Instant::now();
        let (s, proof) = ours.prove(&input, &mut rng)?;
        let d_ours = start.elapsed();
        if s != statement || verify(&key, &s, &Proof::from(proof)).is_err() {
            bail!("{id}: our proof does not verify");
        }

        bar.set_message(format!("{id}: run {run} of {}: plain arkworks", o.runs));
        let start = Instant::now();
        let assignment = plain.prepare(&input)?.into_assignment();
        let proof = Groth16::<Bn254>::create_random_proof_with_reduction(
            ClaimCircuit::new(shape, assignment),
            plain_pk,
            &mut rng,
        )?;
        let d_ark = start.elapsed();
        if verify(&plain_key, &statement, &Proof::from(proof)).is_err() {
            bail!("{id}: arkworks' proof does not verify");
        }

        bar.set_message(format!("{id}: run {run} of {}: snarkjs", o.runs));
        let (proof_path, public_path) = (dir.join("proof.json"), dir.join("public.json"));
        let start = Instant::now();
        let out = Command::new(&o.snarkjs)
            .args(["groth16", "prove"])
            .args([&zkey_path, &wtns_path, &proof_path, &public_path])
            .output()
            .with_context(|| format!("running {}", o.snarkjs.display()))?;
        let d_snarkjs = start.elapsed();
        if !out.status.success() {
            bail!(
                "{id}: snarkjs groth16 prove failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let proof: SnarkjsProof =
            serde_json::from_slice(&std::fs::read(&proof_path)?).context("snarkjs' proof.json")?;
        let public: Vec<String> = serde_json::from_slice(&std::fs::read(&public_path)?)
            .context("snarkjs' public.json")?;
        let theirs = public_from_json(&public)?;
        if theirs != statement || verify(&key, &theirs, &proof.to_proof()?).is_err() {
            bail!("{id}: snarkjs' proof does not verify against our key and statement");
        }
        if run > 0 {
            t_ours.push(d_ours);
            t_ark.push(d_ark);
            t_snarkjs.push(d_snarkjs);
        }
    }
    bar.finish_and_clear();
    let (ours_s, arkworks_s, snarkjs_s) = (median(t_ours), median(t_ark), median(t_snarkjs));
    Ok(PeerShape {
        circuit_id: id,
        n: shape.n,
        d: shape.depth,
        constraints: matrices.num_constraints,
        ours_s,
        arkworks_s,
        snarkjs_s,
        arkworks_over_ours: arkworks_s / ours_s,
        snarkjs_over_ours: snarkjs_s / ours_s,
    })
}

/// Runs the measurement.
pub fn run(o: PeersOptions) -> Result<PeersReport> {
    if o.shapes.is_empty() || o.runs == 0 {
        bail!("--peers needs at least one shape and --runs of at least 1");
    }
    let snarkjs = snarkjs_version(&o.snarkjs)?;
    let dir = o.keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("credence-peers-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let shapes = o
        .shapes
        .iter()
        .map(|&shape| bench_shape(&o, shape, &dir))
        .collect::<Result<_>>();
    if o.keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let shapes = shapes?;
    Ok(PeersReport {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        snarkjs,
        runs: o.runs,
        shapes,
    })
}

/// The human-readable table.
pub fn table(r: &PeersReport) -> String {
    let mut out = format!(
        "Peers on the same R1CS, {} cores, median of {} proofs after a warm-up ({})\n\n",
        r.cores, r.runs, r.snarkjs
    );
    out += "circuit | constraints | ours s | arkworks s | snarkjs s | arkworks / ours | snarkjs / ours\n";
    out += "--- | --- | --- | --- | --- | --- | ---\n";
    for s in &r.shapes {
        out += &format!(
            "{} | {} | {:.3} | {:.3} | {:.3} | {:.2}x | {:.2}x\n",
            s.circuit_id,
            s.constraints,
            s.ours_s,
            s.arkworks_s,
            s.snarkjs_s,
            s.arkworks_over_ours,
            s.snarkjs_over_ours
        );
    }
    out
}
