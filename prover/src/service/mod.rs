//! The gRPC services: one file per service, thin handlers over the rest of the crate.
//!
//! - [`datanet::DatanetService`]: registrations and snapshots;
//! - [`prover::ProverService`]: claim jobs (see [`crate::jobs`] for a job's life);
//! - [`verifier::VerifierService`]: bundle verification and verifying keys;
//! - [`audit_log::AuditLogService`]: the compliance log, read-only, for auditors;
//! - [`state`]: the [`State`](state::State) every service shares (built by the server);
//! - [`convert`]: wire <-> domain decoding, every error naming its field.
//!
//! Invariants: handlers do no blocking work on the async runtime (storage calls, tree
//! building, witness checks and proving run through [`crate::blocking`]); every handler returns
//! [`ServiceError`](crate::error::ServiceError), whose `From` impl is the one mapping to
//! `tonic::Status`; every request is authorized through
//! [`AccessPolicy`](crate::access::AccessPolicy) before it touches state.

pub mod audit_log;
pub mod convert;
pub mod datanet;
pub mod prover;
pub mod state;
pub mod verifier;
