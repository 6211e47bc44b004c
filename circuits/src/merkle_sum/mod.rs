//! The Merkle-sum snapshot tree (protocol v1).
//!
//! A tree of depth `D` has `2^D` leaves. Leaf `i` is `(H(contributor_id, commitment, weight),
//! weight)`; an empty leaf is `(0, 0)`; a parent is `(H(h_l, s_l, h_r, s_r), s_l + s_r)`. The
//! root's hash binds every leaf and the root's sum is the total weight.
//!
//! [`MerkleSumTree`] keeps every non-empty node (for paths); [`sparse_root`] computes the same
//! root keeping one level at a time (for a root alone). Both hash only the ancestors of
//! non-empty leaves, with the precomputed [`empty_subtrees`] elsewhere.
//!
//! Invariant: a [`MerkleSumTree`] only exists if its total weight is below `2^64`, so every
//! node's sum fits a `u64`. [`root_from_path`] is the native twin of
//! [`constraints::root_from_path_gadget`] and computes sums in the field exactly as the circuit
//! does, so a path that would wrap is seen natively too.

#[cfg(feature = "r1cs")]
pub mod constraints;

use crate::poseidon::hash;
use ark_bn254::Fr;
use std::collections::BTreeMap;

/// The deepest tree the protocol allows.
pub const MAX_DEPTH: u32 = 32;
/// The shallowest tree the protocol allows.
pub const MIN_DEPTH: u32 = 4;

/// A node of a Merkle-sum tree: a hash and the sum of the weights below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SumNode {
    /// The node's hash.
    pub hash: Fr,
    /// The total weight of the leaves below the node.
    pub sum: u64,
}

impl SumNode {
    /// The empty leaf `(0, 0)`.
    pub const EMPTY: SumNode = SumNode {
        hash: ark_ff::MontFp!("0"),
        sum: 0,
    };

    /// `(H(h_l, s_l, h_r, s_r), s_l + s_r)`, or `None` if the sum overflows `u64`.
    pub fn parent(left: &SumNode, right: &SumNode) -> Option<SumNode> {
        Some(SumNode {
            hash: parent_hash(&left.hash, left.sum, &right.hash, right.sum),
            sum: left.sum.checked_add(right.sum)?,
        })
    }
}

fn parent_hash(h_l: &Fr, s_l: u64, h_r: &Fr, s_r: u64) -> Fr {
    hash(&[*h_l, Fr::from(s_l), *h_r, Fr::from(s_r)])
}

/// Errors building a tree or reading a path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    /// The depth is outside the protocol's range.
    #[error("tree depth {0} is outside {MIN_DEPTH}..={MAX_DEPTH}")]
    Depth(u32),
    /// A leaf index does not fit the tree.
    #[error("leaf index {index} does not fit a tree of depth {depth}")]
    IndexOutOfRange {
        /// The offending index.
        index: u64,
        /// The tree's depth.
        depth: u32,
    },
    /// The same leaf index was given twice.
    #[error("leaf index {0} given twice")]
    DuplicateIndex(u64),
    /// The total weight would reach `2^64`.
    #[error("total weight overflows 64 bits")]
    TotalOverflow,
}

/// The hashes of empty subtrees: `empty[0]` is the empty leaf, `empty[d]` an empty subtree of
/// height `d`.
pub fn empty_subtrees(depth: u32) -> Vec<SumNode> {
    let mut out = Vec::with_capacity(depth as usize + 1);
    out.push(SumNode::EMPTY);
    for d in 0..depth as usize {
        let e = out[d];
        out.push(SumNode::parent(&e, &e).expect("empty sums are 0"));
    }
    out
}

/// A sparse Merkle-sum tree: only non-empty nodes are stored.
#[derive(Clone, Debug)]
pub struct MerkleSumTree {
    depth: u32,
    /// `levels[0]` are the leaves, `levels[depth]` holds the root.
    levels: Vec<BTreeMap<u64, SumNode>>,
    empty: Vec<SumNode>,
}

/// Checks the depth, the indices and the total of `leaves`, and returns them as the tree's
/// bottom level.
fn leaf_level(
    depth: u32,
    leaves: impl IntoIterator<Item = (u64, SumNode)>,
) -> Result<BTreeMap<u64, SumNode>, TreeError> {
    if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
        return Err(TreeError::Depth(depth));
    }
    let capacity = 1u64 << depth;
    let mut level0 = BTreeMap::new();
    let mut total: u64 = 0;
    for (index, leaf) in leaves {
        if index >= capacity {
            return Err(TreeError::IndexOutOfRange { index, depth });
        }
        total = total
            .checked_add(leaf.sum)
            .ok_or(TreeError::TotalOverflow)?;
        if level0.insert(index, leaf).is_some() {
            return Err(TreeError::DuplicateIndex(index));
        }
    }
    Ok(level0)
}

/// The non-empty parents of a level's non-empty nodes; `empty` is that level's empty node.
/// With the `parallel` feature the parents are hashed on every core (a snapshot of 2^20 leaves
/// hashes about 2^21 nodes; the order and the result are the same either way).
fn parent_level(
    level: &BTreeMap<u64, SumNode>,
    empty: &SumNode,
) -> Result<BTreeMap<u64, SumNode>, TreeError> {
    // Keys are sorted, so siblings are adjacent and each parent comes once.
    let mut parents: Vec<u64> = level.keys().map(|i| i >> 1).collect();
    parents.dedup();
    let node = |&parent: &u64| {
        let left = level.get(&(parent << 1)).unwrap_or(empty);
        let right = level.get(&((parent << 1) | 1)).unwrap_or(empty);
        // Sums below the root are bounded by the total, already checked.
        SumNode::parent(left, right)
            .map(|n| (parent, n))
            .ok_or(TreeError::TotalOverflow)
    };
    #[cfg(feature = "parallel")]
    let nodes: Result<Vec<(u64, SumNode)>, TreeError> = {
        use rayon::prelude::*;
        parents.par_iter().map(node).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let nodes: Result<Vec<(u64, SumNode)>, TreeError> = parents.iter().map(node).collect();
    Ok(nodes?.into_iter().collect())
}

/// The root of the tree of `leaves` (absent indices are empty leaves), keeping only one level
/// in memory at a time: for whoever needs the root and no path (an auditor's leaf table).
/// Equal to `MerkleSumTree::from_leaves(depth, leaves)?.root()`, with the same errors.
pub fn sparse_root(
    depth: u32,
    leaves: impl IntoIterator<Item = (u64, SumNode)>,
) -> Result<SumNode, TreeError> {
    let mut level = leaf_level(depth, leaves)?;
    let mut empty = SumNode::EMPTY;
    for _ in 0..depth {
        level = parent_level(&level, &empty)?;
        empty = SumNode::parent(&empty, &empty).expect("empty sums are 0");
    }
    Ok(level.get(&0).copied().unwrap_or(empty))
}

impl MerkleSumTree {
    /// Builds a tree from `(index, leaf)` pairs; absent indices are empty leaves.
    pub fn from_leaves(
        depth: u32,
        leaves: impl IntoIterator<Item = (u64, SumNode)>,
    ) -> Result<Self, TreeError> {
        let level0 = leaf_level(depth, leaves)?;
        let empty = empty_subtrees(depth);
        let mut levels = vec![level0];
        for d in 0..depth as usize {
            let next = parent_level(&levels[d], &empty[d])?;
            levels.push(next);
        }
        Ok(MerkleSumTree {
            depth,
            levels,
            empty,
        })
    }

    /// The tree's depth `D`.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The root: its hash is the snapshot's `root`, its sum the `total_weight`.
    pub fn root(&self) -> SumNode {
        self.node(self.depth as usize, 0)
    }

    /// The leaf at `index` (the empty leaf where none was given).
    pub fn leaf(&self, index: u64) -> SumNode {
        self.node(0, index)
    }

    fn node(&self, level: usize, index: u64) -> SumNode {
        *self.levels[level].get(&index).unwrap_or(&self.empty[level])
    }

    /// The sibling path of leaf `index`, from the leaf's sibling up to the root's children.
    pub fn path(&self, index: u64) -> Result<MerkleSumPath, TreeError> {
        if index >= 1u64 << self.depth {
            return Err(TreeError::IndexOutOfRange {
                index,
                depth: self.depth,
            });
        }
        let siblings = (0..self.depth as usize)
            .map(|level| self.node(level, (index >> level) ^ 1))
            .collect();
        Ok(MerkleSumPath { siblings })
    }

    /// The non-empty leaves, by index.
    pub fn leaves(&self) -> impl Iterator<Item = (u64, SumNode)> + '_ {
        self.level(0)
    }

    /// The non-empty nodes of `level` (0: the leaves, `depth`: the root), by index; none
    /// above the depth.
    pub fn level(&self, level: u32) -> impl Iterator<Item = (u64, SumNode)> + '_ {
        self.levels
            .get(level as usize)
            .into_iter()
            .flat_map(|l| l.iter().map(|(i, n)| (*i, *n)))
    }
}

/// A Merkle-sum path: the `(hash, sum)` of each sibling, from the leaf level upwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleSumPath {
    /// One sibling per level, leaf level first.
    pub siblings: Vec<SumNode>,
}

/// Native twin of the path gadget: the root `(hash, sum)` reached from `leaf` at `index`, with
/// sums as field elements, exactly as the circuit computes them. Bit `j` of `index` set means
/// the node at level `j` is a right child.
pub fn root_from_path(leaf_hash: Fr, leaf_sum: Fr, index: u64, path: &[(Fr, Fr)]) -> (Fr, Fr) {
    let (mut h, mut s) = (leaf_hash, leaf_sum);
    for (level, (sib_h, sib_s)) in path.iter().enumerate() {
        let right = (index >> level) & 1 == 1;
        let (l, r) = if right {
            ((*sib_h, *sib_s), (h, s))
        } else {
            ((h, s), (*sib_h, *sib_s))
        };
        h = hash(&[l.0, l.1, r.0, r.1]);
        s = l.1 + r.1;
    }
    (h, s)
}

impl MerkleSumPath {
    /// The path as field-element pairs, as the circuit takes it.
    pub fn to_field_pairs(&self) -> Vec<(Fr, Fr)> {
        self.siblings
            .iter()
            .map(|n| (n.hash, Fr::from(n.sum)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u64) -> SumNode {
        SumNode {
            hash: Fr::from(1000 + i),
            sum: i + 1,
        }
    }

    #[test]
    fn every_path_leads_to_the_root() {
        let leaves: Vec<_> = [0u64, 3, 5, 6, 15].iter().map(|&i| (i, leaf(i))).collect();
        let tree = MerkleSumTree::from_leaves(4, leaves).unwrap();
        assert_eq!(tree.root().sum, 1 + 4 + 6 + 7 + 16);
        for i in 0..16u64 {
            let l = tree.leaf(i);
            let path = tree.path(i).unwrap();
            let (h, s) = root_from_path(l.hash, Fr::from(l.sum), i, &path.to_field_pairs());
            assert_eq!(
                (h, s),
                (tree.root().hash, Fr::from(tree.root().sum)),
                "leaf {i}"
            );
        }
    }

    #[test]
    fn sparse_equals_dense() {
        let leaves: Vec<_> = [1u64, 2, 9].iter().map(|&i| (i, leaf(i))).collect();
        let tree = MerkleSumTree::from_leaves(4, leaves.clone()).unwrap();
        let mut level: Vec<SumNode> = (0..16)
            .map(|i| {
                leaves
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map(|(_, n)| *n)
                    .unwrap_or(SumNode::EMPTY)
            })
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|p| SumNode::parent(&p[0], &p[1]).unwrap())
                .collect();
        }
        assert_eq!(level[0], tree.root());
        assert_eq!(sparse_root(4, leaves).unwrap(), tree.root());
        assert_eq!(
            sparse_root(5, []).unwrap(),
            *empty_subtrees(5).last().unwrap()
        );
    }

    #[test]
    fn refuses_bad_trees() {
        assert_eq!(
            MerkleSumTree::from_leaves(3, []).unwrap_err(),
            TreeError::Depth(3)
        );
        assert_eq!(
            MerkleSumTree::from_leaves(33, []).unwrap_err(),
            TreeError::Depth(33)
        );
        assert!(matches!(
            MerkleSumTree::from_leaves(4, [(16, leaf(0))]).unwrap_err(),
            TreeError::IndexOutOfRange { .. }
        ));
        assert_eq!(
            MerkleSumTree::from_leaves(4, [(1, leaf(1)), (1, leaf(1))]).unwrap_err(),
            TreeError::DuplicateIndex(1)
        );
        let big = SumNode {
            hash: Fr::from(1u64),
            sum: u64::MAX,
        };
        assert_eq!(
            MerkleSumTree::from_leaves(4, [(0, big), (1, leaf(1))]).unwrap_err(),
            TreeError::TotalOverflow
        );
        assert_eq!(
            sparse_root(4, [(0, big), (1, leaf(1))]).unwrap_err(),
            TreeError::TotalOverflow
        );
        assert_eq!(sparse_root(33, []).unwrap_err(), TreeError::Depth(33));
    }
}
