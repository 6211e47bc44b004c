//! The claim statement: the nine public inputs of protocol v1, in their one canonical order.
//!
//! Invariant: [`ClaimStatement::public_inputs`] is the only place that turns a statement into
//! field elements. The circuit allocates its instance variables from this same function, so the
//! prover and every verifier agree on the order by construction.

use ark_bn254::Fr;

/// How many public inputs a claim proof has.
pub const NUM_PUBLIC_INPUTS: usize = 9;

/// The public inputs of a claim, by position in the Groth16 instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum PublicInput {
    /// Settlement epoch.
    Epoch = 0,
    /// Root hash of the epoch's Merkle-sum snapshot.
    Root = 1,
    /// Root sum of the snapshot: the total weight of the epoch.
    TotalWeight = 2,
    /// Revenue of the epoch to distribute, in integer units.
    Revenue = 3,
    /// `H(secret)`: the claiming contributor.
    ContributorId = 4,
    /// Sum of the weights of the claimed leaves.
    ClaimedWeight = 5,
    /// `floor(revenue * claimed_weight / total_weight)`.
    Payout = 6,
    /// First leaf index the claim may cover (inclusive).
    RangeStart = 7,
    /// End of the claim's leaf range (exclusive).
    RangeEnd = 8,
}

impl PublicInput {
    /// Every public input, in instance order.
    pub const ALL: [PublicInput; NUM_PUBLIC_INPUTS] = [
        PublicInput::Epoch,
        PublicInput::Root,
        PublicInput::TotalWeight,
        PublicInput::Revenue,
        PublicInput::ContributorId,
        PublicInput::ClaimedWeight,
        PublicInput::Payout,
        PublicInput::RangeStart,
        PublicInput::RangeEnd,
    ];

    /// Position of this input in the Groth16 instance (excluding the constant one).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The protocol's name of this input, as used in bundles and `docs/protocol.md`.
    pub const fn name(self) -> &'static str {
        match self {
            PublicInput::Epoch => "epoch",
            PublicInput::Root => "root",
            PublicInput::TotalWeight => "total_weight",
            PublicInput::Revenue => "revenue",
            PublicInput::ContributorId => "contributor_id",
            PublicInput::ClaimedWeight => "claimed_weight",
            PublicInput::Payout => "payout",
            PublicInput::RangeStart => "range_start",
            PublicInput::RangeEnd => "range_end",
        }
    }
}

/// The public statement of one claim (protocol v1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClaimStatement {
    /// Settlement epoch.
    pub epoch: u64,
    /// Root hash of the epoch's snapshot.
    pub root: Fr,
    /// Total weight of the snapshot (the root's sum).
    pub total_weight: u64,
    /// Revenue of the epoch.
    pub revenue: u64,
    /// The claiming contributor, `H(secret)`.
    pub contributor_id: Fr,
    /// Sum of the claimed leaves' weights.
    pub claimed_weight: u64,
    /// The payout this claim proves.
    pub payout: u64,
    /// Inclusive start of the claimed leaf range.
    pub range_start: u64,
    /// Exclusive end of the claimed leaf range.
    pub range_end: u64,
}

impl ClaimStatement {
    /// The statement as Groth16 public inputs, in protocol order.
    pub fn public_inputs(&self) -> [Fr; NUM_PUBLIC_INPUTS] {
        let mut out = [Fr::from(0u64); NUM_PUBLIC_INPUTS];
        for input in PublicInput::ALL {
            out[input.index()] = self.get(input);
        }
        out
    }

    /// The value of one public input as a field element.
    pub fn get(&self, input: PublicInput) -> Fr {
        match input {
            PublicInput::Epoch => Fr::from(self.epoch),
            PublicInput::Root => self.root,
            PublicInput::TotalWeight => Fr::from(self.total_weight),
            PublicInput::Revenue => Fr::from(self.revenue),
            PublicInput::ContributorId => self.contributor_id,
            PublicInput::ClaimedWeight => Fr::from(self.claimed_weight),
            PublicInput::Payout => Fr::from(self.payout),
            PublicInput::RangeStart => Fr::from(self.range_start),
            PublicInput::RangeEnd => Fr::from(self.range_end),
        }
    }
}
