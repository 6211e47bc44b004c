//! Real payee proofs (`payee-v1`) through the verifier crate: a proof verifies from its
//! `payee.json`, fails with any one public input changed or under another payee key, and payee
//! and claim keys are never taken for each other.

use ark_bn254::Bn254;
use ark_serialize::CanonicalSerialize;
use credence_circuits::{ClaimProver, Fr, PayeeInput, PayeeProver, Shape};
use credence_verifier::{
    CircuitId, Invalid, Malformed, PayeeBundle, PayeeKey, Proof, TrustedKey, VerifyingKey,
    payee::verify_payee_proof, verify_payee,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

fn vk_bytes(vk: &ark_groth16::VerifyingKey<Bn254>) -> Vec<u8> {
    let mut bytes = Vec::new();
    vk.serialize_compressed(&mut bytes).unwrap();
    bytes
}

fn proof(p: ark_groth16::Proof<Bn254>) -> Proof {
    Proof {
        a: p.a,
        b: p.b,
        c: p.c,
    }
}

#[test]
fn payee_proofs_verify_and_bind_every_input() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let prover = PayeeProver::setup(&mut rng).unwrap();
    let key = PayeeKey::from_bytes(&vk_bytes(prover.verifying_key())).unwrap();
    let input = PayeeInput {
        secret: Fr::from(777u64),
        chain_id: 8453,
        settlement: [0x11; 20],
        payee: [0x22; 20],
        nonce: 9,
    };
    let (statement, p) = prover.prove(&input, &mut rng).unwrap();
    let bundle = PayeeBundle::new(&key, statement.clone(), proof(p));
    let decoded = PayeeBundle::from_json(&bundle.to_json()).unwrap();
    assert_eq!(decoded, bundle);
    verify_payee(&key, &decoded).unwrap();

    let changes: [&dyn Fn(&mut credence_circuits::PayeeStatement); 5] = [
        &|s| s.contributor_id += Fr::from(1u64),
        &|s| s.chain_id += 1,
        &|s| s.settlement[19] ^= 1,
        &|s| s.payee[0] ^= 0x80,
        &|s| s.nonce += 1,
    ];
    for (k, change) in changes.iter().enumerate() {
        let mut s = statement.clone();
        change(&mut s);
        assert_eq!(
            verify_payee_proof(&key, &s, &bundle.proof),
            Err(Invalid::ProofRejected),
            "input {k}"
        );
    }

    // Under another payee key, the file names a key that is not the one given.
    let other = PayeeProver::setup(&mut rng).unwrap();
    let other = PayeeKey::from_bytes(&vk_bytes(other.verifying_key())).unwrap();
    assert!(matches!(
        verify_payee(&other, &bundle),
        Err(Invalid::UntrustedKey { .. })
    ));
}

#[test]
fn payee_and_claim_keys_are_not_taken_for_each_other() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let payee = vk_bytes(PayeeProver::setup(&mut rng).unwrap().verifying_key());
    let claim = vk_bytes(
        ClaimProver::setup(Shape::new(1, 4).unwrap(), &mut rng)
            .unwrap()
            .verifying_key(),
    );
    assert!(PayeeKey::from_bytes(&payee).is_ok());
    // A payee key is shorter than any claim key, whatever circuit id it is pinned to.
    let id = CircuitId::new("payee-v1").unwrap();
    assert!(matches!(
        TrustedKey::from_bytes(id, &payee),
        Err(Malformed::WrongLength { .. })
    ));
    assert!(VerifyingKey::from_bytes(&payee).is_err());
    // A claim key decodes, and is refused by its input count.
    let e = PayeeKey::from_bytes(&claim).unwrap_err();
    assert!(e.to_string().contains("a payee-v1 key has 6"), "{e}");
}
