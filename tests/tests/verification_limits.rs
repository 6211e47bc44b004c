//! Verification cannot be turned against the server: a batch's verdicts go into the log in one
//! append under one checkpoint, each tenant has an hourly quota of verdicts, and a bundle whose
//! `log` field is not a bounded log inclusion is malformed (it was decoded as free-form JSON of
//! up to a MiB). A malformed bundle gets no verdict entry and costs no quota.

use credence_proto::v1 as pb;
use credence_tests::{TestServer, config, standard_setup, watch};
use tonic::Code;

/// A done claim's bundle.
async fn one_bundle(server: &TestServer) -> String {
    let (a, _b) = standard_setup(server).await;
    let mut prover = server.prover().await;
    let job = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    let (_, last) = watch(server, &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    prover
        .get_bundle(pb::JobRequest { job_id: job.job_id })
        .await
        .unwrap()
        .into_inner()
        .bundle_json
}

/// A server allowing `per_hour` verdicts per tenant, with a done claim's bundle (the data
/// directory is returned so it outlives the server).
async fn server_with_quota(per_hour: u64) -> (TestServer, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.verdicts_per_tenant_per_hour = per_hour;
    let server = TestServer::start(c).await;
    let bundle = one_bundle(&server).await;
    (server, dir, bundle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_one_append_and_the_hourly_quota_holds() {
    let (server, _dir, bundle) = server_with_quota(6).await;
    let log = server.app.log().clone();
    let mut verifier = server.verifier().await;

    let before = log.size().unwrap();
    let verdicts = verifier
        .verify_batch(pb::VerifyBatchRequest {
            bundle_json: vec![bundle.clone(); 5],
        })
        .await
        .unwrap()
        .into_inner()
        .verdicts;
    assert!(verdicts.iter().all(|v| v.valid));
    assert_eq!(log.size().unwrap(), before + 5);
    // One checkpoint for the batch, none in between.
    assert!(log.checkpoint_at(before + 5).unwrap().is_some());
    for size in before + 1..before + 5 {
        assert!(log.checkpoint_at(size).unwrap().is_none(), "{size}");
    }

    // Six verdicts an hour: a batch of two is refused whole, before anything is logged.
    let s = verifier
        .verify_batch(pb::VerifyBatchRequest {
            bundle_json: vec![bundle.clone(); 2],
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(
        s.message().contains("limits.verdicts_per_tenant_per_hour"),
        "{}",
        s.message()
    );
    assert_eq!(log.size().unwrap(), before + 5);
    // One more fits.
    let v = verifier
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(v.valid);
    let s = verifier
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle,
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_log_that_is_not_a_bounded_inclusion_is_malformed() {
    let (server, _dir) = TestServer::fresh().await;
    let bundle = one_bundle(&server).await;
    let mut doc: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    // 100 KiB of free-form JSON in `log`: a valid proof otherwise.
    doc["log"] = serde_json::json!({ "junk": "x".repeat(100 * 1024) });
    let verdicts = server
        .verifier()
        .await
        .verify_batch(pb::VerifyBatchRequest {
            bundle_json: vec![doc.to_string(), bundle],
        })
        .await
        .unwrap()
        .into_inner()
        .verdicts;
    assert!(!verdicts[0].valid);
    assert!(
        verdicts[0].reason.starts_with("malformed"),
        "{}",
        verdicts[0].reason
    );
    assert!(verdicts[1].valid, "{}", verdicts[1].reason);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bundles_cost_no_quota() {
    let (server, _dir, bundle) = server_with_quota(4).await;
    let log = server.app.log().clone();
    let mut verifier = server.verifier().await;
    let before = log.size().unwrap();

    // Four malformed single calls and a batch of three malformed bundles: more than the quota,
    // all refused or judged malformed, nothing logged.
    for _ in 0..4 {
        let s = verifier
            .verify_bundle(pb::VerifyBundleRequest {
                bundle_json: "{\"not\": \"a bundle\"}".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    }
    let verdicts = verifier
        .verify_batch(pb::VerifyBatchRequest {
            bundle_json: vec!["[]".into(); 3],
        })
        .await
        .unwrap()
        .into_inner()
        .verdicts;
    assert!(
        verdicts
            .iter()
            .all(|v| !v.valid && v.reason.starts_with("malformed"))
    );
    assert_eq!(log.size().unwrap(), before);

    // The whole quota is still there: a batch of one malformed and three good bundles spends
    // three, one more verdict the fourth, and the next is over the hour's quota.
    let verdicts = verifier
        .verify_batch(pb::VerifyBatchRequest {
            bundle_json: vec!["[]".into(), bundle.clone(), bundle.clone(), bundle.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .verdicts;
    assert_eq!(verdicts.iter().filter(|v| v.valid).count(), 3);
    assert_eq!(log.size().unwrap(), before + 3);
    let v = verifier
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(v.valid);
    assert_eq!(log.size().unwrap(), before + 4);
    let s = verifier
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle,
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    server.stop().await;
}
