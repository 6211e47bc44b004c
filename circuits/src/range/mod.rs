//! Range checks: is a field element, read as an integer in `[0, p)`, below `2^bits`?
//!
//! Invariant: [`fits_in_bits`] is the native twin of
//! [`constraints::enforce_bits`](constraints/fn.enforce_bits.html) (behind the `r1cs` feature):
//! both accept exactly the values below `2^bits`.

#[cfg(feature = "r1cs")]
pub mod constraints;

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

/// The widest range check this crate performs (a 20-byte address of the payee statement); far
/// below the 254-bit modulus, so a weighted sum of that many bits cannot wrap.
pub const MAX_BITS: usize = 160;

/// Is `value < 2^bits` as an integer?
pub fn fits_in_bits(value: &Fr, bits: usize) -> bool {
    value.into_bigint().num_bits() as usize <= bits
}
