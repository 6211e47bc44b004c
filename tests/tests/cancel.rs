//! A cancelled job stops, says so on every read, produces no bundle, and a resubmission starts
//! it again.

use std::time::Duration;

use credence_proto::v1 as pb;
use credence_tests::{TestServer, standard_setup, watch};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_job_stops_and_says_so() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&server).await;
    let mut prover = server.prover().await;

    let pause = server.app.pause_proving().await;
    let job = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    // A watcher that is already waiting sees the cancellation as the stream's last event.
    let watcher = {
        let server_addr = server.addr;
        let id = job.job_id.clone();
        tokio::spawn(async move {
            let ch = tonic::transport::Endpoint::from_shared(format!("http://{server_addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            let mut stream = pb::prover_client::ProverClient::new(ch)
                .watch_job(pb::JobRequest { job_id: id })
                .await
                .unwrap()
                .into_inner();
            let mut last = None;
            while let Some(ev) = stream.message().await.unwrap() {
                last = Some(ev);
            }
            last.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let cancelled = prover
        .cancel_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state, pb::JobState::Cancelled as i32);
    assert!(
        cancelled.failure.contains("cancelled"),
        "{}",
        cancelled.failure
    );
    let last = tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.state, pb::JobState::Cancelled as i32);

    // Free the slots: the cancelled job must not run.
    drop(pause);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let now = prover
        .get_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now.state, pb::JobState::Cancelled as i32);
    let status = prover
        .get_bundle(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    // Cancelling again is harmless.
    let again = prover
        .cancel_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.state, pb::JobState::Cancelled as i32);

    // Resubmitting starts the same job again, which then finishes; a done job cannot be cancelled.
    let resumed = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resumed.job_id, job.job_id);
    let (_, last) = watch(&server, &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{}", last.failure);
    let status = prover
        .cancel_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let missing = prover
        .cancel_job(pb::JobRequest {
            job_id: "0".repeat(32),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    server.stop().await;
}
