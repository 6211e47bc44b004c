//! The `credence-verify` binary: exit codes 0 valid / 1 invalid / 2 malformed, per subcommand.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{CIRCUIT_ID, bundle, fixture, statement};
use credence_verifier::settlement::Snapshot;
use credence_verifier::{ClaimBundle, ClaimStatement};

const BIN: &str = env!("CARGO_BIN_EXE_credence-verify");

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("credence-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        // The key file, named by its circuit id (the CLI pins it to the file stem).
        std::fs::write(d.join(format!("{CIRCUIT_ID}.vk")), fixture().key.to_bytes()).unwrap();
        Dir(d)
    }

    fn vk(&self) -> String {
        self.0
            .join(format!("{CIRCUIT_ID}.vk"))
            .display()
            .to_string()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn bundle(&self, name: &str, b: &ClaimBundle) -> String {
        self.write(name, &b.to_json())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> (i32, String) {
    let Output { status, stdout, .. } = Command::new(BIN).args(args).output().unwrap();
    (
        status.code().expect("exited normally"),
        String::from_utf8(stdout).unwrap(),
    )
}

fn snapshot_of(s: &ClaimStatement) -> Snapshot {
    Snapshot::new(s.epoch, 4, s.root, s.total_weight, s.revenue).unwrap()
}

#[test]
fn proof_exit_codes() {
    let d = Dir::new("proof");
    let vk = d.vk();
    let s = statement(1);
    let good = d.bundle("good.json", &bundle(&s));

    let (code, out) = run(&["proof", &good, "--vk", &vk]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains(": valid: proof verifies"), "{out}");

    // A changed public input: invalid.
    let mut b = bundle(&s);
    b.statement.payout += 1;
    let bad = d.bundle("bad.json", &b);
    let (code, out) = run(&["proof", &bad, "--vk", &vk]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("invalid: proof does not verify"), "{out}");

    // Malformed: a root >= r, garbage, a missing file.
    let text = bundle(&s).to_json().replace(
        &credence_verifier::encoding::fr_to_decimal(&s.root),
        "21888242871839275222246405745257275088548364400416034343698204186575808495617",
    );
    let over = d.write("over.json", &text);
    let (code, out) = run(&["proof", &over, "--vk", &vk]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("malformed") && out.contains("root"), "{out}");
    let junk = d.write("junk.json", "{not json");
    assert_eq!(run(&["proof", &junk, "--vk", &vk]).0, 2);
    let missing = d.path("missing.json").display().to_string();
    assert_eq!(run(&["proof", &missing, "--vk", &vk]).0, 2);

    // A key file that is truncated: malformed.
    let short = d.write("short.vk", "");
    std::fs::write(&short, &fixture().key.to_bytes()[..100]).unwrap();
    assert_eq!(run(&["proof", &good, "--vk", &short]).0, 2);

    // Another trusted key: the bundle's key is not trusted -> invalid.
    let other = common::setup(5);
    let other_vk = d.path(format!("{CIRCUIT_ID}-other.vk").as_str());
    std::fs::write(&other_vk, other.key.to_bytes()).unwrap();
    let other_vk = format!("{CIRCUIT_ID}={}", other_vk.display());
    let (code, out) = run(&["proof", &good, "--vk", &other_vk]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not trusted"), "{out}");
    // The key pinned to another circuit id -> invalid.
    let pinned_elsewhere = format!("claim-v1-n16-d20={vk}");
    let (code, out) = run(&["proof", &good, "--vk", &pinned_elsewhere]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("claim-v1-n16-d20"), "{out}");
    // Both keys given: the bundle's fingerprint selects the right one.
    assert_eq!(run(&["proof", &good, "--vk", &other_vk, "--vk", &vk]).0, 0);
}

#[test]
fn proof_with_snapshot_and_json() {
    let d = Dir::new("snapshot");
    let vk = d.vk();
    let s = statement(2);
    let good = d.bundle("good.json", &bundle(&s));
    let snap = d.write("snapshot.json", &snapshot_of(&s).to_json());
    let (code, out) = run(&["proof", &good, "--vk", &vk, "--snapshot", &snap]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("matches the snapshot"), "{out}");

    let mut other = snapshot_of(&s);
    other.epoch += 1;
    let other = d.write("other.json", &other.to_json());
    let (code, out) = run(&["proof", &good, "--vk", &vk, "--snapshot", &other]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("epoch"), "{out}");

    let bad_snap = d.write("bad-snapshot.json", "{\"epoch\": 7}");
    assert_eq!(
        run(&["proof", &good, "--vk", &vk, "--snapshot", &bad_snap]).0,
        2
    );

    let (code, out) = run(&["proof", &good, "--vk", &vk, "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["payout"], s.payout.to_string());
    assert_eq!(v["circuit_id"], CIRCUIT_ID);

    let mut b = bundle(&s);
    b.statement.range_end += 1;
    let bad = d.bundle("bad.json", &b);
    let (code, out) = run(&["proof", &bad, "--vk", &vk, "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verdict"], "invalid");
}

#[test]
fn batch_names_the_bad_bundle() {
    let d = Dir::new("batch");
    let vk = d.vk();
    let mut paths: Vec<String> = (0..4)
        .map(|i| d.bundle(&format!("b{i}.json"), &bundle(&statement(i))))
        .collect();
    let args = |paths: &[String]| {
        let mut a = vec!["batch".to_owned()];
        a.extend(paths.iter().cloned());
        a.extend(["--vk".to_owned(), vk.clone()]);
        a
    };
    let a = args(&paths);
    let (code, out) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 of 4 bundles verify"), "{out}");

    let mut b = bundle(&statement(9));
    b.statement.claimed_weight += 1;
    paths.insert(2, d.bundle("bad.json", &b));
    let a = args(&paths);
    let (code, out) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1, "{out}");
    let bad_line = out.lines().find(|l| l.contains("bad.json")).unwrap();
    assert!(bad_line.contains("invalid"), "{out}");
    assert_eq!(out.lines().filter(|l| l.contains(": valid:")).count(), 4);

    paths.push(d.write("junk.json", "[]"));
    let a = args(&paths);
    assert_eq!(run(&a.iter().map(String::as_str).collect::<Vec<_>>()).0, 2);
}

#[test]
fn settle_prints_table_and_refusals() {
    let d = Dir::new("settle");
    let vk = d.vk();
    let snap = d.write("snapshot.json", &snapshot_of(&statement(0)).to_json());
    let mut paths: Vec<String> = (0..3)
        .map(|i| d.bundle(&format!("b{i}.json"), &bundle(&statement(i))))
        .collect();
    let mk = |paths: &[String], json: bool| {
        let mut a = vec!["settle", "--snapshot", &snap, "--vk", &vk];
        if json {
            a.push("--json");
        }
        let mut a: Vec<String> = a.into_iter().map(str::to_owned).collect();
        a.extend(paths.iter().cloned());
        a
    };
    let a = mk(&paths, false);
    let (code, out) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{out}");
    let paid: u64 = (0..3).map(|i| statement(i).payout).sum();
    let rev = statement(0).revenue;
    assert!(
        out.contains(&format!("undistributed {}", rev - paid)),
        "{out}"
    );

    // The same claim again, re-proved (different proof bytes): an overlap, refused.
    let s1 = statement(1);
    let again = ClaimBundle::new(
        &fixture().key,
        s1.clone(),
        common::prove_with(fixture(), &s1, 777),
    );
    paths.push(d.bundle("again.json", &again));
    let a = mk(&paths, true);
    let (code, out) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["admitted"], 3);
    assert_eq!(v["refused"][0]["bundle"], paths[3]);
    assert!(
        v["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("overlaps")
    );
    assert_eq!(v["report"]["undistributed"], (rev - paid).to_string());
}

#[test]
fn export_snarkjs_writes_three_files() {
    let d = Dir::new("export");
    let vk = d.vk();
    let good = d.bundle("good.json", &bundle(&statement(3)));
    let out_dir = d.path("out");
    let out_s = out_dir.display().to_string();
    let (code, out) = run(&["export-snarkjs", &good, "--vk", &vk, "--out", &out_s]);
    assert_eq!(code, 0, "{out}");
    for f in ["proof.json", "public.json", "verification_key.json"] {
        assert!(Path::new(&out_dir).join(f).is_file(), "{f}");
    }
    let (proof, st, key) = credence_verifier::snarkjs::SnarkjsFiles::read_from(&out_dir).unwrap();
    assert_eq!(st, statement(3));
    assert_eq!(&key, fixture().key.vk());
    assert!(credence_verifier::verify(&fixture().key, &st, &proof).is_ok());
}

/// Runs with standard output and standard error together (a message may go to either).
fn run_all(args: &[&str]) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN).args(args).output().unwrap();
    let mut text = String::from_utf8(stdout).unwrap();
    text.push_str(&String::from_utf8(stderr).unwrap());
    (status.code().expect("exited normally"), text)
}

#[test]
fn a_missing_or_unreadable_key_file_is_reported_as_the_key_files_problem() {
    let d = Dir::new("missing-vk");
    let good = d.bundle("good.json", &bundle(&statement(1)));
    let snap = d.write("snapshot.json", &snapshot_of(&statement(1)).to_json());
    let log_pub = d.write(
        "log.pub",
        &format!(
            "{}\n",
            credence_verifier::log::LogSigner::from_seed("credence.test/log", &[1; 32])
                .unwrap()
                .verifier()
        ),
    );
    let export = d.path("export.json").display().to_string();
    let zkey = d.path("final.zkey").display().to_string();
    // A typo in the key's path, and a directory where the key file should be.
    let typo = d.path("keys/x.vkk").display().to_string();
    let dir = d.path("").display().to_string();

    for (vk, why) in [
        (typo.as_str(), "No such file"),
        (dir.as_str(), "Is a directory"),
    ] {
        let commands: Vec<Vec<&str>> = vec![
            vec!["proof", &good, "--vk", vk],
            vec!["proof", &good, "--vk", vk, "--json"],
            vec!["batch", &good, "--vk", vk],
            vec!["settle", "--snapshot", &snap, "--vk", vk, &good],
            vec!["export-snarkjs", &good, "--vk", vk, "--out", &dir],
            vec!["inclusion", &good, "--log-key", &log_pub, "--vk", vk],
            vec![
                "audit",
                "--export",
                &export,
                "--log-key",
                &log_pub,
                "--vk",
                vk,
            ],
            vec!["ceremony", "--vk", vk, "--zkey", &zkey],
        ];
        for args in commands {
            let (code, out) = run_all(&args);
            // Exit 2: an input that cannot be read (a usage error), per the exit code contract.
            assert_eq!(code, 2, "{args:?}: {out}");
            assert!(
                out.contains(&format!("--vk {vk}: cannot read the verifying key file"))
                    && out.contains(why),
                "{args:?}: {out}"
            );
            // Not the bundle's verdict: no line blames it.
            assert!(!out.contains(&format!("{good}:")), "{args:?}: {out}");
        }
    }

    // The keys are read before any bundle: with the bundle missing too, the key is named.
    let no_bundle = d.path("no-such-bundle.json").display().to_string();
    let (code, out) = run_all(&["proof", &no_bundle, "--vk", &typo]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("--vk {typo}:")), "{out}");
    assert!(!out.contains("no-such-bundle"), "{out}");

    // With --json, one JSON object saying so, with no bundle in it.
    let (_, out) = run(&["proof", &good, "--vk", &typo, "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verdict"], "malformed");
    assert!(v.get("bundle").is_none(), "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("--vk {typo}:")),
        "{v}"
    );
}

#[test]
fn a_key_of_another_shape_names_the_bundles_circuit_and_the_keys_given() {
    let d = Dir::new("other-shape");
    let good = d.bundle("good.json", &bundle(&statement(1)));
    // The key of another shape (another circuit, another setup), named by its circuit id.
    let other = common::setup(5);
    let other_vk = d.path("claim-v1-n16-d20.vk");
    std::fs::write(&other_vk, other.key.to_bytes()).unwrap();
    let other_vk = other_vk.display().to_string();
    let needed = fixture().key.fingerprint().to_hex();
    let given = other.key.fingerprint().to_hex();
    let expected = format!(
        "the bundle was proven under {CIRCUIT_ID} with key {needed}, which is not trusted; \
         the trusted keys are: {other_vk} (claim-v1-n16-d20, {given})"
    );

    let (code, out) = run(&["proof", &good, "--vk", &other_vk]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.trim(), format!("{good}: invalid: {expected}"));

    // Two keys given, neither the bundle's: both listed.
    let (code, out) = run(&["batch", &good, "--vk", &other_vk, "--vk", &pinned_copy(&d)]);
    assert_eq!(code, 1, "{out}");
    let line = out.lines().find(|l| l.starts_with(&good)).unwrap();
    assert!(
        line.contains(&format!("proven under {CIRCUIT_ID} with key {needed}")),
        "{out}"
    );
    assert!(
        line.contains(&format!("(claim-v1-n16-d20, {given})")),
        "{out}"
    );
    assert!(line.contains("(claim-v1-n4-d8, "), "{out}");

    let snap = d.write("snapshot.json", &snapshot_of(&statement(1)).to_json());
    let (code, out) = run(&["settle", "--snapshot", &snap, "--vk", &other_vk, &good]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&expected), "{out}");

    let out_dir = d.path("out").display().to_string();
    let (code, out) = run(&[
        "export-snarkjs",
        &good,
        "--vk",
        &other_vk,
        "--out",
        &out_dir,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&expected), "{out}");
}

/// A third key (another setup), pinned to another circuit id with `CIRCUIT_ID=PATH`.
fn pinned_copy(d: &Dir) -> String {
    let p = d.path("third.vk");
    std::fs::write(&p, common::setup(6).key.to_bytes()).unwrap();
    format!("claim-v1-n4-d8={}", p.display())
}

#[test]
fn export_solidity_writes_the_generators_contract_and_refuses_a_bad_key() {
    use credence_verifier::CircuitId;
    use credence_verifier::solidity::verifier_contract;
    let d = Dir::new("export-solidity");
    let out = d.path("contracts");
    let (code, text) = run(&[
        "export-solidity",
        "--vk",
        &d.vk(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&fixture().key.fingerprint().to_hex()),
        "{text}"
    );
    let expected =
        verifier_contract(&CircuitId::new(CIRCUIT_ID).unwrap(), fixture().key.vk()).unwrap();
    let written = std::fs::read_to_string(out.join(expected.file_name())).unwrap();
    assert_eq!(written, expected.source);
    assert!(written.contains(&format!("0x{}", fixture().key.fingerprint().to_hex())));

    // A file that is not a key: exit 2, nothing written.
    let bad = d.write("bad.vk", "not a key");
    let empty = d.path("none");
    let (code, text) = run(&[
        "export-solidity",
        "--vk",
        &bad,
        "--out",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("not a verifying key"), "{text}");
    assert!(!empty.exists());
}

#[test]
fn calldata_of_a_bundle_is_the_claim_call() {
    use credence_verifier::solidity::ClaimCall;
    let d = Dir::new("calldata");
    let b = bundle(&statement(3));
    let path = d.bundle("claim.bundle.json", &b);
    let (code, text) = run(&["calldata", &path]);
    assert_eq!(code, 0, "{text}");
    let data = hex::decode(text.trim().strip_prefix("0x").unwrap()).unwrap();
    let call = ClaimCall::decode(&data).unwrap();
    assert_eq!(
        (call.circuit_id, call.statement, call.proof),
        (b.circuit_id.clone(), b.statement.clone(), b.proof.clone())
    );
    let (code, json) = run(&["calldata", &path, "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["function"], "claim(bytes32,uint256[9],uint256[8])");
    assert_eq!(v["inputs"].as_array().unwrap().len(), 9);
    assert_eq!(v["proof"].as_array().unwrap().len(), 8);
    assert_eq!(v["calldata"].as_str().unwrap(), text.trim());
    let bad = d.write("bad.json", "{}");
    assert_eq!(run(&["calldata", &bad]).0, 2);
}
