//! The files an operator hands on with a snapshot, through the `credence` command line:
//! `snapshot show --out` (from any server) and `snapshot export` (from the operator's data
//! directory) write the published `snapshot.json`; `export --leaves` writes the leaf table that
//! an auditor checks against the compliance log, and refuses to write one that the database
//! contradicts.

use std::path::Path;

use credence_proto::v1 as pb;
use credence_tests::{TestServer, credence_cli, standard_setup};
use credence_verifier::leaves::{LeafCheck, LeafTable};
use credence_verifier::log::{LogExport, LogVerifier};
use credence_verifier::settlement::Snapshot;

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_export_write_the_published_snapshot_and_an_auditable_leaf_table() {
    let (server, data) = TestServer::fresh().await;
    standard_setup(&server).await;
    let published = server
        .datanet()
        .await
        .get_snapshot(pb::GetSnapshotRequest { epoch: Some(1) })
        .await
        .unwrap()
        .into_inner();
    let published = credence_server::cli::snapshot::from_pb(&published).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (shown, exported, leaves) = (
        out.path().join("shown.json"),
        out.path().join("snapshot.json"),
        out.path().join("leaves.json"),
    );

    let url = format!("http://{}", server.addr);
    let show = ["snapshot", "show", "--server", &url, "--out", &s(&shown)];
    assert_eq!(credence_cli(&show).await, Ok(0));
    let export = [
        "snapshot",
        "export",
        "--data-dir",
        &s(data.path()),
        "--epoch",
        "1",
        "--snapshot",
        &s(&exported),
        "--leaves",
        &s(&leaves),
    ];
    assert_eq!(credence_cli(&export).await, Ok(0));
    for f in [&shown, &exported] {
        let read = Snapshot::from_json(&std::fs::read_to_string(f).unwrap()).unwrap();
        assert_eq!(read, published, "{}", f.display());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&leaves).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the leaf table says whose each leaf is");
    }

    // An auditor checks the table against the server's log: the snapshot's root and total, and
    // a registration before the snapshot for each of the three leaves.
    let table = LeafTable::from_json(&std::fs::read(&leaves).unwrap()).unwrap();
    assert_eq!(table.leaves.len(), 3);
    server.stop().await;
    let log_export = out.path().join("log-export.json");
    credence_server::log::export_db(
        &data.path().join(credence_server::log::LOG_DB_FILE),
        &log_export,
    )
    .unwrap();
    let key = LogVerifier::parse(
        std::fs::read_to_string(data.path().join(credence_server::log::LOG_PUB_FILE))
            .unwrap()
            .trim_end(),
    )
    .unwrap();
    let export = LogExport::from_json(&std::fs::read(&log_export).unwrap()).unwrap();
    let mut check = LeafCheck::new(&table).unwrap();
    let audit = export
        .audit(&key, None, |index, entry, _| {
            check.observe(index, entry).map_err(|e| e.to_string())
        })
        .unwrap();
    assert!(audit.problem.is_none(), "{:?}", audit.problem);
    assert_eq!(check.finish().unwrap().leaves, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_refuses_what_it_cannot_stand_behind_and_writes_nothing() {
    let (server, data) = TestServer::fresh().await;
    standard_setup(&server).await;
    server.stop().await;
    let out = tempfile::tempdir().unwrap();
    let (snapshot, leaves) = (out.path().join("s.json"), out.path().join("l.json"));
    let export = |dir: &Path, epoch: &str| {
        [
            "snapshot".to_owned(),
            "export".into(),
            "--data-dir".into(),
            s(dir),
            "--epoch".into(),
            epoch.into(),
            "--snapshot".into(),
            s(&snapshot),
            "--leaves".into(),
            s(&leaves),
        ]
    };
    let run = |args: [String; 10]| async move {
        credence_cli(&args.iter().map(String::as_str).collect::<Vec<_>>()).await
    };

    let e = run(export(data.path(), "9")).await.unwrap_err();
    assert!(e.contains("no snapshot of epoch 9"), "{e}");

    // A mistyped data directory is an error, and no empty database appears there.
    let empty = tempfile::tempdir().unwrap();
    let e = run(export(empty.path(), "1")).await.unwrap_err();
    assert!(e.contains("no database here"), "{e}");
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);

    // A stored leaf whose weight no longer matches the stored root: nothing is written.
    let db = rusqlite::Connection::open(data.path().join("credence.db")).unwrap();
    db.execute(
        "UPDATE snapshot_leaves SET weight = weight + 1 WHERE epoch = 1 AND leaf_index = 0",
        [],
    )
    .unwrap();
    drop(db);
    let e = run(export(data.path(), "1")).await.unwrap_err();
    assert!(e.contains("damaged; nothing was written"), "{e}");
    assert!(!snapshot.exists() && !leaves.exists());

    let e = credence_cli(&["snapshot", "export", "--data-dir", "x"])
        .await
        .unwrap_err();
    assert!(e.contains("required"), "{e}");
}
