//! Real claim proofs through the verifier crate and through snarkjs, an independent verifier:
//! the circuit's proofs verify with `credence-verifier` (single and batch), and
//! `snarkjs groth16 verify` (protocol groth16, curve bn128) accepts the exported claim and
//! rejects it with any one public input changed.
//!
//! The snarkjs part runs when `SNARKJS` names a snarkjs executable; CI installs one
//! (`.ci/run`) and there a missing `SNARKJS` fails the test.

use ark_std::UniformRand;
use credence_circuits::{ClaimProver, Fr, PublicInput, Shape, bench::synthetic_claim};
use credence_verifier::{
    CircuitId, ClaimBundle, Proof, TrustedKey, VerifyingKey, snarkjs::SnarkjsFiles, verify,
    verify_batch,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use std::process::Command;

fn snarkjs_accepts(snarkjs: &str, files: &SnarkjsFiles, name: &str) -> bool {
    let dir = std::env::temp_dir().join(format!("credence-interop-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    files.write_to(&dir).unwrap();
    let out = Command::new(snarkjs)
        .args(["groth16", "verify"])
        .arg(dir.join("verification_key.json"))
        .arg(dir.join("public.json"))
        .arg(dir.join("proof.json"))
        .output()
        .expect("run snarkjs");
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains("OK")
}

#[test]
fn real_claims_verify_in_the_verifier_crate_and_in_snarkjs() {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let shape = Shape::new(2, 4).unwrap();
    let prover = ClaimProver::setup(shape, &mut rng).unwrap();
    let vk = VerifyingKey::from(prover.verifying_key().clone());
    let key = TrustedKey::new(CircuitId::new(&shape.circuit_id()).unwrap(), vk).unwrap();

    let claims: Vec<_> = (0..3)
        .map(|_| {
            let input = synthetic_claim(shape, &mut rng);
            let (statement, proof) = prover.prove(&input, &mut rng).unwrap();
            (statement, Proof::from(proof))
        })
        .collect();
    for (statement, proof) in &claims {
        verify(&key, statement, proof).unwrap();
    }
    let refs: Vec<_> = claims.iter().map(|(s, p)| (s, p)).collect();
    verify_batch(&key, &refs, &mut rng).unwrap();
    // A batch with one proof moved onto another statement names it.
    let mut bad = refs.clone();
    bad[1].0 = &claims[2].0;
    assert_eq!(
        verify_batch(&key, &bad, &mut rng).unwrap_err().invalid,
        vec![1]
    );

    let Ok(snarkjs) = std::env::var("SNARKJS") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set SNARKJS (see .ci/run)"
        );
        eprintln!("skipped the snarkjs part: set SNARKJS to a snarkjs executable");
        return;
    };
    let (statement, proof) = claims[0].clone();
    let bundle = ClaimBundle::new(&key, statement.clone(), proof);
    let files = SnarkjsFiles::export(&key, &bundle).unwrap();
    assert!(
        snarkjs_accepts(&snarkjs, &files, "valid"),
        "snarkjs rejected a valid claim"
    );
    for input in PublicInput::ALL {
        let mut changed = statement.clone();
        match input {
            PublicInput::Root => changed.root += Fr::from(1u64),
            PublicInput::ContributorId => changed.contributor_id = Fr::rand(&mut rng),
            PublicInput::Epoch => changed.epoch += 1,
            PublicInput::TotalWeight => changed.total_weight += 1,
            PublicInput::Revenue => changed.revenue += 1,
            PublicInput::ClaimedWeight => changed.claimed_weight += 1,
            PublicInput::Payout => changed.payout += 1,
            PublicInput::RangeStart => changed.range_start += 1,
            PublicInput::RangeEnd => changed.range_end -= 1,
        }
        let mut files = files.clone();
        files.public = changed
            .public_inputs()
            .iter()
            .map(|f| f.to_string())
            .collect();
        assert!(
            !snarkjs_accepts(&snarkjs, &files, input.name()),
            "snarkjs accepted a changed {}",
            input.name()
        );
    }
}
