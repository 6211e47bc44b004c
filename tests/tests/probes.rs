//! Probes that found broken promises (the hardening issue), each kept as a test: a checkpoint
//! asked at a size the log never reached is a bad argument, not a corrupt database; reflection
//! answers clients that speak only `grpc.reflection.v1alpha`.

use credence_proto::v1 as pb;
use credence_tests::TestServer;
use tokio_stream::StreamExt as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_beyond_the_log_is_out_of_range() {
    let (server, _dir) = TestServer::fresh().await;
    let mut log = pb::audit_log_client::AuditLogClient::new(server.channel().await);
    let size = log
        .get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 })
        .await
        .unwrap()
        .into_inner()
        .tree_size;
    for tree_size in [size + 1, 1 << 63, u64::MAX] {
        let e = log
            .get_checkpoint(pb::GetCheckpointRequest { tree_size })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::OutOfRange, "{tree_size}: {e:?}");
        assert!(e.message().contains("beyond"), "{}", e.message());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1alpha_lists_the_services() {
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let (server, _dir) = TestServer::fresh().await;
    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for s in [
        "credence.v1.Datanet",
        "credence.v1.Prover",
        "credence.v1.AuditLog",
    ] {
        assert!(names.iter().any(|n| n == s), "{s} not in {names:?}");
    }
    server.stop().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let server = TestServer::start(credence_tests::config(&data)).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "a data directory the server creates");
    let mut seen = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".db") || name.ends_with("-wal") || name.ends_with("-shm") {
            assert_eq!(mode(&path), 0o600, "{name}");
            seen += 1;
        }
    }
    assert!(
        seen >= 3,
        "credence.db (with the log) and its WAL files: {seen}"
    );
    server.stop().await;
}
