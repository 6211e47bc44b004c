//! The cost of a ceremony for claim shapes, as the README's runbook reports it: time and file
//! size of each step of `credence ceremony` (the same library calls), in one run.
//!
//! ```sh
//! cargo bench -p credence-ceremony --bench ceremony                 # N = 16 at D = 20
//! CEREMONY_SHAPES="16,20 64,20" cargo bench -p credence-ceremony --bench ceremony
//! ```
//!
//! The phase-1 file is a single-party pilot ptau of the smallest power the shape needs (a real
//! ceremony downloads a Perpetual Powers of Tau file instead; its size at that power is the
//! same). Each step is timed once: they take seconds to minutes, far above timer noise.

use std::io::Cursor;
use std::sync::Mutex;
use std::time::Instant;

use credence_ceremony::{
    Progress, Ptau, beacon_with, claim_r1cs, contribute_with, new_zkey_with, pilot_ptau,
    proving_key, setup::ptau_power, verify_with,
};
use credence_circuits::Shape;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Prints each phase of a step with its time when the next one begins (stderr), so a long run
/// shows where its time goes before it ends.
struct Phases(Mutex<Option<(String, Instant)>>);

impl Phases {
    fn new() -> Self {
        Phases(Mutex::new(None))
    }
    fn close(&self) {
        if let Some((name, t)) = self.0.lock().expect("not poisoned").take() {
            eprintln!("    {name}: {:.1} s", t.elapsed().as_secs_f64());
        }
    }
}

impl Progress for Phases {
    fn phase(&self, name: &str, _total: u64) {
        self.close();
        *self.0.lock().expect("not poisoned") = Some((name.to_string(), Instant::now()));
    }
    fn advance(&self, _: u64) {}
}

/// Runs one step, printing its time as soon as it ends; returns its output and seconds.
fn step<T>(shape: &str, name: &str, f: impl FnOnce(&Phases) -> T) -> (T, f64) {
    let phases = Phases::new();
    let t = Instant::now();
    let out = f(&phases);
    let s = t.elapsed().as_secs_f64();
    phases.close();
    println!("{shape} | {name} | {s:.1} s");
    (out, s)
}

fn main() {
    let shapes = std::env::var("CEREMONY_SHAPES").unwrap_or_else(|_| "16,20".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("credence ceremony bench ({cores} cores)");
    let mut rows = Vec::new();
    for spec in shapes.split_whitespace() {
        let (n, d) = spec.split_once(',').expect("N,D");
        let shape = Shape::new(n.parse().expect("N"), d.parse().expect("D")).expect("a shape");
        let id = shape.circuit_id();

        let r1cs = claim_r1cs(shape).expect("the circuit");
        let power = ptau_power(r1cs.num_constraints(), r1cs.num_public()).expect("a power");
        println!(
            "{id}: {} constraints, ptau power {power}",
            r1cs.num_constraints()
        );
        let (ptau_bytes, ptau_s) = step(&id, "pilot ptau", |p| {
            let mut bytes = Vec::new();
            pilot_ptau::write_single_party_ptau_with(power, &mut bytes, p).expect("pilot ptau");
            bytes
        });
        let ptau_mib = mib(ptau_bytes.len());
        let mut ptau = Ptau::read(Cursor::new(ptau_bytes)).expect("ptau");

        let (z0, new_s) = step(&id, "new", |p| {
            new_zkey_with(&r1cs, &mut ptau, p).expect("zkey new")
        });
        let zkey_mib = mib(z0.to_bytes().len());
        let ((z1, _), contribute_s) = step(&id, "contribute", |p| {
            contribute_with(&z0, Some("bench"), b"", p).expect("contribute")
        });
        drop(z0);
        let ((fin, _), beacon_s) = step(&id, "beacon (2^10 iterations)", |p| {
            beacon_with(&z1, Some("beacon"), &[1; 32], 10, p).expect("beacon")
        });
        drop(z1);
        let (report, verify_s) = step(&id, "verify", |p| {
            verify_with(&r1cs, &mut ptau, &fin, p).expect("verify")
        });
        let (_pk, import_s) = step(&id, "import (convert)", |_| {
            proving_key(&fin, &r1cs, &report.circuit_hash).expect("convert")
        });
        rows.push(format!(
            "{id} | {} | {power} | {ptau_mib:.0} | {ptau_s:.1} | {new_s:.1} | {zkey_mib:.0} | {contribute_s:.1} | {beacon_s:.1} | {verify_s:.1} | {import_s:.1}",
            r1cs.num_constraints(),
        ));
    }
    println!(
        "shape | constraints | ptau power | ptau MiB | pilot ptau s | new s | zkey MiB | contribute s | beacon s | verify s | import (convert) s"
    );
    for row in rows {
        println!("{row}");
    }
}
