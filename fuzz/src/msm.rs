//! The MSM target: bytes -> (bases, scalars) -> assert our MSM (`credence-msm`) equals
//! arkworks' `msm_bigint`. Not a parser: the MSM takes no outside bytes, but a mismatch on any
//! input is a soundness bug in the prover (a wrong proof), so it is fuzzed like one.
//!
//! Layout: byte 0 picks the group (bit 7: G2) and the length (low bits,
//! up to 63 pairs). Each pair then reads one base byte and one scalar byte,
//! plus scalar payload bytes for the kinds that need them. Missing bytes
//! read as zero, so every input decodes.
//!
//! Bases come from a fixed table of multiples of the generator, so inputs
//! hit repeats, negations (P, -P) and the identity often.

use ark_bn254::Fr;
use ark_ec::{
    AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM,
    short_weierstrass::{Affine, Projective},
};
use ark_ff::{BigInteger, PrimeField};
use credence_msm::msm::{
    MsmCurve, Options, ScalarBigInt, Tuning, msm_g1, msm_g2, msm_with_options,
};

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |acc, _| acc << 8 | u64::from(self.byte()))
    }
}

/// Table of 16 multiples `(3j + 1) * G`: small enough that random picks repeat.
fn table<G: PrimeGroup + CurveGroup>() -> Vec<G::Affine> {
    let g = G::generator();
    let pts: Vec<G> = (0..16u64)
        .map(|j| g * G::ScalarField::from(3 * j + 1))
        .collect();
    G::normalize_batch(&pts)
}

fn base<A: AffineRepr>(table: &[A], b: u8) -> A {
    match b >> 6 {
        0 | 1 => table[(b & 15) as usize],
        2 => -table[(b & 15) as usize],
        _ => {
            if b & 1 == 0 {
                A::zero()
            } else {
                table[0]
            }
        }
    }
}

fn scalar(r: &mut Reader, previous: Option<ScalarBigInt>) -> ScalarBigInt {
    let kind = r.byte();
    let f = match kind % 10 {
        0 => Fr::from(0u64),
        1 => Fr::from(1u64),
        2 => -Fr::from(1u64),
        3 => Fr::from(r.byte()),
        4 => -Fr::from(r.byte()),
        5 => Fr::from(r.u64()),
        6 => -Fr::from(r.u64()),
        7 => {
            // Full width, reduced.
            let limbs = [r.u64(), r.u64(), r.u64(), r.u64()];
            let mut bytes = Vec::with_capacity(32);
            for l in limbs {
                bytes.extend_from_slice(&l.to_le_bytes());
            }
            Fr::from_le_bytes_mod_order(&bytes)
        }
        8 => {
            // A raw, possibly non-canonical 256-bit integer.
            return ScalarBigInt::new([r.u64(), r.u64(), r.u64(), r.u64()]);
        }
        _ => return previous.unwrap_or_default(),
    };
    f.into_bigint()
}

fn canonical(s: &ScalarBigInt) -> ScalarBigInt {
    Fr::from_le_bytes_mod_order(&s.to_bytes_le()).into_bigint()
}

/// Decodes `data` and panics if our MSM disagrees with arkworks.
pub fn check(data: &[u8]) {
    let mut r = Reader { data, at: 0 };
    let head = r.byte();
    let g2 = head & 0x80 != 0;
    let n = (head & 0x3f) as usize;
    let mut base_bytes = Vec::with_capacity(n);
    let mut scalars: Vec<ScalarBigInt> = Vec::with_capacity(n);
    for _ in 0..n {
        base_bytes.push(r.byte());
        let prev = scalars.last().copied();
        scalars.push(scalar(&mut r, prev));
    }
    // The reference reads canonical scalars: arkworks only looks at the low
    // 254 bits of a big integer, ours reduces mod r.
    let reduced: Vec<ScalarBigInt> = scalars.iter().map(canonical).collect();
    if g2 {
        compare::<ark_bn254::g2::Config>(&base_bytes, &scalars, &reduced, msm_g2);
    } else {
        compare::<ark_bn254::g1::Config>(&base_bytes, &scalars, &reduced, msm_g1);
    }
}

/// Our MSM through `entry` (the group's named entry point) and through every checked option
/// set, against arkworks' `msm_bigint` on the canonical scalars `reduced`.
fn compare<P: MsmCurve<ScalarField = Fr>>(
    base_bytes: &[u8],
    scalars: &[ScalarBigInt],
    reduced: &[ScalarBigInt],
    entry: fn(&[Affine<P>], &[ScalarBigInt]) -> Projective<P>,
) {
    let t = table::<Projective<P>>();
    let bases: Vec<Affine<P>> = base_bytes.iter().map(|&b| base(&t, b)).collect();
    let expect = Projective::<P>::msm_bigint(&bases, reduced).into_affine();
    assert_eq!(entry(&bases, scalars).into_affine(), expect);
    for o in Options::checked_sets().iter().chain(&batched::<P>()) {
        assert_eq!(
            msm_with_options(&bases, scalars, o).into_affine(),
            expect,
            "{o:?}"
        );
    }
}

/// Option sets that take a few dozen points through the batch-affine buckets (by default
/// they start at hundreds, more than an input here holds), once through each flush (the
/// vector lanes where the CPU has them, and the scalar one): 20 windows of 7 bits over the
/// GLV halves, 64 buckets, batches of up to 64 additions.
fn batched<P: MsmCurve>() -> [Options; 2] {
    let tuning = Tuning {
        min_batch_points: 8,
        bucket_ratio: 1,
        replicate_below: 0,
        ..P::TUNING
    };
    [true, false].map(|lanes| Options {
        small_paths: false,
        full_windows: Some((20, 1)),
        tuning: Some(tuning),
        lanes,
        ..Options::default()
    })
}
