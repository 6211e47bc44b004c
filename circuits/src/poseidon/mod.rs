//! Poseidon with circomlib's parameters (x^5, width `t = k + 1`, 8 full rounds, circomlib's
//! partial-round counts, round constants and MDS matrices), over the BN254 scalar field.
//!
//! Invariant: [`hash`] equals circomlibjs' `poseidon(inputs)` and equals the output of
//! [`constraints::poseidon_gadget`] on the same inputs. The native side is `light-poseidon`
//! (audited, checked against circomlibjs); the gadget reads the very same parameters from it.

#[cfg(feature = "r1cs")]
pub mod constraints;

use ark_bn254::Fr;
use light_poseidon::{Poseidon, PoseidonHasher, PoseidonParameters};
use std::cell::RefCell;

/// The largest number of inputs the protocol hashes at once (a Merkle-sum parent).
pub const MAX_INPUTS: usize = 4;

/// circomlib's parameters for `arity` inputs (width `arity + 1`).
///
/// # Panics
/// If `arity` is 0 or above 12, which no caller in this crate does.
pub fn parameters(arity: usize) -> PoseidonParameters<Fr> {
    assert!(
        (1..=12).contains(&arity),
        "Poseidon arity {arity} unsupported"
    );
    light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<Fr>((arity + 1) as u8)
        .expect("light-poseidon has circom parameters for widths 2..=13")
}

thread_local! {
    // Building parameters parses thousands of constants; keep one hasher per arity and thread.
    static HASHERS: RefCell<Vec<Option<Poseidon<Fr>>>> = RefCell::new((0..=MAX_INPUTS).map(|_| None).collect());
}

/// `H(inputs)`: circomlib Poseidon of 1 to [`MAX_INPUTS`] field elements.
///
/// # Panics
/// If `inputs` is empty or longer than [`MAX_INPUTS`]: the protocol never hashes such a list,
/// so this is a programming error, not bad input.
pub fn hash(inputs: &[Fr]) -> Fr {
    let arity = inputs.len();
    assert!(
        (1..=MAX_INPUTS).contains(&arity),
        "Poseidon of {arity} inputs is not in the protocol"
    );
    HASHERS.with(|cell| {
        let mut hashers = cell.borrow_mut();
        let hasher = hashers[arity].get_or_insert_with(|| Poseidon::new(parameters(arity)));
        hasher
            .hash(inputs)
            .expect("input count matches the hasher's arity")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// circomlib's published vector for `poseidon([1, 2])` (circomlib `test/poseidoncircuit.js`).
    #[test]
    fn circomlib_published_vector() {
        let h = hash(&[Fr::from(1u64), Fr::from(2u64)]);
        let expected = Fr::from_str(
            "7853200120776062878684798364095072458815029376092732009249414926327459813530",
        )
        .unwrap();
        assert_eq!(h, expected);
    }

    #[test]
    fn arity_matters() {
        let one = Fr::from(1u64);
        assert_ne!(hash(&[one]), hash(&[one, Fr::from(0u64)]));
    }
}
