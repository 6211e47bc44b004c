//! `credence log`: the compliance log, read from a data directory or the replicas' database.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

/// `credence log`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Write the whole log (entries, every signed checkpoint, the key) as one export file.
    Export {
        /// The server's data directory (holding `credence.db`).
        #[arg(long, default_value = "credence-data")]
        data_dir: PathBuf,
        /// The replicas' PostgreSQL database instead (`postgres://…`; also read from
        /// `CREDENCE_DATABASE`).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// The export file to write (replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
}

pub(crate) async fn run(c: LogCommand) -> Result<()> {
    match c {
        LogCommand::Export {
            data_dir,
            database,
            out,
        } => {
            let shown = out.display().to_string();
            if let Some(url) = super::serve::database_url(database) {
                // Read through a connection of its own: safe while the replicas append.
                let n = tokio::task::spawn_blocking(move || {
                    let client = crate::store::PgStore::log_connection(&url)?;
                    crate::log::export_postgres(client, &out).map_err(anyhow::Error::from)
                })
                .await?
                .with_context(|| format!("exporting the log to {shown}"))?;
                eprintln!("credence: exported {n} log entries to {shown}");
                return Ok(());
            }
            let db = data_dir.join(crate::log::LOG_DB_FILE);
            if !db.exists() {
                bail!("{}: no compliance log here", db.display());
            }
            // A read-only snapshot through its own connection: safe while the server appends.
            let n = tokio::task::spawn_blocking(move || crate::log::export_db(&db, &out))
                .await?
                .with_context(|| format!("exporting the log to {shown}"))?;
            eprintln!("credence: exported {n} log entries to {shown}");
            Ok(())
        }
    }
}
