//! Interop with snarkjs 0.7.6 (set `SNARKJS` to its binary; required when `CI` is set).

mod common;

use common::*;
use credence_ceremony::r1cs::R1cs;

fn toy_r1cs(variant: u8) -> R1cs {
    let m = matrices(variant);
    R1cs::from_matrices(
        &m.matrices,
        m.num_instance_variables,
        m.num_witness_variables,
        m.num_constraints,
    )
    .unwrap()
}

#[test]
fn r1cs_info_matches() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("r1cs_info");
    let m = matrices(0);
    let r1cs = toy_r1cs(0);
    assert_eq!(r1cs.to_bytes(), toy_r1cs(0).to_bytes(), "deterministic");
    let path = dir.join("toy.r1cs");
    std::fs::write(&path, r1cs.to_bytes()).unwrap();
    let out = run_ok(&sj, &["r1cs", "info", s(&path)]);
    let wires = m.num_instance_variables + m.num_witness_variables;
    for line in [
        "Curve: bn-128".to_string(),
        format!("# of Wires: {wires}"),
        format!("# of Constraints: {}", m.num_constraints),
        "# of Private Inputs: 0".to_string(),
        format!("# of Public Inputs: {PUBLIC}"),
        format!("# of Labels: {wires}"),
        "# of Outputs: 0".to_string(),
    ] {
        assert!(out.contains(&line), "missing {line:?} in:\n{out}");
    }
    // snarkjs reads back the same constraints.
    let json = dir.join("toy.json");
    run_ok(&sj, &["r1cs", "export", "json", s(&path), s(&json)]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let cons = v["constraints"].as_array().unwrap();
    assert_eq!(cons.len(), m.num_constraints);
    for (k, c) in cons.iter().enumerate() {
        for (mi, lc) in c.as_array().unwrap().iter().enumerate() {
            let obj = lc.as_object().unwrap();
            let ours = &r1cs.constraints[k][mi];
            assert_eq!(obj.len(), ours.len(), "constraint {k} lc {mi}");
            for (w, val) in ours {
                assert_eq!(obj[&w.to_string()].as_str().unwrap(), val.to_string());
            }
        }
    }
    assert_eq!(v["nPubInputs"], PUBLIC);
    assert_eq!(v["nVars"], wires);
}

use credence_ceremony::{ptau::Ptau, setup::new_zkey, zkey::Zkey};

#[test]
fn zkey_new_is_byte_identical() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("zkey_new");
    let pot = ptau(&sj, 8, "a");
    for variant in [0u8, 1, 2] {
        let r1cs = toy_r1cs(variant);
        let r1cs_path = dir.join(format!("toy{variant}.r1cs"));
        std::fs::write(&r1cs_path, r1cs.to_bytes()).unwrap();
        let theirs = dir.join(format!("toy{variant}_snarkjs.zkey"));
        run_ok(&sj, &["zkey", "new", s(&r1cs_path), s(&pot), s(&theirs)]);
        let t = std::time::Instant::now();
        let ours = new_zkey(&r1cs, &mut Ptau::open(&pot).unwrap()).unwrap();
        eprintln!("zkey new (ours) variant {variant}: {:?}", t.elapsed());
        let theirs_bytes = std::fs::read(&theirs).unwrap();
        let parsed = Zkey::from_bytes(&theirs_bytes).unwrap();
        assert_eq!(parsed.to_bytes(), theirs_bytes, "parse/write roundtrip");
        for id in 1..=10 {
            assert_eq!(
                ours.section_bytes(id),
                parsed.section_bytes(id),
                "section {id} differs (variant {variant})"
            );
        }
        assert_eq!(
            ours.to_bytes(),
            theirs_bytes,
            "whole file (variant {variant})"
        );
    }
}

use ark_bn254::{G1Affine, G1Projective, G2Projective};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use credence_ceremony::{
    Error,
    contribution::{beacon, contribute, format_hash},
    verify::verify,
    zkey::ContributionKind,
};
use std::path::Path;

const BEACON: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn our_verify(r1cs_path: &Path, pot: &Path, zkey: &Zkey) -> Result<String, Error> {
    let r1cs = R1cs::from_bytes(&std::fs::read(r1cs_path).unwrap()).unwrap();
    verify(&r1cs, &mut Ptau::open(pot).unwrap(), zkey).map(|r| r.to_string())
}

fn snarkjs_accepts(sj: &Path, r1cs: &Path, pot: &Path, zkey: &Path) -> (bool, String) {
    let (_, out) = run(sj, &["zkey", "verify", s(r1cs), s(pot), s(zkey)]);
    (out.contains("ZKey Ok!"), out)
}

/// Lines of `text` without snarkjs' log prefix.
fn strip_log(text: &str) -> String {
    // Drop ANSI colour sequences (ESC '[' ... 'm').
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(ch);
        }
    }
    plain
        .lines()
        .map(|l| match l.find("snarkJS: ") {
            Some(i) => &l[i + 9..],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn ceremony_interop_and_tampering() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("ceremony");
    let pot = ptau(&sj, 8, "a");
    let r1cs = toy_r1cs(0);
    let r1cs_path = dir.join("toy.r1cs");
    std::fs::write(&r1cs_path, r1cs.to_bytes()).unwrap();
    let p = |n: &str| dir.join(n);

    // z0: ours; z1: ours; z2: snarkjs; z3: ours; final: beacon (ours and snarkjs').
    let z0 = new_zkey(&r1cs, &mut Ptau::open(&pot).unwrap()).unwrap();
    z0.save(p("z0.zkey")).unwrap();
    let t = std::time::Instant::now();
    let (z1, r1) = contribute(&z0, Some("alice"), b"alice's extra entropy").unwrap();
    eprintln!("contribute (ours): {:?}", t.elapsed());
    z1.save(p("z1.zkey")).unwrap();
    let out = run_ok(
        &sj,
        &[
            "zkey",
            "contribute",
            s(&p("z1.zkey")),
            s(&p("z2.zkey")),
            "--name=bob",
            "-e=bob entropy",
        ],
    );
    let z2 = Zkey::open(p("z2.zkey")).unwrap();
    let bob_hash = z2.mpc.contributions[1].contribution_hash();
    assert!(
        strip_log(&out).contains(&format_hash(&bob_hash, Some("Contribution Hash: "))),
        "snarkjs printed another contribution hash:\n{out}"
    );
    let (z3, r3) = contribute(&z2, Some("carol"), b"").unwrap();
    z3.save(p("z3.zkey")).unwrap();
    let beacon_hash = hex::decode(BEACON).unwrap();
    let t = std::time::Instant::now();
    let (z4, r4) = beacon(&z3, Some("final beacon"), &beacon_hash, 10).unwrap();
    eprintln!("beacon (ours): {:?}", t.elapsed());
    z4.save(p("z4.zkey")).unwrap();
    let out = run_ok(
        &sj,
        &[
            "zkey",
            "beacon",
            s(&p("z3.zkey")),
            s(&p("z4_snarkjs.zkey")),
            BEACON,
            "10",
            "--name=final beacon",
        ],
    );
    assert!(strip_log(&out).contains(&format_hash(
        &r4.contribution_hash,
        Some("Contribution Hash: ")
    )));
    assert_eq!(
        std::fs::read(p("z4.zkey")).unwrap(),
        std::fs::read(p("z4_snarkjs.zkey")).unwrap(),
        "a beacon is deterministic: ours and snarkjs' must be byte-identical"
    );
    assert_eq!(r1.circuit_hash, z0.mpc.cs_hash);

    // Every intermediate key and the final one pass both verifiers.
    for name in ["z0.zkey", "z1.zkey", "z2.zkey", "z3.zkey", "z4.zkey"] {
        let (ok, out) = snarkjs_accepts(&sj, &r1cs_path, &pot, &p(name));
        assert!(ok, "snarkjs refused {name}:\n{out}");
        let t = std::time::Instant::now();
        let report = our_verify(&r1cs_path, &pot, &Zkey::open(p(name)).unwrap())
            .unwrap_or_else(|e| panic!("we refused {name}: {e}"));
        eprintln!("verify (ours) {name}: {:?}", t.elapsed());
        // The report prints what snarkjs prints.
        assert!(
            strip_log(&out).contains(&report),
            "report differs from snarkjs for {name}:\nours:\n{report}\nsnarkjs:\n{out}"
        );
    }
    let report = verify(&r1cs, &mut Ptau::open(&pot).unwrap(), &z4).unwrap();
    let names: Vec<_> = report
        .contributions
        .iter()
        .map(|c| c.name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol", "final beacon"]);
    assert_eq!(report.contributions[0].hash, r1.contribution_hash);
    assert_eq!(report.contributions[2].hash, r3.contribution_hash);
    assert!(matches!(
        report.contributions[3].kind,
        ContributionKind::Beacon {
            iterations_exp: 10,
            ..
        }
    ));
    assert_eq!(report.circuit_hash, z0.mpc.cs_hash);

    // Tampering: both verifiers must refuse.
    let two = |g: G1Affine| (g.into_group() + g).into_affine();
    let mut cases: Vec<(&str, Zkey)> = Vec::new();
    let mut z = z4.clone();
    z.mpc.contributions[1].delta_after = two(z.mpc.contributions[1].delta_after);
    cases.push(("delta changed in a contribution", z));
    let mut z = z4.clone();
    z.header.delta_g1 = two(z.header.delta_g1);
    z.header.delta_g2 = (z.header.delta_g2.into_group().double()).into_affine();
    cases.push(("final delta changed (G1 and G2)", z));
    let mut z = z4.clone();
    z.header.delta_g2 = (z.header.delta_g2.into_group().double()).into_affine();
    cases.push(("delta2 inconsistent with delta1", z));
    let mut z = z4.clone();
    z.mpc.contributions[2].g2_spx =
        (z.mpc.contributions[2].g2_spx.into_group().double()).into_affine();
    cases.push(("forged proof of knowledge (g2_spx)", z));
    let mut z = z4.clone();
    {
        // A forger who knows y but binds the proof to another secret.
        let c = &mut z.mpc.contributions[0];
        c.g1_sx = two(c.g1_sx);
    }
    cases.push(("forged proof of knowledge (g1_sx)", z));
    let mut z = z4.clone();
    z.l[0] = (z.l[0].into_group() + G1Projective::from(G1Affine::generator())).into_affine();
    cases.push(("edited L point", z));
    let mut z = z4.clone();
    let last = z.h.len() - 1;
    z.h[last] = two(z.h[last]);
    cases.push(("edited H point", z));
    let mut z = z4.clone();
    z.a[3] = two(z.a[3]);
    cases.push(("edited A point", z));
    let mut z = z4.clone();
    z.b1[2] = two(z.b1[2]);
    cases.push(("edited B1 point", z));
    let mut z = z4.clone();
    z.b2[2] = (z.b2[2].into_group() + G2Projective::from(z.b2[2])).into_affine();
    cases.push(("edited B2 point", z));
    let mut z = z4.clone();
    z.ic[1] = two(z.ic[1]);
    cases.push(("edited IC point", z));
    let mut z = z4.clone();
    z.coefficients[0].value += ark_bn254::Fr::from(1u64);
    cases.push(("edited coefficient", z));
    let mut z = z4.clone();
    z.mpc.contributions.swap(1, 2);
    cases.push(("reordered contributions", z));
    let mut z = z4.clone();
    z.mpc.contributions.remove(1);
    cases.push(("dropped contribution", z));
    let mut z = z4.clone();
    z.mpc.contributions.pop();
    cases.push(("dropped last contribution", z));
    let mut z = z4.clone();
    if let ContributionKind::Beacon { hash, .. } = &mut z.mpc.contributions[3].kind {
        hash[0] ^= 1;
    }
    cases.push(("beacon hash that does not re-derive", z));
    let mut z = z4.clone();
    if let ContributionKind::Beacon { iterations_exp, .. } = &mut z.mpc.contributions[3].kind {
        *iterations_exp = 11;
    }
    cases.push(("beacon exponent that does not re-derive", z));
    let mut z = z4.clone();
    z.mpc.cs_hash[5] ^= 1;
    cases.push(("circuit hash changed", z));

    // snarkjs takes seconds per run: two at a time (the machine has two cores).
    for (i, (what, z)) in cases.iter().enumerate() {
        z.save(p(&format!("tampered_{i}.zkey"))).unwrap();
        let ours = our_verify(
            &r1cs_path,
            &pot,
            &Zkey::open(p(&format!("tampered_{i}.zkey"))).unwrap(),
        );
        assert!(ours.is_err(), "we accepted: {what}");
        eprintln!("refused by us: {what}: {}", ours.unwrap_err());
    }
    let indices: Vec<usize> = (0..cases.len()).collect();
    for pair in indices.chunks(2) {
        std::thread::scope(|scope| {
            for &i in pair {
                let (sj, r1cs_path, pot, path) =
                    (&sj, &r1cs_path, &pot, p(&format!("tampered_{i}.zkey")));
                let what = cases[i].0;
                scope.spawn(move || {
                    let (ok, out) = snarkjs_accepts(sj, r1cs_path, pot, &path);
                    assert!(!ok, "snarkjs accepted: {what}\n{out}");
                });
            }
        });
    }
    // Another ptau (another ceremony) and another circuit.
    let pot9 = ptau(&sj, 9, "b");
    let (ok, out) = snarkjs_accepts(&sj, &r1cs_path, &pot9, &p("z4.zkey"));
    assert!(!ok, "snarkjs accepted another ptau\n{out}");
    let e = our_verify(&r1cs_path, &pot9, &z4).unwrap_err();
    eprintln!("refused by both: ptau of another ceremony and size: {e}");
    let other = dir.join("other.r1cs");
    std::fs::write(&other, toy_r1cs(1).to_bytes()).unwrap();
    let (ok, out) = snarkjs_accepts(&sj, &other, &pot, &p("z4.zkey"));
    assert!(!ok, "snarkjs accepted another circuit\n{out}");
    let e = our_verify(&other, &pot, &z4).unwrap_err();
    eprintln!("refused by both: another circuit: {e}");
    let bigger = dir.join("bigger.r1cs");
    std::fs::write(&bigger, toy_r1cs(2).to_bytes()).unwrap();
    let (ok, out) = snarkjs_accepts(&sj, &bigger, &pot, &p("z4.zkey"));
    assert!(!ok, "snarkjs accepted another circuit\n{out}");
    let e = our_verify(&bigger, &pot, &z4).unwrap_err();
    eprintln!("refused by both: a circuit with one more constraint: {e}");
}

use ark_bn254::{Bn254, Fr};
use ark_ff::{BigInteger, PrimeField, UniformRand};
use ark_groth16::{Groth16, prepare_verifying_key};
use credence_ceremony::{
    CircomReduction,
    keys::{
        check_circuit, proof_json, proving_key, public_json, verifying_key, verifying_key_json,
    },
};

/// A snarkjs `.wtns` file (test helper: lets snarkjs prove with our witness).
fn wtns_bytes(z: &[Fr]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"wtns");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&2u32.to_le_bytes());
    let mut h = Vec::new();
    h.extend_from_slice(&32u32.to_le_bytes());
    h.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    h.extend_from_slice(&(z.len() as u32).to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&((z.len() * 32) as u64).to_le_bytes());
    for v in z {
        out.extend_from_slice(&v.into_bigint().to_bytes_le());
    }
    out
}

#[test]
fn prove_with_ceremony_key() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("prove");
    let p = |n: &str| dir.join(n);
    let pot = ptau(&sj, 8, "a");
    let m = matrices(0);
    let r1cs = toy_r1cs(0);
    std::fs::write(p("toy.r1cs"), r1cs.to_bytes()).unwrap();

    // A two-party ceremony: us, then snarkjs.
    let z0 = new_zkey(&r1cs, &mut Ptau::open(&pot).unwrap()).unwrap();
    let (z1, _) = contribute(&z0, Some("us"), b"").unwrap();
    z1.save(p("z1.zkey")).unwrap();
    run_ok(
        &sj,
        &[
            "zkey",
            "contribute",
            s(&p("z1.zkey")),
            s(&p("final.zkey")),
            "-n=them",
            "-e=x",
        ],
    );
    let zkey = Zkey::open(p("final.zkey")).unwrap();
    let report = verify(&r1cs, &mut Ptau::open(&pot).unwrap(), &zkey).unwrap();
    let pk = proving_key(&zkey, &r1cs, &report.circuit_hash).unwrap();

    // Prove with arkworks and the snarkjs reduction.
    let inputs = inputs(3);
    let z = full_assignment(0, inputs);
    let mut rng = ark_std::test_rng();
    let t = std::time::Instant::now();
    let proof = Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(
        &pk,
        Fr::rand(&mut rng),
        Fr::rand(&mut rng),
        &m.matrices,
        m.num_instance_variables,
        m.num_constraints,
        &z,
    )
    .unwrap();
    eprintln!("prove (ours): {:?}", t.elapsed());
    let pvk = prepare_verifying_key(&pk.vk);
    let public = &z[1..m.num_instance_variables];
    assert!(Groth16::<Bn254>::verify_proof(&pvk, &proof, public).unwrap());
    let mut wrong = public.to_vec();
    wrong[8] += Fr::from(1u64);
    assert!(!Groth16::<Bn254>::verify_proof(&pvk, &proof, &wrong).unwrap());

    // snarkjs verifies it, with the key it exports and with the key we export.
    run_ok(
        &sj,
        &[
            "zkey",
            "export",
            "verificationkey",
            s(&p("final.zkey")),
            s(&p("vk.json")),
        ],
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("vk.json")).unwrap()).unwrap();
    assert_eq!(verifying_key_json(&verifying_key(&zkey)), theirs);
    std::fs::write(p("proof.json"), proof_json(&proof).to_string()).unwrap();
    std::fs::write(p("public.json"), public_json(public).to_string()).unwrap();
    let out = run_ok(
        &sj,
        &[
            "groth16",
            "verify",
            s(&p("vk.json")),
            s(&p("public.json")),
            s(&p("proof.json")),
        ],
    );
    assert!(out.contains("OK!"), "{out}");
    std::fs::write(p("wrong.json"), public_json(&wrong).to_string()).unwrap();
    let (_, out) = run(
        &sj,
        &[
            "groth16",
            "verify",
            s(&p("vk.json")),
            s(&p("wrong.json")),
            s(&p("proof.json")),
        ],
    );
    assert!(
        !out.contains("OK!"),
        "snarkjs accepted a wrong public input: {out}"
    );

    // snarkjs proves with the same key and witness; arkworks verifies.
    std::fs::write(p("w.wtns"), wtns_bytes(&z)).unwrap();
    run_ok(
        &sj,
        &[
            "groth16",
            "prove",
            s(&p("final.zkey")),
            s(&p("w.wtns")),
            s(&p("sj_proof.json")),
            s(&p("sj_public.json")),
        ],
    );
    let sj_public: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("sj_public.json")).unwrap()).unwrap();
    assert_eq!(sj_public, public_json(public));
    let sjp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("sj_proof.json")).unwrap()).unwrap();
    let fq = |v: &serde_json::Value| v.as_str().unwrap().parse::<ark_bn254::Fq>().unwrap();
    let sj_proof = ark_groth16::Proof::<Bn254> {
        a: G1Affine::new(fq(&sjp["pi_a"][0]), fq(&sjp["pi_a"][1])),
        b: ark_bn254::G2Affine::new(
            ark_bn254::Fq2::new(fq(&sjp["pi_b"][0][0]), fq(&sjp["pi_b"][0][1])),
            ark_bn254::Fq2::new(fq(&sjp["pi_b"][1][0]), fq(&sjp["pi_b"][1][1])),
        ),
        c: G1Affine::new(fq(&sjp["pi_c"][0]), fq(&sjp["pi_c"][1])),
    };
    assert!(Groth16::<Bn254>::verify_proof(&pvk, &sj_proof, public).unwrap());

    // An unsatisfied witness is refused.
    let mut bad = z.clone();
    bad[m.num_instance_variables] += Fr::from(1u64);
    assert!(
        Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(
            &pk,
            Fr::from(1u64),
            Fr::from(2u64),
            &m.matrices,
            m.num_instance_variables,
            m.num_constraints,
            &bad,
        )
        .is_err()
    );

    // Keys of other circuits are refused.
    let other_c = toy_r1cs(1); // differs only in C
    let other_dims = toy_r1cs(2); // one more constraint
    assert!(matches!(
        proving_key(&zkey, &other_dims, &report.circuit_hash),
        Err(Error::KeyMismatch(_))
    ));
    let pot_ptau = &mut Ptau::open(&pot).unwrap();
    let other_hash = credence_ceremony::setup::circuit_hash(&other_c, pot_ptau).unwrap();
    assert!(matches!(
        proving_key(&zkey, &other_c, &other_hash),
        Err(Error::KeyMismatch(_))
    ));
    // A key of another circuit whose A/B differ is caught without any hash.
    let mut other_a = toy_r1cs(0);
    other_a.constraints[3][0][0].1 += Fr::from(1u64);
    assert!(check_circuit(&zkey, &other_a).is_err());
    assert!(check_circuit(&zkey, &r1cs).is_ok());
}

use credence_ceremony::{FileKind, binfile::BinFile};

#[test]
fn ptau_errors() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("ptau_errors");
    let pot = ptau(&sj, 8, "a");
    let r1cs = toy_r1cs(0);
    let r1cs_path = dir.join("toy.r1cs");
    std::fs::write(&r1cs_path, r1cs.to_bytes()).unwrap();

    // Not a ptau.
    assert!(matches!(
        Ptau::open(&r1cs_path),
        Err(Error::BadMagic {
            expected: FileKind::Ptau,
            ..
        })
    ));
    // Not prepared for phase 2.
    let unprepared = pot.with_file_name("pot8_a_1.ptau");
    assert!(matches!(
        Ptau::open(&unprepared),
        Err(Error::PtauNotPrepared)
    ));
    // Too small: the toy circuit needs 2^5.
    let small = ptau(&sj, 4, "s");
    match new_zkey(&r1cs, &mut Ptau::open(&small).unwrap()) {
        Err(Error::PtauTooSmall {
            power: 4,
            needed: 5,
            why,
        }) => eprintln!("too small: {why}"),
        other => panic!("expected PtauTooSmall, got {other:?}"),
    }
    let (ok, out) = run(
        &sj,
        &[
            "zkey",
            "new",
            s(&r1cs_path),
            s(&small),
            s(&dir.join("x.zkey")),
        ],
    );
    assert!(!ok && out.contains("circuit too big"), "{out}");

    // Truncated anywhere.
    let bytes = std::fs::read(&pot).unwrap();
    for cut in [
        0,
        4,
        11,
        30,
        60,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        let e = Ptau::read(std::io::Cursor::new(bytes[..cut].to_vec()));
        assert!(e.is_err(), "cut at {cut} accepted");
    }
    // A point off the curve in the Lagrange section the circuit uses (level 2^5).
    let f = BinFile::open(std::io::Cursor::new(bytes.clone()), FileKind::Ptau, 1).unwrap();
    let s12 = f.section(12, "Lagrange tauG1").unwrap();
    let mut bad = bytes.clone();
    let point = 31 + 7; // level 5 starts at point 2^5 - 1
    bad[(s12.offset + point * 64 + 40) as usize] ^= 0x01;
    let mut p = Ptau::read(std::io::Cursor::new(bad)).unwrap();
    match new_zkey(&r1cs, &mut p) {
        Err(Error::BadPoint {
            kind: FileKind::Ptau,
            index: 7,
            ..
        }) => {}
        other => panic!("expected BadPoint at 7, got {other:?}"),
    }
    // Garbage.
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(Ptau::read(std::io::Cursor::new(noise)).is_err());
    let mut magic_only = b"ptau".to_vec();
    magic_only.extend_from_slice(&[1, 0, 0, 0, 255, 255, 255, 255]);
    assert!(Ptau::read(std::io::Cursor::new(magic_only)).is_err());
}

#[test]
fn zkey_garbage_from_snarkjs_file() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("zkey_garbage");
    let pot = ptau(&sj, 8, "a");
    let r1cs = toy_r1cs(0);
    let r1cs_path = dir.join("toy.r1cs");
    std::fs::write(&r1cs_path, r1cs.to_bytes()).unwrap();
    let path = dir.join("toy.zkey");
    run_ok(&sj, &["zkey", "new", s(&r1cs_path), s(&pot), s(&path)]);
    let bytes = std::fs::read(&path).unwrap();
    for cut in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        assert!(Zkey::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // Flip one byte in every 61st position: either refused or still a valid zkey, never a
    // panic.
    let mut refused = 0;
    for pos in (0..bytes.len()).step_by(61) {
        let mut b = bytes.clone();
        b[pos] ^= 0x5a;
        if Zkey::from_bytes(&b).is_err() {
            refused += 1;
        }
    }
    assert!(refused > 0);
    assert!(R1cs::from_bytes(&bytes).is_err());
    assert!(Ptau::read(std::io::Cursor::new(bytes)).is_err());
}

use credence_ceremony::pilot_ptau::write_single_party_ptau_with_rng;
use rand_chacha::rand_core::SeedableRng;

#[test]
fn pilot_ptau_matches_snarkjs_prepare() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("pilot");
    let power = 6;
    let mut raw = Vec::new();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(42);
    write_single_party_ptau_with_rng(power, &mut rng, false, &mut raw).unwrap();
    let mut prepared = Vec::new();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(42);
    let t = std::time::Instant::now();
    write_single_party_ptau_with_rng(power, &mut rng, true, &mut prepared).unwrap();
    eprintln!("pilot ptau power {power}: {:?}", t.elapsed());
    std::fs::write(dir.join("raw.ptau"), &raw).unwrap();
    run_ok(
        &sj,
        &[
            "powersoftau",
            "prepare",
            "phase2",
            s(&dir.join("raw.ptau")),
            s(&dir.join("prep.ptau")),
        ],
    );
    let theirs = std::fs::read(dir.join("prep.ptau")).unwrap();
    assert_eq!(theirs.len(), prepared.len());
    assert!(theirs == prepared, "prepared ptau differs from snarkjs'");

    // It sets up and verifies the toy circuit with snarkjs and with us.
    let pot = dir.join("prep.ptau");
    let r1cs = toy_r1cs(0);
    let r1cs_path = dir.join("toy.r1cs");
    std::fs::write(&r1cs_path, r1cs.to_bytes()).unwrap();
    run_ok(
        &sj,
        &[
            "zkey",
            "new",
            s(&r1cs_path),
            s(&pot),
            s(&dir.join("z0.zkey")),
        ],
    );
    let ours = new_zkey(&r1cs, &mut Ptau::open(&pot).unwrap()).unwrap();
    assert_eq!(ours.to_bytes(), std::fs::read(dir.join("z0.zkey")).unwrap());
    let (z1, _) = contribute(&ours, Some("pilot"), b"").unwrap();
    z1.save(dir.join("z1.zkey")).unwrap();
    let (ok, out) = snarkjs_accepts(&sj, &r1cs_path, &pot, &dir.join("z1.zkey"));
    assert!(ok, "{out}");
    verify(&r1cs, &mut Ptau::open(&pot).unwrap(), &z1).unwrap();
}
