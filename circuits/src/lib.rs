//! `credence-circuits`: the meaning of a Credence claim (protocol v1, `docs/protocol.md`).
//!
//! Every primitive comes as a native twin (`mod.rs`) beside its R1CS gadget
//! (`constraints.rs`), and tests check that both agree on random inputs:
//!
//! - [`poseidon`]: circomlib-compatible Poseidon over BN254 `Fr` (native via `light-poseidon`).
//! - [`commitment`]: contributor ids, blake3 digests, blinded commitments and leaf hashes.
//! - [`merkle_sum`]: the Merkle-sum snapshot tree, its paths and the path gadget.
//! - [`range`]: bit-decomposition range checks.
//! - [`payout`]: the integer payout rule.
//! - [`claim`]: the claim witness, its named checks, and the [`claim::ClaimCircuit`].
//! - [`prover`]: Groth16 keys and proving from cached matrices.
//!
//! The public-input order is not defined here: it lives in
//! [`credence_verifier::statement`], which the circuit uses to allocate its instance.
//!
//! This crate does no file or network I/O.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod claim;
pub mod commitment;
pub mod merkle_sum;
pub mod payout;
pub mod poseidon;
pub mod prover;
pub mod range;

pub use ark_bn254::{Bn254, Fr};
pub use claim::{ClaimAssignment, ClaimCircuit, ClaimError, ClaimInput, Contribution, Shape};
pub use credence_verifier::statement::{ClaimStatement, NUM_PUBLIC_INPUTS, PublicInput};
pub use merkle_sum::{MerkleSumPath, MerkleSumTree, SumNode};
pub use prover::{ClaimProver, ProveError};
