//! `grpc.health.v1` reports the enabled services, and server reflection lists them, so
//! `grpcurl` works without the `.proto` files.

use credence_tests::TestServer;
use tokio_stream::StreamExt as _;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection() {
    let (server, _dir) = TestServer::fresh().await;
    let mut health = HealthClient::new(server.channel().await);
    for service in [
        "credence.v1.Datanet",
        "credence.v1.Prover",
        "credence.v1.Verifier",
        "",
    ] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status, ServingStatus::Serving as i32, "{service}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope.v1.X".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

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
        "credence.v1.Verifier",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == s), "{s} not in {names:?}");
    }
    server.stop().await;
}
