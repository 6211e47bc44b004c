//! The payee circuit (`payee-v1`). Condition by condition (each one a constraint family with a
//! negative test in `tests.rs`):
//!
//! - public inputs allocated in [`PayeePublicInput::ALL`] order (the verifier crate's one list);
//! - `chain_id`, `nonce` < 2^64 and `settlement`, `payee` < 2^160 ([`PayeePublicInput::bits`]);
//! - `contributor_id = H(secret)`.
//!
//! Every public input is in a constraint: the four range checks recompose theirs from bits, and
//! the hash equality uses `contributor_id`. A range check of 160 bits sums to below 2^160, far
//! from the 254-bit modulus, so nothing wraps.

use super::{NUM_PAYEE_PUBLIC_INPUTS, PayeeAssignment, PayeePublicInput};
use crate::{commitment::constraints::contributor_id_gadget, range::constraints::enforce_bits};
use ark_bn254::Fr;
use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget, fields::fp::FpVar};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

/// The payee circuit. Built with an assignment for proving, or without one
/// ([`PayeeCircuit::blank`]) for key generation and matrix caching.
#[derive(Clone, Debug, Default)]
pub struct PayeeCircuit {
    assignment: Option<PayeeAssignment>,
}

impl PayeeCircuit {
    /// A circuit without values, for setup.
    pub fn blank() -> Self {
        PayeeCircuit { assignment: None }
    }

    /// A circuit with values. The assignment is not checked here: the prover checks it with
    /// [`super::check_assignment`] first, and tests feed wrong ones on purpose.
    pub fn new(assignment: PayeeAssignment) -> Self {
        PayeeCircuit {
            assignment: Some(assignment),
        }
    }
}

impl ConstraintSynthesizer<Fr> for PayeeCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let a = self.assignment.as_ref();
        let value = |f: &dyn Fn(&PayeeAssignment) -> Fr| -> Result<Fr, SynthesisError> {
            a.map(f).ok_or(SynthesisError::AssignmentMissing)
        };

        // Public inputs, in the verifier crate's order.
        let mut public = Vec::with_capacity(NUM_PAYEE_PUBLIC_INPUTS);
        for input in PayeePublicInput::ALL {
            public.push(FpVar::new_input(cs.clone(), || {
                value(&|a| a.public[input.index()])
            })?);
        }
        // Range checks: a chain id, nonce or address beyond its width would be a statement no
        // contract could mean, and without them a field element could alias another value.
        for input in PayeePublicInput::ALL {
            if let Some(bits) = input.bits() {
                enforce_bits(&public[input.index()], bits)?;
            }
        }

        let secret = FpVar::new_witness(cs.clone(), || value(&|a| a.secret))?;
        contributor_id_gadget(&secret)?
            .enforce_equal(&public[PayeePublicInput::ContributorId.index()])?;
        Ok(())
    }
}
