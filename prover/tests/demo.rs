//! `credence demo` end to end, through the binary, at depth 8 (256 leaves, so the 200
//! contributions fit and proving stays quick): every artifact is written, the settlement pays
//! at most the revenue, and a bundle verifies with `credence-verify`'s library against the
//! written `.vk` and snapshot alone. Then the demo's epoch is settled on chain, in revm: the
//! verifier contracts `credence-verify export-solidity` writes from the demo's keys, the
//! settlement contract, a payee per contributor set with `credence payee prove`, and the
//! demo's bundles claimed: the contract pays exactly `settlement.json`. The single-party setup warning is said once per key, on a
//! run that generates the keys and on one that loads them.

use std::process::Command;

mod common;

use credence_verifier::{
    CircuitId, ClaimBundle, TrustedKey, settlement::SettlementReport, settlement::Snapshot, verify,
};

/// The demo's two shapes (N = 16 and 64): one setup warning each.
const DEMO_KEYS: usize = 2;

/// How many times a run's output (stdout and stderr) carries the setup warning; and that none
/// of them is a log line (`WARN credence_server...`): the demo prints it for its reader.
fn setup_warnings(out: &std::process::Output) -> usize {
    let first_line = "WARNING: single-party trusted setup";
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines().filter(|l| l.contains(first_line)) {
        assert!(!line.contains(" WARN "), "a log line: {line}");
    }
    String::from_utf8_lossy(&out.stdout)
        .matches(first_line)
        .count()
        + stderr.matches(first_line).count()
}

fn demo(dir: &std::path::Path) -> std::process::Output {
    Command::new(common::BIN)
        .args(["demo", "--depth", "8", "--data-dir"])
        .arg(dir)
        // The demo's own default log level (warnings show), whatever the caller's RUST_LOG.
        .env_remove("RUST_LOG")
        .output()
        .expect("run credence demo")
}

#[test]
fn the_demo_runs_end_to_end_and_its_artifacts_check_out() {
    let dir = std::env::temp_dir().join(format!("credence-demo-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = demo(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("settlement of epoch 1"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 claim proofs valid"), "{stderr}");
    assert!(
        stderr.contains("every bundle's inclusion proof holds"),
        "{stderr}"
    );
    // Once per key, where a person reads it (not also as a log line).
    assert_eq!(setup_warnings(&out), DEMO_KEYS, "{stderr}");
    assert!(
        stderr.contains("claim-v1-n16-d8: WARNING: single-party"),
        "{stderr}"
    );

    let o = dir.join("out");
    for f in [
        "snapshot.json",
        "operator/leaves.json",
        "settlement.json",
        "keys/claim-v1-n64-d8.vk",
    ] {
        assert!(o.join(f).is_file(), "missing {f}");
    }
    let bundles: Vec<_> = std::fs::read_dir(o.join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(bundles.len(), 4);

    let snapshot =
        Snapshot::from_json(&std::fs::read_to_string(o.join("snapshot.json")).unwrap()).unwrap();
    let report: SettlementReport =
        serde_json::from_str(&std::fs::read_to_string(o.join("settlement.json")).unwrap()).unwrap();
    let paid: u64 = report.paid.parse().unwrap();
    assert!(paid <= snapshot.revenue);
    assert_eq!(report.payouts.len(), 4);

    let bundle = ClaimBundle::from_json(
        &std::fs::read_to_string(o.join("bundles/hospital-a.bundle.json")).unwrap(),
    )
    .unwrap();
    let id = bundle.circuit_id.to_string();
    let key = TrustedKey::from_bytes(
        CircuitId::new(&id).unwrap(),
        &std::fs::read(o.join(format!("keys/{id}.vk"))).unwrap(),
    )
    .unwrap();
    snapshot.check_statement(&bundle.statement).unwrap();
    verify(&key, &bundle.statement, &bundle.proof).unwrap();

    // The contributors' secrets and openings stay in their own folders, never in the artifacts.
    let secret: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("contributors/hospital-a/secret.key")).unwrap(),
    )
    .unwrap();
    let openings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("contributors/hospital-a/openings.json")).unwrap(),
    )
    .unwrap();
    let mut private = vec![secret["secret"].as_str().unwrap().to_string()];
    for o in openings["openings"].as_array().unwrap() {
        private.push(o["digest"].as_str().unwrap().to_string());
        private.push(o["blinding"].as_str().unwrap().to_string());
    }
    for entry in walk(&o) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).to_string();
        for p in &private {
            assert!(
                !text.contains(p.as_str()),
                "a private value in {}",
                entry.display()
            );
        }
    }
    settle_on_chain(&dir);

    // A second run loads the cached keys: still single-party, still said once per key.
    let again = demo(&dir);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        setup_warnings(&again),
        DEMO_KEYS,
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The demo's epoch settled on chain (see the module docs). Needs the pinned solc (`npm ci` in
/// verifier/contracts): skipped without it, except under `CI`.
fn settle_on_chain(dir: &std::path::Path) {
    use credence_contracts::evm::{CHAIN_ID, account};
    use credence_contracts::{Deployment, Solc};
    use credence_verifier::PayeeBundle;

    let solc = match Solc::installed() {
        Ok(s) => s,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install solc: {e}"
            );
            eprintln!("skipped the on-chain settlement: {e}");
            return;
        }
    };
    let o = dir.join("out");
    let run = |bin: &std::path::Path, args: &[&std::ffi::OsStr]| {
        let out = Command::new(bin).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            bin.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let credence = std::path::Path::new(common::BIN);
    let verify_bin = common::credence_verify_bin();
    let payee_dir = dir.join("payee");
    run(
        credence,
        &[
            "setup".as_ref(),
            "--circuit".as_ref(),
            "payee-v1".as_ref(),
            "--data-dir".as_ref(),
            payee_dir.as_os_str(),
        ],
    );
    let contracts = dir.join("contracts");
    let vk = |p: std::path::PathBuf| p.into_os_string();
    run(
        &verify_bin,
        &[
            "export-solidity".as_ref(),
            "--vk".as_ref(),
            &vk(o.join("keys/claim-v1-n16-d8.vk")),
            "--vk".as_ref(),
            &vk(o.join("keys/claim-v1-n64-d8.vk")),
            "--vk".as_ref(),
            &vk(payee_dir.join("keys/payee-v1.vk")),
            "--out".as_ref(),
            contracts.as_os_str(),
        ],
    );
    let names = [
        "ClaimV1N16D8Verifier",
        "ClaimV1N64D8Verifier",
        "PayeeV1Verifier",
    ];
    let sources: Vec<(String, String)> = names
        .iter()
        .map(|n| {
            let file = format!("{n}.sol");
            let text = std::fs::read_to_string(contracts.join(&file)).unwrap();
            (file, text)
        })
        .collect();
    let refs: Vec<(&str, &str)> = sources
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    let compiled = solc.compile(&refs).unwrap();
    let code = |n: &str| compiled.get(n).unwrap().bytecode.clone();
    let mut chain = Deployment::new(&code(names[2]), &[&code(names[0]), &code(names[1])]).unwrap();

    let snapshot =
        Snapshot::from_json(&std::fs::read_to_string(o.join("snapshot.json")).unwrap()).unwrap();
    let deadline = chain.evm.timestamp() + 86_400;
    chain.publish(&snapshot, deadline).unwrap();
    let settlement_address = format!("0x{}", hex::encode(chain.settlement.0.0));
    let mut payee_of = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("contributors")).unwrap() {
        let contributor = entry.unwrap().path();
        let name = contributor
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let payee = account(&format!("payee of {name}"));
        let payee_json = contributor.join("payee.json");
        run(
            credence,
            &[
                "payee".as_ref(),
                "prove".as_ref(),
                "--secret".as_ref(),
                contributor.join("secret.key").as_os_str(),
                "--keys-dir".as_ref(),
                payee_dir.join("keys").as_os_str(),
                "--chain-id".as_ref(),
                CHAIN_ID.to_string().as_ref(),
                "--settlement".as_ref(),
                settlement_address.as_ref(),
                "--payee".as_ref(),
                format!("0x{}", hex::encode(payee.0.0)).as_ref(),
                "--nonce".as_ref(),
                "0".as_ref(),
                "--out".as_ref(),
                payee_json.as_os_str(),
            ],
        );
        let bundle =
            PayeeBundle::from_json(&std::fs::read_to_string(&payee_json).unwrap()).unwrap();
        chain
            .set_payee(account(&name), &bundle.statement, &bundle.proof)
            .unwrap();
        payee_of.insert(
            credence_verifier::encoding::fr_to_decimal(&bundle.statement.contributor_id),
            payee,
        );
    }
    for entry in std::fs::read_dir(o.join("bundles")).unwrap() {
        let b = ClaimBundle::from_json(&std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .unwrap();
        chain
            .claim(account("relayer"), &b.circuit_id, &b.statement, &b.proof)
            .unwrap_or_else(|r| panic!("{}: {r:?}", b.circuit_id));
    }
    let report: SettlementReport =
        serde_json::from_str(&std::fs::read_to_string(o.join("settlement.json")).unwrap()).unwrap();
    assert_eq!(report.payouts.len(), payee_of.len());
    for line in &report.payouts {
        let payee = payee_of[&line.contributor_id];
        assert_eq!(
            chain.balance(payee).to_string(),
            line.payout,
            "{}",
            line.contributor_id
        );
    }
    let settlement = chain.settlement;
    assert_eq!(chain.balance(settlement).to_string(), report.undistributed);
}
