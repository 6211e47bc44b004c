//! Replays every corpus file through its target: what fuzzing found (and the seeds it started
//! from) must keep passing. No fuzzing here; `fuzz/run` fuzzes.

use std::path::Path;

#[test]
fn every_corpus_file_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut replayed = 0;
    for (name, target) in credence_fuzz::TARGETS {
        let dir = root.join(name);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        assert!(!files.is_empty(), "{name}: an empty corpus");
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file");
            target(&data);
            replayed += 1;
        }
    }
    assert!(replayed >= credence_fuzz::TARGETS.len());
}

/// Writes the seed corpus: one valid input (and a few near misses) per target, so fuzzing
/// starts from what parses. Deterministic; run once with `--ignored` and commit the files.
#[test]
#[ignore = "writes fuzz/corpus; run by hand, then commit"]
fn write_seed_corpus() {
    use ark_bn254::Fr;
    use credence_circuits::{ClaimProver, Shape, bench::synthetic_claim};
    use credence_proto::v1 as pb;
    use credence_verifier::log::{Checkpoint, EntryKind, LogEntry, LogEvent};
    use credence_verifier::{CircuitId, ClaimBundle, TrustedKey};
    use prost::Message as _;
    use rand_core::SeedableRng as _;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let put = |target: &str, file: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), bytes).unwrap();
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(20261202);

    // A real bundle, its proof and key.
    let shape = Shape::new(1, 4).unwrap();
    let prover = ClaimProver::setup(shape, &mut rng).unwrap();
    let (statement, proof) = prover
        .prove(&synthetic_claim(shape, &mut rng), &mut rng)
        .unwrap();
    let vk: credence_verifier::VerifyingKey = prover.verifying_key().clone().into();
    let key = TrustedKey::new(CircuitId::new(&shape.circuit_id()).unwrap(), vk.clone()).unwrap();
    let proof: credence_verifier::Proof = proof.into();
    let bundle = ClaimBundle::new(&key, statement.clone(), proof.clone());
    put("bundle", "valid.json", bundle.to_json().as_bytes());

    // A real payee proof, and its settlement address in EIP-55's mixed case (its own RNG, so
    // the seeds drawn after it stay what they were).
    let mut payee_rng = rand_chacha::ChaCha20Rng::seed_from_u64(20261206);
    let payee_prover = credence_circuits::PayeeProver::setup(&mut payee_rng).unwrap();
    let (payee_statement, payee_proof) = payee_prover
        .prove(
            &credence_circuits::PayeeInput {
                secret: Fr::from(20261206u64),
                chain_id: 31337,
                settlement: hex::decode("5fbdb2315678afecb367f032d93f642f64180aa3")
                    .unwrap()
                    .try_into()
                    .unwrap(),
                payee: [0x70; 20],
                nonce: 1,
            },
            &mut payee_rng,
        )
        .unwrap();
    let payee_key =
        credence_verifier::PayeeKey::new(payee_prover.verifying_key().clone().into()).unwrap();
    let payee =
        credence_verifier::PayeeBundle::new(&payee_key, payee_statement, payee_proof.into())
            .to_json();
    put("payee", "valid.json", payee.as_bytes());
    put(
        "payee",
        "checksummed.json",
        payee
            .replace(
                "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            )
            .as_bytes(),
    );
    // The settlement's call data of that bundle and that payee proof.
    let claim_call = credence_verifier::solidity::ClaimCall {
        circuit_id: bundle.circuit_id.clone(),
        statement: bundle.statement.clone(),
        proof: bundle.proof.clone(),
    };
    put("calldata", "claim.bin", &claim_call.encode().unwrap());
    let payee_bundle = credence_verifier::PayeeBundle::from_json(&payee).unwrap();
    let payee_call = credence_verifier::solidity::PayeeCall {
        statement: payee_bundle.statement,
        proof: payee_bundle.proof,
    };
    put("calldata", "set-payee.bin", &payee_call.encode());
    put("proof", "valid.bin", &proof.to_bytes());
    put("verifying_key", "valid.bin", &vk.to_bytes());
    let decimals = [
        "0",
        "1",
        "18446744073709551615",
        &credence_verifier::encoding::fr_to_decimal(&-Fr::from(1u64)),
    ];
    for (i, d) in decimals.iter().enumerate() {
        put("decimal", &format!("valid-{i}"), d.as_bytes());
    }
    put("decimal", "leading-zero", b"01");

    // Log entries, a signed checkpoint, an export.
    let signer = credence_fuzz::fixed_log_signer();
    let entries = [
        LogEntry {
            time: 1_767_225_600,
            tenant: "hospital-a".into(),
            event: LogEvent::Registration {
                leaf_index: 3,
                registration_hash: "12345".into(),
            },
        },
        LogEntry {
            time: 1_767_225_601,
            tenant: "hospital-a".into(),
            event: LogEvent::Claim {
                circuit_id: bundle.circuit_id.to_string(),
                vk_fingerprint: bundle.vk_fingerprint.to_hex(),
                statement: credence_verifier::bundle::StatementJson::encode(&statement),
                proof: hex::encode(proof.to_bytes()),
            },
        },
    ];
    assert_eq!(entries[1].kind(), EntryKind::Claim);
    for (i, e) in entries.iter().enumerate() {
        put("log_entry", &format!("valid-{i}"), &e.to_bytes().unwrap());
    }
    let note = signer
        .sign(&Checkpoint {
            origin: credence_fuzz::FIXED_LOG_ORIGIN.into(),
            size: 0,
            root: credence_verifier::log::empty_root(),
        })
        .unwrap();
    put("note", "checkpoint", note.as_bytes());
    put("note", "key", signer.verifier().to_string().as_bytes());
    let export = serde_json::json!({
        "format": credence_verifier::log::EXPORT_FORMAT,
        "log_key": signer.verifier().to_string(),
        "checkpoint": note,
        "checkpoints": [note],
        "entries": [],
    });
    put("log_export", "empty.json", export.to_string().as_bytes());

    // A leaf table and a snapshot.
    let leaves = [credence_verifier::leaves::Leaf {
        index: 1,
        contributor_id: Fr::from(5u64),
        commitment: Fr::from(6u64),
        weight: 30,
    }];
    let table = credence_verifier::leaves::LeafTable::new(1, 4, &leaves);
    put(
        "leaf_table",
        "valid.json",
        table.to_json().unwrap().as_bytes(),
    );
    let snap = credence_verifier::Snapshot {
        epoch: 1,
        depth: 4,
        root: Fr::from(9u64),
        total_weight: 30,
        revenue: 1000,
    };
    put(
        "snapshot",
        "valid.json",
        serde_json::to_string(&snap.to_json_value())
            .unwrap()
            .as_bytes(),
    );

    // A configuration (the one `credence config init` writes).
    put(
        "config",
        "example.toml",
        credence_server::config::example(Some("42")).as_bytes(),
    );
    put("config", "empty.toml", b"");

    // Requests as they arrive on the wire.
    let register = pb::RegisterRequest {
        contributor_id: "5".into(),
        commitment: "6".into(),
    };
    put("proto", "register.bin", &register.encode_to_vec());
    let submit = pb::SubmitClaimRequest {
        secret: "7".into(),
        epoch: 1,
        contributions: vec![pb::ClaimContribution {
            data: Some(pb::claim_contribution::Data::Digest("8".into())),
            blinding: "9".into(),
            leaf_index: 1,
            leaf: Some(pb::LeafProof {
                weight: 30,
                path: Some(pb::MerklePath {
                    siblings: vec![
                        pb::SumNode {
                            hash: "1".into(),
                            sum: 2
                        };
                        4
                    ],
                }),
            }),
        }],
        ..Default::default()
    };
    put("proto", "submit.bin", &submit.encode_to_vec());
    put(
        "proto",
        "job.bin",
        &pb::JobRequest {
            job_id: "00".repeat(16),
        }
        .encode_to_vec(),
    );

    // Ceremony files: a toy circuit (x·x = y, y·x = z, z public), a pilot ptau of power 3,
    // its initial key.
    let one = Fr::from(1u64);
    let matrices = [
        vec![vec![(one, 2)], vec![(one, 3)]],
        vec![vec![(one, 2)], vec![(one, 2)]],
        vec![vec![(one, 3)], vec![(one, 1)]],
    ];
    let r1cs = credence_ceremony::R1cs::from_matrices(&matrices, 2, 2, 2).unwrap();
    put("r1cs", "toy.r1cs", &r1cs.to_bytes());
    let mut ptau = Vec::new();
    credence_ceremony::pilot_ptau::write_single_party_ptau_with_rng(3, &mut rng, true, &mut ptau)
        .unwrap();
    put("ptau", "power3.ptau", &ptau);
    let mut opened = credence_ceremony::Ptau::read(std::io::Cursor::new(ptau)).unwrap();
    let zkey = credence_ceremony::new_zkey(&r1cs, &mut opened).unwrap();
    put("zkey", "toy.zkey", &zkey.to_bytes());
}
