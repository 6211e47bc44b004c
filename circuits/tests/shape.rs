//! Pins each circuit's size and public-input layout (as zcash's sapling-crypto pins its
//! circuits): any change to the constraints, even a reordering, changes these numbers or the
//! matrix digest and must come with new keys.

use ark_ff::{BigInteger, PrimeField};
use credence_circuits::{
    Circuit, Fr, NUM_PAYEE_PUBLIC_INPUTS, NUM_PUBLIC_INPUTS, PayeePublicInput, PublicInput, Shape,
    prover::CircuitMatrices,
};

fn digest(m: &CircuitMatrices) -> String {
    let mut h = blake3::Hasher::new();
    for matrix in &m.matrices {
        for row in matrix {
            h.update(&(row.len() as u64).to_le_bytes());
            for (coeff, col) in row {
                h.update(&coeff.into_bigint().to_bytes_le());
                h.update(&(*col as u64).to_le_bytes());
            }
        }
    }
    h.finalize().to_hex()[..16].to_string()
}

fn pinned(n: usize, depth: u32) -> (usize, usize, String) {
    let m = CircuitMatrices::synthesize(Shape::new(n, depth).unwrap()).unwrap();
    assert_eq!(m.num_instance_variables, 1 + NUM_PUBLIC_INPUTS);
    println!(
        "n={n} d={depth}: {} constraints, {} witnesses, digest {}",
        m.num_constraints,
        m.num_witness_variables,
        digest(&m)
    );
    (m.num_constraints, m.num_witness_variables, digest(&m))
}

#[test]
fn public_input_layout() {
    let names: Vec<_> = PublicInput::ALL.iter().map(|i| i.name()).collect();
    assert_eq!(
        names,
        [
            "epoch",
            "root",
            "total_weight",
            "revenue",
            "contributor_id",
            "claimed_weight",
            "payout",
            "range_start",
            "range_end"
        ]
    );
    for (k, input) in PublicInput::ALL.iter().enumerate() {
        assert_eq!(input.index(), k);
    }
    let _ = Fr::from(0u64);
}

#[test]
fn n1_d20() {
    let (constraints, witnesses, d) = pinned(1, 20);
    assert_eq!(
        (constraints, witnesses, d.as_str()),
        (7377, 7402, "54d563cd5f8cedcb")
    );
}

#[test]
fn n16_d20() {
    let (constraints, witnesses, d) = pinned(16, 20);
    assert_eq!(
        (constraints, witnesses, d.as_str()),
        (106_632, 107_212, "14245365eb308de3")
    );
}

#[test]
fn per_slot_budget_at_depth_20() {
    let (one, _, _) = pinned(1, 20);
    let (two, _, _) = pinned(2, 20);
    let per_slot = two - one;
    // 20 levels x 299, Poseidon of 2 and 3 inputs, a 64-bit weight, 20 index bits and the
    // gated comparisons: 6,617; the budget is 7,000.
    assert_eq!(per_slot, 6617);
    assert!(per_slot <= 7000, "{per_slot} constraints per slot");
}

#[test]
fn payee_public_input_layout() {
    let names: Vec<_> = PayeePublicInput::ALL.iter().map(|i| i.name()).collect();
    assert_eq!(
        names,
        ["contributor_id", "chain_id", "settlement", "payee", "nonce"]
    );
    for (k, input) in PayeePublicInput::ALL.iter().enumerate() {
        assert_eq!(input.index(), k);
    }
}

#[test]
fn payee_v1() {
    let m = CircuitMatrices::synthesize(Circuit::Payee).unwrap();
    assert_eq!(m.num_instance_variables, 1 + NUM_PAYEE_PUBLIC_INPUTS);
    // Constraints: the four range checks, bits + 1 each, (64 + 1) + (160 + 1) + (160 + 1) +
    // (64 + 1) = 452; Poseidon of one input (circomlib, width 2: 8 full rounds of 2 S-boxes, 56
    // partial rounds of 1, 3 constraints per S-box, the first S-box of the constant lane free)
    // 213; the id equality 1: 666. Witnesses: the secret, the 448 range bits and the 213
    // S-box outputs: 662.
    assert_eq!(
        (
            m.num_constraints,
            m.num_witness_variables,
            digest(&m).as_str()
        ),
        (666, 662, "6baabece7a139843")
    );
}
