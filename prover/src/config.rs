//! The server configuration: a TOML file, or the development default.
//!
//! ```toml
//! listen = "127.0.0.1:7117"
//! tls_terminated_in_front = false   # true: a proxy terminates TLS (plain text off loopback)
//! data_dir = "credence-data"
//! # database = "postgres://credence@db.internal/credence"  # default: SQLite in data_dir
//! # keys_dir = "credence-data/keys"        # default: <data_dir>/keys
//! shapes = ["1,20", "4,20", "16,20"]       # circuits offered: "N,D" (slots, depth)
//!
//! [services]
//! datanet = true
//! prover = true
//! verifier = true
//!
//! [datanet]
//! depth = 20              # depth of the snapshots this server publishes (4..=32)
//!
//! [prover]
//! concurrency = 1         # proofs running at once (each uses every core)
//! lease_secs = 30         # a job is its replica's while renewed; then another may take it
//! added_latency_ms = 0    # drills and load tests only: wait this long before each proof
//!
//! [limits]                # see `Limits`; all optional
//! max_message_bytes = 4194304
//! max_slots = 16
//! max_depth = 32
//! queue = 64
//! tenant_jobs = 8
//! request_timeout_secs = 60
//! drain_secs = 30
//!
//! [tls]                   # off loopback required (unless terminated in front); with
//!                         # `client_ca`, clients need a certificate (mTLS)
//! cert = "server.pem"
//! key = "server.key"
//! client_ca = "clients-ca.pem"
//!
//! [[tokens]]              # with any token, every RPC but health and reflection needs one
//! token = "…"             # at least 32 characters; `credence config init` makes random ones
//! tenant = "hospital-a"
//! role = "contributor"    # operator | contributor | verifier | auditor
//! contributor_id = "123…" # contributors only: the decimal H(secret) it may act for
//!
//! [log]
//! origin = "example.org/credence/operator"   # the log's name: checkpoint origin and key name
//! ```
//!
//! Relative paths in a file (`data_dir`, `keys_dir`, the `[tls]` files) are relative to the
//! directory of that file, not to the working directory, so `credence serve --config
//! ../operator/operator.toml` means the same wherever it runs.
//!
//! Invariant: a [`Config`] that passed [`Config::validate`] names at least one shape, valid
//! shapes only (none above `limits.max_slots` / `limits.max_depth`), a datanet depth in range
//! that some configured shape can prove (when it proves or verifies at all),
//! a concurrency of at least 1, positive limits, well-formed distinct tokens, and listens on a
//! non-loopback address only if tokens are configured.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use credence_circuits::Shape;
use serde::{Deserialize, Serialize};

/// Refuses `path` if anyone but its owner may read or write it (it holds `what`, a secret).
pub fn owner_only(path: &Path, what: &'static str) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::Permissions {
                path: path.to_owned(),
                what,
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7117";

/// Everything `credence serve` needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the database (`credence.db`), keys and the idempotency key.
    pub data_dir: PathBuf,
    /// Directory of the Groth16 keys; `None` means `<data_dir>/keys`.
    pub keys_dir: Option<PathBuf>,
    /// Where registrations, snapshots, jobs, bundles and the compliance log live: unset, SQLite
    /// in `data_dir` (one server); `postgres://…`, a PostgreSQL database that any number of
    /// replicas share (the key files stay in each replica's `data_dir`, the same on each).
    /// Overridden by `--database` and `CREDENCE_DATABASE`.
    pub database: Option<DatabaseUrl>,
    /// The circuit shapes offered, as `"N,D"`.
    pub shapes: Vec<String>,
    /// Which services to serve.
    pub services: Services,
    /// Datanet settings.
    pub datanet: DatanetConfig,
    /// Prover settings.
    pub prover: ProverConfig,
    /// Limits on requests, jobs and shutdown.
    pub limits: Limits,
    /// TLS (and mutual TLS) for the listener.
    pub tls: Option<TlsConfig>,
    /// A proxy in front of this server terminates TLS, so it may listen in plain text off
    /// loopback. Without it (and without `[tls]`), a non-loopback `listen` is refused: bearer
    /// tokens, a contributor's secret and openings would cross the network in clear.
    pub tls_terminated_in_front: bool,
    /// Bearer tokens; none means the development configuration (no access control).
    pub tokens: Vec<TokenConfig>,
    /// Compliance log settings.
    pub log: LogConfig,
}

/// A database URL (`postgres://user:password@host:port/db?options=...`). Its `Debug` leaves
/// the password out, so a logged configuration never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::store::postgres::redacted(&self.0))
    }
}

impl DatabaseUrl {
    /// Checks that the URL names a PostgreSQL database and parses (the message never echoes
    /// it: it may hold a password).
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            field: "database",
            reason,
        };
        if !(self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")) {
            return Err(invalid(
                "not a PostgreSQL URL (postgres://…); leave it unset for SQLite in data_dir".into(),
            ));
        }
        crate::store::postgres::parse_url(&self.0)
            .map(|_| ())
            .map_err(|e| invalid(e.to_string()))
    }
}

/// Compliance log settings. The log is always on: its tables (in `credence.db`), signing key
/// (`log.key`, 0600) and public key (`log.pub`) live in the data directory.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// The log's name: the first line of every checkpoint and the key's name. A data directory
    /// whose key has another name is refused, so a log never changes identity. Unset: the name
    /// of the data directory's existing key, or for a new log [`default_origin`], which differs
    /// per deployment (two logs with one name would be confused by every auditor).
    pub origin: Option<String>,
}

/// A log origin for a new deployment: `<host name>/credence/<8 random hex digits>`. Auditors
/// tell logs apart by origin and key; a fixed default would give every deployment one name.
pub fn default_origin() -> String {
    use ark_std::rand::RngCore;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let mut tag = [0u8; 4];
    credence_circuits::prover::os_rng().fill_bytes(&mut tag);
    format!("{host}/credence/{}", hex::encode(tag))
}

/// Limits on requests, jobs and shutdown.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request message each service decodes, in bytes (larger: OUT_OF_RANGE).
    pub max_message_bytes: usize,
    /// Largest circuit shape: slots per claim (configured shapes and requests above it are
    /// refused).
    pub max_slots: usize,
    /// Largest circuit shape: tree depth.
    pub max_depth: u32,
    /// Jobs queued or running at once, over all tenants (more: RESOURCE_EXHAUSTED).
    pub queue: usize,
    /// Jobs queued or running at once per tenant (more: RESOURCE_EXHAUSTED).
    pub tenant_jobs: usize,
    /// Server-side deadline of a unary call (a shorter `grpc-timeout` wins).
    pub request_timeout_secs: u64,
    /// On shutdown, how long running proofs may take to finish before they are marked
    /// interrupted.
    pub drain_secs: u64,
    /// Connections held at once (more are closed at once).
    pub max_connections: usize,
    /// A connection whose peer sends nothing for this long is closed (a live client answers
    /// the server's keepalive pings, so only dead or stalled peers are).
    pub idle_timeout_secs: u64,
    /// HTTP/2 streams (calls, including watches) open at once on one connection.
    pub max_concurrent_streams: u32,
    /// Requests in flight at once on one connection (more wait).
    pub concurrency_limit_per_connection: usize,
    /// The server pings each connection this often...
    pub http2_keepalive_interval_secs: u64,
    /// ...and closes it if the ping is not answered within this.
    pub http2_keepalive_timeout_secs: u64,
    /// Contributions one contributor id may register (more: RESOURCE_EXHAUSTED).
    pub registrations_per_contributor: u64,
    /// Contributions one tenant may register over all its contributor ids.
    pub registrations_per_tenant: u64,
    /// Verification calls decoding and verifying at once (more wait, within their deadline).
    pub concurrent_verifications: usize,
    /// Verdicts one tenant may add to the compliance log per hour (more: RESOURCE_EXHAUSTED).
    pub verdicts_per_tenant_per_hour: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 4 * 1024 * 1024,
            max_slots: 64,
            max_depth: credence_circuits::merkle_sum::MAX_DEPTH,
            queue: 64,
            tenant_jobs: 8,
            request_timeout_secs: 60,
            drain_secs: 30,
            max_connections: 512,
            idle_timeout_secs: 300,
            max_concurrent_streams: 100,
            concurrency_limit_per_connection: 32,
            http2_keepalive_interval_secs: 60,
            http2_keepalive_timeout_secs: 20,
            registrations_per_contributor: 10_000,
            registrations_per_tenant: 100_000,
            concurrent_verifications: 4,
            verdicts_per_tenant_per_hour: 100_000,
        }
    }
}

/// TLS for the listener (rustls).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
    /// CA certificates (PEM) of client certificates; set: every client must present one.
    pub client_ca: Option<PathBuf>,
}

/// A role's name in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// See [`crate::access::Role::Operator`].
    Operator,
    /// See [`crate::access::Role::Contributor`].
    Contributor,
    /// See [`crate::access::Role::Verifier`].
    Verifier,
    /// See [`crate::access::Role::Auditor`].
    Auditor,
}

/// One bearer token.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The token (at least [`MIN_TOKEN_LEN`] characters); only its hash is kept in memory.
    pub token: String,
    /// The tenant it acts for.
    pub tenant: String,
    /// Its role.
    pub role: RoleName,
    /// Contributors only: the decimal contributor id `H(secret)` it may act for.
    pub contributor_id: Option<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token", &"<redacted>")
            .field("tenant", &self.tenant)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Shortest token accepted (a guessable token is no access control).
pub const MIN_TOKEN_LEN: usize = 32;

/// Services on or off.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Services {
    /// `credence.v1.Datanet`.
    pub datanet: bool,
    /// `credence.v1.Prover`.
    pub prover: bool,
    /// `credence.v1.Verifier`.
    pub verifier: bool,
}

impl Default for Services {
    fn default() -> Self {
        Services {
            datanet: true,
            prover: true,
            verifier: true,
        }
    }
}

/// Datanet settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatanetConfig {
    /// Depth of the snapshots this server publishes when a request does not say.
    pub depth: u32,
}

impl Default for DatanetConfig {
    fn default() -> Self {
        DatanetConfig {
            depth: credence_circuits::claim::DEFAULT_DEPTH,
        }
    }
}

/// Prover settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProverConfig {
    /// How many proofs may run at once (the global semaphore); each proof is parallel already.
    pub concurrency: usize,
    /// How long a job stays its replica's without a renewal (the replica renews every third of
    /// it while the job runs). A replica that dies loses its jobs after this; they are then
    /// marked interrupted, and a resubmission starts them on any replica.
    pub lease_secs: u64,
    /// Waits this long in the proving stage of every job before proving: for drills and load
    /// tests of the queue across replicas (a replica that "proves" for a known time, so the
    /// queue, not the CPU, is measured; a job that stays in its proving stage long enough to
    /// kill its replica). 0, the default, in production.
    pub added_latency_ms: u64,
}

impl Default for ProverConfig {
    fn default() -> Self {
        ProverConfig {
            concurrency: 1,
            lease_secs: 30,
            added_latency_ms: 0,
        }
    }
}

impl Default for Config {
    /// The development configuration: loopback only, `./credence-data`, shapes N in {1, 4, 16}
    /// at depth 20 (keys for them are generated on first start, which takes a minute).
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("a valid literal address"),
            data_dir: PathBuf::from("credence-data"),
            keys_dir: None,
            database: None,
            shapes: ["1,20", "4,20", "16,20"].map(String::from).to_vec(),
            services: Services::default(),
            datanet: DatanetConfig::default(),
            prover: ProverConfig::default(),
            limits: Limits::default(),
            tls: None,
            tls_terminated_in_front: false,
            tokens: Vec::new(),
            log: LogConfig::default(),
        }
    }
}

/// Why a configuration is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("parsing {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A file holding secrets (tokens, a TLS private key) is open to other users.
    #[error(
        "{} holds {what} and is readable by other users (mode {mode:o}); run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// What secret it holds.
        what: &'static str,
        /// Its permission bits.
        mode: u32,
    },
    /// A value is out of range.
    #[error("config `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// The one depth `shapes` (`"N,D"` each) share, if they share one: the datanet depth that
/// goes with them (`config init` and the development `serve --shape` default to it).
pub fn common_depth(shapes: &[String]) -> Option<u32> {
    let depths: std::collections::BTreeSet<u32> = shapes
        .iter()
        .filter_map(|s| parse_shape(s).ok().map(|s| s.depth))
        .collect();
    match depths.len() {
        1 => depths.first().copied(),
        _ => None,
    }
}

/// Parses `"N,D"` (also accepted: `NxD`) into a shape.
pub fn parse_shape(s: &str) -> Result<Shape, String> {
    let (n, d) = s
        .split_once(',')
        .or_else(|| s.split_once('x'))
        .ok_or_else(|| format!("shape `{s}` is not `N,D`"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("shape `{s}`: N is not a number"))?;
    let d: u32 = d
        .trim()
        .parse()
        .map_err(|_| format!("shape `{s}`: D is not a number"))?;
    Shape::new(n, d).map_err(|e| format!("shape `{s}`: {e}"))
}

impl Config {
    /// Reads and validates a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if !config.tokens.is_empty() {
            owner_only(path, "bearer tokens")?;
        }
        config.validate()?;
        Ok(config.relative_to(path.parent().unwrap_or(Path::new(""))))
    }

    /// Resolves the relative paths of a file read from `dir` against `dir`: a configuration
    /// means the same whatever the working directory of the server that reads it.
    fn relative_to(mut self, dir: &Path) -> Self {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        resolve(&mut self.data_dir);
        if let Some(k) = &mut self.keys_dir {
            resolve(k);
        }
        if let Some(tls) = &mut self.tls {
            resolve(&mut tls.cert);
            resolve(&mut tls.key);
            if let Some(ca) = &mut tls.client_ca {
                resolve(ca);
            }
        }
        self
    }

    /// Checks every value; returns the parsed shapes, sorted by depth then slots.
    pub fn validate(&self) -> Result<Vec<Shape>, ConfigError> {
        let mut shapes = Vec::new();
        for s in &self.shapes {
            shapes.push(parse_shape(s).map_err(|reason| ConfigError::Invalid {
                field: "shapes",
                reason,
            })?);
        }
        shapes.sort_by_key(|s| (s.depth, s.n));
        shapes.dedup();
        if let Some(url) = &self.database {
            url.check()?;
        }
        if shapes.is_empty() && (self.services.prover || self.services.verifier) {
            return Err(ConfigError::Invalid {
                field: "shapes",
                reason: "the prover and verifier need at least one shape".into(),
            });
        }
        if !(credence_circuits::merkle_sum::MIN_DEPTH..=credence_circuits::merkle_sum::MAX_DEPTH)
            .contains(&self.datanet.depth)
        {
            return Err(ConfigError::Invalid {
                field: "datanet.depth",
                reason: format!("{} is outside 4..=32", self.datanet.depth),
            });
        }
        // A datanet whose snapshots no configured circuit can prove would accept
        // registrations and publish epochs that nobody can ever claim against.
        if self.services.datanet
            && (self.services.prover || self.services.verifier)
            && !shapes.iter().any(|s| s.depth == self.datanet.depth)
        {
            let depths: std::collections::BTreeSet<u32> = shapes.iter().map(|s| s.depth).collect();
            return Err(ConfigError::Invalid {
                field: "datanet.depth",
                reason: format!(
                    "snapshots of depth {} could never be claimed: the configured shapes have \
                     depth {}; set [datanet] depth to one of them, or add a shape \"N,{}\"",
                    self.datanet.depth,
                    depths
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.datanet.depth
                ),
            });
        }
        if let Some(origin) = &self.log.origin
            && (origin.is_empty() || origin.contains(char::is_whitespace) || origin.contains('+'))
        {
            return Err(ConfigError::Invalid {
                field: "log.origin",
                reason: format!(
                    "{origin:?}: a log origin is a non-empty name without spaces or `+`, such as \
                     \"example.org/credence/operator\""
                ),
            });
        }
        if self.prover.concurrency == 0 {
            return Err(ConfigError::Invalid {
                field: "prover.concurrency",
                reason: "must be at least 1".into(),
            });
        }
        self.validate_limits(&shapes)?;
        self.token_table()?;
        if self.tokens.is_empty() && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid {
                field: "listen",
                reason: format!(
                    "{} is not a loopback address, and no tokens are configured: anyone on the \
                     network could call every RPC (run `credence config init`)",
                    self.listen
                ),
            });
        }
        if !self.listen.ip().is_loopback() && self.tls.is_none() && !self.tls_terminated_in_front {
            return Err(ConfigError::Invalid {
                field: "tls",
                reason: format!(
                    "{} is not a loopback address and [tls] is not set: bearer tokens, a \
                     contributor's secret and openings would cross the network in clear. Set \
                     [tls], or `tls_terminated_in_front = true` if a proxy in front of this \
                     server terminates TLS",
                    self.listen
                ),
            });
        }
        Ok(shapes)
    }

    fn validate_limits(&self, shapes: &[Shape]) -> Result<(), ConfigError> {
        let l = &self.limits;
        let positive = [
            ("limits.max_message_bytes", l.max_message_bytes as u64),
            ("limits.max_slots", l.max_slots as u64),
            ("limits.queue", l.queue as u64),
            ("limits.tenant_jobs", l.tenant_jobs as u64),
            ("limits.request_timeout_secs", l.request_timeout_secs),
            ("limits.max_connections", l.max_connections as u64),
            ("limits.idle_timeout_secs", l.idle_timeout_secs),
            (
                "limits.max_concurrent_streams",
                u64::from(l.max_concurrent_streams),
            ),
            (
                "limits.concurrency_limit_per_connection",
                l.concurrency_limit_per_connection as u64,
            ),
            (
                "limits.http2_keepalive_interval_secs",
                l.http2_keepalive_interval_secs,
            ),
            (
                "limits.http2_keepalive_timeout_secs",
                l.http2_keepalive_timeout_secs,
            ),
            (
                "limits.registrations_per_contributor",
                l.registrations_per_contributor,
            ),
            (
                "limits.registrations_per_tenant",
                l.registrations_per_tenant,
            ),
            (
                "limits.concurrent_verifications",
                l.concurrent_verifications as u64,
            ),
            ("prover.lease_secs", self.prover.lease_secs),
            (
                "limits.verdicts_per_tenant_per_hour",
                l.verdicts_per_tenant_per_hour,
            ),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    field,
                    reason: "must be at least 1".into(),
                });
            }
        }
        // A live client answers every ping before its connection counts as idle.
        if l.http2_keepalive_interval_secs
            .saturating_add(l.http2_keepalive_timeout_secs)
            >= l.idle_timeout_secs
        {
            return Err(ConfigError::Invalid {
                field: "limits.idle_timeout_secs",
                reason: format!(
                    "must exceed http2_keepalive_interval_secs + http2_keepalive_timeout_secs \
                     ({} + {}), or live idle clients would be cut off",
                    l.http2_keepalive_interval_secs, l.http2_keepalive_timeout_secs
                ),
            });
        }
        if let Some(s) = shapes
            .iter()
            .find(|s| s.n > l.max_slots || s.depth > l.max_depth)
        {
            return Err(ConfigError::Invalid {
                field: "shapes",
                reason: format!(
                    "{} is above the maximum shape ({} slots, depth {})",
                    s.circuit_id(),
                    l.max_slots,
                    l.max_depth
                ),
            });
        }
        if self.datanet.depth > l.max_depth {
            return Err(ConfigError::Invalid {
                field: "datanet.depth",
                reason: format!("above limits.max_depth = {}", l.max_depth),
            });
        }
        Ok(())
    }

    /// The configured tokens as a lookup table (hashes only), after checking each.
    pub fn token_table(&self) -> Result<crate::access::TokenTable, ConfigError> {
        use crate::access::Role;
        let mut table = crate::access::TokenTable::default();
        let mut seen = std::collections::HashSet::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let bad = |reason: String| ConfigError::Invalid {
                field: "tokens",
                reason: format!("tokens[{i}] (tenant `{}`): {reason}", t.tenant),
            };
            if t.token.len() < MIN_TOKEN_LEN || !t.token.is_ascii() || t.token.contains(' ') {
                return Err(bad(format!(
                    "a token is at least {MIN_TOKEN_LEN} printable ASCII characters without spaces"
                )));
            }
            if !seen.insert(blake3::hash(t.token.as_bytes())) {
                return Err(bad("the same token is configured twice".into()));
            }
            if t.tenant.is_empty() {
                return Err(bad("empty tenant".into()));
            }
            let role = match (t.role, &t.contributor_id) {
                (RoleName::Contributor, Some(id)) => Role::Contributor {
                    contributor_id: credence_verifier::encoding::fr_from_decimal(
                        "contributor_id",
                        id,
                    )
                    .map_err(|e| bad(format!("contributor_id: {e}")))?,
                },
                (RoleName::Contributor, None) => {
                    return Err(bad("a contributor token needs `contributor_id`".into()));
                }
                (_, Some(_)) => {
                    return Err(bad("only contributor tokens have `contributor_id`".into()));
                }
                (RoleName::Operator, None) => Role::Operator,
                (RoleName::Verifier, None) => Role::Verifier,
                (RoleName::Auditor, None) => Role::Auditor,
            };
            table.insert(&t.token, t.tenant.clone(), role);
        }
        Ok(table)
    }

    /// The keys directory.
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }
}

/// A fresh bearer token: 32 bytes of OS randomness, hex (64 characters).
pub fn fresh_token() -> String {
    use ark_std::rand::RngCore;
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    credence_circuits::prover::os_rng().fill_bytes(bytes.as_mut());
    hex::encode(bytes.as_ref())
}

/// One party's bearer token, as `credence config init` and `credence config add-party` make it.
pub struct Party {
    /// The tenant it acts for (also the token file's name: `<tenant>.token`).
    pub tenant: String,
    /// Its role.
    pub role: RoleName,
    /// Contributors only: the decimal contributor id.
    pub contributor_id: Option<String>,
    /// The token ([`fresh_token`]).
    pub token: zeroize::Zeroizing<String>,
}

impl Party {
    /// A party with a fresh token.
    pub fn new(tenant: &str, role: RoleName, contributor_id: Option<&str>) -> Self {
        Party {
            tenant: tenant.to_owned(),
            role,
            contributor_id: contributor_id.map(str::to_owned),
            token: zeroize::Zeroizing::new(fresh_token()),
        }
    }

    /// Its `[[tokens]]` entry.
    pub fn toml(&self) -> zeroize::Zeroizing<String> {
        let role = match self.role {
            RoleName::Operator => "operator",
            RoleName::Contributor => "contributor",
            RoleName::Verifier => "verifier",
            RoleName::Auditor => "auditor",
        };
        let mut s = format!(
            "\n[[tokens]]\ntoken = \"{}\"\ntenant = {}\nrole = \"{role}\"\n",
            self.token.as_str(),
            toml_string(&self.tenant)
        );
        if let Some(id) = &self.contributor_id {
            s.push_str(
                "# The decimal contributor id (H(secret)) this token may act for; \
                 `credence contributor-id` prints it.\n",
            );
            s.push_str(&format!("contributor_id = \"{id}\"\n"));
        }
        zeroize::Zeroizing::new(s)
    }
}

/// A TOML basic string (quotes and escapes, so no value can break out of its line).
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// What `credence config init` writes: a documented configuration for one kind of server,
/// with a fresh token per party.
pub struct Template {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Which services it serves.
    pub services: Services,
    /// The data directory (relative: to the configuration file's directory).
    pub data_dir: PathBuf,
    /// The keys directory, if not `<data_dir>/keys`.
    pub keys_dir: Option<PathBuf>,
    /// The shapes offered, `"N,D"`.
    pub shapes: Vec<String>,
    /// The datanet's snapshot depth.
    pub depth: u32,
    /// TLS, if any.
    pub tls: Option<TlsConfig>,
    /// The compliance log's origin.
    pub origin: String,
    /// The tokens.
    pub parties: Vec<Party>,
}

impl Template {
    /// The development-shaped template: every service, loopback, the default shapes, an
    /// operator, a verifier and an auditor token, and a contributor token `hospital-a` if a
    /// contributor id is given.
    pub fn all_services(contributor_id: Option<&str>) -> Self {
        let defaults = Config::default();
        let mut parties = vec![Party::new("operator", RoleName::Operator, None)];
        if let Some(id) = contributor_id {
            parties.push(Party::new("hospital-a", RoleName::Contributor, Some(id)));
        }
        parties.push(Party::new("verifier", RoleName::Verifier, None));
        parties.push(Party::new("auditor", RoleName::Auditor, None));
        Template {
            listen: defaults.listen,
            services: Services::default(),
            data_dir: defaults.data_dir,
            keys_dir: None,
            shapes: defaults.shapes,
            depth: defaults.datanet.depth,
            tls: None,
            origin: default_origin(),
            parties,
        }
    }

    /// The documented TOML text.
    pub fn render(&self) -> zeroize::Zeroizing<String> {
        let path = |p: &Path| toml_string(&p.display().to_string());
        let on = |b: bool| if b { "true" } else { "false" };
        let keys_dir = match &self.keys_dir {
            Some(k) => format!("keys_dir = {}", path(k)),
            None => format!(
                "# keys_dir = {}   # default: <data_dir>/keys",
                path(&self.data_dir.join("keys"))
            ),
        };
        let tls = match &self.tls {
            Some(t) => format!(
                "[tls]\ncert = {}\nkey = {}\n{}\n",
                path(&t.cert),
                path(&t.key),
                match &t.client_ca {
                    Some(ca) => format!("client_ca = {}", path(ca)),
                    None => "# client_ca = \"clients-ca.pem\"".into(),
                }
            ),
            None => "# [tls]\n# cert = \"server.pem\"\n# key = \"server.key\"\n\
                     # client_ca = \"clients-ca.pem\"\n"
                .into(),
        };
        let shapes = self
            .shapes
            .iter()
            .map(|s| toml_string(s))
            .collect::<Vec<_>>()
            .join(", ");
        let mut text = format!(
            r#"# Credence server configuration (`credence serve --config THIS_FILE`).
# Generated by `credence config init`. It holds bearer tokens: keep it mode 0600.
# Relative paths are relative to this file's directory.

# Where to listen. A non-loopback address is only accepted with tokens (below) and with [tls]
# (or `tls_terminated_in_front = true` when a proxy in front of this server terminates TLS).
listen = "{listen}"
# tls_terminated_in_front = false
# The databases, the compliance log's key and the idempotency key live here.
data_dir = {data_dir}
{keys_dir}
# Where the state and the compliance log live: unset, SQLite in data_dir (one server). A
# PostgreSQL URL puts them there, shared by any number of replicas (each with copies of the
# first one's log.key, log.pub and idempotency.key); CREDENCE_DATABASE keeps a password out of
# this file.
# database = "postgres://credence@db.internal/credence"
# Circuits offered, "N,D": N contributions per claim, tree depth D. A server that proves makes
# single-party keys for a shape it has none for (see `credence setup`); one that only verifies
# refuses to start without them.
shapes = [{shapes}]

[services]
datanet = {datanet}
prover = {prover}
verifier = {verifier}

[datanet]
depth = {depth}               # depth of the snapshots this server publishes (a shape must have it)

[prover]
concurrency = 1          # proofs running at once (each uses every core)
lease_secs = 30          # a job is this server's while it renews the lease; then any replica may restart it

[limits]
max_message_bytes = 4194304   # largest request each service decodes (bigger: OUT_OF_RANGE)
max_slots = 64                # maximum shape: shapes and claims above it are refused
max_depth = 32
queue = 64                    # jobs queued or running, all tenants (more: RESOURCE_EXHAUSTED)
tenant_jobs = 8               # jobs queued or running per tenant
request_timeout_secs = 60     # server-side deadline of a call (a shorter grpc-timeout wins)
drain_secs = 30               # on shutdown, how long running proofs may finish

[log]
# The compliance log's name: the first line of every checkpoint and the name of its key. It
# tells this log from every other one; it cannot change once the log exists.
origin = {origin}

# TLS through rustls. With `client_ca`, every client must present a certificate signed by it
# (mutual TLS). Clients then connect to https://HOST:PORT with `--ca` (and `--cert`/`--key`).
{tls}
# Bearer tokens. With at least one token, every RPC but health and reflection needs one:
# clients send `authorization: Bearer <token>` (the CLI reads CREDENCE_TOKEN or --token-file).
# Roles: operator (register, publish snapshots), contributor (its own contribution id only:
# register, read its leaves, claim, read its tenant's jobs), verifier (verify bundles),
# auditor (the compliance log, verify). Everyone with a token may read snapshots and keys.
# Add a party with `credence config add-party` (it writes the party's token file).
"#,
            listen = self.listen,
            data_dir = path(&self.data_dir),
            datanet = on(self.services.datanet),
            prover = on(self.services.prover),
            verifier = on(self.services.verifier),
            depth = self.depth,
            origin = toml_string(&self.origin),
        );
        for p in &self.parties {
            text.push_str(&p.toml());
        }
        zeroize::Zeroizing::new(text)
    }
}

/// The documented example configuration: [`Template::all_services`], rendered.
pub fn example(contributor_id: Option<&str>) -> String {
    Template::all_services(contributor_id).render().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_loopback() {
        let c = Config::default();
        assert!(c.listen.ip().is_loopback());
        assert_eq!(c.validate().unwrap().len(), 3);
    }

    #[test]
    fn toml_round_trip_and_refusals() {
        let c: Config = toml::from_str(
            "shapes = [\"4,4\", \"1,4\"]\n[prover]\nconcurrency = 2\n[datanet]\ndepth = 4\n",
        )
        .unwrap();
        let shapes = c.validate().unwrap();
        assert_eq!(shapes[0], Shape::new(1, 4).unwrap());
        assert!(toml::from_str::<Config>("bogus = 1").is_err());
        let bad: Config = toml::from_str("shapes = [\"0,4\"]").unwrap();
        assert!(bad.validate().is_err());
        let bad: Config = toml::from_str("[prover]\nconcurrency = 0").unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn the_example_is_valid_and_its_tokens_fresh() {
        let a: Config = toml::from_str(&example(Some("42"))).unwrap();
        a.validate().unwrap();
        assert_eq!(a.tokens.len(), 4);
        assert_eq!(a.token_table().unwrap().len(), 4);
        let b: Config = toml::from_str(&example(None)).unwrap();
        assert_eq!(b.tokens.len(), 3, "no contributor token without an id");
        assert_ne!(a.tokens[0].token, b.tokens[0].token);
        assert!(!format!("{a:?}").contains(&a.tokens[0].token));
        // Every deployment's log gets its own name.
        let (oa, ob) = (a.log.origin.unwrap(), b.log.origin.unwrap());
        assert_ne!(oa, ob);
        assert!(oa.contains("/credence/"), "{oa}");
    }

    #[test]
    fn a_template_renders_what_it_says_and_escapes_names() {
        let mut t = Template::all_services(None);
        t.listen = "0.0.0.0:7117".parse().unwrap();
        t.services.prover = false;
        t.shapes = vec!["4,8".into()];
        t.depth = 8;
        t.keys_dir = Some("../keys".into());
        t.tls = Some(TlsConfig {
            cert: "server.pem".into(),
            key: "server.key".into(),
            client_ca: None,
        });
        t.origin = "example.org/credence/operator".into();
        t.parties.push(Party::new(
            "a \"quoted\" tenant\nrole = \"operator\"",
            RoleName::Contributor,
            Some("7"),
        ));
        let c: Config = toml::from_str(&t.render()).unwrap();
        c.validate().unwrap();
        assert!(!c.services.prover && c.services.datanet && c.services.verifier);
        assert_eq!(c.listen, t.listen);
        assert_eq!(c.keys_dir, Some(PathBuf::from("../keys")));
        assert_eq!(
            c.log.origin.as_deref(),
            Some("example.org/credence/operator")
        );
        let last = c.tokens.last().unwrap();
        assert_eq!(last.tenant, t.parties.last().unwrap().tenant);
        assert_eq!(last.role, RoleName::Contributor);
        assert_eq!(c.tokens.len(), t.parties.len());
    }

    #[test]
    fn relative_paths_follow_the_file_not_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("op.toml");
        std::fs::write(
            &path,
            "data_dir = \"data\"\nkeys_dir = \"/abs/keys\"\nshapes = [\"1,4\"]\n\
             [datanet]\ndepth = 4\n[tls]\ncert = \"tls/c.pem\"\nkey = \"k.pem\"\n",
        )
        .unwrap();
        let c = Config::from_file(&path).unwrap();
        assert_eq!(c.data_dir, dir.path().join("data"));
        assert_eq!(c.keys_dir, Some(PathBuf::from("/abs/keys")));
        let tls = c.tls.unwrap();
        assert_eq!(tls.cert, dir.path().join("tls/c.pem"));
        assert_eq!(tls.key, dir.path().join("k.pem"));
    }

    #[test]
    fn a_datanet_depth_no_shape_can_prove_is_refused() {
        let c: Config =
            toml::from_str("shapes = [\"1,8\", \"4,8\"]\n[datanet]\ndepth = 20\n").unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("datanet.depth") && e.contains("depth 8"), "{e}");
        // A datanet alone proves nothing here: its depth is for the provers elsewhere.
        let alone: Config = toml::from_str(
            "shapes = [\"1,8\"]\n[datanet]\ndepth = 20\n[services]\nprover = false\nverifier = false\n",
        )
        .unwrap();
        alone.validate().unwrap();
        let bad: Config = toml::from_str("[log]\norigin = \"has space\"").unwrap();
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("log.origin")
        );
    }

    #[test]
    fn refusals_of_tokens_limits_and_listen() {
        let open: Config = toml::from_str("listen = \"0.0.0.0:7117\"").unwrap();
        assert!(open.validate().is_err());
        let short: Config =
            toml::from_str("[[tokens]]\ntoken = \"short\"\ntenant = \"t\"\nrole = \"operator\"")
                .unwrap();
        assert!(short.validate().is_err());
        let no_id: Config = toml::from_str(&format!(
            "[[tokens]]\ntoken = \"{}\"\ntenant = \"t\"\nrole = \"contributor\"",
            fresh_token()
        ))
        .unwrap();
        assert!(no_id.validate().is_err());
        let big: Config = toml::from_str("shapes = [\"16,20\"]\n[limits]\nmax_slots = 4").unwrap();
        assert!(big.validate().is_err());
    }

    #[test]
    fn plain_text_off_loopback_needs_tls_or_an_explicit_proxy() {
        let tokens = format!(
            "[[tokens]]\ntoken = \"{}\"\ntenant = \"op\"\nrole = \"operator\"\n",
            fresh_token()
        );
        let plain: Config =
            toml::from_str(&format!("listen = \"0.0.0.0:7117\"\n{tokens}")).unwrap();
        let e = plain.validate().unwrap_err().to_string();
        assert!(e.contains("tls") && e.contains("in clear"), "{e}");
        let proxied: Config = toml::from_str(&format!(
            "listen = \"0.0.0.0:7117\"\ntls_terminated_in_front = true\n{tokens}"
        ))
        .unwrap();
        proxied.validate().unwrap();
        let tls: Config = toml::from_str(&format!(
            "listen = \"0.0.0.0:7117\"\n{tokens}[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n"
        ))
        .unwrap();
        tls.validate().unwrap();
        let loopback: Config = toml::from_str(&tokens).unwrap();
        loopback.validate().unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_config_with_tokens_must_be_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credence.toml");
        std::fs::write(&path, example(Some("42"))).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Config::from_file(&path).unwrap_err();
        assert!(
            matches!(e, ConfigError::Permissions { mode: 0o644, .. })
                && e.to_string().contains("chmod 600"),
            "{e}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        Config::from_file(&path).unwrap();
        // Without tokens there is no secret in it: any mode.
        std::fs::write(&path, "shapes = [\"1,4\"]\n[datanet]\ndepth = 4\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Config::from_file(&path).unwrap();
    }

    #[test]
    fn the_common_depth_is_the_one_all_shapes_share() {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_depth(&v(&["1,8", "4,8"])), Some(8));
        assert_eq!(common_depth(&v(&["1,8", "4,20"])), None);
        assert_eq!(common_depth(&[]), None);
    }

    #[test]
    fn shapes_parse() {
        assert_eq!(parse_shape("16,20").unwrap(), Shape::new(16, 20).unwrap());
        assert!(parse_shape("16").is_err());
        assert!(parse_shape("65,20").is_err());
        assert!(parse_shape("1,3").is_err());
    }
}
