//! `credence-verify`: check Credence claim bundles offline.
//!
//! Exit codes (a contract): 0 valid, 1 invalid (a well-formed claim that is false or refused; for
//! `audit`, a log that is not what its checkpoints sign),
//! 2 malformed (an input that is not a valid encoding, or cannot be read; also usage errors).
//! Every subcommand prints one line per verdict saying why, or JSON with `--json`.
//!
//! One module per subcommand: to add one, write `mod name;` with `Args` (clap) and
//! `run(&Args) -> Exit`, and a variant in [`Command`].

mod audit;
mod batch;
mod calldata;
mod ceremony;
mod common;
mod export_snarkjs;
mod export_solidity;
mod inclusion;
mod payee;
mod proof;
mod settle;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "credence-verify",
    version,
    about = "Verify Credence claim bundles offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify one claim bundle: exit 0 valid, 1 invalid, 2 malformed.
    Proof(proof::Args),
    /// Verify many bundles with one multi-pairing per key, naming the bad ones.
    Batch(batch::Args),
    /// Settle one snapshot: verify the bundles, admit them in order, print the payout table.
    Settle(settle::Args),
    /// Write a bundle and its key as snarkjs proof.json, public.json, verification_key.json.
    ExportSnarkjs(export_snarkjs::Args),
    /// Write the Solidity verifier contract of each key (`<Circuit>Verifier.sol`), for the
    /// settlement contract or any other caller.
    ExportSolidity(export_solidity::Args),
    /// Print the call data that submits a claim bundle or a payee proof to the settlement
    /// contract (`claim` or `setPayee`).
    Calldata(calldata::Args),
    /// Audit the whole compliance log: roots, signatures, no fork since the last run, every
    /// claim proof; exit 0 only if everything holds.
    Audit(audit::Args),
    /// Check offline that a claim bundle's `log` field proves it is in the compliance log.
    Inclusion(inclusion::Args),
    /// Trace a verifying key to its ceremony's transcript (the final .zkey): the contributions,
    /// and with --r1cs and --ptau the whole transcript verified as snarkjs does.
    Ceremony(ceremony::Args),
    /// Verify a payee proof (`payee.json`) under the payee key: exit 0 valid, 1 invalid,
    /// 2 malformed.
    Payee(payee::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match &cli.command {
        Command::Proof(a) => proof::run(a),
        Command::Batch(a) => batch::run(a),
        Command::Settle(a) => settle::run(a),
        Command::ExportSolidity(a) => export_solidity::run(a),
        Command::Calldata(a) => calldata::run(a),
        Command::ExportSnarkjs(a) => export_snarkjs::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Inclusion(a) => inclusion::run(a),
        Command::Ceremony(a) => ceremony::run(a),
        Command::Payee(a) => payee::run(a),
    };
    exit.into()
}
