//! Claim entries as claim bundles: how an auditor re-verifies a logged proof, and how
//! `credence-verify inclusion` checks that a bundle is the logged claim
//! ([`check_bundle_inclusion`]).
//!
//! Invariant: [`LogEntry::claim_bundle`] decodes a claim entry with the same strict decoders as
//! a bundle document ([`ClaimBundle::from_json_value`]), so a logged claim verifies exactly when
//! the bundle it was issued as verifies, under a key the auditor trusts (never one the log names).

use crate::bundle::{BUNDLE_FORMAT, BundleJson};
use crate::error::Malformed;
use crate::{ClaimBundle, KeyRing, VerifiedClaim, verify_bundle};

use super::entry::{LogEntry, LogEvent};
use super::inclusion::{InclusionError, LogInclusion};
use super::note::{Checkpoint, LogVerifier};

impl LogEntry {
    /// For a claim entry, the bundle it records (without a `log` field), decoded strictly;
    /// `Ok(None)` for other kinds.
    pub fn claim_bundle(&self) -> Result<Option<ClaimBundle>, Malformed> {
        let LogEvent::Claim {
            circuit_id,
            vk_fingerprint,
            statement,
            proof,
        } = &self.event
        else {
            return Ok(None);
        };
        let json = BundleJson {
            format: BUNDLE_FORMAT.to_owned(),
            circuit_id: circuit_id.clone(),
            vk_fingerprint: vk_fingerprint.clone(),
            statement: statement.clone(),
            proof: proof.clone(),
            log: None,
        };
        ClaimBundle::from_json_value(&json).map(Some)
    }

    /// Re-verifies a claim entry's proof under the trusted key its circuit id and fingerprint
    /// select. `Ok(None)` for other kinds; an error (malformed, untrusted key, invalid proof)
    /// says why the claim does not hold.
    pub fn verify_claim(&self, ring: &KeyRing) -> Result<Option<VerifiedClaim>, crate::Error> {
        match self.claim_bundle()? {
            Some(bundle) => verify_bundle(ring, &bundle).map(Some),
            None => Ok(None),
        }
    }
}

/// Why a claim bundle's `log` field does not show that the bundle is in the log.
#[derive(Debug, thiserror::Error)]
pub enum BundleLogError {
    /// The bundle has no `log` field.
    #[error("the bundle has no `log` field (it was not issued by a logging server)")]
    NoLog,
    /// The inclusion does not verify (or carries no valid entry).
    #[error("{0}")]
    Inclusion(#[from] InclusionError),
    /// The included entry is not a claim.
    #[error("log entry {0} is not a claim")]
    NotAClaim(u64),
    /// The included claim entry does not decode.
    #[error("log entry {index}: {error}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// Why.
        error: Malformed,
    },
    /// The included entry records another claim than the bundle.
    #[error("log entry {0} records another claim than this bundle")]
    OtherClaim(u64),
}

impl BundleLogError {
    /// True when the bundle is malformed rather than falsely claiming inclusion: no `log`, no or
    /// undecodable entry bytes, malformed proof hashes.
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            BundleLogError::NoLog
                | BundleLogError::Inclusion(
                    InclusionError::MissingEntry
                        | InclusionError::Entry(_)
                        | InclusionError::MalformedProof(_)
                        | InclusionError::TooLarge(_)
                )
        )
    }
}

/// What `credence-verify inclusion` checks: the bundle's `log` field is a [`LogInclusion`]
/// whose checkpoint the trusted log key signed for exactly `tree_size` entries, whose inclusion
/// proof leads from the carried entry bytes at `index` to that root, and whose entry is a claim
/// entry recording this very bundle (circuit id, key fingerprint, statement, proof). It does not
/// verify the Groth16 proof; [`verify_bundle`] does.
pub fn check_bundle_inclusion(
    bundle: &ClaimBundle,
    verifier: &LogVerifier,
) -> Result<(LogInclusion, Checkpoint, LogEntry), BundleLogError> {
    let inclusion = bundle.log.clone().ok_or(BundleLogError::NoLog)?;
    let (checkpoint, entry) = inclusion.verify_carried(verifier)?;
    let index = inclusion.index;
    let logged = match entry.claim_bundle() {
        Ok(Some(b)) => b,
        Ok(None) => return Err(BundleLogError::NotAClaim(index)),
        Err(error) => return Err(BundleLogError::Entry { index, error }),
    };
    let unlogged = ClaimBundle {
        log: None,
        ..bundle.clone()
    };
    if logged != unlogged {
        return Err(BundleLogError::OtherClaim(index));
    }
    Ok((inclusion, checkpoint, entry))
}
