//! The entries of the compliance log and their byte encoding.
//!
//! An entry is compact JSON with a fixed field order (the declaration order below, which serde
//! keeps), for example:
//!
//! ```text
//! {"time":1767225600,"tenant":"acme","event":{"kind":"registration","leaf_index":3,"registration_hash":"1234"}}
//! ```
//!
//! Invariant: **the logged bytes are authoritative.** The leaf hash is taken over the bytes the
//! log stored, and an auditor hashes the bytes it receives; nobody re-serializes an entry to check
//! it, so the tree commits to exactly what was stored. Decoding is for reading (counting kinds,
//! re-verifying proofs) and is strict: unknown fields and non-canonical bytes are errors.
//!
//! Only public data goes in: a registration is its leaf index and `H(contributor_id, commitment)`
//! (never the contributor or commitment in clear), a claim is its public statement and proof.
//! [`LogEntry::to_bytes`] refuses values that are not of the documented shape (decimal field
//! elements, hex digests), which also keeps free text out of the log.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::bundle::StatementJson;

/// Upper bound on one encoded entry: a Groth16 proof in hex plus a statement is about 1 KiB.
pub const MAX_ENTRY_LEN: usize = 64 * 1024;
/// Upper bound on short identifiers (tenant, circuit id, verdict).
const MAX_NAME_LEN: usize = 128;
/// A BN254 scalar has at most 77 decimal digits.
const MAX_DECIMAL_LEN: usize = 78;

/// Why an entry could not be encoded or decoded.
#[derive(Debug, Error)]
pub enum EntryError {
    /// The bytes are not a valid entry.
    #[error("entry is not valid JSON of the entry schema: {0}")]
    Json(#[from] serde_json::Error),
    /// The entry's transport encoding (base64 in an export file) is invalid.
    #[error("entry is not valid base64")]
    Encoding,
    /// The bytes decode but are not the canonical encoding the log writes.
    #[error("entry bytes are not in canonical form")]
    NotCanonical,
    /// The entry is larger than [`MAX_ENTRY_LEN`].
    #[error("entry is larger than {MAX_ENTRY_LEN} bytes")]
    TooLarge,
    /// A field does not have its documented shape.
    #[error("field {field}: {reason}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// One log entry: when, for which tenant, what happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// Unix time in seconds (UTC) when the service logged the event.
    pub time: u64,
    /// The tenant the event belongs to.
    pub tenant: String,
    /// The event.
    pub event: LogEvent,
}

/// What an entry records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LogEvent {
    /// A contribution was registered as leaf `leaf_index`.
    Registration {
        /// The leaf index the registration got.
        leaf_index: u64,
        /// `H(contributor_id, commitment)` as a decimal field element.
        registration_hash: String,
    },
    /// An epoch snapshot was published.
    Snapshot {
        /// The epoch.
        epoch: u64,
        /// Depth of the Merkle-sum tree.
        depth: u32,
        /// Root hash, decimal field element.
        root: String,
        /// Total weight (root sum), decimal.
        total_weight: String,
        /// Revenue of the epoch, decimal.
        revenue: String,
    },
    /// A claim bundle was issued.
    Claim {
        /// The circuit the proof is for.
        circuit_id: String,
        /// Fingerprint (hex) of the verifying key.
        vk_fingerprint: String,
        /// The public statement.
        statement: StatementJson,
        /// The Groth16 proof, hex of its canonical compressed encoding.
        proof: String,
    },
    /// A claim was verified by the service.
    Verification {
        /// The circuit the proof is for.
        circuit_id: String,
        /// Fingerprint (hex) of the verifying key.
        vk_fingerprint: String,
        /// The public statement that was checked.
        statement: StatementJson,
        /// The outcome, e.g. `valid` or `invalid`.
        verdict: String,
    },
    /// A verifying key the service proves or verifies under, and where it came from; logged
    /// once per key, before any claim under it.
    Key {
        /// The circuit the key is for.
        circuit_id: String,
        /// Fingerprint (hex) of the verifying key.
        vk_fingerprint: String,
        /// `single-party` (whoever ran the setup could forge proofs) or `ceremony`.
        setup: String,
        /// For a ceremony key: what ties it to its transcript.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ceremony: Option<KeyCeremony>,
    },
}

/// What ties a ceremony key to its transcript: hashes only (participants' names are in the
/// transcript, which anyone can re-verify with `snarkjs zkey verify`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCeremony {
    /// snarkjs' circuit hash (csHash), 128 hex digits.
    pub circuit_hash: String,
    /// Blake2b-512 of the phase-1 `.ptau` file, hex.
    pub ptau_blake2b: String,
    /// Blake2b-512 of the final `.zkey` (the transcript), hex.
    pub transcript_blake2b: String,
    /// Every contribution hash, in order (the last one the beacon's), hex.
    pub contributions: Vec<String>,
}

/// Most contributions a logged ceremony may list (the largest public ceremonies had ~1,100).
const MAX_CONTRIBUTIONS: usize = 256;

/// The kinds of [`LogEvent`], for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// [`LogEvent::Registration`].
    Registration,
    /// [`LogEvent::Snapshot`].
    Snapshot,
    /// [`LogEvent::Claim`].
    Claim,
    /// [`LogEvent::Verification`].
    Verification,
    /// [`LogEvent::Key`].
    Key,
}

impl LogEntry {
    /// The kind of event.
    pub fn kind(&self) -> EntryKind {
        match self.event {
            LogEvent::Registration { .. } => EntryKind::Registration,
            LogEvent::Snapshot { .. } => EntryKind::Snapshot,
            LogEvent::Claim { .. } => EntryKind::Claim,
            LogEvent::Verification { .. } => EntryKind::Verification,
            LogEvent::Key { .. } => EntryKind::Key,
        }
    }

    /// Checks every field has its documented shape (public data only, bounded sizes).
    pub fn validate(&self) -> Result<(), EntryError> {
        check_name("tenant", &self.tenant)?;
        match &self.event {
            LogEvent::Registration {
                registration_hash, ..
            } => check_decimal("registration_hash", registration_hash),
            LogEvent::Snapshot {
                root,
                total_weight,
                revenue,
                ..
            } => {
                check_decimal("root", root)?;
                check_decimal("total_weight", total_weight)?;
                check_decimal("revenue", revenue)
            }
            LogEvent::Claim {
                circuit_id,
                vk_fingerprint,
                statement,
                proof,
            } => {
                check_name("circuit_id", circuit_id)?;
                check_hex("vk_fingerprint", vk_fingerprint, 128)?;
                validate_statement(statement)?;
                check_hex("proof", proof, MAX_ENTRY_LEN / 2)
            }
            LogEvent::Verification {
                circuit_id,
                vk_fingerprint,
                statement,
                verdict,
            } => {
                check_name("circuit_id", circuit_id)?;
                check_hex("vk_fingerprint", vk_fingerprint, 128)?;
                validate_statement(statement)?;
                check_name("verdict", verdict)
            }
            LogEvent::Key {
                circuit_id,
                vk_fingerprint,
                setup,
                ceremony,
            } => {
                check_name("circuit_id", circuit_id)?;
                check_hex("vk_fingerprint", vk_fingerprint, 128)?;
                match (setup.as_str(), ceremony) {
                    ("single-party", None) => Ok(()),
                    ("ceremony", Some(c)) => {
                        check_hex_exact("circuit_hash", &c.circuit_hash, 128)?;
                        check_hex_exact("ptau_blake2b", &c.ptau_blake2b, 128)?;
                        check_hex_exact("transcript_blake2b", &c.transcript_blake2b, 128)?;
                        if c.contributions.is_empty() || c.contributions.len() > MAX_CONTRIBUTIONS {
                            return Err(EntryError::Field {
                                field: "contributions",
                                reason: "must list 1 to 256 contribution hashes",
                            });
                        }
                        c.contributions
                            .iter()
                            .try_for_each(|h| check_hex_exact("contributions", h, 128))
                    }
                    _ => Err(EntryError::Field {
                        field: "setup",
                        reason: "must be `single-party` (no ceremony) or `ceremony` (with one)",
                    }),
                }
            }
        }
    }

    /// The canonical bytes to log: validated, compact JSON in declaration order.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EntryError> {
        self.validate()?;
        let bytes = serde_json::to_vec(self)?;
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(EntryError::TooLarge);
        }
        Ok(bytes)
    }

    /// Decodes logged bytes strictly (schema and field shapes). The bytes, not this value, are
    /// what the tree commits to.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(EntryError::TooLarge);
        }
        let entry: LogEntry = serde_json::from_slice(bytes)?;
        entry.validate()?;
        // The log only ever writes `to_bytes` output, so anything else (whitespace, key order,
        // escapes, duplicate keys) was not written by it. This compares; it never replaces the
        // bytes that are hashed.
        if serde_json::to_vec(&entry)? != bytes {
            return Err(EntryError::NotCanonical);
        }
        Ok(entry)
    }
}

fn check_name(field: &'static str, value: &str) -> Result<(), EntryError> {
    if value.is_empty() || value.len() > MAX_NAME_LEN {
        return Err(EntryError::Field {
            field,
            reason: "must be 1 to 128 bytes",
        });
    }
    // Identifiers only: no spaces, quotes or control characters that could smuggle text.
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@".contains(&b))
    {
        return Err(EntryError::Field {
            field,
            reason: "must be ASCII letters, digits or -_.:/@",
        });
    }
    Ok(())
}

/// Every public input of a logged statement is a canonical decimal.
fn validate_statement(statement: &StatementJson) -> Result<(), EntryError> {
    for value in statement.inputs() {
        check_decimal("statement", value)?;
    }
    Ok(())
}

fn check_decimal(field: &'static str, value: &str) -> Result<(), EntryError> {
    let canonical = !value.is_empty()
        && value.len() <= MAX_DECIMAL_LEN
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value.len() == 1 || !value.starts_with('0'));
    if canonical {
        Ok(())
    } else {
        Err(EntryError::Field {
            field,
            reason: "must be a canonical decimal number",
        })
    }
}

fn check_hex_exact(field: &'static str, value: &str, len: usize) -> Result<(), EntryError> {
    if value.len() != len {
        return Err(EntryError::Field {
            field,
            reason: "must be a 512-bit hash in hex",
        });
    }
    check_hex(field, value, len)
}

fn check_hex(field: &'static str, value: &str, max_len: usize) -> Result<(), EntryError> {
    let ok = !value.is_empty()
        && value.len() <= max_len
        && value.len().is_multiple_of(2)
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(EntryError::Field {
            field,
            reason: "must be lowercase hex",
        })
    }
}
