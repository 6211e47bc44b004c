//! The `credence` command line. Subcommand names are a contract:
//!
//! - `credence serve [--config FILE] [--data-dir DIR] [--listen ADDR] [--shape N,D]...`
//! - `credence setup --shape N,D [--data-dir DIR] [--replace]`
//! - `credence ceremony r1cs|pilot-ptau|new|contribute|beacon|verify|import`: a multi-party
//!   phase-2 ceremony in snarkjs' formats, and installing its final key ([`ceremony`])
//! - `credence commit FILE... [--secret secret.key] [--openings openings.json]` (no server)
//! - `credence config init --out FILE [--contributor-id ID]`: a documented example
//!   configuration with fresh tokens for each role (mode 0600)
//! - `credence register`, `credence snapshot publish|show`, `credence claim`, `credence verify`:
//!   clients of a running server (`--server`, default `http://127.0.0.1:7117`; an `https://`
//!   URL with `--ca`, and `--cert`/`--key` for mutual TLS). The bearer token comes from the
//!   `CREDENCE_TOKEN` environment variable or `--token-file`, never from the command line
//!   (shell history and process lists would show it).
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
pub mod demo;
pub mod files;
pub mod load_test;
pub mod log;
pub mod progress;
pub mod register;
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
    /// Generate Groth16 keys for a circuit shape (single-party setup: see the warning).
    Setup(setup::SetupArgs),
    /// A multi-party Groth16 ceremony for a circuit shape, in snarkjs' formats.
    #[command(subcommand)]
    Ceremony(ceremony::CeremonyCommand),
    /// Commit to files: digest, fresh blinding, commitment; writes the openings (0600).
    Commit(commit::CommitArgs),
    /// Register committed contributions with a datanet.
    Register(register::RegisterArgs),
    /// Publish or read an epoch snapshot.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Prove a claim on a server and write its bundle.
    Claim(claim::ClaimArgs),
    /// Verify claim bundles on a server.
    Verify(verify::VerifyArgs),
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
        Command::Verify(a) => verify::verify(a).await,
        Command::Config(config::ConfigCommand::Init {
            out,
            contributor_id,
        }) => config::config_init(&out, contributor_id.as_deref()).map(|()| 0),
        Command::Bench(a) => bench::command(a).await.map(|()| 0),
        Command::Demo(a) => demo::run(a).await.map(|()| 0),
        Command::Log(c) => log::run(c).await.map(|()| 0),
        Command::LoadTest(a) => load_test::command(a).await,
    }
}
