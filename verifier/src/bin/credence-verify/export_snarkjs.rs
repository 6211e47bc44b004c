//! `credence-verify export-snarkjs BUNDLE --vk KEY --out DIR`
//!
//! Writes `proof.json`, `public.json` and `verification_key.json` for `snarkjs groth16 verify`.
//! The proof is converted, not checked: exporting a bad proof is how one cross-checks the two
//! verifiers on it.

use std::path::PathBuf;

use credence_verifier::snarkjs::SnarkjsFiles;

use crate::common::{Exit, input_failure, load_ring, read_bundle};

#[derive(clap::Args)]
pub struct Args {
    /// The claim bundle.
    bundle: PathBuf,
    /// A trusted verifying key, `[CIRCUIT_ID=]PATH`; may be repeated.
    #[arg(long = "vk", required = true)]
    vk: Vec<String>,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: &Args) -> Exit {
    let keys = match load_ring(&args.vk) {
        Ok(k) => k,
        Err(e) => return input_failure(&e, false),
    };
    let name = args.bundle.display().to_string();
    let bundle = match read_bundle(&args.bundle) {
        Ok(b) => b,
        Err(e) => {
            println!("{name}: malformed: {e}");
            return Exit::Malformed;
        }
    };
    let files = keys
        .ring
        .select(&bundle.circuit_id, &bundle.vk_fingerprint)
        .and_then(|key| SnarkjsFiles::export(key, &bundle));
    let files = match files {
        Ok(f) => f,
        Err(e) => {
            println!("{name}: invalid: {}", keys.invalid_reason(&e));
            return Exit::Invalid;
        }
    };
    let written = std::fs::create_dir_all(&args.out).and_then(|()| files.write_to(&args.out));
    match written {
        Ok(()) => {
            println!(
                "{name}: wrote {}/{{proof,public,verification_key}}.json",
                args.out.display()
            );
            Exit::Valid
        }
        Err(e) => {
            println!("{name}: cannot write {}: {e}", args.out.display());
            Exit::Malformed
        }
    }
}
