//! The in-memory Merkle tree of the log: every perfect subtree's hash, level by level.
//!
//! `levels[k][i]` is the hash of leaves `[i * 2^k, (i + 1) * 2^k)`; a level holds only complete
//! subtrees, so after `n` leaves level `k` has `n >> k` nodes (about `2n` hashes in all, 64 bytes
//! per entry). Every RFC 6962 subtree the proofs need is either one of these or splits into them
//! along its right edge, so roots and proofs at any past size cost O(log² n) lookups and no I/O.
//!
//! Invariant: the tree holds exactly the leaf hashes of the committed entries, in index order
//! (the store truncates it back when a transaction fails).

use credence_verifier::log::{Hash, empty_root, node_hash};

/// Why a proof cannot be produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The requested sizes or index are outside the log.
    #[error("index {index} / sizes {old}..{new} are outside a log of {size} entries")]
    OutOfRange {
        /// The requested index (or 0).
        index: u64,
        /// The requested old size (or the index's tree size).
        old: u64,
        /// The requested new size.
        new: u64,
        /// The log's size.
        size: u64,
    },
}

#[derive(Debug, Default)]
pub(crate) struct Tree {
    levels: Vec<Vec<Hash>>,
}

/// Largest power of two strictly smaller than `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

impl Tree {
    pub(crate) fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub(crate) fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(node);
            // A completed pair makes a node one level up.
            if row.len() % 2 == 1 {
                break;
            }
            node = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// Forgets every leaf from `size` on (used to undo a failed transaction).
    pub(crate) fn truncate(&mut self, size: u64) {
        for (k, row) in self.levels.iter_mut().enumerate() {
            row.truncate((size >> k) as usize);
        }
    }

    /// MTH of leaves `[start, end)`, where `start` is a multiple of the largest power of two
    /// not above `end - start` (true of every subtree RFC 6962 recursion visits).
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() {
            let k = n.trailing_zeros() as usize;
            return self.levels[k][(start >> k) as usize];
        }
        let k = split_point(n);
        node_hash(
            &self.subtree(start, start + k),
            &self.subtree(start + k, end),
        )
    }

    /// The root of the first `size` leaves.
    pub(crate) fn root_at(&self, size: u64) -> Result<Hash, RangeError> {
        if size > self.size() {
            return Err(self.out_of_range(0, size, size));
        }
        Ok(if size == 0 {
            empty_root()
        } else {
            self.subtree(0, size)
        })
    }

    /// PATH(index, D[size]) of RFC 6962 §2.1.1, leaf to root.
    pub(crate) fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, RangeError> {
        if index >= size || size > self.size() {
            return Err(self.out_of_range(index, size, size));
        }
        let mut proof = Vec::new();
        let (mut start, mut end, m) = (0, size, index);
        // Walk down from the root, collecting the sibling at each split, then reverse.
        while end - start > 1 {
            let k = split_point(end - start);
            if m < start + k {
                proof.push(self.subtree(start + k, end));
                end = start + k;
            } else {
                proof.push(self.subtree(start, start + k));
                start += k;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    /// PROOF(old, D[new]) of RFC 6962 §2.1.2; empty when `old` is 0 or equals `new`.
    pub(crate) fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, RangeError> {
        if old > new || new > self.size() {
            return Err(self.out_of_range(0, old, new));
        }
        let mut proof = Vec::new();
        if old == 0 || old == new {
            return Ok(proof);
        }
        // SUBPROOF(m, D[start:end], b), iteratively from the root.
        let (mut start, mut end, mut m, mut whole) = (0, new, old, true);
        while m != end - start {
            let k = split_point(end - start);
            if m <= k {
                proof.push(self.subtree(start + k, end));
                end = start + k;
            } else {
                proof.push(self.subtree(start, start + k));
                start += k;
                m -= k;
                whole = false;
            }
        }
        if !whole {
            proof.push(self.subtree(start, end));
        }
        proof.reverse();
        Ok(proof)
    }

    fn out_of_range(&self, index: u64, old: u64, new: u64) -> RangeError {
        RangeError::OutOfRange {
            index,
            old,
            new,
            size: self.size(),
        }
    }
}
