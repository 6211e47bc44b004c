//! Micro-timings of the field and group operations the cost model uses.
use ark_bn254::{Fq, Fq2, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{CurveGroup, short_weierstrass::Bucket};
use ark_ff::{Field, UniformRand};
use ark_std::rand::SeedableRng;
use credence_msm::msm::MsmCurve;
use rand_chacha::ChaCha20Rng;

type G1 = ark_bn254::g1::Config;
use std::hint::black_box;
use std::time::Instant;

fn per_op(n: usize, f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e9 / n as f64
}

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let n = 2_000_000;
    let a = Fq::rand(&mut rng);
    let mut x = Fq::rand(&mut rng);
    println!(
        "Fq mul     {:.1} ns",
        per_op(n, || for _ in 0..n {
            x *= a;
            black_box(&x);
        })
    );
    let (mut x1, mut x2, mut x3, mut x4) = (x, x + a, x + a + a, x - a);
    println!(
        "Fq mul x4 independent (per mul)  {:.1} ns",
        per_op(4 * n, || for _ in 0..n {
            x1 *= a;
            x2 *= a;
            x3 *= a;
            x4 *= a;
            black_box((&x1, &x2, &x3, &x4));
        })
    );
    // The same two timings through the MSM's own multiplication (assembly
    // when the CPU has BMI2 + ADX; see `credence_msm::field_backend`).
    println!(
        "ours Fq mul ({})  {:.1} ns",
        credence_msm::field_backend(),
        per_op(n, || for _ in 0..n {
            x = G1::mul(&x, &a);
            black_box(&x);
        })
    );
    println!(
        "ours Fq mul x4 independent (per mul)  {:.1} ns",
        per_op(4 * n, || for _ in 0..n {
            x1 = G1::mul(&x1, &a);
            x2 = G1::mul(&x2, &a);
            x3 = G1::mul(&x3, &a);
            x4 = G1::mul(&x4, &a);
            black_box((&x1, &x2, &x3, &x4));
        })
    );
    println!(
        "ours Fq square x4 independent (per square)  {:.1} ns",
        per_op(4 * n, || for _ in 0..n {
            x1 = G1::square(&x1);
            x2 = G1::square(&x2);
            x3 = G1::square(&x3);
            x4 = G1::square(&x4);
            black_box((&x1, &x2, &x3, &x4));
        })
    );
    let (mut y1, mut y2) = (Fq2::rand(&mut rng), Fq2::rand(&mut rng));
    let b2 = Fq2::rand(&mut rng);
    println!(
        "Fq2 mul x2 independent (per mul) {:.1} ns",
        per_op(2 * n, || for _ in 0..n {
            y1 *= b2;
            y2 *= b2;
            black_box((&y1, &y2));
        })
    );
    let m = 20_000;
    println!(
        "Fq inv     {:.1} ns",
        per_op(m, || for _ in 0..m {
            x = x.inverse().unwrap() + a;
            black_box(&x);
        })
    );
    let a2 = Fq2::rand(&mut rng);
    let mut y = Fq2::rand(&mut rng);
    println!(
        "Fq2 mul    {:.1} ns",
        per_op(n, || for _ in 0..n {
            y *= a2;
            black_box(&y);
        })
    );
    println!(
        "ours Fq inv     {:.1} ns",
        per_op(m, || for _ in 0..m {
            x = G1::norm_inverse(&x).unwrap() + a;
            black_box(&x);
        })
    );
    println!(
        "Fq2 inv    {:.1} ns",
        per_op(m, || for _ in 0..m {
            y = y.inverse().unwrap() + a2;
            black_box(&y);
        })
    );
    let k = 200_000;
    let p1: Vec<G1Affine> = (0..64)
        .map(|_| G1Projective::rand(&mut rng).into_affine())
        .collect();
    let mut b1 = Bucket::<ark_bn254::g1::Config>::from(p1[0]);
    println!(
        "G1 xyzz madd {:.1} ns",
        per_op(k, || for i in 0..k {
            b1 += &p1[i % 64];
            black_box(&b1);
        })
    );
    let c1 = b1;
    println!(
        "G1 xyzz add  {:.1} ns",
        per_op(k, || for _ in 0..k {
            b1 += &c1;
            black_box(&b1);
        })
    );
    let p2: Vec<G2Affine> = (0..64)
        .map(|_| G2Projective::rand(&mut rng).into_affine())
        .collect();
    let mut b2 = Bucket::<ark_bn254::g2::Config>::from(p2[0]);
    println!(
        "G2 xyzz madd {:.1} ns",
        per_op(k, || for i in 0..k {
            b2 += &p2[i % 64];
            black_box(&b2);
        })
    );
    let c2 = b2;
    println!(
        "G2 xyzz add  {:.1} ns",
        per_op(k, || for _ in 0..k {
            b2 += &c2;
            black_box(&b2);
        })
    );
}
