//! From a ceremony `.zkey` to arkworks Groth16 keys, and snarkjs' JSON for proofs and keys.
//!
//! Format sources: snarkjs 0.7.6 `zkey_utils.js` (section meanings), `zkey_export_verificationkey.js`
//! and `groth16_verify.js` (JSON: decimal strings, points as `[x, y, "1"]`, G2 coordinates as
//! `[c0, c1]`); ark-groth16 0.6 `ProvingKey`.
//!
//! Mapping: `vk.alpha_g1 = α₁`, `vk.beta_g2 = β₂`, `vk.gamma_g2 = γ₂`, `vk.delta_g2 = δ₂`,
//! `vk.gamma_abc_g1 = IC`; `beta_g1 = β₁`, `delta_g1 = δ₁`, `a_query = A`,
//! `b_g1_query = B1`, `b_g2_query = B2`, `l_query = C` (section 8), `h_query = H`. The key
//! proves with [`credence_circuits::prover::CircomReduction`], not arkworks' default reduction.
//!
//! Invariant: [`proving_key`] converts only a key that matches the circuit: same variables,
//! public signals and domain, the same A and B coefficients (section 4, which also fixes the
//! public-input rows), and the circuit hash the caller pinned. The circuit hash is what binds
//! the C matrix too: it covers every initial point, and `verify` (with the ptau) recomputes it.
//! A deployment should pin the hash that `verify` printed for the final key.

use super::error::{Error, Result};
use super::r1cs::R1cs;
use super::setup::{coefficients, domain_power};
use super::zkey::Zkey;
use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, pairing::Pairing};
use ark_groth16::{Proof, ProvingKey, VerifyingKey};
use serde_json::{Value, json};

/// Checks that `zkey` is a key of `r1cs`: dimensions and A/B coefficients.
pub fn check_circuit(zkey: &Zkey, r1cs: &R1cs) -> Result<()> {
    r1cs.validate()?;
    let h = &zkey.header;
    let n = 1u64 << domain_power(r1cs.num_constraints(), r1cs.num_public())?;
    if h.n_vars != r1cs.num_wires {
        return Err(Error::KeyMismatch(format!(
            "the key has {} variables, the circuit {}",
            h.n_vars, r1cs.num_wires
        )));
    }
    if h.n_public as usize != r1cs.num_public() {
        return Err(Error::KeyMismatch(format!(
            "the key has {} public signals, the circuit {}",
            h.n_public,
            r1cs.num_public()
        )));
    }
    if h.domain_size as u64 != n {
        return Err(Error::KeyMismatch(format!(
            "the key's domain has {} points, the circuit needs {n}",
            h.domain_size
        )));
    }
    if zkey.coefficients != coefficients(r1cs) {
        return Err(Error::KeyMismatch(
            "the key's A/B coefficients are not the circuit's".into(),
        ));
    }
    Ok(())
}

/// The arkworks proving key of `zkey`, after checking it belongs to `r1cs` and has the
/// circuit hash `circuit_hash` (as printed by [`super::verify::verify`] for the final key).
pub fn proving_key(zkey: &Zkey, r1cs: &R1cs, circuit_hash: &[u8; 64]) -> Result<ProvingKey<Bn254>> {
    check_circuit(zkey, r1cs)?;
    if zkey.circuit_hash() != circuit_hash {
        return Err(Error::KeyMismatch(
            "the key's circuit hash is not the expected one".into(),
        ));
    }
    Ok(proving_key_unchecked(zkey))
}

/// The arkworks proving key of `zkey`, without checking which circuit it belongs to.
pub fn proving_key_unchecked(zkey: &Zkey) -> ProvingKey<Bn254> {
    let h = &zkey.header;
    ProvingKey {
        vk: verifying_key(zkey),
        beta_g1: h.beta_g1,
        delta_g1: h.delta_g1,
        a_query: zkey.a.clone(),
        b_g1_query: zkey.b1.clone(),
        b_g2_query: zkey.b2.clone(),
        h_query: zkey.h.clone(),
        l_query: zkey.l.clone(),
    }
}

/// A `.zkey` holding an arkworks proving key of snarkjs' form (made for
/// [`credence_circuits::prover::CircomReduction`], e.g. by `CircuitProver::setup_for(..,
/// Qap::Circom, ..)`) for the circuit `r1cs`: the inverse of [`proving_key_unchecked`], with
/// section 4 from `r1cs`. It has no transcript (a zero circuit hash, no contributions), so
/// `snarkjs zkey verify` refuses it; `snarkjs groth16 prove` proves with it. For benchmarks
/// and tests that run snarkjs on exactly our circuit and key without a 3-minute `zkey new`.
pub fn zkey_from_proving_key(pk: &ProvingKey<Bn254>, r1cs: &R1cs) -> Result<Zkey> {
    let wires = r1cs.num_wires as usize;
    let public = r1cs.num_public();
    let domain = 1usize << domain_power(r1cs.num_constraints(), public)?;
    let mismatch = |what: &str| Err(Error::KeyMismatch(format!("{what} is not the circuit's")));
    if pk.a_query.len() != wires || pk.b_g1_query.len() != wires || pk.b_g2_query.len() != wires {
        return mismatch("the number of variables");
    }
    if pk.vk.gamma_abc_g1.len() != public + 1 || pk.l_query.len() != wires - public - 1 {
        return mismatch("the number of public inputs");
    }
    if pk.h_query.len() != domain {
        return mismatch("the domain size (or the key is not of snarkjs' form)");
    }
    Ok(Zkey {
        header: super::zkey::ZkeyHeader {
            n_vars: r1cs.num_wires,
            n_public: public as u32,
            domain_size: domain as u32,
            alpha_g1: pk.vk.alpha_g1,
            beta_g1: pk.beta_g1,
            beta_g2: pk.vk.beta_g2,
            gamma_g2: pk.vk.gamma_g2,
            delta_g1: pk.delta_g1,
            delta_g2: pk.vk.delta_g2,
        },
        ic: pk.vk.gamma_abc_g1.clone(),
        coefficients: coefficients(r1cs),
        a: pk.a_query.clone(),
        b1: pk.b_g1_query.clone(),
        b2: pk.b_g2_query.clone(),
        l: pk.l_query.clone(),
        h: pk.h_query.clone(),
        mpc: super::zkey::MpcParams {
            cs_hash: [0; 64],
            contributions: Vec::new(),
        },
        section_order: super::zkey::SEQUENTIAL_ORDER,
    })
}

/// The arkworks verifying key of `zkey`.
pub fn verifying_key(zkey: &Zkey) -> VerifyingKey<Bn254> {
    let h = &zkey.header;
    VerifyingKey {
        alpha_g1: h.alpha_g1,
        beta_g2: h.beta_g2,
        gamma_g2: h.gamma_g2,
        delta_g2: h.delta_g2,
        gamma_abc_g1: zkey.ic.clone(),
    }
}

fn dec_fq(f: &Fq) -> Value {
    Value::String(f.to_string())
}

fn g1_json(p: &G1Affine) -> Value {
    if p.is_zero() {
        return json!(["0", "1", "0"]);
    }
    json!([dec_fq(&p.x), dec_fq(&p.y), "1"])
}

fn fq2_json(f: &Fq2) -> Value {
    json!([dec_fq(&f.c0), dec_fq(&f.c1)])
}

fn g2_json(p: &G2Affine) -> Value {
    if p.is_zero() {
        return json!([["0", "0"], ["1", "0"], ["0", "0"]]);
    }
    json!([fq2_json(&p.x), fq2_json(&p.y), ["1", "0"]])
}

/// A proof in snarkjs' `proof.json` form.
pub fn proof_json(proof: &Proof<Bn254>) -> Value {
    json!({
        "pi_a": g1_json(&proof.a),
        "pi_b": g2_json(&proof.b),
        "pi_c": g1_json(&proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    })
}

/// Public inputs in snarkjs' `public.json` form (decimal strings).
pub fn public_json(public: &[Fr]) -> Value {
    Value::Array(
        public
            .iter()
            .map(|v| Value::String(v.to_string()))
            .collect(),
    )
}

/// A verifying key in the form `snarkjs zkey export verificationkey` writes.
pub fn verifying_key_json(vk: &VerifyingKey<Bn254>) -> Value {
    let ab = Bn254::pairing(vk.alpha_g1, vk.beta_g2).0;
    let fq6 = |f: &ark_bn254::Fq6| json!([fq2_json(&f.c0), fq2_json(&f.c1), fq2_json(&f.c2)]);
    json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.gamma_abc_g1.len().saturating_sub(1),
        "vk_alpha_1": g1_json(&vk.alpha_g1),
        "vk_beta_2": g2_json(&vk.beta_g2),
        "vk_gamma_2": g2_json(&vk.gamma_g2),
        "vk_delta_2": g2_json(&vk.delta_g2),
        "vk_alphabeta_12": [fq6(&ab.c0), fq6(&ab.c1)],
        "IC": Value::Array(vk.gamma_abc_g1.iter().map(g1_json).collect()),
    })
}
