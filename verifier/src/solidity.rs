//! Groth16 verifier contracts in Solidity, generated from a verifying key, and the EVM word
//! encoding of proofs and public inputs.
//!
//! Invariant: one generator serves every circuit and every key source (single-party setup or
//! ceremony): the contract is a function of the circuit id and the key alone, so two runs on the
//! same `.vk` give the same bytes, and its `VK_FINGERPRINT` is the same blake3 fingerprint
//! `credence-verify` prints for that key, so a deployer checks a deployed contract against the
//! pinned `.vk` with one call.
//!
//! The contract's `verifyProof` has snarkjs' signature (`uint256[2] a, uint256[2][2] b,
//! uint256[2] c, uint256[n] inputs`, with `b` in EIP-197's order: imaginary part first), so
//! calldata from `snarkjs zkey export soliditycalldata` and from [`proof_words`] are the same.
//! It returns `false`, never reverts, for any proof that does not verify, any public input
//! `>= r` (a verifier that reduced inputs would accept `x` and `x + r` as the same statement),
//! and any coordinate that is not a canonical point of the right group (the precompiles refuse
//! those). Only calldata too short for the signature reverts, in the ABI decoder.
//!
//! Gas: the EIP-197/1108 precompiles cost 181,000 for the four pairings and 6,150 per public
//! input (one `ecMul`, one `ecAdd`); the body is straight-line assembly that writes the pairing
//! input in place (the running sum of the input terms sits where the pairing reads it), so the
//! rest is about a hundred gas per input. `credence bench --gas` measures it.

use std::fmt::Write as _;

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField, Zero};

use crate::encoding::field_to_decimal;
use crate::error::Malformed;
use crate::groth16::{Proof, VerifyingKey};
use crate::keys::{CircuitId, Fingerprint};
use crate::statement::{ClaimStatement, NUM_PUBLIC_INPUTS};
use credence_circuits::payee::{NUM_PAYEE_PUBLIC_INPUTS, PayeeStatement};

/// One EVM word, big-endian.
pub type Word = [u8; 32];

/// A generated verifier contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierContract {
    /// The contract's name, e.g. `ClaimV1N16D20Verifier`.
    pub name: String,
    /// The Solidity source.
    pub source: String,
}

impl VerifierContract {
    /// `<name>.sol`.
    pub fn file_name(&self) -> String {
        format!("{}.sol", self.name)
    }
}

/// The contract name of a circuit: its id's alphanumeric runs, capitalised, then `Verifier`
/// (`claim-v1-n16-d20` gives `ClaimV1N16D20Verifier`, `payee-v1` gives `PayeeV1Verifier`).
pub fn contract_name(circuit_id: &CircuitId) -> String {
    let mut name = String::new();
    for part in circuit_id
        .as_str()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars);
        }
    }
    // An identifier may not start with a digit.
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "Circuit");
    }
    name.push_str("Verifier");
    name
}

/// A circuit id as the contracts carry it: its ASCII bytes left-aligned in a `bytes32`, as
/// Solidity converts a string literal. Ids longer than 32 bytes have no such form.
pub fn circuit_id_word(circuit_id: &CircuitId) -> Result<Word, Malformed> {
    let bytes = circuit_id.as_str().as_bytes();
    if bytes.len() > 32 {
        return Err(Malformed::Key(format!(
            "circuit id {circuit_id} is {} bytes; a contract carries ids of at most 32",
            bytes.len()
        )));
    }
    let mut w = [0u8; 32];
    w[..bytes.len()].copy_from_slice(bytes);
    Ok(w)
}

/// A field element of `Fr` or `Fq` as an EVM word.
pub fn field_word<F: PrimeField>(x: &F) -> Word {
    let be = x.into_bigint().to_bytes_be();
    let mut w = [0u8; 32];
    w[32 - be.len()..].copy_from_slice(&be);
    w
}

/// A public input as an EVM word.
pub fn input_word(x: &Fr) -> Word {
    field_word(x)
}

fn g1_words(p: &G1Affine) -> [Word; 2] {
    // The point at infinity is (0, 0) for the precompiles.
    match p.xy() {
        Some((x, y)) => [field_word(&x), field_word(&y)],
        None => [[0u8; 32]; 2],
    }
}

/// EIP-197's order for a G2 coordinate `c0 + c1 * i`: `c1` first.
fn fq2_words(x: &Fq2) -> [Word; 2] {
    [field_word(&x.c1), field_word(&x.c0)]
}

fn g2_words(p: &G2Affine) -> [Word; 4] {
    match p.xy() {
        Some((x, y)) => {
            let (x, y) = (fq2_words(&x), fq2_words(&y));
            [x[0], x[1], y[0], y[1]]
        }
        None => [[0u8; 32]; 4],
    }
}

/// A proof as `verifyProof`'s first eight words: `a.x, a.y, b.x.c1, b.x.c0, b.y.c1, b.y.c0,
/// c.x, c.y` (what `snarkjs zkey export soliditycalldata` prints for its `_pA, _pB, _pC`).
pub fn proof_words(proof: &Proof) -> [Word; 8] {
    let [ax, ay] = g1_words(&proof.a);
    let [b0, b1, b2, b3] = g2_words(&proof.b);
    let [cx, cy] = g1_words(&proof.c);
    [ax, ay, b0, b1, b2, b3, cx, cy]
}

fn fq_from_word(what: &'static str, w: &Word) -> Result<Fq, Malformed> {
    Fq::from_bigint(ark_ff::BigInt::<4>::from_bits_be(&bits_be(w))).ok_or_else(|| {
        Malformed::Point {
            what,
            reason: "a coordinate is not below the base field modulus".into(),
        }
    })
}

fn bits_be(w: &Word) -> Vec<bool> {
    w.iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
        .collect()
}

fn g1_from_words(what: &'static str, x: &Word, y: &Word) -> Result<G1Affine, Malformed> {
    let (x, y) = (fq_from_word(what, x)?, fq_from_word(what, y)?);
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(x, y);
    if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Malformed::Point {
            what,
            reason: "not a point of G1's prime-order subgroup".into(),
        });
    }
    Ok(p)
}

fn g2_from_words(what: &'static str, w: &[Word]) -> Result<G2Affine, Malformed> {
    let c = |i: usize| fq_from_word(what, &w[i]);
    let (x, y) = (Fq2::new(c(1)?, c(0)?), Fq2::new(c(3)?, c(2)?));
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::zero());
    }
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Malformed::Point {
            what,
            reason: "not a point of G2's prime-order subgroup".into(),
        });
    }
    Ok(p)
}

/// The inverse of [`proof_words`], strictly: every coordinate below `q`, each point on its
/// curve and in its prime-order subgroup, `(0, 0)` the only spelling of infinity. This is what
/// the verifier crate accepts from call data; anything it refuses, a verifier contract refuses
/// too (the precompiles check the same).
pub fn proof_from_words(w: &[Word; 8]) -> Result<Proof, Malformed> {
    Ok(Proof {
        a: g1_from_words("proof A", &w[0], &w[1])?,
        b: g2_from_words("proof B", &w[2..6])?,
        c: g1_from_words("proof C", &w[6], &w[7])?,
    })
}

/// A public input from its word, refusing values `>= r` (never reduced).
pub fn input_from_word(w: &Word) -> Result<Fr, Malformed> {
    Fr::from_bigint(ark_ff::BigInt::<4>::from_bits_be(&bits_be(w))).ok_or_else(|| {
        Malformed::FieldElement {
            what: "public input word".into(),
            reason: crate::error::DecimalError::OutOfRange,
        }
    })
}

/// The words of call data of `signature`: exactly the selector and `count` words (every
/// argument of our calls is static, so the length is fixed).
fn call_words(
    data: &[u8],
    what: &'static str,
    selector: [u8; 4],
    signature: &'static str,
    count: usize,
) -> Result<Vec<Word>, Malformed> {
    if data.len() != 4 + 32 * count {
        return Err(Malformed::WrongLength {
            what,
            expected: 4 + 32 * count,
            got: data.len(),
        });
    }
    if data[..4] != selector {
        return Err(Malformed::Format {
            found: format!("selector 0x{}", hex::encode(&data[..4])),
            expected: signature,
        });
    }
    Ok(data[4..]
        .chunks_exact(32)
        .map(|c| c.try_into().expect("chunks_exact gives 32 bytes"))
        .collect())
}

/// The signature of the settlement contract's `claim`.
pub const CLAIM_SIGNATURE: &str = "claim(bytes32,uint256[9],uint256[8])";

/// A call of the settlement contract's `claim(circuitId, inputs, proof)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimCall {
    /// The claim circuit.
    pub circuit_id: CircuitId,
    /// The statement (its nine public inputs).
    pub statement: ClaimStatement,
    /// The proof.
    pub proof: Proof,
}

/// `claim`'s selector, the first four bytes of `keccak256(CLAIM_SIGNATURE)` (a constant, so
/// that the verifier crate needs no Keccak; the contracts crate's tests recompute it).
pub const CLAIM_SELECTOR: [u8; 4] = [0x49, 0xd2, 0x15, 0x15];

impl ClaimCall {
    /// Its call data: selector, circuit id, nine inputs, eight proof words (580 bytes).
    pub fn encode(&self) -> Result<Vec<u8>, Malformed> {
        let mut out = CLAIM_SELECTOR.to_vec();
        out.extend_from_slice(&circuit_id_word(&self.circuit_id)?);
        for x in self.statement.public_inputs() {
            out.extend_from_slice(&input_word(&x));
        }
        for w in proof_words(&self.proof) {
            out.extend_from_slice(&w);
        }
        Ok(out)
    }

    /// Decodes call data strictly: exact length and selector, a circuit id the verifier accepts
    /// spelled left-aligned with zero padding, canonical inputs (the statement's `u64` fields
    /// below 2^64), and a proof as [`proof_from_words`] accepts it.
    pub fn decode(data: &[u8]) -> Result<ClaimCall, Malformed> {
        let words = call_words(data, "claim call data", CLAIM_SELECTOR, CLAIM_SIGNATURE, 18)?;
        let word = |i: usize| words[i];
        let id_word = word(0);
        let len = id_word.iter().position(|b| *b == 0).unwrap_or(32);
        if id_word[len..].iter().any(|b| *b != 0) {
            return Err(Malformed::CircuitId(hex::encode(id_word)));
        }
        let id = std::str::from_utf8(&id_word[..len])
            .map_err(|_| Malformed::CircuitId(hex::encode(id_word)))?;
        let circuit_id = CircuitId::new(id)?;
        let mut inputs = [Fr::zero(); NUM_PUBLIC_INPUTS];
        for (i, x) in inputs.iter_mut().enumerate() {
            *x = input_from_word(&word(1 + i))?;
        }
        let statement = crate::bundle::StatementJson::from_inputs(
            inputs.map(|x| crate::encoding::fr_to_decimal(&x)),
        )
        .decode()?;
        let proof_words: [Word; 8] = std::array::from_fn(|i| word(10 + i));
        Ok(ClaimCall {
            circuit_id,
            statement,
            proof: proof_from_words(&proof_words)?,
        })
    }
}

/// The signature of the settlement contract's `setPayee`.
pub const SET_PAYEE_SIGNATURE: &str = "setPayee(uint256[5],uint256[8])";
/// `setPayee`'s selector (see [`CLAIM_SELECTOR`]).
pub const SET_PAYEE_SELECTOR: [u8; 4] = [0xab, 0x5e, 0x25, 0xad];

/// A call of the settlement contract's `setPayee(inputs, proof)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayeeCall {
    /// The payee statement (its five public inputs).
    pub statement: PayeeStatement,
    /// The proof.
    pub proof: Proof,
}

impl PayeeCall {
    /// Its call data: selector, five inputs, eight proof words (420 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = SET_PAYEE_SELECTOR.to_vec();
        for x in self.statement.public_inputs() {
            out.extend_from_slice(&input_word(&x));
        }
        for w in proof_words(&self.proof) {
            out.extend_from_slice(&w);
        }
        out
    }

    /// Decodes call data strictly (as [`ClaimCall::decode`]; the statement's ranges are the
    /// payee circuit's: addresses below 2^160, chain id and nonce below 2^64).
    pub fn decode(data: &[u8]) -> Result<PayeeCall, Malformed> {
        let words = call_words(
            data,
            "setPayee call data",
            SET_PAYEE_SELECTOR,
            SET_PAYEE_SIGNATURE,
            13,
        )?;
        let word = |i: usize| words[i];
        let mut inputs = [Fr::zero(); NUM_PAYEE_PUBLIC_INPUTS];
        for (i, x) in inputs.iter_mut().enumerate() {
            *x = input_from_word(&word(i))?;
        }
        let statement =
            PayeeStatement::from_public_inputs(&inputs).map_err(|e| Malformed::FieldElement {
                what: format!("payee statement: {e}"),
                reason: crate::error::DecimalError::OutOfRange,
            })?;
        let proof_words: [Word; 8] = std::array::from_fn(|i| word(5 + i));
        Ok(PayeeCall {
            statement,
            proof: proof_from_words(&proof_words)?,
        })
    }
}

/// A word as `0x` and 64 hex digits.
pub fn word_hex(w: &Word) -> String {
    format!("0x{}", hex::encode(w))
}

fn dec(x: &Fq) -> String {
    field_to_decimal(x)
}

/// `name_X`/`name_Y` constants of a G1 point.
fn g1_constants(out: &mut String, name: &str, p: &G1Affine) {
    let (x, y) = p.xy().unwrap_or((Fq::zero(), Fq::zero()));
    let _ = writeln!(out, "    uint256 internal constant {name}_X = {};", dec(&x));
    let _ = writeln!(out, "    uint256 internal constant {name}_Y = {};", dec(&y));
}

/// `name_X1, name_X0, name_Y1, name_Y0` constants of a G2 point (EIP-197 order).
fn g2_constants(out: &mut String, name: &str, p: &G2Affine) {
    let (x, y) = p.xy().unwrap_or((Fq2::zero(), Fq2::zero()));
    for (suffix, v) in [("X1", x.c1), ("X0", x.c0), ("Y1", y.c1), ("Y0", y.c0)] {
        let _ = writeln!(
            out,
            "    uint256 internal constant {name}_{suffix} = {};",
            dec(&v)
        );
    }
}

/// The verifier contract of `vk`, pinned to `circuit_id`.
///
/// Refuses a key without public inputs and a circuit id longer than 32 bytes (the contract
/// carries it as a `bytes32`).
pub fn verifier_contract(
    circuit_id: &CircuitId,
    vk: &VerifyingKey,
) -> Result<VerifierContract, Malformed> {
    let n = vk
        .gamma_abc_g1
        .len()
        .checked_sub(1)
        .filter(|n| *n > 0)
        .ok_or_else(|| Malformed::Key("the key has no public inputs".into()))?;
    circuit_id_word(circuit_id)?;
    let name = contract_name(circuit_id);
    let fingerprint = Fingerprint::of_bytes(&vk.to_bytes());
    let r = Fr::MODULUS.to_string();
    let q = Fq::MODULUS.to_string();

    let mut s = String::new();
    let _ = write!(
        s,
        "// SPDX-License-Identifier: Apache-2.0
// Generated by `credence-verify export-solidity` (credence-verifier {version}) from the
// verifying key of `{circuit_id}`, blake3 fingerprint {fingerprint}.
// Do not edit: regenerate it from the key.
pragma solidity ^0.8.24;

/// @title Groth16 verifier of the Credence circuit `{circuit_id}` (BN254, EIP-197)
/// @notice `verifyProof` returns true exactly when the proof verifies for the {n} public inputs
/// under the key above, and false (it never reverts) for any other proof, for a public input
/// that is not a canonical field element (>= r), and for a point that is not canonical or not
/// in its group. The signature and the order of `_pB` (imaginary parts first) are snarkjs'.
contract {name} {{
    /// The circuit id, ASCII, left-aligned.
    bytes32 public constant CIRCUIT_ID = \"{circuit_id}\";
    /// blake3 of the key's canonical compressed bytes: the fingerprint of its `.vk` file.
    bytes32 public constant VK_FINGERPRINT = 0x{fingerprint};
    /// How many public inputs a proof has.
    uint256 public constant NUM_PUBLIC_INPUTS = {n};

    // The scalar field (public inputs) and the base field (coordinates).
    uint256 internal constant R = {r};
    uint256 internal constant Q = {q};

",
        version = env!("CARGO_PKG_VERSION"),
    );
    g1_constants(&mut s, "ALPHA", &vk.alpha_g1);
    g2_constants(&mut s, "BETA", &vk.beta_g2);
    g2_constants(&mut s, "GAMMA", &vk.gamma_g2);
    g2_constants(&mut s, "DELTA", &vk.delta_g2);
    for (i, p) in vk.gamma_abc_g1.iter().enumerate() {
        g1_constants(&mut s, &format!("IC{i}"), p);
    }
    let _ = write!(
        s,
        "
    /// Checks `e(A, B) = e(alpha, beta) * e(IC0 + sum(input_i * IC_i), gamma) * e(C, delta)`.
    function verifyProof(
        uint256[2] calldata _pA,
        uint256[2][2] calldata _pB,
        uint256[2] calldata _pC,
        uint256[{n}] calldata _pubSignals
    ) external view returns (bool) {{
        assembly {{
            // The pairing input, 4 x (G1, G2) = 24 words, from p; scratch for ecMul after it.
            // Its third pair's G1 half (p + 0x180) accumulates IC0 + sum(input_i * IC_i): each
            // term is written to p + 0x1c0 (later gamma's place) and ecAdd adds it in place.
            let p := mload(0x40)
            let m := add(p, 0x300)
            let ok := 1
            let x := 0
            mstore(add(p, 0x180), IC0_X)
            mstore(add(p, 0x1a0), IC0_Y)
"
    );
    for i in 1..=n {
        let _ = write!(
            s,
            "
            x := calldataload(add(_pubSignals, {offset}))
            ok := and(ok, lt(x, R))
            mstore(m, IC{i}_X)
            mstore(add(m, 0x20), IC{i}_Y)
            mstore(add(m, 0x40), x)
            ok := and(ok, staticcall(gas(), 0x07, m, 0x60, add(p, 0x1c0), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, add(p, 0x180), 0x80, add(p, 0x180), 0x40))
",
            offset = 32 * (i - 1),
        );
    }
    let _ = write!(
        s,
        "
            // -A (y < q checked here: the negation would hide a non-canonical y from ecPairing).
            let ay := calldataload(add(_pA, 0x20))
            ok := and(ok, lt(ay, Q))
            mstore(p, calldataload(_pA))
            mstore(add(p, 0x20), mod(sub(Q, ay), Q))
            calldatacopy(add(p, 0x40), _pB, 0x80)
            mstore(add(p, 0xc0), ALPHA_X)
            mstore(add(p, 0xe0), ALPHA_Y)
            mstore(add(p, 0x100), BETA_X1)
            mstore(add(p, 0x120), BETA_X0)
            mstore(add(p, 0x140), BETA_Y1)
            mstore(add(p, 0x160), BETA_Y0)
            mstore(add(p, 0x1c0), GAMMA_X1)
            mstore(add(p, 0x1e0), GAMMA_X0)
            mstore(add(p, 0x200), GAMMA_Y1)
            mstore(add(p, 0x220), GAMMA_Y0)
            calldatacopy(add(p, 0x240), _pC, 0x40)
            mstore(add(p, 0x280), DELTA_X1)
            mstore(add(p, 0x2a0), DELTA_X0)
            mstore(add(p, 0x2c0), DELTA_Y1)
            mstore(add(p, 0x2e0), DELTA_Y0)
            ok := and(ok, staticcall(gas(), 0x08, p, 0x300, p, 0x20))
            mstore(0, and(ok, mload(p)))
            return(0, 0x20)
        }}
    }}
}}
"
    );
    Ok(VerifierContract { name, source: s })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;
    use ark_std::UniformRand;

    #[test]
    fn contract_names_follow_the_circuit_id() {
        let id = |s: &str| CircuitId::new(s).unwrap();
        assert_eq!(
            contract_name(&id("claim-v1-n16-d20")),
            "ClaimV1N16D20Verifier"
        );
        assert_eq!(contract_name(&id("payee-v1")), "PayeeV1Verifier");
        assert_eq!(contract_name(&id("7.x")), "Circuit7XVerifier");
    }

    #[test]
    fn circuit_ids_are_left_aligned_and_at_most_32_bytes() {
        let w = circuit_id_word(&CircuitId::new("payee-v1").unwrap()).unwrap();
        assert_eq!(&w[..8], b"payee-v1");
        assert!(w[8..].iter().all(|b| *b == 0));
        assert!(circuit_id_word(&CircuitId::new(&"a".repeat(32)).unwrap()).is_ok());
        assert!(circuit_id_word(&CircuitId::new(&"a".repeat(33)).unwrap()).is_err());
    }

    #[test]
    fn words_are_big_endian_and_g2_puts_the_imaginary_part_first() {
        let mut rng = ark_std::test_rng();
        let x = Fr::rand(&mut rng);
        let w = input_word(&x);
        assert_eq!(Fr::from_be_bytes_mod_order(&w), x);
        let b = (G2Affine::generator() * Fr::rand(&mut rng)).into_affine();
        let proof = Proof {
            a: G1Affine::generator(),
            b,
            c: G1Affine::zero(),
        };
        let words = proof_words(&proof);
        let (bx, by) = b.xy().unwrap();
        assert_eq!(words[2], field_word(&bx.c1));
        assert_eq!(words[3], field_word(&bx.c0));
        assert_eq!(words[4], field_word(&by.c1));
        assert_eq!(words[5], field_word(&by.c0));
        assert_eq!(words[6], [0u8; 32], "infinity is (0, 0)");
        assert_eq!(word_hex(&words[0])[..2].to_string(), "0x");
    }
}
