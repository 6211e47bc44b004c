//! The witness check: every condition of the claim circuit, evaluated natively.
//!
//! ark-groth16 only debug-asserts satisfiability, so a release build would happily prove an
//! unsatisfied witness (and produce a proof that fails to verify). The prover calls
//! [`check_assignment`] first; it mirrors `circuit.rs` condition for condition and reports the
//! first failure by name, never by value.

use super::{ClaimAssignment, ClaimError, Shape};
use crate::statement::PublicInput;
use crate::{commitment, merkle_sum::root_from_path, range::fits_in_bits};
use ark_bn254::Fr;
use ark_ff::{Field, One, Zero};

fn pow2(bits: u32) -> Fr {
    Fr::from(2u64).pow([bits as u64])
}

/// Checks `assignment` against every condition of the claim circuit of `shape`.
pub fn check_assignment(shape: Shape, a: &ClaimAssignment) -> Result<(), ClaimError> {
    let d = shape.depth as usize;
    if a.slots.len() != shape.n {
        return Err(ClaimError::Shape);
    }
    let public = |i: PublicInput| a.public[i.index()];
    let (root, total) = (public(PublicInput::Root), public(PublicInput::TotalWeight));
    let (revenue, claimed_pub) = (
        public(PublicInput::Revenue),
        public(PublicInput::ClaimedWeight),
    );
    let payout = public(PublicInput::Payout);
    let (start, end) = (
        public(PublicInput::RangeStart),
        public(PublicInput::RangeEnd),
    );
    let one = Fr::one();

    for (input, bits) in [
        (PublicInput::TotalWeight, 64),
        (PublicInput::Revenue, 64),
        (PublicInput::ClaimedWeight, 64),
        (PublicInput::Payout, 64),
        (PublicInput::RangeStart, d + 1),
        (PublicInput::RangeEnd, d + 1),
    ] {
        if !fits_in_bits(&public(input), bits) {
            return Err(ClaimError::PublicInputOutOfRange {
                input: input.name(),
            });
        }
    }
    if commitment::contributor_id(&a.secret) != public(PublicInput::ContributorId) {
        return Err(ClaimError::ContributorIdMismatch);
    }
    if !fits_in_bits(&(pow2(shape.depth) - end), d + 1) {
        return Err(ClaimError::RangeEndBeyondTree);
    }
    if !fits_in_bits(&(end - start - one), d + 1) {
        return Err(ClaimError::RangeEmpty);
    }

    let mut claimed = Fr::zero();
    let mut previous: Option<(Fr, Fr)> = None; // (enabled, index) of the slot before
    for (slot, s) in a.slots.iter().enumerate() {
        let e = s.enabled;
        if e * (e - one) != Fr::zero() {
            return Err(ClaimError::EnabledNotBoolean { slot });
        }
        match previous {
            None if e != one => return Err(ClaimError::FirstSlotDisabled),
            Some((prev_e, _)) if e * prev_e != e => {
                return Err(ClaimError::EnabledAfterDisabled { slot });
            }
            _ => {}
        }
        if s.bits.len() != d || s.siblings.len() != d {
            return Err(ClaimError::PathLength { slot });
        }
        let mut recomposed = Fr::zero();
        let mut index: u64 = 0;
        for (j, bit) in s.bits.iter().enumerate() {
            if *bit * (*bit - one) != Fr::zero() {
                return Err(ClaimError::PathBitNotBoolean { slot });
            }
            recomposed += *bit * pow2(j as u32);
            index |= u64::from(bit.is_one()) << j;
        }
        if recomposed != s.index {
            return Err(ClaimError::IndexBitsMismatch { slot });
        }
        if !fits_in_bits(&s.weight, 64) {
            return Err(ClaimError::WeightOutOfRange { slot });
        }
        // A disabled slot's path is multiplied by 0 in the circuit: skip the hashing.
        if e.is_one() {
            let cm = commitment::commitment(&s.digest, &s.blinding);
            let leaf = crate::poseidon::hash(&[public(PublicInput::ContributorId), cm, s.weight]);
            let (h, sum) = root_from_path(leaf, s.weight, index, &s.siblings);
            if h != root {
                return Err(ClaimError::LeafNotInSnapshot { slot });
            }
            if sum != total {
                return Err(ClaimError::SumMismatch { slot });
            }
        }
        claimed += e * s.weight;
        if previous.is_none() && !fits_in_bits(&(s.index - start), d + 1) {
            return Err(ClaimError::IndexBelowRange { slot });
        }
        if !fits_in_bits(&(e * (end - one - s.index)), d + 1) {
            return Err(ClaimError::IndexBeyondRange { slot });
        }
        if let Some((_, prev_index)) = previous
            && !fits_in_bits(&(e * (s.index - prev_index - one)), d)
        {
            return Err(ClaimError::IndexNotIncreasing { slot });
        }
        previous = Some((e, s.index));
    }
    if claimed != claimed_pub {
        return Err(ClaimError::ClaimedWeightMismatch);
    }
    if !fits_in_bits(&(total - claimed_pub), 64) {
        return Err(ClaimError::ClaimedWeightExceedsTotal);
    }
    if !fits_in_bits(&a.rem, 64) || !fits_in_bits(&(total - a.rem - one), 64) {
        return Err(ClaimError::RemainderOutOfRange);
    }
    if payout * total + a.rem != revenue * claimed_pub {
        return Err(ClaimError::PayoutMismatch);
    }
    Ok(())
}
