//! Runs one implementation on one input shape in a loop, for `perf record`.
//! Run: `cargo run --release --example msm_profile -- g1|g2 random|bits|u8|u16|u64 LOG REPS ark|ours`
use ark_bn254::Fr;
use ark_ec::{
    CurveGroup, VariableBaseMSM,
    short_weierstrass::{Affine, Projective},
};
use ark_ff::{PrimeField, UniformRand};
use ark_std::rand::{Rng, SeedableRng};
use credence_msm::msm::{MsmCurve, Options, msm_with_options};
use rand_chacha::ChaCha20Rng;
use std::time::Instant;

/// CPU time of all threads of this process, in ns (from schedstat).
fn cpu_ns() -> u64 {
    let mut total = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for e in dir.flatten() {
            let p = e.path().join("schedstat");
            if let Ok(s) = std::fs::read_to_string(p) {
                total += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

fn run<P: MsmCurve<ScalarField = Fr>>(kind: &str, log: usize, reps: usize, ark: bool)
where
    Projective<P>: UniformRand,
{
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let n = 1usize << log;
    let step: Vec<Projective<P>> = (0..64).map(|_| Projective::<P>::rand(&mut rng)).collect();
    let mut acc = Projective::<P>::rand(&mut rng);
    let pts: Vec<Projective<P>> = (0..n)
        .map(|i| {
            acc += step[(i * 7 + rng.r#gen::<u8>() as usize) % 64];
            acc
        })
        .collect();
    let bases: Vec<Affine<P>> = Projective::normalize_batch(&pts);
    let scalars: Vec<_> = (0..n)
        .map(|_| match kind {
            "bits" => Fr::from(rng.r#gen::<bool>() as u64),
            "u8" => Fr::from(rng.r#gen::<u8>()),
            "u16" => Fr::from(rng.r#gen::<u16>()),
            "u64" => Fr::from(rng.r#gen::<u64>()),
            _ => Fr::rand(&mut rng),
        })
        .map(|s| s.into_bigint())
        .collect();
    // TUNE="field=value,..." overrides the curve's tuning figures.
    let mut tuning = P::TUNING.for_this_machine();
    if let Ok(spec) = std::env::var("TUNE") {
        for kv in spec.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').expect("field=value");
            let f: f64 = v.parse().expect("number");
            match k {
                "reduce_cost" => tuning.reduce_cost = f,
                "xyzz_cost" => tuning.xyzz_cost = f,
                "inversion_cost" => tuning.inversion_cost = f,
                "max_batch" => tuning.max_batch = f as usize,
                "bucket_ratio" => tuning.bucket_ratio = f as usize,
                "min_batch_points" => tuning.min_batch_points = f as usize,
                "replicate_below" => tuning.replicate_below = f as usize,
                "affine_reduce_cost" => tuning.affine_reduce_cost = f,
                "lane_len" => tuning.lane_len = f as usize,
                "min_lanes" => tuning.min_lanes = f as usize,
                "cache_buckets" => tuning.cache_buckets = f as usize,
                "miss_cost" => tuning.miss_cost = f,
                "lanes" => tuning.lanes = f != 0.0,
                _ => panic!("unknown field {k}"),
            }
        }
    }
    let options = Options {
        tuning: Some(tuning),
        full_windows: std::env::var("WINDOWS").ok().map(|w| {
            let (a, b) = w.split_once(',').unwrap_or((&w, "1"));
            (a.parse().unwrap(), b.parse().unwrap())
        }),
        ..Options::default()
    };
    let t = Instant::now();
    let c = cpu_ns();
    let mut best = f64::MAX;
    let mut best_wall = f64::MAX;
    for _ in 0..reps {
        let w0 = Instant::now();
        let c0 = cpu_ns();
        if ark {
            let _ = std::hint::black_box(Projective::<P>::msm_bigint(&bases, &scalars));
        } else {
            let _ = std::hint::black_box(msm_with_options(&bases, &scalars, &options));
        }
        best = best.min((cpu_ns() - c0) as f64 / 1e6);
        best_wall = best_wall.min(w0.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{:.2} ms wall per call (min {best_wall:.2}), cpu {:.2} ms per call (min {best:.2})",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64,
        (cpu_ns() - c) as f64 / 1e6 / reps as f64
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let kind = a.get(2).cloned().unwrap_or_else(|| "random".into());
    let log = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
    let reps = a.get(4).and_then(|s| s.parse().ok()).unwrap_or(3);
    let ark = a.get(5).map(String::as_str) == Some("ark");
    match a.get(1).map(String::as_str) {
        Some("g2") => run::<ark_bn254::g2::Config>(&kind, log, reps, ark),
        _ => run::<ark_bn254::g1::Config>(&kind, log, reps, ark),
    }
}
