//! Multi-scalar multiplication (MSM) for BN254 G1 and G2 on arkworks 0.6
//! affine points.
//!
//! # Invariant
//!
//! For bases `P_i` in the prime-order subgroup and scalars `s_i` (any
//! 256-bit integers, read mod `r`), every entry point returns exactly the
//! textbook sum `sum_i s_i * P_i` over the first `min(bases.len(),
//! scalars.len())` pairs, as a projective point. It equals arkworks'
//! `VariableBaseMSM::msm_bigint` on the same input (the tests compare the
//! two on many input shapes) whenever the scalars are canonical (`< r`, as
//! `PrimeField::into_bigint` returns them and as ark-groth16 passes them).
//! For non-canonical big integers at or above 2^254, arkworks 0.6 reads only
//! the low 254 bits and so does not return the textbook sum; we reduce mod
//! `r` and do.
//!
//! Mismatched lengths are not an error: like `msm_bigint`, the longer slice
//! is cut to the shorter one. Callers that want a hard check should compare
//! lengths before calling.
//!
//! Subgroup membership matters only for GLV (`k * P = k1 * P + k2 * phi(P)`
//! holds on the prime-order subgroup). Every BN254 G1 point qualifies
//! (cofactor 1); G2 points do if they came through arkworks' validated
//! deserialisation or from group operations on such points, as proving keys do.
//!
//! # How
//!
//! Scalars are first sorted by size ([`classify`]):
//! * zero scalars and identity bases are dropped;
//! * `+-1`: the (negated) bases are summed with batched affine additions
//!   ([`pairwise`]);
//! * magnitudes (of `s` or `r - s`) up to 8/16/32/64 bits: bucket method on
//!   the short magnitude ([`buckets`]), with every bucket replicated when a
//!   window has few buckets, so batches rarely conflict;
//! * everything else: GLV split into two ~128-bit halves ([`glv`]), then the
//!   bucket method with signed digits ([`digits`]) and batch-affine buckets
//!   ([`batch_affine`]), reduced with lane-batched affine sums ([`reduce`]).
//!
//! The batch loops multiply in the base field through `crate::field`: a
//! Montgomery multiplication in BMI2/ADX assembly when the CPU has those
//! instructions (checked at run time), arkworks' otherwise
//! ([`crate::field_backend`] says which). Where the CPU has AVX-512 IFMA,
//! whole batches of affine additions run eight at a time in `crate::ifma`
//! instead ([`crate::lanes_backend`]).
//!
//! Bases are referenced by index, never copied per path ([`points`]). The
//! parts are added at the end. Window widths and the split of work over
//! rayon threads come from a per-group cost model ([`tuning`], figures in
//! [`curve`]).
//!
//! # Features
//!
//! `parallel` (default) spreads windows and point chunks over the current
//! rayon pool; without it everything runs on the calling thread and gives
//! the same result.

#![forbid(unsafe_code)]

mod batch_affine;
mod buckets;
mod classify;
mod curve;
mod digits;
mod glv;
mod pairwise;
mod parallel;
mod points;
mod reduce;
mod tuning;

pub use curve::MsmCurve;
#[doc(hidden)]
pub use curve::{LaneAdds, NoLanes};
pub use tuning::Tuning;

use crate::uint::U256;
use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{
    scalar_mul::variable_base::VariableBaseMSM,
    short_weierstrass::{Affine, Bucket, Projective},
};
use ark_ff::PrimeField;
use classify::SMALL_WIDTHS;

/// Scalars as arkworks' Groth16 prover passes them: canonical big integers.
pub type ScalarBigInt = <Fr as PrimeField>::BigInt;

/// `sum_i scalars[i] * bases[i]` on BN254 G1 (lengths cut to the shorter).
pub fn msm_g1(bases: &[G1Affine], scalars: &[ScalarBigInt]) -> G1Projective {
    msm(bases, scalars)
}

/// `sum_i scalars[i] * bases[i]` on BN254 G2 (lengths cut to the shorter).
pub fn msm_g2(bases: &[G2Affine], scalars: &[ScalarBigInt]) -> G2Projective {
    msm(bases, scalars)
}

/// `sum_i scalars[i] * bases[i]` on any [`MsmCurve`] (lengths cut to the shorter).
pub fn msm<P: MsmCurve>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
) -> Projective<P> {
    msm_with_options(bases, scalars, &Options::default())
}

/// Knobs for tests and tuning sweeps; the defaults are what [`msm`] uses.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Options {
    /// Split full-width scalars with GLV (when the curve allows it).
    pub glv: bool,
    /// Route small scalars to their own paths; if false, every non-zero
    /// scalar takes the full-width path.
    pub small_paths: bool,
    /// Force this many windows (and chunks) on the full-width path.
    pub full_windows: Option<(usize, usize)>,
    /// Override the curve's cost figures.
    pub tuning: Option<Tuning>,
    /// Let batch-affine flushes use the CPU's vector lanes where the curve
    /// has them ([`MsmCurve::Lanes`]); false forces the scalar flush.
    pub lanes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            glv: true,
            small_paths: true,
            full_windows: None,
            tuning: None,
            lanes: true,
        }
    }
}

impl Options {
    /// The option sets the tests and the fuzz target compare with arkworks: the defaults,
    /// every scalar on the full-width path, the full-width path without GLV, and the
    /// defaults with the scalar flush only (on a CPU with vector lanes, the defaults
    /// take them).
    pub fn checked_sets() -> [Options; 4] {
        [
            Options::default(),
            Options {
                lanes: false,
                ..Options::default()
            },
            Options {
                small_paths: false,
                ..Options::default()
            },
            Options {
                glv: false,
                ..Options::default()
            },
        ]
    }
}

/// [`msm`] with explicit [`Options`].
#[doc(hidden)]
pub fn msm_with_options<P: MsmCurve>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    options: &Options,
) -> Projective<P> {
    let n = bases.len().min(scalars.len());
    let (bases, scalars) = (&bases[..n], &scalars[..n]);
    let Some(r) = glv::limbs4(&P::ScalarField::MODULUS) else {
        // Our integer helpers are 4-limb; other fields use arkworks.
        return <Projective<P> as VariableBaseMSM>::msm_bigint(bases, scalars);
    };
    let mut tuning = options
        .tuning
        .unwrap_or_else(|| P::TUNING.for_this_machine());
    tuning.lanes &= options.lanes;
    let limbs = |i: usize| glv::limbs4(&scalars[i]).expect("same limb count as the modulus");
    let parts = classify::partition(bases, limbs, &r, options.small_paths);

    // +-1: plain sum of the (negated) bases.
    let mut acc = pairwise::sum(bases, &parts.ones);

    // Short magnitudes.
    for ((refs, mags), width) in parts.small.iter().zip(SMALL_WIDTHS) {
        let points = points::Indexed { bases, refs };
        acc += &buckets::pippenger(&points, mags, width, &tuning, None);
    }

    // Full width.
    if !parts.full.is_empty() {
        acc += &full_width::<P>(bases, &parts.full, &limbs, &r, &tuning, options);
    }
    acc.into()
}

/// The full-width scalars `scalars[i]` for the refs `i << 1` in `full`.
fn full_width<P: MsmCurve>(
    bases: &[Affine<P>],
    full: &[points::Ref],
    limbs: &(impl Fn(usize) -> U256 + Sync),
    r: &U256,
    tuning: &Tuning,
    options: &Options,
) -> Bucket<P> {
    let forced = |bits: u32| {
        options.full_windows.map(|(w, c)| tuning::Plan {
            windows: digits::WindowPlan::new(bits, w),
            chunks: c,
        })
    };
    let split = if options.glv {
        glv::GlvSplit::new::<P>()
    } else {
        None
    };
    let index = |j: usize| (full[j] >> 1) as usize;
    match split {
        Some(split) => {
            // Item 2j is ±P, item 2j + 1 is ±phi(P): magnitudes |k1|, |k2|.
            // One pass fills all three tables (each scalar is split once).
            let n = full.len();
            let mut refs: Vec<points::Ref> = vec![0; n];
            let mut endo: Vec<Affine<P>> = vec![Affine::identity(); n];
            let mut mags: Vec<u128> = vec![0; 2 * n];
            parallel::fill3::<_, _, _, 2, _>(&mut refs, &mut endo, &mut mags, |j, rf, e, m| {
                let i = index(j);
                let [(neg1, m1), (neg2, m2)] = split.split(&classify::reduce(&limbs(i), r));
                *rf = points::make_ref(i, neg1);
                let q = P::endomorphism_affine(&bases[i]);
                *e = if neg2 { -q } else { q };
                m[0] = m1;
                m[1] = m2;
            });
            let points = points::Glv {
                bases,
                refs: &refs,
                endo: &endo,
            };
            buckets::pippenger(&points, &mags, 128, tuning, forced(128))
        }
        None => {
            let mags: Vec<U256> =
                parallel::map_indices(full.len(), |j| classify::reduce(&limbs(index(j)), r));
            let points = points::Indexed { bases, refs: full };
            let bits = P::ScalarField::MODULUS_BIT_SIZE;
            buckets::pippenger(&points, &mags, bits, tuning, forced(bits))
        }
    }
}

/// Converts field elements to the big integers the MSM takes.
pub fn scalars_to_bigints<F: PrimeField>(scalars: &[F]) -> Vec<F::BigInt> {
    parallel::map_indices(scalars.len(), |i| scalars[i].into_bigint())
}
