//! The `credence` command line. Subcommand names are a contract:
//!
//! - `credence serve [--config FILE] [--data-dir DIR] [--listen ADDR] [--shape N,D]...`
//! - `credence setup --shape N,D [--data-dir DIR]`
//! - `credence commit FILE... [--secret secret.key] [--openings openings.json]` (no server)
//! - `credence config init --out FILE [--contributor-id ID]`: a documented example
//!   configuration with fresh tokens for each role (mode 0600)
//! - `credence register`, `credence snapshot publish|show`, `credence claim`, `credence verify`:
//!   clients of a running server (`--server`, default `http://127.0.0.1:7117`; an `https://`
//!   URL with `--ca`, and `--cert`/`--key` for mutual TLS). The bearer token comes from the
//!   `CREDENCE_TOKEN` environment variable or `--token-file`, never from the command line
//!   (shell history and process lists would show it).
//! - `credence log export --data-dir DIR --out FILE`: the compliance log as one file for
//!   `credence-verify audit --export` (read-only; works while the server runs).
//!
//! The contributor's private files are described in [`files`].

pub mod demo;
pub mod files;
pub mod snapshot;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use credence_circuits::commitment;
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_to_decimal;
use zeroize::Zeroizing;

use crate::config::{Config, parse_shape};

/// Credence: prove contributions and payouts in zero knowledge.
#[derive(Debug, Parser)]
#[command(name = "credence", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Generate Groth16 keys for a circuit shape (single-party setup: see the warning).
    Setup(SetupArgs),
    /// Commit to files: digest, fresh blinding, commitment; writes the openings (0600).
    Commit(CommitArgs),
    /// Register committed contributions with a datanet.
    Register(RegisterArgs),
    /// Publish or read an epoch snapshot.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Prove a claim on a server and write its bundle.
    Claim(ClaimArgs),
    /// Verify claim bundles on a server.
    Verify(VerifyArgs),
    /// Server configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Measure proving, verification and the gRPC verifier on this machine.
    Bench(BenchArgs),
    /// Run a realistic end-to-end demo on a loopback server (see `credence demo --help`).
    Demo(demo::DemoArgs),
    /// The compliance log.
    #[command(subcommand)]
    Log(LogCommand),
}

/// `credence config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a documented example configuration with fresh random tokens (mode 0600).
    Init {
        /// The file to write (refused if it exists).
        #[arg(long)]
        out: PathBuf,
        /// The contributor token's contributor id (decimal, as `credence commit` prints it).
        #[arg(long)]
        contributor_id: Option<String>,
    },
}

/// `credence bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A circuit shape `N,D` to prove; repeat for several (default: 1,20 16,20 64,20).
    #[arg(long = "shape", value_parser = parse_shape)]
    pub shapes: Vec<credence_circuits::Shape>,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Timed proofs per shape, after one warm-up (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Concurrent clients of the gRPC verification measurement.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds the gRPC verification measurement runs.
    #[arg(long, default_value_t = 5.0)]
    pub grpc_seconds: f64,
}

/// `credence log`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Write the whole log (entries, every signed checkpoint, the key) as one export file.
    Export {
        /// The server's data directory (holding `log.db`).
        #[arg(long, default_value = "credence-data")]
        data_dir: PathBuf,
        /// The export file to write (replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
}

/// `credence serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration; without it, the development default (loopback only).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (overrides the configuration).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Listen address (overrides the configuration).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Circuit shapes `N,D` to offer (overrides the configuration; repeatable).
    #[arg(long = "shape")]
    pub shapes: Vec<String>,
}

/// `credence setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The shape, `N,D` (slots, tree depth).
    #[arg(long, value_parser = parse_shape)]
    pub shape: credence_circuits::Shape,
    /// Data directory; keys go to `<data_dir>/keys`.
    #[arg(long, default_value = "credence-data")]
    pub data_dir: PathBuf,
}

/// `credence commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Files to commit to (never sent anywhere).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The contributor secret file (created if absent).
    #[arg(long, default_value = "secret.key")]
    pub secret: PathBuf,
    /// The openings file (created or extended).
    #[arg(long, default_value = "openings.json")]
    pub openings: PathBuf,
    /// Print no line per file.
    #[arg(long)]
    pub quiet: bool,
}

/// Where the server is, and how to authenticate to it.
#[derive(Debug, Args)]
pub struct ServerArg {
    /// Server URL (`https://` for TLS).
    #[arg(long, default_value = "http://127.0.0.1:7117")]
    pub server: String,
    /// CA certificate (PEM) that signed the server's certificate.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM), for mutual TLS.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM), for mutual TLS.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// File holding the bearer token (otherwise `CREDENCE_TOKEN`, otherwise none).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

impl ServerArg {
    /// `url` without TLS options or token file (the token may still come from the
    /// environment).
    pub fn new(url: String) -> Self {
        ServerArg {
            server: url,
            ca: None,
            cert: None,
            key: None,
            token_file: None,
        }
    }

    fn remote(&self) -> Remote<'_> {
        Remote {
            flag: "--server",
            url: &self.server,
            ca: self.ca.as_deref(),
            identity: self.cert.as_deref().zip(self.key.as_deref()),
            token_file: self.token_file.as_deref(),
            token_env: TOKEN_ENV,
        }
    }
}

/// The operator's Datanet, when a claim is proven on another server than the one holding the
/// snapshot (a contributor's own prover): the snapshot, the contributor's leaves and their
/// Merkle-sum paths are read there and sent to the prover with the claim.
#[derive(Debug, Default, Args)]
pub struct DatanetArg {
    /// The operator's Datanet URL (`https://` for TLS); without it, `--server` holds the
    /// snapshot.
    #[arg(long)]
    pub datanet: Option<String>,
    /// CA certificate (PEM) that signed the Datanet's certificate.
    #[arg(long, requires = "datanet")]
    pub datanet_ca: Option<PathBuf>,
    /// Client certificate (PEM) for the Datanet, for mutual TLS.
    #[arg(long, requires_all = ["datanet", "datanet_key"])]
    pub datanet_cert: Option<PathBuf>,
    /// Client private key (PEM) for the Datanet, for mutual TLS.
    #[arg(long, requires = "datanet_cert")]
    pub datanet_key: Option<PathBuf>,
    /// File holding the Datanet's bearer token (otherwise `CREDENCE_DATANET_TOKEN`, otherwise
    /// none).
    #[arg(long, requires = "datanet")]
    pub datanet_token_file: Option<PathBuf>,
}

impl DatanetArg {
    fn remote(&self) -> Option<Remote<'_>> {
        Some(Remote {
            flag: "--datanet",
            url: self.datanet.as_deref()?,
            ca: self.datanet_ca.as_deref(),
            identity: self
                .datanet_cert
                .as_deref()
                .zip(self.datanet_key.as_deref()),
            token_file: self.datanet_token_file.as_deref(),
            token_env: DATANET_TOKEN_ENV,
        })
    }
}

/// A server to connect to, as one set of client flags names it.
struct Remote<'a> {
    /// The flag that gave the URL, for error messages.
    flag: &'static str,
    url: &'a str,
    ca: Option<&'a Path>,
    /// Client certificate and key, for mutual TLS.
    identity: Option<(&'a Path, &'a Path)>,
    token_file: Option<&'a Path>,
    /// Where the token comes from without a token file.
    token_env: &'static str,
}

/// The environment variable a client reads its bearer token from.
pub const TOKEN_ENV: &str = "CREDENCE_TOKEN";
/// The environment variable `credence claim --datanet` reads the Datanet's token from.
pub const DATANET_TOKEN_ENV: &str = "CREDENCE_DATANET_TOKEN";

/// Adds `authorization: Bearer <token>` to every call (nothing without a token).
#[derive(Clone)]
pub struct BearerToken(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// A token sent with every call; the header value is marked sensitive.
    pub fn new(token: &str) -> Result<Self> {
        let mut value: tonic::metadata::MetadataValue<tonic::metadata::Ascii> =
            format!("Bearer {}", token.trim())
                .parse()
                .map_err(|_| anyhow::anyhow!("the token is not printable ASCII"))?;
        value.set_sensitive(true);
        Ok(BearerToken(Some(value)))
    }

    /// No token.
    pub fn none() -> Self {
        BearerToken(None)
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            request.metadata_mut().insert("authorization", v.clone());
        }
        Ok(request)
    }
}

/// A channel that authenticates every call.
pub type AuthChannel =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BearerToken>;

/// `credence register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Server.
    #[command(flatten)]
    server: ServerArg,
    /// The openings file whose unregistered commitments to register.
    #[arg(long, default_value = "openings.json")]
    pub openings: PathBuf,
    /// Print no line per file.
    #[arg(long)]
    pub quiet: bool,
}

/// `credence claim`.
#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// The server that proves (its Prover service).
    #[command(flatten)]
    server: ServerArg,
    /// The operator's Datanet, when it is not `--server`.
    #[command(flatten)]
    pub datanet: DatanetArg,
    /// The snapshot's epoch.
    #[arg(long)]
    pub epoch: u64,
    /// The contributor secret file.
    #[arg(long, default_value = "secret.key")]
    pub secret: PathBuf,
    /// The openings file.
    #[arg(long, default_value = "openings.json")]
    pub openings: PathBuf,
    /// The claimed range `START..END` (default: the whole tree, revealing no positions).
    #[arg(long)]
    pub range: Option<String>,
    /// Where to write the bundle.
    #[arg(long, default_value = "bundle.json")]
    pub out: PathBuf,
}

/// `credence verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Server.
    #[command(flatten)]
    server: ServerArg,
    /// Bundle files.
    #[arg(required = true)]
    pub bundles: Vec<PathBuf>,
}

/// Runs the command; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Serve(a) => serve(a).await.map(|()| 0),
        Command::Setup(a) => setup(a).await.map(|()| 0),
        Command::Commit(a) => commit(a).map(|()| 0),
        Command::Register(a) => register(a).await.map(|()| 0),
        Command::Snapshot(c) => snapshot::run(c).await.map(|()| 0),
        Command::Claim(a) => claim(a).await.map(|()| 0),
        Command::Verify(a) => verify(a).await,
        Command::Config(ConfigCommand::Init {
            out,
            contributor_id,
        }) => config_init(&out, contributor_id.as_deref()).map(|()| 0),
        Command::Bench(a) => bench(a).await.map(|()| 0),
        Command::Demo(a) => demo::run(a).await.map(|()| 0),
        Command::Log(c) => log(c).await.map(|()| 0),
    }
}

async fn bench(a: BenchArgs) -> Result<()> {
    let shapes = if a.shapes.is_empty() {
        [1, 16, 64]
            .into_iter()
            .map(|n| credence_circuits::Shape::new(n, credence_circuits::claim::DEFAULT_DEPTH))
            .collect::<Result<_, _>>()?
    } else {
        a.shapes
    };
    if a.runs == 0 || a.clients == 0 {
        bail!("--runs and --clients must be at least 1");
    }
    let report = crate::bench::run(crate::bench::BenchOptions {
        shapes,
        runs: a.runs,
        clients: a.clients,
        grpc_seconds: a.grpc_seconds,
        scratch: std::env::temp_dir(),
    })
    .await?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", crate::bench::table(&report));
    }
    Ok(())
}

async fn log(c: LogCommand) -> Result<()> {
    match c {
        LogCommand::Export { data_dir, out } => {
            let db = data_dir.join(crate::log::LOG_DB_FILE);
            if !db.exists() {
                bail!("{}: no compliance log here", db.display());
            }
            // A read-only snapshot through its own connection: safe while the server appends.
            let shown = out.display().to_string();
            let n = tokio::task::spawn_blocking(move || crate::log::export_db(&db, &out))
                .await?
                .with_context(|| format!("exporting the log to {shown}"))?;
            eprintln!("credence: exported {n} log entries to {shown}");
            Ok(())
        }
    }
}

/// What `serve` (and the demo) show while keys are loaded or generated: the setup warning (once;
/// the server also logs it for each circuit), then a spinner per shape. `note` follows the
/// "generating keys" message.
fn key_progress(note: &'static str) -> impl FnMut(crate::server::KeyProgress) {
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut warned = false;
    move |p| match p {
        crate::server::KeyProgress::Generating(s) => {
            if !std::mem::replace(&mut warned, true) {
                eprintln!("{}", crate::keys::SETUP_WARNING);
            }
            bar = Some(spinner(format!(
                "generating keys for {}{note}",
                s.circuit_id()
            )));
        }
        crate::server::KeyProgress::Loading(s) => {
            bar = Some(spinner(format!("loading keys for {}", s.circuit_id())));
        }
        crate::server::KeyProgress::Ready(s) => {
            if let Some(b) = bar.take() {
                b.finish_with_message(format!("keys ready for {}", s.circuit_id()));
            }
        }
    }
}

/// A spinner on stderr with `message` and the time elapsed.
pub(crate) fn spinner(message: String) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .expect("a valid template"),
    );
    pb.set_message(message);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// The banner of the development configuration.
const DEV_WARNING: &str = "\
!!! DEVELOPMENT CONFIGURATION: no --config, so NO ACCESS CONTROL and NO TLS. !!!
!!! Anyone who can reach the port may call every RPC. Loopback only.          !!!
!!! For anything else: `credence config init --out credence.toml`.            !!!";

async fn serve(a: ServeArgs) -> Result<()> {
    let mut config = match &a.config {
        Some(path) => Config::from_file(path)?,
        None => {
            if let Some(l) = a.listen
                && !l.ip().is_loopback()
            {
                bail!(
                    "refusing to listen on {l} without --config: the development configuration \
                     has no access control and serves loopback only (`credence config init`)"
                );
            }
            eprintln!("{DEV_WARNING}");
            tracing::warn!(
                "no --config: development configuration (loopback only, no access control)"
            );
            Config::default()
        }
    };
    if let Some(d) = a.data_dir {
        config.data_dir = d;
    }
    if let Some(l) = a.listen {
        config.listen = l;
    }
    if !a.shapes.is_empty() {
        config.shapes = a.shapes;
    }
    config.validate()?;
    let listen = config.listen;
    let app = tokio::task::spawn_blocking(move || {
        crate::server::App::open(config, crate::server::Hooks::default(), key_progress(""))
    })
    .await??;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    eprintln!("credence: serving on {}", listener.local_addr()?);
    app.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn setup(a: SetupArgs) -> Result<()> {
    eprintln!("{}", crate::keys::SETUP_WARNING);
    let dir = a.data_dir.join("keys");
    let shape = a.shape;
    let bar = spinner(format!("generating keys for {}", shape.circuit_id()));
    let keys = tokio::task::spawn_blocking(move || crate::keys::setup(&dir, shape)).await??;
    bar.finish_and_clear();
    let (pk, vk) = crate::keys::key_paths(&a.data_dir.join("keys"), shape);
    println!("circuit      {}", shape.circuit_id());
    println!("proving key  {}", pk.display());
    println!("verifying key {}", vk.display());
    println!("vk fingerprint {}", keys.vk.fingerprint());
    Ok(())
}

fn commit(a: CommitArgs) -> Result<()> {
    let (secret, created) = files::load_or_create_secret(&a.secret)?;
    if created {
        eprintln!(
            "created {} (mode 0600): keep it; it is your identity",
            a.secret.display()
        );
    }
    let id = commitment::contributor_id(&secret);
    let mut openings = files::Openings::load_or_new(&a.openings, &id)?;
    println!("contributor_id {}", fr_to_decimal(&id));
    for file in &a.files {
        let digest = Zeroizing::new(files::file_digest(file)?);
        let blinding = Zeroizing::new(files::random_fr());
        let cm = commitment::commitment(&digest, &blinding);
        openings.openings.push(files::Opening {
            file: file.display().to_string(),
            digest: fr_to_decimal(&digest),
            blinding: fr_to_decimal(&blinding),
            commitment: fr_to_decimal(&cm),
            leaf_index: None,
        });
        if !a.quiet {
            println!("{}  {}", fr_to_decimal(&cm), file.display());
        }
    }
    openings.save(&a.openings)?;
    eprintln!("openings written to {} (mode 0600)", a.openings.display());
    Ok(())
}

fn config_init(out: &std::path::Path, contributor_id: Option<&str>) -> Result<()> {
    if out.exists() {
        bail!("{} exists; not overwriting its tokens", out.display());
    }
    if let Some(id) = contributor_id {
        credence_verifier::encoding::fr_from_decimal("--contributor-id", id)?;
    }
    let text = Zeroizing::new(crate::config::example(contributor_id));
    files::write_private(out, text.as_bytes())?;
    eprintln!(
        "wrote {} (mode 0600) with fresh tokens for each role; hand each token to its holder \
         over a private channel",
        out.display()
    );
    Ok(())
}

/// The bearer token: `--token-file`, else `CREDENCE_TOKEN`, else none.
fn client_token(remote: &Remote<'_>) -> Result<BearerToken> {
    if let Some(path) = remote.token_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
        return BearerToken::new(&text);
    }
    match std::env::var(remote.token_env) {
        Ok(t) if !t.trim().is_empty() => BearerToken::new(&Zeroizing::new(t)),
        _ => Ok(BearerToken::none()),
    }
}

async fn channel(server: &ServerArg) -> Result<AuthChannel> {
    connect(&server.remote()).await
}

async fn connect(remote: &Remote<'_>) -> Result<AuthChannel> {
    let url = remote.url;
    let mut endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad {} URL", remote.flag))?;
    if remote.ca.is_some() || remote.identity.is_some() || url.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new();
        if let Some(ca) = remote.ca {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        if let Some((cert, key)) = remote.identity {
            let cert =
                std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
            let key = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        endpoint = endpoint.tls_config(tls).context("TLS configuration")?;
    }
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))?;
    Ok(tonic::service::interceptor::InterceptedService::new(
        channel,
        client_token(remote)?,
    ))
}

fn status(e: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code(), e.message())
}

async fn register(a: RegisterArgs) -> Result<()> {
    let mut openings = files::Openings::load(&a.openings)?;
    let mut client = pb::datanet_client::DatanetClient::new(channel(&a.server).await?);
    for o in openings
        .openings
        .iter_mut()
        .filter(|o| o.leaf_index.is_none())
    {
        let r = client
            .register(pb::RegisterRequest {
                contributor_id: openings.contributor_id.clone(),
                commitment: o.commitment.clone(),
            })
            .await
            .map_err(status)?
            .into_inner();
        o.leaf_index = Some(r.leaf_index);
        if !a.quiet {
            println!("leaf {}  {}", r.leaf_index, o.file);
        }
    }
    openings.save(&a.openings)?;
    Ok(())
}

fn parse_range(s: &str) -> Result<(u64, u64)> {
    let (a, b) = s.split_once("..").context("--range is START..END")?;
    Ok((
        a.parse().context("range start")?,
        b.parse().context("range end")?,
    ))
}

async fn claim(a: ClaimArgs) -> Result<()> {
    let secret = files::load_secret(&a.secret)?;
    let openings = files::Openings::load(&a.openings)?;
    let ch = channel(&a.server).await?;
    // The snapshot and our leaves in it: on the prover's own server, or on the operator's
    // Datanet, in which case they travel with the claim.
    let foreign = a.datanet.remote();
    let datanet_ch = match &foreign {
        Some(remote) => connect(remote).await?,
        None => ch.clone(),
    };
    let leaves = pb::datanet_client::DatanetClient::new(datanet_ch)
        .get_leaves(pb::GetLeavesRequest {
            epoch: a.epoch,
            contributor_id: openings.contributor_id.clone(),
        })
        .await
        .map_err(status)?
        .into_inner();
    let weighted: std::collections::BTreeMap<u64, &pb::Leaf> =
        leaves.leaves.iter().map(|l| (l.leaf_index, l)).collect();
    let mut mine: Vec<(&files::Opening, &pb::Leaf)> = openings
        .openings
        .iter()
        .filter_map(|o| Some((o, *weighted.get(&o.leaf_index?)?)))
        .collect();
    mine.sort_by_key(|(o, _)| o.leaf_index);
    if mine.is_empty() {
        bail!(
            "none of the registered openings has a weight in epoch {}",
            a.epoch
        );
    }
    // A leaf that holds another commitment than our opening (an openings file registered
    // elsewhere) cannot be proven: say which before anything is sent to the prover.
    for (o, leaf) in &mine {
        let ours = credence_verifier::encoding::fr_from_decimal("commitment", &o.commitment)?;
        let theirs = credence_verifier::encoding::fr_from_decimal("commitment", &leaf.commitment)?;
        if ours != theirs {
            bail!(
                "leaf {} of epoch {} holds commitment {}, not this opening's {} ({}): is {} the \
                 openings file registered with this datanet?",
                leaf.leaf_index,
                a.epoch,
                leaf.commitment,
                o.commitment,
                o.file,
                a.openings.display()
            );
        }
    }
    let snapshot = match &foreign {
        Some(remote) => {
            let s = leaves
                .snapshot
                .clone()
                .with_context(|| format!("{} sent no snapshot", remote.url))?;
            eprintln!(
                "snapshot of epoch {} read from {}: root {}, total weight {}, revenue {}",
                s.epoch, remote.url, s.root, s.total_weight, s.revenue
            );
            Some(pb::SnapshotRef {
                depth: s.depth,
                root: s.root,
                total_weight: s.total_weight,
                revenue: s.revenue,
            })
        }
        None => None,
    };
    let (range_start, range_end) = match &a.range {
        Some(r) => {
            let (s, e) = parse_range(r)?;
            (Some(s), Some(e))
        }
        None => (None, None),
    };
    let request = pb::SubmitClaimRequest {
        secret: fr_to_decimal(&secret),
        epoch: a.epoch,
        contributions: mine
            .iter()
            .map(|(o, leaf)| pb::ClaimContribution {
                data: Some(pb::claim_contribution::Data::Digest(o.digest.clone())),
                blinding: o.blinding.clone(),
                leaf_index: leaf.leaf_index,
                leaf: snapshot.is_some().then(|| pb::LeafProof {
                    weight: leaf.weight,
                    path: leaf.path.clone(),
                }),
            })
            .collect(),
        range_start,
        range_end,
        snapshot,
    };
    let mut prover = pb::prover_client::ProverClient::new(ch);
    let job = prover
        .submit_claim(request)
        .await
        .map_err(status)?
        .into_inner();
    eprintln!(
        "job {} ({}), {} contributions",
        job.job_id,
        job.circuit_id,
        mine.len()
    );
    let bar = spinner("queued".into());
    let mut stream = prover
        .watch_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .map_err(status)?
        .into_inner();
    let mut last = job;
    while let Some(ev) = stream.message().await.map_err(status)? {
        bar.set_message(state_name(ev.state).to_owned());
        last = ev;
    }
    bar.finish_and_clear();
    if last.state != pb::JobState::Done as i32 {
        bail!(
            "job {} ended {}: {}",
            last.job_id,
            state_name(last.state),
            last.failure
        );
    }
    let bundle = prover
        .get_bundle(pb::JobRequest {
            job_id: last.job_id.clone(),
        })
        .await
        .map_err(status)?
        .into_inner();
    std::fs::write(&a.out, &bundle.bundle_json)
        .with_context(|| format!("writing {}", a.out.display()))?;
    let parsed = credence_verifier::ClaimBundle::from_json(&bundle.bundle_json)?;
    println!("bundle      {}", a.out.display());
    println!("payout      {}", parsed.statement.payout);
    println!(
        "claimed     {} of {}",
        parsed.statement.claimed_weight, parsed.statement.total_weight
    );
    Ok(())
}

fn state_name(s: i32) -> &'static str {
    pb::JobState::try_from(s).map_or("unknown", |s| match s {
        pb::JobState::Unspecified => "unknown",
        pb::JobState::Queued => "queued",
        pb::JobState::Witness => "computing the witness",
        pb::JobState::Proving => "proving",
        pb::JobState::Verifying => "verifying",
        pb::JobState::Logged => "logged",
        pb::JobState::Done => "done",
        pb::JobState::Failed => "failed",
        pb::JobState::Cancelled => "cancelled",
    })
}

async fn verify(a: VerifyArgs) -> Result<i32> {
    let mut client = pb::verifier_client::VerifierClient::new(channel(&a.server).await?);
    let mut all_valid = true;
    for path in &a.bundles {
        let json =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v = client
            .verify_bundle(pb::VerifyBundleRequest { bundle_json: json })
            .await
            .map_err(status)?
            .into_inner();
        if v.valid {
            println!("valid    {}  payout {}", path.display(), v.payout);
        } else {
            all_valid = false;
            println!("INVALID  {}  {}", path.display(), v.reason);
        }
    }
    Ok(if all_valid { 0 } else { 1 })
}
