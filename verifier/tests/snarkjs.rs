//! snarkjs files from a real proof; round trip; optional check with a real snarkjs CLI.
//!
//! Set `SNARKJS` to a snarkjs executable (e.g. `node_modules/.bin/snarkjs`) to have
//! `snarkjs groth16 verify` accept the exported claim and reject it with a changed public input.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bundle, fixture, statement};
use credence_verifier::snarkjs::{SnarkjsFiles, SnarkjsProof, SnarkjsVerificationKey};
use credence_verifier::{ClaimBundle, PublicInput, verify};

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("credence-verifier-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn export_round_trips_and_imports_strictly() {
    let fx = fixture();
    let b = bundle(&statement(4));
    let files = SnarkjsFiles::export(&fx.key, &b).unwrap();
    assert_eq!(files.public.len(), 9);
    assert_eq!(files.proof.protocol, "groth16");
    assert_eq!(files.proof.curve, "bn128");
    assert_eq!(files.verification_key.n_public, 9);
    assert_eq!(files.verification_key.ic.len(), 10);
    assert_eq!(files.proof.pi_a[2], "1");
    assert_eq!(files.proof.pi_b[2], ["1", "0"]);
    assert_eq!(
        files.public[PublicInput::Payout.index()],
        b.statement.payout.to_string()
    );

    let dir = tempdir("export");
    files.write_to(&dir).unwrap();
    let (proof, st, vk) = SnarkjsFiles::read_from(&dir).unwrap();
    assert_eq!(proof, b.proof);
    assert_eq!(st, b.statement);
    assert_eq!(&vk, fx.key.vk());
    assert_eq!(verify(&fx.key, &st, &proof), Ok(()));

    // Field names as snarkjs writes them.
    let vk_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("verification_key.json")).unwrap())
            .unwrap();
    for k in [
        "protocol",
        "curve",
        "nPublic",
        "vk_alpha_1",
        "vk_beta_2",
        "vk_gamma_2",
        "vk_delta_2",
        "IC",
    ] {
        assert!(vk_json.get(k).is_some(), "{k}");
    }
    // An `vk_alphabeta_12` written by snarkjs is accepted and ignored.
    let mut with_ab = vk_json.clone();
    with_ab["vk_alphabeta_12"] = serde_json::json!([[["1", "2"]]]);
    let parsed: SnarkjsVerificationKey = serde_json::from_value(with_ab).unwrap();
    assert_eq!(&parsed.to_vk().unwrap(), fx.key.vk());

    // Strictness: wrong curve tag, unknown field, nPublic mismatch, z != 1.
    let mut p = files.proof.clone();
    p.curve = "bls12381".into();
    assert!(p.to_proof().is_err());
    let mut pj: serde_json::Value = serde_json::to_value(&files.proof).unwrap();
    pj["extra"] = 1.into();
    assert!(serde_json::from_value::<SnarkjsProof>(pj).is_err());
    let mut v = files.verification_key.clone();
    v.n_public = 8;
    assert!(v.to_vk().is_err());
    let mut v = files.verification_key.clone();
    v.vk_delta_2 = v.vk_gamma_2.clone();
    assert!(v.to_vk().is_err(), "gamma == delta refused on import too");

    // Exporting with a key the bundle does not name is refused.
    let other = common::setup(7);
    assert!(SnarkjsFiles::export(&other.key, &b).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

fn snarkjs_verify(snarkjs: &str, dir: &Path) -> bool {
    let out = Command::new(snarkjs)
        .args(["groth16", "verify"])
        .arg(dir.join("verification_key.json"))
        .arg(dir.join("public.json"))
        .arg(dir.join("proof.json"))
        .output()
        .expect("run snarkjs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // snarkjs prints "OK!" for a valid proof and "Invalid proof" otherwise.
    let ok = out.status.success() && text.contains("OK");
    eprintln!("snarkjs ({}): {}", out.status, text.trim());
    ok
}

#[test]
fn snarkjs_cli_accepts_valid_and_rejects_changed_input() {
    let Ok(snarkjs) = std::env::var("SNARKJS") else {
        // CI installs snarkjs (.ci/run): there, a missing SNARKJS is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set SNARKJS (see .ci/run)"
        );
        eprintln!("skipped: set SNARKJS to a snarkjs executable to run `snarkjs groth16 verify`");
        return;
    };
    let fx = fixture();
    let b: ClaimBundle = bundle(&statement(6));
    let files = SnarkjsFiles::export(&fx.key, &b).unwrap();
    let dir = tempdir("snarkjs-ok");
    files.write_to(&dir).unwrap();
    assert!(
        snarkjs_verify(&snarkjs, &dir),
        "snarkjs rejected a valid claim"
    );

    for input in PublicInput::ALL {
        let mut changed = files.clone();
        let v: num_like::Dec = changed.public[input.index()].parse().unwrap();
        changed.public[input.index()] = v.plus_one();
        let bad = tempdir(&format!("snarkjs-bad-{}", input.index()));
        changed.write_to(&bad).unwrap();
        assert!(
            !snarkjs_verify(&snarkjs, &bad),
            "snarkjs accepted a changed {input:?}"
        );
        let _ = std::fs::remove_dir_all(&bad);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Adds one to a decimal string (the inputs here are all < r - 1).
mod num_like {
    pub struct Dec(Vec<u8>);
    impl std::str::FromStr for Dec {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            Ok(Dec(s.bytes().map(|b| b - b'0').collect()))
        }
    }
    impl Dec {
        pub fn plus_one(mut self) -> String {
            let mut i = self.0.len();
            loop {
                if i == 0 {
                    self.0.insert(0, 1);
                    break;
                }
                i -= 1;
                if self.0[i] == 9 {
                    self.0[i] = 0;
                } else {
                    self.0[i] += 1;
                    break;
                }
            }
            self.0.iter().map(|d| char::from(b'0' + d)).collect()
        }
    }
}
