//! Access control over real gRPC: every RPC × every caller (no token, an unknown token, each
//! role, the other contributor), against the table in `credence_server::access::allowed`.
//! Health and reflection answer without a token.

use credence_proto::v1 as pb;
use credence_tests::{
    Contributor, TestServer, Tokens, config_with_tokens, publish_request, standard_setup_with,
};
use credence_verifier::encoding::fr_to_decimal;
use tonic::Code;

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    NoToken,
    UnknownToken,
    Operator,
    /// Contributor A: every request below is about A (A's id, A's secret, A's job).
    A,
    /// Contributor B, in another tenant, calling about A.
    B,
    Verifier,
    Auditor,
}

const EVERYONE: [Who; 7] = [
    Who::NoToken,
    Who::UnknownToken,
    Who::Operator,
    Who::A,
    Who::B,
    Who::Verifier,
    Who::Auditor,
];

fn token(who: Who, t: &Tokens) -> Option<String> {
    match who {
        Who::NoToken => None,
        Who::UnknownToken => Some(credence_server::config::fresh_token()),
        Who::Operator => Some(t.operator.clone()),
        Who::A => Some(t.a.clone()),
        Who::B => Some(t.b.clone()),
        Who::Verifier => Some(t.verifier.clone()),
        Who::Auditor => Some(t.auditor.clone()),
    }
}

/// The RPCs, each called with a request about contributor A.
#[derive(Clone, Copy, Debug)]
enum Rpc {
    Register,
    RegisterBatch,
    PublishSnapshot,
    PublishSnapshotStream,
    GetSnapshot,
    GetLeaves,
    SubmitClaim,
    GetJob,
    WatchJob,
    GetBundle,
    CancelJob,
    VerifyBundle,
    VerifyBatch,
    GetVerifyingKey,
    ListVerifyingKeys,
}

const RPCS: [Rpc; 15] = [
    Rpc::Register,
    Rpc::RegisterBatch,
    Rpc::PublishSnapshot,
    Rpc::PublishSnapshotStream,
    Rpc::GetSnapshot,
    Rpc::GetLeaves,
    Rpc::SubmitClaim,
    Rpc::GetJob,
    Rpc::WatchJob,
    Rpc::GetBundle,
    Rpc::CancelJob,
    Rpc::VerifyBundle,
    Rpc::VerifyBatch,
    Rpc::GetVerifyingKey,
    Rpc::ListVerifyingKeys,
];

/// Which roles may call `rpc` about A (`A` only where the RPC is A's own business).
fn allowed(rpc: Rpc, who: Who) -> bool {
    use Who::*;
    match rpc {
        Rpc::Register | Rpc::RegisterBatch => matches!(who, Operator | A),
        Rpc::PublishSnapshot | Rpc::PublishSnapshotStream => who == Operator,
        Rpc::GetSnapshot | Rpc::GetVerifyingKey | Rpc::ListVerifyingKeys => {
            matches!(who, Operator | A | B | Verifier | Auditor)
        }
        Rpc::GetLeaves | Rpc::SubmitClaim => who == A,
        Rpc::GetJob | Rpc::WatchJob | Rpc::GetBundle | Rpc::CancelJob => who == A,
        Rpc::VerifyBundle | Rpc::VerifyBatch => matches!(who, Verifier | Auditor),
    }
}

struct Fixture {
    server: TestServer,
    tokens: Tokens,
    a: Contributor,
    job_id: String,
    bundle_json: String,
}

/// Calls `rpc` as `who`; `Ok(())` or the status code.
async fn call(f: &Fixture, rpc: Rpc, who: Who) -> Result<(), Code> {
    let t = token(who, &f.tokens);
    let t = t.as_deref();
    let job = || pb::JobRequest {
        job_id: f.job_id.clone(),
    };
    let code = |s: tonic::Status| s.code();
    match rpc {
        Rpc::Register => f
            .server
            .datanet_as(t)
            .await
            .register(pb::RegisterRequest {
                contributor_id: fr_to_decimal(&f.a.id),
                commitment: fr_to_decimal(&f.a.contributions[0].commitment),
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::RegisterBatch => f
            .server
            .datanet_as(t)
            .await
            .register_batch(pb::RegisterBatchRequest {
                registrations: vec![pb::RegisterRequest {
                    contributor_id: fr_to_decimal(&f.a.id),
                    commitment: fr_to_decimal(&f.a.contributions[0].commitment),
                }],
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::PublishSnapshot => f
            .server
            .datanet_as(t)
            .await
            .publish_snapshot(publish_request())
            .await
            .map(drop)
            .map_err(code),
        Rpc::PublishSnapshotStream => f
            .server
            .datanet_as(t)
            .await
            .publish_snapshot_stream(tokio_stream::iter(vec![{
                let mut r = publish_request();
                r.leaf_count = r.weights.len() as u64;
                r
            }]))
            .await
            .map(drop)
            .map_err(code),
        Rpc::GetSnapshot => f
            .server
            .datanet_as(t)
            .await
            .get_snapshot(pb::GetSnapshotRequest { epoch: Some(1) })
            .await
            .map(drop)
            .map_err(code),
        Rpc::GetLeaves => f
            .server
            .datanet_as(t)
            .await
            .get_leaves(pb::GetLeavesRequest {
                epoch: 1,
                contributor_id: fr_to_decimal(&f.a.id),
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::SubmitClaim => f
            .server
            .prover_as(t)
            .await
            .submit_claim(f.a.claim(1, &[0]))
            .await
            .map(drop)
            .map_err(code),
        Rpc::GetJob => f
            .server
            .prover_as(t)
            .await
            .get_job(job())
            .await
            .map(drop)
            .map_err(code),
        Rpc::WatchJob => f
            .server
            .prover_as(t)
            .await
            .watch_job(job())
            .await
            .map(drop)
            .map_err(code),
        Rpc::GetBundle => f
            .server
            .prover_as(t)
            .await
            .get_bundle(job())
            .await
            .map(drop)
            .map_err(code),
        Rpc::CancelJob => match f.server.prover_as(t).await.cancel_job(job()).await {
            // A done job cannot be cancelled: allowed, and refused for that reason only.
            Err(s) if s.code() == Code::FailedPrecondition => Ok(()),
            other => other.map(drop).map_err(code),
        },
        Rpc::VerifyBundle => f
            .server
            .verifier_as(t)
            .await
            .verify_bundle(pb::VerifyBundleRequest {
                bundle_json: f.bundle_json.clone(),
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::VerifyBatch => f
            .server
            .verifier_as(t)
            .await
            .verify_batch(pb::VerifyBatchRequest {
                bundle_json: vec![f.bundle_json.clone()],
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::GetVerifyingKey => f
            .server
            .verifier_as(t)
            .await
            .get_verifying_key(pb::GetVerifyingKeyRequest {
                selector: Some(pb::get_verifying_key_request::Selector::CircuitId(
                    "claim-v1-n1-d4".into(),
                )),
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::ListVerifyingKeys => f
            .server
            .verifier_as(t)
            .await
            .list_verifying_keys(pb::ListVerifyingKeysRequest {})
            .await
            .map(drop)
            .map_err(code),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_checks_every_role() {
    let dir = tempfile::tempdir().unwrap();
    let (config, tokens) =
        config_with_tokens(dir.path(), &Contributor::new(1, 2), &Contributor::new(2, 1));
    let server = TestServer::start(config).await;
    let (a, _b) = standard_setup_with(
        &server,
        &tokens,
        Contributor::new(1, 2),
        Contributor::new(2, 1),
    )
    .await;
    // A's job, done, with its bundle.
    let mut prover = server.prover_as(Some(&tokens.a)).await;
    let job = prover
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    let mut stream = prover
        .watch_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    while stream.message().await.unwrap().is_some() {}
    let bundle_json = prover
        .get_bundle(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .bundle_json;
    let f = Fixture {
        server,
        tokens,
        a,
        job_id: job.job_id,
        bundle_json,
    };

    let mut failures = vec![];
    let mut checked = 0;
    for rpc in RPCS {
        for who in EVERYONE {
            let got = call(&f, rpc, who).await;
            let want = match who {
                Who::NoToken | Who::UnknownToken => Err(Code::Unauthenticated),
                _ if allowed(rpc, who) => Ok(()),
                _ => Err(Code::PermissionDenied),
            };
            checked += 1;
            if got != want {
                failures.push(format!("{rpc:?} as {who:?}: got {got:?}, want {want:?}"));
            }
        }
    }
    assert_eq!(checked, RPCS.len() * EVERYONE.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A contributor claiming with another contributor's secret: H(secret) is not its id.
    let s = f
        .server
        .prover_as(Some(&f.tokens.b))
        .await
        .submit_claim(f.a.claim(1, &[1]))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    // A malformed authorization header is refused like a missing one.
    let mut req = tonic::Request::new(pb::GetSnapshotRequest { epoch: Some(1) });
    req.metadata_mut()
        .insert("authorization", "Basic abc".parse().unwrap());
    let s = pb::datanet_client::DatanetClient::new(f.server.channel().await)
        .get_snapshot(req)
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    // The refusal names no token.
    assert!(!s.message().contains(&f.tokens.a));

    // Health and reflection need no token.
    let health = tonic_health::pb::health_client::HealthClient::new(f.server.channel().await)
        .check(tonic_health::pb::HealthCheckRequest {
            service: "credence.v1.Prover".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest,
    };
    let mut reflection = ServerReflectionClient::new(f.server.channel().await)
        .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }]))
        .await
        .unwrap()
        .into_inner();
    assert!(reflection.message().await.unwrap().is_some());
    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_init_file_requires_tokens() {
    let a = Contributor::new(1, 2);
    let text = credence_server::config::example(Some(&fr_to_decimal(&a.id)));
    let mut c: credence_server::Config = toml::from_str(&text).unwrap();
    let operator = c.tokens[0].token.clone();
    let contributor = c.tokens[1].token.clone();
    assert_eq!(c.tokens.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let test = credence_tests::config(dir.path());
    c.data_dir = test.data_dir;
    c.keys_dir = test.keys_dir;
    c.shapes = test.shapes;
    c.datanet = test.datanet;
    let server = TestServer::start(c).await;
    let register = pb::RegisterRequest {
        contributor_id: fr_to_decimal(&a.id),
        commitment: fr_to_decimal(&a.contributions[0].commitment),
    };
    let s = server
        .datanet_as(None)
        .await
        .register(register.clone())
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    server
        .datanet_as(Some(&contributor))
        .await
        .register(register)
        .await
        .unwrap();
    let s = server
        .datanet_as(Some(&contributor))
        .await
        .publish_snapshot(publish_request())
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    let s = server
        .datanet_as(Some(&operator))
        .await
        .publish_snapshot(pb::PublishSnapshotRequest {
            leaf_count: 0,
            weights: vec![pb::LeafWeight {
                leaf_index: 0,
                weight: 1,
            }],
            ..publish_request()
        })
        .await;
    assert!(s.is_ok(), "{s:?}");
    server.stop().await;
}
