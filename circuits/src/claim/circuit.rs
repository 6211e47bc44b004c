//! The claim circuit for a [`Shape`] `(N, D)`. Condition by condition (each one a constraint
//! family with a negative test in `tests.rs`):
//!
//! - public inputs allocated in [`PublicInput::ALL`] order (the verifier crate's one list);
//!   `total_weight`, `revenue`, `claimed_weight`, `payout` < 2^64; `range_start`, `range_end`
//!   < 2^(D+1), checked before any comparison uses them;
//! - `contributor_id = H(secret)`; `range_end <= 2^D`; `range_start < range_end`;
//! - per slot: `e` boolean; `e_0 = 1`; `e_i * e_(i-1) = e_i` (disabled slots are a suffix);
//!   D boolean path bits whose weighted sum is the leaf index; `weight < 2^64`;
//!   leaf `= (H(contributor_id, H(digest, blinding), weight), weight)`; the path from it reaches
//!   `(root, total_weight)` when `e = 1`; `index_0 >= range_start`;
//!   `e * (range_end - 1 - index) < 2^(D+1)`; `e_i * (index_i - index_(i-1) - 1) < 2^D`;
//! - `claimed_weight = sum(e_i * weight_i)`; `total_weight - claimed_weight < 2^64`;
//!   `rem < 2^64`; `total_weight - rem - 1 < 2^64`;
//!   `payout * total_weight + rem = revenue * claimed_weight`.
//!
//! Every product involved is below 2^130, far from the 254-bit modulus, so nothing wraps.

use super::{ClaimAssignment, Shape};
use crate::statement::{NUM_PUBLIC_INPUTS, PublicInput};
use crate::{
    commitment::constraints::{commitment_gadget, contributor_id_gadget, leaf_hash_gadget},
    merkle_sum::constraints::root_from_path_gadget,
    range::constraints::enforce_bits,
};
use ark_bn254::Fr;
use ark_ff::{Field, One};
use ark_r1cs_std::{
    alloc::AllocVar,
    eq::EqGadget,
    fields::{FieldVar, fp::FpVar},
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

/// The claim circuit. Built with an assignment for proving, or without one
/// ([`ClaimCircuit::blank`]) for key generation and matrix caching.
#[derive(Clone, Debug)]
pub struct ClaimCircuit {
    shape: Shape,
    assignment: Option<ClaimAssignment>,
}

impl ClaimCircuit {
    /// A circuit without values, for setup.
    pub fn blank(shape: Shape) -> Self {
        ClaimCircuit {
            shape,
            assignment: None,
        }
    }

    /// A circuit with values. The assignment is not checked here: the prover checks it with
    /// [`super::check_assignment`] first, and tests feed wrong ones on purpose.
    pub fn new(shape: Shape, assignment: ClaimAssignment) -> Self {
        ClaimCircuit {
            shape,
            assignment: Some(assignment),
        }
    }

    /// The circuit's shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }
}

fn pow2(bits: u32) -> Fr {
    Fr::from(2u64).pow([bits as u64])
}

impl ConstraintSynthesizer<Fr> for ClaimCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let Shape { n, depth } = self.shape;
        let d = depth as usize;
        let a = self.assignment.as_ref();
        if a.is_some_and(|a| a.slots.len() != n) {
            return Err(SynthesisError::Unsatisfiable);
        }
        let value = |f: &dyn Fn(&ClaimAssignment) -> Fr| -> Result<Fr, SynthesisError> {
            a.map(f).ok_or(SynthesisError::AssignmentMissing)
        };
        let witness =
            |f: &dyn Fn(&ClaimAssignment) -> Fr| FpVar::new_witness(cs.clone(), || value(f));

        // Public inputs, in the verifier crate's order.
        let mut public = Vec::with_capacity(NUM_PUBLIC_INPUTS);
        for input in PublicInput::ALL {
            public.push(FpVar::new_input(cs.clone(), || {
                value(&|a| a.public[input.index()])
            })?);
        }
        let p = |i: PublicInput| &public[i.index()];
        let (root, total) = (p(PublicInput::Root), p(PublicInput::TotalWeight));
        let (revenue, claimed_weight) = (p(PublicInput::Revenue), p(PublicInput::ClaimedWeight));
        let payout = p(PublicInput::Payout);
        let (start, end) = (p(PublicInput::RangeStart), p(PublicInput::RangeEnd));
        for (input, bits) in [
            (PublicInput::TotalWeight, 64),
            (PublicInput::Revenue, 64),
            (PublicInput::ClaimedWeight, 64),
            (PublicInput::Payout, 64),
            (PublicInput::RangeStart, d + 1),
            (PublicInput::RangeEnd, d + 1),
        ] {
            enforce_bits(p(input), bits)?;
        }

        let secret = witness(&|a| a.secret)?;
        let contributor_id = p(PublicInput::ContributorId);
        contributor_id_gadget(&secret)?.enforce_equal(contributor_id)?;

        let one = FpVar::Constant(Fr::one());
        enforce_bits(&(FpVar::Constant(pow2(depth)) - end), d + 1)?;
        enforce_bits(&(end - start - &one), d + 1)?;

        let mut claimed = FpVar::Constant(Fr::from(0u64));
        let mut previous: Option<(FpVar<Fr>, FpVar<Fr>)> = None;
        for i in 0..n {
            let slot = |f: &dyn Fn(&super::SlotAssignment) -> Fr| witness(&|a| f(&a.slots[i]));
            let e = slot(&|s| s.enabled)?;
            e.mul_equals(&(&e - &one), &FpVar::zero())?;
            match &previous {
                None => e.enforce_equal(&one)?,
                Some((prev_e, _)) => e.mul_equals(prev_e, &e)?,
            }

            let index = slot(&|s| s.index)?;
            let mut bits = Vec::with_capacity(d);
            let mut recomposed = FpVar::Constant(Fr::from(0u64));
            for j in 0..d {
                let bit = witness(&|a| a.slots[i].bits.get(j).copied().unwrap_or_default())?;
                bit.mul_equals(&(&bit - &one), &FpVar::zero())?;
                recomposed += &bit * pow2(j as u32);
                bits.push(bit);
            }
            recomposed.enforce_equal(&index)?;

            let weight = slot(&|s| s.weight)?;
            enforce_bits(&weight, 64)?;
            let digest = slot(&|s| s.digest)?;
            let blinding = slot(&|s| s.blinding)?;
            let cm = commitment_gadget(&digest, &blinding)?;
            let leaf = leaf_hash_gadget(contributor_id, &cm, &weight)?;
            let mut siblings = Vec::with_capacity(d);
            for j in 0..d {
                let pair = |k: usize| {
                    witness(&|a| {
                        a.slots[i]
                            .siblings
                            .get(j)
                            .map(|p| if k == 0 { p.0 } else { p.1 })
                            .unwrap_or_default()
                    })
                };
                siblings.push((pair(0)?, pair(1)?));
            }
            let (h, sum) = root_from_path_gadget(&leaf, &weight, &bits, &siblings)?;
            e.mul_equals(&(h - root), &FpVar::zero())?;
            e.mul_equals(&(sum - total), &FpVar::zero())?;

            claimed += &e * &weight;
            if previous.is_none() {
                enforce_bits(&(&index - start), d + 1)?;
            }
            enforce_bits(&(&e * (end - &one - &index)), d + 1)?;
            if let Some((_, prev_index)) = &previous {
                enforce_bits(&(&e * (&index - prev_index - &one)), d)?;
            }
            previous = Some((e, index));
        }

        claimed.enforce_equal(claimed_weight)?;
        enforce_bits(&(total - claimed_weight), 64)?;
        let rem = witness(&|a| a.rem)?;
        enforce_bits(&rem, 64)?;
        enforce_bits(&(total - &rem - &one), 64)?;
        let paid = payout * total;
        revenue.mul_equals(claimed_weight, &(paid + &rem))?;
        Ok(())
    }
}
