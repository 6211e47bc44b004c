//! `credence demo` end to end, through the binary, at depth 8 (256 leaves, so the 200
//! contributions fit and proving stays quick): every artifact is written, the settlement pays
//! at most the revenue, and a bundle verifies with `credence-verify`'s library against the
//! written `.vk` and snapshot alone.

use std::process::Command;

use credence_verifier::{
    CircuitId, ClaimBundle, TrustedKey, settlement::SettlementReport, settlement::Snapshot, verify,
};

#[test]
fn the_demo_runs_end_to_end_and_its_artifacts_check_out() {
    let dir = std::env::temp_dir().join(format!("credence-demo-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(["demo", "--depth", "8", "--data-dir"])
        .arg(&dir)
        .output()
        .expect("run credence demo");
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
