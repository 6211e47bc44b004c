//! Credence's circuits as a ceremony's circuit: their iden3 `.r1cs`.
//!
//! Invariant: the file is a function of the circuit alone (the matrices are synthesized in setup
//! mode, exactly as the prover caches them), so every participant who exports it gets the same
//! bytes, and the circuit hash of a key made from it binds the key to that circuit.

use super::error::{Error, Result};
use super::r1cs::R1cs;
use credence_circuits::{Circuit, Shape, prover::CircuitMatrices};

/// The `.r1cs` of a circuit: wire 0 the constant one, then its public inputs in protocol order,
/// then the witness.
pub fn circuit_r1cs(circuit: impl Into<Circuit>) -> Result<R1cs> {
    let circuit = circuit.into();
    let m = CircuitMatrices::synthesize(circuit)
        .map_err(|e| Error::Argument(format!("{circuit}: synthesis failed: {e}")))?;
    R1cs::from_matrices(
        &m.matrices,
        m.num_instance_variables,
        m.num_witness_variables,
        m.num_constraints,
    )
}

/// The `.r1cs` of the claim circuit of `shape`: wire 0 the constant one, then the nine public
/// inputs in protocol order, then the witness.
pub fn claim_r1cs(shape: Shape) -> Result<R1cs> {
    circuit_r1cs(shape)
}

/// The `.r1cs` of the payee circuit (`payee-v1`): wire 0 the constant one, then the five public
/// inputs in protocol order (`PayeePublicInput::ALL`), then the witness.
pub fn payee_r1cs() -> Result<R1cs> {
    circuit_r1cs(Circuit::Payee)
}
