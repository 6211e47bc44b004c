//! A service the configuration switches off (`[services] prover = false`, ...) answers
//! UNIMPLEMENTED with a message that names the service and the configuration key, not tonic's
//! empty UNIMPLEMENTED; the services that are on keep serving, an unknown method of a service
//! that is on keeps tonic's answer, and health does not call the switched-off service SERVING.

use credence_proto::v1 as pb;
use credence_tests::{TestServer, config};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// An empty message both ways: enough to call any unary path by name (all fields default).
#[derive(Clone, Copy, Debug, Default)]
struct Empty;

impl Encoder for Empty {
    type Item = ();
    type Error = tonic::Status;
    fn encode(&mut self, (): (), _: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        Ok(())
    }
}

impl Decoder for Empty {
    type Item = ();
    type Error = tonic::Status;
    fn decode(&mut self, _: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        Ok(Some(()))
    }
}

impl Codec for Empty {
    type Encode = ();
    type Decode = ();
    type Encoder = Empty;
    type Decoder = Empty;
    fn encoder(&mut self) -> Empty {
        Empty
    }
    fn decoder(&mut self) -> Empty {
        Empty
    }
}

/// Calls `path` with an empty request; the status it ends with.
async fn call(server: &TestServer, path: &str) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(server.channel().await);
    grpc.ready().await.expect("channel ready");
    match grpc
        .unary::<(), (), _>(
            tonic::Request::new(()),
            tonic::codegen::http::uri::PathAndQuery::try_from(path).expect("a path"),
            Empty,
        )
        .await
    {
        Ok(_) => tonic::Status::ok(""),
        Err(s) => s,
    }
}

#[derive(Clone, Copy, Debug)]
enum Off {
    Datanet,
    Prover,
    Verifier,
}

impl Off {
    const ALL: [Off; 3] = [Off::Datanet, Off::Prover, Off::Verifier];

    fn service(self) -> &'static str {
        match self {
            Off::Datanet => "credence.v1.Datanet",
            Off::Prover => "credence.v1.Prover",
            Off::Verifier => "credence.v1.Verifier",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Off::Datanet => "datanet",
            Off::Prover => "prover",
            Off::Verifier => "verifier",
        }
    }

    /// A method the service does not have, by path.
    fn unknown_method(self) -> String {
        format!("/{}/NoSuchMethod", self.service())
    }

    /// A method of the service, by path (a read: no side effect if it were served).
    fn method(self) -> &'static str {
        match self {
            Off::Datanet => "/credence.v1.Datanet/GetSnapshot",
            Off::Prover => "/credence.v1.Prover/GetJob",
            Off::Verifier => "/credence.v1.Verifier/ListVerifyingKeys",
        }
    }

    fn switch_off(self, c: &mut credence_server::Config) {
        match self {
            Off::Datanet => c.services.datanet = false,
            Off::Prover => c.services.prover = false,
            Off::Verifier => c.services.verifier = false,
        }
    }
}

fn assert_says_switched_off(status: &tonic::Status, off: Off, through: &str) {
    assert_eq!(
        status.code(),
        Code::Unimplemented,
        "{off:?} off, {through}: {status:?}"
    );
    let m = status.message();
    assert!(m.contains(off.service()), "{off:?} off, {through}: {m:?}");
    assert!(
        m.contains(&format!("[services] {} = false", off.key())),
        "{off:?} off, {through}: {m:?}"
    );
}

/// `path` gets tonic's own UNIMPLEMENTED (an unknown method or service), not the answer of a
/// switched-off service.
async fn assert_tonics_unimplemented(server: &TestServer, path: &str) {
    let s = call(server, path).await;
    assert_eq!(s.code(), Code::Unimplemented, "{path}: {s:?}");
    assert!(!s.message().contains("switched off"), "{path}: {s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switched_off_service_says_so_and_which_key() {
    for off in Off::ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        off.switch_off(&mut c);
        let server = TestServer::start(c).await;

        // Through the generated clients, as the CLI calls (every method of the service).
        let generated = match off {
            Off::Datanet => server
                .datanet()
                .await
                .register(pb::RegisterRequest::default())
                .await
                .unwrap_err(),
            Off::Prover => server
                .prover()
                .await
                .submit_claim(pb::SubmitClaimRequest::default())
                .await
                .unwrap_err(),
            Off::Verifier => server
                .verifier()
                .await
                .verify_bundle(pb::VerifyBundleRequest::default())
                .await
                .unwrap_err(),
        };
        assert_says_switched_off(&generated, off, "its generated client");
        assert_says_switched_off(&call(&server, off.method()).await, off, off.method());
        // Even a method the service does not have: the whole service is off.
        let unknown = off.unknown_method();
        assert_says_switched_off(&call(&server, &unknown).await, off, &unknown);

        // The others still serve; an unknown method of one of them keeps tonic's answer.
        for on in Off::ALL.into_iter().filter(|o| o.key() != off.key()) {
            let s = call(&server, on.method()).await;
            assert_ne!(s.code(), Code::Unimplemented, "{on:?} is on: {s:?}");
        }
        let on = Off::ALL.into_iter().find(|o| o.key() != off.key()).unwrap();
        assert_tonics_unimplemented(&server, &on.unknown_method()).await;
        // An unknown service is not "switched off" either.
        assert_tonics_unimplemented(&server, "/credence.v1.NoSuchService/Get").await;

        // Health does not call the switched-off service SERVING (today: unknown to it).
        let mut health = HealthClient::new(server.channel().await);
        match health
            .check(HealthCheckRequest {
                service: off.service().into(),
            })
            .await
        {
            Err(s) => assert_eq!(s.code(), Code::NotFound, "{off:?}: {s:?}"),
            Ok(r) => assert_eq!(
                r.into_inner().status,
                ServingStatus::NotServing as i32,
                "{off:?}"
            ),
        }
        server.stop().await;
    }
}

/// With tokens, the answer comes before authentication: which services a server runs is no
/// secret (public health says it), and a caller holding another server's token is told it
/// called the wrong server, not "unknown token".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_needs_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let a = credence_tests::Contributor::new(1, 1);
    let b = credence_tests::Contributor::new(2, 1);
    let (mut c, _tokens) = credence_tests::config_with_tokens(dir.path(), &a, &b);
    c.services.prover = false;
    let server = TestServer::start(c).await;
    for token in [None, Some("a-token-another-server-knows-0123456789")] {
        let s = server
            .prover_as(token)
            .await
            .get_job(pb::JobRequest::default())
            .await
            .unwrap_err();
        assert_says_switched_off(&s, Off::Prover, "with a wrong or no token");
        assert!(
            s.message()
                .contains("send claims to the server that proves for you")
        );
    }
    // A service that is on still wants a token.
    let s = server
        .datanet_as(None)
        .await
        .get_snapshot(pb::GetSnapshotRequest::default())
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    server.stop().await;
}
