//! `credence bench` on a small shape (N = 1, D = 4): the prover's MSM beside arkworks' in one
//! run, and `--peers`, where snarkjs (required under CI, as `.ci/run` installs it) and plain
//! arkworks prove the same R1CS beside ours from the `.zkey` and synthetic `.wtns` it writes.
//! Only the report's shape and the files are checked here: speed is measured by the benchmark
//! itself, never in a test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{credence, ok};

/// snarkjs, if installed (`SNARKJS`, as `.ci/run` sets it). Under CI its absence is a failure.
fn snarkjs() -> Option<PathBuf> {
    match std::env::var_os("SNARKJS") {
        Some(p) if Path::new(&p).exists() => Some(PathBuf::from(p)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI must install snarkjs 0.7.6 and set SNARKJS (see .ci/run)")
        }
        _ => {
            eprintln!("SNARKJS not set: skipped");
            None
        }
    }
}

fn positive(v: &serde_json::Value, field: &str) -> f64 {
    let x = v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} missing in {v}"));
    assert!(x.is_finite() && x > 0.0, "{field} = {x}");
    x
}

#[test]
fn bench_reports_our_msm_beside_arkworks() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "bench",
            "--shape",
            "1,4",
            "--runs",
            "1",
            "--clients",
            "1",
            "--grpc-seconds",
            "0.2",
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let field = report["msm_field"].as_str().expect("msm_field");
    assert!(
        field == "bmi2-adx" || field == "ark-ff",
        "msm_field {field}"
    );
    let lanes = report["msm_lanes"].as_str().expect("msm_lanes");
    assert!(
        lanes == "avx512-ifma" || lanes == "none",
        "msm_lanes {lanes}"
    );
    let shape = &report["shapes"][0];
    for field in [
        "prove_s",
        "floor_s",
        "floor_msm_g1_s",
        "floor_msm_g2_s",
        "prove_arkworks_s",
        "prove_vs_arkworks",
        "floor_arkworks_s",
        "floor_arkworks_msm_g1_s",
        "floor_arkworks_msm_g2_s",
        "msm_g1_speedup",
        "msm_g2_speedup",
    ] {
        positive(shape, field);
    }
    // The ratios are the ones of the parts reported beside them (one run: no median blur).
    let g1 = positive(shape, "floor_arkworks_msm_g1_s") / positive(shape, "floor_msm_g1_s");
    assert!((g1 / positive(shape, "msm_g1_speedup") - 1.0).abs() < 1e-9);
}

#[test]
fn snarkjs_flag_needs_gas_or_peers() {
    let dir = tempfile::tempdir().unwrap();
    let o = credence(
        dir.path(),
        &["bench", "--snarkjs", "snarkjs", "--runs", "1"],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--snarkjs goes with --gas or --peers"));
    let o = credence(dir.path(), &["bench", "--keep", "x"]);
    assert!(!o.status.success(), "--keep without --peers");
}

#[test]
fn peers_prove_the_same_r1cs() {
    let Some(snarkjs) = snarkjs() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("peers");
    let out = ok(
        dir.path(),
        &[
            "bench".as_ref(),
            "--peers".as_ref(),
            "--shape".as_ref(),
            "1,4".as_ref(),
            "--runs".as_ref(),
            "1".as_ref(),
            "--snarkjs".as_ref(),
            snarkjs.as_os_str(),
            "--keep".as_ref(),
            keep.as_os_str(),
            "--json".as_ref(),
        ],
    );
    // Every peer's proof was verified against our key and statement before this report.
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["snarkjs"], "snarkjs@0.7.6");
    let shape = &report["shapes"][0];
    assert_eq!(shape["circuit_id"], "claim-v1-n1-d4");
    for field in [
        "ours_s",
        "arkworks_s",
        "snarkjs_s",
        "arkworks_over_ours",
        "snarkjs_over_ours",
    ] {
        positive(shape, field);
    }

    // The files stay, owner-only (the witness is a claim's, even a synthetic one's).
    let (r1cs, wtns) = (
        keep.join("claim-1-4.r1cs"),
        keep.join("claim-1-4.synthetic.wtns"),
    );
    for f in [&r1cs, &wtns, &keep.join("claim-1-4.zkey")] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", f.display());
    }
    // snarkjs checks the witness against the circuit on its own; a changed value fails it.
    let check = |w: &Path| {
        let o = Command::new(&snarkjs)
            .args(["wtns", "check"])
            .args([&r1cs, &w.to_path_buf()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).contains("WITNESS IS CORRECT") && o.status.success()
    };
    assert!(check(&wtns));
    let mut bytes = std::fs::read(&wtns).unwrap();
    // The last byte-but-31 is the low byte of the last private value (little-endian).
    let at = bytes.len() - 32;
    bytes[at] ^= 1;
    let bad = keep.join("tampered.wtns");
    std::fs::write(&bad, bytes).unwrap();
    assert!(!check(&bad));
}
