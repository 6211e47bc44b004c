//! `credence-verifier`: the small, dependable piece a settlement verifier embeds.
//!
//! It owns the *encodings* and the *checks* of the Credence protocol (see `docs/protocol.md`).
//! The meaning (the statement and its public-input order, the hashes, the Merkle-sum tree, the
//! depth limits, the payout rule) is `credence-circuits`' native part, which this crate builds
//! on and never re-implements; [`statement`] is re-exported from there.
//!
//! Layers, each with its invariant in its module docs:
//! * [`encoding`]: strict decoders (decimal strings, hex, compressed points); errors in
//!   [`error`] are either [`Malformed`] (not a valid encoding) or [`Invalid`] (a false claim).
//! * [`groth16`]: proof and key types, byte-compatible with ark-groth16.
//! * [`keys`]: trusted keys pinned by circuit id, selected by fingerprint.
//! * [`bundle`]: the claim bundle JSON.
//! * [`verify`](mod@verify): single and batch verification; a [`VerifiedClaim`] (only built there) is the
//!   only way into
//! * [`settlement`]: one snapshot's payout accumulator.
//! * [`payee`]: `payee.json`, a contributor's proof of where its payouts go, its key and its
//!   check.
//! * [`snarkjs`]: export to / import from snarkjs' JSON files.
//! * [`solidity`]: the Groth16 verifier contract of a key, and the EVM words of proofs and inputs.
//! * [`log`]: the compliance log's offline checks and its signer; [`leaves`]: the operator's
//!   leaf table of a snapshot, its Merkle-sum root and the registration check.
//! * [`durable`]: the one crash-safe file write (temp file, fsync, rename, directory fsync).
//!
//! Default features add only the `credence-verify` binary (`cli`); no tokio, tonic or r1cs crate.
//! The `groth16` feature adds `From` conversions to and from `ark_groth16`'s proof and key; the
//! `grpc` feature adds the gRPC connection every Credence client makes ([`client`]: TLS, tokens,
//! diagnosed failures) and the auditor's `AuditLog` client (`log::remote`, `audit --server`), the
//! only places tokio and tonic appear.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundle;
#[cfg(feature = "grpc")]
pub mod client;
pub mod durable;
pub mod encoding;
pub mod error;
pub mod groth16;
pub mod keys;
pub mod leaves;
pub mod log;
pub mod payee;
pub mod settlement;
pub mod snarkjs;
pub mod solidity;
pub mod verify;

pub use credence_circuits::statement;

pub use bundle::{BUNDLE_FORMAT, ClaimBundle};
pub use error::{Error, Invalid, KeyName, Malformed};
pub use groth16::{Proof, VerifyingKey};
pub use keys::{CheckedKey, CircuitId, Fingerprint, KeyRing, TrustedKey};
pub use payee::{PAYEE_PROTOCOL, PayeeBundle, PayeeKey, verify_payee};
pub use settlement::{Refusal, Settlement, SettlementReport, Snapshot};
pub use statement::{ClaimStatement, NUM_PUBLIC_INPUTS, PublicInput};
pub use verify::{
    BatchRejected, VerifiedClaim, verify, verify_batch, verify_batch_os, verify_bundle,
    verify_bundles,
};
