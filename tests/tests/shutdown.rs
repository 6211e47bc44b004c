//! Graceful shutdown: health says NOT_SERVING and submissions are refused at once, a running
//! proof finishes within the drain deadline (or is marked interrupted), a queued job is marked
//! interrupted, and a resubmission after restart runs it to the end.

use std::time::{Duration, Instant};

use credence_proto::v1 as pb;
use credence_server::store::JobState;
use credence_tests::{TestServer, config, standard_setup, watch};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_proof_finishes_within_the_drain_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.drain_secs = 30;
    let mut server = TestServer::start(c).await;
    let (a, b) = standard_setup(&server).await;
    let mut prover = server.prover().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    let app = server.app.clone();

    let job = prover
        .submit_claim(a.claim(1, &[0, 1]))
        .await
        .unwrap()
        .into_inner();
    // Wait until the proof is under way.
    let started = Instant::now();
    loop {
        let now = prover
            .get_job(pb::JobRequest {
                job_id: job.job_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        if now.state >= pb::JobState::Witness as i32 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let t0 = Instant::now();
    server.begin_stop();
    let mut draining = app.state().draining.clone();
    draining.wait_for(|d| *d).await.unwrap();
    // While draining (the job may still run), the server says so and takes no new work. If
    // the proof already finished, the server may be gone: a transport error is then fine.
    let job_done = || {
        matches!(
            app.state().store.job(&job.job_id).unwrap().map(|r| r.state),
            Some(JobState::Done)
        )
    };
    match health.check(HealthCheckRequest::default()).await {
        Ok(r) => assert_eq!(r.into_inner().status, ServingStatus::NotServing as i32),
        Err(e) => assert!(job_done(), "health failed while a job ran: {e:?}"),
    }
    match prover.submit_claim(b.claim(1, &[0])).await {
        Err(s) if s.code() == Code::Unavailable => {}
        Err(s) => assert!(job_done(), "{s:?}"),
        Ok(j) => panic!("a draining server accepted job {}", j.into_inner().job_id),
    }
    server.stop().await;
    assert!(t0.elapsed() < Duration::from_secs(32), "{:?}", t0.elapsed());
    let record = app.state().store.job(&job.job_id).unwrap().unwrap();
    assert!(
        record.state == JobState::Done
            || (record.state == JobState::Failed
                && record.failure.as_deref() == Some("interrupted, resubmit")),
        "{record:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_deadline_jobs_are_interrupted_and_a_resubmission_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.drain_secs = 0;
    let server = TestServer::start(c.clone()).await;
    let (a, _b) = standard_setup(&server).await;
    let mut prover = server.prover().await;
    let app = server.app.clone();
    let pause = server.app.pause_proving().await;
    let job = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    let t0 = Instant::now();
    server.stop().await;
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    drop(pause);
    let record = app.state().store.job(&job.job_id).unwrap().unwrap();
    assert_eq!(record.state, JobState::Failed, "{record:?}");
    assert_eq!(record.failure.as_deref(), Some("interrupted, resubmit"));
    drop(app);

    // The same request on a restarted server is the same job, and it runs to the end.
    let server = TestServer::start(c).await;
    let again = server
        .prover()
        .await
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.job_id, job.job_id);
    let (_, last) = watch(&server, &again.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    server.stop().await;
}
