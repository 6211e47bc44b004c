//! Building and running the server: storage, keys, services, health and reflection.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use credence_server::{config::Config, server};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! server::serve(Config::default(), listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! [`App::open`] does the slow, blocking part (open the database, mark interrupted jobs, load or
//! generate keys); [`App::serve`] serves until the shutdown future completes.
//!
//! Serving: every request passes, outermost first, [`request_log`] (one line per request, with
//! its final status, refusals included), [`switched_off`] (a service the configuration turns
//! off answers UNIMPLEMENTED saying so) and [`AuthLayer`] (tokens, when configured; see
//! [`crate::access`]); each service decodes at most `limits.max_message_bytes`, unary calls have
//! a server-side deadline (`limits.request_timeout_secs`; a shorter `grpc-timeout` wins), and TLS
//! or mutual TLS (rustls) is on when `[tls]` is configured. The server logs one line when it
//! starts serving (address, TLS, services, shapes, log origin), one when draining starts (jobs
//! in flight) and one when it has stopped.
//!
//! Shutdown ([`App::serve`]'s future completes): health says NOT_SERVING at once, submissions
//! get UNAVAILABLE, queued jobs start no proof; running proofs may finish until the drain
//! deadline (`limits.drain_secs`). Then the listener stops, and every job still queued or
//! running is marked failed "interrupted, resubmit" (a resubmission starts it again).
//!
//! Invariants: jobs left queued or running by an earlier process are marked failed
//! "interrupted, resubmit" before the first request is accepted; `serve` returns within the
//! drain deadline (plus a short grace for open connections) after shutdown begins.

pub mod conn;
mod preflight;
pub mod process;
pub mod request_log;
pub mod switched_off;

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use credence_circuits::Shape;
use credence_proto::v1 as pb;
use credence_verifier::KeyRing;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::access::{AccessPolicy, AllowAll, AuthLayer, Both, RolePolicy};
use crate::config::{Config, ConfigError};
use crate::jobs::{JobLimits, Jobs};
use crate::keys::{self, KeyError, ShapeKeys};
use crate::log::hook::{AuditSink, NoAudit};
use crate::log::{LogSink, LogStore, LogThen};
use crate::service::audit_log::AuditLogService;
use crate::service::datanet::DatanetService;
use crate::service::prover::ProverService;
use crate::service::state::{State, TreeCache};
use crate::service::verifier::VerifierService;
use crate::store::{PgStore, SqliteStore, StorageError, Store, now};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Keys.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A file in the data directory.
    #[error("{0}")]
    Io(String),
    /// The gRPC transport.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection setup.
    #[error("reflection: {0}")]
    Reflection(String),
    /// The compliance log could not be opened.
    #[error("compliance log: {0}")]
    Log(#[from] crate::log::StoreError),
}

/// The pluggable parts: access control, the compliance log, and who warns about keys.
#[derive(Clone)]
pub struct Hooks {
    /// Who may call what.
    pub access: Arc<dyn AccessPolicy>,
    /// Where events are logged.
    pub audit: Arc<dyn AuditSink>,
    /// Log [`keys::SETUP_WARNING`] for every single-party key (the default: an operator reads
    /// the server's log). Off for an embedder that shows the warning to its reader itself, on
    /// [`KeyProgress::SingleParty`] (the demo): the warning is then said once per key, not
    /// twice.
    pub log_setup_warning: bool,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            access: Arc::new(AllowAll),
            audit: Arc::new(NoAudit),
            log_setup_warning: true,
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").finish_non_exhaustive()
    }
}

/// What [`App::open`] reports about keys as it goes.
#[derive(Clone, Copy, Debug)]
pub enum KeyProgress {
    /// Loading existing keys of a shape.
    Loading(Shape),
    /// Generating keys for a shape (slow: a spinner is appropriate).
    Generating(Shape),
    /// Done with a shape.
    Ready(Shape),
    /// The shape's keys come from a single-party setup (after `Ready`, on every start, whether
    /// they were generated now or loaded): [`keys::SETUP_WARNING`] applies to them.
    SingleParty(Shape),
}

/// The idempotency key's file name in the data directory.
pub const IDEMPOTENCY_KEY_FILE: &str = "idempotency.key";

/// Reads `<data_dir>/idempotency.key`, creating it (32 OS-random bytes, mode 0600) if absent.
pub fn idempotency_key(data_dir: &Path) -> Result<[u8; 32], ServerError> {
    let path = data_dir.join(IDEMPOTENCY_KEY_FILE);
    let err = |e: std::io::Error| ServerError::Io(format!("{}: {e}", path.display()));
    match std::fs::read(&path) {
        Ok(bytes) => bytes
            .as_slice()
            .try_into()
            .map_err(|_| ServerError::Io(format!("{}: not 32 bytes", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use ark_std::rand::RngCore;
            let mut key = [0u8; 32];
            credence_circuits::prover::os_rng().fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&path).map_err(err)?;
            f.write_all(&key).map_err(err)?;
            f.sync_all().map_err(err)?;
            Ok(key)
        }
        Err(e) => Err(err(e)),
    }
}

/// Connections of a replica to PostgreSQL (besides the log's own): enough for every blocking
/// call at once on a small machine; the database's `max_connections` bounds the replicas.
const PG_CONNECTIONS: u32 = 16;

/// A server ready to serve: storage open, keys loaded. Clones share everything, so a caller
/// can keep one (for [`App::pause_proving`], [`App::state`]) while another serves.
#[derive(Clone, Debug)]
pub struct App {
    state: Arc<State>,
    shutdown_tx: Arc<watch::Sender<bool>>,
    draining_tx: Arc<watch::Sender<bool>>,
    auth: AuthLayer,
    /// The compliance log: every event goes to it before `hooks.audit`.
    log: Arc<LogStore>,
}

impl App {
    /// Opens storage, marks interrupted jobs, and loads (or generates) the keys of every
    /// configured shape. Blocking and possibly slow: call it from a blocking context.
    pub fn open(
        config: Config,
        hooks: Hooks,
        mut progress: impl FnMut(KeyProgress),
    ) -> Result<App, ServerError> {
        let shapes = config.validate()?;
        // Nothing is created (data directory, log key, database) before what the server
        // needs from elsewhere is known to be there.
        preflight::check(&config, &shapes)?;
        if config.tls.is_none() && !config.listen.ip().is_loopback() {
            tracing::warn!(
                listen = %config.listen,
                "plain text off loopback: `tls_terminated_in_front` says a proxy in front \
                 terminates TLS; bearer tokens and claims cross the network in clear otherwise"
            );
        }
        crate::store::private_dir(&config.data_dir)
            .map_err(|e| ServerError::Io(format!("{}: {e}", config.data_dir.display())))?;
        let idempotency_key = idempotency_key(&config.data_dir)?;
        // The compliance log is always on, in the same database: a registration or snapshot
        // commits with its entry (batched, under a signed checkpoint); every other event is
        // appended (durably, under a signed checkpoint) before the embedder's own hook sees it.
        let (store, log): (Arc<dyn Store>, Arc<LogStore>) = match &config.database {
            None => {
                let sqlite = SqliteStore::open(&config.data_dir)?;
                let log = Arc::new(LogStore::open_data_dir(
                    &config.data_dir,
                    config.log.origin.as_deref(),
                )?);
                let store = Arc::new(sqlite.with_log(log.clone()));
                // One server owns this database: its running jobs died with the last run.
                let interrupted = store.interrupt_running_jobs(now())?;
                if interrupted > 0 {
                    tracing::warn!(
                        interrupted,
                        "jobs from an earlier run were marked interrupted"
                    );
                }
                (store, log)
            }
            Some(url) => {
                let pg = PgStore::open(&url.0, PG_CONNECTIONS)?;
                // Replicas must agree on the idempotency key (or one request would become a
                // job per replica) and on the log key (checked by the log itself).
                pg.bind_meta(
                    "idempotency_key_check",
                    &blake3::keyed_hash(&idempotency_key, b"credence idempotency key check")
                        .to_hex(),
                    "idempotency.key differs from the other replicas' (copy it from the first)",
                )?;
                let signer = crate::log::load_or_create_signer(
                    &config.data_dir,
                    config.log.origin.as_deref(),
                )?;
                let log = Arc::new(LogStore::open_postgres(
                    PgStore::log_connection(&url.0)?,
                    signer,
                )?);
                tracing::info!(database = ?url, "state and compliance log in PostgreSQL");
                (Arc::new(pg.with_log(log.clone())), log)
            }
        };
        let audit: Arc<dyn AuditSink> =
            Arc::new(LogThen::new(LogSink::new(log.clone()), hooks.audit));
        let mut loaded = BTreeMap::new();
        let mut ring = KeyRing::new();
        if config.services.prover || config.services.verifier {
            let dir = config.keys_dir();
            for shape in shapes {
                let k = if keys::has_keys(&dir, shape)? {
                    progress(KeyProgress::Loading(shape));
                    keys::load(&dir, shape, config.services.prover)?
                } else if !config.services.prover {
                    return Err(KeyError::NotHandedOut {
                        circuit_id: shape.circuit_id(),
                        dir,
                    }
                    .into());
                } else {
                    progress(KeyProgress::Generating(shape));
                    keys::setup(&dir, shape, false)?
                };
                progress(KeyProgress::Ready(shape));
                tracing::info!(
                    circuit = %shape.circuit_id(),
                    fingerprint = %k.vk.fingerprint(),
                    provenance = %k.entry.provenance(),
                    "keys ready"
                );
                if k.entry.ceremony.is_none() {
                    progress(KeyProgress::SingleParty(shape));
                    if hooks.log_setup_warning {
                        tracing::warn!(circuit = %shape.circuit_id(), "{}", keys::SETUP_WARNING);
                    }
                }
                // Every key is in the compliance log before any claim under it.
                log.append_once(&crate::log::key_marker(&k), &crate::log::key_entry(&k))?;
                ring.insert(k.vk.clone()).map_err(|e| {
                    ServerError::Keys(KeyError::Invalid {
                        circuit_id: shape.circuit_id(),
                        reason: e.to_string(),
                    })
                })?;
                loaded.insert(shape, k);
            }
        }
        let tokens = config.token_table()?;
        let (auth, access): (AuthLayer, Arc<dyn AccessPolicy>) = if tokens.is_empty() {
            (AuthLayer::open(), hooks.access)
        } else {
            tracing::info!(tokens = tokens.len(), "access control: bearer tokens");
            (
                AuthLayer::tokens(tokens),
                Arc::new(Both(Arc::new(RolePolicy), hooks.access)),
            )
        };
        let (shutdown_tx, shutdown) = watch::channel(false);
        let (draining_tx, draining) = watch::channel(false);
        let jobs = Arc::new(Jobs::new(
            store.clone(),
            audit.clone(),
            JobLimits {
                queue: config.limits.queue,
                tenant_jobs: config.limits.tenant_jobs,
                concurrency: config.prover.concurrency,
                lease_secs: config.prover.lease_secs,
                added_latency: std::time::Duration::from_millis(config.prover.added_latency_ms),
            },
            shutdown,
            draining.clone(),
        ));
        let state = Arc::new(State {
            config,
            keys: loaded,
            ring,
            store,
            access,
            audit,
            jobs,
            idempotency_key,
            trees: TreeCache::default(),
            draining,
        });
        Ok(App {
            state,
            shutdown_tx: Arc::new(shutdown_tx),
            draining_tx: Arc::new(draining_tx),
            auth,
            log,
        })
    }

    /// The compliance log.
    pub fn log(&self) -> &Arc<LogStore> {
        &self.log
    }

    /// The shared state (for embedding and tests).
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// The loaded keys, by shape.
    pub fn keys(&self) -> &BTreeMap<Shape, ShapeKeys> {
        &self.state.keys
    }

    /// Takes every proving slot until the returned guard is dropped: queued jobs wait. For
    /// maintenance (and for tests that need a job to stay queued).
    pub async fn pause_proving(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.state.jobs.pause_proving().await
    }

    /// Serves on `listener` until `shutdown` completes, then drains (see the module docs).
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = self.state.clone();
        let services = &state.config.services;
        let limits = state.config.limits.clone();
        let max = limits.max_message_bytes;
        let (health, health_service) = tonic_health::server::health_reporter();
        let datanet = services.datanet.then(|| {
            pb::datanet_server::DatanetServer::new(DatanetService::new(state.clone()))
                .max_decoding_message_size(max)
        });
        let prover = services.prover.then(|| {
            pb::prover_server::ProverServer::new(ProverService::new(state.clone()))
                .max_decoding_message_size(max)
        });
        let verifier = services.verifier.then(|| {
            pb::verifier_server::VerifierServer::new(VerifierService::new(state.clone()))
                .max_decoding_message_size(max)
        });
        if datanet.is_some() {
            health
                .set_serving::<pb::datanet_server::DatanetServer<DatanetService>>()
                .await;
        }
        if prover.is_some() {
            health
                .set_serving::<pb::prover_server::ProverServer<ProverService>>()
                .await;
        }
        if verifier.is_some() {
            health
                .set_serving::<pb::verifier_server::VerifierServer<VerifierService>>()
                .await;
        }
        let audit_log = pb::audit_log_server::AuditLogServer::new(AuditLogService::new(
            state.clone(),
            self.log.clone(),
        ))
        .max_decoding_message_size(max);
        health
            .set_serving::<pb::audit_log_server::AuditLogServer<AuditLogService>>()
            .await;
        // Both reflection versions: v1, and v1alpha for the clients that speak only it (Python
        // grpcio-reflection, older grpcurl, several GUI clients).
        let reflection_builder = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(credence_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection = reflection_builder()
            .build_v1()
            .map_err(|e| ServerError::Reflection(e.to_string()))?;
        let reflection_v1alpha = reflection_builder()
            .build_v1alpha()
            .map_err(|e| ServerError::Reflection(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_or_else(|e| format!("unknown ({e})"), |a| a.to_string());
        let secs = std::time::Duration::from_secs;
        // tonic's default is no stream limit at all (it overrides hyper's 200): set every bound.
        let mut builder = tonic::transport::Server::builder()
            .timeout(secs(limits.request_timeout_secs))
            .max_concurrent_streams(limits.max_concurrent_streams)
            .concurrency_limit_per_connection(limits.concurrency_limit_per_connection)
            .http2_keepalive_interval(Some(secs(limits.http2_keepalive_interval_secs)))
            .http2_keepalive_timeout(Some(secs(limits.http2_keepalive_timeout_secs)));
        // `mutual`: clients must present a certificate of `client_ca`.
        let tls_mode = match &state.config.tls {
            None => "off",
            Some(t) if t.client_ca.is_some() => "mutual",
            Some(_) => "on",
        };
        if let Some(tls) = &state.config.tls {
            builder = builder.tls_config(server_tls(tls)?)?;
        }
        // The one line that says what this process serves, for whoever reads its log.
        let on: Vec<&str> = [
            ("datanet", services.datanet),
            ("prover", services.prover),
            ("verifier", services.verifier),
            ("audit_log", true),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let shapes: Vec<String> = state
            .keys
            .keys()
            .map(|s| s.circuit_id().to_string())
            .collect();
        tracing::info!(
            %addr,
            tls = %tls_mode,
            services = %on.join(","),
            shapes = %if shapes.is_empty() { "-".to_owned() } else { shapes.join(",") },
            log_origin = %self.log.verifier().name(),
            "serving"
        );
        let (stop_tx, mut stop_rx) = watch::channel(false);
        // Outermost first: the request log sees every request and its final status (so the
        // refusals of the layers inside it too); a switched-off service is answered before
        // authentication (see `switched_off`); authentication comes last, before the services.
        let router = builder
            .layer(request_log::RequestLogLayer)
            .layer(switched_off::SwitchedOffLayer::new(services))
            .layer(self.auth.clone())
            .add_service(health_service)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_optional_service(datanet)
            .add_optional_service(prover)
            .add_optional_service(verifier)
            .add_service(audit_log);
        let incoming = conn::incoming(
            listener,
            conn::ConnLimits {
                max_connections: limits.max_connections,
                idle_timeout: secs(limits.idle_timeout_secs),
            },
        );
        // Job leases are renewed (and expired ones swept) until the server stops.
        tokio::spawn(state.jobs.clone().keep_leases(stop_rx.clone()));
        let mut server = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        }));

        // Serve until asked to stop (or until the transport fails by itself).
        tokio::select! {
            () = shutdown => {}
            ended = &mut server => {
                let _ = self.shutdown_tx.send(true);
                tracing::error!("server stopped: the transport ended by itself");
                return match ended {
                    Ok(r) => Ok(r?),
                    Err(e) => Err(ServerError::Io(format!("server task: {e}"))),
                };
            }
        }

        // Drain: refuse new work at once, let running proofs finish until the deadline.
        let deadline =
            tokio::time::Instant::now() + std::time::Duration::from_secs(limits.drain_secs);
        health
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
        health
            .set_not_serving::<pb::datanet_server::DatanetServer<DatanetService>>()
            .await;
        health
            .set_not_serving::<pb::prover_server::ProverServer<ProverService>>()
            .await;
        health
            .set_not_serving::<pb::verifier_server::VerifierServer<VerifierService>>()
            .await;
        health
            .set_not_serving::<pb::audit_log_server::AuditLogServer<AuditLogService>>()
            .await;
        let _ = self.draining_tx.send(true);
        tracing::info!(
            jobs = state.jobs.len(),
            drain_secs = limits.drain_secs,
            "shutting down: draining (new work refused; jobs queued or running may finish until \
             the drain deadline)"
        );
        while !state.jobs.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Jobs still running from here on write nothing; they are marked interrupted below.
        let _ = self.shutdown_tx.send(true);
        let _ = stop_tx.send(true);
        // Open connections (a watcher's stream) get a short grace, then are dropped.
        let grace = deadline.max(tokio::time::Instant::now() + std::time::Duration::from_secs(1));
        let result = match tokio::time::timeout_at(grace, &mut server).await {
            Ok(Ok(r)) => r.map_err(ServerError::from),
            Ok(Err(e)) => Err(ServerError::Io(format!("server task: {e}"))),
            Err(_) => {
                server.abort();
                Ok(())
            }
        };
        let (store, replica) = (state.store.clone(), state.jobs.replica().to_owned());
        match tokio::task::spawn_blocking(move || store.interrupt_jobs_of(&replica, now())).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::warn!(interrupted = n, "jobs marked interrupted, resubmit"),
            Ok(Err(e)) => tracing::error!(error = %e, "could not mark jobs interrupted"),
            Err(e) => tracing::error!(error = %e, "could not mark jobs interrupted"),
        }
        match &result {
            Ok(()) => tracing::info!("server stopped"),
            Err(e) => tracing::error!(error = %e, "server stopped"),
        }
        result
    }
}

/// The rustls configuration of `[tls]`.
fn server_tls(
    tls: &crate::config::TlsConfig,
) -> Result<tonic::transport::ServerTlsConfig, ServerError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| ServerError::Io(format!("tls: {}: {e}", p.display())))
    };
    crate::config::owner_only(&tls.key, "the TLS private key")?;
    let identity = tonic::transport::Identity::from_pem(read(&tls.cert)?, read(&tls.key)?);
    let mut config = tonic::transport::ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &tls.client_ca {
        // Client certificates are then required (`client_auth_optional` stays false).
        config = config.client_ca_root(tonic::transport::Certificate::from_pem(read(ca)?));
    }
    Ok(config)
}

/// Opens the server with the default hooks (on a blocking thread) and serves on `listener`
/// until `shutdown` completes.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let app = tokio::task::spawn_blocking(move || App::open(config, Hooks::default(), |_| {}))
        .await
        .map_err(|e| ServerError::Io(format!("start-up task failed: {e}")))??;
    app.serve(listener, shutdown).await
}
