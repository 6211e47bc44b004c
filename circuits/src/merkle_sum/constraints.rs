//! The Merkle-sum path gadget.
//!
//! Per level: two selections (1 constraint each) put the running node and its sibling in order
//! by the direction bit, then a 4-input Poseidon (297) hashes `(h_l, s_l, h_r, s_r)`; the sum
//! `s_l + s_r` is free. 299 constraints per level.
//!
//! The direction bits must be constrained boolean by the caller (the claim circuit recomposes
//! them into the leaf index); this gadget only uses them.

use crate::poseidon::constraints::poseidon_gadget;
use ark_bn254::Fr;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::SynthesisError;

/// Constrains the root `(hash, sum)` reached from a leaf along `siblings`, with `bits[j] = 1`
/// meaning the node at level `j` is a right child. Native twin: [`super::root_from_path`].
pub fn root_from_path_gadget(
    leaf_hash: &FpVar<Fr>,
    leaf_sum: &FpVar<Fr>,
    bits: &[FpVar<Fr>],
    siblings: &[(FpVar<Fr>, FpVar<Fr>)],
) -> Result<(FpVar<Fr>, FpVar<Fr>), SynthesisError> {
    if bits.len() != siblings.len() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let (mut h, mut s) = (leaf_hash.clone(), leaf_sum.clone());
    for (bit, (sib_h, sib_s)) in bits.iter().zip(siblings) {
        // left = cur + bit * (sib - cur); right = cur + sib - left.
        let left_h = &h + bit * (sib_h - &h);
        let right_h = &h + sib_h - &left_h;
        let left_s = &s + bit * (sib_s - &s);
        let right_s = &s + sib_s - &left_s;
        h = poseidon_gadget(&[left_h, left_s, right_h, right_s])?;
        s += sib_s;
    }
    Ok((h, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle_sum::root_from_path;
    use ark_r1cs_std::{GR1CSVar, alloc::AllocVar};
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;
    use rand_chacha::{
        ChaCha20Rng,
        rand_core::{RngCore, SeedableRng},
    };

    #[test]
    fn gadget_equals_native_on_random_paths() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        for depth in [4usize, 7] {
            for _ in 0..4 {
                let cs = ConstraintSystem::<Fr>::new_ref();
                let index = rng.next_u64() & ((1 << depth) - 1);
                let leaf = (Fr::rand(&mut rng), Fr::from(rng.next_u32() as u64));
                let path: Vec<(Fr, Fr)> = (0..depth)
                    .map(|_| (Fr::rand(&mut rng), Fr::from(rng.next_u32() as u64)))
                    .collect();
                let w = |x: Fr| FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
                let bits: Vec<_> = (0..depth).map(|j| w(Fr::from((index >> j) & 1))).collect();
                let sibs: Vec<_> = path.iter().map(|(h, s)| (w(*h), w(*s))).collect();
                let (h, s) = root_from_path_gadget(&w(leaf.0), &w(leaf.1), &bits, &sibs).unwrap();
                let (nh, ns) = root_from_path(leaf.0, leaf.1, index, &path);
                assert_eq!((h.value().unwrap(), s.value().unwrap()), (nh, ns));
                assert!(cs.is_satisfied().unwrap());
                assert_eq!(cs.num_constraints(), depth * 299);
            }
        }
    }
}
