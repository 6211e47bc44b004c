//! Settlement: one published snapshot's payout accumulator.
//!
//! A claim's statement is only as good as the snapshot it names, and a Groth16 proof can be
//! re-randomised into other valid bytes, so this module keys on *statements*, never on proof
//! bytes. Invariants, held after every [`Settlement::admit`]:
//!
//! * only [`VerifiedClaim`]s are admitted (a proof that does not verify cannot be settled);
//! * every admitted statement equals the snapshot in `epoch`, `root`, `total_weight`, `revenue`,
//!   and has `range_start < range_end <= 2^depth` (compared as `u128`, so `2^64` is exact);
//! * the ranges admitted for one contributor id are pairwise disjoint (one record per epoch and
//!   contributor id, whatever the circuit that proved them), so no leaf is paid twice;
//! * `sum(claimed_weight) <= total_weight` and `sum(payout) <= revenue` (sums in `u128`);
//! * each payout equals `floor(revenue * claimed_weight / total_weight)` (the circuit proves it;
//!   checking again costs nothing and guards against a circuit or key mix-up).
//!
//! A refused claim leaves the accumulator unchanged. Payouts go to contributor ids (to the
//! account registered for each), never to whoever submitted the bundle.
//!
//! `snapshot.json` (decimal strings for the values that are field elements or `u64` amounts, as
//! in bundles, since JSON numbers above 2^53 lose precision; `depth` is a JSON number):
//!
//! ```json
//! { "epoch": "7", "depth": 20, "root": "<decimal < r>", "total_weight": "1000", "revenue": "5000" }
//! ```

use std::collections::BTreeMap;

use ark_bn254::Fr;
use credence_circuits::payout;
use serde::{Deserialize, Serialize};

use crate::encoding::{fr_from_decimal, fr_to_decimal, u64_from_decimal};
use crate::error::{Invalid, Malformed};
use crate::statement::{ClaimStatement, PublicInput};
use crate::verify::VerifiedClaim;

pub use credence_circuits::merkle_sum::{MAX_DEPTH, MIN_DEPTH};

/// A published snapshot: what settlement checks statements against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Settlement epoch.
    pub epoch: u64,
    /// Merkle-sum tree depth `D`: leaf indices are in `[0, 2^D)`.
    pub depth: u32,
    /// Root hash.
    pub root: Fr,
    /// Root sum.
    pub total_weight: u64,
    /// Revenue to distribute.
    pub revenue: u64,
}

/// `snapshot.json` as it appears on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotJson {
    /// Decimal string.
    pub epoch: String,
    /// JSON number.
    pub depth: u32,
    /// Decimal string `< r`.
    pub root: String,
    /// Decimal string.
    pub total_weight: String,
    /// Decimal string.
    pub revenue: String,
}

impl Snapshot {
    /// Validates the fields: the depth is the protocol's ([`MIN_DEPTH`]`..=`[`MAX_DEPTH`]).
    pub fn new(
        epoch: u64,
        depth: u32,
        root: Fr,
        total_weight: u64,
        revenue: u64,
    ) -> Result<Self, Malformed> {
        if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
            return Err(Malformed::Snapshot(format!(
                "depth {depth} is not in {MIN_DEPTH}..={MAX_DEPTH}"
            )));
        }
        Ok(Snapshot {
            epoch,
            depth,
            root,
            total_weight,
            revenue,
        })
    }

    /// Decodes the JSON form strictly.
    pub fn from_json_value(j: &SnapshotJson) -> Result<Self, Malformed> {
        Snapshot::new(
            u64_from_decimal("epoch", &j.epoch)?,
            j.depth,
            fr_from_decimal("root", &j.root)?,
            u64_from_decimal("total_weight", &j.total_weight)?,
            u64_from_decimal("revenue", &j.revenue)?,
        )
    }

    /// Parses and decodes `snapshot.json`.
    pub fn from_json(text: &str) -> Result<Self, Malformed> {
        let j: SnapshotJson = serde_json::from_str(text).map_err(|e| Malformed::Json {
            what: "snapshot",
            reason: e.to_string(),
        })?;
        Self::from_json_value(&j)
    }

    /// The JSON form.
    pub fn to_json_value(&self) -> SnapshotJson {
        SnapshotJson {
            epoch: self.epoch.to_string(),
            depth: self.depth,
            root: fr_to_decimal(&self.root),
            total_weight: self.total_weight.to_string(),
            revenue: self.revenue.to_string(),
        }
    }

    /// `snapshot.json`, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_json_value())
            .expect("a SnapshotJson always serializes")
    }

    /// `2^depth`, the exclusive bound of leaf indices.
    pub fn leaf_count(&self) -> u128 {
        1u128 << self.depth
    }

    /// Checks that `statement` names this snapshot (its four snapshot fields) and that its range
    /// fits the tree. This is what `credence-verify proof --snapshot` checks.
    pub fn check_statement(&self, s: &ClaimStatement) -> Result<(), Invalid> {
        let mismatch = |input: PublicInput, claimed: String, published: String| {
            Err(Invalid::SnapshotMismatch {
                field: input.name(),
                claimed,
                published,
            })
        };
        if s.epoch != self.epoch {
            return mismatch(
                PublicInput::Epoch,
                s.epoch.to_string(),
                self.epoch.to_string(),
            );
        }
        if s.root != self.root {
            return mismatch(
                PublicInput::Root,
                fr_to_decimal(&s.root),
                fr_to_decimal(&self.root),
            );
        }
        if s.total_weight != self.total_weight {
            return mismatch(
                PublicInput::TotalWeight,
                s.total_weight.to_string(),
                self.total_weight.to_string(),
            );
        }
        if s.revenue != self.revenue {
            return mismatch(
                PublicInput::Revenue,
                s.revenue.to_string(),
                self.revenue.to_string(),
            );
        }
        if s.range_start >= s.range_end || u128::from(s.range_end) > self.leaf_count() {
            return Err(Invalid::RangeOutsideTree {
                range_start: s.range_start,
                range_end: s.range_end,
                depth: self.depth,
            });
        }
        Ok(())
    }
}

/// Why a verified claim was not admitted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The statement names another snapshot, or its range does not fit the tree.
    #[error(transparent)]
    Snapshot(#[from] Invalid),
    /// The contributor already has an admitted claim overlapping this range.
    #[error(
        "range [{range_start}, {range_end}) overlaps the contributor's admitted range [{other_start}, {other_end})"
    )]
    Overlap {
        /// This claim's range start.
        range_start: u64,
        /// This claim's range end.
        range_end: u64,
        /// The admitted range's start.
        other_start: u64,
        /// The admitted range's end.
        other_end: u64,
    },
    /// Admitting it would take the claimed weights over the total weight.
    #[error("claimed weights would reach {would_be}, over the total weight {total_weight}")]
    OverWeight {
        /// The sum after admitting.
        would_be: u128,
        /// The snapshot's total weight.
        total_weight: u64,
    },
    /// Admitting it would take the payouts over the revenue.
    #[error("payouts would reach {would_be}, over the revenue {revenue}")]
    OverRevenue {
        /// The sum after admitting.
        would_be: u128,
        /// The snapshot's revenue.
        revenue: u64,
    },
    /// The payout is not `floor(revenue * claimed_weight / total_weight)`.
    #[error("payout {payout} is not floor(revenue * claimed_weight / total_weight) = {expected}")]
    WrongPayout {
        /// The claimed payout.
        payout: u64,
        /// The protocol's value (`None` if the total weight is zero).
        expected: String,
    },
}

/// One contributor's record in this epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContributorRecord {
    /// Admitted ranges, `start -> end` (pairwise disjoint).
    pub ranges: BTreeMap<u64, u64>,
    /// Sum of the admitted claimed weights.
    pub claimed_weight: u128,
    /// Sum of the admitted payouts.
    pub payout: u128,
    /// How many claims were admitted.
    pub claims: usize,
}

/// The accumulator for one snapshot.
#[derive(Clone, Debug)]
pub struct Settlement {
    snapshot: Snapshot,
    records: BTreeMap<Fr, ContributorRecord>,
    claimed_weight: u128,
    paid: u128,
}

impl Settlement {
    /// An empty settlement of `snapshot`.
    pub fn new(snapshot: Snapshot) -> Self {
        Settlement {
            snapshot,
            records: BTreeMap::new(),
            claimed_weight: 0,
            paid: 0,
        }
    }

    /// The snapshot being settled.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Admits a verified claim, or refuses it and leaves the accumulator unchanged.
    pub fn admit(&mut self, claim: &VerifiedClaim) -> Result<(), Refusal> {
        let s = claim.statement();
        let snap = &self.snapshot;
        snap.check_statement(s)?;

        if let Some(record) = self.records.get(&s.contributor_id) {
            // Ranges are disjoint, so only the admitted range with the greatest start below our
            // end can reach into [start, end): every earlier one ends before that one starts.
            if let Some((&other_start, &other_end)) = record.ranges.range(..s.range_end).next_back()
                && other_end > s.range_start
            {
                return Err(Refusal::Overlap {
                    range_start: s.range_start,
                    range_end: s.range_end,
                    other_start,
                    other_end,
                });
            }
        }

        let weight = self.claimed_weight + u128::from(s.claimed_weight);
        if weight > u128::from(snap.total_weight) {
            return Err(Refusal::OverWeight {
                would_be: weight,
                total_weight: snap.total_weight,
            });
        }
        let paid = self.paid + u128::from(s.payout);
        if paid > u128::from(snap.revenue) {
            return Err(Refusal::OverRevenue {
                would_be: paid,
                revenue: snap.revenue,
            });
        }

        // Last: the payout the protocol defines.
        let expected = payout::payout(snap.revenue, s.claimed_weight, snap.total_weight)
            .map(|(payout, _rem)| payout);
        if expected != Some(s.payout) {
            return Err(Refusal::WrongPayout {
                payout: s.payout,
                expected: expected.map_or_else(|| "undefined".into(), |e| e.to_string()),
            });
        }

        // All checks passed: commit.
        self.claimed_weight = weight;
        self.paid = paid;
        let record = self.records.entry(s.contributor_id).or_default();
        record.ranges.insert(s.range_start, s.range_end);
        record.claimed_weight += u128::from(s.claimed_weight);
        record.payout += u128::from(s.payout);
        record.claims += 1;
        Ok(())
    }

    /// The records, by contributor id.
    pub fn records(&self) -> &BTreeMap<Fr, ContributorRecord> {
        &self.records
    }

    /// The payout table so far.
    pub fn report(&self) -> SettlementReport {
        SettlementReport {
            snapshot: self.snapshot.to_json_value(),
            payouts: self
                .records
                .iter()
                .map(|(id, r)| PayoutLine {
                    contributor_id: fr_to_decimal(id),
                    claims: r.claims,
                    claimed_weight: r.claimed_weight.to_string(),
                    payout: r.payout.to_string(),
                })
                .collect(),
            claimed_weight: self.claimed_weight.to_string(),
            paid: self.paid.to_string(),
            // `paid <= revenue` is an invariant of `admit`.
            undistributed: (u128::from(self.snapshot.revenue) - self.paid).to_string(),
        }
    }
}

/// One line of the payout table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutLine {
    /// Who is paid (decimal).
    pub contributor_id: String,
    /// How many claims were admitted for it.
    pub claims: usize,
    /// Sum of its claimed weights (decimal).
    pub claimed_weight: String,
    /// Sum of its payouts (decimal).
    pub payout: String,
}

/// The payout table of a settlement (amounts as decimal strings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementReport {
    /// The snapshot settled.
    pub snapshot: SnapshotJson,
    /// One line per contributor id, ordered by id.
    pub payouts: Vec<PayoutLine>,
    /// Sum of admitted claimed weights.
    pub claimed_weight: String,
    /// Sum of admitted payouts.
    pub paid: String,
    /// `revenue - paid`.
    pub undistributed: String,
}
