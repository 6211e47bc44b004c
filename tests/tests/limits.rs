//! Limits: an oversize message is refused before it is decoded, shapes above the maximum are
//! refused, a full queue answers RESOURCE_EXHAUSTED while every accepted job finishes, and one
//! contributor or tenant cannot register more than its quota of contributions.

use std::time::Duration;

use credence_proto::v1 as pb;
use credence_tests::{TestServer, config, standard_setup, watch};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_message_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.max_message_bytes = 1024;
    let server = TestServer::start(c).await;
    let mut datanet = server.datanet().await;
    let s = datanet
        .register(pb::RegisterRequest {
            contributor_id: "1".repeat(2000),
            commitment: "1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::OutOfRange, "{s:?}");
    // Under the limit, the same RPC is decoded and judged on its content.
    let s = datanet
        .register(pb::RegisterRequest {
            contributor_id: "1".repeat(100),
            commitment: "1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    server.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.max_depth = 4;
    let server = TestServer::start(c).await;
    let s = server
        .datanet()
        .await
        .publish_snapshot(pb::PublishSnapshotRequest {
            leaf_count: 0,
            epoch: 1,
            depth: 5,
            revenue: 1,
            weights: vec![pb::LeafWeight {
                leaf_index: 0,
                weight: 1,
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("maximum shape"), "{}", s.message());
    server.stop().await;

    // A configuration offering a shape above the maximum does not start.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.max_slots = 1;
    assert!(c.validate().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_resource_exhausted_and_loses_no_accepted_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.queue = 2;
    let server = TestServer::start(c).await;
    let (a, b) = standard_setup(&server).await;
    let mut prover = server.prover().await;

    // Hold the proving slots: accepted jobs stay queued.
    let pause = server.app.pause_proving().await;
    let first = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    let second = prover
        .submit_claim(b.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    let full = prover.submit_claim(a.claim(1, &[1])).await.unwrap_err();
    assert_eq!(full.code(), Code::ResourceExhausted, "{full:?}");
    // Refused means not stored: no job exists for it.
    assert_eq!(server.app.state().jobs.admission().live(), 2);

    drop(pause);
    for job in [&first, &second] {
        let (_, last) = watch(&server, &job.job_id).await;
        assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    }
    // Room again: the refused request is accepted now.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let third = prover
        .submit_claim(a.claim(1, &[1]))
        .await
        .unwrap()
        .into_inner();
    let (_, last) = watch(&server, &third.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_stop_at_the_quota_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.registrations_per_contributor = 2;
    c.limits.registrations_per_tenant = 3;
    let server = TestServer::start(c).await;
    let mut datanet = server.datanet().await;
    let register = |id: u64, cm: u64| pb::RegisterRequest {
        contributor_id: id.to_string(),
        commitment: cm.to_string(),
    };
    datanet.register(register(1, 10)).await.unwrap();
    datanet.register(register(1, 11)).await.unwrap();
    let s = datanet.register(register(1, 12)).await.unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(
        s.message().contains("limits.registrations_per_contributor"),
        "{}",
        s.message()
    );
    // Registering a pair again is answered, not counted.
    let again = datanet
        .register(register(1, 11))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.created);
    datanet.register(register(2, 20)).await.unwrap();
    let s = datanet.register(register(3, 30)).await.unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(
        s.message().contains("limits.registrations_per_tenant"),
        "{}",
        s.message()
    );
    server.stop().await;
}
