//! The fuzz targets: one function per parser of outside bytes, each taking arbitrary bytes.
//!
//! A target must never panic, whatever the input; where a parser accepts, the target also
//! checks the property that makes the decoding safe to rely on (one spelling per value: what
//! decodes re-encodes to the same bytes or the same value). A panic is a finding.
//!
//! The libFuzzer entry points are `fuzz_targets/<name>.rs` (feature `libfuzzer`, run by
//! `fuzz/run`); `tests/corpus.rs` replays every file of `corpus/<name>/` through the same
//! function on every test run, so what fuzzing found stays fixed.

use std::io::Cursor;

use credence_proto::v1 as pb;
use credence_verifier::encoding::{fr_from_decimal, fr_to_decimal, u64_from_decimal};
use credence_verifier::log::{LogEntry, LogExport, LogSigner, LogVerifier, SignedCheckpoint};
use credence_verifier::{
    CircuitId, ClaimBundle, PayeeBundle, Proof, Snapshot, TrustedKey, VerifyingKey,
};
use prost::Message as _;

mod msm;
pub use msm::check as msm;

/// A fuzz target: takes any bytes, panics only on a finding.
pub type Target = fn(&[u8]);

/// Every target, by name (the corpus directory names).
pub const TARGETS: &[(&str, Target)] = &[
    ("bundle", bundle),
    ("payee", payee),
    ("calldata", calldata),
    ("decimal", decimal),
    ("proof", proof),
    ("verifying_key", verifying_key),
    ("note", note),
    ("log_entry", log_entry),
    ("log_export", log_export),
    ("leaf_table", leaf_table),
    ("snapshot", snapshot),
    ("config", config),
    ("client_files", client_files),
    ("weights_file", weights_file),
    ("proto", proto),
    ("r1cs", r1cs),
    ("ptau", ptau),
    ("zkey", zkey),
    ("msm", msm),
];

/// A claim bundle document: what decodes re-encodes to an equal bundle.
pub fn bundle(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(b) = ClaimBundle::from_json(text) {
        let again = ClaimBundle::from_json(&b.to_json()).expect("a decoded bundle re-decodes");
        assert_eq!(again, b);
    }
}

/// Call data of the settlement contract's `claim` and `setPayee`, as the verifier crate reads
/// it (`credence_verifier::solidity`): what decodes re-encodes to the same bytes.
pub fn calldata(data: &[u8]) {
    use credence_verifier::solidity::{ClaimCall, PayeeCall};
    if let Ok(c) = ClaimCall::decode(data) {
        let again = c.encode().expect("a decoded circuit id fits a word");
        assert_eq!(again, data, "claim call data has one spelling");
    }
    if let Ok(c) = PayeeCall::decode(data) {
        assert_eq!(c.encode(), data, "setPayee call data has one spelling");
    }
}

/// A payee proof document (`payee.json`): what decodes re-encodes to an equal proof, whose
/// encoding is the one (lowercase) spelling that decodes to it again.
pub fn payee(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = PayeeBundle::from_json(text) {
        let json = p.to_json();
        let again = PayeeBundle::from_json(&json).expect("a decoded payee proof re-decodes");
        assert_eq!(again, p);
        assert_eq!(again.to_json(), json);
    }
}

/// Decimal field elements and u64s (every statement value): canonical spelling only.
pub fn decimal(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(x) = fr_from_decimal("fuzz", text) {
        assert_eq!(fr_to_decimal(&x), text, "a field element has one spelling");
    }
    if let Ok(v) = u64_from_decimal("fuzz", text) {
        assert_eq!(v.to_string(), text, "a u64 has one spelling");
    }
}

/// A compressed Groth16 proof: one encoding per proof.
pub fn proof(data: &[u8]) {
    if let Ok(p) = Proof::from_bytes(data) {
        assert_eq!(p.to_bytes(), data, "a proof has one encoding");
    }
}

/// A compressed verifying key, trusted for a circuit id.
pub fn verifying_key(data: &[u8]) {
    if let Ok(vk) = VerifyingKey::from_bytes(data) {
        assert_eq!(vk.to_bytes(), data, "a key has one encoding");
        let id = CircuitId::new("claim-v1-n2-d4").expect("a valid id");
        let _ = TrustedKey::from_bytes(id, data);
    }
}

/// A signed note: checkpoint syntax, then the signature check under a fixed key.
pub fn note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = SignedCheckpoint::parse(text);
    let _ = LogVerifier::parse(text);
    let _ = fixed_log_signer().verifier().verify_checkpoint(text);
}

/// A log entry's bytes: what decodes re-encodes to the same bytes.
pub fn log_entry(data: &[u8]) {
    if let Ok(e) = LogEntry::from_bytes(data) {
        let bytes = e.to_bytes().expect("a decoded entry encodes");
        assert_eq!(
            LogEntry::from_bytes(&bytes).expect("re-decodes"),
            e,
            "an entry has one meaning"
        );
        let _ = e.claim_bundle();
    }
}

/// A log export file, audited under a fixed key.
pub fn log_export(data: &[u8]) {
    if let Ok(export) = LogExport::from_json(data) {
        let _ = export.audit(&fixed_log_signer().verifier(), None, |_, _, _| Ok(()));
    }
}

/// A leaf table (the snapshot export auditors recompute the root from).
pub fn leaf_table(data: &[u8]) {
    if let Ok(table) = credence_verifier::leaves::LeafTable::from_json(data)
        && let Ok(decoded) = table.decode()
    {
        let _ = credence_verifier::leaves::snapshot_root(&decoded);
    }
}

/// A published snapshot document.
pub fn snapshot(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Snapshot::from_json(text);
    }
}

/// A server configuration file.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = toml::from_str::<credence_server::Config>(text) {
        let _ = c.validate();
    }
}

/// What a client reads from its own files before connecting: a `--ca` PEM, a client
/// certificate and key (the input split at its first NUL byte), and a bearer token. Only a PEM
/// with a certificate block may be accepted as a CA.
pub fn client_files(data: &[u8]) {
    use credence_verifier::client::{Bearer, ClientOptions};
    if ClientOptions::new().with_ca_pem(data.to_vec()).is_ok() {
        assert!(
            data.windows(27)
                .any(|w| w == b"-----BEGIN CERTIFICATE-----"),
            "a CA without a certificate block was accepted"
        );
    }
    let (cert, key) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let _ =
        ClientOptions::new().with_identity(cert.to_vec(), zeroize::Zeroizing::new(key.to_vec()));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Bearer::new(text);
        let _ = ClientOptions::new().with_token(text);
    }
}

/// An operator's `--weights-file` (`credence snapshot publish`): what parses, printed back,
/// parses to the same weights.
pub fn weights_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(weights) = credence_server::cli::snapshot::parse_weights(text) {
        let printed: String = weights.iter().map(|(l, w)| format!("{l},{w}\n")).collect();
        assert_eq!(
            credence_server::cli::snapshot::parse_weights(&printed),
            Ok(weights)
        );
    }
}

/// The requests a server decodes from the wire, through the conversions to domain values that
/// every handler starts with (each field decoded strictly, errors naming it).
pub fn proto(data: &[u8]) {
    use credence_server::service::convert;
    if let Ok(r) = pb::SubmitClaimRequest::decode(data) {
        let _ = convert::fr("secret", &r.secret);
        for c in &r.contributions {
            let _ = convert::fr("blinding", &c.blinding);
            if let Some(pb::claim_contribution::Data::Digest(d)) = &c.data {
                let _ = convert::fr("digest", d);
            }
            if let Some(leaf) = &c.leaf {
                for depth in [0, 4, 20] {
                    let _ = convert::path("path", leaf.path.as_ref(), depth);
                }
            }
        }
    }
    if let Ok(r) = pb::RegisterRequest::decode(data) {
        let _ = convert::fr("contributor_id", &r.contributor_id);
        let _ = convert::fr("commitment", &r.commitment);
    }
    if let Ok(r) = pb::RegisterBatchRequest::decode(data) {
        for r in &r.registrations {
            let _ = convert::fr("registrations[0].contributor_id", &r.contributor_id);
            let _ = convert::fr("registrations[0].commitment", &r.commitment);
        }
    }
    if let Ok(r) = pb::JobRequest::decode(data) {
        let _ = convert::job_id("job_id", &r.job_id);
    }
    if let Ok(r) = pb::VerifyBundleRequest::decode(data) {
        let _ = ClaimBundle::from_json(&r.bundle_json);
    }
    let _ = pb::PublishSnapshotRequest::decode(data);
}

/// An iden3 `.r1cs` file.
pub fn r1cs(data: &[u8]) {
    if let Ok(r) = credence_ceremony::R1cs::from_bytes(data) {
        let _ = r.validate();
    }
}

/// A snarkjs `.ptau` file: the header, then every section a key is built from.
pub fn ptau(data: &[u8]) {
    if let Ok(mut p) = credence_ceremony::Ptau::read(Cursor::new(data)) {
        let _ = p.alpha_g1();
        let _ = p.beta_g2();
        let _ = p.tau_g1(0, 4);
        for k in 0..3 {
            let _ = p.lagrange_tau_g1(k);
            let _ = p.lagrange_tau_g2(k);
        }
    }
}

/// A snarkjs `.zkey` file: what decodes re-encodes to the same bytes.
pub fn zkey(data: &[u8]) {
    if let Ok(z) = credence_ceremony::Zkey::from_bytes(data) {
        let again = credence_ceremony::Zkey::from_bytes(&z.to_bytes()).expect("re-decodes");
        assert_eq!(again.to_bytes(), z.to_bytes());
    }
}

/// The log key the note and export targets check signatures under: a test signer's, from a
/// fixed seed (the corpus holds notes it signed, so the fuzzer starts from valid ones).
pub fn fixed_log_signer() -> LogSigner {
    LogSigner::from_seed(FIXED_LOG_ORIGIN, &[7; 32]).expect("a valid origin")
}

/// The origin of [`fixed_log_signer`].
pub const FIXED_LOG_ORIGIN: &str = "credence.fuzz/log";
