//! Which groups the MSM supports and their tuned cost figures.

use super::tuning::Tuning;
use crate::{field, inverse};
use ark_bn254::{Fq, Fq2};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ff::Field;

/// A short-Weierstrass group our MSM runs on: it needs arkworks' GLV data
/// (endomorphism and lattice basis) and the planner's cost figures.
///
/// Implemented for BN254 G1 and G2. Another GLV curve can implement it with
/// its own measured [`Tuning`]; if its scalar field is not four 64-bit limbs
/// the MSM falls back to arkworks' implementation, and if its lattice basis
/// does not give 128-bit halves it runs without GLV.
pub trait MsmCurve: GLVConfig {
    /// Cost figures for the window planner (see [`Tuning`]).
    const TUNING: Tuning;

    /// Field in which a batch of affine additions shares its one inversion:
    /// the base field itself, or for a quadratic extension its base field
    /// (through the norm), where each batch step is several times cheaper.
    #[doc(hidden)]
    type NormField: Field;

    /// A multiplicative map to [`Self::NormField`] that is zero only at zero
    /// (the identity for a prime field, the norm for `Fq2`).
    #[doc(hidden)]
    fn norm(d: &Self::BaseField) -> Self::NormField;

    /// `1 / d`, given `inv_norm = 1 / norm(d)` (`d` non-zero).
    #[doc(hidden)]
    fn inverse_from_norm(d: &Self::BaseField, inv_norm: &Self::NormField) -> Self::BaseField;

    /// `a * b` in the base field, as the batch loops compute it. BN254
    /// overrides this, [`Self::square`] and [`Self::norm_mul`] with
    /// `crate::field`'s; the defaults are arkworks' operators.
    #[doc(hidden)]
    #[inline(always)]
    fn mul(a: &Self::BaseField, b: &Self::BaseField) -> Self::BaseField {
        *a * b
    }

    /// `a^2` in the base field.
    #[doc(hidden)]
    #[inline(always)]
    fn square(a: &Self::BaseField) -> Self::BaseField {
        a.square()
    }

    /// `a * b` in [`Self::NormField`] (the running products of a batch).
    #[doc(hidden)]
    #[inline(always)]
    fn norm_mul(a: &Self::NormField, b: &Self::NormField) -> Self::NormField {
        *a * b
    }

    /// `1 / a` in [`Self::NormField`] (once per batch), `None` for zero.
    #[doc(hidden)]
    fn norm_inverse(a: &Self::NormField) -> Option<Self::NormField> {
        a.inverse()
    }

    /// Whole batches of affine additions computed several at a time, where
    /// the CPU allows ([`LaneAdds::available`]); [`NoLanes`] otherwise.
    #[doc(hidden)]
    type Lanes: LaneAdds<Self::BaseField>;
}

/// A batch of independent affine additions `(x1, y1) + (x2, y2)` (each with
/// `x1 != x2`, no input the identity), performed together with one shared
/// inversion: the batch-affine flush hands its pending additions to this
/// when the CPU has the instructions, instead of running them one by one.
#[doc(hidden)]
pub trait LaneAdds<F>: Default {
    /// Whether this CPU runs [`Self::run`].
    fn available() -> bool;
    /// Records one addition.
    fn push(&mut self, x1: &F, y1: &F, x2: &F, y2: &F);
    /// Performs every recorded addition.
    fn run(&mut self);
    /// Sum `k`, in the order pushed (after [`Self::run`]).
    fn sum(&self, k: usize) -> (F, F);
    /// Forgets the recorded additions.
    fn clear(&mut self);
}

/// No lane-parallel additions: the scalar flush always runs.
#[doc(hidden)]
#[derive(Default)]
pub struct NoLanes;

impl<F> LaneAdds<F> for NoLanes {
    fn available() -> bool {
        false
    }

    fn push(&mut self, _: &F, _: &F, _: &F, _: &F) {
        unreachable!("NoLanes is never available")
    }

    fn run(&mut self) {}

    fn sum(&self, _: usize) -> (F, F) {
        unreachable!("NoLanes is never available")
    }

    fn clear(&mut self) {}
}

/// G1 and G2 with AVX-512 IFMA: eight additions per instruction stream.
impl<F: crate::ifma::Coord> LaneAdds<F> for crate::ifma::AddBatch<F> {
    fn available() -> bool {
        crate::ifma::available()
    }

    #[inline(always)]
    fn push(&mut self, x1: &F, y1: &F, x2: &F, y2: &F) {
        self.push(x1, y1, x2, y2)
    }

    fn run(&mut self) {
        self.run()
    }

    #[inline(always)]
    fn sum(&self, k: usize) -> (F, F) {
        self.sum(k)
    }

    fn clear(&mut self) {
        self.clear()
    }
}

impl MsmCurve for ark_bn254::g1::Config {
    const TUNING: Tuning = Tuning {
        reduce_cost: 4.0,
        xyzz_cost: 1.7,
        // Our safegcd inversion (`crate::inverse`, 1.9 us here) is about a
        // quarter of ark-ff's binary one (7.9 us), against which this was
        // 16. The plans at 2^15..2^21 points are the same with either.
        inversion_cost: 4.0,
        max_batch: 512,
        bucket_ratio: 8,
        min_batch_points: 256,
        replicate_below: 2048,
        // 64-byte bucket slots: 4096 slots = 256 KiB, half of a core's L2
        // (the other half holds the point stream). With 8192, 2^18 inputs
        // got 9 windows of 2^13-2^14 buckets, measured ~5% slower than 10.
        cache_buckets: 4096,
        miss_cost: 0.12,
        affine_reduce_cost: 2.5,
        lane_len: 32,
        min_lanes: 64,
        lanes: true,
    };

    type NormField = Fq;

    #[inline(always)]
    fn norm(d: &Fq) -> Fq {
        *d
    }

    #[inline(always)]
    fn inverse_from_norm(_: &Fq, inv_norm: &Fq) -> Fq {
        *inv_norm
    }

    #[inline(always)]
    fn mul(a: &Fq, b: &Fq) -> Fq {
        field::mul(a, b)
    }

    #[inline(always)]
    fn square(a: &Fq) -> Fq {
        field::square(a)
    }

    #[inline(always)]
    fn norm_mul(a: &Fq, b: &Fq) -> Fq {
        field::mul(a, b)
    }

    fn norm_inverse(a: &Fq) -> Option<Fq> {
        inverse::inverse(a)
    }

    type Lanes = crate::ifma::AddBatch<Fq>;
}

impl MsmCurve for ark_bn254::g2::Config {
    const TUNING: Tuning = Tuning {
        reduce_cost: 4.0,
        xyzz_cost: 1.7,
        // A quarter of the 6.0 measured with ark-ff's inversion (as on G1).
        inversion_cost: 1.5,
        max_batch: 512,
        bucket_ratio: 8,
        min_batch_points: 256,
        replicate_below: 2048,
        // 128-byte points: 4096 slots = 512 KiB.
        cache_buckets: 4096,
        miss_cost: 0.12,
        affine_reduce_cost: 2.5,
        lane_len: 32,
        min_lanes: 64,
        lanes: true,
    };

    type NormField = Fq;

    /// `N(d0 + d1 u) = d0^2 + d1^2` (as `u^2 = -1` in BN254's `Fq2`): two
    /// `Fq` squares instead of an `Fq2` multiplication.
    #[inline(always)]
    fn norm(d: &Fq2) -> Fq {
        field::norm2(d)
    }

    /// `1 / d = conj(d) / N(d)`.
    #[inline(always)]
    fn inverse_from_norm(d: &Fq2, inv_norm: &Fq) -> Fq2 {
        Fq2::new(field::mul(&d.c0, inv_norm), -field::mul(&d.c1, inv_norm))
    }

    #[inline(always)]
    fn mul(a: &Fq2, b: &Fq2) -> Fq2 {
        field::mul2(a, b)
    }

    #[inline(always)]
    fn square(a: &Fq2) -> Fq2 {
        field::square2(a)
    }

    #[inline(always)]
    fn norm_mul(a: &Fq, b: &Fq) -> Fq {
        field::mul(a, b)
    }

    fn norm_inverse(a: &Fq) -> Option<Fq> {
        inverse::inverse(a)
    }

    type Lanes = crate::ifma::AddBatch<Fq2>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, UniformRand, Zero};
    use ark_std::rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn check<P: MsmCurve>(samples: &[P::BaseField]) {
        for d in samples.iter().filter(|d| !d.is_zero()) {
            let n = P::norm(d);
            assert!(!n.is_zero(), "norm vanishes only at zero");
            let inv = P::inverse_from_norm(d, &P::norm_inverse(&n).unwrap());
            assert_eq!(inv, d.inverse().unwrap());
        }
        // Multiplicative, so a product of norms inverts to the product of
        // the inverses (what the batched inversion relies on).
        for w in samples.windows(2) {
            assert_eq!(P::norm(&(w[0] * w[1])), P::norm(&w[0]) * P::norm(&w[1]));
        }
    }

    #[test]
    fn norms_invert_like_the_field() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut fq: Vec<Fq> = vec![Fq::ONE, -Fq::ONE, Fq::from(2u64), Fq::ZERO];
        fq.extend((0..200).map(|_| Fq::rand(&mut rng)));
        check::<ark_bn254::g1::Config>(&fq);
        let mut fq2: Vec<Fq2> = vec![
            Fq2::ONE,
            -Fq2::ONE,
            Fq2::new(Fq::ZERO, Fq::ONE),
            Fq2::new(Fq::ZERO, -Fq::ONE),
            Fq2::new(Fq::ONE, Fq::ONE),
            Fq2::new(Fq::ONE, -Fq::ONE),
            Fq2::new(Fq::rand(&mut rng), Fq::ZERO),
            Fq2::ZERO,
        ];
        fq2.extend((0..200).map(|_| Fq2::rand(&mut rng)));
        check::<ark_bn254::g2::Config>(&fq2);
        // The G2 norm assumes u^2 = -1.
        assert_eq!(
            <ark_bn254::Fq2Config as ark_ff::Fp2Config>::NONRESIDUE,
            -Fq::ONE
        );
    }
}
