//! The server bounds its connections: how many it holds, how long a silent peer may hold one,
//! and how many streams one connection may open; a live client that is merely idle keeps its
//! connection (it answers the server's pings).

use std::time::Duration;

use credence_tests::{TestServer, config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// True if the server closed `tcp` within `within` (EOF or reset on read).
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // The server's own preface (SETTINGS) arrives once the client's is complete.
            Ok(Ok(_)) => continue,
        }
    }
}

async fn start(
    tune: impl FnOnce(&mut credence_server::config::Limits),
) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    tune(&mut c.limits);
    (TestServer::start(c).await, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_half_open_connections_are_closed_live_idle_ones_are_not() {
    let (server, _dir) = start(|l| {
        l.idle_timeout_secs = 3;
        l.http2_keepalive_interval_secs = 1;
        l.http2_keepalive_timeout_secs = 1;
    })
    .await;

    // A live client with an open watch, idle past the timeout: the server's pings keep it.
    let mut health = HealthClient::new(server.channel().await);
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    watch.message().await.unwrap().unwrap();

    // A connection that sends nothing, and one that stops half-way through the preface.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();

    assert!(closed_within(&mut silent, Duration::from_secs(10)).await);
    assert!(closed_within(&mut half, Duration::from_secs(10)).await);

    // The watch is still open: no message, no error, no end.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), watch.message())
            .await
            .is_err(),
        "the live client's watch ended"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_are_closed_at_once() {
    let (server, _dir) = start(|l| l.max_connections = 4).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // Give the accept loop the four.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = TcpStream::connect(server.addr).await.unwrap();
    assert!(closed_within(&mut fifth, Duration::from_secs(2)).await);
    for tcp in &mut held {
        assert!(!closed_within(tcp, Duration::from_millis(50)).await);
    }

    // One leaves: there is room again, and a real client gets through.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut health = HealthClient::new(server.channel().await);
    health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    drop(held);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_limit_is_advertised_and_enforced() {
    let (server, _dir) = start(|l| l.max_concurrent_streams = 3).await;
    let channel = server.channel().await;
    // Three watches fill the connection; a fourth call waits for a free stream.
    let mut watches = Vec::new();
    for _ in 0..3 {
        let mut w = HealthClient::new(channel.clone())
            .watch(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        w.message().await.unwrap().unwrap();
        watches.push(w);
    }
    let mut client = HealthClient::new(channel.clone());
    let mut fourth = Box::pin(client.check(HealthCheckRequest {
        service: String::new(),
    }));
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut fourth)
            .await
            .is_err(),
        "a fourth stream was opened on a connection limited to three"
    );
    // One watch ends: the waiting call goes through.
    drop(watches.pop());
    tokio::time::timeout(Duration::from_secs(5), fourth)
        .await
        .expect("the call gets the freed stream")
        .unwrap();
    server.stop().await;
}

#[test]
fn keepalive_must_fit_in_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.limits.idle_timeout_secs = 60;
    c.limits.http2_keepalive_interval_secs = 50;
    c.limits.http2_keepalive_timeout_secs = 10;
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("limits.idle_timeout_secs"), "{err}");
    c.limits.idle_timeout_secs = 61;
    c.validate().unwrap();
    c.limits.max_connections = 0;
    assert!(c.validate().is_err());
}
