//! The offline auditor: replays a whole log and checks it against signed checkpoints.
//!
//! Given every entry's bytes, the latest signed checkpoint, optionally older signed checkpoints
//! of the same log ("history", e.g. every checkpoint in an export, or those in claim bundles) and
//! the state saved by the auditor's previous run, [`audit`]:
//!
//! 1. verifies every checkpoint against the configured log key (signature and origin), and that
//!    no two of them sign different roots for one size (a split view);
//! 2. checks the log did not shrink since the previous run, and the consistency proof if one is
//!    given;
//! 3. streams the entries once, decoding each strictly, counting kinds, calling the caller's hook
//!    (where claim proofs are re-verified), and recomputing the root of every prefix that a
//!    checkpoint or the previous state vouches for;
//! 4. checks the entries are exactly the checkpoint's size.
//!
//! It stops at the first problem and reports it with the entry index when there is one. A root
//! mismatch is localized between the last checkpoint that still matched and the first that does
//! not, so a log that signed a checkpoint after every append (ours) pinpoints the entry.
//!
//! Invariant: [`AuditReport::is_ok`] is true only if every entry was read, decoded and accepted
//! by the hook, every vouched prefix root matched, and the entry count equals the checkpoint size.
//! Only then does [`AuditReport::state`] return the state to save for the next run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::entry::{EntryError, EntryKind, LogEntry};
use super::merkle::{CompactRange, Hash, ProofError, leaf_hash, verify_consistency};
use super::note::{Checkpoint, LogVerifier, NoteError};

/// What an auditor keeps between runs: the size and root it last verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeState {
    /// Tree size.
    pub size: u64,
    /// Root hash, 64 lowercase hex digits in JSON.
    #[serde(with = "hex_hash")]
    pub root: Hash,
}

/// The signed material an audit checks the entries against.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditInput<'a> {
    /// The latest signed checkpoint note: the entries must be exactly its tree.
    pub checkpoint: &'a str,
    /// Older signed checkpoint notes of the same log, in any order (may be empty).
    pub history: &'a [String],
    /// The state saved by the previous audit run, if any.
    pub previous: Option<TreeState>,
    /// A consistency proof from `previous` to `checkpoint`, if the log served one.
    pub consistency_proof: Option<&'a [Hash]>,
}

/// The first problem an audit found.
#[derive(Debug, Error)]
pub enum AuditProblem {
    /// The latest checkpoint is malformed or not signed by the log key.
    #[error("checkpoint: {0}")]
    Checkpoint(NoteError),
    /// An older checkpoint is malformed or not signed by the log key.
    #[error("history checkpoint #{position}: {error}")]
    HistoryCheckpoint {
        /// Position in [`AuditInput::history`].
        position: usize,
        /// Why it was rejected.
        error: NoteError,
    },
    /// An older checkpoint is for a larger tree than the latest one.
    #[error("history checkpoint of size {size} is newer than the checkpoint (size {checkpoint})")]
    HistoryAhead {
        /// The older checkpoint's size.
        size: u64,
        /// The latest checkpoint's size.
        checkpoint: u64,
    },
    /// The log signed two different roots for the same size.
    #[error("split view: two signed checkpoints of size {size} have different roots")]
    SplitView {
        /// The tree size.
        size: u64,
    },
    /// The log is smaller than at the previous run.
    #[error("log shrank from {previous} to {current} entries")]
    Shrunk {
        /// Size at the previous run.
        previous: u64,
        /// Size now.
        current: u64,
    },
    /// The log's history differs from what the previous run verified.
    #[error("fork: the log's first {previous_size} entries differ from the previous run{}",
        proof.as_ref().map(|e| format!(" (consistency proof: {e})")).unwrap_or_default())]
    Fork {
        /// Size at the previous run.
        previous_size: u64,
        /// The failed consistency proof, when that is how the fork was found.
        proof: Option<ProofError>,
    },
    /// An entry is not a valid log entry.
    #[error("entry {index}: {error}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// Why it could not be decoded.
        error: EntryError,
    },
    /// The caller's hook rejected an entry (e.g. an invalid claim proof).
    #[error("entry {index}: rejected: {reason}")]
    Rejected {
        /// The entry's index.
        index: u64,
        /// The hook's reason.
        reason: String,
    },
    /// The recomputed root of the first `size` entries is not the signed one.
    #[error("{}", describe_mismatch(*first_suspect, *size))]
    RootMismatch {
        /// The signed size whose root does not match.
        size: u64,
        /// The first entry that may differ: every prefix up to this index matched a signed root.
        first_suspect: u64,
    },
    /// The log has fewer entries than the checkpoint.
    #[error("entry {index} is missing: the checkpoint covers {checkpoint_size} entries")]
    Missing {
        /// The first missing index.
        index: u64,
        /// The checkpoint's size.
        checkpoint_size: u64,
    },
    /// The log has entries that the checkpoint does not cover.
    #[error("entry {index} is not covered by the checkpoint (size {checkpoint_size})")]
    Unsigned {
        /// The first uncovered index.
        index: u64,
        /// The checkpoint's size.
        checkpoint_size: u64,
    },
}

fn describe_mismatch(first_suspect: u64, size: u64) -> String {
    if size == first_suspect + 1 {
        format!("entry {first_suspect}: root mismatch at signed size {size}")
    } else {
        format!(
            "root mismatch at signed size {size}: an entry in {first_suspect}..{size} was changed"
        )
    }
}

impl AuditProblem {
    /// The index of the entry at fault, when the problem pinpoints one.
    pub fn entry_index(&self) -> Option<u64> {
        match self {
            AuditProblem::Entry { index, .. }
            | AuditProblem::Rejected { index, .. }
            | AuditProblem::Missing { index, .. }
            | AuditProblem::Unsigned { index, .. } => Some(*index),
            AuditProblem::RootMismatch {
                size,
                first_suspect,
            } if *size == first_suspect + 1 => Some(*first_suspect),
            _ => None,
        }
    }
}

/// What an audit found.
#[derive(Debug, Default)]
pub struct AuditReport {
    /// The verified latest checkpoint, if its signature held.
    pub checkpoint: Option<Checkpoint>,
    /// How many signed checkpoints (latest and history) verified.
    pub checkpoints_verified: usize,
    /// Entries read before the audit ended.
    pub entries_read: u64,
    /// Entries by kind (of those read).
    pub by_kind: BTreeMap<EntryKind, u64>,
    /// Entries the hook accepted.
    pub hook_accepted: u64,
    /// The first problem, if any.
    pub problem: Option<AuditProblem>,
}

impl AuditReport {
    /// True when the log is exactly what its checkpoint signs and every check held.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none() && self.checkpoint.is_some()
    }

    /// The state to save for the next run, only when the audit passed.
    pub fn state(&self) -> Option<TreeState> {
        if !self.is_ok() {
            return None;
        }
        self.checkpoint.as_ref().map(|c| TreeState {
            size: c.size,
            root: c.root,
        })
    }

    fn fail(mut self, problem: AuditProblem) -> Self {
        self.problem = Some(problem);
        self
    }
}

/// A prefix size whose root someone vouched for.
#[derive(Clone, Copy)]
struct Vouched {
    size: u64,
    root: Hash,
    /// From the previous run's state rather than a signed checkpoint.
    previous: bool,
}

/// Audits a log. `entries` are the logged bytes in index order; `hook` is called for every
/// decoded entry (index, entry, bytes) and rejects it with a reason. See the module docs.
pub fn audit<I, B, F>(
    verifier: &LogVerifier,
    input: AuditInput<'_>,
    entries: I,
    mut hook: F,
) -> AuditReport
where
    I: IntoIterator<Item = B>,
    B: AsRef<[u8]>,
    F: FnMut(u64, &LogEntry, &[u8]) -> Result<(), String>,
{
    let mut report = AuditReport::default();

    // 1. Signatures.
    let checkpoint = match verifier.verify_checkpoint(input.checkpoint) {
        Ok(c) => c,
        Err(e) => return report.fail(AuditProblem::Checkpoint(e)),
    };
    report.checkpoint = Some(checkpoint.clone());
    report.checkpoints_verified = 1;
    let mut vouched = vec![Vouched {
        size: checkpoint.size,
        root: checkpoint.root,
        previous: false,
    }];
    for (position, note) in input.history.iter().enumerate() {
        let older = match verifier.verify_checkpoint(note) {
            Ok(c) => c,
            Err(error) => return report.fail(AuditProblem::HistoryCheckpoint { position, error }),
        };
        report.checkpoints_verified += 1;
        if older.size > checkpoint.size {
            return report.fail(AuditProblem::HistoryAhead {
                size: older.size,
                checkpoint: checkpoint.size,
            });
        }
        vouched.push(Vouched {
            size: older.size,
            root: older.root,
            previous: false,
        });
    }
    vouched.sort_by_key(|v| v.size);
    for pair in vouched.windows(2) {
        if pair[0].size == pair[1].size && pair[0].root != pair[1].root {
            return report.fail(AuditProblem::SplitView { size: pair[0].size });
        }
    }
    vouched.dedup_by_key(|v| v.size);

    // 2. Append-only since the previous run.
    if let Some(prev) = input.previous {
        if prev.size > checkpoint.size {
            return report.fail(AuditProblem::Shrunk {
                previous: prev.size,
                current: checkpoint.size,
            });
        }
        if let Some(proof) = input.consistency_proof
            && let Err(e) = verify_consistency(
                prev.size,
                checkpoint.size,
                &prev.root,
                &checkpoint.root,
                proof,
            )
        {
            return report.fail(AuditProblem::Fork {
                previous_size: prev.size,
                proof: Some(e),
            });
        }
        // Checked against the recomputed prefix as well, so no proof is needed when the auditor
        // has every entry. The previous state goes first among equal sizes, so a differing
        // history is reported as a fork rather than as a plain mismatch.
        let at = vouched.partition_point(|v| v.size < prev.size);
        vouched.insert(
            at,
            Vouched {
                size: prev.size,
                root: prev.root,
                previous: true,
            },
        );
    }

    // 3. Replay.
    let mut range = CompactRange::new();
    let mut next = 0usize;
    let mut last_matched = 0u64;
    if let Some(problem) = check_vouched(&range, &vouched, &mut next, &mut last_matched) {
        return report.fail(problem);
    }
    for (index, bytes) in (0u64..).zip(entries) {
        let bytes = bytes.as_ref();
        if index >= checkpoint.size {
            return report.fail(AuditProblem::Unsigned {
                index,
                checkpoint_size: checkpoint.size,
            });
        }
        report.entries_read += 1;
        let entry = match LogEntry::from_bytes(bytes) {
            Ok(e) => e,
            Err(error) => return report.fail(AuditProblem::Entry { index, error }),
        };
        *report.by_kind.entry(entry.kind()).or_default() += 1;
        if let Err(reason) = hook(index, &entry, bytes) {
            return report.fail(AuditProblem::Rejected { index, reason });
        }
        report.hook_accepted += 1;
        range.push(leaf_hash(bytes));
        if let Some(problem) = check_vouched(&range, &vouched, &mut next, &mut last_matched) {
            return report.fail(problem);
        }
    }

    // 4. Completeness.
    if range.size() < checkpoint.size {
        return report.fail(AuditProblem::Missing {
            index: range.size(),
            checkpoint_size: checkpoint.size,
        });
    }
    report
}

/// Compares the current prefix root with every vouched root at this size.
fn check_vouched(
    range: &CompactRange,
    vouched: &[Vouched],
    next: &mut usize,
    last_matched: &mut u64,
) -> Option<AuditProblem> {
    let size = range.size();
    let mut root = None;
    while let Some(v) = vouched.get(*next).filter(|v| v.size == size) {
        let computed = *root.get_or_insert_with(|| range.root());
        if computed != v.root {
            return Some(if v.previous {
                AuditProblem::Fork {
                    previous_size: v.size,
                    proof: None,
                }
            } else {
                AuditProblem::RootMismatch {
                    size,
                    first_suspect: *last_matched,
                }
            });
        }
        *last_matched = size;
        *next += 1;
    }
    None
}

/// Serde for a [`Hash`] as 64 hex digits.
pub(crate) mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use super::Hash;

    pub(crate) fn serialize<S: Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hash))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|_| D::Error::custom("expected 64 hex digits"))?;
        Ok(out)
    }
}
