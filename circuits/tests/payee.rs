//! The payee circuit (`payee-v1`) under Groth16: a proof verifies, a change to any single public
//! input fails, under keys of both QAP reductions; a false statement is refused before proving
//! with the condition named; and one circuit's keys do not wrap as the other's. (Its size and
//! public-input layout are pinned in `shape.rs`.)

use ark_bn254::Bn254;
use ark_ff::One;
use ark_groth16::Groth16;
use ark_snark::SNARK;
use credence_circuits::{
    ClaimProver, Fr, PayeeError, PayeeInput, PayeeProver, PayeePublicInput, ProveError, Shape,
    commitment, prover::Qap,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

fn input() -> PayeeInput {
    PayeeInput {
        secret: Fr::from(1234567u64),
        chain_id: 31337,
        settlement: [0x5e; 20],
        payee: *b"\x00\x01payee-address-1234",
        nonce: 3,
    }
}

#[test]
fn prove_verify_and_bind_every_public_input() {
    for qap in Qap::ALL {
        let mut rng = ChaCha20Rng::seed_from_u64(2026);
        let prover = PayeeProver::setup_for(qap, &mut rng).unwrap();
        assert_eq!(prover.qap(), qap);
        let (statement, proof) = prover.prove(&input(), &mut rng).unwrap();
        assert_eq!(
            statement.contributor_id,
            commitment::contributor_id(&Fr::from(1234567u64))
        );
        let vk = prover.verifying_key();
        let inputs = statement.public_inputs();
        assert!(
            Groth16::<Bn254>::verify(vk, &inputs, &proof).unwrap(),
            "{qap}"
        );
        for input in PayeePublicInput::ALL {
            let mut changed = inputs;
            changed[input.index()] += Fr::one();
            assert!(
                !Groth16::<Bn254>::verify(vk, &changed, &proof).unwrap(),
                "{} is not bound under {qap} keys",
                input.name()
            );
        }
    }
}

#[test]
fn a_false_statement_is_refused_before_proving() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let prover = PayeeProver::setup(&mut rng).unwrap();
    let (_, mut a) = input().assign().unwrap();
    a.secret += Fr::one();
    let err = prover.prove_assignment(a, &mut rng).unwrap_err();
    assert!(
        matches!(err, ProveError::Payee(PayeeError::ContributorIdMismatch)),
        "{err}"
    );
    // Keys of one circuit do not wrap as the other's.
    let claim = ClaimProver::setup(Shape::new(1, 4).unwrap(), &mut rng).unwrap();
    assert!(matches!(
        PayeeProver::new(claim.proving_key().clone()),
        Err(ProveError::KeyMismatch)
    ));
    assert!(matches!(
        ClaimProver::new(Shape::new(1, 4).unwrap(), prover.proving_key().clone()),
        Err(ProveError::KeyMismatch)
    ));
}
