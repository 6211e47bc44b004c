//! Claim entries as claim bundles: how an auditor re-verifies a logged proof, and how
//! `credence-verify inclusion` checks that a bundle is the logged claim.
//!
//! Invariant: [`LogEntry::claim_bundle`] decodes a claim entry with the same strict decoders as
//! a bundle document ([`ClaimBundle::from_json_value`]), so a logged claim verifies exactly when
//! the bundle it was issued as verifies, under a key the auditor trusts (never one the log names).

use crate::bundle::{BUNDLE_FORMAT, BundleJson, StatementJson};
use crate::error::Malformed;
use crate::{ClaimBundle, KeyRing, VerifiedClaim, verify_bundle};

use super::entry::{LogEntry, LogEvent, LoggedStatement};

impl LoggedStatement {
    /// The statement in the bundle's JSON form (the same nine decimal strings).
    pub fn to_json_form(&self) -> StatementJson {
        StatementJson {
            epoch: self.epoch.clone(),
            root: self.root.clone(),
            total_weight: self.total_weight.clone(),
            revenue: self.revenue.clone(),
            contributor_id: self.contributor_id.clone(),
            claimed_weight: self.claimed_weight.clone(),
            payout: self.payout.clone(),
            range_start: self.range_start.clone(),
            range_end: self.range_end.clone(),
        }
    }
}

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
            statement: statement.to_json_form(),
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
