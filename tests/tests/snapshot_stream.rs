//! PublishSnapshotStream: a snapshot sent in parts, each under the message limit, publishes
//! exactly what one PublishSnapshot of all its weights publishes; parts that disagree, a stream
//! that breaks off and more weights than the tree has leaves publish nothing.

use credence_proto::v1 as pb;
use credence_tests::{TestServer, config};
use credence_verifier::encoding::fr_to_decimal;
use tonic::Code;

/// A part of a stream of `leaf_count` weights.
fn part_of(
    leaf_count: u64,
    epoch: u64,
    weights: std::ops::Range<u64>,
) -> pb::PublishSnapshotRequest {
    pb::PublishSnapshotRequest {
        epoch,
        depth: 0,
        revenue: 1000,
        leaf_count,
        weights: weights
            .map(|leaf_index| pb::LeafWeight {
                leaf_index,
                weight: 1 + leaf_index,
            })
            .collect(),
    }
}

/// A part of a stream of 16 weights.
fn part(epoch: u64, weights: std::ops::Range<u64>) -> pb::PublishSnapshotRequest {
    part_of(16, epoch, weights)
}

async fn server_with_leaves(
    leaves: u64,
    max_message_bytes: usize,
) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.max_message_bytes = max_message_bytes;
    let server = TestServer::start(c).await;
    let mut datanet = server.datanet().await;
    // Two at a time: small messages, whatever the test's limit.
    for i in (0..leaves).step_by(2) {
        datanet
            .register_batch(pb::RegisterBatchRequest {
                registrations: (i..(i + 2).min(leaves))
                    .map(|i| pb::RegisterRequest {
                        contributor_id: fr_to_decimal(&ark_bn254::Fr::from(i + 1)),
                        commitment: fr_to_decimal(&ark_bn254::Fr::from(i + 100)),
                    })
                    .collect(),
            })
            .await
            .unwrap();
    }
    (server, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_under_the_limit_publish_what_one_message_over_it_cannot() {
    // 16 leaves, a message limit that holds four weights but not sixteen.
    let (server, _dir) = server_with_leaves(16, 64).await;
    let mut datanet = server.datanet().await;
    let s = datanet.publish_snapshot(part(1, 0..16)).await.unwrap_err();
    assert_eq!(s.code(), Code::OutOfRange, "{s:?}");
    let parts: Vec<_> = (0..4).map(|k| part(1, 4 * k..4 * k + 4)).collect();
    let streamed = datanet
        .publish_snapshot_stream(tokio_stream::iter(parts.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(streamed.leaf_count, 16);
    assert_eq!(streamed.total_weight, (1..=16).sum::<u64>());
    // The same parts again: the same (immutable) snapshot.
    let again = datanet
        .publish_snapshot_stream(tokio_stream::iter(parts))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, streamed);
    server.stop().await;

    // One PublishSnapshot of the same weights, on a server that takes it whole, gives the same
    // root.
    let (server, _dir) = server_with_leaves(16, 4 << 20).await;
    let whole = server
        .datanet()
        .await
        .publish_snapshot(part(1, 0..16))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(whole.root, streamed.root);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_that_disagree_or_overflow_the_tree_publish_nothing() {
    let (server, _dir) = server_with_leaves(16, 4 << 20).await;
    let mut datanet = server.datanet().await;
    let mut other_revenue = part(1, 8..16);
    other_revenue.revenue = 999;
    for (parts, field) in [
        (vec![part(1, 0..8), part(2, 8..16)], "epoch"),
        (vec![part(1, 0..8), other_revenue], "revenue"),
        // Leaf 3 twice, across parts: named by its place in the whole list.
        (
            vec![part(1, 0..8), part(1, 3..4), part(1, 9..16)],
            "weights[8].leaf_index",
        ),
        // More weights than the stream said, or than the depth-4 tree has leaves.
        (vec![part(1, 0..16), part(1, 0..1)], "weights"),
        (vec![part_of(17, 1, 0..16)], "leaf_count"),
        (vec![part_of(0, 1, 0..16)], "leaf_count"),
        (vec![part(1, 0..8), part_of(8, 1, 8..16)], "leaf_count"),
        // Ended early: eight of sixteen.
        (vec![part(1, 0..8)], "leaf_count"),
    ] {
        let s = datanet
            .publish_snapshot_stream(tokio_stream::iter(parts))
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{field}: {s:?}");
        assert!(s.message().contains(field), "{field}: {s:?}");
    }
    let s = datanet
        .publish_snapshot_stream(tokio_stream::iter(Vec::new()))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    for epoch in [1, 2] {
        let s = datanet
            .get_snapshot(pb::GetSnapshotRequest { epoch: Some(epoch) })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::NotFound, "nothing was published: {s:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_breaks_off_publishes_nothing() {
    let (server, _dir) = server_with_leaves(16, 4 << 20).await;
    let mut datanet = server.datanet().await;
    // One part, then nothing: the client gives up (the call is dropped, the stream reset)
    // before ending the stream.
    let parts = tokio_stream::StreamExt::chain(
        tokio_stream::iter(vec![part(1, 0..8)]),
        tokio_stream::pending(),
    );
    let call = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        datanet.publish_snapshot_stream(parts),
    )
    .await;
    assert!(call.is_err(), "the call waits for the rest of the parts");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let s = server
        .datanet()
        .await
        .get_snapshot(pb::GetSnapshotRequest { epoch: Some(1) })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound, "nothing was published: {s:?}");
    server.stop().await;
}
