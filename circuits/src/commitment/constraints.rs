//! Gadget twins of the native commitment functions.

use crate::poseidon::constraints::poseidon_gadget;
use ark_bn254::Fr;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::SynthesisError;

/// Constrains `H(secret)`.
pub fn contributor_id_gadget(secret: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    poseidon_gadget(std::slice::from_ref(secret))
}

/// Constrains `H(digest, blinding)`.
pub fn commitment_gadget(
    digest: &FpVar<Fr>,
    blinding: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    poseidon_gadget(&[digest.clone(), blinding.clone()])
}

/// Constrains `H(contributor_id, commitment, weight)`.
pub fn leaf_hash_gadget(
    contributor_id: &FpVar<Fr>,
    commitment: &FpVar<Fr>,
    weight: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    poseidon_gadget(&[contributor_id.clone(), commitment.clone(), weight.clone()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_r1cs_std::{GR1CSVar, alloc::AllocVar};
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;
    use rand_chacha::{
        ChaCha20Rng,
        rand_core::{RngCore, SeedableRng},
    };

    #[test]
    fn gadgets_equal_native_on_random_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for _ in 0..8 {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let (s, d, b) = (Fr::rand(&mut rng), Fr::rand(&mut rng), Fr::rand(&mut rng));
            let w = rng.next_u64();
            let var = |x: Fr| FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
            let id = contributor_id_gadget(&var(s)).unwrap();
            let cm = commitment_gadget(&var(d), &var(b)).unwrap();
            let leaf = leaf_hash_gadget(&id, &cm, &var(Fr::from(w))).unwrap();
            let id_n = super::super::contributor_id(&s);
            let cm_n = super::super::commitment(&d, &b);
            assert_eq!(id.value().unwrap(), id_n);
            assert_eq!(cm.value().unwrap(), cm_n);
            assert_eq!(
                leaf.value().unwrap(),
                super::super::leaf_hash(&id_n, &cm_n, w)
            );
            assert!(cs.is_satisfied().unwrap());
        }
    }
}
