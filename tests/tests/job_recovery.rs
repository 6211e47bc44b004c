//! An accepted job always runs to its end, once: a handler dropped by a deadline does not strand
//! it, a resubmission of a job that no task runs starts it again, a task that outlived its
//! attempt writes nothing, and the log holds one claim entry per job whatever its attempts.

use std::collections::BTreeMap;
use std::time::Duration;

use credence_proto::v1 as pb;
use credence_server::store::JobState;
use credence_tests::{Contributor, TestServer, standard_setup, watch};
use credence_verifier::log::{EntryKind, LogEntry};

/// How many entries of each kind the server's log holds.
fn log_kinds(server: &TestServer) -> BTreeMap<EntryKind, u64> {
    let log = server.app.log();
    let mut kinds = BTreeMap::new();
    for bytes in log.entries(0..log.size().unwrap()).unwrap() {
        *kinds
            .entry(LogEntry::from_bytes(&bytes).unwrap().kind())
            .or_insert(0) += 1;
    }
    kinds
}

/// Every claim of `c` over the snapshot of [`standard_setup`]: each subset of its two
/// contributions, under each range that holds them.
fn claims(c: &Contributor) -> Vec<pb::SubmitClaimRequest> {
    let mut out = Vec::new();
    let subsets: &[&[usize]] = if c.contributions.len() == 1 {
        &[&[0]]
    } else {
        &[&[0], &[1], &[0, 1]]
    };
    for &which in subsets {
        let last = which
            .iter()
            .map(|&i| c.contributions[i].leaf_index)
            .max()
            .unwrap();
        for end in last + 1..=16 {
            let mut req = c.claim(1, which);
            req.range_start = Some(0);
            req.range_end = Some(end);
            out.push(req);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_without_a_task_runs_when_resubmitted() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&server).await;
    let mut prover = server.prover().await;

    // A job stored as queued that no task runs: what a handler dropped between storing the
    // job and starting its task used to leave. Made here by cancelling a job and putting its
    // row back in the queue behind the server's back.
    let pause = server.app.pause_proving().await;
    let job = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    prover
        .cancel_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap();
    drop(pause);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let store = server.app.state().store.clone();
    let jobs = &server.app.state().jobs;
    let orphan = store
        .restart_job(
            &job.job_id,
            1,
            "claim-v1-n2-d4",
            &jobs.lease(),
            &jobs.quota(),
        )
        .unwrap()
        .unwrap();
    assert_eq!((orphan.state, orphan.attempt), (JobState::Queued, 2));

    // The resubmission starts it (a third attempt) and it finishes.
    let again = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.job_id, job.job_id);
    let (_, last) = watch(&server, &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    assert_eq!(store.job(&job.job_id).unwrap().unwrap().attempt, 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_cut_short_by_deadlines_all_finish_once() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, b) = standard_setup(&server).await;
    let mut requests = claims(&a);
    requests.extend(claims(&b));

    // Each request once with a deadline from 1 to 40 ms: many handlers are dropped part-way,
    // some after their job was stored.
    let mut prover = server.prover().await;
    for (i, req) in requests.iter().enumerate() {
        let mut r = tonic::Request::new(req.clone());
        r.set_timeout(Duration::from_millis(1 + (i as u64 * 7) % 40));
        let _ = prover.submit_claim(r).await;
    }

    // Every request, resubmitted, ends done; none was stranded. (The tenant's quota of live
    // jobs is smaller than the number of requests: a refusal waits for room.)
    let mut jobs = Vec::new();
    for req in &requests {
        let job = loop {
            match prover.submit_claim(req.clone()).await {
                Ok(job) => break job.into_inner(),
                Err(s) if s.code() == tonic::Code::ResourceExhausted => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(s) => panic!("{s:?}"),
            }
        };
        jobs.push(job.job_id);
    }
    for id in &jobs {
        let (_, last) = tokio::time::timeout(Duration::from_secs(120), watch(&server, id))
            .await
            .expect("every job ends");
        assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    }
    jobs.sort();
    jobs.dedup();
    assert_eq!(jobs.len(), requests.len(), "one job per distinct request");
    // One claim entry per job, whatever attempts it took.
    assert_eq!(
        log_kinds(&server).get(&EntryKind::Claim).copied(),
        Some(jobs.len() as u64)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_resubmit_while_proving_ends_with_one_bundle_and_one_claim_entry() {
    let (server, _dir) = TestServer::fresh().await;
    let (a, _b) = standard_setup(&server).await;
    let mut prover = server.prover().await;
    let mut rounds_with_a_live_old_task = 0;

    for req in claims(&a).into_iter().take(8) {
        let job = prover.submit_claim(req.clone()).await.unwrap().into_inner();
        // Cancel as soon as it runs, and resubmit at once: the first attempt's task is then
        // usually still computing when the second starts.
        let mut events = prover
            .watch_job(pb::JobRequest {
                job_id: job.job_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        while let Some(ev) = events.message().await.unwrap() {
            if ev.state != pb::JobState::Queued as i32 {
                break;
            }
        }
        let cancelled = prover
            .cancel_job(pb::JobRequest {
                job_id: job.job_id.clone(),
            })
            .await;
        let again = prover.submit_claim(req).await.unwrap().into_inner();
        assert_eq!(again.job_id, job.job_id);
        if cancelled.is_ok() {
            rounds_with_a_live_old_task += 1;
        }
        // A watcher of the new attempt is not blinded by the old task's end.
        let (_, last) = tokio::time::timeout(Duration::from_secs(60), watch(&server, &job.job_id))
            .await
            .expect("the watch follows the job to its end");
        assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
        let bundle = prover
            .get_bundle(pb::JobRequest {
                job_id: job.job_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!bundle.bundle_json.is_empty());
    }
    assert!(
        rounds_with_a_live_old_task > 0,
        "no cancellation reached a running job"
    );
    // One claim entry per job: a first attempt that logged before it was fenced out is the
    // entry its job issues.
    assert_eq!(log_kinds(&server).get(&EntryKind::Claim).copied(), Some(8));
    server.stop().await;
}
