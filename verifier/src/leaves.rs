//! The operator's leaf table of one snapshot, its Merkle-sum root, and the check that the
//! compliance log registered every leaf before publishing the snapshot.
//!
//! The table is what the operator built a snapshot from (`operator/leaves.json` in the demo):
//!
//! ```json
//! {
//!   "epoch": "3",
//!   "depth": 4,
//!   "leaves": [
//!     { "index": "0", "contributor_id": "<decimal < r>", "commitment": "<decimal < r>", "weight": "700" }
//!   ]
//! }
//! ```
//!
//! Every value is a decimal string except `depth` (a small JSON number), as in claim bundles:
//! JSON numbers above 2^53 lose precision in common parsers. Leaves may come in any order; absent
//! indices are empty leaves `(0, 0)`. A leaf of weight 0 is still a leaf (`H(id, commitment, 0)`),
//! exactly as in the snapshot the service builds.
//!
//! The root and the registration hashes are the protocol's own, from `credence-circuits`
//! (`docs/protocol.md` §1 and §3); the tests check them against the protocol vectors.
//!
//! Invariants: a [`DecodedTable`] exists only for a table whose every value decoded strictly
//! (canonical decimals, field elements `< r`), whose depth is in `4..=32`, whose indices are
//! distinct and inside the tree, and whose total weight fits a `u64`; so computing its root never
//! overflows. [`LeafCheck`] accepts a log only if a snapshot entry of the table's epoch has
//! exactly the table's depth, root and total, and every leaf of the table has a registration
//! entry (same leaf index, `registration_hash = H(contributor_id, commitment)`) *before* it.

use std::collections::HashMap;

use ark_bn254::Fr;
use credence_circuits::commitment::{self, registration_hash};
use credence_circuits::merkle_sum::{self, TreeError};
pub use credence_circuits::merkle_sum::{MAX_DEPTH, MIN_DEPTH};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{fr_from_decimal, fr_to_decimal, u64_from_decimal};
use crate::error::Malformed;
use crate::log::{LogEntry, LogEvent};

/// The most leaves a table may list (a depth-20 tree has about a million; this bounds memory).
pub const MAX_LEAVES: usize = 1 << 22;

/// The leaf table as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafTable {
    /// The snapshot's epoch, decimal.
    pub epoch: String,
    /// The tree depth `D` (`4..=32`).
    pub depth: u32,
    /// The non-empty leaves, in any order.
    pub leaves: Vec<LeafRow>,
}

/// One leaf of the table, every value a decimal string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafRow {
    /// The leaf index (`< 2^depth`).
    pub index: String,
    /// `H(secret)` of the contributor.
    pub contributor_id: String,
    /// `H(digest, blinding)`.
    pub commitment: String,
    /// The leaf's weight (u64).
    pub weight: String,
}

/// One decoded leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The leaf index.
    pub index: u64,
    /// The contributor id.
    pub contributor_id: Fr,
    /// The commitment.
    pub commitment: Fr,
    /// The weight.
    pub weight: u64,
}

impl LeafRow {
    /// Encodes a decoded leaf.
    pub fn encode(leaf: &Leaf) -> Self {
        LeafRow {
            index: leaf.index.to_string(),
            contributor_id: fr_to_decimal(&leaf.contributor_id),
            commitment: fr_to_decimal(&leaf.commitment),
            weight: leaf.weight.to_string(),
        }
    }
}

/// Why a leaf table cannot be used.
#[derive(Debug, Error)]
pub enum LeafTableError {
    /// Not JSON of the table schema.
    #[error("not a leaf table: {0}")]
    Json(#[from] serde_json::Error),
    /// A value is not a strict decimal of its type.
    #[error("leaf table: {0}")]
    Value(#[from] Malformed),
    /// The depth is outside the protocol's range.
    #[error("leaf table: depth {0} is outside {MIN_DEPTH}..={MAX_DEPTH}")]
    Depth(u32),
    /// Too many leaves.
    #[error("leaf table: more than {MAX_LEAVES} leaves")]
    TooManyLeaves,
    /// A leaf index does not fit the tree.
    #[error("leaf table: leaf index {index} does not fit a tree of depth {depth}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The depth.
        depth: u32,
    },
    /// The same index is listed twice.
    #[error("leaf table: leaf index {0} is listed twice")]
    DuplicateIndex(u64),
    /// The total weight reaches 2^64.
    #[error("leaf table: the total weight overflows 64 bits")]
    TotalOverflow,
    /// The tree refused the leaves (not reachable for a decoded table, which is checked first).
    #[error("leaf table: {0}")]
    Tree(#[from] TreeError),
}

/// A strictly decoded table, leaves sorted by index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedTable {
    /// The epoch.
    pub epoch: u64,
    /// The depth.
    pub depth: u32,
    /// The leaves, sorted by index, indices distinct.
    pub leaves: Vec<Leaf>,
    /// The sum of the weights (fits a u64).
    pub total_weight: u64,
}

impl LeafTable {
    /// Parses a table document (not yet decoded).
    pub fn from_json(bytes: &[u8]) -> Result<Self, LeafTableError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The document, pretty-printed.
    pub fn to_json(&self) -> Result<String, LeafTableError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Builds a table from decoded leaves.
    pub fn new(epoch: u64, depth: u32, leaves: &[Leaf]) -> Self {
        LeafTable {
            epoch: epoch.to_string(),
            depth,
            leaves: leaves.iter().map(LeafRow::encode).collect(),
        }
    }

    /// Decodes every value strictly and checks the shape (see the module invariants).
    pub fn decode(&self) -> Result<DecodedTable, LeafTableError> {
        if !(MIN_DEPTH..=MAX_DEPTH).contains(&self.depth) {
            return Err(LeafTableError::Depth(self.depth));
        }
        if self.leaves.len() > MAX_LEAVES {
            return Err(LeafTableError::TooManyLeaves);
        }
        let epoch = u64_from_decimal("epoch", &self.epoch)?;
        let mut leaves = Vec::with_capacity(self.leaves.len());
        let mut total: u64 = 0;
        for row in &self.leaves {
            let leaf = Leaf {
                index: u64_from_decimal("index", &row.index)?,
                contributor_id: fr_from_decimal("contributor_id", &row.contributor_id)?,
                commitment: fr_from_decimal("commitment", &row.commitment)?,
                weight: u64_from_decimal("weight", &row.weight)?,
            };
            if leaf.index >> self.depth != 0 {
                return Err(LeafTableError::IndexOutOfRange {
                    index: leaf.index,
                    depth: self.depth,
                });
            }
            total = total
                .checked_add(leaf.weight)
                .ok_or(LeafTableError::TotalOverflow)?;
            leaves.push(leaf);
        }
        leaves.sort_by_key(|l| l.index);
        if let Some(pair) = leaves.windows(2).find(|p| p[0].index == p[1].index) {
            return Err(LeafTableError::DuplicateIndex(pair[0].index));
        }
        Ok(DecodedTable {
            epoch,
            depth: self.depth,
            leaves,
            total_weight: total,
        })
    }
}

/// The root `(hash, sum)` of the snapshot tree of a decoded table, by the protocol's one tree
/// ([`merkle_sum::sparse_root`]: only the ancestors of listed leaves are hashed).
pub fn snapshot_root(table: &DecodedTable) -> Result<(Fr, u64), LeafTableError> {
    let root = merkle_sum::sparse_root(
        table.depth,
        table.leaves.iter().map(|l| {
            (
                l.index,
                commitment::leaf(&l.contributor_id, &l.commitment, l.weight),
            )
        }),
    )?;
    Ok((root.hash, root.sum))
}

/// Why a log does not back the leaf table.
#[derive(Debug, Error)]
pub enum LeafProblem {
    /// The log's snapshot of the table's epoch has another root, total or depth.
    #[error(
        "entry {entry}: the snapshot of epoch {epoch} is not the leaf table's ({what}: logged {logged}, table {table})"
    )]
    SnapshotMismatch {
        /// The snapshot entry's index.
        entry: u64,
        /// The epoch.
        epoch: u64,
        /// Which value differs: `depth`, `root` or `total_weight`.
        what: &'static str,
        /// The logged value.
        logged: String,
        /// The table's value.
        table: String,
    },
    /// A leaf of the table has no registration entry before the snapshot entry.
    #[error(
        "entry {entry}: leaf {leaf_index} of the table was not registered before this snapshot of epoch {epoch}"
    )]
    Unregistered {
        /// The snapshot entry's index.
        entry: u64,
        /// The epoch.
        epoch: u64,
        /// The first unregistered leaf.
        leaf_index: u64,
    },
    /// The log has no snapshot of the table's epoch at all.
    #[error("no snapshot of epoch {epoch} is in the log")]
    NoSnapshot {
        /// The epoch.
        epoch: u64,
    },
}

impl LeafProblem {
    /// The index of the entry at fault, when there is one.
    pub fn entry_index(&self) -> Option<u64> {
        match self {
            LeafProblem::SnapshotMismatch { entry, .. }
            | LeafProblem::Unregistered { entry, .. } => Some(*entry),
            LeafProblem::NoSnapshot { .. } => None,
        }
    }
}

/// What a successful [`LeafCheck`] established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafSummary {
    /// The epoch.
    pub epoch: u64,
    /// Leaves in the table.
    pub leaves: usize,
    /// The table's root hash (decimal).
    pub root: String,
    /// The table's total weight.
    pub total_weight: u64,
    /// The index of the snapshot entry the table matched.
    pub snapshot_entry: u64,
}

/// Streams a log's entries (in index order) and checks them against a leaf table.
///
/// Feed it every decoded entry with [`LeafCheck::observe`], then call [`LeafCheck::finish`].
/// Several datanets may publish the same epoch number, so a snapshot of the table's epoch with
/// another root is remembered rather than fatal; [`LeafCheck::finish`] fails if no snapshot of
/// the epoch matched, naming the first one that differed.
pub struct LeafCheck {
    epoch: u64,
    depth: u32,
    leaves: usize,
    root: String,
    total_weight: u64,
    /// `(leaf index, registration hash)` of every table leaf, in index order.
    expected: Vec<(u64, String)>,
    /// Registrations seen so far: `(leaf index, registration hash)`.
    registered: HashMap<(u64, String), u64>,
    matched: Option<u64>,
    first_mismatch: Option<LeafProblem>,
}

impl std::fmt::Debug for LeafCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafCheck")
            .field("epoch", &self.epoch)
            .field("leaves", &self.leaves)
            .field("matched", &self.matched)
            .finish_non_exhaustive()
    }
}

impl LeafCheck {
    /// Decodes the table and computes its root and every leaf's registration hash.
    pub fn new(table: &LeafTable) -> Result<Self, LeafTableError> {
        let decoded = table.decode()?;
        let (root, total_weight) = snapshot_root(&decoded)?;
        let expected = decoded
            .leaves
            .iter()
            .map(|l| {
                (
                    l.index,
                    fr_to_decimal(&registration_hash(&l.contributor_id, &l.commitment)),
                )
            })
            .collect();
        Ok(LeafCheck {
            epoch: decoded.epoch,
            depth: decoded.depth,
            leaves: decoded.leaves.len(),
            root: fr_to_decimal(&root),
            total_weight,
            expected,
            registered: HashMap::new(),
            matched: None,
            first_mismatch: None,
        })
    }

    /// The table's root hash, decimal.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The table's total weight.
    pub fn total_weight(&self) -> u64 {
        self.total_weight
    }

    /// Takes entry `index` into account; fails on a matching snapshot with an unregistered leaf.
    pub fn observe(&mut self, index: u64, entry: &LogEntry) -> Result<(), LeafProblem> {
        match &entry.event {
            LogEvent::Registration {
                leaf_index,
                registration_hash,
            } => {
                self.registered
                    .entry((*leaf_index, registration_hash.clone()))
                    .or_insert(index);
                Ok(())
            }
            LogEvent::Snapshot {
                epoch,
                depth,
                root,
                total_weight,
                ..
            } if *epoch == self.epoch => {
                let total = self.total_weight.to_string();
                let differs = if *depth != self.depth {
                    Some(("depth", depth.to_string(), self.depth.to_string()))
                } else if *root != self.root {
                    Some(("root", root.clone(), self.root.clone()))
                } else if *total_weight != total {
                    Some(("total_weight", total_weight.clone(), total))
                } else {
                    None
                };
                if let Some((what, logged, table)) = differs {
                    if self.first_mismatch.is_none() {
                        self.first_mismatch = Some(LeafProblem::SnapshotMismatch {
                            entry: index,
                            epoch: self.epoch,
                            what,
                            logged,
                            table,
                        });
                    }
                    return Ok(());
                }
                // Registrations are only those already seen: strictly earlier entries.
                if let Some((leaf_index, _)) = self
                    .expected
                    .iter()
                    .find(|key| !self.registered.contains_key(key))
                {
                    return Err(LeafProblem::Unregistered {
                        entry: index,
                        epoch: self.epoch,
                        leaf_index: *leaf_index,
                    });
                }
                self.matched.get_or_insert(index);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The verdict once every entry was observed.
    pub fn finish(self) -> Result<LeafSummary, LeafProblem> {
        match self.matched {
            Some(snapshot_entry) => Ok(LeafSummary {
                epoch: self.epoch,
                leaves: self.leaves,
                root: self.root,
                total_weight: self.total_weight,
                snapshot_entry,
            }),
            None => Err(self
                .first_mismatch
                .unwrap_or(LeafProblem::NoSnapshot { epoch: self.epoch })),
        }
    }
}

#[cfg(test)]
mod tests;
