//! `credence-verifier`: the small, dependable piece a settlement verifier embeds.
//!
//! It owns the *encodings* of the Credence protocol (see `docs/protocol.md`): the claim
//! statement and the one function that orders its public inputs, which the circuit in
//! `credence-circuits` also uses, so the order lives in exactly one place.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod statement;

pub use statement::{ClaimStatement, NUM_PUBLIC_INPUTS, PublicInput};
