//! Groth16 verification: one claim, or many with one multi-pairing.
//!
//! Invariant: a [`VerifiedClaim`] can only be built here, after the proof verified against a key
//! from the caller's [`KeyRing`] selected by the bundle's fingerprint and circuit id. Settlement
//! takes `VerifiedClaim`s, so a claim whose proof does not verify cannot be settled.
//!
//! Single check: `e(A, B) = e(alpha, beta) * e(IC, gamma) * e(C, delta)` with
//! `IC = gamma_abc[0] + sum_j x_j * gamma_abc[j+1]`, computed as one 3-pair Miller loop against
//! `-gamma`, `-delta` and the cached `e(alpha, beta)`.
//!
//! Batch check of n claims with fresh random 128-bit scalars `r_i`: multiply the n equations
//! raised to `r_i`:
//!
//! ```text
//! prod_i e(r_i A_i, B_i) * e(-(sum r_i) alpha, beta) * e(sum_i r_i IC_i, -gamma)
//!     * e(sum_i r_i C_i, -delta) = 1
//! ```
//!
//! `sum_i r_i IC_i` folds into ONE 10-point MSM with scalars `(sum r_i, sum_i r_i x_ij)`, the C
//! terms into one n-point MSM, so the cost is n+3 Miller loops and one final exponentiation,
//! instead of 3n loops and n exponentiations. A false equation survives the combination with
//! probability at most 2^-128 per batch (the `r_i` are unknown to the prover: drawn after the
//! proofs are fixed, from the caller's CSPRNG). If the batch fails, every claim is checked on
//! its own to name the bad ones.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective};
use ark_ec::pairing::{MillerLoopOutput, Pairing};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{One, Zero};
use ark_std::rand::{CryptoRng, RngCore};

use crate::bundle::ClaimBundle;
use crate::error::{Error, Invalid};
use crate::groth16::Proof;
use crate::keys::{CircuitId, Fingerprint, KeyRing, Prepared, TrustedKey};
use crate::statement::{ClaimStatement, NUM_PUBLIC_INPUTS};

/// `IC = gamma_abc[0] * c0 + sum_j gamma_abc[j+1] * s_j`. The caller guarantees
/// `ic.len() == s.len() + 1`.
fn input_commitment(ic: &[G1Affine], c0: Fr, s: &[Fr]) -> G1Affine {
    debug_assert_eq!(ic.len(), s.len() + 1);
    let mut scalars = Vec::with_capacity(s.len() + 1);
    scalars.push(c0);
    scalars.extend_from_slice(s);
    // The lengths agree, so `msm_unchecked` (unchecked = no length check; the points themselves
    // were validated) is exact.
    G1Projective::msm_unchecked(ic, &scalars).into_affine()
}

/// Verifies one proof of `statement` under `key`.
pub fn verify(key: &TrustedKey, statement: &ClaimStatement, proof: &Proof) -> Result<(), Invalid> {
    // `TrustedKey` guarantees `NUM_PUBLIC_INPUTS + 1` IC points.
    check_proof(
        &key.prepared,
        &key.vk().gamma_abc_g1,
        &statement.public_inputs(),
        proof,
    )
}

/// The single-proof check (module docs) under a key's prepared parts and IC points, for public
/// inputs of any count: the claim's, or the payee statement's ([`crate::payee`]). A count that
/// is not the key's is refused, never truncated.
pub(crate) fn check_proof(
    p: &Prepared,
    ic: &[G1Affine],
    inputs: &[Fr],
    proof: &Proof,
) -> Result<(), Invalid> {
    if ic.len() != inputs.len() + 1 {
        return Err(Invalid::ProofRejected);
    }
    let ic = input_commitment(ic, Fr::one(), inputs);
    let ml = Bn254::multi_miller_loop(
        [
            <Bn254 as Pairing>::G1Prepared::from(proof.a),
            ic.into(),
            proof.c.into(),
        ],
        [proof.b.into(), p.neg_gamma.clone(), p.neg_delta.clone()],
    );
    match Bn254::final_exponentiation(ml) {
        Some(lhs) if lhs == p.alpha_beta => Ok(()),
        _ => Err(Invalid::ProofRejected),
    }
}

/// The claims of a batch that failed, by their position in the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("batch rejected: claims {invalid:?} do not verify")]
pub struct BatchRejected {
    /// Positions (in the caller's slice) of the claims that fail on their own. Empty only if the
    /// combined check failed while every claim passed alone, which happens with probability
    /// <= 2^-128 for an honest batch; the batch is still rejected then.
    pub invalid: Vec<usize>,
}

/// A fresh non-zero 128-bit scalar (zero would drop a claim from the combination).
fn random_scalar<R: RngCore + CryptoRng>(rng: &mut R) -> u128 {
    loop {
        let r = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        if r != 0 {
            return r;
        }
    }
}

/// Verifies many claims under one key with one multi-pairing.
///
/// `rng` must be a CSPRNG the provers cannot predict (e.g. `ark_std::rand::rngs::OsRng`); see
/// [`verify_batch_os`]. On failure, names every claim that does not verify on its own.
pub fn verify_batch<R: RngCore + CryptoRng>(
    key: &TrustedKey,
    claims: &[(&ClaimStatement, &Proof)],
    rng: &mut R,
) -> Result<(), BatchRejected> {
    match claims {
        [] => return Ok(()),
        [(s, p)] => {
            return verify(key, s, p).map_err(|_| BatchRejected { invalid: vec![0] });
        }
        _ => {}
    }
    if combined_check(key, claims, rng) {
        return Ok(());
    }
    let invalid = claims
        .iter()
        .enumerate()
        .filter(|(_, (s, p))| verify(key, s, p).is_err())
        .map(|(i, _)| i)
        .collect();
    Err(BatchRejected { invalid })
}

/// [`verify_batch`] with randomness from the operating system.
pub fn verify_batch_os(
    key: &TrustedKey,
    claims: &[(&ClaimStatement, &Proof)],
) -> Result<(), BatchRejected> {
    verify_batch(key, claims, &mut ark_std::rand::rngs::OsRng)
}

fn combined_check<R: RngCore + CryptoRng>(
    key: &TrustedKey,
    claims: &[(&ClaimStatement, &Proof)],
    rng: &mut R,
) -> bool {
    let n = claims.len();
    let p = &key.prepared;
    let mut sum_r = Fr::zero();
    let mut s = [Fr::zero(); NUM_PUBLIC_INPUTS];
    let mut r_fr = Vec::with_capacity(n);
    let mut scaled_a = Vec::with_capacity(n);
    let mut cs = Vec::with_capacity(n);
    for (statement, proof) in claims {
        let r = random_scalar(rng);
        let rf = Fr::from(r);
        sum_r += rf;
        for (acc, x) in s.iter_mut().zip(statement.public_inputs()) {
            *acc += rf * x;
        }
        // A 128-bit scalar multiplication: half the doublings of a full-width one.
        scaled_a.push(proof.a.mul_bigint([r as u64, (r >> 64) as u64]));
        cs.push(proof.c);
        r_fr.push(rf);
    }
    let scaled_a = G1Projective::normalize_batch(&scaled_a);
    // `TrustedKey` guarantees `NUM_PUBLIC_INPUTS + 1` IC points.
    let ic = input_commitment(&key.vk().gamma_abc_g1, sum_r, &s);
    let c_sum = G1Projective::msm_unchecked(&cs, &r_fr).into_affine();
    let alpha_term = (key.vk().alpha_g1 * (-sum_r)).into_affine();

    let mut g1: Vec<<Bn254 as Pairing>::G1Prepared> = Vec::with_capacity(n + 3);
    let mut g2: Vec<<Bn254 as Pairing>::G2Prepared> = Vec::with_capacity(n + 3);
    for (a, (_, proof)) in scaled_a.into_iter().zip(claims) {
        g1.push(a.into());
        g2.push(proof.b.into());
    }
    g1.push(alpha_term.into());
    g2.push(p.beta.clone());
    g1.push(ic.into());
    g2.push(p.neg_gamma.clone());
    g1.push(c_sum.into());
    g2.push(p.neg_delta.clone());
    let Some(ml) = shared_miller_loop(&g1, &g2) else {
        return false;
    };
    matches!(Bn254::final_exponentiation(ml), Some(out) if out.is_zero())
}

/// The multi-Miller loop of `prod_i e(p_i, q_i)`, with ONE accumulator for all pairs.
///
/// Why not `Bn254::multi_miller_loop`: without its `parallel` feature, ark-ec 0.6 still splits
/// the pairs into chunks of 4, each with its own accumulator and its own 64 `Fp12` squarings,
/// then multiplies the chunks; for a batch of 64 claims that is ~17x the squarings needed. Here
/// every squaring is shared, so a pair costs only its line evaluations. The result is the same
/// `Fp12` element (the loop for a product of pairings is the product of the loops); a test
/// checks it against arkworks'.
///
/// `None` only if a prepared G2 point has fewer line coefficients than the loop needs, which
/// `G2Prepared::from` never produces; callers treat it as a failed check, not a panic.
pub(crate) fn shared_miller_loop(
    g1: &[<Bn254 as Pairing>::G1Prepared],
    g2: &[<Bn254 as Pairing>::G2Prepared],
) -> Option<MillerLoopOutput<Bn254>> {
    use ark_bn254::{Config, Fq12};
    use ark_ec::bn::{BnConfig, TwistType};
    use ark_ff::{CyclotomicMultSubgroup, Field};

    // Pairs with the identity on either side contribute 1 (arkworks skips them the same way).
    let mut pairs: Vec<_> = g1
        .iter()
        .zip(g2)
        .filter(|(p, q)| !p.0.is_zero() && !q.infinity)
        .map(|(p, q)| (p.0, q.ell_coeffs.iter()))
        .collect();
    let ell = |f: &mut Fq12, p: &G1Affine, c: Option<&ark_ec::bn::g2::EllCoeff<Config>>| {
        let (mut c0, mut c1, mut c2) = *c?;
        // The line's coefficients are scaled by the G1 point's coordinates, then multiplied
        // into f as a sparse element; which slots are sparse depends on the twist.
        match Config::TWIST_TYPE {
            TwistType::D => {
                c0.mul_assign_by_fp(&p.y);
                c1.mul_assign_by_fp(&p.x);
                f.mul_by_034(&c0, &c1, &c2);
            }
            TwistType::M => {
                c2.mul_assign_by_fp(&p.y);
                c1.mul_assign_by_fp(&p.x);
                f.mul_by_014(&c0, &c1, &c2);
            }
        }
        Some(())
    };
    let bits = Config::ATE_LOOP_COUNT;
    let mut f = Fq12::one();
    for i in (1..bits.len()).rev() {
        if i != bits.len() - 1 {
            f.square_in_place();
        }
        for (p, coeffs) in pairs.iter_mut() {
            ell(&mut f, p, coeffs.next())?;
        }
        if bits[i - 1] == 1 || bits[i - 1] == -1 {
            for (p, coeffs) in pairs.iter_mut() {
                ell(&mut f, p, coeffs.next())?;
            }
        }
    }
    if Config::X_IS_NEGATIVE {
        f.cyclotomic_inverse_in_place();
    }
    // The two Frobenius-twisted additions at the end of the optimal ate loop.
    for _ in 0..2 {
        for (p, coeffs) in pairs.iter_mut() {
            ell(&mut f, p, coeffs.next())?;
        }
    }
    Some(MillerLoopOutput(f))
}

/// A claim whose proof verified under a trusted key. Only this module builds one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedClaim {
    circuit_id: CircuitId,
    fingerprint: Fingerprint,
    statement: ClaimStatement,
}

impl VerifiedClaim {
    /// The circuit the claim was proven in.
    pub fn circuit_id(&self) -> &CircuitId {
        &self.circuit_id
    }

    /// The fingerprint of the key it verified under.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The verified statement.
    pub fn statement(&self) -> &ClaimStatement {
        &self.statement
    }

    fn of(key: &TrustedKey, bundle: &ClaimBundle) -> Self {
        VerifiedClaim {
            circuit_id: key.circuit_id().clone(),
            fingerprint: key.fingerprint(),
            statement: bundle.statement.clone(),
        }
    }
}

/// Verifies one decoded bundle against the trusted keys.
pub fn verify_bundle(ring: &KeyRing, bundle: &ClaimBundle) -> Result<VerifiedClaim, Error> {
    let key = ring.select(&bundle.circuit_id, &bundle.vk_fingerprint)?;
    verify(key, &bundle.statement, &bundle.proof)?;
    Ok(VerifiedClaim::of(key, bundle))
}

/// Verifies many decoded bundles: grouped by key, one multi-pairing per key, falling back to
/// single checks to name the bad ones. The result has one entry per input bundle, in order.
pub fn verify_bundles<R: RngCore + CryptoRng>(
    ring: &KeyRing,
    bundles: &[ClaimBundle],
    rng: &mut R,
) -> Vec<Result<VerifiedClaim, Error>> {
    let mut results: Vec<Option<Result<VerifiedClaim, Error>>> = vec![None; bundles.len()];
    // Group by the selected key; a bundle whose key selection fails is answered right away.
    let mut groups: Vec<(&TrustedKey, Vec<usize>)> = Vec::new();
    for (i, b) in bundles.iter().enumerate() {
        match ring.select(&b.circuit_id, &b.vk_fingerprint) {
            Err(e) => results[i] = Some(Err(e.into())),
            Ok(key) => match groups
                .iter_mut()
                .find(|(k, _)| k.fingerprint() == key.fingerprint())
            {
                Some((_, idx)) => idx.push(i),
                None => groups.push((key, vec![i])),
            },
        }
    }
    for (key, idx) in groups {
        let claims: Vec<(&ClaimStatement, &Proof)> = idx
            .iter()
            .map(|&i| (&bundles[i].statement, &bundles[i].proof))
            .collect();
        let bad = match verify_batch(key, &claims, rng) {
            Ok(()) => Vec::new(),
            Err(BatchRejected { invalid }) if invalid.is_empty() => {
                // The combination failed but no single claim did: refuse all rather than guess.
                (0..idx.len()).collect()
            }
            Err(BatchRejected { invalid }) => invalid,
        };
        for (j, &i) in idx.iter().enumerate() {
            results[i] = Some(if bad.contains(&j) {
                Err(Invalid::ProofRejected.into())
            } else {
                Ok(VerifiedClaim::of(key, &bundles[i]))
            });
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every bundle is answered by key selection or by its group"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::G2Affine;
    use ark_ec::CurveGroup;

    #[test]
    fn shared_miller_loop_equals_arkworks() {
        // Deterministic points: multiples of the generators, plus identities on either side.
        let mut g1 = Vec::new();
        let mut g2 = Vec::new();
        for i in 0..11u64 {
            let a = (G1Affine::generator() * Fr::from(3 * i + 1)).into_affine();
            let b = (G2Affine::generator() * Fr::from(7 * i + 2)).into_affine();
            g1.push(if i == 4 { G1Affine::zero() } else { a });
            g2.push(if i == 6 { G2Affine::zero() } else { b });
        }
        let p1: Vec<<Bn254 as Pairing>::G1Prepared> = g1.iter().map(|&p| p.into()).collect();
        let p2: Vec<<Bn254 as Pairing>::G2Prepared> = g2.iter().map(|&q| q.into()).collect();
        for n in [1, 2, 3, 4, 5, 9, 11] {
            let ours = shared_miller_loop(&p1[..n], &p2[..n]).unwrap();
            let theirs = Bn254::multi_miller_loop(g1[..n].to_vec(), g2[..n].to_vec());
            assert_eq!(ours.0, theirs.0, "n = {n}");
        }
    }
}
