//! `credence setup`: single-party Groth16 keys for one circuit (development and pilots): a claim
//! shape (`--shape N,D`) or the payee circuit (`--circuit payee-v1`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use credence_circuits::{Circuit, Shape};

use super::progress::spinner;
use crate::config::parse_shape;

/// Which circuit a command is about: `--shape N,D` (a claim circuit) or `--circuit ID`, exactly
/// one of them (clap refuses neither or both).
#[derive(Clone, Debug, Args)]
#[group(required = true, multiple = false)]
pub struct CircuitArg {
    /// The claim circuit's shape, `N,D` (slots, tree depth).
    #[arg(long, value_parser = parse_shape)]
    pub shape: Option<Shape>,
    /// The circuit by id: `payee-v1`, or a claim circuit `claim-v1-nN-dD` (the same as
    /// `--shape N,D`).
    #[arg(long, value_parser = parse_circuit)]
    pub circuit: Option<Circuit>,
}

impl CircuitArg {
    /// The circuit named.
    pub fn circuit(&self) -> Circuit {
        match (self.shape, self.circuit) {
            (Some(shape), _) => Circuit::Claim(shape),
            (None, Some(circuit)) => circuit,
            // The group is required: clap never lets neither through.
            (None, None) => unreachable!("clap requires --shape or --circuit"),
        }
    }
}

/// Parses `--circuit`: a circuit id.
pub fn parse_circuit(s: &str) -> Result<Circuit, String> {
    Circuit::from_circuit_id(s).map_err(|e| e.to_string())
}

/// `credence setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The circuit.
    #[command(flatten)]
    pub which: CircuitArg,
    /// Data directory; keys go to `<data_dir>/keys`.
    #[arg(long, default_value = "credence-data")]
    pub data_dir: PathBuf,
    /// Replace existing keys of the circuit (every proof made under them stops verifying).
    #[arg(long)]
    pub replace: bool,
}

pub(crate) async fn setup(a: SetupArgs) -> Result<()> {
    let dir = a.data_dir.join("keys");
    let circuit = a.which.circuit();
    // Refuse before any warning or work (`keys::setup` checks again).
    crate::keys::check_replace(&crate::keys::Manifest::read(&dir)?, circuit, a.replace)?;
    eprintln!("{}", crate::keys::SETUP_WARNING);
    let replace = a.replace;
    let bar = spinner(format!("generating keys for {circuit}"));
    let keys_dir = dir.clone();
    let fingerprint = tokio::task::spawn_blocking(move || match circuit {
        Circuit::Claim(shape) => {
            crate::keys::setup(&keys_dir, shape, replace).map(|k| k.vk.fingerprint())
        }
        Circuit::Payee => crate::keys::setup_payee(&keys_dir, replace).map(|k| k.vk.fingerprint()),
    })
    .await;
    bar.finish_and_clear();
    let fingerprint = fingerprint??;
    let (pk, vk) = crate::keys::key_paths(&dir, circuit);
    println!("circuit      {circuit}");
    println!("proving key  {}", pk.display());
    println!("verifying key {}", vk.display());
    println!("vk fingerprint {fingerprint}");
    Ok(())
}
