//! The claim: a contributor's statement that some of its committed contributions are leaves of
//! an epoch's snapshot, with the weight and payout that follow.
//!
//! - [`Shape`]: the circuit's fixed size, `N` slots of depth-`D` paths.
//! - [`ClaimInput`]: what a contributor knows (secret, openings, paths) plus the snapshot.
//! - [`ClaimAssignment`]: every private and public value of the circuit, as field elements,
//!   padded to `N` slots. [`check::check_assignment`] checks every condition of the circuit
//!   natively and names the first that fails, without printing any value.
//! - `ClaimCircuit`: the R1CS itself (`circuit.rs`, behind the `r1cs` feature).
//!
//! Invariant: `ClaimInput::assign` only ever yields an assignment that passes
//! `check_assignment`, and an assignment passes `check_assignment` exactly when it satisfies
//! the circuit (tested condition by condition).

mod check;
#[cfg(feature = "r1cs")]
mod circuit;

pub use check::check_assignment;
#[cfg(feature = "r1cs")]
pub use circuit::ClaimCircuit;

use crate::statement::{ClaimStatement, NUM_PUBLIC_INPUTS};
use crate::{
    commitment,
    merkle_sum::{self, MerkleSumPath},
    payout,
};
use ark_bn254::Fr;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The fixed size of a claim circuit: `n` slots, each with a depth-`depth` path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape {
    /// Number of contribution slots.
    pub n: usize,
    /// Depth of the snapshot tree.
    pub depth: u32,
}

/// The slot counts the service offers (any `1..=MAX_SLOTS` is a valid circuit).
pub const STANDARD_SLOTS: [usize; 4] = [1, 4, 16, 64];
/// The most slots a circuit may have.
pub const MAX_SLOTS: usize = 64;
/// The default snapshot depth.
pub const DEFAULT_DEPTH: u32 = 20;

impl Shape {
    /// A shape, if `n` is in `1..=64` and `depth` in `4..=32`.
    pub fn new(n: usize, depth: u32) -> Result<Self, ClaimError> {
        if !(1..=MAX_SLOTS).contains(&n)
            || !(merkle_sum::MIN_DEPTH..=merkle_sum::MAX_DEPTH).contains(&depth)
        {
            return Err(ClaimError::Shape);
        }
        Ok(Shape { n, depth })
    }

    /// The circuit id, e.g. `claim-v1-n16-d20`, that names keys and bundles.
    pub fn circuit_id(&self) -> String {
        format!("claim-v1-n{}-d{}", self.n, self.depth)
    }

    /// Parses a circuit id written by [`Shape::circuit_id`].
    pub fn from_circuit_id(id: &str) -> Result<Self, ClaimError> {
        let rest = id.strip_prefix("claim-v1-n").ok_or(ClaimError::Shape)?;
        let (n, d) = rest.split_once("-d").ok_or(ClaimError::Shape)?;
        let canonical =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
        if !canonical(n) || !canonical(d) {
            return Err(ClaimError::Shape);
        }
        Shape::new(
            n.parse().map_err(|_| ClaimError::Shape)?,
            d.parse().map_err(|_| ClaimError::Shape)?,
        )
    }

    /// `2^depth`, the number of leaves and the largest allowed `range_end`.
    pub fn leaves(&self) -> u64 {
        1u64 << self.depth
    }
}

/// One claimed contribution: its opening, its weight and its place in the snapshot.
///
/// `digest` and `blinding` are secret; they are zeroized when the value is dropped, and `Debug`
/// shows neither.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Contribution {
    /// blake3-derived digest of the data.
    pub digest: Fr,
    /// The commitment's blinding.
    pub blinding: Fr,
    /// The leaf's weight in the snapshot.
    #[zeroize(skip)]
    pub weight: u64,
    /// The leaf's index in the snapshot.
    #[zeroize(skip)]
    pub leaf_index: u64,
    /// The leaf's Merkle-sum path.
    #[zeroize(skip)]
    pub path: MerkleSumPath,
}

impl std::fmt::Debug for Contribution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contribution").finish_non_exhaustive()
    }
}

/// Everything needed to prove a claim: the published snapshot, the claimed range and the
/// contributor's secrets. Secrets are zeroized on drop and never shown by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ClaimInput {
    /// The contributor's secret `s`.
    pub secret: Fr,
    /// The claimed contributions, by strictly increasing leaf index.
    pub contributions: Vec<Contribution>,
    /// Snapshot epoch.
    #[zeroize(skip)]
    pub epoch: u64,
    /// Snapshot root hash.
    #[zeroize(skip)]
    pub root: Fr,
    /// Snapshot total weight.
    #[zeroize(skip)]
    pub total_weight: u64,
    /// Epoch revenue.
    #[zeroize(skip)]
    pub revenue: u64,
    /// First leaf index the claim covers.
    #[zeroize(skip)]
    pub range_start: u64,
    /// End (exclusive) of the claim's range.
    #[zeroize(skip)]
    pub range_end: u64,
}

impl std::fmt::Debug for ClaimInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimInput")
            .field("epoch", &self.epoch)
            .field("contributions", &self.contributions.len())
            .finish_non_exhaustive()
    }
}

/// The values of one slot of the circuit, as field elements (so tests can feed any value).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SlotAssignment {
    /// 1 for a claimed slot, 0 for padding.
    pub enabled: Fr,
    /// Contribution digest.
    pub digest: Fr,
    /// Commitment blinding.
    pub blinding: Fr,
    /// Leaf weight.
    pub weight: Fr,
    /// Leaf index.
    pub index: Fr,
    /// Path direction bits, leaf level first; must be the bits of `index`.
    pub bits: Vec<Fr>,
    /// Sibling `(hash, sum)` per level, leaf level first.
    pub siblings: Vec<(Fr, Fr)>,
}

impl SlotAssignment {
    /// A disabled slot of a depth-`depth` circuit: every value zero (what `ClaimInput::assign`
    /// pads with).
    pub fn padding(depth: u32) -> Self {
        let zero = Fr::from(0u64);
        SlotAssignment {
            enabled: zero,
            digest: zero,
            blinding: zero,
            weight: zero,
            index: zero,
            bits: vec![zero; depth as usize],
            siblings: vec![(zero, zero); depth as usize],
        }
    }
}

/// Every value of a claim circuit: the nine public inputs in protocol order, the secret, `N`
/// slots and the payout remainder.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ClaimAssignment {
    /// Public inputs, in [`crate::statement::PublicInput`] order.
    pub public: [Fr; NUM_PUBLIC_INPUTS],
    /// The contributor's secret.
    pub secret: Fr,
    /// One entry per slot.
    pub slots: Vec<SlotAssignment>,
    /// `revenue * claimed_weight - payout * total_weight`.
    pub rem: Fr,
}

impl std::fmt::Debug for ClaimAssignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimAssignment")
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

/// Why a claim cannot be proven. Each variant names a condition of the statement and, where it
/// helps, a slot number; none carries a witness value, so messages are safe to log and return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)]
pub enum ClaimError {
    #[error("unsupported circuit shape (slots 1..=64, depth 4..=32)")]
    Shape,
    #[error("a claim must claim at least one contribution")]
    EmptyClaim,
    #[error("{count} contributions do not fit a circuit of {capacity} slots")]
    TooManyContributions { count: usize, capacity: usize },
    #[error("slot {slot}: the Merkle-sum path does not have one sibling per tree level")]
    PathLength { slot: usize },
    #[error("slot {slot}: the enabled flag is not a bit")]
    EnabledNotBoolean { slot: usize },
    #[error("slot 0 must be enabled")]
    FirstSlotDisabled,
    #[error("slot {slot}: enabled after a disabled slot (disabled slots must be a suffix)")]
    EnabledAfterDisabled { slot: usize },
    #[error("slot {slot}: a path direction is not a bit")]
    PathBitNotBoolean { slot: usize },
    #[error("slot {slot}: the path directions are not the bits of the leaf index")]
    IndexBitsMismatch { slot: usize },
    #[error("slot {slot}: the leaf index does not fit the tree")]
    IndexOutsideTree { slot: usize },
    #[error("slot {slot}: the weight is not below 2^64")]
    WeightOutOfRange { slot: usize },
    #[error("slot {slot}: the leaf is not in the snapshot (the path does not reach the root)")]
    LeafNotInSnapshot { slot: usize },
    #[error("slot {slot}: the path's sums do not add up to the total weight")]
    SumMismatch { slot: usize },
    #[error("the contributor id is not H(secret)")]
    ContributorIdMismatch,
    #[error("public input {input} is out of range")]
    PublicInputOutOfRange { input: &'static str },
    #[error("range_start must be below range_end")]
    RangeEmpty,
    #[error("range_end must not exceed 2^depth")]
    RangeEndBeyondTree,
    #[error("slot {slot}: the leaf index is below range_start")]
    IndexBelowRange { slot: usize },
    #[error("slot {slot}: the leaf index is not below range_end")]
    IndexBeyondRange { slot: usize },
    #[error("slot {slot}: leaf indices must strictly increase")]
    IndexNotIncreasing { slot: usize },
    #[error("claimed_weight is not the sum of the claimed weights")]
    ClaimedWeightMismatch,
    #[error("claimed_weight exceeds total_weight")]
    ClaimedWeightExceedsTotal,
    #[error("the total weight is zero")]
    TotalWeightZero,
    #[error("the remainder is not below total_weight")]
    RemainderOutOfRange,
    #[error("payout is not floor(revenue * claimed_weight / total_weight)")]
    PayoutMismatch,
}

impl ClaimInput {
    /// The claim's public statement and its full circuit assignment for `shape`, checked
    /// condition by condition ([`check_assignment`]).
    pub fn assign(&self, shape: Shape) -> Result<(ClaimStatement, ClaimAssignment), ClaimError> {
        let count = self.contributions.len();
        if count == 0 {
            return Err(ClaimError::EmptyClaim);
        }
        if count > shape.n {
            return Err(ClaimError::TooManyContributions {
                count,
                capacity: shape.n,
            });
        }
        let mut claimed: u64 = 0;
        for c in &self.contributions {
            claimed = claimed
                .checked_add(c.weight)
                .ok_or(ClaimError::ClaimedWeightExceedsTotal)?;
        }
        if self.total_weight == 0 {
            return Err(ClaimError::TotalWeightZero);
        }
        let (payout, rem) = payout::payout(self.revenue, claimed, self.total_weight)
            .ok_or(ClaimError::ClaimedWeightExceedsTotal)?;
        let statement = ClaimStatement {
            epoch: self.epoch,
            root: self.root,
            total_weight: self.total_weight,
            revenue: self.revenue,
            contributor_id: commitment::contributor_id(&self.secret),
            claimed_weight: claimed,
            payout,
            range_start: self.range_start,
            range_end: self.range_end,
        };
        let mut slots = Vec::with_capacity(shape.n);
        for (slot, c) in self.contributions.iter().enumerate() {
            if c.path.siblings.len() != shape.depth as usize {
                return Err(ClaimError::PathLength { slot });
            }
            if c.leaf_index >= shape.leaves() {
                return Err(ClaimError::IndexOutsideTree { slot });
            }
            slots.push(SlotAssignment {
                enabled: Fr::from(1u64),
                digest: c.digest,
                blinding: c.blinding,
                weight: Fr::from(c.weight),
                index: Fr::from(c.leaf_index),
                bits: (0..shape.depth)
                    .map(|j| Fr::from((c.leaf_index >> j) & 1))
                    .collect(),
                siblings: c.path.to_field_pairs(),
            });
        }
        slots.resize_with(shape.n, || SlotAssignment::padding(shape.depth));
        let assignment = ClaimAssignment {
            public: statement.public_inputs(),
            secret: self.secret,
            slots,
            rem: Fr::from(rem),
        };
        check_assignment(shape, &assignment)?;
        Ok((statement, assignment))
    }
}

#[cfg(all(test, feature = "r1cs"))]
pub(crate) mod tests;
