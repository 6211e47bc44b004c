//! Test-only fixtures: a tiny circuit with exactly the claim's nine public inputs, so the
//! verifier's tests prove and verify real Groth16 proofs without the claim circuit.
//!
//! Every public input appears in a constraint (`x * x = sq` with `sq` a witness). The circuit does
//! not check the claim's meaning; the verifier's job is binding proofs to statements and keys.
#![allow(dead_code)]

use std::sync::OnceLock;

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, ProvingKey};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_relations::lc;
use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use credence_verifier::{
    CircuitId, ClaimBundle, ClaimStatement, NUM_PUBLIC_INPUTS, Proof, TrustedKey,
};

pub const CIRCUIT_ID: &str = "claim-v1-test";

#[derive(Clone)]
pub struct NineInputs {
    pub inputs: [Fr; NUM_PUBLIC_INPUTS],
}

impl ConstraintSynthesizer<Fr> for NineInputs {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        for x in self.inputs {
            let xv = cs.new_input_variable(|| Ok(x))?;
            let sq = cs.new_witness_variable(|| Ok(x * x))?;
            cs.enforce_r1cs_constraint(|| lc![xv], || lc![xv], || lc![sq])?;
        }
        Ok(())
    }
}

pub struct Fixture {
    pub pk: ProvingKey<Bn254>,
    pub ark_vk: ark_groth16::VerifyingKey<Bn254>,
    pub key: TrustedKey,
}

/// A Groth16 setup for the test circuit (seeded: tests only).
pub fn setup(seed: u64) -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let blank = NineInputs {
        inputs: [Fr::from(0u64); NUM_PUBLIC_INPUTS],
    };
    let (pk, ark_vk) = Groth16::<Bn254>::circuit_specific_setup(blank, &mut rng).unwrap();
    let mut bytes = Vec::new();
    ark_vk.serialize_compressed(&mut bytes).unwrap();
    let key = TrustedKey::from_bytes(CircuitId::new(CIRCUIT_ID).unwrap(), &bytes).unwrap();
    Fixture { pk, ark_vk, key }
}

/// One shared fixture per test binary.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| setup(1))
}

/// A statement that is consistent with the protocol's arithmetic (payout = floor(rev*w/total)).
pub fn statement(i: u64) -> ClaimStatement {
    let total_weight = 1_000_000;
    let revenue = 5_000_003;
    let claimed_weight = 1_000 + 7 * i;
    ClaimStatement {
        epoch: 7,
        root: Fr::from(0xabcdef_u64) * Fr::from(u64::MAX),
        total_weight,
        revenue,
        contributor_id: Fr::from(1_000 + i) * Fr::from(u64::MAX) * Fr::from(u64::MAX),
        claimed_weight,
        payout: ((revenue as u128 * claimed_weight as u128) / total_weight as u128) as u64,
        range_start: 2 * i,
        range_end: 2 * i + 2,
    }
}

pub fn prove_with(fx: &Fixture, s: &ClaimStatement, seed: u64) -> Proof {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let p = Groth16::<Bn254>::prove(
        &fx.pk,
        NineInputs {
            inputs: s.public_inputs(),
        },
        &mut rng,
    )
    .unwrap();
    let mut bytes = Vec::new();
    p.serialize_compressed(&mut bytes).unwrap();
    Proof::from_bytes(&bytes).unwrap()
}

pub fn prove(s: &ClaimStatement) -> Proof {
    prove_with(fixture(), s, s.range_start.wrapping_mul(31).wrapping_add(5))
}

pub fn bundle(s: &ClaimStatement) -> ClaimBundle {
    ClaimBundle::new(&fixture().key, s.clone(), prove(s))
}
