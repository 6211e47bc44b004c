//! The request log: a server with tokens writes one line per request (method, tenant, gRPC
//! status name, latency), for a call that succeeds and for calls refused without a token or
//! for lack of permission, for a stream that ends (its trailers' status) and one the client
//! drops (CANCELLED); health checks only at DEBUG; no token and no request field value in any
//! line; and lines when it starts serving, starts draining, and has stopped.
//!
//! The server runs in this process on a current-thread runtime, so every task it spawns logs
//! to the subscriber this test sets as the thread's default (proofs run on blocking threads,
//! whose lines are not captured and not needed here).

use std::time::Duration;

use credence_proto::v1 as pb;
use credence_tests::{
    CapturedLog, Contributor, TestServer, config_with_tokens, standard_setup_with,
};
use credence_verifier::encoding::fr_to_decimal;
use tonic::Code;

/// The request lines written since `mark`.
fn requests_since(captured: &CapturedLog, mark: usize) -> Vec<Request> {
    captured
        .text_since(mark)
        .lines()
        .filter_map(Request::parse)
        .collect()
}

/// Waits (at most 10 s) for a request line of `method`, for what the server writes after the
/// client has its answer (a stream the client dropped).
async fn wait_for(captured: &CapturedLog, mark: usize, method: &str) -> Vec<Request> {
    for _ in 0..500 {
        let lines: Vec<Request> = requests_since(captured, mark)
            .into_iter()
            .filter(|r| r.method == method)
            .collect();
        if !lines.is_empty() {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no request line for {method}:\n{}", captured.text());
}

/// One request line, as the default `fmt` subscriber prints it:
/// `<time>  INFO credence::request: method=... tenant=... code=... latency_ms=...`.
#[derive(Clone, Debug, PartialEq)]
struct Request {
    level: String,
    method: String,
    tenant: String,
    code: String,
    latency_ms: f64,
    /// Every field name, in order: the line has these four and nothing else.
    fields: Vec<String>,
}

impl Request {
    fn parse(line: &str) -> Option<Request> {
        let (head, fields) = line.split_once(" credence::request: ")?;
        let level = head.split_whitespace().last()?.to_owned();
        let mut r = Request {
            level,
            method: String::new(),
            tenant: String::new(),
            code: String::new(),
            latency_ms: -1.0,
            fields: vec![],
        };
        for field in fields.split_whitespace() {
            let (k, v) = field.split_once('=').unwrap_or((field, ""));
            r.fields.push(k.to_owned());
            match k {
                "method" => r.method = v.to_owned(),
                "tenant" => r.tenant = v.to_owned(),
                "code" => r.code = v.to_owned(),
                "latency_ms" => r.latency_ms = v.parse().unwrap_or(-1.0),
                _ => {}
            }
        }
        Some(r)
    }

    /// The one line the call made: of `method`, with `tenant` and `code` at INFO.
    fn assert_one(lines: &[Request], method: &str, tenant: &str, code: &str) {
        assert_eq!(lines.len(), 1, "one line for {method}: {lines:#?}");
        let r = &lines[0];
        assert_eq!(
            (
                r.level.as_str(),
                r.method.as_str(),
                r.tenant.as_str(),
                r.code.as_str()
            ),
            ("INFO", method, tenant, code),
            "{r:?}"
        );
        assert_eq!(
            r.fields,
            ["method", "tenant", "code", "latency_ms"],
            "{r:?}"
        );
        assert!(
            r.latency_ms >= 0.0 && r.latency_ms < 60_000.0,
            "latency: {r:?}"
        );
    }
}

const REGISTER: &str = "/credence.v1.Datanet/Register";
const SUBMIT: &str = "/credence.v1.Prover/SubmitClaim";
const WATCH: &str = "/credence.v1.Prover/WatchJob";
const HEALTH: &str = "/grpc.health.v1.Health/Check";

#[tokio::test]
async fn one_line_per_request_with_its_status_and_nothing_secret() {
    let captured = CapturedLog::default();
    // INFO as `credence serve` logs by default; DEBUG for the server's own targets, to see
    // the health check's line and that nothing secret is logged there either.
    let subscriber = captured
        .subscriber("info,credence=debug,credence_server=debug")
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    // A's third contribution is registered below, after the standard two.
    let (a, b) = (Contributor::new(1, 3), Contributor::new(2, 1));
    let (c, tokens) = config_with_tokens(dir.path(), &a, &b);
    let server = TestServer::start(c).await;
    let (a, b) = standard_setup_with(&server, &tokens, a, b).await;

    // The start line says what this process serves.
    let start = captured
        .text()
        .lines()
        .find(|l| l.contains(" serving "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no start line:\n{}", captured.text()));
    for field in [
        format!("addr={}", server.addr),
        "tls=off".into(),
        "services=datanet,prover,verifier,audit_log".into(),
        "shapes=claim-v1-n1-d4,claim-v1-n2-d4".into(),
        "log_origin=".into(),
    ] {
        assert!(start.contains(&field), "{field} in {start}");
    }

    let register = |c: &Contributor| pb::RegisterRequest {
        contributor_id: fr_to_decimal(&c.id),
        commitment: fr_to_decimal(&c.contributions[2].commitment),
    };

    // A call that succeeds: the token's tenant, OK. Calls refused: with no token or a token
    // the server does not know (its text is not logged), by the authentication layer before
    // any handler, with no tenant; B's token registering for A's contributor id, by the
    // handler, with B's tenant.
    let unknown_token = "an-unknown-token-0123456789abcdef0123456789";
    for (token, code, tenant, logged) in [
        (Some(tokens.a.as_str()), Code::Ok, "hospital-a", "OK"),
        (None, Code::Unauthenticated, "-", "UNAUTHENTICATED"),
        (
            Some(unknown_token),
            Code::Unauthenticated,
            "-",
            "UNAUTHENTICATED",
        ),
        (
            Some(tokens.b.as_str()),
            Code::PermissionDenied,
            "hospital-b",
            "PERMISSION_DENIED",
        ),
    ] {
        let mark = captured.mark();
        let answer = server.datanet_as(token).await.register(register(&a)).await;
        let got = answer.as_ref().map_or_else(|s| s.code(), |_| Code::Ok);
        assert_eq!(got, code, "{answer:?}");
        Request::assert_one(&requests_since(&captured, mark), REGISTER, tenant, logged);
    }

    // A health check: logged, but at DEBUG (probes come every few seconds).
    let mark = captured.mark();
    tonic_health::pb::health_client::HealthClient::new(server.channel().await)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
    let health = requests_since(&captured, mark);
    assert_eq!(health.len(), 1, "{health:#?}");
    assert_eq!(
        (health[0].level.as_str(), health[0].method.as_str()),
        ("DEBUG", HEALTH)
    );
    assert_eq!(
        (health[0].tenant.as_str(), health[0].code.as_str()),
        ("-", "OK")
    );

    // A claim (its secret is a field value) and a stream the client drops: CANCELLED.
    let paused = server.app.pause_proving().await;
    let mark = captured.mark();
    let job = server
        .prover_as(Some(&tokens.a))
        .await
        .submit_claim(a.claim(1, &[0]))
        .await
        .unwrap()
        .into_inner();
    Request::assert_one(&requests_since(&captured, mark), SUBMIT, "hospital-a", "OK");
    let mark = captured.mark();
    let mut stream = server
        .prover_as(Some(&tokens.a))
        .await
        .watch_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    stream.message().await.unwrap().expect("the job's state");
    assert!(
        requests_since(&captured, mark).is_empty(),
        "a stream still open is not logged yet"
    );
    drop(stream);
    let dropped = wait_for(&captured, mark, WATCH).await;
    Request::assert_one(&dropped, WATCH, "hospital-a", "CANCELLED");

    // A stream that ends: the status of its trailers.
    drop(paused);
    let mark = captured.mark();
    let (_, last) = credence_tests::watch_as(&server, Some(&tokens.a), &job.job_id).await;
    assert_eq!(last.state, pb::JobState::Done as i32, "{last:?}");
    let ended = wait_for(&captured, mark, WATCH).await;
    Request::assert_one(&ended, WATCH, "hospital-a", "OK");

    // Shutdown: the drain line (with the jobs in flight) and the stop line.
    server.stop().await;
    let text = captured.text();
    let drain = text
        .lines()
        .find(|l| l.contains("shutting down: draining"))
        .unwrap_or_else(|| panic!("no drain line:\n{text}"));
    assert!(drain.contains(" jobs="), "{drain}");
    assert!(text.contains("server stopped"), "no stop line:\n{text}");

    // Nothing secret anywhere: no token, no field value of any request.
    let mut never: Vec<(String, String)> = [
        ("operator token", &tokens.operator),
        ("a's token", &tokens.a),
        ("b's token", &tokens.b),
        ("verifier token", &tokens.verifier),
        ("auditor token", &tokens.auditor),
    ]
    .into_iter()
    .map(|(what, t)| (what.to_owned(), t.clone()))
    .collect();
    never.push(("the unknown token".into(), unknown_token.into()));
    for c in [&a, &b] {
        never.push(("a contributor id".into(), fr_to_decimal(&c.id)));
        never.push(("a secret".into(), fr_to_decimal(&c.secret)));
        for k in &c.contributions {
            never.push(("a commitment".into(), fr_to_decimal(&k.commitment)));
            never.push(("a digest".into(), fr_to_decimal(&k.digest)));
            never.push(("a blinding".into(), fr_to_decimal(&k.blinding)));
        }
    }
    for (what, value) in &never {
        assert!(!text.contains(value.as_str()), "{what} in the log:\n{text}");
    }
}
