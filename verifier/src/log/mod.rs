//! The compliance log, auditor side: every check an auditor needs offline.
//!
//! Credence appends every registration, snapshot publication, claim bundle and verification
//! verdict to an append-only log, following Certificate Transparency (RFC 6962 / RFC 9162) and
//! transparency-dev/tessera:
//!
//! - [`merkle`]: the RFC 6962 tree with BLAKE3 (`leaf = BLAKE3(0x00 || bytes)`, `node =
//!   BLAKE3(0x01 || l || r)`, empty tree = `BLAKE3("")`), inclusion and consistency proof checks
//!   (RFC 9162 §2.1.3.2 and §2.1.4.2);
//! - [`note`]: C2SP signed-note checkpoints signed with Ed25519, the verifier key text (`log.pub`)
//!   and the signer (server side);
//! - [`entry`]: the entries and their canonical bytes; a claim entry decodes as the claim bundle
//!   it was issued as ([`LogEntry::claim_bundle`], [`LogEntry::verify_claim`]);
//! - [`inclusion`]: the offline check of one entry in a claim bundle ([`LogInclusion`]);
//! - [`audit`]: replaying a whole log against its checkpoints and the previous run's state;
//! - [`export`]: the export file an auditor reads with no network;
//! - `remote` (feature `grpc`): the same audit over the server's `credence.v1.AuditLog` service.
//!
//! Invariant: every check here is pure over bytes the caller supplies; nothing is trusted until
//! a signature from the configured key covers it, and no input makes it panic. The one thing
//! that is not a check is [`LogSigner`], which the server uses to sign checkpoints: it sits
//! beside [`LogVerifier`] so that the note format is written and read in one place.

pub mod audit;
mod claim;
pub mod entry;
pub mod export;
pub mod inclusion;
pub mod merkle;
pub mod note;
#[cfg(feature = "grpc")]
pub mod remote;

pub use audit::{AuditInput, AuditProblem, AuditReport, TreeState, audit};
pub use claim::{BundleLogError, check_bundle_inclusion};
pub use entry::{EntryError, EntryKind, KeyCeremony, LogEntry, LogEvent};
pub use export::{EXPORT_FORMAT, ExportError, LogExport};
pub use inclusion::{InclusionError, LogInclusion};
pub use merkle::{
    CompactRange, Hash, ProofError, empty_root, leaf_hash, node_hash, root_of_leaf_hashes,
    verify_consistency, verify_inclusion,
};
pub use note::{Checkpoint, LogSigner, LogVerifier, Note, NoteError, SignedCheckpoint};

#[cfg(test)]
mod tests;
