//! `credence-circuits`: the meaning of a Credence claim (protocol v1, `docs/protocol.md`).
//!
//! Everything a claim *means* is defined here once, and every other crate builds on it: the
//! verifier crate uses the native part, the server crate the native part and the circuit.
//!
//! Native part (default features, no R1CS dependency):
//!
//! - [`statement`]: the nine public inputs and their one canonical order;
//! - [`poseidon`]: circomlib-compatible Poseidon over BN254 `Fr` (via `light-poseidon`);
//! - [`commitment`]: contributor ids, blake3 digests, blinded commitments, leaf and
//!   registration hashes;
//! - [`merkle_sum`]: the Merkle-sum snapshot tree (with paths, or its root alone) and the
//!   depth limits;
//! - [`range`]: range checks; [`payout`]: the integer payout rule;
//! - [`claim`]: shapes and their limits, the claim input, its assignment and the named
//!   witness checks;
//! - [`payee`]: the payee statement (`payee-v1`: a contributor names where its payouts go),
//!   its five public inputs in their one order, its assignment and the named witness checks;
//! - [`circuit`]: which circuit ([`Circuit`]: a claim shape or the payee circuit) and its id.
//!
//! Behind the `r1cs` feature, every primitive's gadget sits in a `constraints` module beside
//! its native twin (the arkworks crypto-primitives layout), and tests check that both agree
//! on random inputs; [`claim`] gains the `ClaimCircuit` and [`payee`] the `PayeeCircuit`. Behind
//! `prove` (which implies `r1cs`): `prover` (Groth16 keys and proving from cached matrices, for
//! both circuits) and `bench` (building blocks of `credence bench`). `parallel` turns on
//! arkworks' threads.
//!
//! This crate does no file or network I/O.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "prove")]
pub mod bench;
pub mod circuit;
pub mod claim;
pub mod commitment;
pub mod merkle_sum;
pub mod payee;
pub mod payout;
pub mod poseidon;
#[cfg(feature = "prove")]
pub mod prover;
pub mod range;
pub mod statement;

pub use ark_bn254::{Bn254, Fr};
pub use circuit::{Circuit, UnknownCircuit};
#[cfg(feature = "r1cs")]
pub use claim::ClaimCircuit;
pub use claim::{ClaimAssignment, ClaimError, ClaimInput, Contribution, Shape};
pub use merkle_sum::{MerkleSumPath, MerkleSumTree, SumNode};
#[cfg(feature = "r1cs")]
pub use payee::PayeeCircuit;
pub use payee::{
    NUM_PAYEE_PUBLIC_INPUTS, PAYEE_CIRCUIT_ID, PayeeAssignment, PayeeError, PayeeInput,
    PayeePublicInput, PayeeStatement,
};
#[cfg(feature = "prove")]
pub use prover::{ClaimProver, PayeeProver, PreparedClaim, ProveError, Witness};
pub use statement::{ClaimStatement, NUM_PUBLIC_INPUTS, PublicInput};
