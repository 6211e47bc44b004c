//! The whole flow over real gRPC: register, publish a snapshot, claim, watch the job through
//! its stages, fetch the bundle, and verify it with the verifier crate alone (with the `.vk`
//! file, not the server's word), then with the server's Verifier service.

use credence_circuits::Shape;
use credence_proto::v1 as pb;
use credence_tests::{TestServer, standard_setup, vk_bytes, watch};
use credence_verifier::{ClaimBundle, KeyRing, TrustedKey, keys::CircuitId, verify_bundle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_snapshot_claim_watch_bundle_verify() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&server).await;
    assert_eq!(
        a.contributions
            .iter()
            .map(|c| c.leaf_index)
            .collect::<Vec<_>>(),
        [0, 2]
    );

    // Re-registering returns the same leaf; the snapshot reads back.
    let snap = server
        .datanet()
        .await
        .get_snapshot(pb::GetSnapshotRequest { epoch: Some(1) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (snap.total_weight, snap.revenue, snap.depth, snap.leaf_count),
        (100, 1000, 4, 3)
    );

    // A contributor's own leaves come with paths.
    let leaves = server
        .datanet()
        .await
        .get_leaves(pb::GetLeavesRequest {
            epoch: 1,
            contributor_id: credence_verifier::encoding::fr_to_decimal(&a.id),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        leaves
            .leaves
            .iter()
            .map(|l| (l.leaf_index, l.weight))
            .collect::<Vec<_>>(),
        [(0, 30), (2, 50)]
    );
    assert!(
        leaves
            .leaves
            .iter()
            .all(|l| l.path.as_ref().unwrap().siblings.len() == 4)
    );

    let job = server
        .prover()
        .await
        .submit_claim(a.claim(1, &[0, 1]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        job.circuit_id, "claim-v1-n2-d4",
        "the smallest shape that fits two leaves"
    );
    let (states, last) = watch(&server, &job.job_id).await;
    assert_eq!(
        *states.last().unwrap(),
        pb::JobState::Done,
        "{states:?}: {}",
        last.failure
    );
    // Stages only move forward.
    let order: Vec<i32> = states.iter().map(|s| *s as i32).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{states:?}");

    let bundle = server
        .prover()
        .await
        .get_bundle(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let bundle = ClaimBundle::from_json(&bundle.bundle_json).unwrap();
    assert_eq!(bundle.statement.claimed_weight, 80);
    assert_eq!(bundle.statement.payout, 800);
    assert_eq!(
        (bundle.statement.range_start, bundle.statement.range_end),
        (0, 16)
    );

    // Verify with the verifier crate only, trusting the key file handed out of band.
    let shape = Shape::new(2, 4).unwrap();
    let mut ring = KeyRing::new();
    ring.insert(
        TrustedKey::from_bytes(
            CircuitId::new(&shape.circuit_id()).unwrap(),
            &vk_bytes(shape),
        )
        .unwrap(),
    )
    .unwrap();
    let verified = verify_bundle(&ring, &bundle).unwrap();
    assert_eq!(verified.statement().payout, 800);
    // A changed payout does not verify.
    let mut forged = bundle.clone();
    forged.statement.payout += 1;
    assert!(verify_bundle(&ring, &forged).is_err());

    // The server's Verifier agrees, in single and batch form.
    let mut verifier = server.verifier().await;
    let v = verifier
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle.to_json(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(v.valid && v.payout == 800, "{v:?}");
    let batch = verifier
        .verify_batch(pb::VerifyBatchRequest {
            bundle_json: vec![bundle.to_json(), forged.to_json(), "{}".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        batch.verdicts.iter().map(|v| v.valid).collect::<Vec<_>>(),
        [true, false, false]
    );
    // Keys by circuit id and by fingerprint are the same key.
    let by_id = verifier
        .get_verifying_key(pb::GetVerifyingKeyRequest {
            selector: Some(pb::get_verifying_key_request::Selector::CircuitId(
                shape.circuit_id(),
            )),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id.vk, vk_bytes(shape));
    let by_fp = verifier
        .get_verifying_key(pb::GetVerifyingKeyRequest {
            selector: Some(pb::get_verifying_key_request::Selector::Fingerprint(
                by_id.fingerprint.clone(),
            )),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_fp.circuit_id, shape.circuit_id());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_against_a_supplied_snapshot_with_raw_data() {
    // The operator's datanet and the hospital's prover are different servers.
    let (operator, _d1) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&operator).await;
    let leaves = operator
        .datanet()
        .await
        .get_leaves(pb::GetLeavesRequest {
            epoch: 1,
            contributor_id: credence_verifier::encoding::fr_to_decimal(&a.id),
        })
        .await
        .unwrap()
        .into_inner();
    let snap = leaves.snapshot.clone().unwrap();
    let (hospital, _d2) = TestServer::fresh().await;
    let mut req = a.claim(1, &[1]);
    req.contributions[0].data = Some(pb::claim_contribution::Data::RawData(
        a.contributions[1].data.clone(),
    ));
    req.contributions[0].leaf = Some(pb::LeafProof {
        weight: leaves.leaves[1].weight,
        path: leaves.leaves[1].path.clone(),
    });
    req.snapshot = Some(pb::SnapshotRef {
        depth: snap.depth,
        root: snap.root,
        total_weight: snap.total_weight,
        revenue: snap.revenue,
    });
    let job = hospital
        .prover()
        .await
        .submit_claim(req)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(job.circuit_id, "claim-v1-n1-d4");
    let (_, last) = watch(&hospital, &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{}", last.failure);
    let bundle = hospital
        .prover()
        .await
        .get_bundle(pb::JobRequest { job_id: job.job_id })
        .await
        .unwrap()
        .into_inner();
    // The operator's verifier accepts what the hospital's prover made (same keys).
    let v = operator
        .verifier()
        .await
        .verify_bundle(pb::VerifyBundleRequest {
            bundle_json: bundle.bundle_json,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(v.valid, "{}", v.reason);
    assert_eq!(v.payout, 500);
    hospital.stop().await;
    operator.stop().await;
}
