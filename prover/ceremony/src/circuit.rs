//! The claim circuit of a shape as a ceremony's circuit: its iden3 `.r1cs`.
//!
//! Invariant: the file is a function of the shape alone (the matrices are synthesized in setup
//! mode, exactly as the prover caches them), so every participant who exports it gets the same
//! bytes, and the circuit hash of a key made from it binds the key to that shape.

use super::error::{Error, Result};
use super::r1cs::R1cs;
use credence_circuits::{Shape, prover::CircuitMatrices};

/// The `.r1cs` of the claim circuit of `shape`: wire 0 the constant one, then the nine public
/// inputs in protocol order, then the witness.
pub fn claim_r1cs(shape: Shape) -> Result<R1cs> {
    let m = CircuitMatrices::synthesize(shape)
        .map_err(|e| Error::Argument(format!("{}: synthesis failed: {e}", shape.circuit_id())))?;
    R1cs::from_matrices(
        &m.matrices,
        m.num_instance_variables,
        m.num_witness_variables,
        m.num_constraints,
    )
}
