//! The payee circuit (`payee-v1`) through a ceremony (no snarkjs needed): its `.r1cs` (five
//! public inputs, the same bytes every time), a pilot ptau, `zkey new`, a contribution and a
//! beacon, the transcript verified, and a payee statement proven under the resulting key with
//! the snarkjs reduction, accepted by the verifier crate's payee check and refused with its
//! nonce changed.

use std::io::Cursor;

use ark_bn254::Fr;
use credence_ceremony::{
    Ptau, beacon, contribute, new_zkey, payee_r1cs, pilot_ptau::write_single_party_ptau_with_rng,
    proving_key, setup::domain_power, verify,
};
use credence_circuits::{NUM_PAYEE_PUBLIC_INPUTS, PayeeInput, PayeeProver, prover::Qap};
use credence_verifier::{PayeeKey, Proof, VerifyingKey, payee::verify_payee_proof};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

#[test]
fn a_payee_statement_proves_and_verifies_under_a_ceremony_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let r1cs = payee_r1cs().unwrap();
    assert_eq!(r1cs.num_public(), NUM_PAYEE_PUBLIC_INPUTS);
    assert_eq!(r1cs.to_bytes(), payee_r1cs().unwrap().to_bytes());

    let power = domain_power(r1cs.num_constraints(), NUM_PAYEE_PUBLIC_INPUTS).unwrap();
    let mut bytes = Vec::new();
    write_single_party_ptau_with_rng(power, &mut rng, true, &mut bytes).unwrap();
    let mut ptau = Ptau::read(Cursor::new(bytes)).unwrap();
    let initial = new_zkey(&r1cs, &mut ptau).unwrap();
    let (first, _) = contribute(&initial, Some("contributor"), b"first").unwrap();
    let (final_key, _) = beacon(&first, Some("final beacon"), &[9u8; 32], 10).unwrap();
    let report = verify(&r1cs, &mut ptau, &final_key).unwrap();

    let pk = proving_key(&final_key, &r1cs, &report.circuit_hash).unwrap();
    let key = PayeeKey::new(VerifyingKey::from(pk.vk.clone())).unwrap();
    let prover = PayeeProver::with_qap(pk.clone(), Qap::Circom).unwrap();
    // The same key with libsnark's reduction is refused up front.
    assert!(PayeeProver::new(pk).is_err());
    let input = PayeeInput {
        secret: Fr::from(31u64),
        chain_id: 10,
        settlement: [0x42; 20],
        payee: [0x24; 20],
        nonce: 0,
    };
    let (statement, proof) = prover.prove(&input, &mut rng).unwrap();
    let proof = Proof::from(proof);
    verify_payee_proof(&key, &statement, &proof).unwrap();
    let mut changed = statement.clone();
    changed.nonce += 1;
    assert!(verify_payee_proof(&key, &changed, &proof).is_err());
}
