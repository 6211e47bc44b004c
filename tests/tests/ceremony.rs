//! A consortium's ceremony through the `credence ceremony` commands, then a server proving under
//! its key: the `.r1cs`, a pilot ptau, `new`, contributions alternating between `credence` and
//! `snarkjs zkey contribute` (when snarkjs is installed, as in CI), a beacon, `verify` by both
//! tools, `import` with provenance, and a claim proven under the imported key and accepted by
//! the verifier crate, the server's Verifier service and `snarkjs groth16 verify`. The
//! provenance reaches `GetVerifyingKey`, the keys manifest and the compliance log. Refusals:
//! overwriting a ceremony file, a tampered transcript, replacing the key without `--replace`.
//! A small shape (N = 1, D = 4); the D = 20 figures come from the benchmark.

use std::path::{Path, PathBuf};
use std::process::Command;

use credence_circuits::Shape;
use credence_proto::v1 as pb;
use credence_server::keys::{Manifest, key_paths};
use credence_tests::{Contributor, TestServer, config, credence_cli, publish, watch};
use credence_verifier::{ClaimBundle, KeyRing, TrustedKey, keys::CircuitId, verify_bundle};

/// snarkjs, if installed (`SNARKJS`, as `.ci/run` sets it). Under CI its absence is a failure.
fn snarkjs() -> Option<PathBuf> {
    match std::env::var_os("SNARKJS") {
        Some(p) if Path::new(&p).exists() => Some(PathBuf::from(p)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI must install snarkjs 0.7.6 and set SNARKJS (see .ci/run)")
        }
        _ => {
            eprintln!("SNARKJS not set: the snarkjs steps of this test are skipped");
            None
        }
    }
}

fn run_snarkjs(snarkjs: &Path, args: &[&str]) -> String {
    let out = Command::new(snarkjs)
        .args(args)
        .output()
        .expect("run snarkjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "snarkjs {args:?} failed:\n{text}");
    text
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

async fn cli(args: &[&str]) {
    assert_eq!(credence_cli(args).await, Ok(0), "credence {args:?}");
}

/// `credence ceremony contribute FROM TO --name NAME`.
async fn contribute(from: &Path, to: &Path, name: &str) {
    cli(&["ceremony", "contribute", s(from), s(to), "--name", name]).await
}

/// `credence ceremony import --shape SHAPE PTAU ZKEY --data-dir DATA`.
async fn import(shape: &str, ptau: &Path, zkey: &Path, data: &Path) -> Result<i32, String> {
    credence_cli(&[
        "ceremony",
        "import",
        "--shape",
        shape,
        s(ptau),
        s(zkey),
        "--data-dir",
        s(data),
    ])
    .await
}

/// A server on the imported keys, offering only the ceremony's shape.
async fn server_on(data: &Path, keys_dir: &Path) -> TestServer {
    let mut cfg = config(data);
    cfg.keys_dir = Some(keys_dir.to_owned());
    cfg.shapes = vec!["1,4".into()];
    TestServer::start(cfg).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ceremony_made_with_credence_and_snarkjs_proves_claims_on_the_server() {
    let snarkjs = snarkjs();
    let dir = tempfile::tempdir().unwrap();
    let f = |name: &str| dir.path().join(name);
    let shape = Shape::new(1, 4).unwrap();
    let r1cs = credence_ceremony::claim_r1cs(shape).unwrap();
    let power =
        credence_ceremony::setup::ptau_power(r1cs.num_constraints(), r1cs.num_public()).unwrap();

    cli(&[
        "ceremony",
        "r1cs",
        "--shape",
        "1,4",
        "--out",
        s(&f("circuit.r1cs")),
    ])
    .await;
    assert_eq!(std::fs::read(f("circuit.r1cs")).unwrap(), r1cs.to_bytes());
    cli(&[
        "ceremony",
        "pilot-ptau",
        "--power",
        &power.to_string(),
        "--out",
        s(&f("pot.ptau")),
    ])
    .await;
    let ptau = f("pot.ptau");
    cli(&[
        "ceremony",
        "new",
        "--shape",
        "1,4",
        s(&ptau),
        s(&f("c0.zkey")),
    ])
    .await;
    if let Some(sj) = &snarkjs {
        // `zkey new` is reproducible: snarkjs makes the same initial key from the same files.
        run_snarkjs(
            sj,
            &[
                "zkey",
                "new",
                s(&f("circuit.r1cs")),
                s(&ptau),
                s(&f("sj0.zkey")),
            ],
        );
        assert_eq!(
            std::fs::read(f("c0.zkey")).unwrap(),
            std::fs::read(f("sj0.zkey")).unwrap(),
            "credence and snarkjs initial keys differ"
        );
    }

    // An existing file is never overwritten.
    let e = credence_cli(&[
        "ceremony",
        "new",
        "--shape",
        "1,4",
        s(&ptau),
        s(&f("c0.zkey")),
    ])
    .await
    .unwrap_err();
    assert!(e.contains("never overwritten"), "{e}");

    contribute(&f("c0.zkey"), &f("c1.zkey"), "hospital a").await;
    match &snarkjs {
        Some(sj) => {
            run_snarkjs(
                sj,
                &[
                    "zkey",
                    "contribute",
                    s(&f("c1.zkey")),
                    s(&f("c2.zkey")),
                    "--name=hospital b",
                    "-e=entropy of hospital b",
                ],
            );
        }
        None => contribute(&f("c1.zkey"), &f("c2.zkey"), "hospital b").await,
    }
    contribute(&f("c2.zkey"), &f("c3.zkey"), "hospital c").await;
    let beacon = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    cli(&[
        "ceremony",
        "beacon",
        s(&f("c3.zkey")),
        s(&f("final.zkey")),
        "--beacon",
        beacon,
        "--iterations-exp",
        "10",
    ])
    .await;
    cli(&[
        "ceremony",
        "verify",
        "--shape",
        "1,4",
        s(&ptau),
        s(&f("final.zkey")),
    ])
    .await;
    if let Some(sj) = &snarkjs {
        let out = run_snarkjs(
            sj,
            &[
                "zkey",
                "verify",
                s(&f("circuit.r1cs")),
                s(&ptau),
                s(&f("final.zkey")),
            ],
        );
        assert!(out.contains("ZKey Ok!"), "{out}");
    }

    // A transcript whose H section was edited (two points swapped) is refused.
    let mut tampered = credence_ceremony::Zkey::open(f("final.zkey")).unwrap();
    tampered.h.swap(0, 1);
    tampered.save(f("tampered.zkey")).unwrap();
    let e = credence_cli(&[
        "ceremony",
        "verify",
        "--shape",
        "1,4",
        s(&ptau),
        s(&f("tampered.zkey")),
    ])
    .await
    .unwrap_err();
    assert!(e.contains("ceremony") || e.contains("H"), "{e}");
    // A transcript of another shape is refused at import.
    let data = f("data");
    let e = import("2,4", &ptau, &f("final.zkey"), &data)
        .await
        .unwrap_err();
    assert!(e.contains("claim-v1-n2-d4"), "{e}");

    assert_eq!(import("1,4", &ptau, &f("final.zkey"), &data).await, Ok(0));
    let keys_dir = data.join("keys");
    let manifest = Manifest::read(&keys_dir).unwrap();
    let entry = &manifest.keys["claim-v1-n1-d4"];
    assert_eq!(
        (entry.setup.as_str(), entry.qap.as_str()),
        ("ceremony", "circom")
    );
    let ceremony = entry.ceremony.as_ref().expect("ceremony provenance");
    let names: Vec<&str> = ceremony
        .contributions
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["hospital a", "hospital b", "hospital c", "final beacon"]
    );
    assert_eq!(
        ceremony.contributions[3].beacon.as_ref().unwrap().value,
        beacon
    );
    assert_eq!(
        ceremony.ptau_blake2b,
        hex::encode(credence_ceremony::file_blake2b(&ptau).unwrap())
    );

    // Importing the same key again changes nothing; a single-party setup over it is refused.
    assert_eq!(import("1,4", &ptau, &f("final.zkey"), &data).await, Ok(0));
    let e = credence_cli(&["setup", "--shape", "1,4", "--data-dir", s(&data)])
        .await
        .unwrap_err();
    assert!(e.contains("--replace"), "{e}");
    assert_eq!(Manifest::read(&keys_dir).unwrap(), manifest);

    // A server proves under the ceremony key.
    let server = server_on(&data, &keys_dir).await;
    let mut a = Contributor::new(41, 1);
    let mut b = Contributor::new(42, 1);
    a.register(&server).await;
    b.register(&server).await;
    publish(&server, 1, 1000, &[(0, 60), (1, 40)]).await;
    let job = server
        .prover()
        .await
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    let (_, last) = watch(&server, &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{}", last.failure);
    let bundle_json = server
        .prover()
        .await
        .get_bundle(pb::JobRequest { job_id: job.job_id })
        .await
        .unwrap()
        .into_inner()
        .bundle_json;

    // The verifier crate, with the .vk file alone.
    let vk = std::fs::read(key_paths(&keys_dir, shape).1).unwrap();
    let key = TrustedKey::from_bytes(CircuitId::new("claim-v1-n1-d4").unwrap(), &vk).unwrap();
    let bundle = ClaimBundle::from_json(&bundle_json).unwrap();
    assert_eq!(bundle.statement.payout, 600);
    let mut ring = KeyRing::new();
    ring.insert(key.clone()).unwrap();
    verify_bundle(&ring, &bundle).unwrap();
    // The server's Verifier service.
    let v = server
        .verifier()
        .await
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle_json.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(v.valid, "{}", v.reason);
    // snarkjs.
    if let Some(sj) = &snarkjs {
        let out = dir.path().join("snarkjs-proof");
        std::fs::create_dir_all(&out).unwrap();
        credence_verifier::snarkjs::SnarkjsFiles::export(&key, &bundle)
            .unwrap()
            .write_to(&out)
            .unwrap();
        let said = run_snarkjs(
            sj,
            &[
                "groth16",
                "verify",
                s(&out.join("verification_key.json")),
                s(&out.join("public.json")),
                s(&out.join("proof.json")),
            ],
        );
        assert!(said.contains("OK!"), "{said}");
    }

    // The provenance, over gRPC.
    let got = server
        .verifier()
        .await
        .get_verifying_key(pb::GetVerifyingKeyRequest {
            selector: Some(pb::get_verifying_key_request::Selector::CircuitId(
                "claim-v1-n1-d4".into(),
            )),
        })
        .await
        .unwrap()
        .into_inner();
    let p = got.provenance.expect("provenance");
    assert_eq!(p.setup, "ceremony");
    assert_eq!(p.circuit_hash, ceremony.circuit_hash);
    assert_eq!(p.transcript_blake2b, ceremony.transcript_blake2b);
    assert_eq!(
        p.contributions
            .iter()
            .map(|c| c.hash.as_str())
            .collect::<Vec<_>>(),
        ceremony
            .contributions
            .iter()
            .map(|c| c.hash.as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!(p.contributions[3].beacon, beacon);

    // The compliance log introduced the key, once, before the claim.
    let log = server.app.log();
    let entries = log.entries(0..log.size().unwrap()).unwrap();
    let decoded: Vec<credence_verifier::log::LogEntry> = entries
        .iter()
        .map(|b| credence_verifier::log::LogEntry::from_bytes(b).unwrap())
        .collect();
    let keys: Vec<_> = decoded
        .iter()
        .filter_map(|e| match &e.event {
            credence_verifier::log::LogEvent::Key {
                setup, ceremony: c, ..
            } => Some((setup.clone(), c.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 1, "one key entry");
    assert_eq!(keys[0].0, "ceremony");
    assert_eq!(
        keys[0].1.as_ref().unwrap().transcript_blake2b,
        ceremony.transcript_blake2b
    );
    server.stop().await;

    // A restart does not log the key again.
    let server = server_on(&data, &keys_dir).await;
    let log = server.app.log();
    let again = log.entries(0..log.size().unwrap()).unwrap();
    assert_eq!(again.len(), entries.len());
    server.stop().await;
}
