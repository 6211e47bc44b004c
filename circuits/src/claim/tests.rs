//! Claim circuit tests: random valid claims satisfy both the native check and the circuit, and
//! one negative test per condition shows that a wrong witness is refused by both, with the
//! condition named.

use super::*;
use crate::statement::PublicInput as P;
use crate::{
    commitment::{commitment, contributor_id, leaf_hash},
    merkle_sum::{MerkleSumTree, SumNode, empty_subtrees, root_from_path},
};
use ark_ff::{Field, One, Zero};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ark_std::UniformRand;
use rand_chacha::{
    ChaCha20Rng,
    rand_core::{RngCore, SeedableRng},
};

/// A snapshot with two contributors, A (the claimant) and B, and A's honest claim.
pub(crate) struct Fixture {
    pub shape: Shape,
    pub input: ClaimInput,
    pub tree: MerkleSumTree,
    /// B's contribution at a leaf index between A's first two.
    pub other: Contribution,
}

pub(crate) fn fixture(n: usize, depth: u32, seed: u64) -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (sa, sb) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let (ida, idb) = (contributor_id(&sa), contributor_id(&sb));
    let a_indices = [2u64, 5, 9];
    let b_indices = [3u64, 7];
    let mut openings = Vec::new();
    for (owner, idx) in a_indices
        .iter()
        .map(|i| (ida, *i))
        .chain(b_indices.iter().map(|i| (idb, *i)))
    {
        let (d, b) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let w = 1 + rng.next_u64() % 1000;
        openings.push((owner, idx, d, b, w));
    }
    let leaves = openings.iter().map(|(owner, idx, d, b, w)| {
        (
            *idx,
            SumNode {
                hash: leaf_hash(owner, &commitment(d, b), *w),
                sum: *w,
            },
        )
    });
    let tree = MerkleSumTree::from_leaves(depth, leaves).unwrap();
    let contribution = |k: usize| {
        let (_, idx, d, b, w) = openings[k];
        Contribution {
            digest: d,
            blinding: b,
            weight: w,
            leaf_index: idx,
            path: tree.path(idx).unwrap(),
        }
    };
    let claimed = (0..n.min(2)).map(contribution).collect();
    let input = ClaimInput {
        secret: sa,
        contributions: claimed,
        epoch: 7,
        root: tree.root().hash,
        total_weight: tree.root().sum,
        revenue: 1_000_003,
        range_start: 0,
        range_end: 1 << depth,
    };
    let other = contribution(3);
    Fixture {
        shape: Shape::new(n, depth).unwrap(),
        input,
        tree,
        other,
    }
}

fn satisfied(shape: Shape, a: &ClaimAssignment) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    ClaimCircuit::new(shape, a.clone())
        .generate_constraints(cs.clone())
        .unwrap();
    cs.is_satisfied().unwrap()
}

/// The witness is refused natively with `expected` and leaves the circuit unsatisfied.
#[track_caller]
fn assert_refused(shape: Shape, a: &ClaimAssignment, expected: ClaimError) {
    assert_eq!(check_assignment(shape, a), Err(expected));
    assert!(
        !satisfied(shape, a),
        "the circuit accepted a witness refused with {expected}"
    );
}

fn honest() -> (Shape, ClaimAssignment, Fixture) {
    let f = fixture(3, 4, 1);
    let (_, a) = f.input.assign(f.shape).unwrap();
    assert!(satisfied(f.shape, &a));
    (f.shape, a, f)
}

/// Sets claimed weight, payout and remainder consistently for the given claimed weight.
fn set_claimed(a: &mut ClaimAssignment, claimed: Fr) {
    a.public[P::ClaimedWeight.index()] = claimed;
    let total = a.public[P::TotalWeight.index()];
    let revenue = a.public[P::Revenue.index()];
    let to_u128 = |x: Fr| -> u128 { x.to_string().parse().unwrap() };
    let product = to_u128(revenue) * to_u128(claimed);
    a.public[P::Payout.index()] = Fr::from(product / to_u128(total));
    a.rem = Fr::from(product % to_u128(total));
}

fn slot_from(c: &Contribution, depth: u32) -> SlotAssignment {
    SlotAssignment {
        enabled: Fr::one(),
        digest: c.digest,
        blinding: c.blinding,
        weight: Fr::from(c.weight),
        index: Fr::from(c.leaf_index),
        bits: (0..depth)
            .map(|j| Fr::from((c.leaf_index >> j) & 1))
            .collect(),
        siblings: c.path.to_field_pairs(),
    }
}

#[test]
fn random_valid_claims_satisfy_circuit_and_check() {
    for (seed, n, depth) in [(1u64, 1usize, 4u32), (2, 2, 4), (3, 3, 5), (4, 4, 6)] {
        let f = fixture(n, depth, seed);
        let (statement, a) = f.input.assign(f.shape).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        ClaimCircuit::new(f.shape, a.clone())
            .generate_constraints(cs.clone())
            .unwrap();
        assert!(cs.is_satisfied().unwrap());
        // The instance is the statement's public inputs, in the verifier crate's order.
        let instance = cs.borrow().unwrap().instance_assignment().unwrap().to_vec();
        assert_eq!(instance[0], Fr::one());
        assert_eq!(&instance[1..], &statement.public_inputs()[..]);
        let weights: u64 = f.input.contributions.iter().map(|c| c.weight).sum();
        assert_eq!(statement.claimed_weight, weights);
        assert_eq!(
            statement.payout as u128,
            f.input.revenue as u128 * weights as u128 / f.input.total_weight as u128
        );
    }
}

#[test]
fn wrong_root() {
    let (shape, mut a, _) = honest();
    a.public[P::Root.index()] += Fr::one();
    assert_refused(shape, &a, ClaimError::LeafNotInSnapshot { slot: 0 });
}

#[test]
fn sibling_hash_or_sum_changed() {
    let (shape, a, _) = honest();
    let mut b = a.clone();
    b.slots[0].siblings[1].0 += Fr::one();
    assert_refused(shape, &b, ClaimError::LeafNotInSnapshot { slot: 0 });
    let mut b = a.clone();
    b.slots[1].siblings[2].1 += Fr::one();
    assert_refused(shape, &b, ClaimError::LeafNotInSnapshot { slot: 1 });
}

#[test]
fn wrong_contributor_secret() {
    let (shape, mut a, _) = honest();
    a.secret += Fr::one();
    assert_refused(shape, &a, ClaimError::ContributorIdMismatch);
    // The id matching the wrong secret does not own the leaves.
    a.public[P::ContributorId.index()] = contributor_id(&a.secret);
    assert_refused(shape, &a, ClaimError::LeafNotInSnapshot { slot: 0 });
}

#[test]
fn a_leaf_of_another_contributor() {
    let (shape, mut a, f) = honest();
    // Slot 0 is A's leaf 2; B's leaf 3 goes into slot 1, weights made consistent.
    a.slots[1] = slot_from(&f.other, shape.depth);
    let claimed = a.slots[0].weight + a.slots[1].weight;
    set_claimed(&mut a, claimed);
    assert_refused(shape, &a, ClaimError::LeafNotInSnapshot { slot: 1 });
}

#[test]
fn wrong_blinding_or_digest() {
    let (shape, a, _) = honest();
    let mut b = a.clone();
    b.slots[0].blinding += Fr::one();
    assert_refused(shape, &b, ClaimError::LeafNotInSnapshot { slot: 0 });
    let mut b = a.clone();
    b.slots[1].digest += Fr::one();
    assert_refused(shape, &b, ClaimError::LeafNotInSnapshot { slot: 1 });
}

#[test]
fn duplicate_or_decreasing_index() {
    let (shape, a, _) = honest();
    let mut dup = a.clone();
    dup.slots[1] = dup.slots[0].clone();
    let claimed = dup.slots[0].weight + dup.slots[0].weight;
    set_claimed(&mut dup, claimed);
    assert_refused(shape, &dup, ClaimError::IndexNotIncreasing { slot: 1 });
    let mut swapped = a.clone();
    swapped.slots.swap(0, 1);
    assert_refused(shape, &swapped, ClaimError::IndexNotIncreasing { slot: 1 });
}

#[test]
fn index_outside_the_range() {
    let (shape, a, _) = honest();
    // Slot indices are 2 and 5.
    let mut below = a.clone();
    below.public[P::RangeStart.index()] = Fr::from(3u64);
    assert_refused(shape, &below, ClaimError::IndexBelowRange { slot: 0 });
    let mut beyond = a.clone();
    beyond.public[P::RangeEnd.index()] = Fr::from(5u64);
    assert_refused(shape, &beyond, ClaimError::IndexBeyondRange { slot: 1 });
    // The boundaries themselves are inside.
    let mut exact = a.clone();
    exact.public[P::RangeStart.index()] = Fr::from(2u64);
    exact.public[P::RangeEnd.index()] = Fr::from(6u64);
    assert_eq!(check_assignment(shape, &exact), Ok(()));
    assert!(satisfied(shape, &exact));
}

#[test]
fn claimed_weight_off_by_one() {
    let (shape, a, _) = honest();
    for delta in [Fr::one(), -Fr::one()] {
        let mut b = a.clone();
        let claimed = b.public[P::ClaimedWeight.index()] + delta;
        set_claimed(&mut b, claimed);
        assert_refused(shape, &b, ClaimError::ClaimedWeightMismatch);
    }
}

#[test]
fn payout_off_by_one_either_way() {
    let (shape, a, _) = honest();
    let total = a.public[P::TotalWeight.index()];
    let mut up = a.clone();
    up.public[P::Payout.index()] += Fr::one();
    assert_refused(shape, &up, ClaimError::PayoutMismatch);
    let mut down = a.clone();
    down.public[P::Payout.index()] -= Fr::one();
    assert_refused(shape, &down, ClaimError::PayoutMismatch);
    // payout + 1 balanced by a negative remainder, which wraps the field.
    up.rem -= total;
    assert_refused(shape, &up, ClaimError::RemainderOutOfRange);
    // payout - 1 balanced by rem + total: the equation holds but rem >= total_weight.
    down.rem += total;
    assert_refused(shape, &down, ClaimError::RemainderOutOfRange);
}

#[test]
fn a_weight_or_sum_that_would_wrap_the_field() {
    // A forged snapshot in field arithmetic: leaf 0 weighs -5 (p - 5), leaf 1 weighs 10, so
    // the root's sum is 5 and every equation but the weight's range check holds.
    let shape = Shape::new(2, 4).unwrap();
    let s = Fr::from(42u64);
    let id = contributor_id(&s);
    let (w0, w1) = (-Fr::from(5u64), Fr::from(10u64));
    let l0 = crate::poseidon::hash(&[id, commitment(&Fr::from(1u64), &Fr::from(2u64)), w0]);
    let l1 = crate::poseidon::hash(&[id, commitment(&Fr::from(3u64), &Fr::from(4u64)), w1]);
    let empty = empty_subtrees(4);
    let above: Vec<(Fr, Fr)> = (1..4).map(|l| (empty[l].hash, Fr::zero())).collect();
    let path0: Vec<_> = [(l1, w1)]
        .into_iter()
        .chain(above.iter().copied())
        .collect();
    let path1: Vec<_> = [(l0, w0)]
        .into_iter()
        .chain(above.iter().copied())
        .collect();
    let (root, total) = root_from_path(l0, w0, 0, &path0);
    assert_eq!(root_from_path(l1, w1, 1, &path1), (root, total));
    assert_eq!(total, Fr::from(5u64));
    let slot = |d: u64, b: u64, w: Fr, index: u64, path: Vec<(Fr, Fr)>| SlotAssignment {
        enabled: Fr::one(),
        digest: Fr::from(d),
        blinding: Fr::from(b),
        weight: w,
        index: Fr::from(index),
        bits: (0..4).map(|j| Fr::from((index >> j) & 1)).collect(),
        siblings: path,
    };
    let statement = ClaimStatement {
        epoch: 1,
        root,
        total_weight: 5,
        revenue: 100,
        contributor_id: id,
        claimed_weight: 5,
        payout: 100,
        range_start: 0,
        range_end: 16,
    };
    let a = ClaimAssignment {
        public: statement.public_inputs(),
        secret: s,
        slots: vec![slot(1, 2, w0, 0, path0.clone()), slot(3, 4, w1, 1, path1)],
        rem: Fr::zero(),
    };
    assert_refused(shape, &a, ClaimError::WeightOutOfRange { slot: 0 });

    // A sibling sum of -3 makes a 10-weight leaf add up to a total of 7: caught because the
    // claimed weight would exceed the total.
    let l = crate::poseidon::hash(&[id, commitment(&Fr::from(3u64), &Fr::from(4u64)), w1]);
    let path: Vec<_> = [(Fr::from(99u64), -Fr::from(3u64))]
        .into_iter()
        .chain(above)
        .collect();
    let (root, total) = root_from_path(l, w1, 0, &path);
    assert_eq!(total, Fr::from(7u64));
    let mut b = ClaimAssignment {
        public: ClaimStatement {
            root,
            total_weight: 7,
            claimed_weight: 10,
            ..statement
        }
        .public_inputs(),
        secret: s,
        slots: vec![slot(3, 4, w1, 0, path), SlotAssignment::padding(4)],
        rem: Fr::zero(),
    };
    set_claimed(&mut b, Fr::from(10u64));
    b.public[P::Payout.index()] = Fr::from(142u64); // 100 * 10 = 142 * 7 + 6
    b.rem = Fr::from(6u64);
    assert_refused(shape, &b, ClaimError::ClaimedWeightExceedsTotal);
}

#[test]
fn an_enabled_slot_after_a_disabled_one() {
    let (shape, mut a, _) = honest();
    a.slots[2] = a.slots[1].clone();
    a.slots[1].enabled = Fr::zero();
    assert_refused(shape, &a, ClaimError::EnabledAfterDisabled { slot: 2 });
}

#[test]
fn an_enabled_bit_of_two() {
    let (shape, mut a, _) = honest();
    a.slots[1].enabled = Fr::from(2u64);
    let claimed = a.slots[0].weight + a.slots[1].weight + a.slots[1].weight;
    set_claimed(&mut a, claimed);
    assert_refused(shape, &a, ClaimError::EnabledNotBoolean { slot: 1 });
}

#[test]
fn no_enabled_slot() {
    let (shape, mut a, _) = honest();
    for s in &mut a.slots {
        s.enabled = Fr::zero();
    }
    set_claimed(&mut a, Fr::zero());
    assert_refused(shape, &a, ClaimError::FirstSlotDisabled);
    let f = fixture(3, 4, 1);
    let mut empty = f.input.clone();
    empty.contributions.clear();
    assert_eq!(empty.assign(f.shape).unwrap_err(), ClaimError::EmptyClaim);
}

#[test]
fn path_bits_that_disagree_with_the_index() {
    let (shape, a, _) = honest();
    let mut b = a.clone();
    b.slots[0].index += Fr::from(16u64); // same low bits, an index beyond the tree
    assert_refused(shape, &b, ClaimError::IndexBitsMismatch { slot: 0 });
    let mut b = a.clone();
    b.slots[1].bits[0] = Fr::one() - b.slots[1].bits[0];
    assert_refused(shape, &b, ClaimError::IndexBitsMismatch { slot: 1 });
    let mut b = a.clone();
    b.slots[1].bits[3] = Fr::from(2u64);
    assert_refused(shape, &b, ClaimError::PathBitNotBoolean { slot: 1 });
}

#[test]
fn range_end_beyond_the_tree_or_empty_range() {
    let (shape, a, _) = honest();
    let mut b = a.clone();
    b.public[P::RangeEnd.index()] = Fr::from(17u64);
    assert_refused(shape, &b, ClaimError::RangeEndBeyondTree);
    for (start, end) in [(16u64, 16u64), (9, 3)] {
        let mut b = a.clone();
        b.public[P::RangeStart.index()] = Fr::from(start);
        b.public[P::RangeEnd.index()] = Fr::from(end);
        assert_refused(shape, &b, ClaimError::RangeEmpty);
    }
    // An unbounded range_start would make the comparisons unsound: it is range-checked first.
    let mut b = a.clone();
    b.public[P::RangeStart.index()] = -Fr::from(1u64);
    assert_refused(
        shape,
        &b,
        ClaimError::PublicInputOutOfRange {
            input: "range_start",
        },
    );
}

#[test]
fn public_values_beyond_64_bits() {
    let (shape, a, _) = honest();
    for input in [P::TotalWeight, P::Revenue, P::ClaimedWeight, P::Payout] {
        let mut b = a.clone();
        b.public[input.index()] += Fr::from(2u64).pow([64]);
        assert_refused(
            shape,
            &b,
            ClaimError::PublicInputOutOfRange {
                input: input.name(),
            },
        );
    }
}

#[test]
fn the_input_builder_refuses_what_does_not_fit() {
    let f = fixture(2, 4, 3);
    let shape1 = Shape::new(1, 4).unwrap();
    assert_eq!(
        f.input.assign(shape1).unwrap_err(),
        ClaimError::TooManyContributions {
            count: 2,
            capacity: 1
        }
    );
    let mut bad = f.input.clone();
    bad.contributions[0].path.siblings.pop();
    assert_eq!(
        bad.assign(f.shape).unwrap_err(),
        ClaimError::PathLength { slot: 0 }
    );
    let mut bad = f.input.clone();
    bad.contributions[1].weight += 1;
    assert_eq!(
        bad.assign(f.shape).unwrap_err(),
        ClaimError::LeafNotInSnapshot { slot: 1 }
    );
    let mut zero = f.input.clone();
    zero.total_weight = 0;
    assert_eq!(
        zero.assign(f.shape).unwrap_err(),
        ClaimError::TotalWeightZero
    );
    let _ = &f.tree;
}

#[test]
fn circuit_ids_round_trip() {
    let s = Shape::new(16, 20).unwrap();
    assert_eq!(s.circuit_id(), "claim-v1-n16-d20");
    assert_eq!(Shape::from_circuit_id("claim-v1-n16-d20").unwrap(), s);
    for bad in [
        "claim-v1-n016-d20",
        "claim-v1-n16-d3",
        "claim-v2-n16-d20",
        "claim-v1-n65-d20",
        "claim-v1-n16-d20x",
    ] {
        assert!(Shape::from_circuit_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn debug_shows_no_secret() {
    let f = fixture(2, 4, 9);
    let (_, a) = f.input.assign(f.shape).unwrap();
    let secret = f.input.secret.to_string();
    for text in [
        format!("{:?}", f.input),
        format!("{:?}", a),
        format!("{:?}", f.input.contributions),
    ] {
        assert!(!text.contains(&secret));
        let digest = f.input.contributions[0].digest.to_string();
        assert!(!text.contains(&digest));
    }
}
