//! A restart with jobs in flight marks them failed "interrupted, resubmit", loses no finished
//! bundle, and a resubmission of the interrupted request resumes the same job.

use credence_proto::v1 as pb;
use credence_tests::{TestServer, config, standard_setup, watch};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_interrupts_running_jobs_and_keeps_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let (a, b) = standard_setup(&server).await;

    // One job finishes.
    let done = server
        .prover()
        .await
        .submit_claim(a.claim(1, &[0, 1]))
        .await
        .unwrap()
        .into_inner();
    let (_, last) = watch(&server, &done.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{}", last.failure);
    let bundle = server
        .prover()
        .await
        .get_bundle(pb::JobRequest {
            job_id: done.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .bundle_json;

    // Another is accepted but cannot start: every proving slot is held.
    let pause = server.app.pause_proving().await;
    let queued = server
        .prover()
        .await
        .submit_claim(b.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queued.state, pb::JobState::Queued as i32);
    server.stop().await;
    drop(pause);

    // A new process on the same data directory.
    let server = TestServer::start(config(dir.path())).await;
    let mut prover = server.prover().await;
    let job = prover
        .get_job(pb::JobRequest {
            job_id: queued.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(job.state, pb::JobState::Failed as i32);
    assert_eq!(job.failure, "interrupted, resubmit");
    let (states, _) = watch(&server, &queued.job_id).await;
    assert_eq!(states, [pb::JobState::Failed]);
    let again = prover
        .get_bundle(pb::JobRequest {
            job_id: done.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .bundle_json;
    assert_eq!(again, bundle, "the finished bundle survives, byte for byte");

    // Resubmitting the interrupted request resumes the same job and finishes it.
    let resumed = prover
        .submit_claim(b.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resumed.job_id, queued.job_id);
    let (_, last) = watch(&server, &resumed.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{}", last.failure);
    server.stop().await;
}
