//! `credence-verify ceremony`: a verifying key traced to its ceremony's transcript. The
//! transcript is a real one (a pilot ptau, `zkey new`, two contributions and a beacon, made with
//! the ceremony crate) of a small circuit with the claim circuit's nine public inputs. Exit 0 for
//! the transcript's own key (with and without the full re-verification), 1 for another key or a
//! transcript that does not verify, 2 for a file that is not a zkey.

use std::path::Path;
use std::process::Command;

use ark_bn254::Fr;
use ark_ff::One;
use credence_ceremony::{Ptau, Zkey};
use credence_ceremony::{R1cs, beacon, contribute, new_zkey, pilot_ptau, setup::domain_power};
use credence_verifier::VerifyingKey;

const BIN: &str = env!("CARGO_BIN_EXE_credence-verify");

/// Nine public inputs, each bound by `x_i * 1 = x_i`, and one witness `w * w = w`.
fn circuit() -> R1cs {
    let one = Fr::one();
    let (mut a, mut b, mut c) = (vec![], vec![], vec![]);
    for i in 1..=9 {
        a.push(vec![(one, i)]);
        b.push(vec![(one, 0)]);
        c.push(vec![(one, i)]);
    }
    a.push(vec![(one, 10)]);
    b.push(vec![(one, 10)]);
    c.push(vec![(one, 10)]);
    R1cs::from_matrices(&[a, b, c], 10, 1, 10).unwrap()
}

fn vk_bytes(z: &Zkey) -> Vec<u8> {
    let h = &z.header;
    VerifyingKey {
        alpha_g1: h.alpha_g1,
        beta_g2: h.beta_g2,
        gamma_g2: h.gamma_g2,
        delta_g2: h.delta_g2,
        gamma_abc_g1: z.ic.clone(),
    }
    .to_bytes()
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_key_is_traced_to_its_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let f = |n: &str| dir.path().join(n);
    let r1cs = circuit();
    std::fs::write(f("circuit.r1cs"), r1cs.to_bytes()).unwrap();
    let power = domain_power(r1cs.num_constraints(), r1cs.num_public()).unwrap();
    let mut bytes = Vec::new();
    pilot_ptau::write_single_party_ptau(power, &mut bytes).unwrap();
    std::fs::write(f("pot.ptau"), &bytes).unwrap();
    let mut ptau = Ptau::open(f("pot.ptau")).unwrap();
    let z0 = new_zkey(&r1cs, &mut ptau).unwrap();
    let (z1, r1) = contribute(&z0, Some("hospital a"), b"").unwrap();
    let (z2, _) = contribute(&z1, Some("hospital b"), b"").unwrap();
    let (fin, _) = beacon(&z2, Some("final beacon"), &[5; 32], 10).unwrap();
    fin.save(f("final.zkey")).unwrap();
    let id = "claim-v1-n1-d4";
    std::fs::write(f(&format!("{id}.vk")), vk_bytes(&fin)).unwrap();
    std::fs::write(f("other.vk"), vk_bytes(&z2)).unwrap();
    let vk = f(&format!("{id}.vk"));

    // The key is the transcript's; the contributions are listed with their hashes.
    let (code, out) = run(&["ceremony", "--vk", s(&vk), "--zkey", s(&f("final.zkey"))]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("not re-verified"), "{out}");
    assert!(out.contains("contribution #1 hospital a:"), "{out}");
    assert!(out.contains("Beacon generator: 0505"), "{out}");
    let first = credence_ceremony::format_hash(&r1.contribution_hash, None);
    assert!(out.contains(first.trim()), "{out}");

    // With the circuit and the ptau, the whole transcript is re-verified.
    let (zkey_path, r1cs_path, ptau_path, tampered_path) = (
        f("final.zkey"),
        f("circuit.r1cs"),
        f("pot.ptau"),
        f("tampered.zkey"),
    );
    let full = [
        "ceremony",
        "--vk",
        s(&vk),
        "--zkey",
        s(&zkey_path),
        "--r1cs",
        s(&r1cs_path),
        "--ptau",
        s(&ptau_path),
        "--json",
    ];
    let (code, out) = run(&full);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["transcript_verified"], true);
    assert_eq!(json["contributions"].as_array().unwrap().len(), 3);
    assert_eq!(json["contributions"][2]["beacon_iterations_exp"], 10);

    // Another key (the one before the beacon) is not this transcript's final key.
    let other = format!("{id}={}", s(&f("other.vk")));
    let (code, out) = run(&["ceremony", "--vk", &other, "--zkey", s(&f("final.zkey"))]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not the final key"), "{out}");

    // A transcript whose H section was edited keeps its key but does not verify.
    let mut tampered = Zkey::open(f("final.zkey")).unwrap();
    tampered.h.swap(0, 1);
    tampered.save(&tampered_path).unwrap();
    let mut args = full;
    args[4] = s(&tampered_path);
    let (code, out) = run(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not verify"), "{out}");

    // Not a zkey at all.
    let (code, out) = run(&["ceremony", "--vk", s(&vk), "--zkey", s(&f("pot.ptau"))]);
    assert_eq!(code, 2, "{out}");
}
