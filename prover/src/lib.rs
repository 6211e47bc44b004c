//! The Credence prover: the only crate that knows circuits, encodings and the wire.

pub mod log;
