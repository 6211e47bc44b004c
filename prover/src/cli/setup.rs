//! `credence setup`: single-party Groth16 keys for one shape (development and pilots).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::progress::spinner;
use crate::config::parse_shape;

/// `credence setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The shape, `N,D` (slots, tree depth).
    #[arg(long, value_parser = parse_shape)]
    pub shape: credence_circuits::Shape,
    /// Data directory; keys go to `<data_dir>/keys`.
    #[arg(long, default_value = "credence-data")]
    pub data_dir: PathBuf,
    /// Replace existing keys of the shape (every bundle proven under them stops verifying).
    #[arg(long)]
    pub replace: bool,
}

pub(crate) async fn setup(a: SetupArgs) -> Result<()> {
    let dir = a.data_dir.join("keys");
    // Refuse before any warning or work (`keys::setup` checks again).
    crate::keys::check_replace(&crate::keys::Manifest::read(&dir)?, a.shape, a.replace)?;
    eprintln!("{}", crate::keys::SETUP_WARNING);
    let shape = a.shape;
    let replace = a.replace;
    let bar = spinner(format!("generating keys for {}", shape.circuit_id()));
    let keys = tokio::task::spawn_blocking(move || crate::keys::setup(&dir, shape, replace)).await;
    bar.finish_and_clear();
    let keys = keys??;
    let (pk, vk) = crate::keys::key_paths(&a.data_dir.join("keys"), shape);
    println!("circuit      {}", shape.circuit_id());
    println!("proving key  {}", pk.display());
    println!("verifying key {}", vk.display());
    println!("vk fingerprint {}", keys.vk.fingerprint());
    Ok(())
}
