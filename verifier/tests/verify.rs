//! Verification against real proofs of the test circuit: single, changed inputs, batch.

mod common;

use ark_bn254::{Bn254, Fr};
use ark_ff::One;
use ark_groth16::Groth16;
use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use common::{fixture, prove, statement};
use credence_verifier::{
    ClaimStatement, Invalid, Proof, PublicInput, VerifyingKey, verify, verify_batch,
    verify_batch_os,
};

#[test]
fn valid_proof_verifies_and_agrees_with_ark_groth16() {
    let fx = fixture();
    let s = statement(3);
    let p = prove(&s);
    assert_eq!(verify(&fx.key, &s, &p), Ok(()));
    let ark_proof: ark_groth16::Proof<Bn254> = {
        use ark_serialize::CanonicalDeserialize;
        ark_groth16::Proof::deserialize_compressed(&p.to_bytes()[..]).unwrap()
    };
    let pvk = ark_groth16::prepare_verifying_key(&fx.ark_vk);
    assert!(
        Groth16::<Bn254>::verify_with_processed_vk(&pvk, &s.public_inputs(), &ark_proof).unwrap()
    );
}

#[test]
fn byte_layout_matches_ark_groth16() {
    let fx = fixture();
    let mut ark_bytes = Vec::new();
    fx.ark_vk.serialize_compressed(&mut ark_bytes).unwrap();
    assert_eq!(fx.key.to_bytes(), &ark_bytes[..]);
    assert_eq!(
        VerifyingKey::from_bytes(&ark_bytes).unwrap().to_bytes(),
        ark_bytes
    );
    let p = prove(&statement(1));
    assert_eq!(Proof::from_bytes(&p.to_bytes()).unwrap(), p);
}

fn changed(s: &ClaimStatement, input: PublicInput) -> ClaimStatement {
    let mut t = s.clone();
    match input {
        PublicInput::Epoch => t.epoch += 1,
        PublicInput::Root => t.root += Fr::one(),
        PublicInput::TotalWeight => t.total_weight += 1,
        PublicInput::Revenue => t.revenue += 1,
        PublicInput::ContributorId => t.contributor_id += Fr::one(),
        PublicInput::ClaimedWeight => t.claimed_weight += 1,
        PublicInput::Payout => t.payout -= 1,
        PublicInput::RangeStart => t.range_start += 1,
        PublicInput::RangeEnd => t.range_end -= 1,
    }
    t
}

#[test]
fn each_changed_public_input_is_invalid() {
    let fx = fixture();
    let s = statement(2);
    let p = prove(&s);
    for input in PublicInput::ALL {
        let t = changed(&s, input);
        assert_ne!(t.get(input), s.get(input));
        assert_eq!(
            verify(&fx.key, &t, &p),
            Err(Invalid::ProofRejected),
            "{input:?}"
        );
    }
}

#[test]
fn proof_under_another_key_is_invalid() {
    let other = common::setup(99);
    let s = statement(4);
    let p = common::prove_with(&other, &s, 3);
    assert_eq!(verify(&other.key, &s, &p), Ok(()));
    assert_eq!(verify(&fixture().key, &s, &p), Err(Invalid::ProofRejected));
}

#[test]
fn swapped_proof_points_are_invalid() {
    let fx = fixture();
    let s = statement(5);
    let p = prove(&s);
    let q = prove(&statement(6));
    let mixed = Proof {
        a: p.a,
        b: p.b,
        c: q.c,
    };
    assert!(verify(&fx.key, &s, &mixed).is_err());
    let neg = Proof {
        a: -p.a,
        b: p.b,
        c: p.c,
    };
    assert!(verify(&fx.key, &s, &neg).is_err());
}

#[test]
fn batch_accepts_valid_claims() {
    let fx = fixture();
    let statements: Vec<_> = (0..8).map(statement).collect();
    let proofs: Vec<_> = statements.iter().map(prove).collect();
    let claims: Vec<_> = statements.iter().zip(&proofs).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    assert_eq!(verify_batch(&fx.key, &claims, &mut rng), Ok(()));
    assert_eq!(verify_batch_os(&fx.key, &claims), Ok(()));
    assert_eq!(verify_batch_os(&fx.key, &claims[..1]), Ok(()));
    assert_eq!(verify_batch_os(&fx.key, &[]), Ok(()));
}

#[test]
fn batch_with_one_bad_proof_is_rejected_and_names_it() {
    let fx = fixture();
    let mut statements: Vec<_> = (0..8).map(statement).collect();
    let proofs: Vec<_> = statements.iter().map(prove).collect();
    // Claim 5 now states another payout than its proof proves.
    statements[5].payout += 1;
    let claims: Vec<_> = statements.iter().zip(&proofs).collect();
    let err = verify_batch_os(&fx.key, &claims).unwrap_err();
    assert_eq!(err.invalid, vec![5]);

    // Two bad ones, one of them by swapping proofs between claims.
    let mut proofs2 = proofs.clone();
    proofs2.swap(1, 2);
    let statements: Vec<_> = (0..8).map(statement).collect();
    let claims: Vec<_> = statements.iter().zip(&proofs2).collect();
    assert_eq!(
        verify_batch_os(&fx.key, &claims).unwrap_err().invalid,
        vec![1, 2]
    );

    // A batch of one bad claim.
    let s = changed(&statements[0], PublicInput::Root);
    assert_eq!(
        verify_batch_os(&fx.key, &[(&s, &proofs[0])])
            .unwrap_err()
            .invalid,
        vec![0]
    );
}

#[test]
fn batch_rejects_cancelling_forgeries() {
    // Two wrong proofs whose errors cancel when summed without randomness: (A + D, B, C) and
    // (A' - D, B', C') with B = B' would pass an un-randomised sum. Here B differs, so use the
    // C terms, which an un-randomised batch adds up: C1 + X and C2 - X.
    let fx = fixture();
    let s1 = statement(1);
    let s2 = statement(2);
    let p1 = prove(&s1);
    let p2 = prove(&s2);
    let x = fx.key.vk().alpha_g1; // any G1 point
    let f1 = Proof {
        c: (p1.c + x).into(),
        ..p1
    };
    let f2 = Proof {
        c: (p2.c - x).into(),
        ..p2
    };
    let err = verify_batch_os(&fx.key, &[(&s1, &f1), (&s2, &f2)]).unwrap_err();
    assert_eq!(err.invalid, vec![0, 1]);
}

#[test]
fn statements_differing_only_in_range_are_distinct() {
    // Sanity for the fixture itself: statement(i) differ so batch tests are meaningful.
    assert_ne!(statement(0).public_inputs(), statement(1).public_inputs());
}
