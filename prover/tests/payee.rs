//! The payee commands as a contributor runs them: `credence setup --circuit payee-v1`,
//! `credence payee prove`, then `credence-verify payee` (exit 0 valid, 1 invalid, 2 malformed)
//! on the proof and on tampered copies; and `--circuit` beside `--shape` (exactly one).
//!
//! `credence-verify` is found beside `credence` (a workspace build, as `.ci/run` runs, builds
//! both).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{credence, credence_verify_bin, ok};

fn credence_verify(dir: &Path, args: &[&str]) -> Output {
    Command::new(credence_verify_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("credence-verify runs")
}

/// `credence payee prove` of `secret.key` under `data/keys`, to one payee, written to
/// `payee.json`.
fn prove_payee(dir: &Path, chain_id: &str, settlement: &str, nonce: &str) -> Output {
    credence(
        dir,
        &[
            "payee",
            "prove",
            "--secret",
            "secret.key",
            "--keys-dir",
            "data/keys",
            "--chain-id",
            chain_id,
            "--settlement",
            settlement,
            "--payee",
            "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "--nonce",
            nonce,
            "--out",
            "payee.json",
        ],
    )
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `payee.json` with one statement field set to `value`, written to `name`; its path.
fn tampered(dir: &Path, field: &str, value: &str, name: &str) -> PathBuf {
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("payee.json")).unwrap()).unwrap();
    json["statement"][field] = value.into();
    let path = dir.join(name);
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[test]
fn setup_prove_verify_and_tamper() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let id = ok(
        dir,
        &["contributor-id", "--secret", "secret.key", "--create"],
    );
    let id = id.trim();

    // Exactly one of --shape and --circuit.
    for args in [
        &["setup", "--data-dir", "data"][..],
        &[
            "setup",
            "--shape",
            "1,4",
            "--circuit",
            "payee-v1",
            "--data-dir",
            "data",
        ],
        &["setup", "--circuit", "payee-v2", "--data-dir", "data"],
    ] {
        let o = credence(dir, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    let out = ok(
        dir,
        &["setup", "--circuit", "payee-v1", "--data-dir", "data"],
    );
    assert!(out.contains("payee-v1"), "{out}");
    assert!(dir.join("data/keys/payee-v1.pk").exists());
    // One circuit id, one key: a second setup is refused without --replace.
    let again = credence(
        dir,
        &["setup", "--circuit", "payee-v1", "--data-dir", "data"],
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("--replace"), "{}", text(&again));

    // The settlement address in EIP-55's mixed case: read in either case.
    let o = prove_payee(
        dir,
        "31337",
        "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "1",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains(&format!("contributor_id {id}")), "{out}");
    assert!(out.contains("payee.json"), "{out}");
    let secret: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("secret.key")).unwrap()).unwrap();
    let secret = secret["secret"].as_str().unwrap();
    assert!(!out.contains(secret), "the secret was printed");
    let payee = std::fs::read_to_string(dir.join("payee.json")).unwrap();
    assert!(!payee.contains(secret));
    // The checksummed address is written lowercase.
    assert!(
        payee.contains("0x5fbdb2315678afecb367f032d93f642f64180aa3"),
        "{payee}"
    );

    let verify =
        |file: &str| credence_verify(dir, &["payee", "--vk", "data/keys/payee-v1.vk", file]);
    let o = verify("payee.json");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("proof verifies"), "{}", text(&o));

    // Each changed public input: well formed, false.
    for (field, value) in [
        ("nonce", "2"),
        ("chain_id", "1"),
        ("payee", "0x0000000000000000000000000000000000000001"),
        ("settlement", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
        ("contributor_id", "7"),
    ] {
        let path = tampered(dir, field, value, &format!("{field}.json"));
        let o = verify(path.to_str().unwrap());
        assert_eq!(o.status.code(), Some(1), "{field}: {}", text(&o));
    }
    // Not a payee proof at all: malformed.
    let path = tampered(dir, "nonce", "01", "leading-zero.json");
    let o = verify(path.to_str().unwrap());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A claim key (in the same keys directory) is not a payee key.
    ok(dir, &["setup", "--shape", "1,4", "--data-dir", "data"]);
    let o = credence_verify(
        dir,
        &["payee", "--vk", "data/keys/claim-v1-n1-d4.vk", "payee.json"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("payee"), "{}", text(&o));
}

#[test]
fn ceremony_r1cs_takes_a_circuit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = ok(
        dir,
        &[
            "ceremony",
            "r1cs",
            "--circuit",
            "payee-v1",
            "--out",
            "payee.r1cs",
        ],
    );
    assert!(
        out.contains("payee-v1") && out.contains("public       5"),
        "{out}"
    );
    // `--circuit claim-v1-nN-dD` is `--shape N,D` spelled otherwise: the same file.
    ok(
        dir,
        &["ceremony", "r1cs", "--shape", "1,4", "--out", "a.r1cs"],
    );
    ok(
        dir,
        &[
            "ceremony",
            "r1cs",
            "--circuit",
            "claim-v1-n1-d4",
            "--out",
            "b.r1cs",
        ],
    );
    assert_eq!(
        std::fs::read(dir.join("a.r1cs")).unwrap(),
        std::fs::read(dir.join("b.r1cs")).unwrap()
    );
    let o = credence(dir, &["ceremony", "r1cs", "--out", "c.r1cs"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// The payee circuit goes through the same ceremony as the claim circuits: `r1cs`,
/// `pilot-ptau`, `new`, two contributions, `verify`, `import --circuit payee-v1`; a payee proof
/// made under the imported key verifies, and `credence-verify ceremony` traces the key to its
/// transcript and re-verifies it.
#[test]
fn the_payee_key_comes_from_a_ceremony_and_traces_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let c = ["--circuit", "payee-v1"];
    ok(
        dir,
        &["ceremony", "r1cs", c[0], c[1], "--out", "payee.r1cs"],
    );
    // 666 constraints and 5 public inputs: a domain of 2^10 (see circuits/tests/shape.rs).
    ok(
        dir,
        &[
            "ceremony",
            "pilot-ptau",
            "--power",
            "10",
            "--out",
            "pot.ptau",
        ],
    );
    ok(dir, &["ceremony", "new", c[0], c[1], "pot.ptau", "p0.zkey"]);
    ok(
        dir,
        &[
            "ceremony",
            "contribute",
            "p0.zkey",
            "p1.zkey",
            "--name",
            "hospital a",
        ],
    );
    ok(
        dir,
        &[
            "ceremony",
            "contribute",
            "p1.zkey",
            "p2.zkey",
            "--name",
            "operator",
        ],
    );
    ok(
        dir,
        &["ceremony", "verify", c[0], c[1], "pot.ptau", "p2.zkey"],
    );
    ok(
        dir,
        &[
            "ceremony",
            "import",
            c[0],
            c[1],
            "pot.ptau",
            "p2.zkey",
            "--data-dir",
            "data",
        ],
    );
    ok(
        dir,
        &["contributor-id", "--secret", "secret.key", "--create"],
    );
    let o = prove_payee(dir, "1", "0x5fbdb2315678afecb367f032d93f642f64180aa3", "0");
    assert!(o.status.success(), "{}", text(&o));
    let o = credence_verify(
        dir,
        &["payee", "--vk", "data/keys/payee-v1.vk", "payee.json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // `credence-verify ceremony` of the imported key against a transcript.
    let trace = |extra: &[&str]| {
        let mut args = vec!["ceremony", "--vk", "data/keys/payee-v1.vk", "--zkey"];
        args.extend_from_slice(extra);
        credence_verify(dir, &args)
    };
    let o = trace(&["p2.zkey", "--r1cs", "payee.r1cs", "--ptau", "pot.ptau"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("payee-v1") && out.contains("hospital a"),
        "{out}"
    );
    // Another ceremony's transcript is not this key's.
    ok(
        dir,
        &[
            "ceremony",
            "contribute",
            "p1.zkey",
            "other.zkey",
            "--name",
            "someone else",
        ],
    );
    let o = trace(&["other.zkey"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
