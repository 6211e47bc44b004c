//! arkworks-only checks (no snarkjs needed): the snarkjs reduction proves and verifies with
//! keys arkworks generates through it, and the r1cs writer is canonical.

mod common;

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::{Groth16, prepare_verifying_key};
use common::*;
use credence_ceremony::{CircomReduction, r1cs::R1cs};

#[test]
fn circom_reduction_with_arkworks_keys() {
    let mut rng = ark_std::test_rng();
    let pk = Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(
        ToyCircuit {
            inputs: None,
            variant: 0,
        },
        &mut rng,
    )
    .unwrap();
    let m = matrices(0);
    assert_eq!(pk.h_query.len(), 32);
    let pvk = prepare_verifying_key(&pk.vk);
    for seed in 0..3 {
        let z = full_assignment(0, inputs(seed));
        let proof = Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(
            &pk,
            Fr::rand(&mut rng),
            Fr::rand(&mut rng),
            &m.matrices,
            m.num_instance_variables,
            m.num_constraints,
            &z,
        )
        .unwrap();
        let public = &z[1..m.num_instance_variables];
        assert!(Groth16::<Bn254>::verify_proof(&pvk, &proof, public).unwrap());
    }
}

#[test]
fn r1cs_from_matrices_roundtrip() {
    let m = matrices(0);
    let r = R1cs::from_matrices(
        &m.matrices,
        m.num_instance_variables,
        m.num_witness_variables,
        m.num_constraints,
    )
    .unwrap();
    assert_eq!(r.num_public(), PUBLIC);
    assert_eq!(r.num_instance_variables(), m.num_instance_variables);
    assert_eq!(r.num_witness_variables(), m.num_witness_variables);
    let back = R1cs::from_bytes(&r.to_bytes()).unwrap();
    assert_eq!(back, r);
    let z = full_assignment(0, inputs(1));
    assert_eq!(r.first_unsatisfied(&z), None);
    let mut bad = z.clone();
    bad[10] += Fr::from(1u64);
    assert!(r.first_unsatisfied(&bad).is_some());
    // Wrong shapes are refused.
    assert!(R1cs::from_matrices(&m.matrices[..2], 10, 18, m.num_constraints).is_err());
    assert!(R1cs::from_matrices(&m.matrices, 10, 1, m.num_constraints).is_err());
}
