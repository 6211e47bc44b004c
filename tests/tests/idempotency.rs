//! Submitting the same claim again returns the same job: while it runs, once it is done, and
//! whether the data is given as its digest or raw. A different claim is a different job.

use credence_proto::v1 as pb;
use credence_tests::{TestServer, standard_setup, watch};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_returns_the_same_job() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&server).await;
    let mut prover = server.prover().await;

    let pause = server.app.pause_proving().await;
    let first = prover
        .submit_claim(a.claim(1, &[0, 1]))
        .await
        .unwrap()
        .into_inner();
    let second = prover
        .submit_claim(a.claim(1, &[0, 1]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.job_id, second.job_id);
    assert_eq!(second.state, pb::JobState::Queued as i32);

    // Raw data instead of the digest is the same request.
    let mut raw = a.claim(1, &[0, 1]);
    raw.contributions[0].data = Some(pb::claim_contribution::Data::RawData(
        a.contributions[0].data.clone(),
    ));
    assert_eq!(
        prover.submit_claim(raw).await.unwrap().into_inner().job_id,
        first.job_id
    );

    // The explicit default range is the same request too; another range is another job.
    let mut explicit = a.claim(1, &[0, 1]);
    explicit.range_start = Some(0);
    explicit.range_end = Some(16);
    assert_eq!(
        prover
            .submit_claim(explicit)
            .await
            .unwrap()
            .into_inner()
            .job_id,
        first.job_id
    );
    let mut narrower = a.claim(1, &[0, 1]);
    narrower.range_end = Some(8);
    let other = prover.submit_claim(narrower).await.unwrap().into_inner();
    assert_ne!(other.job_id, first.job_id);
    drop(pause);

    let (_, last) = watch(&server, &first.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{}", last.failure);
    let after = prover
        .submit_claim(a.claim(1, &[0, 1]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.job_id, first.job_id);
    assert_eq!(
        after.state,
        pb::JobState::Done as i32,
        "a done job is returned, not proven again"
    );
    server.stop().await;
}
