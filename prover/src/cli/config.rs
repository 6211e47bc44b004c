//! `credence config`: configuration files.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;
use zeroize::Zeroizing;

use super::files;

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

pub(crate) fn config_init(out: &std::path::Path, contributor_id: Option<&str>) -> Result<()> {
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
