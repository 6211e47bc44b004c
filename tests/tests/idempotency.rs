//! Submitting the same claim again returns the same job: while it runs, once it is done, and
//! whether the data is given as its digest or raw. A different claim is a different job, and
//! so is the same claim from another tenant. A resubmission is answered before the quota is
//! counted, and the quota before the witness is checked.

use credence_proto::v1 as pb;
use credence_server::config::{RoleName, TokenConfig};
use credence_tests::{
    Contributor, TestServer, config_with_tokens, standard_setup, standard_setup_with, watch,
    watch_as,
};
use credence_verifier::encoding::fr_to_decimal;
use tonic::Code;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_identical_request_is_its_own_job() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Contributor::new(1, 2), Contributor::new(2, 1));
    let (mut config, tokens) = config_with_tokens(dir.path(), &a, &b);
    // A second tenant holding a token for the same contributor (say, its own prover).
    let other = credence_server::config::fresh_token();
    config.tokens.push(TokenConfig {
        token: other.clone(),
        tenant: "hospital-a-mirror".into(),
        role: RoleName::Contributor,
        contributor_id: Some(fr_to_decimal(&a.id)),
    });
    let server = TestServer::start(config).await;
    let (a, _b) = standard_setup_with(&server, &tokens, a, b).await;
    let mut first = server.prover_as(Some(&tokens.a)).await;
    let mut second = server.prover_as(Some(&other)).await;

    // The first tenant's job, cancelled.
    let pause = server.app.pause_proving().await;
    let mine = first
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    first
        .cancel_job(pb::JobRequest {
            job_id: mine.job_id.clone(),
        })
        .await
        .unwrap();
    drop(pause);

    // The same request from the other tenant neither restarts nor reveals it.
    let theirs = second
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(theirs.job_id, mine.job_id);
    let (_, last) = watch_as(&server, Some(&other), &theirs.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    let still = first
        .get_job(pb::JobRequest {
            job_id: mine.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(still.state, pb::JobState::Cancelled as i32);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_quota_still_answers_resubmissions_and_refuses_before_the_witness_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = credence_tests::config(dir.path());
    config.limits.tenant_jobs = 1;
    let server = TestServer::start(config).await;
    let (a, _b) = standard_setup(&server).await;
    let mut prover = server.prover().await;

    let pause = server.app.pause_proving().await;
    let job = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    // The quota is full; the identical request is still the same job.
    let again = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.job_id, job.job_id);
    // A new request is refused for the quota, before its witness is checked: a false claim
    // gets RESOURCE_EXHAUSTED, not the witness check's answer.
    let mut false_claim = a.claim(1, &[1]);
    false_claim.contributions[0].blinding = fr_to_decimal(&ark_bn254::Fr::from(424242u64));
    let status = prover.submit_claim(false_claim).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    drop(pause);
    let (_, last) = watch(&server, &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    server.stop().await;
}
