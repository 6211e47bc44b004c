//! TLS and mutual TLS (rustls) with certificates generated here: a CA, a server certificate
//! for `localhost`, a client certificate. Under mTLS a client without a certificate is refused.

use std::path::Path;

use credence_server::config::TlsConfig;
use credence_tests::{TestServer, config};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
    /// A client certificate from another CA.
    stranger: (String, String),
}

fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

fn leaf(name: &str, issuer: &Issuer<'static, KeyPair>) -> (String, String) {
    let params = CertificateParams::new(vec![name.to_owned()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let (ca_pem, issuer) = ca("credence test CA");
    let (_, other) = ca("another CA");
    Pki {
        ca_pem,
        server: leaf("localhost", &issuer),
        client: leaf("hospital-a", &issuer),
        stranger: leaf("hospital-a", &other),
    }
}

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

fn client_tls(pki: &Pki, identity: Option<&(String, String)>) -> ClientTlsConfig {
    let mut t = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca_pem))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        t = t.identity(Identity::from_pem(cert, key));
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls() {
    let pki = pki();
    let certs = tempfile::tempdir().unwrap();
    let tls = TlsConfig {
        cert: write(certs.path(), "server.pem", &pki.server.0),
        key: write(certs.path(), "server.key", &pki.server.1),
        client_ca: None,
    };

    // A private key other users may read is refused at start, naming the fix.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.tls = Some(tls.clone());
    let app = tokio::task::spawn_blocking(move || {
        credence_server::server::App::open(c, credence_server::server::Hooks::default(), |_| {})
    })
    .await
    .unwrap()
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let e = app
        .serve(listener, std::future::pending::<()>())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
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
        client_ca: Some(write(certs.path(), "ca.pem", &pki.ca_pem)),
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
    let refused = health(&server, Some(client_tls(&pki, Some(&pki.stranger)))).await;
    assert!(
        refused.is_err(),
        "a certificate from another CA got through"
    );
    assert!(health(&server, None).await.is_err());
    server.stop().await;
}
