//! GLV scalar decomposition: `k = k1 + lambda * k2 (mod r)` with
//! `|k1|, |k2| < 2^128`, so that `k * P = k1 * P + k2 * phi(P)` where
//! `phi` is the curve endomorphism with eigenvalue `lambda`.
//!
//! The lattice basis and `lambda` come from arkworks' [`GLVConfig`]; only the
//! arithmetic is ours. arkworks' own `scalar_decomposition` goes through
//! heap-allocated big integers, which would cost more than the MSM saves on
//! it, so we use the usual "precomputed reciprocal" form:
//!
//! * `beta1 = round(k * n22 / r)` and `beta2 = round(-k * n12 / r)` are
//!   approximated by `(k * g) >> 256` with `g = floor(2^256 * |n| / r)`.
//!   The approximation is off by less than 2, which only loosens the bound
//!   on `|k1|, |k2|` to `2 * (|row entries| summed)`; the identity
//!   `k1 + lambda * k2 = k (mod r)` holds exactly whatever `beta` is, because
//!   `beta * N` is always a lattice vector.
//! * Everything else is computed mod 2^256 in two's complement: the true
//!   `k1`, `k2` are small, so their residues determine them.
//!
//! [`GlvSplit::new`] checks the bound for the given curve up front and
//! returns `None` when a curve's basis is too large for 128-bit halves, in
//! which case the caller skips GLV.

use crate::uint::{self, U256};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ff::{BigInteger, PrimeField};

/// One half of a decomposed scalar: `(is_negative, magnitude)`.
pub(crate) type Half = (bool, u128);

/// Precomputed constants for splitting scalars of one curve.
#[derive(Clone, Debug)]
pub(crate) struct GlvSplit {
    /// `floor(2^256 * |n22| / r)`: reciprocal used for `beta1`.
    g1: U256,
    /// `floor(2^256 * |n12| / r)`: reciprocal used for `beta2`.
    g2: U256,
    /// Sign of `beta1` for a non-negative `k`.
    beta1_neg: bool,
    /// Sign of `beta2` for a non-negative `k`.
    beta2_neg: bool,
    /// Lattice basis `[n11, n12, n21, n22]` in two's complement mod 2^256.
    n: [U256; 4],
}

/// Reads a scalar-field big integer as four limbs, if it has exactly four.
pub(crate) fn limbs4<B: BigInteger>(b: &B) -> Option<U256> {
    match b.as_ref() {
        &[a, b, c, d] => Some([a, b, c, d]),
        _ => None,
    }
}

impl GlvSplit {
    /// Builds the splitter for curve `P`, or `None` if this curve's scalar
    /// field is not 4 limbs wide or its basis does not give 128-bit halves.
    pub(crate) fn new<P: GLVConfig>() -> Option<Self> {
        let r = limbs4(&P::ScalarField::MODULUS)?;
        let mut mags = [[0u64; 4]; 4];
        let mut n = [[0u64; 4]; 4];
        let mut positive = [true; 4];
        for (i, (pos, v)) in P::SCALAR_DECOMP_COEFFS.iter().enumerate() {
            let m = limbs4(v)?;
            if uint::geq(&m, &r) {
                return None;
            }
            mags[i] = m;
            positive[i] = *pos;
            n[i] = if *pos { m } else { uint::neg(&m) };
        }
        // |k1| < 2 (|n11| + |n21|), |k2| < 2 (|n12| + |n22|): both must be < 2^128.
        let bound1 = uint::add(&mags[0], &mags[2]);
        let bound2 = uint::add(&mags[1], &mags[3]);
        if uint::num_bits(&bound1) >= 128 || uint::num_bits(&bound2) >= 128 {
            return None;
        }
        Some(Self {
            g1: uint::div_shifted(&mags[3], &r),
            g2: uint::div_shifted(&mags[1], &r),
            // beta1 = k * n22 / r has the sign of n22; beta2 = -k * n12 / r the opposite of n12.
            beta1_neg: !positive[3],
            beta2_neg: positive[1],
            n,
        })
    }

    /// Splits `k` (which must be reduced, `k < r`) into `(k1, k2)` with
    /// `k = k1 + lambda * k2 (mod r)` and both magnitudes below 2^128.
    #[inline]
    pub(crate) fn split(&self, k: &U256) -> [Half; 2] {
        let signed = |m: U256, negative: bool| if negative { uint::neg(&m) } else { m };
        let b1 = signed(uint::mul_hi(k, &self.g1), self.beta1_neg);
        let b2 = signed(uint::mul_hi(k, &self.g2), self.beta2_neg);
        let [n11, n12, n21, n22] = &self.n;
        // (v1, v2) = beta * N is a lattice vector: v1 + lambda * v2 = 0 (mod r).
        let v1 = uint::add(&uint::mul_lo(&b1, n11), &uint::mul_lo(&b2, n21));
        let v2 = uint::add(&uint::mul_lo(&b1, n12), &uint::mul_lo(&b2, n22));
        let k1 = uint::sub(k, &v1);
        let k2 = uint::neg(&v2);
        [to_half(&k1), to_half(&k2)]
    }
}

/// Interprets a two's-complement 256-bit value known to lie in (-2^128, 2^128).
#[inline]
fn to_half(v: &U256) -> Half {
    let negative = v[3] >> 63 == 1;
    let m = if negative { uint::neg(v) } else { *v };
    // Guaranteed by the bound checked in `GlvSplit::new`; a failure here would
    // mean a wrong MSM result, so stop rather than continue silently.
    assert!(
        m[2] == 0 && m[3] == 0,
        "GLV half out of range: curve constants inconsistent"
    );
    (negative, u128::from(m[0]) | (u128::from(m[1]) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
    use ark_ff::UniformRand;
    use ark_std::rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn half_to_field<F: PrimeField>(h: Half) -> F {
        let f = F::from(h.1);
        if h.0 { -f } else { f }
    }

    fn check_curve<P: GLVConfig>(seed: u64) {
        let split = GlvSplit::new::<P>().expect("BN254 basis gives 128-bit halves");
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let r = limbs4(&P::ScalarField::MODULUS).unwrap();
        let mut cases: Vec<U256> = vec![
            [0; 4],
            [1, 0, 0, 0],
            [2, 0, 0, 0],
            uint::sub(&r, &[1, 0, 0, 0]),
            uint::sub(&r, &[2, 0, 0, 0]),
            [u64::MAX, u64::MAX, 0, 0],
            [0, 0, 1, 0],
            limbs4(&P::LAMBDA.into_bigint()).unwrap(),
        ];
        for _ in 0..2000 {
            cases.push(limbs4(&P::ScalarField::rand(&mut rng).into_bigint()).unwrap());
        }
        let mut max_bits = 0;
        for k in cases {
            let [h1, h2] = split.split(&k);
            max_bits = max_bits.max(128 - h1.1.leading_zeros());
            max_bits = max_bits.max(128 - h2.1.leading_zeros());
            let lhs = half_to_field::<P::ScalarField>(h1)
                + P::LAMBDA * half_to_field::<P::ScalarField>(h2);
            let mut kb = <P::ScalarField as PrimeField>::BigInt::default();
            kb.as_mut().copy_from_slice(&k);
            let kf = P::ScalarField::from_bigint(kb).unwrap();
            assert_eq!(lhs, kf, "k1 + lambda k2 != k for {k:?}");
        }
        assert!(max_bits <= 128);
    }

    #[test]
    fn g1_split_recombines() {
        check_curve::<ark_bn254::g1::Config>(1);
    }

    #[test]
    fn g2_split_recombines() {
        check_curve::<ark_bn254::g2::Config>(2);
    }

    fn check_endomorphism<P: GLVConfig>() {
        // phi(G) must equal lambda * G, otherwise k1 P + k2 phi(P) != k P.
        let g = ark_ec::short_weierstrass::Projective::<P>::generator();
        let lhs = P::endomorphism_affine(&g.into_affine());
        let rhs = (g * P::LAMBDA).into_affine();
        assert_eq!(lhs, rhs);
        assert!(!lhs.is_zero());
    }

    #[test]
    fn g1_endomorphism_has_eigenvalue_lambda() {
        check_endomorphism::<ark_bn254::g1::Config>();
    }

    #[test]
    fn g2_endomorphism_has_eigenvalue_lambda() {
        check_endomorphism::<ark_bn254::g2::Config>();
    }
}
