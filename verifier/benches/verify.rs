//! Single verification vs batch verification per claim (batches of 16 and 64).
//!
//! `cargo bench -p credence-verifier --bench verify` prints the figures; no criterion needed.
//! Proofs come from the test-only nine-input circuit (`tests/common`), which has exactly the
//! claim's public inputs; verification cost depends only on the number of inputs, not on the
//! circuit's size. The three measurements are interleaved round by round and the median per
//! claim is reported, so load from other processes on a shared machine hits all three alike.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use credence_verifier::{ClaimStatement, Proof, verify, verify_batch_os};

fn per_claim<F: FnMut()>(claims: usize, mut f: F) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed() / claims as u32
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let fx = common::fixture();
    let statements: Vec<ClaimStatement> = (0..64).map(common::statement).collect();
    let proofs: Vec<Proof> = statements.iter().map(common::prove).collect();
    let claims: Vec<(&ClaimStatement, &Proof)> = statements.iter().zip(&proofs).collect();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(40);

    let (mut single, mut b16, mut b64) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=rounds {
        let s = per_claim(16, || {
            for (s, p) in &claims[..16] {
                black_box(verify(&fx.key, s, p)).unwrap();
            }
        });
        let t16 = per_claim(16, || {
            black_box(verify_batch_os(&fx.key, &claims[..16])).unwrap()
        });
        let t64 = per_claim(64, || black_box(verify_batch_os(&fx.key, &claims)).unwrap());
        if round > 0 {
            // round 0 warms caches up
            single.push(s);
            b16.push(t16);
            b64.push(t64);
        }
    }
    let (single, b16, b64) = (median(single), median(b16), median(b64));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let x = |d: Duration| single.as_secs_f64() / d.as_secs_f64();
    println!("median of {rounds} interleaved rounds, per claim:");
    println!("  single verify   {:>7.3} ms", ms(single));
    println!("  batch of 16     {:>7.3} ms  ({:.1}x)", ms(b16), x(b16));
    println!("  batch of 64     {:>7.3} ms  ({:.1}x)", ms(b64), x(b64));
}
