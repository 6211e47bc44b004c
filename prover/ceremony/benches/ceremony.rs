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
use std::time::Instant;

use credence_ceremony::{
    Ptau, beacon, claim_r1cs, contribute, new_zkey, pilot_ptau, proving_key, setup::ptau_power,
    verify,
};
use credence_circuits::Shape;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let shapes = std::env::var("CEREMONY_SHAPES").unwrap_or_else(|_| "16,20".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("credence ceremony bench ({cores} cores)");
    println!(
        "shape | constraints | ptau power | ptau MiB | pilot ptau s | new s | zkey MiB | contribute s | beacon s | verify s | import (convert) s"
    );
    for spec in shapes.split_whitespace() {
        let (n, d) = spec.split_once(',').expect("N,D");
        let shape = Shape::new(n.parse().expect("N"), d.parse().expect("D")).expect("a shape");

        let r1cs = claim_r1cs(shape).expect("the circuit");
        let power = ptau_power(r1cs.num_constraints(), r1cs.num_public()).expect("a power");
        let t = Instant::now();
        let mut ptau_bytes = Vec::new();
        pilot_ptau::write_single_party_ptau(power, &mut ptau_bytes).expect("pilot ptau");
        let ptau_s = t.elapsed().as_secs_f64();
        let ptau_mib = mib(ptau_bytes.len());
        let mut ptau = Ptau::read(Cursor::new(ptau_bytes)).expect("ptau");

        let t = Instant::now();
        let z0 = new_zkey(&r1cs, &mut ptau).expect("zkey new");
        let new_s = t.elapsed().as_secs_f64();
        let zkey_mib = mib(z0.to_bytes().len());

        let t = Instant::now();
        let (z1, _) = contribute(&z0, Some("bench"), b"").expect("contribute");
        let contribute_s = t.elapsed().as_secs_f64();
        drop(z0);

        let t = Instant::now();
        let (fin, _) = beacon(&z1, Some("beacon"), &[1; 32], 10).expect("beacon");
        let beacon_s = t.elapsed().as_secs_f64();
        drop(z1);

        let t = Instant::now();
        let report = verify(&r1cs, &mut ptau, &fin).expect("verify");
        let verify_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let _pk = proving_key(&fin, &r1cs, &report.circuit_hash).expect("convert");
        let import_s = t.elapsed().as_secs_f64();

        println!(
            "{} | {} | {power} | {ptau_mib:.0} | {ptau_s:.1} | {new_s:.1} | {zkey_mib:.0} | {contribute_s:.1} | {beacon_s:.1} | {verify_s:.1} | {import_s:.1}",
            shape.circuit_id(),
            r1cs.num_constraints(),
        );
    }
}
