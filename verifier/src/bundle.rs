//! The claim bundle: the JSON file a contributor hands to a verifier.
//!
//! ```json
//! {
//!   "format": "credence-claim-bundle/v1",
//!   "circuit_id": "claim-v1-n16-d20",
//!   "vk_fingerprint": "<64 lowercase hex: blake3 of the canonical compressed key>",
//!   "statement": { "epoch": "7", "root": "<decimal < r>", ..., "range_end": "16" },
//!   "proof": "<256 lowercase hex: canonical compressed Groth16 proof>",
//!   "log": { ... }            // optional: the compliance log's inclusion of this claim
//!                             // (`log::LogInclusion`, sizes bounded)
//! }
//! ```
//!
//! Invariant: [`ClaimBundle::from_json`] accepts a document only if every field decodes strictly
//! (see [`crate::encoding`]); unknown fields and duplicate fields are refused, so a decoded bundle
//! re-encodes to the same content. Every statement value is a decimal string, including the
//! `u64` ones, because JSON numbers above 2^53 lose precision in common parsers. The statement's
//! field names are exactly [`PublicInput::name`](crate::PublicInput::name).

use serde::{Deserialize, Serialize};

use crate::encoding::{fr_from_decimal, fr_to_decimal, hex_decode, u64_from_decimal};
use crate::error::Malformed;
use crate::groth16::Proof;
use crate::keys::{CircuitId, Fingerprint, TrustedKey};
use crate::log::LogInclusion;
use crate::statement::{ClaimStatement, NUM_PUBLIC_INPUTS, PublicInput};

/// The format tag of this version of the bundle.
pub const BUNDLE_FORMAT: &str = "credence-claim-bundle/v1";

/// The largest bundle document read: a v1 bundle is well under 2 KiB, plus its `log` (at most
/// an inclusion proof of 64 hashes, an 8 KiB checkpoint and a 64 KiB entry in base64).
pub const MAX_BUNDLE_BYTES: usize = 128 * 1024;

/// The statement as it appears in JSON, in bundles and in the compliance log's claim and
/// verification entries: the nine public inputs as canonical decimal strings, named and ordered
/// as [`PublicInput::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementJson {
    /// `epoch`
    pub epoch: String,
    /// `root`
    pub root: String,
    /// `total_weight`
    pub total_weight: String,
    /// `revenue`
    pub revenue: String,
    /// `contributor_id`
    pub contributor_id: String,
    /// `claimed_weight`
    pub claimed_weight: String,
    /// `payout`
    pub payout: String,
    /// `range_start`
    pub range_start: String,
    /// `range_end`
    pub range_end: String,
}

impl StatementJson {
    /// Encodes a statement.
    pub fn encode(s: &ClaimStatement) -> Self {
        StatementJson {
            epoch: s.epoch.to_string(),
            root: fr_to_decimal(&s.root),
            total_weight: s.total_weight.to_string(),
            revenue: s.revenue.to_string(),
            contributor_id: fr_to_decimal(&s.contributor_id),
            claimed_weight: s.claimed_weight.to_string(),
            payout: s.payout.to_string(),
            range_start: s.range_start.to_string(),
            range_end: s.range_end.to_string(),
        }
    }

    /// Builds the statement from the nine decimal inputs in instance order.
    pub fn from_inputs(inputs: [String; NUM_PUBLIC_INPUTS]) -> Self {
        let [
            epoch,
            root,
            total_weight,
            revenue,
            contributor_id,
            claimed_weight,
            payout,
            range_start,
            range_end,
        ] = inputs;
        StatementJson {
            epoch,
            root,
            total_weight,
            revenue,
            contributor_id,
            claimed_weight,
            payout,
            range_start,
            range_end,
        }
    }

    /// The nine decimal inputs in instance order.
    pub fn inputs(&self) -> [&str; NUM_PUBLIC_INPUTS] {
        [
            &self.epoch,
            &self.root,
            &self.total_weight,
            &self.revenue,
            &self.contributor_id,
            &self.claimed_weight,
            &self.payout,
            &self.range_start,
            &self.range_end,
        ]
    }

    /// Decodes strictly.
    pub fn decode(&self) -> Result<ClaimStatement, Malformed> {
        use PublicInput as P;
        let u = |p: P, s: &str| u64_from_decimal(p.name(), s);
        Ok(ClaimStatement {
            epoch: u(P::Epoch, &self.epoch)?,
            root: fr_from_decimal(P::Root.name(), &self.root)?,
            total_weight: u(P::TotalWeight, &self.total_weight)?,
            revenue: u(P::Revenue, &self.revenue)?,
            contributor_id: fr_from_decimal(P::ContributorId.name(), &self.contributor_id)?,
            claimed_weight: u(P::ClaimedWeight, &self.claimed_weight)?,
            payout: u(P::Payout, &self.payout)?,
            range_start: u(P::RangeStart, &self.range_start)?,
            range_end: u(P::RangeEnd, &self.range_end)?,
        })
    }
}

/// The bundle as it appears in JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleJson {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The circuit the proof is for.
    pub circuit_id: String,
    /// blake3 of the verifying key's canonical compressed bytes, lowercase hex.
    pub vk_fingerprint: String,
    /// The public inputs.
    pub statement: StatementJson,
    /// Canonical compressed proof bytes, lowercase hex.
    pub proof: String,
    /// The compliance log's inclusion of the claim; absent when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogInclusion>,
}

/// A decoded claim bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimBundle {
    /// The circuit the proof is for.
    pub circuit_id: CircuitId,
    /// Which trusted key it should verify under.
    pub vk_fingerprint: Fingerprint,
    /// The public statement.
    pub statement: ClaimStatement,
    /// The proof.
    pub proof: Proof,
    /// The compliance log's inclusion of the claim, if the issuing server logs (checked by
    /// [`crate::log::check_bundle_inclusion`], not by [`crate::verify_bundle`]).
    pub log: Option<LogInclusion>,
}

impl ClaimBundle {
    /// A bundle for a proof made under `key`.
    pub fn new(key: &TrustedKey, statement: ClaimStatement, proof: Proof) -> Self {
        ClaimBundle {
            circuit_id: key.circuit_id().clone(),
            vk_fingerprint: key.fingerprint(),
            statement,
            proof,
            log: None,
        }
    }

    /// Decodes the JSON form strictly.
    pub fn from_json_value(j: &BundleJson) -> Result<Self, Malformed> {
        if j.format != BUNDLE_FORMAT {
            return Err(Malformed::Format {
                found: j.format.clone(),
                expected: BUNDLE_FORMAT,
            });
        }
        if let Some(log) = &j.log {
            log.check_sizes().map_err(|e| Malformed::Json {
                what: "bundle log",
                reason: e.to_string(),
            })?;
        }
        Ok(ClaimBundle {
            circuit_id: CircuitId::new(&j.circuit_id)?,
            vk_fingerprint: Fingerprint::from_hex(&j.vk_fingerprint)?,
            statement: j.statement.decode()?,
            proof: Proof::from_bytes(&hex_decode("proof", &j.proof)?)?,
            log: j.log.clone(),
        })
    }

    /// Parses and decodes a bundle document.
    pub fn from_json(text: &str) -> Result<Self, Malformed> {
        if text.len() > MAX_BUNDLE_BYTES {
            return Err(Malformed::Json {
                what: "bundle",
                reason: format!("larger than {MAX_BUNDLE_BYTES} bytes"),
            });
        }
        let j: BundleJson = serde_json::from_str(text).map_err(|e| Malformed::Json {
            what: "bundle",
            reason: e.to_string(),
        })?;
        Self::from_json_value(&j)
    }

    /// The JSON form.
    pub fn to_json_value(&self) -> BundleJson {
        BundleJson {
            format: BUNDLE_FORMAT.to_owned(),
            circuit_id: self.circuit_id.to_string(),
            vk_fingerprint: self.vk_fingerprint.to_hex(),
            statement: StatementJson::encode(&self.statement),
            proof: hex::encode(self.proof.to_bytes()),
            log: self.log.clone(),
        }
    }

    /// The document, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_json_value())
            .expect("a BundleJson of strings always serializes")
    }
}
