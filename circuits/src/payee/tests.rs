//! Payee circuit tests: random statements satisfy both the native check and the circuit, with
//! the statement's public inputs as the instance; one negative test per condition shows that a
//! wrong witness is refused by both, with the condition named.

use super::*;
use crate::payee::PayeePublicInput as P;
use ark_ff::{Field, One};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ark_std::UniformRand;
use rand_chacha::{
    ChaCha20Rng,
    rand_core::{RngCore, SeedableRng},
};

fn random_input(rng: &mut ChaCha20Rng) -> PayeeInput {
    let mut address = || {
        let mut a = [0u8; ADDRESS_BYTES];
        rng.fill_bytes(&mut a);
        a
    };
    let (settlement, payee) = (address(), address());
    PayeeInput {
        secret: Fr::rand(rng),
        chain_id: rng.next_u64(),
        settlement,
        payee,
        nonce: rng.next_u64(),
    }
}

/// The circuit's instance (without the constant one) and whether the assignment satisfies it.
fn synthesize(a: &PayeeAssignment) -> (Vec<Fr>, bool) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    PayeeCircuit::new(a.clone())
        .generate_constraints(cs.clone())
        .unwrap();
    let instance = cs.borrow().unwrap().instance_assignment().unwrap().to_vec();
    assert_eq!(instance[0], Fr::one());
    (instance[1..].to_vec(), cs.is_satisfied().unwrap())
}

/// The witness is refused natively with `expected` and leaves the circuit unsatisfied.
#[track_caller]
fn assert_refused(a: &PayeeAssignment, expected: PayeeError) {
    assert_eq!(check_assignment(a), Err(expected));
    assert!(
        !synthesize(a).1,
        "the circuit accepted a witness refused with {expected}"
    );
}

fn honest() -> PayeeAssignment {
    let (_, a) = random_input(&mut ChaCha20Rng::seed_from_u64(1))
        .assign()
        .unwrap();
    assert!(synthesize(&a).1);
    a
}

fn pow2(bits: u64) -> Fr {
    Fr::from(2u64).pow([bits])
}

#[test]
fn random_statements_satisfy_circuit_and_check() {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let mut inputs: Vec<PayeeInput> = (0..6).map(|_| random_input(&mut rng)).collect();
    // The edges of every range: all-zero and all-ones values.
    let mut edge = random_input(&mut rng);
    (edge.chain_id, edge.nonce) = (u64::MAX, 0);
    (edge.settlement, edge.payee) = ([0xff; ADDRESS_BYTES], [0; ADDRESS_BYTES]);
    inputs.push(edge);
    for input in &inputs {
        let (statement, a) = input.assign().unwrap();
        assert_eq!(
            statement.contributor_id,
            commitment::contributor_id(&input.secret)
        );
        // The instance is the statement's public inputs, in the verifier crate's order.
        let (instance, satisfied) = synthesize(&a);
        assert!(satisfied);
        assert_eq!(instance, statement.public_inputs());
        assert_eq!(
            PayeeStatement::from_public_inputs(&statement.public_inputs()),
            Ok(statement.clone())
        );
    }
}

#[test]
fn addresses_are_big_endian_integers() {
    let mut address = [0u8; ADDRESS_BYTES];
    address[ADDRESS_BYTES - 1] = 1;
    address[0] = 2;
    assert_eq!(address_to_fr(&address), pow2(153) + Fr::one());
    assert_eq!(address_from_fr(&(pow2(153) + Fr::one())), Some(address));
    assert_eq!(address_from_fr(&(pow2(160) - Fr::one())), Some([0xff; 20]));
    assert_eq!(address_from_fr(&pow2(160)), None);
}

#[test]
fn wrong_secret() {
    let mut a = honest();
    a.secret += Fr::one();
    assert_refused(&a, PayeeError::ContributorIdMismatch);
    let mut a = honest();
    a.public[P::ContributorId.index()] += Fr::one();
    assert_refused(&a, PayeeError::ContributorIdMismatch);
}

#[test]
fn each_range_check() {
    for (input, bits) in [
        (P::ChainId, 64),
        (P::Settlement, 160),
        (P::Payee, 160),
        (P::Nonce, 64),
    ] {
        assert_eq!(input.bits(), Some(bits));
        let expected = PayeeError::PublicInputOutOfRange {
            input: input.name(),
        };
        // 2^bits, the smallest value out of range, and -1, the largest field element.
        for value in [pow2(bits as u64), -Fr::one()] {
            let mut a = honest();
            a.public[input.index()] = value;
            assert_refused(&a, expected);
            let mut inputs = honest().public;
            inputs[input.index()] = value;
            assert_eq!(PayeeStatement::from_public_inputs(&inputs), Err(expected));
        }
        // 2^bits - 1 is in range.
        let mut a = honest();
        a.public[input.index()] = pow2(bits as u64) - Fr::one();
        assert_eq!(check_assignment(&a), Ok(()));
        assert!(synthesize(&a).1);
    }
}

#[test]
fn debug_shows_no_secret() {
    let input = random_input(&mut ChaCha20Rng::seed_from_u64(9));
    let (_, a) = input.assign().unwrap();
    let secret = input.secret.to_string();
    for text in [
        format!("{input:?}"),
        format!("{a:?}"),
        format!("{:?}", PayeeCircuit::new(a.clone())),
    ] {
        assert!(!text.contains(&secret), "{text}");
    }
}
