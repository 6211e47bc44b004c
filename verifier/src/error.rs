//! Typed errors, in two classes that never mix.
//!
//! Invariant: [`Malformed`] means "these bytes or this text are not a valid encoding of the object
//! they claim to be" (the input could not even be interpreted); [`Invalid`] means "a well-formed
//! object whose claim is false or not acceptable here" (the proof does not verify, the key is not
//! trusted, the statement names another snapshot). The CLI maps them to exit codes 2 and 1.

use thiserror::Error;

/// Any failure of the verifier, by class.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input is not a valid encoding.
    #[error("malformed: {0}")]
    Malformed(#[from] Malformed),
    /// The input is well formed but the claim it makes is false or not acceptable.
    #[error("invalid: {0}")]
    Invalid(#[from] Invalid),
}

impl Error {
    /// Whether this is a [`Malformed`] error.
    pub fn is_malformed(&self) -> bool {
        matches!(self, Error::Malformed(_))
    }

    /// Whether this is an [`Invalid`] error.
    pub fn is_invalid(&self) -> bool {
        matches!(self, Error::Invalid(_))
    }
}

/// An input that is not a valid encoding of what it claims to be.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// A decimal string that is not a canonical encoding of a field element `< r`.
    #[error("field element `{what}`: {reason}")]
    FieldElement {
        /// Which value (e.g. a public input's name).
        what: String,
        /// Why it was refused.
        reason: DecimalError,
    },
    /// A decimal string that is not a canonical encoding of a `u64`.
    #[error("integer `{what}`: {reason}")]
    Integer {
        /// Which value.
        what: String,
        /// Why it was refused.
        reason: DecimalError,
    },
    /// Bytes whose length is not the one fixed length of this object.
    #[error("{what}: expected {expected} bytes, got {got}")]
    WrongLength {
        /// Which object.
        what: &'static str,
        /// The only accepted length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Bytes left over after a complete object was read.
    #[error("{what}: {extra} trailing bytes")]
    TrailingBytes {
        /// Which object.
        what: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
    /// A curve point or field element refused by arkworks' validating decoder (off the curve,
    /// outside the prime-order subgroup, coordinate `>= q`, bad flags, truncated).
    #[error("{what}: {reason}")]
    Point {
        /// Which object.
        what: &'static str,
        /// The decoder's reason.
        reason: String,
    },
    /// Text that is not lowercase hex of an even length.
    #[error("{what}: not lowercase hex: {reason}")]
    Hex {
        /// Which field.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// JSON that does not parse into the expected shape.
    #[error("{what}: bad JSON: {reason}")]
    Json {
        /// Which document.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// An unknown or unsupported format version.
    #[error("unsupported format `{found}`, expected `{expected}`")]
    Format {
        /// The version given.
        found: String,
        /// The version this code reads.
        expected: &'static str,
    },
    /// Text that is not an EVM address: `0x` and 40 hex digits.
    #[error("{what}: not an address (0x and 40 hex digits): {reason}")]
    Address {
        /// Which field.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A circuit id that is not 1 to 64 characters of `[A-Za-z0-9._-]`.
    #[error("circuit id `{0}` is not 1 to 64 characters of [A-Za-z0-9._-]")]
    CircuitId(String),
    /// A verifying key that decodes but that no honest setup could have produced, or that does
    /// not have the shape of a claim key.
    #[error("verifying key refused: {0}")]
    Key(String),
    /// A snapshot whose fields are out of range.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// A snarkjs document that does not match the expected shape.
    #[error("snarkjs {what}: {reason}")]
    Snarkjs {
        /// Which file.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Why a decimal string was refused.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// The empty string.
    #[error("empty")]
    Empty,
    /// A character other than `0`-`9` (this includes signs and whitespace).
    #[error("not a decimal digit string (no sign, no whitespace)")]
    NotDigits,
    /// A leading zero in anything but `"0"` itself (non-canonical).
    #[error("leading zero")]
    LeadingZero,
    /// The value does not fit / is not below the modulus.
    #[error("out of range")]
    OutOfRange,
}

/// A well-formed claim that is false or not acceptable.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// The pairing check failed.
    #[error("proof does not verify against the statement")]
    ProofRejected,
    /// The bundle names a key fingerprint that is not among the trusted keys: a key of another
    /// shape or another setup was given. The fields say both sides, so whoever passed the keys
    /// sees which key the bundle needs and which ones it got (the fingerprint alone reads as if
    /// the key passed were the one refused).
    #[error(
        "the bundle was proven under {circuit_id} with key {fingerprint}, which is not trusted; {}",
        describe_trusted(trusted)
    )]
    UntrustedKey {
        /// The circuit id the bundle names.
        circuit_id: String,
        /// The fingerprint the bundle names (of the key it was proven under).
        fingerprint: String,
        /// The keys that were trusted, in fingerprint order.
        trusted: Vec<KeyName>,
    },
    /// The bundle's key is trusted, but for another circuit id.
    #[error("verifying key {fingerprint} is trusted for circuit `{trusted}`, not `{claimed}`")]
    CircuitMismatch {
        /// The fingerprint.
        fingerprint: String,
        /// The circuit id the key is pinned to.
        trusted: String,
        /// The circuit id the bundle named.
        claimed: String,
    },
    /// The claimed range is empty or reaches past the tree's `2^depth` leaves.
    #[error("range [{range_start}, {range_end}) is empty or not within the 2^{depth} leaves")]
    RangeOutsideTree {
        /// The statement's `range_start`.
        range_start: u64,
        /// The statement's `range_end`.
        range_end: u64,
        /// The snapshot's depth.
        depth: u32,
    },
    /// The statement names a different snapshot than the published one.
    #[error("statement's `{field}` is {claimed}, the snapshot's is {published}")]
    SnapshotMismatch {
        /// The differing field's protocol name.
        field: &'static str,
        /// The statement's value.
        claimed: String,
        /// The snapshot's value.
        published: String,
    },
}

/// A trusted key as an error names it: its circuit id and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName {
    /// The circuit id the key is pinned to.
    pub circuit_id: String,
    /// The key's fingerprint (64 hex digits).
    pub fingerprint: String,
}

fn describe_trusted(trusted: &[KeyName]) -> String {
    if trusted.is_empty() {
        return "no key was trusted".into();
    }
    let list: Vec<String> = trusted
        .iter()
        .map(|k| format!("{} ({})", k.circuit_id, k.fingerprint))
        .collect();
    format!("the trusted keys are: {}", list.join(", "))
}

impl Malformed {
    pub(crate) fn point(what: &'static str, e: ark_serialize::SerializationError) -> Self {
        Malformed::Point {
            what,
            reason: e.to_string(),
        }
    }
}
