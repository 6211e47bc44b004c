//! `credence payee prove`: a contributor's proof of where its payouts go (`payee-v1`), made
//! offline from its secret and the payee circuit's keys, written as `payee.json`
//! ([`credence_verifier::payee`]) for the settlement contract and `credence-verify payee`.
//!
//! ```text
//! credence payee prove --secret secret.key --keys-dir DIR --chain-id N --settlement 0xADDR \
//!     --payee 0xADDR --nonce N --out payee.json
//! ```
//!
//! Invariants: the secret is read from its private file only, held in zeroizing memory, and
//! never printed; a proof leaves only after it verified under the checked verifying key of the
//! manifest. `payee.json` holds nothing private (the contributor id is public), so it is written
//! 0644, by temp file, fsync and rename.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use credence_circuits::{PayeeInput, payee::Address};
use credence_verifier::PayeeBundle;
use credence_verifier::encoding::{address_from_hex, address_to_hex, fr_to_decimal};
use credence_verifier::payee::verify_payee_proof;

use super::files;

/// `credence payee ...`.
#[derive(Debug, Subcommand)]
pub enum PayeeCommand {
    /// Prove that the contributor of `--secret` sends its payouts to `--payee`, for one
    /// settlement contract on one chain; writes `payee.json`.
    Prove(ProveArgs),
}

/// `credence payee prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The contributor secret file.
    #[arg(long, default_value = "secret.key")]
    pub secret: PathBuf,
    /// The keys directory with `payee-v1.{pk,vk}` and their manifest (what `credence setup
    /// --circuit payee-v1` or `credence ceremony import --circuit payee-v1` writes to
    /// `<data-dir>/keys`).
    #[arg(long, default_value = "credence-data/keys")]
    pub keys_dir: PathBuf,
    /// The EVM chain id of the settlement contract.
    #[arg(long)]
    pub chain_id: u64,
    /// The settlement contract's address, `0x` and 40 hex digits.
    #[arg(long, value_parser = parse_address)]
    pub settlement: Address,
    /// The address to pay, `0x` and 40 hex digits.
    #[arg(long, value_parser = parse_address)]
    pub payee: Address,
    /// The nonce the contract expects next for this contributor.
    #[arg(long)]
    pub nonce: u64,
    /// Where to write the proof.
    #[arg(long, default_value = "payee.json")]
    pub out: PathBuf,
}

fn parse_address(s: &str) -> Result<Address, String> {
    address_from_hex("address", s).map_err(|e| e.to_string())
}

/// Runs a payee command.
pub(crate) fn run(c: PayeeCommand) -> Result<()> {
    match c {
        PayeeCommand::Prove(a) => prove(a),
    }
}

fn prove(a: ProveArgs) -> Result<()> {
    let secret = files::load_secret(&a.secret)?;
    let keys = crate::keys::load_payee(&a.keys_dir, true)?;
    let prover = keys
        .prover
        .as_ref()
        .context("the payee keys were loaded without their proving key")?;
    let input = PayeeInput {
        secret: *secret,
        chain_id: a.chain_id,
        settlement: a.settlement,
        payee: a.payee,
        nonce: a.nonce,
    };
    drop(secret);
    let mut rng = credence_circuits::prover::os_rng();
    let (statement, proof) = prover.prove(&input, &mut rng)?;
    drop(input);
    let proof = proof.into();
    // Nothing leaves unverified: a key that proves but does not verify is caught here, not by
    // the contract.
    verify_payee_proof(&keys.vk, &statement, &proof)
        .context("the proof does not verify under the payee verifying key")?;
    let bundle = PayeeBundle::new(&keys.vk, statement, proof);
    let text = bundle.to_json();
    credence_verifier::durable::write_atomic(&a.out, text.as_bytes(), 0o644)
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "contributor_id {}",
        fr_to_decimal(&bundle.statement.contributor_id)
    );
    println!("payee          {}", address_to_hex(&bundle.statement.payee));
    println!("wrote          {}", a.out.display());
    Ok(())
}
