//! The claim circuit itself through a ceremony (no snarkjs needed): its `.r1cs`, a pilot ptau,
//! `zkey new`, two contributions and a beacon, the transcript verified, and claims proven under
//! the resulting key with the snarkjs reduction, accepted by the verifier crate and refused on
//! any changed public input. A small shape (N = 1, D = 4); the D = 20 figures belong in a bench.

use std::io::Cursor;

use ark_bn254::Fr;
use credence_ceremony::{
    Ptau, R1cs, beacon, contribute, new_zkey, pilot_ptau::write_single_party_ptau_with_rng,
    proving_key, setup::domain_power, verify,
};
use credence_circuits::{
    ClaimProver, PublicInput, Shape,
    bench::synthetic_claim,
    prover::{CircuitMatrices, Qap},
};
use credence_verifier::{CircuitId, Proof, TrustedKey, VerifyingKey};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

#[test]
fn a_claim_proves_and_verifies_under_a_ceremony_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let shape = Shape::new(1, 4).unwrap();
    let m = CircuitMatrices::synthesize(shape).unwrap();
    let r1cs = R1cs::from_matrices(
        &m.matrices,
        m.num_instance_variables,
        m.num_witness_variables,
        m.num_constraints,
    )
    .unwrap();
    assert_eq!(
        r1cs.num_public(),
        9,
        "the nine public inputs, in protocol order"
    );
    // Deterministic for a shape.
    let again = R1cs::from_matrices(
        &m.matrices,
        m.num_instance_variables,
        m.num_witness_variables,
        m.num_constraints,
    )
    .unwrap();
    assert_eq!(r1cs.to_bytes(), again.to_bytes());

    // Phase 1: a single-party pilot ptau just large enough (tests only).
    let power = domain_power(m.num_constraints, 9).unwrap();
    let mut bytes = Vec::new();
    write_single_party_ptau_with_rng(power, &mut rng, true, &mut bytes).unwrap();
    let mut ptau = Ptau::read(Cursor::new(bytes)).unwrap();

    // Phase 2: two participants and a beacon.
    let initial = new_zkey(&r1cs, &mut ptau).unwrap();
    let (first, _) = contribute(&initial, Some("hospital a"), b"first").unwrap();
    let (second, _) = contribute(&first, Some("hospital b"), b"second").unwrap();
    let (final_key, _) = beacon(&second, Some("final beacon"), &[7u8; 32], 10).unwrap();
    let report = verify(&r1cs, &mut ptau, &final_key).unwrap();
    assert_eq!(report.contributions.len(), 3);
    // A transcript with a contribution dropped is refused.
    assert!(verify(&r1cs, &mut ptau, &second).is_ok());
    let mut dropped = final_key.clone();
    dropped.mpc.contributions.remove(1);
    assert!(verify(&r1cs, &mut ptau, &dropped).is_err());

    // Proving under the ceremony key, with the snarkjs reduction.
    let pk = proving_key(&final_key, &r1cs, &report.circuit_hash).unwrap();
    let vk = VerifyingKey::from(pk.vk.clone());
    let key = TrustedKey::new(CircuitId::new(&shape.circuit_id()).unwrap(), vk).unwrap();
    // The circuits crate's prover proves under the ceremony key with snarkjs' reduction (the
    // one the server uses for imported keys); its native check runs first.
    let prover = ClaimProver::with_qap(shape, pk.clone(), Qap::Circom).unwrap();
    // The same key with libsnark's reduction is refused up front.
    assert!(ClaimProver::new(shape, pk.clone()).is_err());
    for _ in 0..2 {
        let input = synthetic_claim(shape, &mut rng);
        let (statement, proof) = prover.prove(&input, &mut rng).unwrap();
        let proof = Proof::from(proof);
        credence_verifier::verify(&key, &statement, &proof).unwrap();
        for input in PublicInput::ALL {
            let mut changed = statement.clone();
            match input {
                PublicInput::Root => changed.root += Fr::from(1u64),
                PublicInput::ContributorId => changed.contributor_id += Fr::from(1u64),
                PublicInput::Epoch => changed.epoch += 1,
                PublicInput::TotalWeight => changed.total_weight += 1,
                PublicInput::Revenue => changed.revenue += 1,
                PublicInput::ClaimedWeight => changed.claimed_weight += 1,
                PublicInput::Payout => changed.payout += 1,
                PublicInput::RangeStart => changed.range_start += 1,
                PublicInput::RangeEnd => changed.range_end += 1,
            }
            assert!(
                credence_verifier::verify(&key, &changed, &proof).is_err(),
                "a proof must fail with {} changed",
                input.name()
            );
        }
    }
}
