//! RFC 6962 / RFC 9162 Merkle tree hashing with BLAKE3, and the proof checks of RFC 9162 §2.1.
//!
//! The tree is exactly the one of RFC 6962 §2.1 with SHA-256 replaced by BLAKE3 (32-byte output):
//!
//! ```text
//! MTH({})      = BLAKE3()                              the empty string
//! MTH({d0})    = BLAKE3(0x00 || d0)                    leaf hash
//! MTH(D[n])    = BLAKE3(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
//!                where k is the largest power of two smaller than n
//! ```
//!
//! The 0x00 / 0x01 prefixes keep a leaf from ever being read as an interior node (second-preimage
//! separation). Everything here is pure and allocation-light; nothing panics on input: a proof of
//! the wrong length, an index past the tree or a size of zero is a typed [`ProofError`].

use thiserror::Error;

/// A 32-byte BLAKE3 node or leaf hash.
pub type Hash = [u8; 32];

/// Length of [`Hash`] in bytes.
pub const HASH_LEN: usize = 32;

/// Domain prefix of a leaf hash (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain prefix of an interior node hash (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// The root of the empty tree: BLAKE3 of the empty string.
pub fn empty_root() -> Hash {
    *blake3::hash(&[]).as_bytes()
}

/// The leaf hash of one entry: `BLAKE3(0x00 || entry_bytes)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[LEAF_PREFIX]);
    h.update(entry);
    *h.finalize().as_bytes()
}

/// An interior node: `BLAKE3(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[NODE_PREFIX]);
    h.update(left);
    h.update(right);
    *h.finalize().as_bytes()
}

/// Why a Merkle proof was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("tree shrank: size {old} is larger than size {new}")]
    Shrunk {
        /// The earlier size.
        old: u64,
        /// The later size.
        new: u64,
    },
    /// The proof has more or fewer hashes than the tree shape allows.
    #[error("proof has the wrong number of hashes ({got})")]
    WrongLength {
        /// How many hashes the proof had.
        got: usize,
    },
    /// The proof is well formed but does not lead to the expected root.
    #[error("proof does not match the root hash")]
    RootMismatch,
    /// Two equal sizes were given with different roots: the log forked.
    #[error("same tree size {size} with two different roots")]
    SameSizeDifferentRoot {
        /// The tree size.
        size: u64,
    },
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2): `leaf` is entry `index` of the tree of `size`
/// leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion(index, size, leaf, proof)?;
    if &computed == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// The root an inclusion proof leads to, or an error when the proof cannot fit the tree shape.
///
/// This is steps 1-5 of RFC 9162 §2.1.3.2 without the final comparison.
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength { got: proof.len() });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            // Climb past the levels where our node is a left child with no right sibling: the
            // right edge of a non-perfect tree promotes it unchanged.
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength { got: proof.len() });
    }
    Ok(r)
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2): the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root `new_root`.
///
/// Edge cases follow RFC 9162 and transparency-dev/merkle: `old_size == 0` is consistent with
/// everything and needs an empty proof; `old_size == new_size` needs an empty proof and equal
/// roots; `old_size > new_size` is [`ProofError::Shrunk`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::Shrunk {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength { got: proof.len() });
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::SameSizeDifferentRoot { size: old_size })
        };
    }
    if old_size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength { got: proof.len() })
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength { got: 0 });
    }

    // Step 2: when the old tree is a perfect subtree its root is the first node of the path, and
    // the RFC prepends it rather than sending it.
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (&proof[0], &proof[1..])
    };
    let mut fnode = old_size - 1;
    let mut snode = new_size - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength { got: proof.len() });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength { got: proof.len() });
    }
    if &fr == old_root && &sr == new_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Incremental root computation over a stream of leaf hashes, in O(log n) memory.
///
/// It keeps the roots of the maximal perfect subtrees of the leaves seen so far (a "compact
/// range" in transparency-dev terms), so [`CompactRange::root`] is the MTH of the prefix at any
/// point. The auditor uses it to compare the prefix root against every signed checkpoint it
/// holds while streaming entries once.
#[derive(Clone, Debug, Default)]
pub struct CompactRange {
    size: u64,
    /// Perfect-subtree roots, left to right; their sizes are the set bits of `size`, largest first.
    stack: Vec<Hash>,
}

impl CompactRange {
    /// An empty range (size 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        let mut merged = self.size;
        // Each trailing one bit of the old size is a perfect subtree of the same height as the
        // carry: merge them, exactly like binary addition of 1.
        while merged & 1 == 1 {
            // The stack has one entry per set bit of `size`, so a pop here always succeeds.
            if let Some(left) = self.stack.pop() {
                node = node_hash(&left, &node);
            }
            merged >>= 1;
        }
        self.stack.push(node);
        self.size += 1;
    }

    /// The Merkle tree hash of the leaves appended so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        // RFC 6962 splits at the largest power of two, so the right-hand subtrees nest as the
        // right children: fold from the smallest (rightmost) subtree leftwards.
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// The Merkle tree hash of a list of leaf hashes (RFC 6962 §2.1 MTH).
pub fn root_of_leaf_hashes(leaves: &[Hash]) -> Hash {
    let mut range = CompactRange::new();
    for leaf in leaves {
        range.push(*leaf);
    }
    range.root()
}
