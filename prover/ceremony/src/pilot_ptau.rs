//! SINGLE-PARTY powers of tau, for pilots and tests only.
//!
//! **Whoever runs this holds τ, α and β while it runs and could forge proofs for every circuit
//! set up with the file.** Use it for pilots, demos and tests; production keys need a real
//! phase-1 ceremony (e.g. the public Hermez/PPoT files), prepared with
//! `snarkjs powersoftau prepare phase2`.
//!
//! Format source: snarkjs 0.7.6 `powersoftau_new.js`, `powersoftau_utils.js`
//! (`writePTauHeader`), `powersoftau_preparephase2.js`; layout in `ptau.rs`. The file is
//! written as `prepare phase2` writes it (sections 1–7 then 12–15), with an empty contribution
//! list (so `snarkjs powersoftau verify` refuses it: it has no transcript to verify).
//!
//! The Lagrange sections hold `L_i(τ)` of every domain `2^k`: `L_i(X) = (1/N)·Σ_j ω^{−ij}·X^j`.
//! snarkjs computes the last level of section 12 (`k = power + 1`) from the `2N − 1` stored
//! powers with `τ^{N−1}` replaced by zero, so that level holds `L_i(τ) − ω^i·τ^{N−1}/N`
//! (`N = 2^{power+1}`); we write the same.
//!
//! Invariant: the file is byte-identical to what `snarkjs powersoftau prepare phase2` writes
//! from the same powers (tested), and every secret scalar is zeroized before returning.

use super::binfile;
use super::encoding::{g1_section_bytes, g2_section_bytes};
use super::error::{Error, FileKind, Result};
use super::progress::{Progress, Silent, map_chunks};
use ark_bn254::{Fq, Fr, G1Projective, G2Projective};
use ark_ec::{PrimeGroup, scalar_mul::BatchMulPreprocessing};
use ark_ff::{BigInteger, Field, One, PrimeField, UniformRand};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use ark_std::rand::{CryptoRng, RngCore};
use std::io::Write;
use zeroize::{Zeroize, Zeroizing};

/// The largest power this generator accepts (2^20 points per G1 section already takes minutes).
pub const MAX_PILOT_POWER: u32 = 22;

/// Writes a phase-2-prepared ptau of `power` from fresh OS randomness. SINGLE-PARTY: see the
/// module documentation.
pub fn write_single_party_ptau<W: Write>(power: u32, w: &mut W) -> Result<()> {
    write_single_party_ptau_with(power, w, &Silent)
}

/// [`write_single_party_ptau`], reporting its progress (in points computed).
pub fn write_single_party_ptau_with<W: Write>(
    power: u32,
    w: &mut W,
    progress: &dyn Progress,
) -> Result<()> {
    let secrets = Secrets::draw(&mut rand_core::OsRng);
    write_ptau(power, &secrets, true, w, progress)
}

/// As [`write_single_party_ptau`], with the caller's RNG. With `prepared = false` it writes
/// the file as it is before `snarkjs powersoftau prepare phase2` (sections 1–7), so that step
/// can be run (and compared) with snarkjs.
pub fn write_single_party_ptau_with_rng<W: Write, R: RngCore + CryptoRng>(
    power: u32,
    rng: &mut R,
    prepared: bool,
    w: &mut W,
) -> Result<()> {
    write_ptau(power, &Secrets::draw(rng), prepared, w, &Silent)
}

/// The three toxic scalars, zeroized on drop.
struct Secrets {
    tau: Fr,
    alpha: Fr,
    beta: Fr,
}

impl Secrets {
    fn draw<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Secrets {
            tau: Fr::rand(rng),
            alpha: Fr::rand(rng),
            beta: Fr::rand(rng),
        }
    }
}

impl Drop for Secrets {
    fn drop(&mut self) {
        self.tau.zeroize();
        self.alpha.zeroize();
        self.beta.zeroize();
    }
}

/// `v·k` for every `v`, zeroizable.
fn times(v: &[Fr], k: &Fr) -> Zeroizing<Vec<Fr>> {
    Zeroizing::new(v.iter().map(|x| *x * k).collect())
}

/// Writes the ptau of `secrets`; `prepared` adds sections 12–15 (else the file is what
/// `powersoftau new`+`contribute` would leave before `prepare phase2`, minus the transcript).
fn write_ptau<W: Write>(
    power: u32,
    secrets: &Secrets,
    prepared: bool,
    w: &mut W,
    progress: &dyn Progress,
) -> Result<()> {
    if power == 0 || power > MAX_PILOT_POWER {
        return Err(Error::Argument(format!(
            "pilot ptau power must be in 1..={MAX_PILOT_POWER}, got {power}"
        )));
    }
    let n = 1usize << power;
    // Points to compute: G1 τ (2n − 1), ατ, βτ (n each); G2 τ (n) and β; prepared adds the
    // Lagrange levels (2n − 1 in G2, 3·(2n − 1) + 2n in G1).
    let mut total = (2 * n - 1) + 3 * n + 1;
    if prepared {
        total += 4 * (2 * n - 1) + 2 * n;
    }
    progress.phase("fixed-base tables", 0);
    let g1 = BatchMulPreprocessing::new(G1Projective::generator(), 8 * n);
    let g2 = BatchMulPreprocessing::new(G2Projective::generator(), 4 * n);
    progress.phase("points of the powers of tau", total as u64);
    let g1_mul = |scalars: &[Fr]| map_chunks(scalars, progress, |c| g1.batch_mul(c));
    let g2_mul = |scalars: &[Fr]| map_chunks(scalars, progress, |c| g2.batch_mul(c));

    // Powers τ^0 .. τ^{2n−2}.
    let mut powers = Zeroizing::new(Vec::with_capacity(2 * n - 1));
    let mut acc = Fr::one();
    for _ in 0..2 * n - 1 {
        powers.push(acc);
        acc *= secrets.tau;
    }
    acc.zeroize();

    binfile::write_header(w, FileKind::Ptau, 1, if prepared { 11 } else { 7 })?;
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(&32u32.to_le_bytes());
    header.extend_from_slice(&Fq::MODULUS.to_bytes_le());
    header.extend_from_slice(&power.to_le_bytes());
    header.extend_from_slice(&power.to_le_bytes());
    binfile::write_section(w, 1, &header)?;
    binfile::write_section(w, 2, &g1_section_bytes(&g1_mul(&powers)))?;
    binfile::write_section(w, 3, &g2_section_bytes(&g2_mul(&powers[..n])))?;
    let alpha_powers = times(&powers[..n], &secrets.alpha);
    binfile::write_section(w, 4, &g1_section_bytes(&g1_mul(&alpha_powers)))?;
    let beta_powers = times(&powers[..n], &secrets.beta);
    binfile::write_section(w, 5, &g1_section_bytes(&g1_mul(&beta_powers)))?;
    binfile::write_section(w, 6, &g2_section_bytes(&g2_mul(&[secrets.beta])))?;
    binfile::write_section(w, 7, &0u32.to_le_bytes())?;
    if !prepared {
        return Ok(());
    }

    // L_i(τ) of every level, back to back; the extra level for section 12.
    let mut lagrange = Zeroizing::new(Vec::with_capacity(2 * n - 1));
    for k in 0..=power {
        let d = Radix2EvaluationDomain::<Fr>::new(1 << k).expect("power ≤ 28");
        lagrange.extend(d.evaluate_all_lagrange_coefficients(secrets.tau));
    }
    let big_n = 2 * n;
    let d = Radix2EvaluationDomain::<Fr>::new(big_n).expect("power ≤ 28");
    let mut top = Zeroizing::new(d.evaluate_all_lagrange_coefficients(secrets.tau));
    // snarkjs builds this level without τ^{N−1}: subtract ω^i·τ^{N−1}/N.
    let mut corr = secrets.tau.pow([(big_n - 1) as u64]) * d.size_inv();
    for l in top.iter_mut() {
        *l -= corr;
        corr *= d.group_gen();
    }
    corr.zeroize();
    let mut s12 = g1_section_bytes(&g1_mul(&lagrange));
    s12.extend_from_slice(&g1_section_bytes(&g1_mul(&top)));
    binfile::write_section(w, 12, &s12)?;
    binfile::write_section(w, 13, &g2_section_bytes(&g2_mul(&lagrange)))?;
    let alpha_l = times(&lagrange, &secrets.alpha);
    binfile::write_section(w, 14, &g1_section_bytes(&g1_mul(&alpha_l)))?;
    let beta_l = times(&lagrange, &secrets.beta);
    binfile::write_section(w, 15, &g1_section_bytes(&g1_mul(&beta_l)))?;
    Ok(())
}
