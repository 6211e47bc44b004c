//! The generated verifier contracts against the verifier crate, on the same call data: 50+
//! claims and payee proofs, valid and invalid (every public input changed, every proof word
//! changed, inputs >= r, coordinates >= q, points moved, proofs of another statement, of another
//! circuit, of the payee circuit), run through the contract's real bytecode in revm and through
//! `credence_verifier`'s strict decoding and pairing check. The two agree on every one, and
//! both accept exactly the valid ones.

mod common;

use ark_ff::{BigInteger, PrimeField};
use common::{Datanet, World, keys, prove_claim, solc};
use credence_circuits::payee::PayeeStatement;
use credence_contracts::abi::{self, Word};
use credence_contracts::evm::account;
use credence_verifier::solidity::{
    ClaimCall, input_from_word, input_word, proof_from_words, proof_words,
};
use credence_verifier::{
    ClaimStatement, Fingerprint, PayeeKey, Proof, TrustedKey, payee::verify_payee_proof, verify,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

/// `w + m` for a word `w < m` and a modulus `m < 2^255`: the same residue, not canonical.
fn plus(w: &Word, m: &[u8; 32]) -> Word {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let s = u16::from(w[i]) + u16::from(m[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    out
}

fn modulus<F: PrimeField>() -> [u8; 32] {
    F::MODULUS.to_bytes_be().try_into().unwrap()
}

fn add_one(w: &Word) -> Word {
    let mut one = [0u8; 32];
    one[31] = 1;
    plus(w, &one)
}

/// What the verifier crate says of a claim's call data (as `ClaimCall::decode` reads it).
fn crate_accepts_claim(key: &TrustedKey, inputs: &[Word], proof: &[Word; 8]) -> bool {
    let fields: Result<Vec<_>, _> = inputs.iter().map(input_from_word).collect();
    let Ok(fields) = fields else { return false };
    let decimals: [String; 9] =
        std::array::from_fn(|i| credence_verifier::encoding::fr_to_decimal(&fields[i]));
    let Ok(statement) = credence_verifier::bundle::StatementJson::from_inputs(decimals).decode()
    else {
        return false;
    };
    let Ok(proof) = proof_from_words(proof) else {
        return false;
    };
    verify(key, &statement, &proof).is_ok()
}

fn crate_accepts_payee(key: &PayeeKey, inputs: &[Word], proof: &[Word; 8]) -> bool {
    let fields: Result<Vec<_>, _> = inputs.iter().map(input_from_word).collect();
    let Ok(fields) = fields else { return false };
    let Ok(statement) = PayeeStatement::from_public_inputs(&fields.try_into().unwrap()) else {
        return false;
    };
    let Ok(proof) = proof_from_words(proof) else {
        return false;
    };
    verify_payee_proof(key, &statement, &proof).is_ok()
}

struct Case {
    name: String,
    /// Which verifier contract and key: 0 the claim shape, 1 the other shape, 2 payee.
    target: usize,
    inputs: Vec<Word>,
    proof: [Word; 8],
    valid: bool,
}

fn words_of(s: &ClaimStatement) -> Vec<Word> {
    s.public_inputs().iter().map(input_word).collect()
}

#[test]
fn verifier_contracts_and_the_verifier_crate_agree_on_every_claim() {
    let Some(solc) = solc() else { return };
    let keys = keys(&solc);
    let mut world = common::deploy(keys);
    let net = Datanet::new(3);
    let (n, other_n) = (common::SHAPE.0, common::OTHER_SHAPE.0);

    let mut cases = Vec::new();
    // Valid claims of every contributor, over several ranges, under both claim keys.
    let mut valid = Vec::new();
    for (k, (who, range)) in [
        (0, (0, 16)),
        (0, (5, 7)),
        (1, (0, 10)),
        (2, (11, 12)),
        (1, (9, 16)),
    ]
    .into_iter()
    .enumerate()
    {
        let input = net.claim_input(who, 1, 1_000_003 + k as u64, range, n);
        valid.push(prove_claim(&keys.claim, &input, k as u64));
    }
    for (k, (s, p)) in valid.iter().enumerate() {
        cases.push(Case {
            name: format!("valid claim {k}"),
            target: 0,
            inputs: words_of(s),
            proof: proof_words(p),
            valid: true,
        });
    }
    let other_input = net.claim_input(0, 2, 999, (4, 5), other_n);
    let (other_s, other_p) = prove_claim(&keys.other, &other_input, 50);
    cases.push(Case {
        name: "valid claim of the other shape".into(),
        target: 1,
        inputs: words_of(&other_s),
        proof: proof_words(&other_p),
        valid: true,
    });

    let (s0, p0) = &valid[0];
    let (inputs0, proof0) = (words_of(s0), proof_words(p0));
    let r = modulus::<ark_bn254::Fr>();
    let q = modulus::<ark_bn254::Fq>();
    let invalid = |name: String, target: usize, inputs: Vec<Word>, proof: [Word; 8]| Case {
        name,
        target,
        inputs,
        proof,
        valid: false,
    };
    for i in 0..9 {
        let mut changed = inputs0.clone();
        changed[i] = add_one(&changed[i]);
        cases.push(invalid(format!("input {i} + 1"), 0, changed, proof0));
        let mut reduced = inputs0.clone();
        reduced[i] = plus(&reduced[i], &r);
        cases.push(invalid(format!("input {i} + r"), 0, reduced, proof0));
    }
    for j in 0..8 {
        let mut changed = proof0;
        changed[j] = add_one(&changed[j]);
        cases.push(invalid(
            format!("proof word {j} + 1"),
            0,
            inputs0.clone(),
            changed,
        ));
    }
    let mut a_plus_q = proof0;
    a_plus_q[1] = plus(&a_plus_q[1], &q);
    cases.push(invalid("A.y + q".into(), 0, inputs0.clone(), a_plus_q));
    let mut c_plus_q = proof0;
    c_plus_q[7] = plus(&c_plus_q[7], &q);
    cases.push(invalid("C.y + q".into(), 0, inputs0.clone(), c_plus_q));
    let neg_a = Proof {
        a: -p0.a,
        ..p0.clone()
    };
    cases.push(invalid(
        "-A".into(),
        0,
        inputs0.clone(),
        proof_words(&neg_a),
    ));
    let swapped = Proof {
        a: p0.c,
        c: p0.a,
        ..p0.clone()
    };
    cases.push(invalid(
        "A and C swapped".into(),
        0,
        inputs0.clone(),
        proof_words(&swapped),
    ));
    let mut b_ark_order = proof0;
    b_ark_order.swap(2, 3);
    b_ark_order.swap(4, 5);
    cases.push(invalid(
        "B with the real part first".into(),
        0,
        inputs0.clone(),
        b_ark_order,
    ));
    cases.push(invalid(
        "all-zero proof".into(),
        0,
        inputs0.clone(),
        [[0u8; 32]; 8],
    ));
    cases.push(invalid(
        "the proof of another statement".into(),
        0,
        inputs0.clone(),
        proof_words(&valid[1].1),
    ));
    cases.push(invalid(
        "a claim proof on the other shape's verifier".into(),
        1,
        inputs0.clone(),
        proof0,
    ));
    cases.push(invalid(
        "the other shape's proof on this verifier".into(),
        0,
        words_of(&other_s),
        proof_words(&other_p),
    ));

    // Payee proofs on the payee verifier.
    let payee_input = world.payee_input(net.contributors[0].secret, account("hospital a"), 0);
    let (ps, pp) = keys
        .payee
        .prove(&payee_input, &mut ChaCha20Rng::seed_from_u64(9))
        .unwrap();
    let (ps_words, pp_words): (Vec<Word>, _) = (
        ps.public_inputs().iter().map(input_word).collect(),
        proof_words(&Proof::from(pp)),
    );
    cases.push(Case {
        name: "valid payee proof".into(),
        target: 2,
        inputs: ps_words.clone(),
        proof: pp_words,
        valid: true,
    });
    for i in 0..5 {
        let mut changed = ps_words.clone();
        changed[i] = add_one(&changed[i]);
        cases.push(invalid(
            format!("payee input {i} + 1"),
            2,
            changed,
            pp_words,
        ));
        let mut reduced = ps_words.clone();
        reduced[i] = plus(&reduced[i], &r);
        cases.push(invalid(
            format!("payee input {i} + r"),
            2,
            reduced,
            pp_words,
        ));
    }
    let mut padded = ps_words.clone();
    padded.resize(9, [0u8; 32]);
    cases.push(invalid(
        "a payee proof on a claim verifier".into(),
        0,
        padded,
        pp_words,
    ));
    assert_eq!(cases.len(), 53, "the README counts them");

    let verifiers = [
        world.claim_verifiers[0],
        world.claim_verifiers[1],
        world.payee_verifier,
    ];
    let mut gas = Vec::new();
    for case in &cases {
        let (contract, out) = world.verify_words(verifiers[case.target], &case.inputs, &case.proof);
        let contract = contract.unwrap_or_else(|| {
            panic!(
                "{}: verifyProof reverted ({:?}); it must return false",
                case.name, out.halt
            )
        });
        let ours = match case.target {
            0 => crate_accepts_claim(&keys.claim_key, &case.inputs, &case.proof),
            1 => crate_accepts_claim(&keys.other_key, &case.inputs, &case.proof),
            _ => crate_accepts_payee(&keys.payee_key, &case.inputs, &case.proof),
        };
        assert_eq!(
            contract, ours,
            "{}: contract {contract}, verifier crate {ours}",
            case.name
        );
        assert_eq!(
            contract, case.valid,
            "{}: expected {}",
            case.name, case.valid
        );
        if case.valid {
            gas.push((case.name.clone(), case.inputs.len(), out.gas));
        }
    }
    for (name, inputs, g) in &gas {
        eprintln!(
            "{name}: verifyProof {} gas ({} with the transaction's)",
            g.execution(),
            g.tx
        );
        // EIP-197/1108: 181,000 for the pairings and 6,150 per input are the floor.
        let floor = 181_000 + 6_150 * *inputs as u64;
        assert!(
            g.execution() >= floor,
            "{name}: below the precompiles' cost?"
        );
        let ceiling = if *inputs == 9 { 240_000 } else { floor + 3_000 };
        assert!(
            g.execution() <= ceiling,
            "{name}: {} gas, over {ceiling}",
            g.execution()
        );
    }
}

#[test]
fn a_deployed_verifier_reports_its_key_fingerprint_and_circuit() {
    let Some(solc) = solc() else { return };
    let keys = keys(&solc);
    let mut world = common::deploy(keys);
    let (claim_verifier, payee_verifier) = (world.claim_verifiers[0], world.payee_verifier);
    let view = |world: &mut World, to, sig: &str| {
        let out = world.evm.view(to, abi::call(sig, &[]));
        assert!(out.success, "{sig}");
        abi::words(&out.output)[0]
    };
    let fp = view(&mut world, claim_verifier, "VK_FINGERPRINT()");
    assert_eq!(
        Fingerprint::of_bytes(keys.claim_key.to_bytes()).as_bytes(),
        &fp
    );
    assert_eq!(keys.claim_key.fingerprint().as_bytes(), &fp);
    let id = view(&mut world, claim_verifier, "CIRCUIT_ID()");
    assert_eq!(&id[..16], b"claim-v1-n2-d4\0\0");
    let n = view(&mut world, payee_verifier, "NUM_PUBLIC_INPUTS()");
    assert_eq!(abi::word_to_u128(&n), Some(5));
    let fp = view(&mut world, payee_verifier, "VK_FINGERPRINT()");
    assert_eq!(keys.payee_key.fingerprint().as_bytes(), &fp);
}

#[test]
fn claim_call_data_round_trips_through_the_verifier_crate() {
    let Some(solc) = solc() else { return };
    let keys = keys(&solc);
    let net = Datanet::new(4);
    let (s, p) = prove_claim(&keys.claim, &net.claim_input(1, 3, 77, (0, 16), 2), 1);
    let call = ClaimCall {
        circuit_id: keys.claim_key.circuit_id().clone(),
        statement: s,
        proof: p,
    };
    let data = call.encode().unwrap();
    assert_eq!(data.len(), 580);
    assert_eq!(ClaimCall::decode(&data).unwrap(), call);
    let mut short = data.clone();
    short.pop();
    assert!(ClaimCall::decode(&short).is_err());
    let mut wrong_selector = data.clone();
    wrong_selector[0] ^= 1;
    assert!(ClaimCall::decode(&wrong_selector).is_err());
    let mut padded_id = data;
    padded_id[4 + 31] = b'x';
    assert!(
        ClaimCall::decode(&padded_id).is_err(),
        "an id with a byte after its end"
    );
}
