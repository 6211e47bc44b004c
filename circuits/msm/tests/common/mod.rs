//! Shared helpers: deterministic inputs and the comparison with arkworks.
#![allow(dead_code)]

use ark_bn254::Fr;
use ark_ec::{
    CurveGroup, VariableBaseMSM,
    short_weierstrass::{Affine, Projective},
};
use ark_ff::{BigInteger, PrimeField, UniformRand};
use ark_std::rand::{Rng, SeedableRng};
use credence_msm::msm::{MsmCurve, Options, ScalarBigInt, msm, msm_with_options};
use rand_chacha::ChaCha20Rng;

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// `n` distinct-looking bases: a random walk with random steps, normalised
/// in one batch (far cheaper than a scalar multiplication per base).
pub fn bases<P: MsmCurve>(n: usize, rng: &mut ChaCha20Rng) -> Vec<Affine<P>>
where
    Projective<P>: UniformRand,
{
    let steps: Vec<Projective<P>> = (0..33).map(|_| Projective::<P>::rand(rng)).collect();
    let mut acc = Projective::<P>::rand(rng);
    let walk: Vec<Projective<P>> = (0..n)
        .map(|_| {
            acc += steps[rng.gen_range(0..steps.len())];
            acc
        })
        .collect();
    Projective::normalize_batch(&walk)
}

/// The kinds of scalars a Groth16 witness (and an adversary) produces.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Random,
    Zero,
    One,
    MinusOne,
    Bit,
    U8,
    U16,
    U32,
    U64,
    NegSmall,
    /// Not reduced: `s + r` or close to 2^256, as a BigInt may legally hold.
    Unreduced,
    /// Just above 64 bits, and `r - s` just above 64 bits.
    Boundary,
}

pub const ALL_KINDS: [Kind; 12] = [
    Kind::Random,
    Kind::Zero,
    Kind::One,
    Kind::MinusOne,
    Kind::Bit,
    Kind::U8,
    Kind::U16,
    Kind::U32,
    Kind::U64,
    Kind::NegSmall,
    Kind::Unreduced,
    Kind::Boundary,
];

pub fn scalar(kind: Kind, rng: &mut ChaCha20Rng) -> ScalarBigInt {
    let f = match kind {
        Kind::Random => Fr::rand(rng),
        Kind::Zero => Fr::from(0u64),
        Kind::One => Fr::from(1u64),
        Kind::MinusOne => -Fr::from(1u64),
        Kind::Bit => Fr::from(rng.r#gen::<bool>() as u64),
        Kind::U8 => Fr::from(rng.r#gen::<u8>()),
        Kind::U16 => Fr::from(rng.r#gen::<u16>()),
        Kind::U32 => Fr::from(rng.r#gen::<u32>()),
        Kind::U64 => Fr::from(rng.r#gen::<u64>()),
        Kind::NegSmall => {
            let bits = rng.gen_range(1..64);
            -Fr::from(rng.gen_range(0u64..1 << bits))
        }
        Kind::Unreduced => {
            if rng.r#gen::<bool>() {
                // s + r (no overflow for small s)
                let mut b = Fr::from(rng.r#gen::<u64>()).into_bigint();
                b.add_with_carry(&Fr::MODULUS);
                return b;
            }
            let mut b = ScalarBigInt::new([u64::MAX; 4]);
            b.sub_with_borrow(&ScalarBigInt::from(rng.r#gen::<u32>()));
            return b;
        }
        Kind::Boundary => {
            let v = Fr::from(u64::MAX) + Fr::from(rng.gen_range(1u64..1000));
            if rng.r#gen::<bool>() { v } else { -v }
        }
    };
    f.into_bigint()
}

pub fn scalars(kind: Kind, n: usize, rng: &mut ChaCha20Rng) -> Vec<ScalarBigInt> {
    (0..n).map(|_| scalar(kind, rng)).collect()
}

/// A mix of every kind, in random order.
pub fn mixed_scalars(n: usize, rng: &mut ChaCha20Rng) -> Vec<ScalarBigInt> {
    (0..n)
        .map(|_| {
            let k = ALL_KINDS[rng.gen_range(0..ALL_KINDS.len())];
            scalar(k, rng)
        })
        .collect()
}

/// `s mod r` as a canonical big integer.
pub fn canonical(s: &ScalarBigInt) -> ScalarBigInt {
    Fr::from_le_bytes_mod_order(&s.to_bytes_le()).into_bigint()
}

/// Asserts ours equals arkworks' `msm_bigint` (default options, and all
/// option sets if `all_options`).
///
/// The reference gets the scalars reduced mod r: arkworks' signed-digit
/// path reads only the low 254 bits of a non-canonical big integer, so for
/// scalars at or above 2^254 it does not return the textbook sum (ark-groth16
/// only ever passes canonical ones). Ours reduces mod r itself, which the
/// unreduced inputs here check.
pub fn check<P: MsmCurve<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &[ScalarBigInt],
    all_options: bool,
    what: &str,
) {
    let reduced: Vec<ScalarBigInt> = scalars.iter().map(canonical).collect();
    let expect = Projective::<P>::msm_bigint(bases, &reduced).into_affine();
    let got = msm(bases, scalars).into_affine();
    assert_eq!(
        got,
        expect,
        "{what}: default options, n = {}",
        bases.len().min(scalars.len())
    );
    if all_options {
        for o in Options::checked_sets() {
            let got = msm_with_options(bases, scalars, &o).into_affine();
            assert_eq!(got, expect, "{what}: {o:?}");
        }
    }
}
