//! The Poseidon R1CS gadget, round for round the permutation of circomlib (and of
//! `light-poseidon`): add round constants, S-box (`x^5`, on every lane in full rounds and on lane
//! 0 in partial rounds), multiply by the MDS matrix; the output is lane 0 of the state, whose
//! initial value is 0 (circomlib's zero domain tag).
//!
//! Cost: 3 constraints per S-box (`x^2`, `x^4`, `x^5`); S-boxes of constants are free, so the
//! first S-box on the constant lane 0 costs nothing. Width 5 (a Merkle-sum parent) costs 297.

use super::parameters;
use ark_bn254::Fr;
use ark_r1cs_std::fields::{FieldVar, fp::FpVar};
use ark_relations::gr1cs::SynthesisError;

fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// Constrains and returns `H(inputs)` (see [`super::hash`]).
pub fn poseidon_gadget(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let arity = inputs.len();
    if !(1..=super::MAX_INPUTS).contains(&arity) {
        return Err(SynthesisError::Unsatisfiable);
    }
    let params = parameters(arity);
    let width = params.width;
    let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(width);
    state.push(FpVar::Constant(Fr::from(0u64)));
    state.extend(inputs.iter().cloned());

    let half = params.full_rounds / 2;
    let rounds = params.full_rounds + params.partial_rounds;
    for round in 0..rounds {
        for (i, lane) in state.iter_mut().enumerate() {
            *lane += params.ark[round * width + i];
        }
        let full = round < half || round >= half + params.partial_rounds;
        if full {
            for lane in state.iter_mut() {
                *lane = sbox(lane)?;
            }
        } else {
            state[0] = sbox(&state[0])?;
        }
        state = (0..width)
            .map(|i| {
                state
                    .iter()
                    .zip(&params.mds[i])
                    .fold(FpVar::Constant(Fr::from(0u64)), |acc, (lane, m)| {
                        acc + lane * *m
                    })
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_r1cs_std::{GR1CSVar, alloc::AllocVar};
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    #[test]
    fn gadget_equals_native_on_random_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
        for arity in 1..=super::super::MAX_INPUTS {
            for _ in 0..8 {
                let inputs: Vec<Fr> = (0..arity).map(|_| Fr::rand(&mut rng)).collect();
                let cs = ConstraintSystem::<Fr>::new_ref();
                let vars: Vec<_> = inputs
                    .iter()
                    .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                    .collect();
                let out = poseidon_gadget(&vars).unwrap();
                assert_eq!(out.value().unwrap(), super::super::hash(&inputs));
                assert!(cs.is_satisfied().unwrap());
            }
        }
    }

    /// Constraint counts match circomlib's Poseidon templates (213, 240, 261, 297).
    #[test]
    fn constraint_counts_match_circomlib() {
        for (arity, expected) in [(1, 213), (2, 240), (3, 261), (4, 297)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<_> = (0..arity)
                .map(|i| FpVar::new_witness(cs.clone(), || Ok(Fr::from(i as u64))).unwrap())
                .collect();
            let _ = poseidon_gadget(&vars).unwrap();
            assert_eq!(cs.num_constraints(), expected, "arity {arity}");
        }
    }

    #[test]
    fn a_wrong_output_leaves_the_system_unsatisfied() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let out = poseidon_gadget(&[a, b]).unwrap();
        let claimed = FpVar::new_input(cs.clone(), || Ok(Fr::from(3u64))).unwrap();
        ark_r1cs_std::eq::EqGadget::enforce_equal(&out, &claimed).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }
}
