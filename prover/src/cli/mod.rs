//! The `credence` command line. Subcommand names are a contract:
//!
//! - `credence serve [--config FILE] [--data-dir DIR] [--listen ADDR] [--shape N,D]...`
//! - `credence setup --shape N,D [--data-dir DIR] [--replace]`, or `--circuit payee-v1` for the
//!   payee circuit's keys (`--circuit claim-v1-nN-dD` is another spelling of `--shape N,D`; the
//!   `credence ceremony` commands that take `--shape` take `--circuit` alike)
//! - `credence ceremony r1cs|pilot-ptau|new|contribute|beacon|verify|import`: a multi-party
//!   phase-2 ceremony in snarkjs' formats, and installing its final key ([`ceremony`])
//! - `credence commit FILE... [--secret secret.key] [--openings openings.json]` (no server)
//! - `credence contributor-id [--secret secret.key] [--create]`: a contributor's public id,
//!   before any file is committed (an operator's token for it names it)
//! - `credence payee prove --secret secret.key --keys-dir DIR --chain-id N --settlement 0xADDR
//!   --payee 0xADDR --nonce N --out payee.json` (no server): the contributor's proof of where
//!   its payouts go, for the settlement contract ([`payee`])
//! - `credence config init --out FILE [--services S,..] [--listen A] [--tls-cert C --tls-key K]
//!   [--shape N,D].. [--contributor-id ID --tenant T] ...`: a documented configuration with a
//!   fresh token per party (mode 0600) and each party's token file `<tenant>.token`
//! - `credence config add-party --config FILE --role R --tenant T [--contributor-id ID]`: one
//!   more party, appended to the file, its token file written
//! - `credence register`, `credence snapshot publish|show`, `credence claim`, `credence verify`:
//!   clients of a running server (`--server`, default `http://127.0.0.1:7117`; an `https://`
//!   URL with `--ca`, and `--cert`/`--key` for mutual TLS). The bearer token comes from the
//!   `CREDENCE_TOKEN` environment variable or `--token-file`, never from the command line
//!   (shell history and process lists would show it).
//! - `credence health [--wait SECS]`: `grpc.health.v1` of a server (no token needed); exit 0
//!   serving, 1 not serving, 2 unreachable
//! - `credence log export --data-dir DIR --out FILE`: the compliance log as one file for
//!   `credence-verify audit --export` (read-only; works while the server runs).
//!
//! - `credence load-test [--seconds S] [--clients C] [--runs clean|kill|both]`: a loopback
//!   server under mixed load, killed and restarted mid-run, held to its promises
//!   ([`load_test`]).
//!
//! The contributor's private files are described in [`files`].

pub mod bench;
pub mod ceremony;
pub mod claim;
pub mod client;
pub mod commit;
pub mod config;
pub mod datanet_bench;
pub mod demo;
pub mod files;
pub mod gas_bench;
pub mod health;
pub mod load_test;
pub mod log;
pub mod payee;
pub mod peers_bench;
pub mod progress;
pub mod register;
pub mod replica_bench;
pub mod serve;
pub mod setup;
pub mod snapshot;
pub mod verify;

use anyhow::Result;
use clap::{Parser, Subcommand};

pub use client::{AuthChannel, BearerToken, DATANET_TOKEN_ENV, ServerArg, TOKEN_ENV};

/// Credence: prove contributions and payouts in zero knowledge.
#[derive(Debug, Parser)]
#[command(name = "credence", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Generate Groth16 keys for a circuit shape or the payee circuit (single-party setup: see
    /// the warning).
    Setup(setup::SetupArgs),
    /// A multi-party Groth16 ceremony for a circuit shape or the payee circuit, in snarkjs'
    /// formats.
    #[command(subcommand)]
    Ceremony(ceremony::CeremonyCommand),
    /// Commit to files: digest, fresh blinding, commitment; writes the openings (0600).
    Commit(commit::CommitArgs),
    /// Print the contributor id of a secret (`--create`: make a fresh secret first), the id an
    /// operator's token for this contributor names.
    ContributorId(commit::ContributorIdArgs),
    /// Register committed contributions with a datanet.
    Register(register::RegisterArgs),
    /// Publish or read an epoch snapshot.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Prove a claim on a server and write its bundle.
    Claim(claim::ClaimArgs),
    /// A contributor's proof of where its payouts go (`payee-v1`), made offline.
    #[command(subcommand)]
    Payee(payee::PayeeCommand),
    /// Verify claim bundles on a server.
    Verify(verify::VerifyArgs),
    /// Is a server serving, and which services? (`grpc.health.v1`; `--wait` for a new one.)
    Health(health::HealthArgs),
    /// Server configuration files.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Measure proving, verification and the gRPC verifier on this machine.
    Bench(bench::BenchArgs),
    /// Run a realistic end-to-end demo on a loopback server (see `credence demo --help`).
    Demo(demo::DemoArgs),
    /// The compliance log.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Drive a loopback server with concurrent clients for a fixed time, with and without a
    /// SIGKILL mid-run; report throughput, latency, errors and peak RSS, and check that nothing
    /// accepted was lost.
    LoadTest(load_test::LoadTestArgs),
}

/// Runs the command; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Serve(a) => serve::serve(a).await.map(|()| 0),
        Command::Setup(a) => setup::setup(a).await.map(|()| 0),
        Command::Ceremony(c) => ceremony::run(c).await.map(|()| 0),
        Command::Commit(a) => commit::commit(a).map(|()| 0),
        Command::Register(a) => register::register(a).await.map(|()| 0),
        Command::Snapshot(c) => snapshot::run(c).await.map(|()| 0),
        Command::Claim(a) => claim::claim(a).await.map(|()| 0),
        Command::Payee(c) => payee::run(c).map(|()| 0),
        Command::Verify(a) => verify::verify(a).await,
        Command::Health(a) => health::health(a).await,
        Command::Config(config::ConfigCommand::Init(a)) => config::init(*a).map(|()| 0),
        Command::Config(config::ConfigCommand::AddParty(a)) => config::add_party(a).map(|()| 0),
        Command::ContributorId(a) => commit::contributor_id(a).map(|()| 0),
        Command::Bench(a) => bench::command(a).await.map(|()| 0),
        Command::Demo(a) => demo::run(a).await.map(|()| 0),
        Command::Log(c) => log::run(c).await.map(|()| 0),
        Command::LoadTest(a) => load_test::command(a).await,
    }
}
