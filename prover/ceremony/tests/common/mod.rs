//! Test support: a small arkworks circuit with 9 public inputs, locating snarkjs, and the
//! powers-of-tau files made once per test run.
#![allow(dead_code)]

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, LinearCombination,
    OptimizationGoal, R1CS_PREDICATE_LABEL, SynthesisError, SynthesisMode, Variable,
};
use ark_relations::utils::matrix::Matrix;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Public inputs of the test circuit (as in Credence's claim circuit).
pub const PUBLIC: usize = 9;

/// A toy circuit: products of neighbouring inputs, a weighted sum times a difference, a
/// squaring chain. Input 8 is used by no constraint (only the public-input rows bind it).
/// `variant` changes the circuit: 1 changes only the C matrix of the last constraint, 2 adds a
/// constraint (another A/B/C).
#[derive(Clone)]
pub struct ToyCircuit {
    pub inputs: Option<[Fr; PUBLIC]>,
    pub variant: u8,
}

fn lc(terms: &[(Fr, Variable)]) -> LinearCombination<Fr> {
    LinearCombination::from_sum_coeff_vars(terms)
}

impl ConstraintSynthesizer<Fr> for ToyCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let one = Fr::from(1u64);
        let val = |i: usize| self.inputs.map(|x| x[i]);
        let mut x = Vec::new();
        for i in 0..PUBLIC {
            x.push(cs.new_input_variable(|| val(i).ok_or(SynthesisError::AssignmentMissing))?);
        }
        // w_i = x_i * x_{i+1}, i < 7
        let mut w = Vec::new();
        let mut wv = Vec::new();
        for i in 0..7 {
            let v = self.inputs.map(|x| x[i] * x[i + 1]);
            wv.push(v);
            let wi = cs.new_witness_variable(|| v.ok_or(SynthesisError::AssignmentMissing))?;
            cs.enforce_r1cs_constraint(
                || lc(&[(one, x[i])]),
                || lc(&[(one, x[i + 1])]),
                || lc(&[(one, wi)]),
            )?;
            w.push(wi);
        }
        // t = (w0 + 3 w1 + 5) * (x2 - x3)
        let tv = self.inputs.map(|x| {
            let w0 = x[0] * x[1];
            let w1 = x[1] * x[2];
            (w0 + Fr::from(3u64) * w1 + Fr::from(5u64)) * (x[2] - x[3])
        });
        let t = cs.new_witness_variable(|| tv.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce_r1cs_constraint(
            || {
                lc(&[
                    (one, w[0]),
                    (Fr::from(3u64), w[1]),
                    (Fr::from(5u64), Variable::One),
                ])
            },
            || lc(&[(one, x[2]), (-one, x[3])]),
            || lc(&[(one, t)]),
        )?;
        // squaring chain from t
        let mut cur = t;
        let mut curv = tv;
        for _ in 0..9 {
            let nv = curv.map(|c| c * c);
            let n = cs.new_witness_variable(|| nv.ok_or(SynthesisError::AssignmentMissing))?;
            cs.enforce_r1cs_constraint(
                || lc(&[(one, cur)]),
                || lc(&[(one, cur)]),
                || lc(&[(one, n)]),
            )?;
            cur = n;
            curv = nv;
        }
        // last: u = cur * x4 (+ x0 in C for variant 1: u + x0 = cur * x4)
        let uv = curv.zip(self.inputs).map(|(c, x)| {
            if self.variant == 1 {
                c * x[4] - x[0]
            } else {
                c * x[4]
            }
        });
        let u = cs.new_witness_variable(|| uv.ok_or(SynthesisError::AssignmentMissing))?;
        let c_lc = if self.variant == 1 {
            lc(&[(one, u), (one, x[0])])
        } else {
            lc(&[(one, u)])
        };
        cs.enforce_r1cs_constraint(|| lc(&[(one, cur)]), || lc(&[(one, x[4])]), || c_lc)?;
        if self.variant == 2 {
            let zv = wv[6].zip(self.inputs).map(|(w6, x)| w6 * x[5]);
            let z = cs.new_witness_variable(|| zv.ok_or(SynthesisError::AssignmentMissing))?;
            cs.enforce_r1cs_constraint(
                || lc(&[(one, w[6])]),
                || lc(&[(one, x[5])]),
                || lc(&[(one, z)]),
            )?;
        }
        Ok(())
    }
}

/// The same shape as Credence's `CircuitMatrices`.
#[derive(Clone, Debug)]
pub struct CircuitMatrices {
    pub matrices: Vec<Matrix<Fr>>,
    pub num_instance_variables: usize,
    pub num_witness_variables: usize,
    pub num_constraints: usize,
}

/// Setup-mode synthesis, as Credence's prover does it.
pub fn matrices(variant: u8) -> CircuitMatrices {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    ToyCircuit {
        inputs: None,
        variant,
    }
    .generate_constraints(cs.clone())
    .unwrap();
    cs.finalize();
    let matrices = cs
        .to_matrices()
        .unwrap()
        .remove(R1CS_PREDICATE_LABEL)
        .unwrap();
    CircuitMatrices {
        matrices,
        num_instance_variables: cs.num_instance_variables(),
        num_witness_variables: cs.num_witness_variables(),
        num_constraints: cs.num_constraints(),
    }
}

/// Some public inputs.
pub fn inputs(seed: u64) -> [Fr; PUBLIC] {
    core::array::from_fn(|i| Fr::from(seed * 31 + i as u64 * 7 + 2))
}

/// The full assignment `[1, public..., witness...]` of the circuit on `inputs`.
pub fn full_assignment(variant: u8, inputs: [Fr; PUBLIC]) -> Vec<Fr> {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    ToyCircuit {
        inputs: Some(inputs),
        variant,
    }
    .generate_constraints(cs.clone())
    .unwrap();
    cs.finalize();
    assert!(cs.is_satisfied().unwrap());
    let cs = cs.into_inner().unwrap();
    [
        cs.instance_assignment().unwrap(),
        cs.witness_assignment().unwrap(),
    ]
    .concat()
}

/// The snarkjs binary, from `SNARKJS`. `None` (with a message) when unset locally; panics
/// under CI, where the interop tests must run.
pub fn snarkjs() -> Option<PathBuf> {
    match std::env::var_os("SNARKJS") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(p.exists(), "SNARKJS={} does not exist", p.display());
            Some(p)
        }
        None => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but SNARKJS is not: the snarkjs interop tests must run in CI");
            }
            eprintln!("SKIPPED: SNARKJS is not set (path to the snarkjs 0.7.6 binary)");
            None
        }
    }
}

/// Runs snarkjs, returning (success, stdout + stderr).
pub fn run(snarkjs: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(snarkjs)
        .args(args)
        .output()
        .expect("running snarkjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // snarkjs sometimes exits 0 after logging an error: look at the output too.
    let ok = out.status.success() && !text.contains("[ERROR]");
    (ok, text)
}

/// Runs snarkjs and panics on failure.
pub fn run_ok(snarkjs: &Path, args: &[&str]) -> String {
    let (ok, text) = run(snarkjs, args);
    assert!(ok, "snarkjs {args:?} failed:\n{text}");
    text
}

/// A directory for this test run (kept until the process exits).
pub fn run_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// A fresh sub-directory for one test.
pub fn test_dir(name: &str) -> PathBuf {
    let d = run_dir().join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A prepared ptau of `power`, made with snarkjs once per run (`new`, one `contribute`,
/// `prepare phase2`). `tag` makes independent ceremonies of the same power.
pub fn ptau(snarkjs: &Path, power: u32, tag: &str) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = run_dir().join("ptau");
    std::fs::create_dir_all(&dir).unwrap();
    let fin = dir.join(format!("pot{power}_{tag}_final.ptau"));
    if fin.exists() {
        return fin;
    }
    let p0 = dir.join(format!("pot{power}_{tag}_0.ptau"));
    let p1 = dir.join(format!("pot{power}_{tag}_1.ptau"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    run_ok(
        snarkjs,
        &["powersoftau", "new", "bn128", &power.to_string(), &s(&p0)],
    );
    run_ok(
        snarkjs,
        &[
            "powersoftau",
            "contribute",
            &s(&p0),
            &s(&p1),
            "--name=test",
            &format!("-e=entropy {tag}"),
        ],
    );
    run_ok(
        snarkjs,
        &["powersoftau", "prepare", "phase2", &s(&p1), &s(&fin)],
    );
    fin
}

/// `p` as a `&str`.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
