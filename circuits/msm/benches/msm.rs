//! Side-by-side timing of arkworks 0.6 `VariableBaseMSM::msm_bigint` and our
//! MSM on the same bases and scalars.
//!
//! Run: `cargo bench -p credence-msm --bench msm [-- REPS [FILTER]]`
//! (REPS defaults to 5; FILTER keeps only configurations whose label
//! contains it, e.g. `G2`). Each configuration alternates the two
//! implementations REPS times and reports the minimum and median; ratio is
//! arkworks / ours on the medians (> 1 means ours is faster).

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{
    CurveGroup, VariableBaseMSM,
    short_weierstrass::{Affine, Projective, SWCurveConfig},
};
use ark_ff::{PrimeField, UniformRand};
use ark_std::rand::{Rng, SeedableRng};
use credence_msm::msm::{ScalarBigInt, msm_g1, msm_g2};
use rand_chacha::ChaCha20Rng;
use std::time::{Duration, Instant};

/// Pseudo-random bases: a random walk with random steps, normalised at once
/// (much cheaper than one scalar multiplication per base).
fn bases<P: SWCurveConfig>(n: usize, rng: &mut ChaCha20Rng) -> Vec<Affine<P>>
where
    Projective<P>: UniformRand,
{
    let steps: Vec<Projective<P>> = (0..257).map(|_| Projective::<P>::rand(rng)).collect();
    let mut acc = Projective::<P>::rand(rng);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        acc += steps[(i * 31 + rng.r#gen::<u8>() as usize) % steps.len()];
        out.push(acc);
    }
    Projective::normalize_batch(&out)
}

#[derive(Clone, Copy)]
enum Kind {
    Random,
    Bits,
    U8,
    U64,
}

fn scalars(kind: Kind, n: usize, rng: &mut ChaCha20Rng) -> Vec<ScalarBigInt> {
    (0..n)
        .map(|_| match kind {
            Kind::Random => Fr::rand(rng).into_bigint(),
            Kind::Bits => Fr::from(rng.r#gen::<bool>() as u64).into_bigint(),
            Kind::U8 => Fr::from(rng.r#gen::<u8>()).into_bigint(),
            Kind::U64 => Fr::from(rng.r#gen::<u64>()).into_bigint(),
        })
        .collect()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn compare<G: PartialEq + std::fmt::Debug>(
    label: &str,
    reps: usize,
    ark: impl Fn() -> G,
    ours: impl Fn() -> G,
) {
    let mut ta = Vec::new();
    let mut to = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let a = ark();
        ta.push(t.elapsed());
        let t = Instant::now();
        let o = ours();
        to.push(t.elapsed());
        assert_eq!(a, o, "{label}: results differ");
    }
    let (min_a, min_o) = (*ta.iter().min().unwrap(), *to.iter().min().unwrap());
    let (med_a, med_o) = (median(&mut ta), median(&mut to));
    println!(
        "{label:<22} ark min {:>9.1} med {:>9.1} ms | ours min {:>9.1} med {:>9.1} ms | ratio med {:>5.2}x (min {:>5.2}x)",
        ms(min_a),
        ms(med_a),
        ms(min_o),
        ms(med_o),
        med_a.as_secs_f64() / med_o.as_secs_f64(),
        min_a.as_secs_f64() / min_o.as_secs_f64(),
    );
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_else(|_| "?".into())
}

fn main() {
    // `cargo bench` passes `--bench` (and libtest flags); only our two positional args count.
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let reps: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let filter = args.get(2).cloned().unwrap_or_default();
    println!(
        "threads {} | field {} | G1 lanes {} | reps {reps} | loadavg at start: {}",
        rayon::current_num_threads(),
        credence_msm::field_backend(),
        credence_msm::lanes_backend(),
        loadavg().trim()
    );
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let g1: Vec<G1Affine> = bases(1 << 18, &mut rng);
    let g2: Vec<G2Affine> = bases(1 << 18, &mut rng);

    let configs: [(&str, bool, usize, Kind); 10] = [
        ("G1 2^16 random", true, 16, Kind::Random),
        ("G1 2^18 random", true, 18, Kind::Random),
        ("G1 2^16 0/1", true, 16, Kind::Bits),
        ("G1 2^16 u8", true, 16, Kind::U8),
        ("G1 2^16 u64", true, 16, Kind::U64),
        ("G2 2^16 random", false, 16, Kind::Random),
        ("G2 2^18 random", false, 18, Kind::Random),
        ("G2 2^16 0/1", false, 16, Kind::Bits),
        ("G2 2^16 u8", false, 16, Kind::U8),
        ("G2 2^16 u64", false, 16, Kind::U64),
    ];
    for (label, is_g1, log, kind) in configs {
        if !label.contains(filter.as_str()) {
            continue;
        }
        let n = 1usize << log;
        let s = scalars(kind, n, &mut rng);
        if is_g1 {
            let b = &g1[..n];
            compare(
                label,
                reps,
                || G1Projective::msm_bigint(b, &s).into_affine(),
                || msm_g1(b, &s).into_affine(),
            );
        } else {
            let b = &g2[..n];
            compare(
                label,
                reps,
                || G2Projective::msm_bigint(b, &s).into_affine(),
                || msm_g2(b, &s).into_affine(),
            );
        }
    }
    println!("loadavg at end: {}", loadavg().trim());
}
