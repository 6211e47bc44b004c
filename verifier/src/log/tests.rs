//! Tests of the log checks against a naive RFC 6962 reference, external vectors, and tampering.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::*;
use crate::bundle::StatementJson;
use crate::statement::PublicInput;

/// The RFC 6962 §2.1 definitions, written as literally as possible and independent of the code
/// under test (recursion on slices; only the two hash primitives are shared).
mod reference {
    use super::{Hash, empty_root, leaf_hash, node_hash};

    /// Largest power of two strictly smaller than `n` (n > 1).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    pub fn mth(d: &[Vec<u8>]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => leaf_hash(&d[0]),
            n => {
                let k = split(n);
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    /// PATH(m, D[n]), RFC 6962 §2.1.1.
    pub fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
        let n = d.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true), RFC 6962 §2.1.2.
    pub fn proof(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
        subproof(m, d, true)
    }

    fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { Vec::new() } else { vec![mth(d)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }
}

fn data(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
}

#[test]
fn empty_tree_is_blake3_of_nothing() {
    // BLAKE3("") from the BLAKE3 specification's test vectors.
    assert_eq!(
        hex::encode(empty_root()),
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    );
    assert_eq!(CompactRange::new().root(), empty_root());
}

#[test]
fn hashes_are_domain_separated() {
    let leaf = leaf_hash(b"x");
    assert_eq!(leaf, *blake3::hash(&[&[0u8][..], b"x"].concat()).as_bytes());
    let node = node_hash(&leaf, &leaf);
    assert_eq!(
        node,
        *blake3::hash(&[&[1u8][..], &leaf, &leaf].concat()).as_bytes()
    );
    // A node is never the leaf hash of the same 64 bytes.
    assert_ne!(node, leaf_hash(&[leaf, leaf].concat()));
}

#[test]
fn roots_match_reference_for_every_size_up_to_64() {
    let d = data(64);
    let mut range = CompactRange::new();
    for n in 0..=64 {
        let expected = reference::mth(&d[..n]);
        assert_eq!(range.root(), expected, "size {n}");
        let leaves: Vec<Hash> = d[..n].iter().map(|e| leaf_hash(e)).collect();
        assert_eq!(root_of_leaf_hashes(&leaves), expected, "size {n}");
        if n < 64 {
            range.push(leaf_hash(&d[n]));
        }
    }
}

#[test]
fn inclusion_every_index_of_every_size_up_to_64() {
    let d = data(64);
    for n in 1..=64usize {
        let root = reference::mth(&d[..n]);
        for m in 0..n {
            let proof = reference::path(m, &d[..n]);
            let leaf = leaf_hash(&d[m]);
            assert_eq!(
                verify_inclusion(m as u64, n as u64, &leaf, &proof, &root),
                Ok(()),
                "index {m} size {n}"
            );
            // Another entry's bytes at this position are rejected.
            let other = leaf_hash(&d[(m + 1) % 64]);
            assert!(verify_inclusion(m as u64, n as u64, &other, &proof, &root).is_err());
            // Another index with the same proof is rejected.
            for wrong in [m ^ 1, m + 1, m.wrapping_sub(1)] {
                if wrong != m && wrong < n {
                    assert!(
                        verify_inclusion(wrong as u64, n as u64, &leaf, &proof, &root).is_err(),
                        "index {m} accepted as {wrong} in size {n}"
                    );
                }
            }
        }
        // Out of range.
        assert_eq!(
            verify_inclusion(n as u64, n as u64, &leaf_hash(b""), &[], &root),
            Err(ProofError::IndexOutOfRange {
                index: n as u64,
                size: n as u64
            })
        );
    }
    assert!(verify_inclusion(0, 0, &leaf_hash(b""), &[], &empty_root()).is_err());
}

/// Every mutation of a valid proof: each byte of each hash, each element removed, an element
/// added at each position, each pair of elements swapped.
fn mutations(proof: &[Hash]) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    for i in 0..proof.len() {
        for byte in 0..32 {
            let mut p = proof.to_vec();
            p[i][byte] ^= 0x01;
            out.push(p);
        }
        let mut p = proof.to_vec();
        p.remove(i);
        out.push(p);
        for j in i + 1..proof.len() {
            if proof[i] != proof[j] {
                let mut p = proof.to_vec();
                p.swap(i, j);
                out.push(p);
            }
        }
    }
    for i in 0..=proof.len() {
        for extra in [[0u8; 32], proof.first().copied().unwrap_or([7; 32])] {
            let mut p = proof.to_vec();
            p.insert(i, extra);
            out.push(p);
        }
    }
    out
}

#[test]
fn mutated_inclusion_proofs_are_rejected() {
    let d = data(64);
    for n in 1..=64usize {
        let root = reference::mth(&d[..n]);
        for m in 0..n {
            let proof = reference::path(m, &d[..n]);
            let leaf = leaf_hash(&d[m]);
            for bad in mutations(&proof) {
                assert!(
                    verify_inclusion(m as u64, n as u64, &leaf, &bad, &root).is_err(),
                    "mutated proof accepted: index {m} size {n}"
                );
            }
        }
    }
}

#[test]
fn consistency_every_pair_up_to_64() {
    let d = data(64);
    for n in 1..=64usize {
        let new_root = reference::mth(&d[..n]);
        for m in 1..=n {
            let old_root = reference::mth(&d[..m]);
            let proof = reference::proof(m, &d[..n]);
            assert_eq!(
                verify_consistency(m as u64, n as u64, &old_root, &new_root, &proof),
                Ok(()),
                "{m} -> {n}"
            );
            if m < n {
                // Wrong roots on either side.
                let other = reference::mth(&data(n + 1)[1..]);
                assert!(verify_consistency(m as u64, n as u64, &other, &new_root, &proof).is_err());
                assert!(verify_consistency(m as u64, n as u64, &old_root, &other, &proof).is_err());
                assert_eq!(
                    verify_consistency(n as u64, m as u64, &new_root, &old_root, &proof),
                    Err(ProofError::Shrunk {
                        old: n as u64,
                        new: m as u64
                    })
                );
            }
            for bad in mutations(&proof) {
                assert!(
                    verify_consistency(m as u64, n as u64, &old_root, &new_root, &bad).is_err(),
                    "mutated consistency proof accepted: {m} -> {n}"
                );
            }
        }
        // From the empty tree: consistent with anything, with an empty proof only.
        assert_eq!(
            verify_consistency(0, n as u64, &empty_root(), &new_root, &[]),
            Ok(())
        );
        assert!(verify_consistency(0, n as u64, &empty_root(), &new_root, &[new_root]).is_err());
    }
    // Same size, different roots is a fork.
    let (a, b) = (reference::mth(&data(3)), reference::mth(&data(4)[1..]));
    assert_eq!(
        verify_consistency(3, 3, &a, &b, &[]),
        Err(ProofError::SameSizeDifferentRoot { size: 3 })
    );
}

// ---------------------------------------------------------------------------------------------
// Signed notes.

/// golang.org/x/mod/sumdb/note: the example key and note of its package documentation.
const GO_SIGNER: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VERIFIER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn go_sumdb_note_vector() {
    let signer = LogSigner::parse(GO_SIGNER).unwrap();
    let verifier = LogVerifier::parse(GO_VERIFIER).unwrap();
    assert_eq!(signer.verifier(), verifier);
    assert_eq!(verifier.to_string(), GO_VERIFIER);
    assert_eq!(signer.to_key_text().as_str(), GO_SIGNER);
    // Ed25519 is deterministic: our signature is byte-for-byte Go's.
    let note = signer.sign_text(GO_TEXT).unwrap();
    assert_eq!(note, format!("{GO_TEXT}\n{GO_NOTE_SIG}"));
    assert_eq!(
        Note::parse(&note).unwrap().verify(&verifier).unwrap(),
        GO_TEXT
    );
}

#[test]
fn verifier_key_text_is_strict() {
    assert!(LogVerifier::parse(&format!("{GO_VERIFIER}\n")).is_ok());
    let bad = [
        format!("{GO_VERIFIER}\n\n"),
        format!("{GO_VERIFIER} "),
        format!(" {GO_VERIFIER}"),
        GO_VERIFIER.replace("c74f20a3", "c74f20a4"), // wrong id
        GO_VERIFIER.replace("c74f20a3", "c74f20a"),  // short id
        GO_VERIFIER.replace("+ARpc", "+AhPc"),       // wrong algorithm byte
        GO_VERIFIER.replace("PeterNeumann", "Peter Neumann"),
        GO_VERIFIER.replace("PeterNeumann", ""),
        GO_VERIFIER.trim_end_matches("W").to_owned(), // truncated base64
        format!("{GO_VERIFIER}AAAA"),                 // key too long
        "PeterNeumann+c74f20a3".to_owned(),
        String::new(),
    ];
    for text in bad {
        assert!(LogVerifier::parse(&text).is_err(), "accepted {text:?}");
    }
    // Every single-byte deletion of the key text is rejected (Go's TestNewVerifier mangling).
    for i in 0..GO_VERIFIER.len() {
        let mut mangled = GO_VERIFIER.to_owned();
        mangled.remove(i);
        assert!(
            LogVerifier::parse(&mangled).is_err(),
            "accepted {mangled:?}"
        );
    }
}

fn test_signer(name: &str, seed: u8) -> LogSigner {
    LogSigner::from_seed(name, &[seed; 32]).unwrap()
}

const ORIGIN: &str = "credence.test/log";

fn checkpoint(size: u64, root: Hash) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.to_owned(),
        size,
        root,
    }
}

#[test]
fn checkpoint_round_trip_and_format() {
    let signer = test_signer(ORIGIN, 1);
    let cp = checkpoint(5, reference::mth(&data(5)));
    let note = signer.sign(&cp).unwrap();
    let lines: Vec<&str> = note.split('\n').collect();
    assert_eq!(lines[0], ORIGIN);
    assert_eq!(lines[1], "5");
    assert_eq!(lines[2], B64.encode(cp.root));
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("\u{2014} credence.test/log "));
    assert_eq!(lines[5], "");
    assert_eq!(lines.len(), 6);
    assert_eq!(signer.verifier().verify_checkpoint(&note).unwrap(), cp);
    // The signer key text round-trips and names the same verifier.
    let again = LogSigner::parse(&signer.to_key_text()).unwrap();
    assert_eq!(again.verifier(), signer.verifier());
    assert!(!format!("{signer:?}").contains(&B64.encode([1u8; 32])[..10]));
}

#[test]
fn checkpoint_from_another_key_or_with_bad_signature_is_rejected() {
    let signer = test_signer(ORIGIN, 1);
    let other = test_signer(ORIGIN, 2);
    let verifier = signer.verifier();
    let cp = checkpoint(7, reference::mth(&data(7)));

    // Same name, another key: the key id differs, so the line is ignored and nothing verifies.
    let forged = other.sign(&cp).unwrap();
    assert_eq!(
        verifier.verify_checkpoint(&forged),
        Err(NoteError::NoKnownSignature(ORIGIN.to_owned()))
    );

    // Every byte of the signature flipped: rejected.
    let note = signer.sign(&cp).unwrap();
    let sig_line = note.lines().last().unwrap();
    let (_, b64) = sig_line.rsplit_once(' ').unwrap();
    let blob = B64.decode(b64).unwrap();
    for i in 0..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 0x80;
        let tampered = note.replace(b64, &B64.encode(&bad));
        assert!(verifier.verify_checkpoint(&tampered).is_err(), "byte {i}");
    }

    // The body changed under a valid signature: rejected.
    let resized = note.replacen("\n7\n", "\n8\n", 1);
    assert_eq!(
        verifier.verify_checkpoint(&resized),
        Err(NoteError::BadSignature(ORIGIN.to_owned()))
    );

    // A valid signature plus a bad one from the same key: rejected (the spec's SHOULD).
    let zeroed = B64.encode([&blob[..4], &[0u8; 64][..]].concat());
    let doubled = format!("{note}{}\n", sig_line.replace(b64, &zeroed));
    assert_eq!(
        verifier.verify_checkpoint(&doubled),
        Err(NoteError::BadSignature(ORIGIN.to_owned()))
    );

    // A cosignature from an unknown key next to ours is ignored.
    let other_line = other.sign(&cp).unwrap().lines().last().unwrap().to_owned();
    let cosigned = format!("{note}{other_line}\n");
    assert_eq!(verifier.verify_checkpoint(&cosigned).unwrap(), cp);

    // A note for another origin signed by our key.
    let foreign = test_signer("other.test/log", 1);
    let foreign_cp = Checkpoint {
        origin: "other.test/log".to_owned(),
        ..cp.clone()
    };
    let note = foreign.sign(&foreign_cp).unwrap();
    assert!(verifier.verify_checkpoint(&note).is_err());
}

#[test]
fn checkpoint_parsing_is_strict() {
    let signer = test_signer(ORIGIN, 1);
    let verifier = signer.verifier();
    let root = B64.encode(reference::mth(&data(3)));
    let sign_body = |body: &str| signer.sign_text(body).unwrap();
    let good = sign_body(&format!("{ORIGIN}\n3\n{root}\n"));
    assert!(verifier.verify_checkpoint(&good).is_ok());
    // An extension line is allowed by the spec and kept.
    let ext = sign_body(&format!("{ORIGIN}\n3\n{root}\nextension\n"));
    let parsed = SignedCheckpoint::parse(&ext).unwrap();
    assert_eq!(parsed.extensions(), ["extension".to_owned()]);
    assert!(parsed.verify(&verifier).is_ok());

    let root31 = B64.encode(&reference::mth(&data(3))[..31]);
    let bodies = [
        format!("{ORIGIN}\n03\n{root}\n"),                   // leading zero
        format!("{ORIGIN}\n+3\n{root}\n"),                   // sign
        format!("{ORIGIN}\n18446744073709551616\n{root}\n"), // u64 overflow
        format!("{ORIGIN}\n3\n{root31}\n"),                  // 31-byte root
        format!("{ORIGIN}\n3\n{}\n", root.trim_end_matches('=')), // unpadded
        format!("{ORIGIN}\n3\n{}\n", root.replace('=', "") + "A="), // non-canonical
        format!("{ORIGIN}\n3\n"),                            // no root
        format!("\n3\n{root}\n"),                            // empty origin
        format!("{ORIGIN}\n3\n{root}\n\next\n"),             // empty extension line
    ];
    for body in bodies {
        // Sign with the raw text signer where possible so only the body's shape can fail.
        let note = signer
            .sign_text(&body)
            .unwrap_or_else(|_| format!("{body}\n\u{2014} x AAAAAAA=\n"));
        assert!(
            SignedCheckpoint::parse(&note).is_err(),
            "accepted body {body:?}"
        );
    }

    let whole_notes = [
        good.trim_end_matches('\n').to_owned(), // missing final newline
        format!("{good}trailing"),              // trailing data
        format!("{good}\n"),                    // trailing blank line
        good.replace("\u{2014} ", "-- "),       // not an em dash
        good.replace("\u{2014} ", "\u{2014}  "), // double space
        good.replace('\n', "\r\n"),             // CRLF
        good.replacen("\n\n", "\n", 1),         // no blank line
        good.replacen("3\n", "3\t\n", 1),       // control character
        format!("{ORIGIN}\n3\n{root}\n\n"),     // no signature line
    ];
    for note in whole_notes {
        assert!(
            verifier.verify_checkpoint(&note).is_err(),
            "accepted note {note:?}"
        );
    }
    // A huge note is refused before any work.
    let huge = format!("{}\n\n", "a".repeat(note::MAX_NOTE_LEN));
    assert_eq!(SignedCheckpoint::parse(&huge), Err(NoteError::TooLarge));
}

// ---------------------------------------------------------------------------------------------
// Entries.

fn statement(epoch: u64) -> StatementJson {
    StatementJson::from_inputs(std::array::from_fn(|i| (epoch * 10 + i as u64).to_string()))
}

fn sample_entries(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let event = match i % 4 {
                0 => LogEvent::Registration {
                    leaf_index: i as u64,
                    registration_hash: format!("{}", 1_000_003 * (i as u64 + 1)),
                },
                1 => LogEvent::Snapshot {
                    epoch: i as u64,
                    depth: 20,
                    root: format!("{}", 77 + i),
                    total_weight: "1000".into(),
                    revenue: "500".into(),
                },
                2 => LogEvent::Claim {
                    circuit_id: "claim-v1".into(),
                    vk_fingerprint: "ab".repeat(32),
                    statement: statement(i as u64),
                    proof: format!("{:0128x}", i),
                },
                _ => LogEvent::Verification {
                    circuit_id: "claim-v1".into(),
                    vk_fingerprint: "ab".repeat(32),
                    statement: statement(i as u64),
                    verdict: "valid".into(),
                },
            };
            LogEntry {
                time: 1_767_225_600 + i as u64,
                tenant: "acme".into(),
                event,
            }
            .to_bytes()
            .unwrap()
        })
        .collect()
}

#[test]
fn entry_encoding_is_fixed_and_strict() {
    let entry = LogEntry {
        time: 1_767_225_600,
        tenant: "acme".into(),
        event: LogEvent::Registration {
            leaf_index: 3,
            registration_hash: "1234".into(),
        },
    };
    let bytes = entry.to_bytes().unwrap();
    assert_eq!(
        std::str::from_utf8(&bytes).unwrap(),
        r#"{"time":1767225600,"tenant":"acme","event":{"kind":"registration","leaf_index":3,"registration_hash":"1234"}}"#
    );
    assert_eq!(LogEntry::from_bytes(&bytes).unwrap(), entry);

    for bad in [
        r#"{"time":1,"tenant":"acme","event":{"kind":"registration","leaf_index":3,"registration_hash":"1234","secret":"x"}}"#,
        r#"{"time":1,"tenant":"acme","extra":1,"event":{"kind":"registration","leaf_index":3,"registration_hash":"1234"}}"#,
        r#"{"time":1,"tenant":"acme","event":{"kind":"unknown"}}"#,
        r#"{"time":1,"tenant":"acme","event":{"kind":"registration","leaf_index":3,"registration_hash":"0123"}}"#,
        r#"{"time":1,"tenant":"a b","event":{"kind":"registration","leaf_index":3,"registration_hash":"1"}}"#,
        r#"{"time":1,"tenant":"acme","event":{"kind":"registration","leaf_index":3,"registration_hash":"1"}} "#,
    ] {
        assert!(
            LogEntry::from_bytes(bad.as_bytes()).is_err(),
            "accepted {bad}"
        );
    }
    let mut claim = LogEntry::from_bytes(&sample_entries(3)[2]).unwrap();
    if let LogEvent::Claim { proof, .. } = &mut claim.event {
        *proof = "ABCD".into(); // uppercase hex is not canonical
    }
    assert!(claim.to_bytes().is_err());
}

#[test]
fn statement_fields_follow_the_public_input_order() {
    let json = serde_json::to_value(statement(1)).unwrap();
    let text = serde_json::to_string(&statement(1)).unwrap();
    let mut last = 0;
    for input in PublicInput::ALL {
        let key = format!("\"{}\"", input.name());
        let at = text.find(&key).unwrap_or_else(|| panic!("missing {key}"));
        assert!(at >= last, "{key} out of order");
        last = at;
        assert!(json.get(input.name()).is_some());
    }
    assert_eq!(
        json.as_object().unwrap().len(),
        crate::statement::NUM_PUBLIC_INPUTS
    );
}

// ---------------------------------------------------------------------------------------------
// The inclusion bundle.

#[test]
fn inclusion_bundle_verifies_offline() {
    let signer = test_signer(ORIGIN, 1);
    let verifier = signer.verifier();
    let entries = sample_entries(13);
    let root = reference::mth(&entries);
    let note = signer.sign(&checkpoint(13, root)).unwrap();
    for index in 0..13 {
        let bundle = LogInclusion::new(
            index as u64,
            13,
            &reference::path(index, &entries),
            note.clone(),
        );
        // Through JSON as the claim bundle carries it.
        let json = serde_json::to_string(&bundle).unwrap();
        let bundle: LogInclusion = serde_json::from_str(&json).unwrap();
        assert_eq!(bundle.verify(&entries[index], &verifier).unwrap().size, 13);
        // Another entry's bytes.
        assert!(matches!(
            bundle.verify(&entries[(index + 1) % 13], &verifier),
            Err(InclusionError::Proof(_))
        ));
        // Another key.
        assert!(matches!(
            bundle.verify(&entries[index], &test_signer(ORIGIN, 9).verifier()),
            Err(InclusionError::Checkpoint(_))
        ));
        // A tree size that is not the checkpoint's.
        let resized = LogInclusion {
            tree_size: 14,
            ..bundle.clone()
        };
        assert!(matches!(
            resized.verify(&entries[index], &verifier),
            Err(InclusionError::SizeMismatch { .. })
        ));
        // Carrying the bytes makes the bundle self-contained.
        let carried = bundle.clone().with_entry(&entries[index]);
        let json = serde_json::to_string(&carried).unwrap();
        let carried: LogInclusion = serde_json::from_str(&json).unwrap();
        let (cp, entry) = carried.verify_carried(&verifier).unwrap();
        assert_eq!(
            (cp.size, entry.to_bytes().unwrap()),
            (13, entries[index].clone())
        );
        assert!(matches!(
            bundle.verify_carried(&verifier),
            Err(InclusionError::MissingEntry)
        ));
        let swapped = bundle.clone().with_entry(&entries[(index + 1) % 13]);
        assert!(matches!(
            swapped.verify_carried(&verifier),
            Err(InclusionError::Proof(_))
        ));
        // Malformed hex.
        if !bundle.proof.is_empty() {
            let mut bad = bundle.clone();
            bad.proof[0].pop();
            assert!(matches!(
                bad.verify(&entries[index], &verifier),
                Err(InclusionError::MalformedProof(0))
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The auditor.

/// A log as a server keeps it: entries and a signed checkpoint after every append.
struct TestLog {
    entries: Vec<Vec<u8>>,
    notes: Vec<String>,
}

fn test_log(signer: &LogSigner, entries: Vec<Vec<u8>>) -> TestLog {
    let notes = (1..=entries.len())
        .map(|n| {
            signer
                .sign(&checkpoint(n as u64, reference::mth(&entries[..n])))
                .unwrap()
        })
        .collect();
    TestLog { entries, notes }
}

impl TestLog {
    fn audit_with(
        &self,
        verifier: &LogVerifier,
        entries: &[Vec<u8>],
        previous: Option<TreeState>,
    ) -> AuditReport {
        let input = AuditInput {
            checkpoint: self.notes.last().unwrap(),
            history: &self.notes,
            previous,
            consistency_proof: None,
        };
        audit(verifier, input, entries, |_, _, _| Ok(()))
    }
}

fn problem_index(report: &AuditReport) -> Option<u64> {
    report.problem.as_ref().and_then(AuditProblem::entry_index)
}

#[test]
fn audit_accepts_an_honest_log_and_counts_kinds() {
    let signer = test_signer(ORIGIN, 1);
    let log = test_log(&signer, sample_entries(10));
    let report = log.audit_with(&signer.verifier(), &log.entries, None);
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.entries_read, 10);
    assert_eq!(report.checkpoints_verified, 11);
    assert_eq!(report.by_kind[&EntryKind::Registration], 3);
    assert_eq!(report.by_kind[&EntryKind::Snapshot], 3);
    assert_eq!(report.by_kind[&EntryKind::Claim], 2);
    assert_eq!(report.by_kind[&EntryKind::Verification], 2);
    let state = report.state().unwrap();
    assert_eq!(state.size, 10);
    // The state file round-trips.
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<TreeState>(&json).unwrap(), state);
    // Without history, only the final root is checked.
    let input = AuditInput {
        checkpoint: log.notes.last().unwrap(),
        ..AuditInput::default()
    };
    assert!(audit(&signer.verifier(), input, &log.entries, |_, _, _| Ok(())).is_ok());
}

#[test]
fn audit_pinpoints_a_changed_byte_in_any_entry() {
    let signer = test_signer(ORIGIN, 1);
    let verifier = signer.verifier();
    let log = test_log(&signer, sample_entries(12));
    for index in 0..log.entries.len() {
        // A byte that breaks the JSON, and a digit changed into another digit (still valid).
        let len = log.entries[index].len();
        let digit = log.entries[index]
            .iter()
            .rposition(|b| b.is_ascii_digit() && *b != b'0')
            .unwrap();
        for (pos, value) in [
            (0, b'['),
            (len / 2, 0xff),
            (digit, b'1' + (log.entries[index][digit] - b'0') % 9),
        ] {
            let mut entries = log.entries.clone();
            if entries[index][pos] == value {
                continue;
            }
            entries[index][pos] = value;
            let report = log.audit_with(&verifier, &entries, None);
            assert!(!report.is_ok());
            assert_eq!(
                problem_index(&report),
                Some(index as u64),
                "{:?}",
                report.problem
            );
        }
    }
    // Without per-append checkpoints the change is still found, as a root mismatch.
    let mut entries = log.entries.clone();
    let last = entries[4].len() - 4;
    entries[4][last] = if entries[4][last] == b'5' { b'6' } else { b'5' };
    let input = AuditInput {
        checkpoint: log.notes.last().unwrap(),
        ..AuditInput::default()
    };
    let report = audit(&verifier, input, &entries, |_, _, _| Ok(()));
    assert!(matches!(
        report.problem,
        Some(AuditProblem::RootMismatch {
            size: 12,
            first_suspect: 0
        })
    ));
}

#[test]
fn audit_reports_deleted_reordered_and_truncated_entries() {
    let signer = test_signer(ORIGIN, 1);
    let verifier = signer.verifier();
    let log = test_log(&signer, sample_entries(12));
    for index in 0..12 {
        let mut entries = log.entries.clone();
        entries.remove(index);
        let report = log.audit_with(&verifier, &entries, None);
        assert_eq!(problem_index(&report), Some(index as u64), "delete {index}");

        let mut truncated = log.entries.clone();
        truncated.truncate(index);
        let report = log.audit_with(&verifier, &truncated, None);
        assert!(matches!(
            report.problem,
            Some(AuditProblem::Missing { index: i, checkpoint_size: 12 }) if i == index as u64
        ));
        for other in index + 1..12 {
            let mut entries = log.entries.clone();
            entries.swap(index, other);
            let report = log.audit_with(&verifier, &entries, None);
            assert_eq!(
                problem_index(&report),
                Some(index as u64),
                "swap {index} {other}"
            );
        }
    }
    // An entry appended past the checkpoint.
    let mut longer = log.entries.clone();
    longer.push(sample_entries(13).pop().unwrap());
    assert!(matches!(
        log.audit_with(&verifier, &longer, None).problem,
        Some(AuditProblem::Unsigned { index: 12, .. })
    ));
}

#[test]
fn audit_rejects_bad_checkpoints() {
    let signer = test_signer(ORIGIN, 1);
    let log = test_log(&signer, sample_entries(4));
    // Checked with another key.
    let report = log.audit_with(&test_signer(ORIGIN, 2).verifier(), &log.entries, None);
    assert!(matches!(
        report.problem,
        Some(AuditProblem::Checkpoint(NoteError::NoKnownSignature(_)))
    ));
    // One history checkpoint with a broken signature.
    let mut notes = log.notes.clone();
    let sig = notes[1]
        .lines()
        .last()
        .unwrap()
        .rsplit_once(' ')
        .unwrap()
        .1
        .to_owned();
    let mut blob = B64.decode(&sig).unwrap();
    blob[10] ^= 1;
    notes[1] = notes[1].replace(&sig, &B64.encode(&blob));
    let input = AuditInput {
        checkpoint: log.notes.last().unwrap(),
        history: &notes,
        ..AuditInput::default()
    };
    let report = audit(&signer.verifier(), input, &log.entries, |_, _, _| Ok(()));
    assert!(matches!(
        report.problem,
        Some(AuditProblem::HistoryCheckpoint { position: 1, .. })
    ));
    // Two signed roots for one size: a split view.
    let other = test_log(&signer, sample_entries(5)[1..].to_vec());
    let history = vec![log.notes[3].clone(), other.notes[3].clone()];
    let input = AuditInput {
        checkpoint: log.notes.last().unwrap(),
        history: &history,
        ..AuditInput::default()
    };
    let report = audit(&signer.verifier(), input, &log.entries, |_, _, _| Ok(()));
    assert!(matches!(
        report.problem,
        Some(AuditProblem::SplitView { size: 4 })
    ));
}

#[test]
fn audit_detects_a_fork_or_shrink_between_runs() {
    let signer = test_signer(ORIGIN, 1);
    let verifier = signer.verifier();
    let first = test_log(&signer, sample_entries(10));
    let state = first
        .audit_with(&verifier, &first.entries, None)
        .state()
        .unwrap();

    // The honest log grew: consistent, with or without the server's consistency proof.
    let grown = test_log(&signer, sample_entries(14));
    assert!(
        grown
            .audit_with(&verifier, &grown.entries, Some(state))
            .is_ok()
    );
    let proof = reference::proof(10, &grown.entries);
    let input = AuditInput {
        checkpoint: grown.notes.last().unwrap(),
        history: &[],
        previous: Some(state),
        consistency_proof: Some(&proof),
    };
    assert!(audit(&verifier, input, &grown.entries, |_, _, _| Ok(())).is_ok());

    // A second history, fully signed by the same key, that rewrote entry 3.
    let mut forked_entries = sample_entries(14);
    forked_entries[3] = sample_entries(20)[19].clone();
    let forked = test_log(&signer, forked_entries);
    let report = forked.audit_with(&verifier, &forked.entries, Some(state));
    assert!(
        matches!(
            report.problem,
            Some(AuditProblem::Fork {
                previous_size: 10,
                proof: None
            })
        ),
        "{:?}",
        report.problem
    );
    // The forked server's consistency proof cannot bridge the two histories either.
    let proof = reference::proof(10, &forked.entries);
    let input = AuditInput {
        checkpoint: forked.notes.last().unwrap(),
        history: &[],
        previous: Some(state),
        consistency_proof: Some(&proof),
    };
    assert!(matches!(
        audit(&verifier, input, &forked.entries, |_, _, _| Ok(())).problem,
        Some(AuditProblem::Fork {
            previous_size: 10,
            proof: Some(_)
        })
    ));
    // Same size, another root.
    let same_size = test_log(&signer, forked.entries[..10].to_vec());
    assert!(matches!(
        same_size
            .audit_with(&verifier, &same_size.entries, Some(state))
            .problem,
        Some(AuditProblem::Fork {
            previous_size: 10,
            ..
        })
    ));
    // The log shrank.
    let shrunk = test_log(&signer, sample_entries(8));
    assert!(matches!(
        shrunk
            .audit_with(&verifier, &shrunk.entries, Some(state))
            .problem,
        Some(AuditProblem::Shrunk {
            previous: 10,
            current: 8
        })
    ));
}

#[test]
fn audit_hook_rejection_names_the_entry() {
    let signer = test_signer(ORIGIN, 1);
    let log = test_log(&signer, sample_entries(8));
    let input = AuditInput {
        checkpoint: log.notes.last().unwrap(),
        ..AuditInput::default()
    };
    let mut seen = Vec::new();
    let report = audit(&signer.verifier(), input, &log.entries, |i, entry, _| {
        seen.push(i);
        if i == 6 && entry.kind() == EntryKind::Claim {
            Err("proof does not verify".into())
        } else {
            Ok(())
        }
    });
    assert_eq!(seen, (0..=6).collect::<Vec<u64>>());
    assert_eq!(problem_index(&report), Some(6));
    assert_eq!(report.hook_accepted, 6);
}

#[test]
fn export_file_round_trip_and_audit() {
    let signer = test_signer(ORIGIN, 1);
    let verifier = signer.verifier();
    let log = test_log(&signer, sample_entries(9));
    let export = LogExport {
        format: EXPORT_FORMAT.into(),
        log_key: verifier.to_string(),
        checkpoint: log.notes.last().unwrap().clone(),
        checkpoints: log.notes.clone(),
        entries: log.entries.iter().map(|e| B64.encode(e)).collect(),
    };
    let parsed = LogExport::from_json(&export.to_json().unwrap()).unwrap();
    assert_eq!(parsed, export);
    assert!(
        parsed
            .audit(&verifier, None, |_, _, _| Ok(()))
            .unwrap()
            .is_ok()
    );

    let mut bad = export.clone();
    bad.entries[5].insert(0, '*');
    let report = bad.audit(&verifier, None, |_, _, _| Ok(())).unwrap();
    assert!(matches!(
        report.problem,
        Some(AuditProblem::Entry {
            index: 5,
            error: EntryError::Encoding
        })
    ));
    assert!(matches!(
        export.audit(&test_signer(ORIGIN, 3).verifier(), None, |_, _, _| Ok(())),
        Err(ExportError::KeyMismatch { .. })
    ));
    let mut other_format = export.clone();
    other_format.format = "v0".into();
    assert!(matches!(
        LogExport::from_json(&other_format.to_json().unwrap()),
        Err(ExportError::Format(_))
    ));
}
