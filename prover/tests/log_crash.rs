//! Crash safety of the compliance log: the `credence` binary is killed with SIGKILL
//! while registrations are being appended, three times; after every kill the log on disk passes
//! `fsck` (every entry hashes to its leaf, every stored checkpoint is signed and matches), and a
//! restarted server serves a log that passes the auditor's full check over gRPC and as an export,
//! and holds every registration that was acknowledged before the kill. The contributions in the
//! database are exactly the logged registrations: a leaf and its entry commit together.
//! Eight writers keep the log's batches full, so the kills land in batched appends.
//!
//! Twice: with the state and log in SQLite (`credence.db`), and in PostgreSQL (a schema of its
//! own; the PostgreSQL half skips when no server answers, except under `CI`).
//!
//! (This lives in the prover crate because only here does Cargo hand a test the `credence`
//! binary, `CARGO_BIN_EXE_credence`.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ark_bn254::Fr;
use credence_proto::v1 as pb;
use credence_server::log::{LOG_DB_FILE, LogStore, export_db, export_postgres};
use credence_server::store::PgStore;
use credence_server::store::postgres::ScratchSchema;
use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::log::remote::audit_server;
use credence_verifier::log::{LogEvent, LogExport, LogVerifier};
use tokio::sync::Mutex;

mod common;
use common::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_credence");

struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `credence serve` on a fresh loopback port and waits until it accepts calls.
    /// Depth 12: the datanet's depth follows the shape, and the writers register a few hundred
    /// leaves (a depth-4 tree holds 16).
    async fn start(dir: &Path, database: Option<&str>) -> Server {
        let port = free_port();
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--data-dir"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--shape", "1,12"])
            .env_remove("CREDENCE_DATABASE");
        if let Some(url) = database {
            command.args(["--database", url]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn credence serve");
        let mut server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("credence serve exited: {status}");
            }
            if let Ok(mut c) =
                pb::audit_log_client::AuditLogClient::connect(server.url.clone()).await
                && c.get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 })
                    .await
                    .is_ok()
            {
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown path runs.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers distinct contributions from `writers` concurrent clients until `stop`; returns
/// the leaf indices the server acknowledged.
async fn hammer(
    url: String,
    round: u64,
    writers: u64,
    acked: Arc<Mutex<BTreeSet<u64>>>,
    stop: Arc<AtomicBool>,
) {
    let mut tasks = Vec::new();
    for w in 0..writers {
        let url = url.clone();
        let acked = acked.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(mut client) = pb::datanet_client::DatanetClient::connect(url).await else {
                return;
            };
            for i in 0u64.. {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let n = (round << 40) | (w << 32) | i;
                let req = pb::RegisterRequest {
                    contributor_id: fr_to_decimal(&Fr::from(n + 1)),
                    commitment: fr_to_decimal(&Fr::from(n + 1_000_000_007)),
                };
                match client.register(req).await {
                    Ok(r) => {
                        acked.lock().await.insert(r.into_inner().leaf_index);
                    }
                    // The server was killed under us.
                    Err(_) => return,
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_append_leaves_an_auditable_log() {
    kill_mid_append(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_server_on_postgres_mid_append_leaves_an_auditable_log() {
    // The postgres client blocks: off the async threads.
    let schema = tokio::task::spawn_blocking(|| ScratchSchema::for_test("log_crash"))
        .await
        .unwrap();
    if let Some(schema) = schema {
        kill_mid_append(Some(schema.url())).await;
    }
}

/// The log as the killed server left it, checked entry by entry and checkpoint by checkpoint.
async fn fsck(dir: &Path, database: Option<&str>) -> u64 {
    let (dir, database) = (dir.to_owned(), database.map(str::to_owned));
    tokio::task::spawn_blocking(move || {
        let store = match database {
            None => LogStore::open_data_dir(&dir, None).unwrap(),
            Some(url) => LogStore::open_postgres(
                PgStore::log_connection(&url).unwrap(),
                credence_server::log::load_or_create_signer(&dir, None).unwrap(),
            )
            .unwrap(),
        };
        store.fsck().unwrap().entries
    })
    .await
    .unwrap()
}

/// The leaves the database holds.
async fn registered(dir: &Path, database: Option<&str>) -> BTreeSet<u64> {
    let (dir, database) = (dir.to_owned(), database.map(str::to_owned));
    tokio::task::spawn_blocking(move || match database {
        None => {
            let conn = rusqlite::Connection::open_with_flags(
                dir.join(LOG_DB_FILE),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap();
            let mut stmt = conn
                .prepare("SELECT leaf_index FROM contributions")
                .unwrap();
            stmt.query_map([], |r| r.get::<_, i64>(0))
                .unwrap()
                .map(|i| i.unwrap() as u64)
                .collect()
        }
        Some(url) => PgStore::log_connection(&url)
            .unwrap()
            .query("SELECT leaf_index FROM contributions", &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect(),
    })
    .await
    .unwrap()
}

/// The whole log as an export file.
async fn export(dir: &Path, database: Option<&str>) -> LogExport {
    let (dir, database) = (dir.to_owned(), database.map(str::to_owned));
    tokio::task::spawn_blocking(move || {
        let out = dir.join("export.json");
        match database {
            None => export_db(&dir.join(LOG_DB_FILE), &out).unwrap(),
            Some(url) => export_postgres(PgStore::log_connection(&url).unwrap(), &out).unwrap(),
        };
        LogExport::from_json(&std::fs::read(&out).unwrap()).unwrap()
    })
    .await
    .unwrap()
}

async fn kill_mid_append(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    for round in 0..3u64 {
        let server = Server::start(dir.path(), database).await;
        let stop = Arc::new(AtomicBool::new(false));
        let before = acked.lock().await.len();
        let writers = tokio::spawn(hammer(
            server.url.clone(),
            round,
            8,
            acked.clone(),
            stop.clone(),
        ));
        // Kill once some appends were acknowledged, while the writers are still sending.
        let target = before + 10 + 7 * round as usize;
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked.lock().await.len() < target {
            assert!(Instant::now() < deadline, "registrations stalled");
            tokio::time::sleep(Duration::from_millis(5 + 3 * round)).await;
        }
        server.kill();
        stop.store(true, Ordering::Relaxed);
        writers.await.unwrap();

        // The log on disk, as the killed process left it: no torn entry, every checkpoint good
        // (opened under its own name: the server gave the new log one of its own).
        let entries = fsck(dir.path(), database).await;
        assert!(entries >= acked.lock().await.len() as u64);
    }

    // A restarted server serves a log that audits, over gRPC and as an export.
    let server = Server::start(dir.path(), database).await;
    let verifier =
        LogVerifier::parse(&std::fs::read_to_string(dir.path().join("log.pub")).unwrap()).unwrap();
    let url = server.url.clone();
    let v2 = verifier.clone();
    let (report, logged, keys) = tokio::task::spawn_blocking(move || {
        let mut logged = BTreeSet::new();
        let mut keys = 0usize;
        let report = audit_server(&url, &v2, None, |_, e, _| {
            if let LogEvent::Key { .. } = e.event {
                keys += 1;
            }
            if let LogEvent::Registration { leaf_index, .. } = e.event {
                // A leaf index is logged once: a duplicate would be a replayed append.
                if !logged.insert(leaf_index) {
                    return Err(format!("leaf {leaf_index} logged twice"));
                }
            }
            Ok(())
        })
        .unwrap();
        (report, logged, keys)
    })
    .await
    .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    let acked = acked.lock().await.clone();
    assert!(
        acked.is_subset(&logged),
        "acknowledged but not logged: {:?}",
        acked.difference(&logged).collect::<Vec<_>>()
    );

    // State and log commit together: the contributions the database holds are exactly the
    // logged ones (a kill between two separate commits would leave a leaf that no entry logs).
    let registered = registered(dir.path(), database).await;
    assert_eq!(
        registered, logged,
        "registered leaves and logged registrations differ"
    );

    let export = export(dir.path(), database).await;
    let report = export.audit(&verifier, None, |_, _, _| Ok(())).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    // Every entry is a registration, or one of the keys the server introduced once.
    assert_eq!(report.entries_read as usize, logged.len() + keys);
    assert!(keys >= 1, "the key entries");
    server.kill();
}
