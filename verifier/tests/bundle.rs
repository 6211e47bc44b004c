//! Bundle JSON, key ring and strict decoding of proofs and keys (every malformed class).

mod common;

use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{Field, One, Zero};
use ark_serialize::CanonicalSerialize;
use common::{CIRCUIT_ID, bundle, fixture, statement};
use credence_verifier::groth16::{PROOF_BYTES, VK_BYTES};
use credence_verifier::{
    BUNDLE_FORMAT, CircuitId, ClaimBundle, Error, Fingerprint, Invalid, KeyRing, Malformed, Proof,
    PublicInput, TrustedKey, VerifyingKey, verify_bundle, verify_bundles,
};
use serde_json::Value;

fn ring() -> KeyRing {
    let mut r = KeyRing::new();
    r.insert(fixture().key.clone()).unwrap();
    r
}

#[test]
fn bundle_round_trips_and_field_names_are_the_protocol_names() {
    let b = bundle(&statement(3));
    let text = b.to_json();
    let back = ClaimBundle::from_json(&text).unwrap();
    assert_eq!(back, b);
    assert_eq!(back.to_json(), text);
    let j: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["format"], BUNDLE_FORMAT);
    assert_eq!(j["circuit_id"], CIRCUIT_ID);
    assert_eq!(j["vk_fingerprint"], fixture().key.fingerprint().to_hex());
    assert!(j.get("log").is_none(), "log is skipped when absent");
    let st = j["statement"].as_object().unwrap();
    let mut names: Vec<&str> = st.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = PublicInput::ALL.iter().map(|p| p.name()).collect();
    names.sort();
    want.sort();
    assert_eq!(names, want);
    assert!(st.values().all(Value::is_string));
    assert_eq!(j["proof"].as_str().unwrap().len(), 2 * PROOF_BYTES);

    // The `log` field (an inclusion) round-trips; one too large to be honest is malformed.
    let mut with_log = b.clone();
    with_log.log = Some(
        credence_verifier::log::LogInclusion::new(3, 4, &[[0xab; 32]], "note".into())
            .with_entry(b"entry"),
    );
    assert_eq!(
        ClaimBundle::from_json(&with_log.to_json()).unwrap(),
        with_log
    );
    let mut huge = with_log.clone();
    huge.log = Some(credence_verifier::log::LogInclusion::new(
        3,
        4,
        &[[0xab; 32]; 65],
        "note".into(),
    ));
    assert!(ClaimBundle::from_json(&huge.to_json()).is_err());
    let mut not_inclusion: Value = serde_json::from_str(&b.to_json()).unwrap();
    not_inclusion["log"] = serde_json::json!({"index": 3, "proof": ["ab"]});
    assert!(ClaimBundle::from_json(&not_inclusion.to_string()).is_err());

    assert!(verify_bundle(&ring(), &back).is_ok());
}

fn edit(f: impl FnOnce(&mut Value)) -> Result<ClaimBundle, Malformed> {
    let mut j: Value = serde_json::from_str(&bundle(&statement(1)).to_json()).unwrap();
    f(&mut j);
    ClaimBundle::from_json(&j.to_string())
}

type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn bundle_refuses_malformed_fields() {
    const R: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    let cases: Vec<(&str, Edit)> = vec![
        (
            "format",
            Box::new(|j| j["format"] = "credence-claim-bundle/v2".into()),
        ),
        ("unknown field", Box::new(|j| j["extra"] = 1.into())),
        (
            "unknown statement field",
            Box::new(|j| j["statement"]["nonce"] = "1".into()),
        ),
        (
            "missing field",
            Box::new(|j| {
                j["statement"].as_object_mut().unwrap().remove("payout");
            }),
        ),
        ("root >= r", Box::new(|j| j["statement"]["root"] = R.into())),
        (
            "contributor_id >= r",
            Box::new(|j| j["statement"]["contributor_id"] = R.into()),
        ),
        (
            "u64 overflow",
            Box::new(|j| j["statement"]["epoch"] = "18446744073709551616".into()),
        ),
        (
            "leading zero",
            Box::new(|j| j["statement"]["payout"] = "0123".into()),
        ),
        (
            "sign",
            Box::new(|j| j["statement"]["range_start"] = "+0".into()),
        ),
        (
            "number not string",
            Box::new(|j| j["statement"]["epoch"] = 7.into()),
        ),
        ("empty", Box::new(|j| j["statement"]["revenue"] = "".into())),
        (
            "uppercase hex",
            Box::new(|j| {
                let p = j["proof"].as_str().unwrap().to_uppercase();
                j["proof"] = p.into();
            }),
        ),
        (
            "short proof",
            Box::new(|j| {
                let p = j["proof"].as_str().unwrap()[..254].to_owned();
                j["proof"] = p.into();
            }),
        ),
        (
            "long proof",
            Box::new(|j| {
                let p = format!("{}00", j["proof"].as_str().unwrap());
                j["proof"] = p.into();
            }),
        ),
        (
            "fingerprint length",
            Box::new(|j| j["vk_fingerprint"] = "abcd".into()),
        ),
        (
            "circuit id",
            Box::new(|j| j["circuit_id"] = "claim v1".into()),
        ),
    ];
    for (name, f) in cases {
        assert!(edit(f).is_err(), "{name}");
    }
    // Duplicate keys are refused by the parser, not silently resolved.
    let text = bundle(&statement(1)).to_json();
    let dup = text.replacen("\"format\"", "\"circuit_id\": \"other\",\n  \"format\"", 1);
    assert!(ClaimBundle::from_json(&dup).is_err());
}

#[test]
fn key_ring_pins_circuit_and_fingerprint() {
    let b = bundle(&statement(2));
    // Unknown fingerprint.
    let mut unknown = b.clone();
    unknown.vk_fingerprint = Fingerprint::of_bytes(b"another key");
    assert!(matches!(
        verify_bundle(&ring(), &unknown),
        Err(Error::Invalid(Invalid::UntrustedKey { .. }))
    ));
    // Trusted key, wrong circuit id.
    let mut other = b.clone();
    other.circuit_id = CircuitId::new("claim-v1-n16-d20").unwrap();
    assert!(matches!(
        verify_bundle(&ring(), &other),
        Err(Error::Invalid(Invalid::CircuitMismatch { .. }))
    ));
    // The same key may not be pinned to two circuits.
    let mut r = ring();
    let again = TrustedKey::new(
        CircuitId::new("claim-v1-n16-d20").unwrap(),
        fixture().key.vk().clone(),
    )
    .unwrap();
    assert!(r.insert(again).is_err());
    assert!(r.insert(fixture().key.clone()).is_ok());
    assert_eq!(r.len(), 1);
    // Fingerprint = blake3 of the canonical compressed key bytes.
    let fp = blake3::hash(fixture().key.to_bytes());
    assert_eq!(fixture().key.fingerprint().to_hex(), fp.to_hex().as_str());
}

#[test]
fn an_untrusted_key_names_the_bundles_circuit_and_key_and_the_trusted_ones() {
    // A key of another shape and setup, pinned to its own circuit id.
    let other = TrustedKey::new(
        CircuitId::new("claim-v1-n16-d20").unwrap(),
        common::setup(7).key.vk().clone(),
    )
    .unwrap();
    let mut r = KeyRing::new();
    r.insert(other.clone()).unwrap();
    let b = bundle(&statement(2));
    let e = verify_bundle(&r, &b).unwrap_err();
    let Error::Invalid(Invalid::UntrustedKey {
        circuit_id,
        fingerprint,
        trusted,
    }) = &e
    else {
        panic!("{e:?}");
    };
    // The bundle's side: its circuit and the key it was proven under, not the key passed.
    assert_eq!(circuit_id, CIRCUIT_ID);
    assert_eq!(fingerprint, &fixture().key.fingerprint().to_hex());
    assert_eq!(trusted, &[other.name()]);
    assert_eq!(
        e.to_string(),
        format!(
            "invalid: the bundle was proven under {CIRCUIT_ID} with key {}, which is not \
             trusted; the trusted keys are: claim-v1-n16-d20 ({})",
            fixture().key.fingerprint(),
            other.fingerprint()
        )
    );
    // No key at all.
    let e = verify_bundle(&KeyRing::new(), &b).unwrap_err();
    assert!(e.to_string().ends_with("no key was trusted"), "{e}");
}

#[test]
fn verify_bundles_batches_per_key_and_names_bad_ones() {
    let other = common::setup(42);
    let other_key = TrustedKey::new(
        CircuitId::new("other-circuit").unwrap(),
        other.key.vk().clone(),
    )
    .unwrap();
    let mut r = ring();
    r.insert(other_key.clone()).unwrap();
    let mut bundles: Vec<ClaimBundle> = (0..5).map(|i| bundle(&statement(i))).collect();
    for i in 5..8 {
        let s = statement(i);
        bundles.push(ClaimBundle::new(
            &other_key,
            s.clone(),
            common::prove_with(&other, &s, i),
        ));
    }
    bundles[2].statement.claimed_weight += 1; // bad proof under key 1
    bundles[6].statement.range_end += 1; // bad proof under key 2
    bundles[3].vk_fingerprint = Fingerprint::of_bytes(b"nope"); // untrusted
    let out = verify_bundles(&r, &bundles, &mut ark_std::rand::rngs::OsRng);
    let verdicts: Vec<bool> = out.iter().map(Result::is_ok).collect();
    assert_eq!(
        verdicts,
        [true, true, false, false, true, true, false, true]
    );
    assert!(matches!(
        out[3],
        Err(Error::Invalid(Invalid::UntrustedKey { .. }))
    ));
    assert!(matches!(
        out[2],
        Err(Error::Invalid(Invalid::ProofRejected))
    ));
    assert_eq!(
        out[7].as_ref().unwrap().circuit_id().as_str(),
        "other-circuit"
    );
}

// ---- strict decoding of proofs and keys ----

fn g1_bytes(p: &G1Affine) -> Vec<u8> {
    let mut v = Vec::new();
    p.serialize_compressed(&mut v).unwrap();
    v
}

fn g2_bytes(p: &G2Affine) -> Vec<u8> {
    let mut v = Vec::new();
    p.serialize_compressed(&mut v).unwrap();
    v
}

/// An x-coordinate whose curve equation has no solution: BN254 G1 is y^2 = x^3 + 3.
fn off_curve_g1_bytes() -> Vec<u8> {
    let mut x = Fq::one();
    loop {
        if (x * x * x + Fq::from(3u64)).sqrt().is_none() {
            let mut v = Vec::new();
            x.serialize_compressed(&mut v).unwrap();
            return v;
        }
        x += Fq::one();
    }
}

/// A point on the G2 twist y^2 = x^3 + 3/(9+u) that is NOT in the r-torsion subgroup (the
/// twist's cofactor is large, so a random point is outside the subgroup). Built by solving the
/// curve equation for a small x, with no cofactor clearing.
fn twist_point_outside_subgroup() -> G2Affine {
    let b = ark_bn254::g2::Config::COEFF_B;
    let mut x = Fq2::new(Fq::one(), Fq::zero());
    loop {
        if let Some(y) = (x * x * x + b).sqrt() {
            let p = G2Affine::new_unchecked(x, y);
            assert!(p.is_on_curve());
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                return p;
            }
        }
        x += Fq2::one();
    }
}
use ark_ec::short_weierstrass::SWCurveConfig;

fn assert_malformed<T: std::fmt::Debug>(r: Result<T, Malformed>, what: &str) {
    assert!(r.is_err(), "{what}: accepted");
}

#[test]
fn proof_decoding_rejects_every_malformed_class() {
    let p = common::prove(&statement(1));
    let bytes = p.to_bytes();
    assert_eq!(bytes.len(), PROOF_BYTES);
    assert_eq!(Proof::from_bytes(&bytes).unwrap(), p);

    // Wrong length / trailing bytes.
    assert!(matches!(
        Proof::from_bytes(&bytes[..PROOF_BYTES - 1]),
        Err(Malformed::WrongLength { .. })
    ));
    assert!(matches!(
        Proof::from_bytes(&[]),
        Err(Malformed::WrongLength { .. })
    ));
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Proof::from_bytes(&long),
        Err(Malformed::TrailingBytes { extra: 1, .. })
    ));

    // Off-curve A (G1 x with no y).
    let mut off = bytes.clone();
    off[..32].copy_from_slice(&off_curve_g1_bytes());
    assert_malformed(Proof::from_bytes(&off), "off-curve A");

    // G1 coordinate >= q: all ones in the 254 value bits (flags cleared).
    let mut big = bytes.clone();
    big[..32].fill(0xff);
    big[31] &= 0x3f;
    assert_malformed(Proof::from_bytes(&big), "A.x >= q");

    // Both flag bits set (infinity + negative), an encoding no point has.
    let mut flags = bytes.clone();
    flags[31] |= 0xc0;
    assert_malformed(Proof::from_bytes(&flags), "both flags");

    // B on the twist but outside the prime-order subgroup.
    let bad_b = twist_point_outside_subgroup();
    let mut sub = bytes.clone();
    sub[32..96].copy_from_slice(&g2_bytes(&bad_b));
    match Proof::from_bytes(&sub) {
        Err(Malformed::Point { what: "proof", .. }) => {}
        other => panic!("subgroup: {other:?}"),
    }
    // The same bytes through ark's unchecked path would decode: the check is what refuses them.
    {
        use ark_serialize::CanonicalDeserialize;
        assert!(G2Affine::deserialize_compressed_unchecked(&g2_bytes(&bad_b)[..]).is_ok());
        assert!(G2Affine::deserialize_compressed(&g2_bytes(&bad_b)[..]).is_err());
    }
    // The identity is a valid encoding (and in the subgroup); it just won't verify.
    let mut id = bytes.clone();
    id[..32].copy_from_slice(&g1_bytes(&G1Affine::zero()));
    let q = Proof::from_bytes(&id).unwrap();
    assert!(credence_verifier::verify(&fixture().key, &statement(1), &q).is_err());
}

#[test]
fn key_decoding_and_refusals() {
    let fx = fixture();
    let bytes = fx.key.to_bytes().to_vec();
    assert_eq!(bytes.len(), VK_BYTES);
    let vk = VerifyingKey::from_bytes(&bytes).unwrap();
    assert_eq!(vk.to_bytes(), bytes);

    assert!(matches!(
        VerifyingKey::from_bytes(&bytes[..VK_BYTES - 1]),
        Err(Malformed::WrongLength { .. })
    ));
    let mut long = bytes.clone();
    long.extend_from_slice(&[0, 0]);
    assert!(matches!(
        VerifyingKey::from_bytes(&long),
        Err(Malformed::TrailingBytes { extra: 2, .. })
    ));

    // Off-curve alpha.
    let mut off = bytes.clone();
    off[..32].copy_from_slice(&off_curve_g1_bytes());
    assert_malformed(VerifyingKey::from_bytes(&off), "off-curve alpha");
    // delta outside the subgroup (bytes 160..224).
    let mut sub = bytes.clone();
    sub[160..224].copy_from_slice(&g2_bytes(&twist_point_outside_subgroup()));
    assert_malformed(VerifyingKey::from_bytes(&sub), "delta outside subgroup");

    // gamma == delta.
    let mut gd = vk.clone();
    gd.delta_g2 = gd.gamma_g2;
    assert!(matches!(
        VerifyingKey::from_bytes(&gd.to_bytes()),
        Err(Malformed::Key(_))
    ));
    assert!(TrustedKey::new(CircuitId::new("x").unwrap(), gd).is_err());

    // Wrong number of inputs: 10 and 8 public inputs.
    let mut more = vk.clone();
    more.gamma_abc_g1.push(G1Affine::generator());
    assert!(matches!(
        VerifyingKey::from_bytes(&more.to_bytes()),
        Err(Malformed::Key(_))
    ));
    let mut fewer = vk.clone();
    fewer.gamma_abc_g1.pop();
    assert!(matches!(
        VerifyingKey::from_bytes(&fewer.to_bytes()),
        Err(Malformed::WrongLength { .. })
    ));
    assert!(TrustedKey::new(CircuitId::new("x").unwrap(), fewer).is_err());

    // A length prefix claiming 2^60 points is refused without allocating them.
    let mut huge = bytes.clone();
    huge[224..232].copy_from_slice(&(1u64 << 60).to_le_bytes());
    assert_malformed(VerifyingKey::from_bytes(&huge), "huge length prefix");

    // Degenerate: delta at infinity.
    let mut inf = vk.clone();
    inf.delta_g2 = G2Affine::zero();
    assert!(matches!(
        VerifyingKey::from_bytes(&inf.to_bytes()),
        Err(Malformed::Key(_))
    ));
}
