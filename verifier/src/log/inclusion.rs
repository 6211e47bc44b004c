//! The offline check of one logged entry: its bytes, index, inclusion proof and the signed
//! checkpoint that covers it, as a claim bundle carries them in its optional `log` field
//! (optionally with the entry's bytes themselves).
//!
//! Invariant: [`LogInclusion::verify`] returns a checkpoint only when (1) the note is signed by
//! the configured log key with the log's origin, (2) its size is the bundle's `tree_size`, and
//! (3) the inclusion proof leads from `BLAKE3(0x00 || entry bytes)` at `index` to its root.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::entry::{EntryError, LogEntry, MAX_ENTRY_LEN};
use super::merkle::{Hash, ProofError, leaf_hash, verify_inclusion};
use super::note::{Checkpoint, LogVerifier, NoteError};

/// A proof has at most one hash per tree level, and sizes are u64.
pub const MAX_PROOF_HASHES: usize = 64;

/// The largest checkpoint note a bundle carries (a signed note with a few cosignatures is well
/// under 1 KiB).
pub const MAX_CARRIED_CHECKPOINT: usize = 8 * 1024;

/// The largest carried entry, in base64 characters: a [`MAX_ENTRY_LEN`] entry.
pub const MAX_CARRIED_ENTRY: usize = MAX_ENTRY_LEN.div_ceil(3) * 4;

/// Where an entry is in the log, with everything needed to check it offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInclusion {
    /// The entry's index (0-based).
    pub index: u64,
    /// The tree size the proof and the checkpoint are for.
    pub tree_size: u64,
    /// The inclusion proof, leaf to root, each hash as 64 lowercase hex digits.
    pub proof: Vec<String>,
    /// The signed checkpoint note text covering `tree_size` entries.
    pub checkpoint: String,
    /// Base64 (standard, padded) of the entry's logged bytes, so the bundle can be checked on
    /// its own ([`LogInclusion::verify_carried`]). Optional: a verifier that gets the bytes from
    /// elsewhere passes them to [`LogInclusion::verify`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}

/// Why an inclusion bundle was rejected.
#[derive(Debug, Error)]
pub enum InclusionError {
    /// The checkpoint is malformed or not signed by the log key.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] NoteError),
    /// The checkpoint is for another tree size than the proof.
    #[error("checkpoint is for size {checkpoint}, the proof for size {proof}")]
    SizeMismatch {
        /// Size in the checkpoint.
        checkpoint: u64,
        /// `tree_size` of the bundle.
        proof: u64,
    },
    /// A proof hash is not 32 bytes of hex, or there are too many.
    #[error("proof hash {0} is not 64 hex digits, or the proof is too long")]
    MalformedProof(usize),
    /// The proof does not lead to the checkpoint's root.
    #[error("inclusion proof: {0}")]
    Proof(#[from] ProofError),
    /// The bundle carries no entry bytes.
    #[error("the inclusion carries no entry")]
    MissingEntry,
    /// The carried entry is not base64 or not a valid entry.
    #[error("carried entry: {0}")]
    Entry(#[from] EntryError),
    /// A field is larger than an inclusion can honestly need.
    #[error("{0} is too large")]
    TooLarge(&'static str),
}

impl LogInclusion {
    /// Builds the bundle field from raw proof hashes.
    pub fn new(index: u64, tree_size: u64, proof: &[Hash], checkpoint: String) -> Self {
        LogInclusion {
            index,
            tree_size,
            proof: proof.iter().map(hex::encode).collect(),
            checkpoint,
            entry: None,
        }
    }

    /// Refuses fields larger than an honest inclusion needs (at most [`MAX_PROOF_HASHES`]
    /// hashes of 64 hex digits, a checkpoint of [`MAX_CARRIED_CHECKPOINT`] bytes, an entry of
    /// [`MAX_CARRIED_ENTRY`] base64 characters), so decoding a bundle costs a bounded amount of
    /// memory, whatever its `log` holds.
    pub fn check_sizes(&self) -> Result<(), InclusionError> {
        if self.proof.len() > MAX_PROOF_HASHES || self.proof.iter().any(|h| h.len() != 64) {
            return Err(InclusionError::TooLarge("the inclusion proof"));
        }
        if self.checkpoint.len() > MAX_CARRIED_CHECKPOINT {
            return Err(InclusionError::TooLarge("the checkpoint"));
        }
        if self
            .entry
            .as_ref()
            .is_some_and(|e| e.len() > MAX_CARRIED_ENTRY)
        {
            return Err(InclusionError::TooLarge("the carried entry"));
        }
        Ok(())
    }

    /// Carries the entry's logged bytes along.
    pub fn with_entry(mut self, bytes: &[u8]) -> Self {
        self.entry = Some(B64.encode(bytes));
        self
    }

    /// Verifies the carried entry bytes (see [`LogInclusion::verify`]) and decodes them.
    pub fn verify_carried(
        &self,
        verifier: &LogVerifier,
    ) -> Result<(Checkpoint, LogEntry), InclusionError> {
        let bytes = self.carried_bytes()?;
        let checkpoint = self.verify(&bytes, verifier)?;
        Ok((checkpoint, LogEntry::from_bytes(&bytes)?))
    }

    /// The carried entry, decoded but NOT verified against the checkpoint: for the log's own
    /// server, which just read it from its database ([`LogInclusion::verify_carried`] is what
    /// anyone else uses).
    pub fn carried_entry(&self) -> Result<LogEntry, InclusionError> {
        Ok(LogEntry::from_bytes(&self.carried_bytes()?)?)
    }

    fn carried_bytes(&self) -> Result<Vec<u8>, InclusionError> {
        let encoded = self.entry.as_deref().ok_or(InclusionError::MissingEntry)?;
        Ok(B64.decode(encoded).map_err(|_| EntryError::Encoding)?)
    }

    /// Decodes the hex proof strictly (lowercase or uppercase hex, exactly 32 bytes each).
    pub fn proof_hashes(&self) -> Result<Vec<Hash>, InclusionError> {
        if self.proof.len() > MAX_PROOF_HASHES {
            return Err(InclusionError::MalformedProof(MAX_PROOF_HASHES));
        }
        self.proof
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let mut out = [0u8; 32];
                hex::decode_to_slice(h, &mut out).map_err(|_| InclusionError::MalformedProof(i))?;
                Ok(out)
            })
            .collect()
    }

    /// Verifies that `entry` (the logged bytes) is entry `index` of the log signed by `verifier`.
    pub fn verify(
        &self,
        entry: &[u8],
        verifier: &LogVerifier,
    ) -> Result<Checkpoint, InclusionError> {
        let checkpoint = verifier.verify_checkpoint(&self.checkpoint)?;
        if checkpoint.size != self.tree_size {
            return Err(InclusionError::SizeMismatch {
                checkpoint: checkpoint.size,
                proof: self.tree_size,
            });
        }
        let proof = self.proof_hashes()?;
        verify_inclusion(
            self.index,
            self.tree_size,
            &leaf_hash(entry),
            &proof,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}
