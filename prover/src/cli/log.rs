//! `credence log`: the compliance log, read from a data directory.

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
        /// The export file to write (replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
}

pub(crate) async fn run(c: LogCommand) -> Result<()> {
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
