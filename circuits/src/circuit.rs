//! Which circuit: the claim circuit of a [`Shape`], or the payee circuit. Its id names key files,
//! manifest entries, `.r1cs` files, bundles and `payee.json`.
//!
//! Invariant: `Circuit::from_circuit_id(&c.circuit_id()) == Ok(c)` for every circuit, and an id
//! has one spelling only (a claim id's rules are [`Shape::from_circuit_id`]'s), so one circuit
//! never has two key entries.

use crate::claim::Shape;
use crate::payee::{NUM_PAYEE_PUBLIC_INPUTS, PAYEE_CIRCUIT_ID};
use crate::statement::NUM_PUBLIC_INPUTS;

/// One of Credence's circuits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Circuit {
    /// The claim circuit of a shape (`claim-v1-nN-dD`).
    Claim(Shape),
    /// The payee circuit (`payee-v1`).
    Payee,
}

/// An id that names none of the circuits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown circuit `{0}` (expected claim-v1-nN-dD, N in 1..=64 and D in 4..=32, or {PAYEE_CIRCUIT_ID})"
)]
pub struct UnknownCircuit(pub String);

impl Circuit {
    /// The circuit id, e.g. `claim-v1-n16-d20` or `payee-v1`.
    pub fn circuit_id(&self) -> String {
        match self {
            Circuit::Claim(shape) => shape.circuit_id(),
            Circuit::Payee => PAYEE_CIRCUIT_ID.to_owned(),
        }
    }

    /// Parses a circuit id written by [`Circuit::circuit_id`].
    pub fn from_circuit_id(id: &str) -> Result<Self, UnknownCircuit> {
        if id == PAYEE_CIRCUIT_ID {
            return Ok(Circuit::Payee);
        }
        Shape::from_circuit_id(id)
            .map(Circuit::Claim)
            .map_err(|_| UnknownCircuit(id.to_owned()))
    }

    /// How many public inputs its proofs have.
    pub fn num_public_inputs(&self) -> usize {
        match self {
            Circuit::Claim(_) => NUM_PUBLIC_INPUTS,
            Circuit::Payee => NUM_PAYEE_PUBLIC_INPUTS,
        }
    }

    /// The claim shape, for a claim circuit.
    pub fn shape(&self) -> Option<Shape> {
        match self {
            Circuit::Claim(shape) => Some(*shape),
            Circuit::Payee => None,
        }
    }
}

impl From<Shape> for Circuit {
    fn from(shape: Shape) -> Self {
        Circuit::Claim(shape)
    }
}

impl std::fmt::Display for Circuit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.circuit_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_with_one_spelling() {
        for c in [
            Circuit::Payee,
            Circuit::Claim(Shape::new(16, 20).unwrap()),
            Circuit::Claim(Shape::new(1, 4).unwrap()),
        ] {
            assert_eq!(Circuit::from_circuit_id(&c.circuit_id()), Ok(c));
        }
        assert_eq!(Circuit::Payee.num_public_inputs(), 5);
        for bad in ["payee-v2", "Payee-v1", "payee-v1 ", "claim-v1-n016-d20", ""] {
            assert!(Circuit::from_circuit_id(bad).is_err(), "{bad:?}");
        }
    }
}
