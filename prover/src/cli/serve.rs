//! `credence serve`: the server, from a configuration file or the development default.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::progress::key_progress;
use crate::config::Config;

/// `credence serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration; without it, the development default (loopback only).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (overrides the configuration).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The database shared by replicas, `postgres://…` (overrides the configuration; also
    /// read from `CREDENCE_DATABASE`, which keeps a password out of the process list).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Listen address (overrides the configuration).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Circuit shapes `N,D` to offer (overrides the configuration; repeatable). Without
    /// `--config`, the datanet's depth follows them when they share one.
    #[arg(long = "shape")]
    pub shapes: Vec<String>,
}

/// The environment variable naming the database (as `--database`).
pub const DATABASE_ENV: &str = "CREDENCE_DATABASE";

/// `--database URL`, or else `CREDENCE_DATABASE`, or else none (SQLite in the data directory).
pub(crate) fn database_url(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var(DATABASE_ENV).ok().filter(|v| !v.is_empty()))
}

/// The banner of the development configuration.
const DEV_WARNING: &str = "\
!!! DEVELOPMENT CONFIGURATION: no --config, so NO ACCESS CONTROL and NO TLS. !!!
!!! Anyone who can reach the port may call every RPC. Loopback only.          !!!
!!! For anything else: `credence config init --out credence.toml`.            !!!";

pub(crate) async fn serve(a: ServeArgs) -> Result<()> {
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
    if let Some(url) = a
        .database
        .or_else(|| std::env::var(DATABASE_ENV).ok().filter(|v| !v.is_empty()))
    {
        config.database = Some(crate::config::DatabaseUrl(url));
    }
    if !a.shapes.is_empty() {
        config.shapes = a.shapes;
        // The development default's datanet depth follows the shapes asked for when they agree
        // on one (`--shape 1,4` alone means depth-4 snapshots); a file's depth is the file's.
        if a.config.is_none()
            && let Some(depth) = crate::config::common_depth(&config.shapes)
        {
            config.datanet.depth = depth;
        }
    }
    config.validate()?;
    // Before any key or request is read: no core files, not dumpable (see `server::process`).
    crate::server::process::harden();
    let listen = config.listen;
    let app = tokio::task::spawn_blocking(move || {
        crate::server::App::open(config, crate::server::Hooks::default(), key_progress(""))
    })
    .await??;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    eprintln!("credence: serving on {}", listener.local_addr()?);
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, what systemd, Kubernetes and container runtimes send
/// to stop a service: both drain the same way.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
                    _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
