//! The Credence server: the only crate that knows the circuits (meaning), the verifier
//! (encodings and checks) and the proto (the wire).
//!
//! One server ([`server::App`]) serves the `credence.v1` services a deployment turns on:
//! `Datanet` (registrations, snapshots), `Prover` (claim jobs), `Verifier` (bundles, keys), and
//! always `AuditLog` (the compliance log), plus `grpc.health.v1` and server reflection. Its
//! rooms, each with its invariant in its module docs:
//!
//! - [`server`]: building and running it (storage, keys, services, TLS, drain);
//! - [`access`]: tokens, roles, the role table and the authentication layer;
//! - [`service`]: one file per gRPC service, thin handlers over the rest, the
//!   [`service::state::State`] they share and [`service::convert`] (wire <-> domain, errors
//!   naming the field);
//! - [`jobs`]: a proving job's life, admission (queue and quotas) and the idempotency
//!   fingerprint;
//! - [`store`]: durable state behind the [`store::Store`] trait, and its SQLite backend;
//! - [`log`]: the compliance log (store, signer files, the sink the services record into);
//! - [`keys`]: Groth16 key files, their manifest and fingerprints;
//! - [`config`]: the TOML configuration and the development default;
//! - [`error`]: [`error::ServiceError`], the one mapping to `tonic::Status`;
//! - [`cli`]: the `credence` command, one file per command.
//!
//! Arrows point one way: `cli -> server -> service -> {access, jobs} -> {store, log, keys}`;
//! everything may use [`error`], [`config`] and [`blocking`]; nothing below points back up.
//!
//! Secrets (contributor secret, digests, blindings) exist only in a job's memory, in zeroizing
//! types; they are never stored, logged or returned.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod blocking;
pub mod cli;
pub mod config;
pub mod error;
pub mod jobs;
pub mod keys;
#[allow(missing_docs)]
pub mod log;
pub mod server;
pub mod service;
pub mod store;

pub use config::Config;
pub use error::ServiceError;
pub use server::{App, Hooks, serve};
