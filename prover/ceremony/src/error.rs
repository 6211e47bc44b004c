//! The one error type of the ceremony module.
//!
//! Invariant: every way a file from outside can be wrong maps to a variant here, never to a
//! panic. Parse errors name the file kind (`r1cs`, `ptau`, `zkey`) and, where it helps, the
//! section and the index of the offending element. Verification failures are
//! [`Error::Invalid`], which says which check of `snarkjs zkey verify` (or of ours) failed.

use std::fmt;

/// The kind of iden3 binary file an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A circuit (`.r1cs`).
    R1cs,
    /// Powers of tau (`.ptau`).
    Ptau,
    /// A Groth16 proving key (`.zkey`).
    Zkey,
    /// A witness (`.wtns`).
    Wtns,
}

impl FileKind {
    /// The four magic bytes that open a file of this kind.
    pub fn magic(self) -> &'static [u8; 4] {
        match self {
            FileKind::R1cs => b"r1cs",
            FileKind::Ptau => b"ptau",
            FileKind::Zkey => b"zkey",
            FileKind::Wtns => b"wtns",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::R1cs => "r1cs",
            FileKind::Ptau => "ptau",
            FileKind::Zkey => "zkey",
            FileKind::Wtns => "wtns",
        })
    }
}

/// Why a ceremony file was refused or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),

    /// The file does not start with the magic of the expected kind.
    #[error("not a {expected} file (it starts with {found:?})")]
    BadMagic {
        /// What was expected.
        expected: FileKind,
        /// The first bytes found (fewer than four if the file is shorter).
        found: Vec<u8>,
    },

    /// The container version is not one snarkjs 0.7.6 writes.
    #[error("{kind} file version {version} is not supported")]
    UnsupportedVersion {
        /// File kind.
        kind: FileKind,
        /// Version found.
        version: u32,
    },

    /// The file ends before the data it announces.
    #[error("{kind} file is truncated: {what}")]
    Truncated {
        /// File kind.
        kind: FileKind,
        /// What could not be read.
        what: String,
    },

    /// A section the format requires is absent.
    #[error("{kind} file has no section {id} ({name})")]
    MissingSection {
        /// File kind.
        kind: FileKind,
        /// Section id.
        id: u32,
        /// What the section holds.
        name: &'static str,
    },

    /// A section appears more than once.
    #[error("{kind} file has section {id} more than once")]
    DuplicateSection {
        /// File kind.
        kind: FileKind,
        /// Section id.
        id: u32,
    },

    /// A section's length is not the one its header implies.
    #[error("{kind} section {id} ({name}) has {found} bytes, expected {expected}")]
    SectionSize {
        /// File kind.
        kind: FileKind,
        /// Section id.
        id: u32,
        /// What the section holds.
        name: &'static str,
        /// Expected byte length.
        expected: u64,
        /// Byte length found.
        found: u64,
    },

    /// Any other malformed content.
    #[error("malformed {kind} file: {what}")]
    Malformed {
        /// File kind.
        kind: FileKind,
        /// What is wrong.
        what: String,
    },

    /// The file is for another curve or field than BN254.
    #[error("{kind} file is not for BN254 ({what})")]
    WrongCurve {
        /// File kind.
        kind: FileKind,
        /// Which prime did not match.
        what: &'static str,
    },

    /// A point is not on the curve, or a coordinate is not a reduced field element.
    #[error("{kind} section {section}: element {index} is not a valid {group} point ({why})")]
    BadPoint {
        /// File kind.
        kind: FileKind,
        /// Section (or structure) name.
        section: &'static str,
        /// Index of the point in that section.
        index: usize,
        /// `G1` or `G2`.
        group: &'static str,
        /// Not on the curve, not in the subgroup, coordinate not reduced.
        why: &'static str,
    },

    /// A field element is not reduced modulo the scalar field.
    #[error("{kind} section {section}: scalar {index} is not reduced modulo r")]
    BadScalar {
        /// File kind.
        kind: FileKind,
        /// Section name.
        section: &'static str,
        /// Index of the scalar.
        index: usize,
    },

    /// The powers-of-tau file has not been through `snarkjs powersoftau prepare phase2`.
    #[error("the ptau file is not prepared for phase 2 (no Lagrange sections 12-15)")]
    PtauNotPrepared,

    /// The powers of tau are too few for the circuit.
    #[error("the ptau file has power {power}, power {needed} is needed: {why}")]
    PtauTooSmall {
        /// Power of the file.
        power: u32,
        /// Power needed.
        needed: u32,
        /// What needs it.
        why: String,
    },

    /// The circuit does not fit what this module (or snarkjs) supports.
    #[error("circuit not supported: {0}")]
    Circuit(String),

    /// A zkey that is not a Groth16 key.
    #[error("the zkey is not a Groth16 key (protocol id {0})")]
    NotGroth16(u32),

    /// A zkey that does not belong to the given circuit.
    #[error("the zkey does not belong to this circuit: {0}")]
    KeyMismatch(String),

    /// A bad argument (beacon hash, iteration exponent, name...).
    #[error("invalid argument: {0}")]
    Argument(String),

    /// A ceremony transcript check failed.
    #[error("invalid ceremony: {0}")]
    Invalid(#[from] VerifyFailure),
}

/// Which check of a phase-2 transcript failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyFailure {
    /// The stored transcript of contribution `index` (0-based) is not the hash of what
    /// precedes it.
    #[error("contribution #{}: inconsistent transcript", .0 + 1)]
    Transcript(usize),
    /// The proof of knowledge of contribution `index` does not hold.
    #[error("contribution #{}: the public key's G1 and G2 parts do not have the same ratio", .0 + 1)]
    ProofOfKnowledge(usize),
    /// The delta after contribution `index` is not the previous delta times its secret.
    #[error("contribution #{}: deltaAfter does not follow the public key", .0 + 1)]
    DeltaChain(usize),
    /// A beacon contribution's key is not the one its beacon hash derives.
    #[error("contribution #{}: the beacon key does not re-derive from its beacon hash", .0 + 1)]
    Beacon(usize),
    /// A contribution field is malformed (e.g. an out-of-range iteration exponent).
    #[error("contribution #{n}: {msg}", n = .0 + 1, msg = .1)]
    ContributionFormat(usize, String),
    /// The circuit parameters (variables, public inputs, domain) differ from the rebuilt key.
    #[error("different circuit parameters: {0}")]
    Parameters(String),
    /// The circuit hash differs from the one the r1cs and ptau give.
    #[error("circuit does not match (circuit hash differs)")]
    CircuitHash,
    /// A header point (alpha1, beta1, beta2, gamma2) differs from the rebuilt key.
    #[error("header point {0} differs from the initial key")]
    HeaderPoint(&'static str),
    /// A delta-independent section differs from the rebuilt key.
    #[error("section {id} ({name}) is not identical to the initial key")]
    Section {
        /// Section id.
        id: u32,
        /// Its name.
        name: &'static str,
    },
    /// The final delta in G1 is not the last contribution's deltaAfter.
    #[error("vk delta1 is not the last contribution's deltaAfter")]
    Delta1,
    /// delta in G2 does not match delta in G1.
    #[error("vk delta2 does not match delta1")]
    Delta2,
    /// The L section was not moved by delta^-1.
    #[error("L section does not match (not the initial L times delta^-1)")]
    LSection,
    /// The H section was not moved by delta^-1.
    #[error("H section does not match (not the initial H times delta^-1)")]
    HSection,
}

/// Result with the module's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
