//! Tests of the log store: proofs against a naive tree, durability across kill -9, concurrency,
//! key files, and the export audited by the verifier crate.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use credence_verifier::log::{
    AuditInput, AuditProblem, LogEntry, LogEvent, LogExport, LogSigner, LogVerifier, audit,
    empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion,
};

use super::tree::Tree;
use super::*;

const ORIGIN: &str = "credence.test/log";

fn signer(seed: u8) -> LogSigner {
    LogSigner::from_seed(ORIGIN, &[seed; 32]).unwrap()
}

fn entry(i: u64) -> LogEntry {
    LogEntry {
        time: 1_767_225_600 + i,
        tenant: "acme".into(),
        event: LogEvent::Registration {
            leaf_index: i,
            registration_hash: (1_000_003 * (i + 1)).to_string(),
        },
    }
}

/// RFC 6962 MTH by plain recursion over leaf hashes, independent of the levels cache.
fn naive_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// RFC 6962 PATH by recursion.
fn naive_path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
    let (mut p, sibling) = if m < k {
        (naive_path(m, &leaves[..k]), naive_root(&leaves[k..]))
    } else {
        (naive_path(m - k, &leaves[k..]), naive_root(&leaves[..k]))
    };
    p.push(sibling);
    p
}

/// RFC 6962 SUBPROOF by recursion.
fn naive_subproof(m: usize, leaves: &[[u8; 32]], whole: bool) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if m == n {
        return if whole {
            Vec::new()
        } else {
            vec![naive_root(leaves)]
        };
    }
    let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
    let (mut p, sibling) = if m <= k {
        (
            naive_subproof(m, &leaves[..k], whole),
            naive_root(&leaves[k..]),
        )
    } else {
        (
            naive_subproof(m - k, &leaves[k..], false),
            naive_root(&leaves[..k]),
        )
    };
    p.push(sibling);
    p
}

#[test]
fn tree_proofs_equal_the_naive_tree_for_every_size_up_to_64() {
    let leaves: Vec<[u8; 32]> = (0..64u32).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    let mut tree = Tree::default();
    for leaf in &leaves {
        tree.push(*leaf);
    }
    for n in 0..=64usize {
        let root = naive_root(&leaves[..n]);
        assert_eq!(tree.root_at(n as u64).unwrap(), root, "root {n}");
        for m in 0..n {
            let proof = tree.inclusion_proof(m as u64, n as u64).unwrap();
            assert_eq!(proof, naive_path(m, &leaves[..n]), "path {m} {n}");
            verify_inclusion(m as u64, n as u64, &leaves[m], &proof, &root).unwrap();
        }
        for m in 0..=n {
            let proof = tree.consistency_proof(m as u64, n as u64).unwrap();
            let expected = if m == 0 {
                Vec::new()
            } else {
                naive_subproof(m, &leaves[..n], true)
            };
            assert_eq!(proof, expected, "consistency {m} {n}");
            verify_consistency(m as u64, n as u64, &naive_root(&leaves[..m]), &root, &proof)
                .unwrap();
        }
    }
    // Out of range requests are errors, not panics.
    assert!(tree.inclusion_proof(64, 64).is_err());
    assert!(tree.inclusion_proof(0, 65).is_err());
    assert!(tree.inclusion_proof(0, 0).is_err());
    assert!(tree.consistency_proof(5, 4).is_err());
    assert!(tree.consistency_proof(1, 65).is_err());
    assert!(tree.root_at(65).is_err());
    // Truncation undoes pushes exactly.
    tree.truncate(37);
    assert_eq!(tree.size(), 37);
    assert_eq!(tree.root_at(37).unwrap(), naive_root(&leaves[..37]));
    tree.push(leaves[37]);
    assert_eq!(tree.root_at(38).unwrap(), naive_root(&leaves[..38]));
}

#[test]
fn store_appends_proves_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(LOG_DB_FILE);
    let store = LogStore::open(&db, signer(1)).unwrap();
    let verifier = store.verifier().clone();
    // A fresh log has a signed empty checkpoint.
    let empty = verifier
        .verify_checkpoint(&store.checkpoint().unwrap())
        .unwrap();
    assert_eq!((empty.size, empty.root), (0, empty_root()));

    for i in 0..20 {
        assert_eq!(store.append(&entry(i)).unwrap(), i);
    }
    assert_eq!(
        store
            .append_batch(&[entry(20), entry(21), entry(22)])
            .unwrap(),
        20..23
    );
    assert_eq!(store.append_batch(&[]).unwrap(), 23..23);
    let bytes = store.entries(0..23).unwrap();
    assert_eq!(bytes[5], entry(5).to_bytes().unwrap());
    let leaves: Vec<_> = bytes.iter().map(|b| leaf_hash(b)).collect();
    let cp = verifier
        .verify_checkpoint(&store.checkpoint().unwrap())
        .unwrap();
    assert_eq!((cp.size, cp.root), (23, naive_root(&leaves)));
    // Every acknowledged size has its checkpoint (the batch signs once, at its end).
    for size in (0..=20).chain([23]) {
        let note = store.checkpoint_at(size).unwrap().unwrap();
        let c = verifier.verify_checkpoint(&note).unwrap();
        assert_eq!(c.root, naive_root(&leaves[..size as usize]));
    }
    assert_eq!(store.checkpoint_at(21).unwrap(), None);
    // The bundle field verifies offline, with and without carried bytes.
    let inclusion = store.inclusion(7).unwrap();
    inclusion.verify(&bytes[7], &verifier).unwrap();
    assert_eq!(inclusion.verify_carried(&verifier).unwrap().1, entry(7));
    let proved = store.append_and_prove(&entry(23)).unwrap();
    assert_eq!((proved.index, proved.tree_size), (23, 24));
    proved.verify_carried(&verifier).unwrap();
    // Bad requests are errors.
    assert!(store.entries(5..30).is_err());
    assert!(store.inclusion_proof(24, 24).is_err());
    assert!(store.consistency_proof(10, 25).is_err());
    let mut bad = entry(1);
    bad.tenant = "a tenant with spaces".into();
    assert!(matches!(store.append(&bad), Err(StoreError::Entry(_))));
    assert_eq!(store.size().unwrap(), 24);
    let root = store.root_at(24).unwrap();
    drop(store);

    // Reopen: same tree, same key; another key is refused.
    let store = LogStore::open(&db, signer(1)).unwrap();
    assert_eq!(store.size().unwrap(), 24);
    assert_eq!(store.root_at(24).unwrap(), root);
    assert_eq!(
        store.fsck().unwrap(),
        FsckReport {
            entries: 24,
            checkpoints: 23
        }
    );
    let old = store.root_at(10).unwrap();
    let proof = store.consistency_proof(10, 24).unwrap();
    verify_consistency(10, 24, &old, &root, &proof).unwrap();
    drop(store);
    assert!(matches!(
        LogStore::open(&db, signer(2)),
        Err(StoreError::KeyMismatch { .. })
    ));
}

#[test]
fn tampered_database_is_refused_at_open_and_found_by_fsck() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(LOG_DB_FILE);
    let store = LogStore::open(&db, signer(1)).unwrap();
    for i in 0..10 {
        store.append(&entry(i)).unwrap();
    }
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    // Bytes changed, leaf hash left: open hashes every entry again and refuses, naming it.
    conn.execute("UPDATE log_entries SET bytes = X'00' WHERE idx = 4", [])
        .unwrap();
    match LogStore::open(&db, signer(1)) {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("entry 4"), "{why}"),
        other => panic!("an edited entry was accepted: {:?}", other.map(|_| ())),
    }
    // Edited behind a running store's back: fsck finds it.
    conn.execute(
        "UPDATE log_entries SET bytes = ?1 WHERE idx = 4",
        [entry(4).to_bytes().unwrap()],
    )
    .unwrap();
    let store = LogStore::open(&db, signer(1)).unwrap();
    conn.execute("UPDATE log_entries SET bytes = X'00' WHERE idx = 4", [])
        .unwrap();
    assert!(matches!(store.fsck(), Err(StoreError::Corrupt(_))));
    drop(store);
    // Leaf hash changed too: the root no longer matches the signed checkpoint.
    conn.execute(
        "UPDATE log_entries SET leaf_hash = ?1 WHERE idx = 4",
        [leaf_hash(&[0]).as_slice()],
    )
    .unwrap();
    assert!(matches!(
        LogStore::open(&db, signer(1)),
        Err(StoreError::Corrupt(_))
    ));
    // A deleted entry.
    conn.execute("DELETE FROM log_entries WHERE idx = 9", [])
        .unwrap();
    assert!(matches!(
        LogStore::open(&db, signer(1)),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn concurrent_appends_get_contiguous_unique_indices() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LogStore::open(&dir.path().join(LOG_DB_FILE), signer(1)).unwrap());
    let threads = 8;
    let per_thread = 25u64;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|i| store.append(&entry(t * 1000 + i)).unwrap())
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..threads * per_thread).collect::<Vec<_>>());
    let report = store.fsck().unwrap();
    assert_eq!(report.entries, threads * per_thread);
}

/// A change that writes `value` into the test's own state table and logs `entry(value)`.
fn state_change(value: u64) -> Change {
    Change::Sqlite(Box::new(move |conn| {
        conn.execute("INSERT INTO state (v) VALUES (?1)", [value as i64])?;
        Ok(vec![entry(value)])
    }))
}

fn state_rows(store_path: &std::path::Path) -> Vec<u64> {
    let conn = rusqlite::Connection::open(store_path).unwrap();
    let mut stmt = conn.prepare("SELECT v FROM state ORDER BY v").unwrap();
    stmt.query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|v| v.unwrap() as u64)
        .collect()
}

#[test]
fn changes_arriving_during_a_commit_share_the_next_batch_and_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_DB_FILE);
    let store = Arc::new(LogStore::open(&path, signer(1)).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE state (v INTEGER PRIMARY KEY)")
        .unwrap();
    // The first change holds its batch open until fifteen more are queued behind it.
    let (started, running) = std::sync::mpsc::channel::<()>();
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let first = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.commit(Change::Sqlite(Box::new(move |conn| {
                started.send(()).unwrap();
                hold.recv().unwrap();
                let Change::Sqlite(change) = state_change(0) else {
                    unreachable!()
                };
                change(conn)
            })))
        })
    };
    running.recv().unwrap();
    let others: Vec<_> = (1..16u64)
        .map(|v| {
            let store = store.clone();
            std::thread::spawn(move || store.commit(state_change(v)))
        })
        .collect();
    while store.queued() < 15 {
        std::thread::yield_now();
    }
    release.send(()).unwrap();
    assert_eq!(first.join().unwrap().unwrap(), 0..1);
    let mut ranges: Vec<_> = others
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    ranges.sort_by_key(|r| r.start);
    assert_eq!(
        ranges,
        (1..16).map(|i| i..i + 1).collect::<Vec<_>>(),
        "contiguous, one entry each"
    );
    // The empty log's checkpoint, the first batch's, and one for the fifteen.
    let report = store.fsck().unwrap();
    assert_eq!((report.entries, report.checkpoints), (16, 3));
    assert_eq!(state_rows(&path), (0..16).collect::<Vec<_>>());
}

#[test]
fn a_change_that_fails_or_declines_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG_DB_FILE);
    let store = LogStore::open(&path, signer(1)).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE state (v INTEGER PRIMARY KEY)")
        .unwrap();
    assert_eq!(store.commit(state_change(1)).unwrap(), 0..1);
    // A state write that fails (the row exists), one that declines after writing, and one whose
    // entry cannot be encoded: none leaves a row or an entry behind.
    assert!(matches!(
        store.commit(state_change(1)),
        Err(CommitError::Failed(_))
    ));
    assert!(matches!(
        store.commit(Change::Sqlite(Box::new(|conn| {
            conn.execute("INSERT INTO state (v) VALUES (7)", [])?;
            Err(ChangeError::Declined)
        }))),
        Err(CommitError::Declined)
    ));
    assert!(matches!(
        store.commit(Change::Sqlite(Box::new(|conn| {
            conn.execute("INSERT INTO state (v) VALUES (8)", [])?;
            let mut bad = entry(8);
            bad.tenant = "free text\nis refused".into();
            Ok(vec![bad])
        }))),
        Err(CommitError::Failed(_))
    ));
    assert_eq!(store.commit(state_change(2)).unwrap(), 1..2);
    assert_eq!(state_rows(&path), vec![1, 2]);
    let report = store.fsck().unwrap();
    assert_eq!((report.entries, report.checkpoints), (2, 3));
}

#[test]
fn a_log_kept_in_log_db_moves_into_the_service_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join(LEGACY_LOG_DB_FILE);
    let key = load_or_create_signer(dir.path(), Some(ORIGIN)).unwrap();
    let old = LogStore::open(&legacy, key).unwrap();
    for i in 0..5 {
        old.append(&entry(i)).unwrap();
    }
    let checkpoint = old.checkpoint().unwrap();
    drop(old);

    let store = LogStore::open_data_dir(dir.path(), None).unwrap();
    assert_eq!(store.size().unwrap(), 5);
    assert_eq!(store.checkpoint().unwrap(), checkpoint);
    assert_eq!(store.fsck().unwrap().entries, 5);
    assert!(!legacy.exists(), "log.db is renamed once merged");
    assert!(dir.path().join("log.db.merged").is_file());
    store.append(&entry(5)).unwrap();
    drop(store);
    // Reopened: nothing is merged twice.
    let store = LogStore::open_data_dir(dir.path(), None).unwrap();
    assert_eq!(store.size().unwrap(), 6);

    // A log.db beside a different log in credence.db is refused, not merged.
    let other = LogStore::open(&legacy, signer(9)).unwrap();
    other.append(&entry(0)).unwrap();
    drop((other, store));
    let err = LogStore::open_data_dir(dir.path(), None).unwrap_err();
    assert!(
        err.to_string().contains("both hold a compliance log"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn key_files_are_created_private_and_reloaded() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = LogStore::open_data_dir(&data, Some(ORIGIN)).unwrap();
    let key_mode = std::fs::metadata(data.join(LOG_KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let public = std::fs::read_to_string(data.join(LOG_PUB_FILE)).unwrap();
    assert_eq!(LogVerifier::parse(&public).unwrap(), *store.verifier());
    store.append(&entry(0)).unwrap();
    drop(store);
    // Same identity on restart.
    let again = LogStore::open_data_dir(&data, Some(ORIGIN)).unwrap();
    assert_eq!(again.verifier().to_string() + "\n", public);
    assert_eq!(again.size().unwrap(), 1);
    drop(again);
    // No origin configured: the key's own name, whatever the default would be.
    assert_eq!(load_or_create_signer(&data, None).unwrap().name(), ORIGIN);
    // Another origin with this key is refused.
    assert!(matches!(
        load_or_create_signer(&data, Some("other.test/log")),
        Err(StoreError::OriginMismatch { .. })
    ));
    // A world-readable key is refused.
    std::fs::set_permissions(
        data.join(LOG_KEY_FILE),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert!(matches!(
        load_or_create_signer(&data, Some(ORIGIN)),
        Err(StoreError::KeyPermissions { mode: 0o644, .. })
    ));
    // A lost key is not silently replaced while log.pub names the old identity.
    std::fs::remove_file(data.join(LOG_KEY_FILE)).unwrap();
    assert!(matches!(
        load_or_create_signer(&data, Some(ORIGIN)),
        Err(StoreError::MissingKey { .. })
    ));
}

#[test]
fn new_logs_without_a_configured_origin_get_names_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let a = load_or_create_signer(&dir.path().join("a"), None).unwrap();
    let b = load_or_create_signer(&dir.path().join("b"), None).unwrap();
    assert_ne!(a.name(), b.name());
    assert!(a.name().contains("/credence/"), "{}", a.name());
}

#[test]
fn export_is_audited_by_the_verifier_crate_and_tampering_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(LOG_DB_FILE);
    let store = LogStore::open(&db, signer(1)).unwrap();
    for i in 0..12 {
        store.append(&entry(i)).unwrap();
    }
    let out = dir.path().join("export.json");
    assert_eq!(store.export(&out).unwrap(), 12);
    let verifier = store.verifier().clone();
    drop(store);
    // The read-only export (no key needed) is byte-identical.
    let out2 = dir.path().join("export2.json");
    assert_eq!(export_db(&db, &out2).unwrap(), 12);
    let text = std::fs::read(&out).unwrap();
    assert_eq!(text, std::fs::read(&out2).unwrap());

    let export = LogExport::from_json(&text).unwrap();
    assert_eq!(export.checkpoints.len(), 13); // sizes 0..=12
    let report = export.audit(&verifier, None, |_, _, _| Ok(())).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.entries_read, 12);

    // One byte of entry 6 changed in the database, hash column fixed up to match: the
    // auditor still pinpoints entry 6 from the per-append checkpoints.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut bytes: Vec<u8> = conn
        .query_row("SELECT bytes FROM log_entries WHERE idx = 6", [], |r| {
            r.get(0)
        })
        .unwrap();
    let pos = bytes.iter().position(|b| *b == b'7').unwrap(); // a digit of the time
    bytes[pos] = b'8';
    conn.execute(
        "UPDATE log_entries SET bytes = ?1, leaf_hash = ?2 WHERE idx = 6",
        rusqlite::params![bytes, leaf_hash(&bytes).as_slice()],
    )
    .unwrap();
    export_db(&db, &out2).unwrap();
    let tampered = LogExport::from_json(&std::fs::read(&out2).unwrap()).unwrap();
    let report = tampered.audit(&verifier, None, |_, _, _| Ok(())).unwrap();
    assert_eq!(
        report.problem.as_ref().and_then(AuditProblem::entry_index),
        Some(6),
        "{:?}",
        report.problem
    );
}

/// Environment variable that turns [`crash_child`] into the append loop of the kill test.
const CRASH_DIR_ENV: &str = "CREDENCE_LOG_CRASH_DIR";

/// The child side of [`appends_survive_kill_9`]: appends forever, printing each acknowledged
/// checkpoint on one line. Ignored unless run by that test with the environment variable.
#[test]
#[ignore = "child process of appends_survive_kill_9"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CRASH_DIR_ENV) else {
        return;
    };
    let store = LogStore::open(&std::path::Path::new(&dir).join(LOG_DB_FILE), signer(7)).unwrap();
    let mut i = store.size().unwrap();
    loop {
        let batch: Vec<LogEntry> = (0..1 + i % 3).map(|j| entry(i + j)).collect();
        let range = store.append_batch(&batch).unwrap();
        i = range.end;
        // One write per line; the parent only trusts complete lines.
        let note = store.checkpoint().unwrap();
        println!("ACK {}", note.replace('\n', "|"));
    }
}

#[cfg(unix)]
#[test]
fn appends_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let verifier = signer(7).verifier();
    let mut acked: Vec<(u64, [u8; 32])> = Vec::new();
    for round in 0..4 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "log::tests::crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let mut seen = 0;
        // Kill at a different point each round, while the child is in its append loop.
        let target = 20 + round * 37;
        while seen < target {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let Some(note) = line.strip_prefix("ACK ").and_then(|l| l.strip_suffix('\n')) else {
                continue;
            };
            let cp = verifier
                .verify_checkpoint(&note.replace('|', "\n"))
                .unwrap();
            acked.push((cp.size, cp.root));
            seen += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Anything the child printed before dying was acknowledged too.
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
        for l in rest.lines() {
            if let Some(note) = l.strip_prefix("ACK ")
                && let Ok(cp) = verifier.verify_checkpoint(&note.replace('|', "\n"))
            {
                acked.push((cp.size, cp.root));
            }
        }
        assert!(seen > 0, "round {round}: the child acknowledged nothing");

        // Reopen after the kill: consistent, and every acknowledged checkpoint still holds.
        let store = LogStore::open(&dir.path().join(LOG_DB_FILE), signer(7)).unwrap();
        let report = store.fsck().unwrap();
        for (size, root) in &acked {
            assert!(*size <= report.entries, "acknowledged size {size} lost");
            assert_eq!(store.root_at(*size).unwrap(), *root, "root at {size}");
        }
        let latest = verifier
            .verify_checkpoint(&store.checkpoint().unwrap())
            .unwrap();
        assert_eq!(latest.size, report.entries);
        // The whole log audits clean.
        let entries = store.entries(0..latest.size).unwrap();
        let note = store.checkpoint().unwrap();
        let input = AuditInput {
            checkpoint: &note,
            ..AuditInput::default()
        };
        assert!(audit(&verifier, input, &entries, |_, _, _| Ok(())).is_ok());
    }
}

#[test]
fn the_whole_log_is_read_a_chunk_at_a_time_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(LOG_DB_FILE);
    let store = LogStore::open(&db, signer(1)).unwrap();
    store
        .append_batch(&(0..10).map(entry).collect::<Vec<_>>())
        .unwrap();
    drop(store);
    let mut sqlite = super::db::sqlite::SqliteLogDb {
        conn: rusqlite::Connection::open(&db).unwrap(),
    };
    for (upto, chunk, want) in [
        (None, 3, 10),
        (None, 10, 10),
        (None, 64, 10),
        (Some(7), 3, 7),
    ] {
        let mut seen = Vec::new();
        super::store::for_each_entry(&mut sqlite, upto, chunk, |e| {
            seen.push(e.idx);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (0..want).collect::<Vec<_>>(), "{upto:?} by {chunk}");
    }
}
