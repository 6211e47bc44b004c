//! The leaf table against the independent protocol vectors (circomlibjs), and the log check.

use super::*;
use crate::log::{LogEntry, LogEvent};

const VECTORS: &str = include_str!("../../../circuits/testdata/protocol-v1.json");

fn vectors() -> serde_json::Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn s(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The protocol vectors' snapshot as a leaf table.
fn vector_table() -> LeafTable {
    let v = vectors();
    let rows = v["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let who = c["contributor"].as_str().unwrap();
            LeafRow {
                index: s(&c["leaf_index"]),
                contributor_id: s(&v["contributors"][who]["contributor_id"]),
                commitment: s(&c["commitment"]),
                weight: s(&c["weight"]),
            }
        })
        .collect();
    LeafTable {
        epoch: s(&v["snapshot"]["epoch"]),
        depth: v["snapshot"]["depth"].as_u64().unwrap() as u32,
        leaves: rows,
    }
}

#[test]
fn root_and_total_match_the_protocol_vectors() {
    let v = vectors();
    let table = vector_table();
    assert_eq!(table.leaves.len(), 5, "the vectors list five contributions");
    let (root, total) = snapshot_root(&table.decode().unwrap()).unwrap();
    assert_eq!(fr_to_decimal(&root), s(&v["snapshot"]["root"]));
    assert_eq!(total.to_string(), s(&v["snapshot"]["total_weight"]));

    // Order does not matter.
    let mut reversed = table.clone();
    reversed.leaves.reverse();
    let (root2, _) = snapshot_root(&reversed.decode().unwrap()).unwrap();
    assert_eq!(root, root2);

    // Dropping the zero-weight leaf changes the root but not the total: it is a real leaf.
    let mut without = table.clone();
    without.leaves.retain(|l| l.weight != "0");
    let (root3, total3) = snapshot_root(&without.decode().unwrap()).unwrap();
    assert_ne!(root3, root);
    assert_eq!(total3, total);
}

#[test]
fn empty_tree_is_the_empty_subtree_vector() {
    let v = vectors();
    let empty = v["empty_subtrees"].as_array().unwrap();
    for e in empty {
        let level = e["level"].as_u64().unwrap() as u32;
        if level < MIN_DEPTH {
            continue;
        }
        let table = LeafTable::new(1, level, &[]);
        let (root, total) = snapshot_root(&table.decode().unwrap()).unwrap();
        assert_eq!(fr_to_decimal(&root), s(&e["hash"]), "level {level}");
        assert_eq!(total, 0);
    }
}

#[test]
fn registration_hash_is_poseidon_of_two() {
    let v = vectors();
    let two = &v["poseidon"][1];
    assert_eq!(two["inputs"], serde_json::json!(["1", "2"]));
    let h = registration_hash(&Fr::from(1u64), &Fr::from(2u64));
    assert_eq!(fr_to_decimal(&h), s(&two["hash"]));
}

#[test]
fn malformed_tables_are_refused() {
    let base = vector_table();
    let with = |f: &dyn Fn(&mut LeafTable)| {
        let mut t = base.clone();
        f(&mut t);
        t.decode()
    };
    assert!(matches!(
        with(&|t| t.depth = 3),
        Err(LeafTableError::Depth(3))
    ));
    assert!(matches!(
        with(&|t| t.depth = 33),
        Err(LeafTableError::Depth(33))
    ));
    assert!(matches!(
        with(&|t| t.leaves[1].index = "16".into()),
        Err(LeafTableError::IndexOutOfRange {
            index: 16,
            depth: 4
        })
    ));
    assert!(matches!(
        with(&|t| t.leaves[1].index = t.leaves[0].index.clone()),
        Err(LeafTableError::DuplicateIndex(0))
    ));
    assert!(matches!(
        with(&|t| t.leaves[0].weight = "07".into()),
        Err(LeafTableError::Value(_))
    ));
    assert!(matches!(
        with(&|t| t.epoch = "-1".into()),
        Err(LeafTableError::Value(_))
    ));
    // r itself is not a field element.
    let r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    assert!(matches!(
        with(&|t| t.leaves[0].commitment = r.into()),
        Err(LeafTableError::Value(_))
    ));
    assert!(matches!(
        with(&|t| {
            t.leaves[0].weight = u64::MAX.to_string();
        }),
        Err(LeafTableError::TotalOverflow)
    ));
    // Unknown fields are refused.
    assert!(LeafTable::from_json(br#"{"epoch":"1","depth":4,"leaves":[],"extra":1}"#).is_err());
    // Round trip.
    let json = base.to_json().unwrap();
    assert_eq!(LeafTable::from_json(json.as_bytes()).unwrap(), base);
}

fn entry(event: LogEvent) -> LogEntry {
    LogEntry {
        time: 1,
        tenant: "t".into(),
        event,
    }
}

fn registrations(table: &LeafTable) -> Vec<LogEntry> {
    table
        .decode()
        .unwrap()
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
        .collect()
}

fn snapshot(table: &LeafTable, root: &str, total: &str) -> LogEntry {
    entry(LogEvent::Snapshot {
        epoch: table.epoch.parse().unwrap(),
        depth: table.depth,
        root: root.into(),
        total_weight: total.into(),
        revenue: "1000000".into(),
    })
}

fn run(table: &LeafTable, log: &[LogEntry]) -> Result<LeafSummary, LeafProblem> {
    let mut check = LeafCheck::new(table).unwrap();
    for (i, e) in log.iter().enumerate() {
        check.observe(i as u64, e)?;
    }
    check.finish()
}

#[test]
fn log_check_accepts_registrations_before_the_snapshot() {
    let v = vectors();
    let table = vector_table();
    let (root, total) = (s(&v["snapshot"]["root"]), s(&v["snapshot"]["total_weight"]));
    let mut log = registrations(&table);
    // Unrelated entries around it: another epoch's snapshot, another registration.
    log.insert(
        1,
        entry(LogEvent::Snapshot {
            epoch: 99,
            depth: 4,
            root: "1".into(),
            total_weight: "1".into(),
            revenue: "1".into(),
        }),
    );
    log.push(snapshot(&table, &root, &total));
    let summary = run(&table, &log).unwrap();
    assert_eq!(summary.snapshot_entry, log.len() as u64 - 1);
    assert_eq!(summary.leaves, 5);
    assert_eq!(summary.total_weight, 6246);
}

#[test]
fn log_check_failures_name_the_snapshot_entry() {
    let v = vectors();
    let table = vector_table();
    let (root, total) = (s(&v["snapshot"]["root"]), s(&v["snapshot"]["total_weight"]));
    let regs = registrations(&table);

    // A registration after the snapshot does not count.
    let mut log = regs.clone();
    let late = log.remove(2);
    log.push(snapshot(&table, &root, &total));
    log.push(late);
    let err = run(&table, &log).unwrap_err();
    assert!(
        matches!(
            err,
            LeafProblem::Unregistered {
                entry: 4,
                leaf_index: 5,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.entry_index(), Some(4));

    // A registration of the right leaf index with another hash does not count.
    let mut log = regs.clone();
    if let LogEvent::Registration {
        registration_hash, ..
    } = &mut log[0].event
    {
        *registration_hash = "12345".into();
    }
    log.push(snapshot(&table, &root, &total));
    assert!(matches!(
        run(&table, &log),
        Err(LeafProblem::Unregistered {
            entry: 5,
            leaf_index: 0,
            ..
        })
    ));

    // A snapshot of the epoch with another root or total: mismatch, with its index.
    for (r, t, what) in [
        ("1", total.as_str(), "root"),
        (root.as_str(), "6245", "total_weight"),
    ] {
        let mut log = regs.clone();
        log.push(snapshot(&table, r, t));
        match run(&table, &log) {
            Err(LeafProblem::SnapshotMismatch {
                entry: 5, what: w, ..
            }) => assert_eq!(w, what),
            other => panic!("{other:?}"),
        }
    }

    // No snapshot of the epoch at all.
    assert!(matches!(
        run(&table, &regs),
        Err(LeafProblem::NoSnapshot { epoch: 3 })
    ));
}
