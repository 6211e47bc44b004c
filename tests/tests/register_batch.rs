//! RegisterBatch: many registrations in one call and one transaction, each answered as Register
//! would answer it, all of them or none, every error naming `registrations[i]`; and every new
//! leaf logged with it, the batch under one signed checkpoint.

use credence_proto::v1 as pb;
use credence_server::log::LogStore;
use credence_tests::{Contributor, TestServer, config, config_with_tokens};
use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::log::{LogEntry, LogEvent};
use tonic::Code;

fn pair(id: &str, commitment: u64) -> pb::RegisterRequest {
    pb::RegisterRequest {
        contributor_id: id.to_owned(),
        commitment: commitment.to_string(),
    }
}

fn batch(pairs: Vec<pb::RegisterRequest>) -> pb::RegisterBatchRequest {
    pb::RegisterBatchRequest {
        registrations: pairs,
    }
}

fn registrations(log: &LogStore) -> Vec<u64> {
    log.entries(0..log.size().unwrap())
        .unwrap()
        .iter()
        .filter_map(|b| match LogEntry::from_bytes(b).unwrap().event {
            LogEvent::Registration { leaf_index, .. } => Some(leaf_index),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_answered_in_order_logged_under_one_checkpoint_and_idempotent() {
    let (server, _dir) = TestServer::fresh().await;
    let mut datanet = server.datanet().await;
    let log = server.app.log().clone();
    let before = log.size().unwrap();
    let checkpoint = log.checkpoint().unwrap();
    let answers = datanet
        .register_batch(batch(vec![
            pair("1", 10),
            pair("2", 10),
            pair("1", 11),
            pair("1", 10),
        ]))
        .await
        .unwrap()
        .into_inner()
        .registrations;
    let got: Vec<(u64, bool)> = answers.iter().map(|r| (r.leaf_index, r.created)).collect();
    assert_eq!(got, vec![(0, true), (1, true), (2, true), (0, false)]);
    // Three entries, one new checkpoint covering them all.
    assert_eq!(log.size().unwrap(), before + 3);
    assert_eq!(registrations(&log), vec![0, 1, 2]);
    assert!(log.checkpoint_at(before + 1).unwrap().is_none());
    assert!(log.checkpoint_at(before + 3).unwrap().is_some());
    assert_ne!(log.checkpoint().unwrap(), checkpoint);

    // Sent again (a lost answer): the same leaves, nothing new, nothing logged.
    let again = datanet
        .register_batch(batch(vec![pair("1", 10), pair("2", 10), pair("1", 11)]))
        .await
        .unwrap()
        .into_inner()
        .registrations;
    assert!(again.iter().all(|r| !r.created));
    assert_eq!(
        again.iter().map(|r| r.leaf_index).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(log.size().unwrap(), before + 3);
    // Register and RegisterBatch agree.
    let one = datanet.register(pair("2", 10)).await.unwrap().into_inner();
    assert_eq!((one.leaf_index, one.created), (1, false));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_registration_refuses_the_whole_batch_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.registrations_per_contributor = 2;
    let server = TestServer::start(c).await;
    let mut datanet = server.datanet().await;
    let log = server.app.log().clone();
    let size = log.size().unwrap();

    // A malformed element is named with its place in the list.
    let s = datanet
        .register_batch(batch(
            vec![pair("1", 1), pair("2", 2), pair("3", 3)]
                .into_iter()
                .enumerate()
                .map(|(i, mut p)| {
                    if i == 2 {
                        p.commitment = "0x12".into();
                    }
                    p
                })
                .collect(),
        ))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("registrations[2].commitment"), "{s:?}");

    // The third of contributor 1's contributions is over its quota: nothing of the batch is
    // registered or logged, and the error names it.
    let s = datanet
        .register_batch(batch(vec![
            pair("1", 1),
            pair("2", 2),
            pair("1", 3),
            pair("1", 4),
        ]))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(s.message().contains("registrations[3]"), "{s:?}");
    assert!(
        s.message().contains("limits.registrations_per_contributor"),
        "{s:?}"
    );
    assert_eq!(log.size().unwrap(), size, "nothing logged");
    let first = datanet.register(pair("2", 2)).await.unwrap().into_inner();
    assert_eq!(
        (first.leaf_index, first.created),
        (0, true),
        "the refused batch took no leaf"
    );

    // An empty list and one over the maximum are refused before anything is read.
    for n in [0usize, 4097] {
        let s = datanet
            .register_batch(batch((0..n as u64).map(|i| pair("5", i + 1)).collect()))
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{n}: {s:?}");
        assert!(s.message().contains("registrations"), "{s:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contributor_token_batches_only_its_own_id() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Contributor::new(1, 2), Contributor::new(2, 1));
    let (c, tokens) = config_with_tokens(dir.path(), &a, &b);
    let server = TestServer::start(c).await;
    let mut datanet = server.datanet_as(Some(&tokens.a)).await;
    let (a_id, b_id) = (fr_to_decimal(&a.id), fr_to_decimal(&b.id));
    let s = datanet
        .register_batch(batch(vec![pair(&a_id, 1), pair(&b_id, 2)]))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    assert!(s.message().contains("registrations[1]"), "{s:?}");
    let ok = datanet
        .register_batch(batch(vec![pair(&a_id, 1), pair(&a_id, 2)]))
        .await
        .unwrap()
        .into_inner()
        .registrations;
    assert_eq!(ok.len(), 2);
    assert!(ok.iter().all(|r| r.created));
    server.stop().await;
}
