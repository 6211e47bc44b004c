//! `credence-verify export-solidity --vk KEY... --out DIR`
//!
//! Writes one verifier contract per key (`credence_verifier::solidity`): `DIR/<Name>.sol`, named
//! after the circuit id (`claim-v1-n16-d20.vk` gives `ClaimV1N16D20Verifier.sol`). Claim keys
//! (nine public inputs) and the payee key (`payee-v1`, five) are both accepted, from a
//! single-party setup or a ceremony alike. Exit 0 when every contract was written, 2 when a key
//! or the output directory could not be used (nothing is written then).

use std::path::PathBuf;

use credence_verifier::Fingerprint;
use credence_verifier::durable::write_atomic;
use credence_verifier::solidity::{VerifierContract, verifier_contract};

use crate::common::{Exit, InputError, input_failure, load_any_key};

#[derive(clap::Args)]
pub struct Args {
    /// A verifying key, `[CIRCUIT_ID=]PATH` (the id defaults to the file's stem); may be
    /// repeated.
    #[arg(long = "vk", required = true)]
    vk: Vec<String>,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

fn contract(arg: &str) -> Result<(VerifierContract, Fingerprint), InputError> {
    let (id, key) = load_any_key(arg)?;
    let c = verifier_contract(&id, key.vk()).map_err(|e| InputError::KeyArg {
        arg: arg.to_owned(),
        reason: e.to_string(),
    })?;
    Ok((c, key.fingerprint()))
}

pub fn run(args: &Args) -> Exit {
    // Every key is checked before anything is written.
    let contracts: Result<Vec<_>, _> = args.vk.iter().map(|a| contract(a)).collect();
    let contracts = match contracts {
        Ok(c) => c,
        Err(e) => return input_failure(&e, false),
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        println!("malformed: cannot create {}: {e}", args.out.display());
        return Exit::Malformed;
    }
    for (c, fingerprint) in &contracts {
        let path = args.out.join(c.file_name());
        if let Err(e) = write_atomic(&path, c.source.as_bytes(), 0o644) {
            println!("malformed: cannot write {}: {e}", path.display());
            return Exit::Malformed;
        }
        println!(
            "wrote {} (contract {}, key fingerprint {fingerprint})",
            path.display(),
            c.name
        );
    }
    Exit::Valid
}
