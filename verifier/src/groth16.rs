//! Groth16 proofs and verifying keys over BN254, with their canonical byte encodings.
//!
//! Invariant: the byte layouts are exactly ark-groth16 0.6's `CanonicalSerialize` layouts
//! (`Proof { a, b, c }`, `VerifyingKey { alpha_g1, beta_g2, gamma_g2, delta_g2, gamma_abc_g1 }`,
//! compressed), so bytes written by the prover with ark-groth16 decode here and vice versa (a test
//! checks it). The verifier keeps its own types so that it does not link ark-groth16, whose
//! proving half depends on the r1cs crates; enable the `groth16` feature for `From` conversions.
//!
//! Decoding goes through [`crate::encoding::decode_compressed`]: full validation, exact length.

use ark_bn254::{G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};

use crate::encoding::decode_compressed;
use crate::error::Malformed;
use crate::statement::NUM_PUBLIC_INPUTS;

/// Compressed size of a BN254 G1 point.
pub const G1_BYTES: usize = 32;
/// Compressed size of a BN254 G2 point.
pub const G2_BYTES: usize = 64;
/// Compressed size of a Groth16 proof: `A` (G1), `B` (G2), `C` (G1).
pub const PROOF_BYTES: usize = 2 * G1_BYTES + G2_BYTES;
/// Compressed size of a claim verifying key: alpha (G1), beta, gamma, delta (G2), then the
/// `u64` length prefix and `NUM_PUBLIC_INPUTS + 1` G1 points of `gamma_abc_g1`.
pub const VK_BYTES: usize = vk_bytes(NUM_PUBLIC_INPUTS);

/// Compressed size of a verifying key for `num_inputs` public inputs (a claim key's is
/// [`VK_BYTES`]; a payee key's is `vk_bytes(5)`).
pub const fn vk_bytes(num_inputs: usize) -> usize {
    G1_BYTES + 3 * G2_BYTES + 8 + (num_inputs + 1) * G1_BYTES
}

/// A Groth16 proof.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Proof {
    /// `A` in G1.
    pub a: G1Affine,
    /// `B` in G2.
    pub b: G2Affine,
    /// `C` in G1.
    pub c: G1Affine,
}

impl Proof {
    /// Decodes a proof from its canonical compressed bytes (exactly [`PROOF_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Malformed> {
        decode_compressed("proof", bytes, PROOF_BYTES)
    }

    /// The canonical compressed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PROOF_BYTES);
        // Writing into a Vec cannot fail.
        self.serialize_compressed(&mut out)
            .expect("serializing into a Vec is infallible");
        out
    }
}

/// A Groth16 verifying key, as decoded. It is *not yet trusted*: see [`crate::keys::TrustedKey`],
/// which adds the refusal checks, the fingerprint and the prepared form.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct VerifyingKey {
    /// `alpha` in G1.
    pub alpha_g1: G1Affine,
    /// `beta` in G2.
    pub beta_g2: G2Affine,
    /// `gamma` in G2.
    pub gamma_g2: G2Affine,
    /// `delta` in G2.
    pub delta_g2: G2Affine,
    /// One G1 point for the constant one, then one per public input.
    pub gamma_abc_g1: Vec<G1Affine>,
}

impl VerifyingKey {
    /// Decodes a key from its canonical compressed bytes, with full point validation.
    ///
    /// A key with another number of inputs than the claim statement's is [`Malformed::Key`]; its
    /// other sanity checks happen in [`crate::keys::TrustedKey::new`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Malformed> {
        Self::from_bytes_for(bytes, NUM_PUBLIC_INPUTS, "claim")
    }

    /// [`from_bytes`](Self::from_bytes) for a key of `num_inputs` public inputs, named `kind`
    /// (`"claim"`, `"payee"`) in the refusal.
    pub(crate) fn from_bytes_for(
        bytes: &[u8],
        num_inputs: usize,
        kind: &str,
    ) -> Result<Self, Malformed> {
        // The minimum length covers the fixed part and the expected IC count; a key with more
        // IC points decodes and is then refused by its count, with a clearer message.
        let vk: VerifyingKey = decode_compressed("verifying key", bytes, vk_bytes(num_inputs))?;
        vk.check_shape_for(num_inputs, kind)?;
        Ok(vk)
    }

    /// The canonical compressed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.compressed_size());
        self.serialize_compressed(&mut out)
            .expect("serializing into a Vec is infallible");
        out
    }

    /// Refuses a key that is not a claim key or that no honest setup could have produced.
    pub(crate) fn check_shape(&self) -> Result<(), Malformed> {
        self.check_shape_for(NUM_PUBLIC_INPUTS, "claim")
    }

    /// Refuses a key that does not have `num_inputs` public inputs (a `kind` key's count) or
    /// that no honest setup could have produced.
    pub(crate) fn check_shape_for(&self, num_inputs: usize, kind: &str) -> Result<(), Malformed> {
        if self.gamma_abc_g1.len() != num_inputs + 1 {
            return Err(Malformed::Key(format!(
                "gamma_abc_g1 has {} points, a {kind} key has {} ({} public inputs + 1)",
                self.gamma_abc_g1.len(),
                num_inputs + 1,
                num_inputs
            )));
        }
        // gamma == delta lets anyone forge: the C and input terms can be traded for each other
        // (snarkjs PR #620: setups that skipped phase 2 leave both at the generator).
        if self.gamma_g2 == self.delta_g2 {
            return Err(Malformed::Key("gamma_g2 equals delta_g2".into()));
        }
        // The identity in any of these makes the pairing equation degenerate.
        let degenerate = [
            ("alpha_g1", self.alpha_g1.is_zero()),
            ("beta_g2", self.beta_g2.is_zero()),
            ("gamma_g2", self.gamma_g2.is_zero()),
            ("delta_g2", self.delta_g2.is_zero()),
        ];
        if let Some((name, _)) = degenerate.iter().find(|(_, inf)| *inf) {
            return Err(Malformed::Key(format!("{name} is the point at infinity")));
        }
        Ok(())
    }

    fn compressed_size(&self) -> usize {
        CanonicalSerialize::compressed_size(self)
    }
}

#[cfg(feature = "groth16")]
mod ark_groth16_conversions {
    use super::{Proof, VerifyingKey};
    use ark_bn254::Bn254;

    impl From<ark_groth16::Proof<Bn254>> for Proof {
        fn from(p: ark_groth16::Proof<Bn254>) -> Self {
            Proof {
                a: p.a,
                b: p.b,
                c: p.c,
            }
        }
    }

    impl From<Proof> for ark_groth16::Proof<Bn254> {
        fn from(p: Proof) -> Self {
            ark_groth16::Proof {
                a: p.a,
                b: p.b,
                c: p.c,
            }
        }
    }

    impl From<ark_groth16::VerifyingKey<Bn254>> for VerifyingKey {
        fn from(vk: ark_groth16::VerifyingKey<Bn254>) -> Self {
            VerifyingKey {
                alpha_g1: vk.alpha_g1,
                beta_g2: vk.beta_g2,
                gamma_g2: vk.gamma_g2,
                delta_g2: vk.delta_g2,
                gamma_abc_g1: vk.gamma_abc_g1,
            }
        }
    }

    impl From<VerifyingKey> for ark_groth16::VerifyingKey<Bn254> {
        fn from(vk: VerifyingKey) -> Self {
            ark_groth16::VerifyingKey {
                alpha_g1: vk.alpha_g1,
                beta_g2: vk.beta_g2,
                gamma_g2: vk.gamma_g2,
                delta_g2: vk.delta_g2,
                gamma_abc_g1: vk.gamma_abc_g1,
            }
        }
    }
}
