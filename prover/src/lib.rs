//! The Credence prover: the only crate that knows circuits, encodings and the wire.
//!
//! One server ([`server::App`]) serves the `credence.v1` services a deployment turns on:
//! `Datanet` (registrations, snapshots), `Prover` (claim jobs), `Verifier` (bundles, keys), plus
//! `grpc.health.v1` and server reflection. Modules, each with its invariant:
//!
//! - [`config`]: the TOML configuration and the development default;
//! - [`storage`]: durable state behind the [`storage::Store`] trait (SQLite by default);
//! - [`keys`]: Groth16 key files, their manifest and fingerprints;
//! - [`service`]: the gRPC handlers; [`jobs`]: a proving job's life;
//! - [`error`]: [`error::ServiceError`], the one mapping to `tonic::Status`;
//! - [`access`] and [`audit`]: the hooks for access control and the compliance log;
//! - [`convert`]: wire <-> domain decoding with field-naming errors;
//! - [`durable`]: crash-safe file writes (temp file, fsync, rename, directory fsync);
//! - [`server`]: start-up and serving; [`cli`]: the `credence` command;
//! - [`bench`]: `credence bench`, figures measured in-process.
//!
//! Secrets (contributor secret, digests, blindings) exist only in a job's memory, in zeroizing
//! types; they are never stored, logged or returned.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod audit;
pub mod bench;
pub mod cli;
pub mod config;
pub mod convert;
pub mod durable;
pub mod error;
pub mod jobs;
pub mod keys;
#[allow(missing_docs)]
pub mod log;
pub mod server;
pub mod service;
pub mod storage;

pub use config::Config;
pub use error::ServiceError;
pub use server::{App, Hooks, serve};
