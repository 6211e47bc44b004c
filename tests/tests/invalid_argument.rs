//! Malformed requests get INVALID_ARGUMENT whose message names the offending field, and never
//! echo the value.

use credence_proto::v1 as pb;
use credence_tests::{TestServer, standard_setup};
use tonic::Code;

fn assert_invalid(
    result: Result<impl std::fmt::Debug, tonic::Status>,
    field: &str,
    value: Option<&str>,
) {
    let status = result.expect_err("must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
    assert!(
        status.message().contains(field),
        "message {:?} does not name {field}",
        status.message()
    );
    if let Some(v) = value {
        assert!(
            !status.message().contains(v),
            "message echoes the value: {:?}",
            status.message()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_malformed_field_is_named() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&server).await;
    let mut datanet = server.datanet().await;
    let mut prover = server.prover().await;
    let mut verifier = server.verifier().await;

    // Datanet.
    let bad = "12345x";
    assert_invalid(
        datanet
            .register(pb::RegisterRequest {
                contributor_id: bad.into(),
                commitment: "1".into(),
            })
            .await,
        "contributor_id",
        Some(bad),
    );
    let r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    assert_invalid(
        datanet
            .register(pb::RegisterRequest {
                contributor_id: "1".into(),
                commitment: r.into(),
            })
            .await,
        "commitment",
        None,
    );
    let weights = |w: &[(u64, u64)]| {
        w.iter()
            .map(|&(leaf_index, weight)| pb::LeafWeight { leaf_index, weight })
            .collect()
    };
    let publish = |epoch, depth, w: Vec<pb::LeafWeight>| pb::PublishSnapshotRequest {
        leaf_count: 0,
        epoch,
        depth,
        revenue: 1,
        weights: w,
    };
    assert_invalid(
        datanet
            .publish_snapshot(publish(9, 0, weights(&[(0, 1), (0, 2)])))
            .await,
        "weights[1].leaf_index",
        None,
    );
    assert_invalid(
        datanet
            .publish_snapshot(publish(9, 0, weights(&[(0, 0)])))
            .await,
        "weights",
        None,
    );
    assert_invalid(
        datanet
            .publish_snapshot(publish(9, 0, weights(&[(7, 1)])))
            .await,
        "weights[0].leaf_index",
        None,
    );
    assert_invalid(
        datanet
            .publish_snapshot(publish(9, 0, weights(&[(99, 1)])))
            .await,
        "weights[0].leaf_index",
        None,
    );
    assert_invalid(
        datanet
            .publish_snapshot(publish(9, 3, weights(&[(0, 1)])))
            .await,
        "depth",
        None,
    );
    assert_invalid(
        datanet
            .publish_snapshot(publish(9, 0, weights(&[(0, u64::MAX), (1, 1)])))
            .await,
        "weights",
        None,
    );

    // Prover: every secret field.
    let secret = "99999999999999999999x";
    let mut req = a.claim(1, &[0]);
    req.secret = secret.into();
    assert_invalid(prover.submit_claim(req).await, "secret", Some(secret));
    let mut req = a.claim(1, &[0, 1]);
    req.contributions[1].blinding = "-5".into();
    assert_invalid(
        prover.submit_claim(req).await,
        "contributions[1].blinding",
        None,
    );
    let mut req = a.claim(1, &[0]);
    req.contributions[0].data = Some(pb::claim_contribution::Data::Digest("0x12".into()));
    assert_invalid(
        prover.submit_claim(req).await,
        "contributions[0].digest",
        None,
    );
    let mut req = a.claim(1, &[0]);
    req.contributions[0].data = None;
    assert_invalid(
        prover.submit_claim(req).await,
        "contributions[0].data",
        None,
    );
    let mut req = a.claim(1, &[0]);
    req.contributions.clear();
    assert_invalid(prover.submit_claim(req).await, "contributions", None);
    let mut req = a.claim(1, &[0]);
    req.contributions[0].leaf_index = 16;
    assert_invalid(
        prover.submit_claim(req).await,
        "contributions[0].leaf_index",
        None,
    );
    let mut req = a.claim(1, &[0]);
    req.snapshot = Some(pb::SnapshotRef {
        depth: 4,
        root: "1".into(),
        total_weight: 5,
        revenue: 1,
    });
    assert_invalid(
        prover.submit_claim(req).await,
        "contributions[0].leaf",
        None,
    );
    let mut req = a.claim(1, &[0]);
    req.snapshot = Some(pb::SnapshotRef {
        depth: 4,
        root: "1".into(),
        total_weight: 5,
        revenue: 1,
    });
    req.contributions[0].leaf = Some(pb::LeafProof {
        weight: 1,
        path: Some(pb::MerklePath { siblings: vec![] }),
    });
    assert_invalid(
        prover.submit_claim(req).await,
        "contributions[0].leaf.path.siblings",
        None,
    );
    let mut req = a.claim(1, &[0]);
    req.snapshot = Some(pb::SnapshotRef {
        depth: 40,
        root: "1".into(),
        total_weight: 5,
        revenue: 1,
    });
    assert_invalid(prover.submit_claim(req).await, "snapshot.depth", None);
    assert_invalid(
        prover
            .get_job(pb::JobRequest {
                job_id: "../../etc".into(),
            })
            .await,
        "job_id",
        None,
    );
    assert_invalid(
        prover
            .cancel_job(pb::JobRequest {
                job_id: String::new(),
            })
            .await,
        "job_id",
        None,
    );

    // Verifier.
    assert_invalid(
        verifier
            .verify_bundle(pb::VerifyBundleRequest {
                bundle_json: "{\"format\":1}".into(),
            })
            .await,
        "bundle_json",
        None,
    );
    assert_invalid(
        verifier
            .get_verifying_key(pb::GetVerifyingKeyRequest {
                selector: Some(pb::get_verifying_key_request::Selector::Fingerprint(
                    "zz".into(),
                )),
            })
            .await,
        "fingerprint",
        None,
    );
    assert_invalid(
        verifier
            .get_verifying_key(pb::GetVerifyingKeyRequest { selector: None })
            .await,
        "selector",
        None,
    );
    server.stop().await;
}
