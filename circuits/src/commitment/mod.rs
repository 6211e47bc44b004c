//! Contributors, contributions and leaves (protocol v1):
//!
//! - `contributor_id = H(secret)`
//! - `digest` = the first 31 bytes of `blake3(data)`, read big-endian as an `Fr` element
//!   (31 bytes are below the modulus, so nothing is reduced)
//! - `commitment = H(digest, blinding)`
//! - leaf = `(H(contributor_id, commitment, weight), weight)`
//!
//! Invariant: each function here has a twin in [`constraints`] that computes the same value.

#[cfg(feature = "r1cs")]
pub mod constraints;

use crate::merkle_sum::SumNode;
use crate::poseidon::hash;
use ark_bn254::Fr;
use ark_ff::PrimeField;

/// Bytes of the blake3 output that make a digest.
pub const DIGEST_BYTES: usize = 31;

/// `H(secret)`: the public identity of a contributor.
pub fn contributor_id(secret: &Fr) -> Fr {
    hash(&[*secret])
}

/// The field element that stands for a contribution's data: blake3, first 31 bytes, big-endian.
pub fn digest(data: &[u8]) -> Fr {
    digest_from_blake3(blake3::hash(data).as_bytes())
}

/// [`digest`] from an already computed blake3 hash (for files hashed in a streaming way).
pub fn digest_from_blake3(blake3_hash: &[u8; 32]) -> Fr {
    Fr::from_be_bytes_mod_order(&blake3_hash[..DIGEST_BYTES])
}

/// `H(digest, blinding)`: the commitment a contributor registers.
pub fn commitment(digest: &Fr, blinding: &Fr) -> Fr {
    hash(&[*digest, *blinding])
}

/// `H(contributor_id, commitment, weight)`: the hash half of a snapshot leaf.
pub fn leaf_hash(contributor_id: &Fr, commitment: &Fr, weight: u64) -> Fr {
    hash(&[*contributor_id, *commitment, Fr::from(weight)])
}

/// The snapshot leaf of a registered contribution: `(H(contributor_id, commitment, weight),
/// weight)`.
pub fn leaf(contributor_id: &Fr, commitment: &Fr, weight: u64) -> SumNode {
    SumNode {
        hash: leaf_hash(contributor_id, commitment, weight),
        sum: weight,
    }
}

/// `H(contributor_id, commitment)`: how the audit log records a registration without showing
/// either value in clear.
pub fn registration_hash(contributor_id: &Fr, commitment: &Fr) -> Fr {
    hash(&[*contributor_id, *commitment])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_the_first_31_bytes_big_endian() {
        let h = blake3::hash(b"credence");
        let mut expected = Fr::from(0u64);
        for b in &h.as_bytes()[..31] {
            expected = expected * Fr::from(256u64) + Fr::from(*b as u64);
        }
        assert_eq!(digest(b"credence"), expected);
    }

    #[test]
    fn blinding_hides_equal_data() {
        let d = digest(b"same data");
        assert_ne!(
            commitment(&d, &Fr::from(1u64)),
            commitment(&d, &Fr::from(2u64))
        );
    }
}
