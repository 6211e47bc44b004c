//! Our MSM must equal arkworks' `VariableBaseMSM::msm_bigint` on every input
//! shape: scalar kinds, base shapes, lengths, and both groups.

mod common;

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::{CurveGroup, short_weierstrass::Affine};
use ark_ff::{PrimeField, Zero};
use ark_std::rand::Rng;
use common::*;
use credence_msm::msm::{MsmCurve, msm_g1, msm_g2};

type G1 = ark_bn254::g1::Config;
type G2 = ark_bn254::g2::Config;

#[test]
fn every_length_up_to_2000_g1() {
    let mut r = rng(1);
    let bases = bases::<G1>(2000, &mut r);
    let all = mixed_scalars(2000, &mut r);
    for n in 0..=2000 {
        // Rotate the scalar mix so each length sees a different shape.
        let kind = ALL_KINDS[n % ALL_KINDS.len()];
        let s: Vec<_> = if n % 2 == 0 {
            all[..n].to_vec()
        } else {
            scalars(kind, n, &mut r)
        };
        check(
            &bases[..n],
            &s,
            n % 97 == 0,
            &format!("G1 length {n} {kind:?}"),
        );
    }
}

#[test]
fn every_length_up_to_600_then_sparser_g2() {
    let mut r = rng(2);
    let bases = bases::<G2>(2000, &mut r);
    let all = mixed_scalars(2000, &mut r);
    let lengths = (0..=600).chain((601..=2000).step_by(23)).chain([2000]);
    for n in lengths {
        let kind = ALL_KINDS[n % ALL_KINDS.len()];
        let s: Vec<_> = if n % 2 == 0 {
            all[..n].to_vec()
        } else {
            scalars(kind, n, &mut r)
        };
        check(
            &bases[..n],
            &s,
            n % 101 == 0,
            &format!("G2 length {n} {kind:?}"),
        );
    }
}

fn each_scalar_kind<P: MsmCurve<ScalarField = Fr>>(seed: u64, n: usize)
where
    ark_ec::short_weierstrass::Projective<P>: ark_ff::UniformRand,
{
    let mut r = rng(seed);
    let b = bases::<P>(n, &mut r);
    for kind in ALL_KINDS {
        let s = scalars(kind, n, &mut r);
        check(&b, &s, true, &format!("{kind:?} n = {n}"));
    }
    // The same scalar everywhere: every point lands in the same buckets.
    let one = scalar(Kind::Random, &mut r);
    check(&b, &vec![one; n], true, "repeated scalar");
}

#[test]
fn scalar_kinds_g1() {
    for n in [1, 2, 3, 100, 1000, 5000] {
        each_scalar_kind::<G1>(3 + n as u64, n);
    }
}

#[test]
fn scalar_kinds_g2() {
    for n in [1, 2, 100, 1500] {
        each_scalar_kind::<G2>(4 + n as u64, n);
    }
}

/// Bases that collide: repeats, identities, negations of each other, with
/// scalars that make buckets double and cancel.
fn awkward_bases<P: MsmCurve<ScalarField = Fr>>(seed: u64)
where
    ark_ec::short_weierstrass::Projective<P>: ark_ff::UniformRand,
{
    let mut r = rng(seed);
    let few = bases::<P>(5, &mut r);
    let n = 3000;
    let mut b: Vec<Affine<P>> = (0..n).map(|i| few[i % 5]).collect();
    for i in (0..n).step_by(7) {
        b[i] = Affine::<P>::identity();
    }
    for i in (3..n).step_by(11) {
        b[i] = -b[i - 1];
    }
    for kind in [
        Kind::Random,
        Kind::Bit,
        Kind::U8,
        Kind::U64,
        Kind::NegSmall,
        Kind::One,
    ] {
        let s = scalars(kind, n, &mut r);
        check(&b, &s, true, &format!("awkward bases {kind:?}"));
    }
    // P and -P with the same scalar, and P with k and r - k: all cancel.
    let p = few[0];
    let k = scalar(Kind::Random, &mut r);
    let neg_k = (-Fr::from_bigint(k).unwrap()).into_bigint();
    let b2 = vec![p, -p, p, p, few[1], -few[1]];
    let s2 = vec![k, k, k, neg_k, k, k];
    check(&b2, &s2, true, "cancelling pairs");
    assert!(credence_msm::msm::msm(&b2, &s2).is_zero());
    // Only identity bases.
    let ids = vec![Affine::<P>::identity(); 300];
    check(
        &ids,
        &scalars(Kind::Random, 300, &mut r),
        true,
        "identity bases",
    );
    // One base many times with random scalars (doublings inside buckets).
    let same = vec![p; 2500];
    check(
        &same,
        &scalars(Kind::Random, 2500, &mut r),
        true,
        "one base repeated",
    );
}

#[test]
fn awkward_bases_g1() {
    awkward_bases::<G1>(10);
}

#[test]
fn awkward_bases_g2() {
    awkward_bases::<G2>(11);
}

#[test]
fn mismatched_lengths_use_the_shorter() {
    let mut r = rng(12);
    let b = bases::<G1>(100, &mut r);
    let s = scalars(Kind::Random, 100, &mut r);
    assert_eq!(msm_g1(&b, &s[..60]), msm_g1(&b[..60], &s[..60]));
    assert_eq!(msm_g1(&b[..30], &s), msm_g1(&b[..30], &s[..30]));
    check(&b[..40], &s, false, "bases shorter");
    check(&b, &s[..40], false, "scalars shorter");
}

#[test]
fn randomized_shapes() {
    let mut r = rng(13);
    let pool1 = bases::<G1>(4000, &mut r);
    let pool2 = bases::<G2>(1500, &mut r);
    for round in 0..120 {
        let g2 = round % 3 == 2;
        let n = r.gen_range(0..if g2 { 1500 } else { 4000 });
        // Scalars drawn from a random subset of kinds with random weights.
        let kinds: Vec<Kind> = (0..r.gen_range(1..5))
            .map(|_| ALL_KINDS[r.gen_range(0..ALL_KINDS.len())])
            .collect();
        let s: Vec<_> = (0..n)
            .map(|_| {
                let k = kinds[r.gen_range(0..kinds.len())];
                scalar(k, &mut r)
            })
            .collect();
        let dup = r.gen_range(0..4);
        if g2 {
            let mut b: Vec<G2Affine> = pool2[..n].to_vec();
            mangle(&mut b, dup, &mut r);
            check(
                &b,
                &s,
                round % 10 == 2,
                &format!("round {round} G2 {kinds:?}"),
            );
        } else {
            let mut b: Vec<G1Affine> = pool1[..n].to_vec();
            mangle(&mut b, dup, &mut r);
            check(
                &b,
                &s,
                round % 10 == 0,
                &format!("round {round} G1 {kinds:?}"),
            );
        }
    }
}

/// Randomly repeats, negates or zeroes some bases (`level` 0 leaves them).
fn mangle<P: MsmCurve>(b: &mut [Affine<P>], level: usize, r: &mut impl Rng) {
    if b.is_empty() {
        return;
    }
    for _ in 0..level * b.len() / 8 {
        let (i, j) = (r.gen_range(0..b.len()), r.gen_range(0..b.len()));
        b[i] = match r.gen_range(0..3) {
            0 => b[j],
            1 => -b[j],
            _ => Affine::<P>::identity(),
        };
    }
}

#[test]
fn large_g1_random_and_mixed() {
    let mut r = rng(14);
    let n = 1 << 16;
    let b = bases::<G1>(n, &mut r);
    check(
        &b,
        &scalars(Kind::Random, n, &mut r),
        true,
        "G1 2^16 random",
    );
    check(&b, &mixed_scalars(n, &mut r), false, "G1 2^16 mixed");
    check(&b, &scalars(Kind::Bit, n, &mut r), false, "G1 2^16 bits");
}

#[test]
fn large_g2_random_and_mixed() {
    let mut r = rng(15);
    let n = 1 << 16;
    let b = bases::<G2>(n, &mut r);
    check(
        &b,
        &scalars(Kind::Random, n, &mut r),
        false,
        "G2 2^16 random",
    );
    check(&b, &mixed_scalars(n, &mut r), false, "G2 2^16 mixed");
}

#[test]
fn named_entry_points_match_generic() {
    let mut r = rng(16);
    let b1 = bases::<G1>(500, &mut r);
    let b2 = bases::<G2>(500, &mut r);
    let s = mixed_scalars(500, &mut r);
    assert_eq!(msm_g1(&b1, &s), credence_msm::msm::msm(&b1, &s));
    assert_eq!(msm_g2(&b2, &s), credence_msm::msm::msm(&b2, &s));
    // And against the definition with a handful of points.
    let direct: ark_bn254::G1Projective = b1[..5]
        .iter()
        .zip(&s[..5])
        .map(|(p, k)| {
            *p * Fr::from_bigint(*k)
                .unwrap_or_else(|| Fr::from_le_bytes_mod_order(&ark_ff::BigInteger::to_bytes_le(k)))
        })
        .sum();
    assert_eq!(
        msm_g1(&b1[..5], &s[..5]).into_affine(),
        direct.into_affine()
    );
}

/// The work is cut into pieces that the pool's threads take dynamically
/// (the last window is split per thread): any thread count, and sizes
/// around the piece limit, must give the same result.
#[test]
fn any_thread_count_gives_the_same_result() {
    let mut r = rng(31);
    let b1 = bases::<G1>(5000, &mut r);
    let b2 = bases::<G2>(2100, &mut r);
    for threads in [1usize, 2, 3, 4, 7] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            for n in [1usize, 700, 1023, 1024, 2048, 2049, 5000] {
                for kind in [Kind::Random, Kind::U64, Kind::U16, Kind::Bit] {
                    let s = scalars(kind, n, &mut r);
                    check(
                        &b1[..n],
                        &s,
                        true,
                        &format!("G1 {threads} threads n {n} {kind:?}"),
                    );
                    if n <= b2.len() {
                        check(
                            &b2[..n],
                            &s,
                            false,
                            &format!("G2 {threads} threads n {n} {kind:?}"),
                        );
                    }
                }
            }
        });
    }
}
