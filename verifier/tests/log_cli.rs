//! `credence-verify audit` and `credence-verify inclusion` through the binary: every failure
//! class an auditor must catch (a changed byte, a deleted entry, two reordered entries, a truncated log,
//! a bad or foreign checkpoint signature, a fork between two runs, a shrink) is reported with
//! the entry index where there is one, and exit 0 only when everything holds.
//!
//! The logs here are built with the verifier's own signer and tree (as the service does: one
//! signed checkpoint after every append), with real Groth16 claim proofs from the test circuit.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{CIRCUIT_ID, bundle, fixture, statement};
use credence_circuits::commitment::registration_hash;
use credence_verifier::ClaimBundle;
use credence_verifier::bundle::StatementJson;
use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::leaves::{LeafRow, LeafTable};
use credence_verifier::log::{
    Checkpoint, CompactRange, EXPORT_FORMAT, Hash, LogEntry, LogEvent, LogExport, LogInclusion,
    LogSigner, empty_root, leaf_hash, node_hash,
};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_credence-verify");
const ORIGIN: &str = "credence.test/log";
const VECTORS: &str = include_str!("../../circuits/testdata/protocol-v1.json");

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("credence-logcli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{CIRCUIT_ID}.vk")), fixture().key.to_bytes()).unwrap();
        std::fs::write(d.join("log.pub"), format!("{}\n", signer(1).verifier())).unwrap();
        std::fs::write(d.join("other.pub"), format!("{}\n", signer(2).verifier())).unwrap();
        Dir(d)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.0.join(name), bytes).unwrap();
        self.path(name)
    }

    fn export(&self, name: &str, export: &LogExport) -> String {
        self.write(name, &export.to_json().unwrap())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn signer(seed: u8) -> LogSigner {
    LogSigner::from_seed(ORIGIN, &[seed; 32]).unwrap()
}

fn run(args: &[&str]) -> (i32, String) {
    let Output { status, stdout, .. } = Command::new(BIN).args(args).output().unwrap();
    (
        status.code().expect("exited normally"),
        String::from_utf8(stdout).unwrap(),
    )
}

/// Runs `audit --json` with `log.pub` as the log key and returns the exit code and the summary.
fn audit(d: &Dir, export: &str, extra: &[&str]) -> (i32, Value) {
    audit_under(d, export, &d.path("log.pub"), extra)
}

/// [`audit`] with the log key `log_key`.
fn audit_under(d: &Dir, export: &str, log_key: &str, extra: &[&str]) -> (i32, Value) {
    let vk = d.path(&format!("{CIRCUIT_ID}.vk"));
    let mut args = vec![
        "audit",
        "--export",
        export,
        "--log-key",
        log_key,
        "--vk",
        &vk,
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out) = run(&args);
    let summary: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, summary)
}

fn problem_entry(summary: &Value) -> Option<u64> {
    summary["problem_entry"].as_u64()
}

fn entry(event: LogEvent) -> LogEntry {
    LogEntry {
        time: 1_767_225_600,
        tenant: "acme".into(),
        event,
    }
}

fn logged_statement(b: &ClaimBundle) -> StatementJson {
    StatementJson::encode(&b.statement)
}

fn claim_entry(b: &ClaimBundle) -> LogEntry {
    entry(LogEvent::Claim {
        circuit_id: b.circuit_id.to_string(),
        vk_fingerprint: b.vk_fingerprint.to_hex(),
        statement: logged_statement(b),
        proof: hex::encode(b.proof.to_bytes()),
    })
}

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The protocol vectors' snapshot as the operator's leaf table.
fn leaf_table() -> LeafTable {
    let v = vectors();
    let leaves = v["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| LeafRow {
            index: text(&c["leaf_index"]),
            contributor_id: text(
                &v["contributors"][c["contributor"].as_str().unwrap()]["contributor_id"],
            ),
            commitment: text(&c["commitment"]),
            weight: text(&c["weight"]),
        })
        .collect();
    LeafTable {
        epoch: text(&v["snapshot"]["epoch"]),
        depth: v["snapshot"]["depth"].as_u64().unwrap() as u32,
        leaves,
    }
}

/// A realistic log: five registrations, the snapshot, two claims and a verification verdict.
fn sample_entries() -> Vec<LogEntry> {
    let v = vectors();
    let table = leaf_table().decode().unwrap();
    let mut out: Vec<LogEntry> = table
        .leaves
        .iter()
        .map(|l| {
            entry(LogEvent::Registration {
                leaf_index: l.index,
                registration_hash: fr_to_decimal(&registration_hash(
                    &l.contributor_id,
                    &l.commitment,
                )),
            })
        })
        .collect();
    out.push(entry(LogEvent::Snapshot {
        epoch: 3,
        depth: 4,
        root: text(&v["snapshot"]["root"]),
        total_weight: text(&v["snapshot"]["total_weight"]),
        revenue: text(&v["snapshot"]["revenue"]),
    }));
    let b1 = bundle(&statement(1));
    let b2 = bundle(&statement(2));
    out.push(claim_entry(&b1));
    out.push(claim_entry(&b2));
    out.push(entry(LogEvent::Verification {
        circuit_id: b1.circuit_id.to_string(),
        vk_fingerprint: b1.vk_fingerprint.to_hex(),
        statement: logged_statement(&b1),
        verdict: "valid".into(),
    }));
    out
}

/// Signs a log of these entry bytes as the service does: a checkpoint after every append. The
/// origin is the key's name, as in the service.
fn export_of(bytes: &[Vec<u8>], key: &LogSigner) -> LogExport {
    let sign = |size: u64, root: Hash| {
        key.sign(&Checkpoint {
            origin: key.name().into(),
            size,
            root,
        })
        .unwrap()
    };
    let mut range = CompactRange::new();
    let mut checkpoints = vec![sign(0, empty_root())];
    for b in bytes {
        range.push(leaf_hash(b));
        checkpoints.push(sign(range.size(), range.root()));
    }
    LogExport {
        format: EXPORT_FORMAT.into(),
        log_key: key.verifier().to_string(),
        checkpoint: checkpoints.last().unwrap().clone(),
        checkpoints,
        entries: bytes.iter().map(|b| B64.encode(b)).collect(),
    }
}

fn encode(entries: &[LogEntry]) -> Vec<Vec<u8>> {
    entries.iter().map(|e| e.to_bytes().unwrap()).collect()
}

#[test]
fn a_sound_log_passes_with_summary_and_leaves() {
    let d = Dir::new("sound");
    let export = d.export(
        "log.json",
        &export_of(&encode(&sample_entries()), &signer(1)),
    );
    let leaves = d.write("leaves.json", leaf_table().to_json().unwrap().as_bytes());
    let (code, s) = audit(&d, &export, &["--leaves", &leaves]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["tree_size"], 9);
    assert_eq!(s["entries_read"], 9);
    assert_eq!(s["entries_by_kind"]["registration"], 5);
    assert_eq!(s["entries_by_kind"]["snapshot"], 1);
    assert_eq!(s["entries_by_kind"]["claim"], 2);
    assert_eq!(s["entries_by_kind"]["verification"], 1);
    assert_eq!(s["proofs_valid"], 2);
    // The latest checkpoint and every one of sizes 0..=9 in the history.
    assert_eq!(s["checkpoints_verified"], 11);
    assert_eq!(s["leaves"]["snapshot_entry"], 5);
    assert_eq!(s["leaves"]["total_weight"], 6246);
    assert!(s.get("problem").is_none(), "{s}");

    // The text form names the summary and ends with the verdict.
    let log_pub = d.path("log.pub");
    let vk = d.path(&format!("{CIRCUIT_ID}.vk"));
    let (code, out) = run(&[
        "audit",
        "--export",
        &export,
        "--log-key",
        &log_pub,
        "--vk",
        &vk,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("entries: 9 read: 5 registration, 1 snapshot, 2 claim, 1 verification"),
        "{out}"
    );
    assert!(out.contains("proofs: 2 of 2 claim(s) valid"), "{out}");
    assert!(out.trim_end().ends_with("audit: ok"), "{out}");
}

#[test]
fn tampering_is_reported_with_the_entry_index() {
    let d = Dir::new("tamper");
    let bytes = encode(&sample_entries());
    let good = export_of(&bytes, &signer(1));

    // One byte of one stored entry, keeping it a valid entry (the time): the root of the first
    // 4 entries no longer matches its signed checkpoint.
    let mut changed = good.clone();
    let mut b = bytes[3].clone();
    let pos = b.windows(4).position(|w| w == b"1767").unwrap();
    b[pos + 3] = b'8';
    changed.entries[3] = B64.encode(&b);
    let (code, s) = audit(&d, &d.export("changed.json", &changed), &[]);
    assert_eq!((code, problem_entry(&s)), (1, Some(3)), "{s}");
    assert!(
        s["problem"].as_str().unwrap().contains("root mismatch"),
        "{s}"
    );

    // One byte that breaks the entry's encoding, and one inside a claim's proof.
    let mut broken = good.clone();
    let mut b = bytes[4].clone();
    b[0] = b'[';
    broken.entries[4] = B64.encode(&b);
    let (code, s) = audit(&d, &d.export("broken.json", &broken), &[]);
    assert_eq!((code, problem_entry(&s)), (1, Some(4)), "{s}");
    let mut proof = good.clone();
    let mut b = bytes[7].clone();
    let pos = b.windows(9).position(|w| w == b"\"proof\":\"").unwrap() + 9 + 70;
    b[pos] = if b[pos] == b'0' { b'1' } else { b'0' };
    proof.entries[7] = B64.encode(&b);
    let (code, s) = audit(&d, &d.export("proof.json", &proof), &[]);
    assert_eq!((code, problem_entry(&s)), (1, Some(7)), "{s}");

    // Deleting an entry.
    let mut deleted = good.clone();
    deleted.entries.remove(2);
    let (code, s) = audit(&d, &d.export("deleted.json", &deleted), &[]);
    assert_eq!((code, problem_entry(&s)), (1, Some(2)), "{s}");

    // Reordering two.
    let mut swapped = good.clone();
    swapped.entries.swap(1, 6);
    let (code, s) = audit(&d, &d.export("swapped.json", &swapped), &[]);
    assert_eq!((code, problem_entry(&s)), (1, Some(1)), "{s}");

    // Truncating: the first missing entry.
    let mut truncated = good.clone();
    truncated.entries.truncate(6);
    let (code, s) = audit(&d, &d.export("truncated.json", &truncated), &[]);
    assert_eq!((code, problem_entry(&s)), (1, Some(6)), "{s}");
    assert!(s["problem"].as_str().unwrap().contains("missing"), "{s}");

    // The untouched log passes (so the failures above are the tampering).
    let (code, s) = audit(&d, &d.export("good.json", &good), &[]);
    assert_eq!(code, 0, "{s}");
}

#[test]
fn checkpoints_with_a_bad_signature_or_from_another_key_are_rejected() {
    let d = Dir::new("sig");
    let bytes = encode(&sample_entries());
    let good = export_of(&bytes, &signer(1));

    // A flipped character in the latest checkpoint's signature.
    let mut bad = good.clone();
    let sig_line = bad.checkpoint.lines().last().unwrap().to_owned();
    let mut flipped = sig_line.clone().into_bytes();
    let at = flipped.len() - 10;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    bad.checkpoint = bad
        .checkpoint
        .replace(&sig_line, std::str::from_utf8(&flipped).unwrap());
    let (code, s) = audit(&d, &d.export("badsig.json", &bad), &[]);
    assert_eq!(code, 1, "{s}");
    assert!(
        s["problem"].as_str().unwrap().starts_with("checkpoint"),
        "{s}"
    );

    // An older checkpoint with a bad signature is rejected too.
    let mut bad_old = good.clone();
    bad_old.checkpoints[3] = bad_old.checkpoints[3].replace(ORIGIN, "credence.test/other");
    let (code, s) = audit(&d, &d.export("badold.json", &bad_old), &[]);
    assert_eq!(code, 1, "{s}");

    // The same entries signed by another key: refused under the trusted key.
    let foreign = export_of(&bytes, &signer(2));
    let path = d.export("foreign.json", &foreign);
    let (code, s) = audit(&d, &path, &[]);
    assert_eq!(code, 1, "{s}");
    assert!(
        s["problem"]
            .as_str()
            .unwrap()
            .contains("not by the trusted key"),
        "{s}"
    );
    // ... even when the file claims the trusted key.
    let mut disguised = foreign.clone();
    disguised.log_key = good.log_key.clone();
    let (code, s) = audit(&d, &d.export("disguised.json", &disguised), &[]);
    assert_eq!(code, 1, "{s}");
    // Under its own key it is a sound log.
    let other = d.path("other.pub");
    let (code, _) = run(&[
        "audit",
        "--export",
        &path,
        "--log-key",
        &other,
        "--vk",
        &d.path(&format!("{CIRCUIT_ID}.vk")),
    ]);
    assert_eq!(code, 0);
}

#[test]
fn a_fork_or_shrink_between_two_runs_is_reported_and_the_state_kept() {
    let d = Dir::new("fork");
    let state = d.path("state.json");
    let bytes = encode(&sample_entries());
    let first = d.export("first.json", &export_of(&bytes[..6], &signer(1)));
    let (code, s) = audit(&d, &first, &["--state", &state]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["state_updated"], true);
    let saved = std::fs::read(&state).unwrap();

    // Another history, validly signed, served to the same auditor: entry 2 differs.
    let mut other = bytes.clone();
    let mut e = LogEntry::from_bytes(&other[2]).unwrap();
    e.time += 1;
    other[2] = e.to_bytes().unwrap();
    let forked = d.export("forked.json", &export_of(&other, &signer(1)));
    // On its own it is a sound log ...
    let (code, _) = audit(&d, &forked, &[]);
    assert_eq!(code, 0);
    // ... but not a continuation of what this auditor saw.
    let (code, s) = audit(&d, &forked, &["--state", &state]);
    assert_eq!(code, 1, "{s}");
    assert!(s["problem"].as_str().unwrap().starts_with("fork"), "{s}");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "a failed audit must not move the state"
    );

    // Shrinking is refused as well.
    let shrunk = d.export("shrunk.json", &export_of(&bytes[..4], &signer(1)));
    let (code, s) = audit(&d, &shrunk, &["--state", &state]);
    assert_eq!(code, 1, "{s}");
    assert!(s["problem"].as_str().unwrap().contains("shrank"), "{s}");
    assert_eq!(std::fs::read(&state).unwrap(), saved);

    // The honest continuation passes and moves the state forward.
    let grown = d.export("grown.json", &export_of(&bytes, &signer(1)));
    let (code, s) = audit(&d, &grown, &["--state", &state]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["previous_state"]["size"], 6);
    let now: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(now["size"], 9);
    // A malformed state file is an input error, not a pass.
    let junk = d.write("junk.json", b"{\"size\":1}");
    let (code, _) = audit(&d, &grown, &["--state", &junk]);
    assert_eq!(code, 2);
}

#[test]
fn a_state_file_of_another_log_is_refused_as_a_mix_up_not_a_fork() {
    let d = Dir::new("statelog");
    let state = d.path("a.state");
    let bytes = encode(&sample_entries());
    let log_a = d.export("a.json", &export_of(&bytes, &signer(1)));

    // The first run binds the state file to log A: its origin and its key.
    let (code, s) = audit(&d, &log_a, &["--state", &state]);
    assert_eq!(code, 0, "{s}");
    let saved = std::fs::read(&state).unwrap();
    let file: Value = serde_json::from_slice(&saved).unwrap();
    assert_eq!(file["origin"], ORIGIN);
    assert_eq!(file["log_key"], signer(1).verifier().to_string());
    assert_eq!(file["size"], 9);

    // Another log (another origin and key, its own history), audited with A's state file.
    let other_origin = "credence.test/other-log";
    let b_key = LogSigner::from_seed(other_origin, &[3; 32]).unwrap();
    let b_pub = d.write("b.pub", format!("{}\n", b_key.verifier()).as_bytes());
    let mut other = sample_entries();
    other[2].time += 1;
    let log_b = d.export("b.json", &export_of(&encode(&other), &b_key));
    let vk = d.path(&format!("{CIRCUIT_ID}.vk"));
    let audit_b = |extra: &[&str]| audit_under(&d, &log_b, &b_pub, extra);
    let (code, s) = audit_b(&["--state", &state]);
    // Exit 2 (the inputs do not go together), not 1 (a fork: the log misbehaved).
    assert_eq!(code, 2, "{s}");
    let problem = s["problem"].as_str().unwrap();
    assert!(
        problem.contains(&format!(
            "this state file belongs to log `{ORIGIN}` (key {}), not to `{other_origin}` (key {}): \
             use a state file per log",
            signer(1).verifier(),
            b_key.verifier()
        )),
        "{s}"
    );
    assert!(!problem.contains("fork"), "{s}");
    assert_eq!(s["entries_read"], 0, "refused before the log was read: {s}");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "the state must not move"
    );
    // The same origin under another key is another log too.
    let foreign = d.export("foreign.json", &export_of(&bytes, &signer(2)));
    let other_pub = d.path("other.pub");
    let (code, out) = run(&[
        "audit",
        "--export",
        &foreign,
        "--log-key",
        &other_pub,
        "--vk",
        &vk,
        "--state",
        &state,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("use a state file per log"), "{out}");
    // B with a state file of its own is fine.
    let (code, s) = audit_b(&["--state", &d.path("b.state")]);
    assert_eq!(code, 0, "{s}");

    // A state file from before the binding (size and root only) still loads: the audit runs
    // against it and, when it passes, binds it to the log it audited.
    let root = file["root"].as_str().unwrap();
    let unbound_state = |name: &str| {
        d.write(
            name,
            format!("{{\"size\": 9, \"root\": \"{root}\"}}\n").as_bytes(),
        )
    };
    let old = unbound_state("old.state");
    let (code, s) = audit(&d, &log_a, &["--state", &old]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["previous_state"]["size"], 9, "{s}");
    let now: Value = serde_json::from_slice(&std::fs::read(&old).unwrap()).unwrap();
    assert_eq!(now["origin"], ORIGIN);
    assert_eq!(now["log_key"], signer(1).verifier().to_string());
    // An old state file used with another log can only show up as a fork; the message says it
    // may be another log's.
    let unbound = unbound_state("old-a.state");
    let (code, s) = audit_b(&["--state", &unbound]);
    assert_eq!(code, 1, "{s}");
    let problem = s["problem"].as_str().unwrap();
    assert!(problem.starts_with("fork"), "{s}");
    assert!(
        problem
            .contains("does not record its log: if it is another log's, use a state file per log"),
        "{s}"
    );

    // A state file whose origin is not its key's name, or with one of the two, is malformed.
    for bad in [
        format!(
            "{{\"size\": 9, \"root\": \"{root}\", \"origin\": \"x\", \"log_key\": \"{}\"}}",
            signer(1).verifier()
        ),
        format!("{{\"size\": 9, \"root\": \"{root}\", \"origin\": \"{ORIGIN}\"}}"),
    ] {
        let p = d.write("bad.state", bad.as_bytes());
        let (code, s) = audit(&d, &log_a, &["--state", &p]);
        assert_eq!(code, 2, "{s}");
        let problem = s["problem"].as_str().unwrap();
        assert!(problem.contains("not an audit state file"), "{s}");
    }
}

#[test]
fn claims_need_their_key_and_a_valid_proof() {
    let d = Dir::new("claims");
    let mut entries = sample_entries();
    let export = d.export("log.json", &export_of(&encode(&entries), &signer(1)));

    // No --vk: the first claim (entry 6) cannot be re-verified, which is a problem.
    let log_pub = d.path("log.pub");
    let (code, out) = run(&[
        "audit",
        "--export",
        &export,
        "--log-key",
        &log_pub,
        "--json",
    ]);
    let s: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((code, problem_entry(&s)), (1, Some(6)), "{s}");
    assert!(s["problem"].as_str().unwrap().contains("--vk"), "{s}");

    // A validly logged false claim (payout + 1): rejected at its index.
    let mut b = bundle(&statement(2));
    b.statement.payout += 1;
    entries[7] = claim_entry(&b);
    let false_claim = d.export("false.json", &export_of(&encode(&entries), &signer(1)));
    let (code, s) = audit(&d, &false_claim, &[]);
    assert_eq!((code, problem_entry(&s)), (1, Some(7)), "{s}");
}

#[test]
fn leaves_must_be_the_snapshot_and_registered_before_it() {
    let d = Dir::new("leaves");
    let entries = sample_entries();
    let leaves = d.write("leaves.json", leaf_table().to_json().unwrap().as_bytes());

    // A registration logged after the snapshot does not count: reported at the snapshot entry.
    let mut late = entries.clone();
    let reg = late.remove(2);
    late.insert(5, reg);
    let export = d.export("late.json", &export_of(&encode(&late), &signer(1)));
    let (code, s) = audit(&d, &export, &["--leaves", &leaves]);
    assert_eq!((code, problem_entry(&s)), (1, Some(4)), "{s}");
    assert!(
        s["problem"].as_str().unwrap().contains("not registered"),
        "{s}"
    );

    // A table whose weights differ from the snapshot's: the snapshot entry is named.
    let mut table = leaf_table();
    table.leaves[0].weight = "701".into();
    let other = d.write("other.json", table.to_json().unwrap().as_bytes());
    let export = d.export("log.json", &export_of(&encode(&entries), &signer(1)));
    let (code, s) = audit(&d, &export, &["--leaves", &other]);
    assert_eq!((code, problem_entry(&s)), (1, Some(5)), "{s}");

    // A table of an epoch the log never published.
    let mut table = leaf_table();
    table.epoch = "4".into();
    let other = d.write("epoch4.json", table.to_json().unwrap().as_bytes());
    let (code, s) = audit(&d, &export, &["--leaves", &other]);
    assert_eq!(code, 1, "{s}");
    assert!(
        s["problem"]
            .as_str()
            .unwrap()
            .contains("no snapshot of epoch 4"),
        "{s}"
    );

    // A malformed table is an input error.
    let junk = d.write(
        "junk.json",
        br#"{"epoch":"3","depth":4,"leaves":[{"index":"99"}]}"#,
    );
    let (code, _) = audit(&d, &export, &["--leaves", &junk]);
    assert_eq!(code, 2);
}

/// RFC 6962 PATH(m, D[n]) over leaf hashes, written independently of the code under test.
fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    fn mth(l: &[Hash]) -> Hash {
        match l.len() {
            0 => empty_root(),
            1 => l[0],
            n => {
                let k = split(n);
                node_hash(&mth(&l[..k]), &mth(&l[k..]))
            }
        }
    }
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// A bundle as the service issues it: entry `index` of a log of `bytes`, with the inclusion.
fn logged_bundle(b: &ClaimBundle, bytes: &[Vec<u8>], index: usize, key: &LogSigner) -> ClaimBundle {
    let export = export_of(bytes, key);
    let hashes: Vec<Hash> = bytes.iter().map(|b| leaf_hash(b)).collect();
    let inclusion = LogInclusion::new(
        index as u64,
        bytes.len() as u64,
        &path(index, &hashes),
        export.checkpoint,
    )
    .with_entry(&bytes[index]);
    let mut out = b.clone();
    out.log = Some(inclusion);
    out
}

#[test]
fn inclusion_checks_the_bundles_own_entry() {
    let d = Dir::new("inclusion");
    let entries = sample_entries();
    let bytes = encode(&entries);
    let b2 = bundle(&statement(2));
    let log_pub = d.path("log.pub");
    let vk = d.path(&format!("{CIRCUIT_ID}.vk"));
    let check = |name: &str, b: &ClaimBundle, extra: &[&str]| {
        let p = d.write(name, b.to_json().as_bytes());
        let mut args = vec!["inclusion", p.as_str(), "--log-key", &log_pub];
        args.extend_from_slice(extra);
        run(&args)
    };
    let good = logged_bundle(&b2, &bytes, 7, &signer(1));
    let (code, out) = check("good.json", &good, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("entry 7 of log credence.test/log"), "{out}");
    let (code, out) = check("good.json", &good, &["--vk", &vk]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the proof verifies"), "{out}");

    // Under another key: not in the trusted log.
    let other = d.path("other.pub");
    let p = d.write("good2.json", good.to_json().as_bytes());
    let (code, out) = run(&["inclusion", &p, "--log-key", &other]);
    assert_eq!(code, 1, "{out}");

    // Another bundle carrying this inclusion: the entry records a different claim.
    let mut wrong = logged_bundle(&bundle(&statement(1)), &bytes, 7, &signer(1));
    wrong.log = good.log.clone();
    let (code, out) = check("wrong.json", &wrong, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("another claim"), "{out}");

    // The inclusion of a registration entry presented as this claim's.
    let reg = logged_bundle(&b2, &bytes, 2, &signer(1));
    let (code, out) = check("reg.json", &reg, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not a claim"), "{out}");

    // A wrong index, a mutated proof hash, a checkpoint for another size, signed elsewhere.
    let mutate = |name: &str, f: &dyn Fn(&mut LogInclusion)| {
        let mut b = good.clone();
        f(b.log.as_mut().unwrap());
        check(name, &b, &[]).0
    };
    assert_eq!(mutate("index.json", &|l| l.index = 6), 1);
    assert_eq!(
        mutate("proof.json", &|l| {
            let h = l.proof[1].clone();
            let rest = &h[1..];
            l.proof[1] = if h.starts_with('0') {
                format!("1{rest}")
            } else {
                format!("0{rest}")
            };
        }),
        1
    );
    assert_eq!(mutate("size.json", &|l| l.tree_size = 8), 1);
    let foreign = logged_bundle(&b2, &bytes, 7, &signer(2));
    assert_eq!(check("foreign.json", &foreign, &[]).0, 1);

    // Malformed: no log field; no entry bytes; a proof hash that is not hex.
    assert_eq!(check("nolog.json", &b2, &[]).0, 2);
    assert_eq!(mutate("noentry.json", &|l| l.entry = None), 2);
    assert_eq!(mutate("hex.json", &|l| l.proof[0] = "z".repeat(64)), 2);

    // A bundle whose proof is false but was logged as such: included, but --vk refuses it.
    let mut false_b = bundle(&statement(2));
    false_b.statement.payout += 1;
    let mut fe = entries.clone();
    fe[7] = claim_entry(&false_b);
    let logged_false = logged_bundle(&false_b, &encode(&fe), 7, &signer(1));
    assert_eq!(check("false.json", &logged_false, &[]).0, 0);
    assert_eq!(check("false.json", &logged_false, &["--vk", &vk]).0, 1);
}
