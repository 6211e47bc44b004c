//! The compliance log end to end: every registration, snapshot, issued claim and
//! verification verdict of a real flow is logged; the issued bundle carries its inclusion, which
//! passes exactly the check `credence-verify inclusion` runs; the live log passes the same audit
//! `credence-verify audit --server` runs (with claim proofs re-verified and the operator's leaf
//! table checked against the logged registrations and snapshot); a second run continues from the
//! first run's state; the export matches; and no secret, digest, blinding or commitment is in it.

use std::collections::BTreeMap;

use ark_bn254::Fr;
use credence_circuits::Shape;
use credence_proto::v1 as pb;
use credence_tests::{Contributor, TestServer, standard_setup, vk_bytes, watch};
use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::leaves::{Leaf, LeafCheck, LeafTable};
use credence_verifier::log::remote::audit_server;
use credence_verifier::log::{
    AuditReport, EntryKind, LogEntry, LogExport, LogVerifier, TreeState, check_bundle_inclusion,
};
use credence_verifier::{CircuitId, ClaimBundle, KeyRing, TrustedKey};

fn ring() -> KeyRing {
    let mut ring = KeyRing::new();
    for s in credence_tests::SHAPES {
        let shape: Shape = credence_server::config::parse_shape(s).unwrap();
        let id = CircuitId::new(&shape.circuit_id()).unwrap();
        ring.insert(TrustedKey::from_bytes(id, &vk_bytes(shape)).unwrap())
            .unwrap();
    }
    ring
}

/// The operator's leaf table of `standard_setup`'s snapshot (epoch 1).
fn leaf_table(a: &Contributor, b: &Contributor) -> LeafTable {
    let leaf = |c: &Contributor, i: usize, weight| Leaf {
        index: c.contributions[i].leaf_index,
        contributor_id: c.id,
        commitment: c.contributions[i].commitment,
        weight,
    };
    LeafTable::new(
        1,
        credence_tests::DEPTH,
        &[leaf(a, 0, 30), leaf(b, 0, 20), leaf(a, 1, 50)],
    )
}

/// `credence-verify audit --server` without the printing: the same library calls.
async fn audit_live(
    server: &TestServer,
    verifier: &LogVerifier,
    previous: Option<TreeState>,
    leaves: Option<LeafTable>,
) -> (AuditReport, u64) {
    let addr = format!("http://{}", server.addr);
    let verifier = verifier.clone();
    tokio::task::spawn_blocking(move || {
        let ring = ring();
        let mut leaves = leaves.map(|t| LeafCheck::new(&t).unwrap());
        let mut proofs = 0;
        let report = audit_server(&addr, &verifier, previous, |i, e: &LogEntry, _| {
            if let Some(l) = leaves.as_mut() {
                l.observe(i, e).map_err(|e| e.to_string())?;
            }
            if e.verify_claim(&ring).map_err(|e| e.to_string())?.is_some() {
                proofs += 1;
            }
            Ok(())
        })
        .unwrap();
        if let Some(l) = leaves {
            l.finish().unwrap();
        }
        (report, proofs)
    })
    .await
    .unwrap()
}

async fn claim(server: &TestServer, req: pb::SubmitClaimRequest) -> String {
    let job = server
        .prover()
        .await
        .submit_claim(req)
        .await
        .unwrap()
        .into_inner();
    let (_, last) = watch(server, &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{}", last.failure);
    server
        .prover()
        .await
        .get_bundle(pb::JobRequest { job_id: job.job_id })
        .await
        .unwrap()
        .into_inner()
        .bundle_json
}

fn kinds(report: &AuditReport) -> BTreeMap<EntryKind, u64> {
    report.by_kind.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_flow_is_logged_included_and_audits_live() {
    let (server, dir) = TestServer::fresh().await;
    let log_pub = std::fs::read_to_string(dir.path().join("log.pub")).unwrap();
    let verifier = LogVerifier::parse(&log_pub).unwrap();
    let (a, b) = standard_setup(&server).await;

    // A claim: its bundle carries the inclusion of its own claim entry (the two keys, 3
    // registrations and the snapshot come first), under a checkpoint the log key signed.
    let bundle_json = claim(&server, a.claim(1, &[0, 1])).await;
    let bundle = ClaimBundle::from_json(&bundle_json).unwrap();
    let (inclusion, checkpoint, entry) = check_bundle_inclusion(&bundle, &verifier).unwrap();
    assert_eq!(inclusion.index, 6);
    assert_eq!(
        checkpoint.size, 7,
        "acknowledged only under a checkpoint covering it"
    );
    assert_eq!(entry.kind(), EntryKind::Claim);
    // The same inclusion on another claim, or under another key, does not pass.
    let mut other = bundle.clone();
    other.statement.payout += 1;
    assert!(check_bundle_inclusion(&other, &verifier).is_err());
    let foreign = credence_verifier::log::LogSigner::from_seed("credence.local/log", &[9; 32])
        .unwrap()
        .verifier();
    assert!(check_bundle_inclusion(&bundle, &foreign).is_err());

    // A verification verdict is logged too.
    let verdict = server
        .verifier()
        .await
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle_json.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verdict.valid, "{}", verdict.reason);

    // The live log audits: every kind present, the claim proof re-verified, the leaf table's
    // root, total and registrations match what the service logged.
    let (report, proofs) = audit_live(&server, &verifier, None, Some(leaf_table(&a, &b))).await;
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.entries_read, 8);
    assert_eq!(proofs, 1);
    let expected: BTreeMap<EntryKind, u64> = [
        (EntryKind::Registration, 3),
        (EntryKind::Snapshot, 1),
        (EntryKind::Claim, 1),
        (EntryKind::Verification, 1),
        (EntryKind::Key, 2),
    ]
    .into();
    assert_eq!(kinds(&report), expected);
    let state = report.state().unwrap();

    // More appends; the next run continues from the saved state (consistency proof checked).
    let second = claim(&server, b.claim(1, &[0])).await;
    let second = ClaimBundle::from_json(&second).unwrap();
    assert_eq!(
        check_bundle_inclusion(&second, &verifier).unwrap().0.index,
        8
    );
    let (report, proofs) = audit_live(&server, &verifier, Some(state), None).await;
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!((report.entries_read, proofs), (9, 2));
    // A state the log never had (another root at size 8) is a fork.
    let forged = TreeState {
        size: state.size,
        root: [7; 32],
    };
    let (report, _) = audit_live(&server, &verifier, Some(forged), None).await;
    assert!(
        matches!(
            report.problem,
            Some(credence_verifier::log::AuditProblem::Fork { .. })
        ),
        "{:?}",
        report.problem
    );

    // The export of the live log says the same.
    let out = dir.path().join("export.json");
    credence_server::log::export_db(&dir.path().join(credence_server::log::LOG_DB_FILE), &out)
        .unwrap();
    let export = LogExport::from_json(&std::fs::read(&out).unwrap()).unwrap();
    let ring = ring();
    let report = export
        .audit(&verifier, Some(state), |_, e, _| {
            e.verify_claim(&ring).map(|_| ()).map_err(|e| e.to_string())
        })
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.entries_read, 9);

    // Public data only: no secret, digest, blinding or commitment in any log file.
    let mut canaries: Vec<(String, Fr)> = Vec::new();
    for c in [&a, &b] {
        canaries.push(("secret".into(), c.secret));
        for k in &c.contributions {
            canaries.push(("digest".into(), k.digest));
            canaries.push(("blinding".into(), k.blinding));
            canaries.push(("commitment".into(), k.commitment));
        }
    }
    // The log's tables (they share `credence.db` with the service's state, which holds the
    // commitments it registered) and the export file.
    let mut haystack = std::fs::read(dir.path().join("export.json")).unwrap_or_default();
    {
        let conn = rusqlite::Connection::open_with_flags(
            dir.path().join(credence_server::log::LOG_DB_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        for sql in [
            "SELECT bytes FROM log_entries",
            "SELECT CAST(note AS BLOB) FROM log_checkpoints",
            "SELECT CAST(key || value AS BLOB) FROM log_meta",
        ] {
            let mut stmt = conn.prepare(sql).unwrap();
            for row in stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap() {
                haystack.extend(row.unwrap());
            }
        }
    }
    for e in credence_verifier::log::LogExport::from_json(&std::fs::read(&out).unwrap())
        .unwrap()
        .entries
    {
        use base64::Engine as _;
        haystack.extend(base64::engine::general_purpose::STANDARD.decode(e).unwrap());
    }
    for (what, value) in canaries {
        let needle = fr_to_decimal(&value);
        assert!(
            !haystack
                .windows(needle.len())
                .any(|w| w == needle.as_bytes()),
            "a {what} is in the log"
        );
    }
    server.stop().await;
}
