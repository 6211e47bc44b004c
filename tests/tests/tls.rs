//! TLS and mutual TLS (rustls) with certificates generated here: a CA, a server certificate
//! for `localhost`, a client certificate. Under mTLS a client without a certificate is refused.

use std::path::Path;

use credence_server::config::TlsConfig;
use credence_tests::{Issued, TestCa, TestPki, TestServer, config};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn health(server: &TestServer, tls: Option<ClientTlsConfig>) -> Result<(), String> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut ep = Endpoint::from_shared(format!("{scheme}://localhost:{}", server.addr.port()))
        .unwrap()
        .connect_timeout(std::time::Duration::from_secs(5));
    if let Some(t) = tls {
        ep = ep.tls_config(t).map_err(|e| e.to_string())?;
    }
    let ch = ep.connect().await.map_err(|e| format!("connect: {e:?}"))?;
    HealthClient::new(ch)
        .check(HealthCheckRequest::default())
        .await
        .map(drop)
        .map_err(|s| format!("{s:?}"))
}

fn client_tls(pki: &TestPki, identity: Option<&Issued>) -> ClientTlsConfig {
    let mut t = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca.cert))
        .domain_name("localhost");
    if let Some(id) = identity {
        t = t.identity(Identity::from_pem(&id.cert, &id.key));
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls() {
    let pki = TestPki::new("hospital-a");
    // A client certificate from another CA.
    let stranger = TestCa::new("another CA").issue("hospital-a");
    let certs = tempfile::tempdir().unwrap();
    let tls = TlsConfig {
        cert: write(certs.path(), "server.pem", &pki.server.cert),
        key: write(certs.path(), "server.key", &pki.server.key),
        client_ca: None,
    };

    // A private key other users may read is refused at start, naming the fix, before the
    // server creates its data directory.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut c = config(&data);
    c.tls = Some(tls.clone());
    let e = tokio::task::spawn_blocking(move || {
        credence_server::server::App::open(c, credence_server::server::Hooks::default(), |_| {})
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
    assert!(
        !data.exists(),
        "nothing created before the TLS files were checked"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tls.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // TLS: a client trusting the CA gets through; a plaintext client does not.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.tls = Some(tls.clone());
    let server = TestServer::start(c).await;
    health(&server, Some(client_tls(&pki, None))).await.unwrap();
    assert!(health(&server, None).await.is_err());
    server.stop().await;

    // Mutual TLS: only a client with a certificate from the configured CA gets through.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.tls = Some(TlsConfig {
        client_ca: Some(write(certs.path(), "ca.pem", &pki.ca.cert)),
        ..tls
    });
    let server = TestServer::start(c).await;
    health(&server, Some(client_tls(&pki, Some(&pki.client))))
        .await
        .unwrap();
    let refused = health(&server, Some(client_tls(&pki, None))).await;
    assert!(
        refused.is_err(),
        "a client without a certificate got through"
    );
    let refused = health(&server, Some(client_tls(&pki, Some(&stranger)))).await;
    assert!(
        refused.is_err(),
        "a certificate from another CA got through"
    );
    assert!(health(&server, None).await.is_err());
    server.stop().await;
}
