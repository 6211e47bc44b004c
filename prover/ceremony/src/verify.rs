//! Verification of a phase-2 transcript: what `snarkjs zkey verify r1cs ptau zkey` checks.
//!
//! Format source: snarkjs 0.7.6 `zkey_verify_fromr1cs.js` and `zkey_verify_frominit.js`.
//!
//! Checks, in snarkjs' order:
//! 1. for every contribution: its transcript is the Blake2b-512 chain of csHash, the earlier
//!    contributions' public keys and its own `s`, `x·s`; the proof of knowledge
//!    `e(s, x·g2_sp) = e(x·s, g2_sp)` with `g2_sp = hashToG2(transcript)`; the delta chain
//!    `e(δ_prev, x·g2_sp) = e(δ_after, g2_sp)`; a beacon's `s`, `x·s` re-derive from its
//!    beacon hash; no point of the proof is zero;
//! 2. the key's parameters (nVars, nPublic, domain) and α₁, β₁, β₂, γ₂ equal the initial key
//!    rebuilt from the r1cs and the ptau ([`super::setup::new_zkey`]);
//! 3. δ₁ is the last `deltaAfter` (the G1 generator if none) and `e(G1, δ₂) = e(δ₁, G2)`;
//! 4. the circuit hash equals the rebuilt one;
//! 5. the sections IC, coefficients, A, B1, B2 are identical to the rebuilt ones;
//! 6. L and H are the rebuilt ones times δ⁻¹: for random 128-bit `r_i`,
//!    `e(Σ r_i·L0_i, G2) = e(Σ r_i·L_i, δ₂)`, and the same for H.
//!
//! snarkjs checks H against the tauG1 powers instead of the rebuilt H; the two agree because
//! the rebuilt H is built from the same ptau (its Lagrange section), which `powersoftau
//! verify` ties to the powers.
//!
//! Invariant: [`verify`] returns a report only if every check passed; otherwise the error
//! names the first failed check ([`VerifyFailure`]).

use super::contribution::{beacon_key, format_hash, transcript_prefix};
use super::encoding::g1_to_u;
use super::error::{Result, VerifyFailure};
use super::jsrng::hash_to_g2;
use super::progress::{Progress, Silent};
use super::ptau::Ptau;
use super::r1cs::R1cs;
use super::setup::new_zkey_with;
use super::zkey::{ContributionKind, Zkey};
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM, pairing::Pairing};
use ark_ff::Zero;
use blake2::Digest;
use rand_core::{OsRng, RngCore};
use std::fmt;
use std::io::{Read, Seek};

/// One verified contribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionSummary {
    /// Position, from 1.
    pub index: usize,
    /// The participant's name, if any.
    pub name: Option<String>,
    /// Contribution or beacon (with its hash and exponent).
    pub kind: ContributionKind,
    /// The contribution hash.
    pub hash: [u8; 64],
}

/// What a successful verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The circuit hash (csHash).
    pub circuit_hash: [u8; 64],
    /// The contributions in order.
    pub contributions: Vec<ContributionSummary>,
}

impl fmt::Display for VerifyReport {
    /// What `snarkjs zkey verify` logs on success: the circuit hash, the contributions from the
    /// last to the first, then `ZKey Ok!`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}",
            format_hash(&self.circuit_hash, Some("Circuit Hash: "))
        )?;
        for c in self.contributions.iter().rev() {
            writeln!(f, "-------------------------")?;
            let title = format!(
                "contribution #{} {}:",
                c.index,
                c.name.as_deref().unwrap_or("")
            );
            writeln!(f, "{}", format_hash(&c.hash, Some(&title)))?;
            if let ContributionKind::Beacon {
                hash,
                iterations_exp,
            } = &c.kind
            {
                writeln!(f, "Beacon generator: {}", hex::encode(hash))?;
                writeln!(f, "Beacon iterations Exp: {iterations_exp}")?;
            }
        }
        writeln!(f, "-------------------------")?;
        write!(f, "ZKey Ok!")
    }
}

/// `e(a, d) = e(b, c)`, i.e. `b/a = d/c`, refusing zero points (snarkjs' `sameRatio`).
pub fn same_ratio(a: G1Affine, b: G1Affine, c: G2Affine, d: G2Affine) -> bool {
    if a.is_zero() || b.is_zero() || c.is_zero() || d.is_zero() {
        return false;
    }
    pairing_ratio(a, b, c, d)
}

/// `e(a, d) = e(b, c)` without the zero checks.
fn pairing_ratio(a: G1Affine, b: G1Affine, c: G2Affine, d: G2Affine) -> bool {
    Bn254::multi_pairing([a, (-b.into_group()).into_affine()], [d, c]).is_zero()
}

/// Verifies `zkey` against the circuit and the ptau it claims to come from.
pub fn verify<R: Read + Seek>(
    r1cs: &R1cs,
    ptau: &mut Ptau<R>,
    zkey: &Zkey,
) -> Result<VerifyReport> {
    verify_with(r1cs, ptau, zkey, &Silent)
}

/// [`verify`], reporting its phases to `progress`.
pub fn verify_with<R: Read + Seek>(
    r1cs: &R1cs,
    ptau: &mut Ptau<R>,
    zkey: &Zkey,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let init = new_zkey_with(r1cs, ptau, progress)?;
    verify_from_init_with(&init, zkey, progress)
}

/// Verifies `zkey` against an initial key (as `snarkjs zkey verify` does after rebuilding it).
pub fn verify_from_init(init: &Zkey, zkey: &Zkey) -> Result<VerifyReport> {
    verify_from_init_with(init, zkey, &Silent)
}

/// [`verify_from_init`], reporting its phases to `progress`.
pub fn verify_from_init_with(
    init: &Zkey,
    zkey: &Zkey,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    progress.phase(
        "the contribution chain",
        zkey.mpc.contributions.len() as u64,
    );
    // 1. The contribution chain.
    let mut acc = transcript_prefix(&super::zkey::MpcParams {
        cs_hash: zkey.mpc.cs_hash,
        contributions: Vec::new(),
    });
    let mut cur_delta = G1Affine::generator();
    let mut summaries = Vec::with_capacity(zkey.mpc.contributions.len());
    for (i, c) in zkey.mpc.contributions.iter().enumerate() {
        let mut ours = acc.clone();
        ours.update(g1_to_u(&c.g1_s));
        ours.update(g1_to_u(&c.g1_sx));
        let t: [u8; 64] = ours.finalize().into();
        if t != c.transcript {
            return Err(VerifyFailure::Transcript(i).into());
        }
        let g2_sp = hash_to_g2(&c.transcript);
        if !same_ratio(c.g1_s, c.g1_sx, g2_sp, c.g2_spx) {
            return Err(VerifyFailure::ProofOfKnowledge(i).into());
        }
        if !same_ratio(cur_delta, c.delta_after, g2_sp, c.g2_spx) {
            return Err(VerifyFailure::DeltaChain(i).into());
        }
        if let ContributionKind::Beacon {
            hash,
            iterations_exp,
        } = &c.kind
        {
            let Some((s, sx)) = beacon_key(hash, *iterations_exp) else {
                return Err(VerifyFailure::ContributionFormat(
                    i,
                    format!("beacon iteration exponent {iterations_exp} cannot be re-derived"),
                )
                .into());
            };
            if s != c.g1_s || sx != c.g1_sx {
                return Err(VerifyFailure::Beacon(i).into());
            }
        }
        c.hash_pub_key(&mut acc);
        summaries.push(ContributionSummary {
            index: i + 1,
            name: c.name.clone(),
            kind: c.kind.clone(),
            hash: c.contribution_hash(),
        });
        cur_delta = c.delta_after;
        progress.advance(1);
    }

    // 2. Parameters and header points.
    let (h, h0) = (&zkey.header, &init.header);
    if (h.n_vars, h.n_public, h.domain_size) != (h0.n_vars, h0.n_public, h0.domain_size) {
        return Err(VerifyFailure::Parameters(format!(
            "nVars/nPublic/domainSize {}/{}/{} vs {}/{}/{} for the circuit",
            h.n_vars, h.n_public, h.domain_size, h0.n_vars, h0.n_public, h0.domain_size
        ))
        .into());
    }
    if h.alpha_g1 != h0.alpha_g1 {
        return Err(VerifyFailure::HeaderPoint("alpha1").into());
    }
    if h.beta_g1 != h0.beta_g1 {
        return Err(VerifyFailure::HeaderPoint("beta1").into());
    }
    if h.beta_g2 != h0.beta_g2 {
        return Err(VerifyFailure::HeaderPoint("beta2").into());
    }
    if h.gamma_g2 != h0.gamma_g2 {
        return Err(VerifyFailure::HeaderPoint("gamma2").into());
    }

    // 3. The final delta.
    if h.delta_g1 != cur_delta {
        return Err(VerifyFailure::Delta1.into());
    }
    if !same_ratio(
        G1Affine::generator(),
        cur_delta,
        G2Affine::generator(),
        h.delta_g2,
    ) {
        return Err(VerifyFailure::Delta2.into());
    }

    // 4. The circuit hash.
    if zkey.mpc.cs_hash != init.mpc.cs_hash {
        return Err(VerifyFailure::CircuitHash.into());
    }

    // 5. Delta-independent sections.
    let same: [(u32, &'static str, bool); 5] = [
        (3, "IC", zkey.ic == init.ic),
        (4, "coefficients", zkey.coefficients == init.coefficients),
        (5, "A", zkey.a == init.a),
        (6, "B1", zkey.b1 == init.b1),
        (7, "B2", zkey.b2 == init.b2),
    ];
    for (id, name, ok) in same {
        if !ok {
            return Err(VerifyFailure::Section { id, name }.into());
        }
    }

    // 6. L and H moved by delta^-1.
    progress.phase(
        "L and H moved by 1/delta",
        2 * (zkey.l.len() + zkey.h.len()) as u64,
    );
    if !moved_by_delta(&init.l, &zkey.l, h.delta_g2, progress) {
        return Err(VerifyFailure::LSection.into());
    }
    if !moved_by_delta(&init.h, &zkey.h, h.delta_g2, progress) {
        return Err(VerifyFailure::HSection.into());
    }

    Ok(VerifyReport {
        circuit_hash: zkey.mpc.cs_hash,
        contributions: summaries,
    })
}

/// Points per MSM piece in [`moved_by_delta`]: large enough that Pippenger keeps its speed.
const MSM_CHUNK: usize = 1 << 16;

/// True if `after_i = before_i / δ` for every i, by one random linear combination with
/// 128-bit coefficients: `e(Σ r_i·before_i, G2) = e(Σ r_i·after_i, δ₂)`.
fn moved_by_delta(
    before: &[G1Affine],
    after: &[G1Affine],
    delta_g2: G2Affine,
    progress: &dyn Progress,
) -> bool {
    if before.len() != after.len() {
        return false;
    }
    if before.is_empty() {
        return true;
    }
    let mut bytes = vec![0u8; 16 * before.len()];
    OsRng.fill_bytes(&mut bytes);
    let r: Vec<Fr> = bytes
        .chunks_exact(16)
        .map(|c| Fr::from(u128::from_le_bytes(c.try_into().expect("16 bytes"))))
        .collect();
    // In chunks (a sum of MSMs), so that progress can be reported between them.
    let msm = |points: &[G1Affine]| {
        let mut acc = G1Projective::zero();
        for (p, r) in points.chunks(MSM_CHUNK).zip(r.chunks(MSM_CHUNK)) {
            acc += G1Projective::msm_unchecked(p, r);
            progress.advance(p.len() as u64);
        }
        acc.into_affine()
    };
    let (r1, r2) = (msm(before), msm(after));
    pairing_ratio(r1, r2, delta_g2, G2Affine::generator())
}
