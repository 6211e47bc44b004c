//! Shared helpers for the end-to-end tests: a real server on `127.0.0.1:0` built from the
//! `credence-server` library, clients, and contributor fixtures.
//!
//! Keys for the test shapes (N = 1 and 2 at depth 4) are generated once per test binary, with OS
//! randomness like production, into a temporary directory every server of the binary shares.
//!
//! Also here: a test PKI for the TLS tests ([`TestPki`]) and a capture of the server's `tracing`
//! output for the tests that read its log ([`CapturedLog`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ark_bn254::Fr;
use credence_circuits::{Shape, commitment};
use credence_proto::v1 as pb;
use credence_server::Config;
use credence_server::cli::{AuthChannel, BearerToken};
use credence_server::config::{RoleName, TokenConfig};
use credence_server::server::{App, Hooks, ServerError};
use credence_verifier::encoding::fr_to_decimal;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tracing_subscriber::fmt::format::{DefaultFields, Format};
use tracing_subscriber::fmt::{MakeWriter, SubscriberBuilder};

/// Runs `credence ARGS...` in this process, through the same parse and `run` as the binary's
/// `main`; `Err` carries the command's error message (or clap's usage error).
pub async fn credence_cli(args: &[&str]) -> Result<i32, String> {
    use clap::Parser as _;
    let cli = credence_server::cli::Cli::try_parse_from(
        std::iter::once("credence").chain(args.iter().copied()),
    )
    .map_err(|e| e.to_string())?;
    credence_server::cli::run(cli)
        .await
        .map_err(|e| format!("{e:#}"))
}

/// Depth of every test snapshot.
pub const DEPTH: u32 = 4;
/// The test shapes.
pub const SHAPES: [&str; 2] = ["1,4", "2,4"];

/// The keys directory shared by the binary's servers (generated on first use).
pub fn keys_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        for s in SHAPES {
            let shape = credence_server::config::parse_shape(s).expect("test shape");
            credence_server::keys::setup(&dir, shape, false).expect("test key setup");
        }
        dir
    })
}

/// The verifying key file of a shape (what an independent verifier would be handed).
pub fn vk_bytes(shape: Shape) -> Vec<u8> {
    std::fs::read(credence_server::keys::key_paths(keys_dir(), shape).1).expect("vk file")
}

/// A test configuration over `data_dir`.
pub fn config(data_dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: data_dir.to_owned(),
        keys_dir: Some(keys_dir().to_owned()),
        shapes: SHAPES.map(String::from).to_vec(),
        datanet: credence_server::config::DatanetConfig { depth: DEPTH },
        ..Config::default()
    }
}

/// A running server.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A handle on its state (pause proving, storage).
    pub app: App,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl TestServer {
    /// Starts a server with `config` on `127.0.0.1:0`.
    pub async fn start(config: Config) -> TestServer {
        let app = tokio::task::spawn_blocking(move || App::open(config, Hooks::default(), |_| {}))
            .await
            .expect("join")
            .expect("server start");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = app.clone();
        let task = tokio::spawn(async move {
            serving
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
        });
        TestServer {
            addr,
            app,
            stop: Some(stop),
            task,
        }
    }

    /// Starts a server on a fresh data directory (returned so it outlives the server).
    pub async fn fresh() -> (TestServer, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        (TestServer::start(config(dir.path())).await, dir)
    }

    /// Tells the server to shut down (it drains; see [`TestServer::stop`] to wait for it).
    pub fn begin_stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        self.begin_stop();
        self.task.await.expect("join").expect("server ran");
    }

    /// A channel sending `token` (if any) as a bearer token with every call.
    pub async fn channel_as(&self, token: Option<&str>) -> AuthChannel {
        let auth = match token {
            Some(t) => BearerToken::new(t).expect("token"),
            None => BearerToken::none(),
        };
        tonic::service::interceptor::InterceptedService::new(self.channel().await, auth)
    }

    /// A Datanet client with `token`.
    pub async fn datanet_as(
        &self,
        token: Option<&str>,
    ) -> pb::datanet_client::DatanetClient<AuthChannel> {
        pb::datanet_client::DatanetClient::new(self.channel_as(token).await)
    }

    /// A Prover client with `token`.
    pub async fn prover_as(
        &self,
        token: Option<&str>,
    ) -> pb::prover_client::ProverClient<AuthChannel> {
        pb::prover_client::ProverClient::new(self.channel_as(token).await)
    }

    /// A Verifier client with `token`.
    pub async fn verifier_as(
        &self,
        token: Option<&str>,
    ) -> pb::verifier_client::VerifierClient<AuthChannel> {
        pb::verifier_client::VerifierClient::new(self.channel_as(token).await)
    }

    /// A channel to the server.
    pub async fn channel(&self) -> Channel {
        let url = format!("http://{}", self.addr);
        for _ in 0..50 {
            if let Ok(c) = tonic::transport::Endpoint::from_shared(url.clone())
                .expect("url")
                .connect()
                .await
            {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server at {url} does not accept connections");
    }

    /// A Datanet client.
    pub async fn datanet(&self) -> pb::datanet_client::DatanetClient<Channel> {
        pb::datanet_client::DatanetClient::new(self.channel().await)
    }

    /// A Prover client.
    pub async fn prover(&self) -> pb::prover_client::ProverClient<Channel> {
        pb::prover_client::ProverClient::new(self.channel().await)
    }

    /// A Verifier client.
    pub async fn verifier(&self) -> pb::verifier_client::VerifierClient<Channel> {
        pb::verifier_client::VerifierClient::new(self.channel().await)
    }
}

/// One committed contribution of a contributor.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The data (never sent, except as `raw_data` in the tests that check it).
    pub data: Vec<u8>,
    /// `digest(data)`.
    pub digest: Fr,
    /// Its blinding.
    pub blinding: Fr,
    /// `H(digest, blinding)`.
    pub commitment: Fr,
    /// Its leaf, once registered.
    pub leaf_index: u64,
}

/// A contributor with a secret and committed data.
#[derive(Clone, Debug)]
pub struct Contributor {
    /// `s`.
    pub secret: Fr,
    /// `H(s)`.
    pub id: Fr,
    /// Its contributions.
    pub contributions: Vec<Committed>,
}

impl Contributor {
    /// A contributor with deterministic test values (`seed` keeps them apart).
    ///
    /// Secrets and blindings are full-width field elements, as in production: the secret
    /// scans (`no_secrets_leak`) search for every spelling of them, and a small value such as
    /// a five-digit decimal turns up by chance in any log with microsecond timestamps.
    pub fn new(seed: u64, count: usize) -> Contributor {
        let secret = commitment::digest(format!("test secret of contributor {seed}").as_bytes());
        let contributions = (0..count)
            .map(|i| {
                let data = format!("contributor {seed} record {i}").into_bytes();
                let digest = commitment::digest(&data);
                let blinding = commitment::digest(
                    format!("test blinding {i} of contributor {seed}").as_bytes(),
                );
                Committed {
                    commitment: commitment::commitment(&digest, &blinding),
                    data,
                    digest,
                    blinding,
                    leaf_index: u64::MAX,
                }
            })
            .collect();
        Contributor {
            id: commitment::contributor_id(&secret),
            secret,
            contributions,
        }
    }

    /// Registers every contribution and records its leaf index.
    pub async fn register(&mut self, server: &TestServer) {
        let mut client = server.datanet().await;
        for c in &mut self.contributions {
            let r = client
                .register(pb::RegisterRequest {
                    contributor_id: fr_to_decimal(&self.id),
                    commitment: fr_to_decimal(&c.commitment),
                })
                .await
                .expect("register")
                .into_inner();
            c.leaf_index = r.leaf_index;
        }
    }

    /// A claim request over the given contributions (by position), looked up on the server.
    pub fn claim(&self, epoch: u64, which: &[usize]) -> pb::SubmitClaimRequest {
        pb::SubmitClaimRequest {
            secret: fr_to_decimal(&self.secret),
            epoch,
            contributions: which
                .iter()
                .map(|&i| {
                    let c = &self.contributions[i];
                    pb::ClaimContribution {
                        data: Some(pb::claim_contribution::Data::Digest(fr_to_decimal(
                            &c.digest,
                        ))),
                        blinding: fr_to_decimal(&c.blinding),
                        leaf_index: c.leaf_index,
                        leaf: None,
                    }
                })
                .collect(),
            ..Default::default()
        }
    }
}

/// Publishes a snapshot giving each `(leaf, weight)`.
pub async fn publish(
    server: &TestServer,
    epoch: u64,
    revenue: u64,
    weights: &[(u64, u64)],
) -> pb::Snapshot {
    server
        .datanet()
        .await
        .publish_snapshot(pb::PublishSnapshotRequest {
            leaf_count: 0,
            epoch,
            depth: 0,
            revenue,
            weights: weights
                .iter()
                .map(|&(leaf_index, weight)| pb::LeafWeight { leaf_index, weight })
                .collect(),
        })
        .await
        .expect("publish")
        .into_inner()
}

/// Watches a job to its end; returns every state seen, in order, and the last event.
pub async fn watch(server: &TestServer, job_id: &str) -> (Vec<pb::JobState>, pb::Job) {
    watch_as(server, None, job_id).await
}

/// [`watch`] with a bearer token.
pub async fn watch_as(
    server: &TestServer,
    token: Option<&str>,
    job_id: &str,
) -> (Vec<pb::JobState>, pb::Job) {
    let mut stream = server
        .prover_as(token)
        .await
        .watch_job(pb::JobRequest {
            job_id: job_id.to_owned(),
        })
        .await
        .expect("watch")
        .into_inner();
    let mut states = vec![];
    let mut last = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while let Some(ev) = tokio::time::timeout_at(deadline, stream.message())
        .await
        .expect("job finished within 120 s")
        .expect("stream")
    {
        states.push(pb::JobState::try_from(ev.state).expect("known state"));
        last = Some(ev);
    }
    (states, last.expect("at least one event"))
}

/// Two contributors registered, a snapshot of epoch 1 published: A has leaves 0 and 2
/// (weights 30 and 50), B has leaf 1 (weight 20); revenue 1000.
pub async fn standard_setup(server: &TestServer) -> (Contributor, Contributor) {
    let mut a = Contributor::new(1, 2);
    let mut b = Contributor::new(2, 1);
    // Interleave so A's leaves are not adjacent: A0 -> 0, B0 -> 1, A1 -> 2.
    let mut client = server.datanet().await;
    for (who, i) in [(0, 0), (1, 0), (0, 1)] {
        let c = if who == 0 { &mut a } else { &mut b };
        let r = client
            .register(pb::RegisterRequest {
                contributor_id: fr_to_decimal(&c.id),
                commitment: fr_to_decimal(&c.contributions[i].commitment),
            })
            .await
            .expect("register")
            .into_inner();
        c.contributions[i].leaf_index = r.leaf_index;
    }
    publish(server, 1, 1000, &[(0, 30), (1, 20), (2, 50)]).await;
    (a, b)
}

/// The tokens of [`config_with_tokens`]: one per role, and two contributors in two tenants.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// Operator (tenant `operator`).
    pub operator: String,
    /// Contributor A (tenant `hospital-a`, A's contributor id).
    pub a: String,
    /// Contributor B (tenant `hospital-b`, B's contributor id).
    pub b: String,
    /// Verifier.
    pub verifier: String,
    /// Auditor.
    pub auditor: String,
}

/// A test configuration with tokens: `a` and `b` are the contributors of the two contributor
/// tokens.
pub fn config_with_tokens(data_dir: &Path, a: &Contributor, b: &Contributor) -> (Config, Tokens) {
    let fresh = credence_server::config::fresh_token;
    let tokens = Tokens {
        operator: fresh(),
        a: fresh(),
        b: fresh(),
        verifier: fresh(),
        auditor: fresh(),
    };
    let entry = |token: &str, tenant: &str, role: RoleName, id: Option<&Fr>| TokenConfig {
        token: token.to_owned(),
        tenant: tenant.to_owned(),
        role,
        contributor_id: id.map(fr_to_decimal),
    };
    let mut c = config(data_dir);
    c.tokens = vec![
        entry(&tokens.operator, "operator", RoleName::Operator, None),
        entry(&tokens.a, "hospital-a", RoleName::Contributor, Some(&a.id)),
        entry(&tokens.b, "hospital-b", RoleName::Contributor, Some(&b.id)),
        entry(&tokens.verifier, "verifier", RoleName::Verifier, None),
        entry(&tokens.auditor, "auditor", RoleName::Auditor, None),
    ];
    (c, tokens)
}

/// [`standard_setup`] on a server with tokens: each contributor registers with its own token,
/// the operator publishes.
pub async fn standard_setup_with(
    server: &TestServer,
    tokens: &Tokens,
    mut a: Contributor,
    mut b: Contributor,
) -> (Contributor, Contributor) {
    for (who, i) in [(0, 0), (1, 0), (0, 1)] {
        let (c, token) = if who == 0 {
            (&mut a, &tokens.a)
        } else {
            (&mut b, &tokens.b)
        };
        let r = server
            .datanet_as(Some(token))
            .await
            .register(pb::RegisterRequest {
                contributor_id: fr_to_decimal(&c.id),
                commitment: fr_to_decimal(&c.contributions[i].commitment),
            })
            .await
            .expect("register")
            .into_inner();
        c.contributions[i].leaf_index = r.leaf_index;
    }
    server
        .datanet_as(Some(&tokens.operator))
        .await
        .publish_snapshot(publish_request())
        .await
        .expect("publish");
    (a, b)
}

/// The snapshot of [`standard_setup`]: epoch 1, leaves 0, 1, 2 weighing 30, 20, 50.
pub fn publish_request() -> pb::PublishSnapshotRequest {
    pb::PublishSnapshotRequest {
        leaf_count: 0,
        epoch: 1,
        depth: 0,
        revenue: 1000,
        weights: [(0, 30), (1, 20), (2, 50)]
            .map(|(leaf_index, weight)| pb::LeafWeight { leaf_index, weight })
            .to_vec(),
    }
}

/// A certificate and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The certificate.
    pub cert: String,
    /// Its private key (PKCS#8).
    pub key: String,
}

/// A private certificate authority (rcgen, a fresh key each time) that issues leaf
/// certificates.
pub struct TestCa {
    /// The CA's self-signed certificate, what a server or client is told to trust.
    pub cert: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    /// A CA with the common name `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa {
            cert: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for the DNS name `name` (its only subject alternative name), with a fresh
    /// key, signed by this CA.
    pub fn issue(&self, name: &str) -> Issued {
        let params = CertificateParams::new(vec![name.to_owned()]).expect("leaf params");
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        Issued {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// The PKI of a deployment with TLS: a CA, the server's certificate for `localhost` (the name
/// the tests connect to) and a client's, both issued by the CA.
pub struct TestPki {
    /// The CA (`--ca` of a client, `[tls] client_ca` of a server under mutual TLS).
    pub ca: TestCa,
    /// The server's certificate and key (`[tls] cert` and `key`).
    pub server: Issued,
    /// The client's certificate and key, for mutual TLS.
    pub client: Issued,
}

impl TestPki {
    /// A fresh PKI whose client certificate names `client`.
    pub fn new(client: &str) -> TestPki {
        let ca = TestCa::new("credence test CA");
        TestPki {
            server: ca.issue("localhost"),
            client: ca.issue(client),
            ca,
        }
    }
}

/// arkworks' `tracing` targets, off in every capture as in the `credence` binary: with a
/// subscriber at their level, proving records millions of spans and takes minutes.
const QUIET_ARKWORKS: &str = "gr1cs=off,r1cs=off,ark_relations=off,ark_r1cs_std=off,ark_groth16=off,ark_crypto_primitives=off";

/// Everything a `tracing` subscriber made by [`CapturedLog::subscriber`] writes, in memory, for
/// the tests that read the server's log. Clones share one buffer.
#[derive(Clone, Debug, Default)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// A `fmt` subscriber writing plain text (no colours) into this capture, filtered by the
    /// `EnvFilter` directives `filter` (e.g. `"info,credence=debug"`) with arkworks' targets
    /// off. Install it with `.finish()` and `tracing::subscriber::set_default` (this thread) or
    /// with `.init()` (the whole process).
    pub fn subscriber(
        &self,
        filter: &str,
    ) -> SubscriberBuilder<DefaultFields, Format, tracing_subscriber::EnvFilter, CapturedLog> {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
                "{filter},{QUIET_ARKWORKS}"
            )))
            .with_ansi(false)
            .with_writer(self.clone())
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("capture lock").clone()
    }

    /// The text written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// Where the output ends now: [`CapturedLog::text_since`] reads what follows.
    pub fn mark(&self) -> usize {
        self.0.lock().expect("capture lock").len()
    }

    /// The text written since `mark`.
    pub fn text_since(&self, mark: usize) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture lock")[mark..]).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;

    fn make_writer(&'a self) -> CapturedLog {
        self.clone()
    }
}
