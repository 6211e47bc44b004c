//! One storage suite, two backends: every test here runs on SQLite (in a temporary directory)
//! and on PostgreSQL (in a schema of its own, dropped afterwards). The PostgreSQL half skips
//! with a message when no server answers, except under `CI`, where it fails.

use std::sync::Arc;

use ark_bn254::Fr;
use credence_circuits::merkle_sum::SumNode;
use credence_verifier::log::{LogEntry, LogEvent, LogSigner};

use super::postgres::ScratchSchema;
use super::*;
use crate::log::LogStore;

/// Where one test's store lives.
enum Harness {
    Sqlite(tempfile::TempDir),
    Postgres(ScratchSchema),
}

impl Harness {
    fn sqlite() -> Self {
        Harness::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Option<Self> {
        ScratchSchema::for_test("store_test").map(Harness::Postgres)
    }

    /// Opens the store (again: a second call sees what the first wrote).
    fn open(&self) -> Box<dyn Store> {
        match self {
            Harness::Sqlite(dir) => Box::new(SqliteStore::open(dir.path()).unwrap()),
            Harness::Postgres(schema) => Box::new(PgStore::open(schema.url(), 4).unwrap()),
        }
    }

    /// Opens the store with its compliance log in the same database.
    fn open_with_log(&self) -> (Box<dyn Store>, Arc<LogStore>) {
        let signer = LogSigner::from_seed("t/log", &[3; 32]).unwrap();
        match self {
            Harness::Sqlite(dir) => {
                let s = SqliteStore::open(dir.path()).unwrap();
                let log =
                    Arc::new(LogStore::open(&dir.path().join(sqlite::DB_FILE), signer).unwrap());
                (Box::new(s.with_log(log.clone())), log)
            }
            Harness::Postgres(schema) => {
                let s = PgStore::open(schema.url(), 4).unwrap();
                let client = PgStore::log_connection(schema.url()).unwrap();
                let log = Arc::new(LogStore::open_postgres(client, signer).unwrap());
                (Box::new(s.with_log(log.clone())), log)
            }
        }
    }
}

/// Each named test, on each backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $(#[test]
            fn $name() {
                super::$name(&super::Harness::sqlite());
            })*
        }
        mod postgres_backend {
            $(#[test]
            fn $name() {
                if let Some(h) = super::Harness::postgres() {
                    super::$name(&h);
                }
            })*
        }
    };
}

on_both_backends!(
    contributions_are_keyed_by_the_pair,
    registrations_stay_within_the_contributor_and_tenant_quotas,
    a_batch_registers_all_its_pairs_or_none,
    snapshots_are_immutable_and_u64_round_trips,
    snapshot_reads_by_contributor_range_and_node,
    jobs_are_idempotent_move_forward_and_survive_reopen,
    every_write_of_a_job_task_is_fenced_by_its_attempt,
    live_jobs_stay_within_the_queue_and_tenant_quotas,
    a_job_leased_elsewhere_restarts_only_after_its_lease,
    with_a_log_each_new_leaf_and_snapshot_commits_with_its_entry,
);

fn job(id: &str, fp: u8) -> JobRecord {
    JobRecord {
        id: id.into(),
        fingerprint: [fp; 32],
        state: JobState::Queued,
        failure: None,
        circuit_id: "claim-v1-n1-d4".into(),
        epoch: u64::MAX,
        tenant: "t".into(),
        created_at: 1,
        updated_at: 1,
        attempt: 1,
        lease_owner: Some("me".into()),
        lease_until: 100,
    }
}

const NO_QUOTA: RegistrationQuota<'static> = RegistrationQuota {
    tenant: "t",
    per_contributor: u64::MAX,
    per_tenant: u64::MAX,
};

const ROOMY: JobQuota = JobQuota {
    queue: 64,
    per_tenant: 64,
};

const fn lease(owner: &'static str, now: u64) -> Lease<'static> {
    Lease {
        owner,
        now,
        until: now + 30,
    }
}

fn inserted(a: Admitted) -> JobRecord {
    match a {
        Admitted::Inserted(j) | Admitted::Existing(j) => j,
        other => panic!("not admitted: {other:?}"),
    }
}

fn contributions_are_keyed_by_the_pair(h: &Harness) {
    let s = h.open();
    let (a, b, cm) = (Fr::from(1u64), Fr::from(2u64), Fr::from(3u64));
    let q = &NO_QUOTA;
    assert_eq!(s.register(&a, &cm, 2, q).unwrap(), Registered::Created(0));
    assert_eq!(s.register(&b, &cm, 2, q).unwrap(), Registered::Created(1));
    assert_eq!(s.register(&a, &cm, 2, q).unwrap(), Registered::Existing(0));
    assert_eq!(s.register(&a, &b, 2, q).unwrap(), Registered::Full);
    let got = s.contributions(&[1, 5]).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].contributor_id, b);
    // In the order asked.
    let both = s.contributions(&[1, 0]).unwrap();
    assert_eq!(
        both.iter().map(|c| c.leaf_index).collect::<Vec<_>>(),
        [1, 0]
    );
}

fn registrations_stay_within_the_contributor_and_tenant_quotas(h: &Harness) {
    let s = h.open();
    let q = |tenant| RegistrationQuota {
        tenant,
        per_contributor: 2,
        per_tenant: 3,
    };
    let (a, b) = (Fr::from(1u64), Fr::from(2u64));
    let cm = |i: u64| Fr::from(100 + i);
    assert_eq!(
        s.register(&a, &cm(0), 16, &q("x")).unwrap(),
        Registered::Created(0)
    );
    assert_eq!(
        s.register(&a, &cm(1), 16, &q("x")).unwrap(),
        Registered::Created(1)
    );
    assert_eq!(
        s.register(&a, &cm(2), 16, &q("x")).unwrap(),
        Registered::Quota(QuotaLimit::Contributor(2))
    );
    // An existing pair is answered whatever the quota.
    assert_eq!(
        s.register(&a, &cm(1), 16, &q("x")).unwrap(),
        Registered::Existing(1)
    );
    assert_eq!(
        s.register(&b, &cm(3), 16, &q("x")).unwrap(),
        Registered::Created(2)
    );
    assert_eq!(
        s.register(&b, &cm(4), 16, &q("x")).unwrap(),
        Registered::Quota(QuotaLimit::Tenant(3))
    );
    // Another tenant has its own quota; the refused registrations took no leaf.
    assert_eq!(
        s.register(&b, &cm(4), 16, &q("y")).unwrap(),
        Registered::Created(3)
    );
}

fn a_batch_registers_all_its_pairs_or_none(h: &Harness) {
    let s = h.open();
    let q = RegistrationQuota {
        tenant: "x",
        per_contributor: 3,
        per_tenant: u64::MAX,
    };
    let (a, b) = (Fr::from(1u64), Fr::from(2u64));
    let cm = |i: u64| Fr::from(100 + i);
    assert_eq!(
        s.register_batch(&[(a, cm(0)), (b, cm(0)), (a, cm(0))], 16, &q)
            .unwrap(),
        vec![
            Registered::Created(0),
            Registered::Created(1),
            Registered::Existing(0)
        ]
    );
    // The fourth of a's contributions is over its quota: the batch stops there and the
    // two before it are not written either.
    let over = [(a, cm(1)), (b, cm(1)), (a, cm(2)), (a, cm(3))];
    assert_eq!(
        s.register_batch(&over, 16, &q).unwrap(),
        vec![
            Registered::Created(2),
            Registered::Created(3),
            Registered::Created(4),
            Registered::Quota(QuotaLimit::Contributor(3))
        ]
    );
    assert_eq!(s.contributions(&[2, 3, 4]).unwrap(), vec![]);
    // Without the refused pair the same batch takes the same leaves, and a full tree
    // refuses the pair that does not fit.
    assert_eq!(
        s.register_batch(&over[..3], 16, &q).unwrap(),
        vec![
            Registered::Created(2),
            Registered::Created(3),
            Registered::Created(4)
        ]
    );
    assert_eq!(
        s.register_batch(&[(Fr::from(3u64), cm(7)), (Fr::from(3u64), cm(8))], 6, &q)
            .unwrap(),
        vec![Registered::Created(5), Registered::Full]
    );
    assert_eq!(s.contributions(&[5]).unwrap(), vec![]);
}

fn snapshot(epoch: u64) -> SnapshotRecord {
    SnapshotRecord {
        epoch,
        depth: 4,
        root: Fr::from(9u64),
        total_weight: u64::MAX,
        revenue: 7,
        leaf_count: 1,
    }
}

fn snapshots_are_immutable_and_u64_round_trips(h: &Harness) {
    let s = h.open();
    let snap = snapshot(u64::MAX);
    let leaves = vec![SnapshotLeaf {
        leaf_index: 0,
        contributor_id: Fr::from(1u64),
        commitment: Fr::from(2u64),
        weight: u64::MAX,
    }];
    assert_eq!(
        s.publish_snapshot("op", &snap, &leaves, &[]).unwrap(),
        Published::Created
    );
    assert_eq!(
        s.publish_snapshot("op", &snap, &leaves, &[]).unwrap(),
        Published::Identical
    );
    let mut other = leaves.clone();
    other[0].weight = 1;
    assert_eq!(
        s.publish_snapshot("op", &snap, &other, &[]).unwrap(),
        Published::Conflict
    );
    assert_eq!(s.snapshot(None).unwrap().unwrap(), snap);
    assert_eq!(s.snapshot_leaves(u64::MAX).unwrap(), leaves);
    // The latest is the one published last, not the largest epoch.
    s.publish_snapshot("op", &snapshot(3), &leaves, &[])
        .unwrap();
    assert_eq!(s.snapshot(None).unwrap().unwrap().epoch, 3);
    assert_eq!(s.snapshot(Some(4)).unwrap(), None);
}

fn snapshot_reads_by_contributor_range_and_node(h: &Harness) {
    let s = h.open();
    let leaf = |i: u64, id: u64| SnapshotLeaf {
        leaf_index: i,
        contributor_id: Fr::from(id),
        commitment: Fr::from(1000 + i),
        weight: i + 1,
    };
    let leaves: Vec<_> = (0..40).map(|i| leaf(i, i % 3)).collect();
    let nodes: Vec<StoredNode> = (0..3)
        .map(|i| StoredNode {
            level: STORED_FROM_LEVEL,
            index: i,
            node: SumNode {
                hash: Fr::from(77 + i),
                sum: u64::MAX - i,
            },
        })
        .collect();
    s.publish_snapshot("op", &snapshot(1), &leaves, &nodes)
        .unwrap();
    s.publish_snapshot("op", &snapshot(2), &leaves, &[])
        .unwrap();
    let of = s.snapshot_leaves_of(1, &Fr::from(2u64)).unwrap();
    assert_eq!(
        of.iter().map(|l| l.leaf_index).collect::<Vec<_>>(),
        (0..40).filter(|i| i % 3 == 2).collect::<Vec<_>>()
    );
    assert_eq!(s.snapshot_leaves_in(1, 16..20).unwrap(), leaves[16..20]);
    let got = s
        .snapshot_nodes(1, &[(STORED_FROM_LEVEL, 2), (STORED_FROM_LEVEL, 9), (5, 0)])
        .unwrap()
        .unwrap();
    assert_eq!(got, vec![Some(nodes[2].node), None, None]);
    // A snapshot stored without its nodes says so.
    assert_eq!(
        s.snapshot_nodes(2, &[(STORED_FROM_LEVEL, 0)]).unwrap(),
        None
    );
}

fn jobs_are_idempotent_move_forward_and_survive_reopen(h: &Harness) {
    {
        let s = h.open();
        assert!(matches!(
            s.insert_job(&job("a", 1), &ROOMY).unwrap(),
            Admitted::Inserted(j) if j.id == "a"
        ));
        assert!(matches!(
            s.insert_job(&job("b", 1), &ROOMY).unwrap(),
            Admitted::Existing(j) if j.id == "a"
        ));
        s.insert_job(&job("c", 2), &ROOMY).unwrap();
        s.finish_job("c", 1, "{}", 2).unwrap().unwrap();
        // A terminal job does not move.
        assert!(
            s.advance_job("c", Some(1), JobState::Proving, None, 3)
                .unwrap()
                .is_none()
        );
        assert!(s.finish_job("c", 1, "{}", 3).unwrap().is_none());
        s.advance_job("a", Some(1), JobState::Proving, None, 2)
            .unwrap()
            .unwrap();
    }
    let s = h.open();
    assert_eq!(s.job("a").unwrap().unwrap().state, JobState::Proving);
    // The replica that ran them stops: its running jobs are interrupted, no other's.
    assert_eq!(s.interrupt_jobs_of("someone else", 5).unwrap(), 0);
    assert_eq!(s.interrupt_jobs_of("me", 5).unwrap(), 1);
    let a = s.job("a").unwrap().unwrap();
    assert_eq!(
        (a.state, a.failure.as_deref()),
        (JobState::Failed, Some(INTERRUPTED))
    );
    assert_eq!(s.bundle("c").unwrap().as_deref(), Some("{}"));
    let restarted = s
        .restart_job("a", 1, "claim-v1-n2-d4", &lease("other", 6), &ROOMY)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            restarted.state,
            restarted.attempt,
            restarted.lease_owner.as_deref(),
            restarted.lease_until
        ),
        (JobState::Queued, 2, Some("other"), 36)
    );
    // A done job never restarts; a stale attempt does not restart a job twice.
    assert!(
        s.restart_job("c", 1, "x", &lease("me", 6), &ROOMY)
            .unwrap()
            .is_none()
    );
    assert!(
        s.restart_job("a", 1, "x", &lease("me", 6), &ROOMY)
            .unwrap()
            .is_none()
    );
    assert_eq!(s.job_by_fingerprint(&[1; 32]).unwrap().unwrap().attempt, 2);
}

fn every_write_of_a_job_task_is_fenced_by_its_attempt(h: &Harness) {
    let s = h.open();
    s.insert_job(&job("a", 1), &ROOMY).unwrap();
    // Cancelled, then resubmitted: attempt 2 runs; attempt 1's task lives on.
    s.advance_job("a", None, JobState::Cancelled, Some("cancelled"), 2)
        .unwrap()
        .unwrap();
    s.restart_job("a", 1, "claim-v1-n1-d4", &lease("me", 3), &ROOMY)
        .unwrap()
        .unwrap();
    assert!(
        s.advance_job("a", Some(1), JobState::Proving, None, 4)
            .unwrap()
            .is_none()
    );
    assert!(
        s.advance_job("a", Some(1), JobState::Failed, Some("x"), 4)
            .unwrap()
            .is_none()
    );
    assert!(s.finish_job("a", 1, "{\"old\":1}", 4).unwrap().is_none());
    assert!(s.bundle("a").unwrap().is_none());
    // Attempt 2 writes.
    s.advance_job("a", Some(2), JobState::Proving, None, 5)
        .unwrap()
        .unwrap();
    let done = s.finish_job("a", 2, "{}", 6).unwrap().unwrap();
    assert_eq!((done.state, done.attempt), (JobState::Done, 2));
    assert_eq!(s.bundle("a").unwrap().as_deref(), Some("{}"));
}

fn live_jobs_stay_within_the_queue_and_tenant_quotas(h: &Harness) {
    let s = h.open();
    let quota = JobQuota {
        queue: 3,
        per_tenant: 2,
    };
    let of = |id: &str, fp: u8, tenant: &str| JobRecord {
        tenant: tenant.into(),
        ..job(id, fp)
    };
    inserted(s.insert_job(&of("a", 1, "x"), &quota).unwrap());
    inserted(s.insert_job(&of("b", 2, "x"), &quota).unwrap());
    assert_eq!(
        s.insert_job(&of("c", 3, "x"), &quota).unwrap(),
        Admitted::TenantQuota
    );
    // A resubmission is answered whatever the quota.
    assert!(matches!(
        s.insert_job(&of("z", 1, "x"), &quota).unwrap(),
        Admitted::Existing(j) if j.id == "a"
    ));
    inserted(s.insert_job(&of("d", 4, "y"), &quota).unwrap());
    assert_eq!(
        s.insert_job(&of("e", 5, "y"), &quota).unwrap(),
        Admitted::QueueFull
    );
    assert_eq!(s.job("c").unwrap(), None);
    // An ended job frees its place, and takes one again when it restarts.
    s.finish_job("a", 1, "{}", 2).unwrap().unwrap();
    s.advance_job("b", None, JobState::Cancelled, Some("c"), 2)
        .unwrap()
        .unwrap();
    inserted(s.insert_job(&of("e", 5, "y"), &quota).unwrap());
    inserted(s.insert_job(&of("f", 6, "z"), &quota).unwrap());
    assert!(
        s.restart_job("b", 1, "c", &lease("me", 3), &quota)
            .unwrap()
            .is_none(),
        "the queue is full again: the cancelled job stays cancelled"
    );
}

fn a_job_leased_elsewhere_restarts_only_after_its_lease(h: &Harness) {
    let s = h.open();
    // Replica "a" runs the job; its lease ends at 100 unless renewed.
    let mut j = job("j", 1);
    j.lease_owner = Some("a".into());
    inserted(s.insert_job(&j, &ROOMY).unwrap());
    s.advance_job("j", Some(1), JobState::Proving, None, 10)
        .unwrap()
        .unwrap();
    let stored = s.job("j").unwrap().unwrap();
    assert!(!restartable(&stored, 1, &lease("b", 50)));
    assert!(
        s.restart_job("j", 1, "c", &lease("b", 50), &ROOMY)
            .unwrap()
            .is_none()
    );
    // Renewed by its replica (only its own lease, only its attempt), it lives on.
    s.renew_leases("b", &[("j".into(), 1)], 1_000).unwrap();
    s.renew_leases("a", &[("j".into(), 2)], 1_000).unwrap();
    assert_eq!(s.job("j").unwrap().unwrap().lease_until, 100);
    s.renew_leases("a", &[("j".into(), 1)], 200).unwrap();
    assert_eq!(s.job("j").unwrap().unwrap().lease_until, 200);
    assert_eq!(s.interrupt_expired_jobs(150).unwrap(), 0);
    // Unrenewed past its lease, the job is swept: interrupted, for a resubmission to restart.
    assert_eq!(s.interrupt_expired_jobs(201).unwrap(), 1);
    let swept = s.job("j").unwrap().unwrap();
    assert_eq!(
        (swept.state, swept.failure.as_deref()),
        (JobState::Failed, Some(INTERRUPTED))
    );
    let taken = s
        .restart_job("j", 1, "c", &lease("b", 202), &ROOMY)
        .unwrap()
        .unwrap();
    assert_eq!(
        (taken.attempt, taken.lease_owner.as_deref()),
        (2, Some("b"))
    );
    // The old replica's writes are fenced out.
    assert!(
        s.advance_job("j", Some(1), JobState::Verifying, None, 203)
            .unwrap()
            .is_none()
    );
    // A running job whose lease lapsed (before any sweep) may be taken over at once.
    let mut k = job("k", 2);
    k.lease_owner = Some("a".into());
    inserted(s.insert_job(&k, &ROOMY).unwrap());
    assert!(
        s.restart_job("k", 1, "c", &lease("b", 101), &ROOMY)
            .unwrap()
            .is_some()
    );
}

fn with_a_log_each_new_leaf_and_snapshot_commits_with_its_entry(h: &Harness) {
    let (s, log) = h.open_with_log();
    let (a, cm) = (Fr::from(1u64), Fr::from(9u64));
    let q = RegistrationQuota {
        tenant: "hospital-a",
        per_contributor: 1,
        per_tenant: u64::MAX,
    };
    assert_eq!(s.register(&a, &cm, 16, &q).unwrap(), Registered::Created(0));
    // Existing and refused registrations log nothing.
    assert_eq!(
        s.register(&a, &cm, 16, &q).unwrap(),
        Registered::Existing(0)
    );
    assert_eq!(
        s.register(&a, &Fr::from(10u64), 16, &q).unwrap(),
        Registered::Quota(QuotaLimit::Contributor(1))
    );
    assert_eq!(log.size().unwrap(), 1);
    let snap = SnapshotRecord {
        epoch: 7,
        depth: 4,
        root: Fr::from(5u64),
        total_weight: 3,
        revenue: 10,
        leaf_count: 1,
    };
    let leaves = [SnapshotLeaf {
        leaf_index: 0,
        contributor_id: a,
        commitment: cm,
        weight: 3,
    }];
    assert_eq!(
        s.publish_snapshot("operator", &snap, &leaves, &[]).unwrap(),
        Published::Created
    );
    assert_eq!(
        s.publish_snapshot("operator", &snap, &leaves, &[]).unwrap(),
        Published::Identical
    );
    let entries = log.entries(0..log.size().unwrap()).unwrap();
    let events: Vec<_> = entries
        .iter()
        .map(|b| LogEntry::from_bytes(b).unwrap())
        .collect();
    assert!(
        matches!(
            events[..],
            [
                LogEntry {
                    event: LogEvent::Registration { leaf_index: 0, .. },
                    ..
                },
                LogEntry {
                    event: LogEvent::Snapshot { epoch: 7, .. },
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    assert_eq!(events[0].tenant, "hospital-a");
    let report = log.fsck().unwrap();
    assert_eq!(report.entries, 2);
}

#[test]
fn a_postgres_schema_newer_than_the_server_is_refused() {
    let Some(schema) = ScratchSchema::for_test("store_test") else {
        return;
    };
    drop(PgStore::open(schema.url(), 1).unwrap());
    let mut c = PgStore::log_connection(schema.url()).unwrap();
    let v: i32 = c
        .query_one("SELECT version FROM credence_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(v as usize, postgres::MIGRATIONS.len());
    c.execute("UPDATE credence_schema SET version = version + 1", &[])
        .unwrap();
    let err = PgStore::open(schema.url(), 1).unwrap_err().to_string();
    assert!(err.contains("newer than this server"), "{err}");
}

#[test]
fn a_postgres_url_asking_for_tls_is_refused_with_the_reason() {
    let err = PgStore::open("postgres://u:hunter2@127.0.0.1/x?sslmode=require", 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sslmode=require") && err.contains("TLS"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let check = crate::config::DatabaseUrl("postgres://127.0.0.1/x?sslmode=require".into()).check();
    assert!(check.is_err());
}

#[test]
fn a_postgres_url_that_does_not_answer_is_named_without_its_password() {
    let err = PgStore::open("postgres://u:hunter2@127.0.0.1:1/x", 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not answer"), "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// Two replicas on one PostgreSQL register at once, each from several threads: every
/// contribution gets its own leaf with no gap, is logged exactly once, and every checkpoint
/// either replica signed is consistent with every earlier one (the export audits clean, with
/// each checkpoint in its history).
#[test]
fn two_replicas_registering_at_once_leave_no_gap_no_duplicate_and_one_log() {
    let Some(schema) = ScratchSchema::for_test("store_test") else {
        return;
    };
    let h = Harness::Postgres(schema);
    let replicas: Vec<(Arc<dyn Store>, Arc<LogStore>)> = (0..2)
        .map(|_| {
            let (s, log) = h.open_with_log();
            (Arc::from(s), log)
        })
        .collect();
    const THREADS: u64 = 3;
    const BATCHES: u64 = 12;
    const PER_BATCH: u64 = 8;
    let workers: Vec<_> = (0..2 * THREADS)
        .map(|w| {
            let store = replicas[(w % 2) as usize].0.clone();
            std::thread::spawn(move || {
                for b in 0..BATCHES {
                    let pairs: Vec<(Fr, Fr)> = (0..PER_BATCH)
                        .map(|i| (Fr::from(w + 1), Fr::from((b * PER_BATCH + i) * 100 + w)))
                        .collect();
                    let out = store.register_batch(&pairs, 1 << 20, &NO_QUOTA).unwrap();
                    assert!(out.iter().all(|r| matches!(r, Registered::Created(_))));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let n = 2 * THREADS * BATCHES * PER_BATCH;
    let (store, log_a) = &replicas[0];
    let all: Vec<u64> = (0..n).collect();
    let found = store.contributions(&all).unwrap();
    assert_eq!(
        found.iter().map(|c| c.leaf_index).collect::<Vec<_>>(),
        all,
        "leaves 0..{n}, none missing"
    );
    let mut pairs: Vec<_> = found
        .iter()
        .map(|c| (c.contributor_id, c.commitment))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    assert_eq!(pairs.len() as u64, n, "no pair at two leaves");

    // Both replicas serve the same log: every leaf logged once.
    let log_b = &replicas[1].1;
    assert_eq!(log_a.size().unwrap(), n);
    assert_eq!(log_b.checkpoint().unwrap(), log_a.checkpoint().unwrap());
    let mut logged: Vec<u64> = log_b
        .entries(0..n)
        .unwrap()
        .iter()
        .map(|b| match LogEntry::from_bytes(b).unwrap().event {
            LogEvent::Registration { leaf_index, .. } => leaf_index,
            other => panic!("{other:?}"),
        })
        .collect();
    logged.sort_unstable();
    assert_eq!(logged, all);

    // Every checkpoint signed by either replica is consistent with every earlier one.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("log.json");
    log_b.export(&out).unwrap();
    let export: credence_verifier::log::LogExport =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(
        export.checkpoints.len() > 2,
        "batches of both replicas were checkpointed"
    );
    let report = export
        .audit(log_a.verifier(), None, |_, _, _| Ok(()))
        .unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
    // The latest checkpoint, then each of the history (the latest among them).
    assert_eq!(report.checkpoints_verified, 1 + export.checkpoints.len());
    let sizes: Vec<u64> = export
        .checkpoints
        .iter()
        .map(|note| log_a.verifier().verify_checkpoint(note).unwrap().size)
        .collect();
    for pair in sizes.windows(2) {
        let proof = log_a.consistency_proof(pair[0], pair[1]).unwrap();
        credence_verifier::log::verify_consistency(
            pair[0],
            pair[1],
            &log_b.root_at(pair[0]).unwrap(),
            &log_b.root_at(pair[1]).unwrap(),
            &proof,
        )
        .unwrap();
    }
    assert_eq!(log_a.fsck().unwrap().entries, n);
}

#[test]
fn a_replica_with_another_setting_than_the_first_is_refused() {
    let Some(schema) = ScratchSchema::for_test("store_test") else {
        return;
    };
    let first = PgStore::open(schema.url(), 1).unwrap();
    first
        .bind_meta("idempotency_key_check", "aaaa", "differs")
        .unwrap();
    let second = PgStore::open(schema.url(), 1).unwrap();
    // The same setting again is fine; another is refused with the message given.
    second
        .bind_meta("idempotency_key_check", "aaaa", "differs")
        .unwrap();
    let err = second
        .bind_meta("idempotency_key_check", "bbbb", "idempotency.key differs")
        .unwrap_err()
        .to_string();
    assert!(err.contains("idempotency.key differs"), "{err}");
}
