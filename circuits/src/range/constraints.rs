//! The range-check gadget: bit decomposition.
//!
//! Invariant: [`enforce_bits`] leaves the system satisfiable exactly when the value, as an
//! integer in `[0, p)`, is below `2^bits`: it allocates `bits` boolean witnesses and enforces
//! that their weighted sum equals the value. Because `2^bits < p` for every `bits` used here
//! (at most [`MAX_BITS`]), the sum cannot wrap, so no value `>= 2^bits` has a decomposition.
//! Cost: `bits + 1` constraints. [`fits_in_bits`](super::fits_in_bits) is the native twin.

use super::MAX_BITS;
use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use ark_r1cs_std::{GR1CSVar, alloc::AllocVar, boolean::Boolean, eq::EqGadget, fields::fp::FpVar};
use ark_relations::gr1cs::SynthesisError;

/// Enforces `0 <= value < 2^bits` and returns the little-endian bits.
pub fn enforce_bits(value: &FpVar<Fr>, bits: usize) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    assert!(
        bits <= MAX_BITS,
        "range check of {bits} bits could wrap the field"
    );
    let cs = value.cs();
    // The witness bits are the value's low bits: for an out-of-range value they recompose to
    // something else, and the equality below fails.
    let native = value.value().ok().map(|v| v.into_bigint().to_bits_le());
    let mut out = Vec::with_capacity(bits);
    let mut sum = FpVar::Constant(Fr::from(0u64));
    let mut coeff = Fr::from(1u64);
    for i in 0..bits {
        let bit = Boolean::new_witness(cs.clone(), || {
            native
                .as_ref()
                .map(|b| b.get(i).copied().unwrap_or(false))
                .ok_or(SynthesisError::AssignmentMissing)
        })?;
        sum += FpVar::from(bit.clone()) * coeff;
        coeff.double_in_place();
        out.push(bit);
    }
    sum.enforce_equal(value)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::fits_in_bits;
    use super::*;
    use ark_ff::Field;
    use ark_relations::gr1cs::ConstraintSystem;

    fn satisfied(value: Fr, bits: usize) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let v = FpVar::new_witness(cs.clone(), || Ok(value)).unwrap();
        enforce_bits(&v, bits).unwrap();
        assert_eq!(cs.num_constraints(), bits + 1);
        cs.is_satisfied().unwrap()
    }

    /// Boundaries: 0 and 2^k - 1 pass; 2^k, p - 1 and (p - 1)/2 + 1 fail; native agrees.
    #[test]
    fn boundaries_agree_with_native() {
        for bits in [1usize, 5, 21, 64, 160] {
            let two_k = Fr::from(2u64).pow([bits as u64]);
            let minus_one = -Fr::from(1u64);
            let half_plus = Fr::from(Fr::MODULUS_MINUS_ONE_DIV_TWO) + Fr::from(1u64);
            for (value, ok) in [
                (Fr::from(0u64), true),
                (two_k - Fr::from(1u64), true),
                (two_k, false),
                (minus_one, false),
                (half_plus, false),
            ] {
                assert_eq!(satisfied(value, bits), ok, "bits {bits}");
                assert_eq!(fits_in_bits(&value, bits), ok, "native, bits {bits}");
            }
        }
    }
}
