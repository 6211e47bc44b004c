//! `zkey new`: the initial phase-2 key of a circuit, and its circuit hash (csHash).
//!
//! Format source: snarkjs 0.7.6 `zkey_new.js`. With `m` constraints, `p` public signals and
//! the domain `n = 2^k`, the smallest power of two above `m + p` (snarkjs adds one row per
//! public signal and the constant one, A-only, coefficient 1, at rows `m..=m+p`), and `L_i`
//! the Lagrange basis of that domain read from the ptau:
//!
//! - `A_j = Σ a_ij·L_i(τ)·G1`, `B1_j`, `B2_j` alike (B2 in G2);
//! - for `j ≤ p`, `IC_j = Σ (a_ij·βL_i + b_ij·αL_i + c_ij·L_i)(τ)·G1`; for `j > p` the same
//!   sum is the C (L) section entry (γ = δ = 1 in the initial key);
//! - H: the odd-indexed Lagrange points of the domain `2n` (ptau section 12, level `k+1`);
//! - coefficients: A then B terms of each constraint in file order, then the public rows;
//! - csHash: Blake2b-512 over, in order, α₁ β₁ β₂ γ₂ δ₁ δ₂ (U form), then for IC, H, C, A, B1,
//!   B2 a big-endian `u32` count and the points (U form). For H the points hashed are
//!   `τ^{i+n}·G1 − τ^i·G1` (the initial H in power form). snarkjs hashes them in chunks of
//!   2^14 whose size is `min(n − 1, 2^14)` for every chunk, so for `n ≥ 2^15` it hashes one
//!   point more than the `n − 1` it announces (`τ^{2n−1} − τ^{n−1}`). We reproduce that; when
//!   the ptau has exactly power `k` that point lies past the end of its tauG1 section (snarkjs
//!   then hashes unrelated bytes), so such a pair is refused with a clear error.
//!
//! Invariant: for the same r1cs and ptau, [`new_zkey`] builds the key whose bytes
//! (`Zkey::to_bytes`) are identical to the file `snarkjs zkey new` writes.

use super::encoding::{g1_to_u, g2_to_u};
use super::error::{Error, Result};
use super::progress::{Progress, Silent, map_chunks};
use super::ptau::Ptau;
use super::r1cs::R1cs;
use super::zkey::{Coefficient, MpcParams, NEW_KEY_ORDER, Zkey, ZkeyHeader};
use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{BigInteger, One, PrimeField, Zero};
use blake2::{Blake2b512, Digest};
#[cfg(feature = "parallel")]
use rayon::prelude::*;
use std::io::{Read, Seek};

/// Chunk size of snarkjs' H-point hashing.
const H_HASH_CHUNK: u64 = 1 << 14;

/// The domain power snarkjs picks for a circuit: the smallest `k` with `2^k > m + p`.
pub fn domain_power(num_constraints: usize, num_public: usize) -> Result<u32> {
    let v = num_constraints as u64 + num_public as u64;
    if v == 0 {
        return Err(Error::Circuit(
            "the circuit has no constraints and no public signals".into(),
        ));
    }
    // floor(log2 v) + 1, as snarkjs' log2(v) + 1.
    Ok(64 - v.leading_zeros())
}

/// How many `τ^{i+n} − τ^i` points snarkjs hashes for a domain of `n` points.
/// The smallest ptau power [`new_zkey`] (and `snarkjs zkey new`) accepts for a circuit: the
/// domain power `k`, or `k + 1` from a domain of 2^15 points on, where snarkjs 0.7.6 hashes one
/// tau point past a ptau of power `k` (see the module docs).
pub fn ptau_power(num_constraints: usize, num_public: usize) -> Result<u32> {
    let k = domain_power(num_constraints, num_public)?;
    Ok(if needs_next_power(k) { k + 1 } else { k })
}

/// Whether a domain of 2^k points hashes a tau point past a ptau of power `k`.
fn needs_next_power(k: u32) -> bool {
    let n = 1u64 << k;
    let n_hash = hashed_h_points(n);
    n_hash > 0 && n_hash - 1 + n > (2u64 << k) - 2
}

fn hashed_h_points(n: u64) -> u64 {
    let announced = n - 1;
    if announced == 0 {
        return 0;
    }
    let chunks = announced.div_ceil(H_HASH_CHUNK);
    chunks * announced.min(H_HASH_CHUNK)
}

/// Row-wise terms of one matrix transposed to columns: `cols[j] = [(row, coeff)]`.
fn columns(r1cs: &R1cs, m: usize) -> Vec<Vec<(u32, Fr)>> {
    let mut cols: Vec<Vec<(u32, Fr)>> = vec![Vec::new(); r1cs.num_wires as usize];
    for (row, c) in r1cs.constraints.iter().enumerate() {
        for &(w, v) in &c[m] {
            cols[w as usize].push((row as u32, v));
        }
    }
    cols
}

/// Columns with at least this many terms are summed with one MSM (Pippenger) instead of term
/// by term: the constant wire alone appears in most constraints, with full-size coefficients.
/// These MSMs run after the per-wire loop, not inside it: a parallel MSM nested in the
/// parallel loop lets rayon's work stealing stack one wire's work on another's until a worker's
/// stack overflows.
const MSM_COLUMN: usize = 32;

fn is_long(terms: &[(u32, Fr)]) -> bool {
    terms.len() >= MSM_COLUMN
}

/// `Σ coeff·bases[row]` of a short column (a long one adds nothing: see [`long_sum`]).
///
/// Each term is its own multiplication, adding or subtracting for ±1 (most coefficients in
/// practice). A multiplication costs a doubling per bit of the scalar, and the coefficients of
/// a bit decomposition or a linear combination are mostly small or the negation of something
/// small (`−2^i` is `r − 2^i`, 254 bits), so each term uses whichever of `v` and `−v` is
/// shorter. The multiplication is the group's (not the affine point's), which for BN254 G1
/// uses the GLV endomorphism.
fn combine<P: CurveGroup<ScalarField = Fr>>(bases: &[P::Affine], terms: &[(u32, Fr)], acc: &mut P) {
    if is_long(terms) {
        return;
    }
    let one = Fr::one();
    for &(row, v) in terms {
        let b = bases[row as usize];
        if v == one {
            *acc += b;
        } else if v == -one {
            *acc -= b;
        } else {
            let (pos, neg) = (v.into_bigint(), (-v).into_bigint());
            if neg.num_bits() < pos.num_bits() {
                *acc -= b.into_group().mul_bigint(neg);
            } else {
                *acc += b.into_group().mul_bigint(pos);
            }
        }
    }
}

/// `Σ coeff·bases[row]` of a long column, as one MSM (zero for a short one: see [`combine`]).
fn long_sum<P: CurveGroup<ScalarField = Fr>>(bases: &[P::Affine], terms: &[(u32, Fr)]) -> P {
    if !is_long(terms) {
        return P::zero();
    }
    let points: Vec<P::Affine> = terms.iter().map(|&(row, _)| bases[row as usize]).collect();
    let scalars: Vec<Fr> = terms.iter().map(|&(_, v)| v).collect();
    P::msm_unchecked(&points, &scalars)
}

/// Section 4 of the key of `r1cs`: the A then B terms of each constraint in file order, then
/// one A-row per public signal and the constant one (coefficient 1).
pub fn coefficients(r1cs: &R1cs) -> Vec<Coefficient> {
    let m = r1cs.num_constraints();
    let mut out = Vec::new();
    for (row, c) in r1cs.constraints.iter().enumerate() {
        for (matrix, lc) in c[..2].iter().enumerate() {
            for &(signal, value) in lc {
                out.push(Coefficient {
                    matrix: matrix as u32,
                    constraint: row as u32,
                    signal,
                    value,
                });
            }
        }
    }
    for s in 0..=r1cs.num_public() {
        out.push(Coefficient {
            matrix: 0,
            constraint: (m + s) as u32,
            signal: s as u32,
            value: Fr::one(),
        });
    }
    out
}

/// The circuit hash (csHash) snarkjs computes for `r1cs` and this ptau: what `zkey new`
/// records and `zkey verify` prints.
pub fn circuit_hash<R: Read + Seek>(r1cs: &R1cs, ptau: &mut Ptau<R>) -> Result<[u8; 64]> {
    Ok(new_zkey(r1cs, ptau)?.mpc.cs_hash)
}

/// Builds the initial key of `r1cs` from the prepared powers of tau: what `snarkjs zkey new`
/// writes. The circuit hash is `zkey.mpc.cs_hash`.
pub fn new_zkey<R: Read + Seek>(r1cs: &R1cs, ptau: &mut Ptau<R>) -> Result<Zkey> {
    new_zkey_with(r1cs, ptau, &Silent)
}

/// [`new_zkey`], reporting its phases to `progress`.
pub fn new_zkey_with<R: Read + Seek>(
    r1cs: &R1cs,
    ptau: &mut Ptau<R>,
    progress: &dyn Progress,
) -> Result<Zkey> {
    r1cs.validate()?;
    let m = r1cs.num_constraints();
    let p = r1cs.num_public();
    let k = domain_power(m, p)?;
    let power = ptau.power();
    if k > power {
        return Err(Error::PtauTooSmall {
            power,
            needed: k,
            why: format!("{m} constraints + {p} public inputs + 1 need a domain of 2^{k}"),
        });
    }
    let n = 1u64 << k;
    let n_hash = hashed_h_points(n);
    // τ^i for i up to n_hash - 1 + n must exist in tauG1 (2^(power+1) - 1 points).
    if power == k && needs_next_power(k) {
        return Err(Error::PtauTooSmall {
            power,
            needed: k + 1,
            why: format!(
                "for a domain of 2^{k} snarkjs 0.7.6 hashes one tau point past a ptau of power {k}"
            ),
        });
    }
    if m as u64 + p as u64 + 1 > n {
        return Err(Error::Circuit("domain computation overflow".into()));
    }

    progress.phase("reading the powers of tau", 0);
    let alpha_g1 = ptau.alpha_g1()?;
    let beta_g1 = ptau.beta_g1()?;
    let beta_g2 = ptau.beta_g2()?;
    let g1 = G1Affine::generator();
    let g2 = G2Affine::generator();

    let l_g1 = ptau.lagrange_tau_g1(k)?;
    let l_g2 = ptau.lagrange_tau_g2(k)?;
    let l_alpha = ptau.lagrange_alpha_tau_g1(k)?;
    let l_beta = ptau.lagrange_beta_tau_g1(k)?;

    let at = columns(r1cs, 0);
    let bt = columns(r1cs, 1);
    let ct = columns(r1cs, 2);
    let wires = r1cs.num_wires as usize;

    // A, B1, B2, and K = β·A + α·B + C per wire (IC for public wires, L for the others).
    progress.phase("A, B and C of each wire", wires as u64);
    let wire_ids: Vec<usize> = (0..wires).collect();
    let per_wire = map_chunks(&wire_ids, progress, |chunk| {
        ark_std::cfg_iter!(chunk)
            .map(|&j| {
                let mut a = G1Projective::zero();
                let mut b1 = G1Projective::zero();
                let mut b2 = G2Projective::zero();
                let mut kk = G1Projective::zero();
                combine(&l_g1, &at[j], &mut a);
                combine(&l_g1, &bt[j], &mut b1);
                combine(&l_g2, &bt[j], &mut b2);
                combine(&l_beta, &at[j], &mut kk);
                combine(&l_alpha, &bt[j], &mut kk);
                combine(&l_g1, &ct[j], &mut kk);
                if j <= p {
                    a += l_g1[m + j];
                    kk += l_beta[m + j];
                }
                (a, b1, b2, kk)
            })
            .collect()
    });
    let (mut a, mut b1, mut b2, mut kk) = (
        Vec::with_capacity(wires),
        Vec::with_capacity(wires),
        Vec::with_capacity(wires),
        Vec::with_capacity(wires),
    );
    for (j, (mut x, mut y, mut z, mut w)) in per_wire.into_iter().enumerate() {
        // The long columns the loop left out, each one MSM (parallel inside).
        x += long_sum::<G1Projective>(&l_g1, &at[j]);
        w += long_sum::<G1Projective>(&l_beta, &at[j]);
        y += long_sum::<G1Projective>(&l_g1, &bt[j]);
        z += long_sum::<G2Projective>(&l_g2, &bt[j]);
        w += long_sum::<G1Projective>(&l_alpha, &bt[j]);
        w += long_sum::<G1Projective>(&l_g1, &ct[j]);
        a.push(x);
        b1.push(y);
        b2.push(z);
        kk.push(w);
    }
    let a = G1Projective::normalize_batch(&a);
    let b1 = G1Projective::normalize_batch(&b1);
    let b2 = G2Projective::normalize_batch(&b2);
    let kk = G1Projective::normalize_batch(&kk);
    let ic = kk[..=p].to_vec();
    let l = kk[p + 1..].to_vec();

    // H: odd Lagrange points of the domain 2n.
    progress.phase("H and the circuit hash", 0);
    let l2 = ptau.lagrange_tau_g1(k + 1)?;
    let h: Vec<G1Affine> = (0..n as usize).map(|i| l2[2 * i + 1]).collect();

    let coefficients = coefficients(r1cs);

    // csHash.
    let mut hasher = Blake2b512::new();
    hasher.update(g1_to_u(&alpha_g1));
    hasher.update(g1_to_u(&beta_g1));
    hasher.update(g2_to_u(&beta_g2));
    hasher.update(g2_to_u(&g2));
    hasher.update(g1_to_u(&g1));
    hasher.update(g2_to_u(&g2));
    let hash_g1s = |h: &mut Blake2b512, pts: &[G1Affine]| {
        h.update((pts.len() as u32).to_be_bytes());
        for q in pts {
            h.update(g1_to_u(q));
        }
    };
    hash_g1s(&mut hasher, &ic);
    hasher.update(((n - 1) as u32).to_be_bytes());
    if n_hash > 0 {
        let lo = ptau.tau_g1(0, n_hash)?;
        let hi = ptau.tau_g1(n, n_hash)?;
        let diffs: Vec<G1Projective> = lo
            .iter()
            .zip(&hi)
            .map(|(lo, hi)| G1Projective::from(*hi) - lo)
            .collect();
        for q in G1Projective::normalize_batch(&diffs) {
            hasher.update(g1_to_u(&q));
        }
    }
    hash_g1s(&mut hasher, &l);
    hash_g1s(&mut hasher, &a);
    hash_g1s(&mut hasher, &b1);
    hasher.update((b2.len() as u32).to_be_bytes());
    for q in &b2 {
        hasher.update(g2_to_u(q));
    }
    let cs_hash: [u8; 64] = hasher.finalize().into();

    Ok(Zkey {
        header: ZkeyHeader {
            n_vars: r1cs.num_wires,
            n_public: p as u32,
            domain_size: n as u32,
            alpha_g1,
            beta_g1,
            beta_g2,
            gamma_g2: g2,
            delta_g1: G1Projective::generator().into_affine(),
            delta_g2: g2,
        },
        ic,
        coefficients,
        a,
        b1,
        b2,
        l,
        h,
        mpc: MpcParams {
            cs_hash,
            contributions: Vec::new(),
        },
        section_order: NEW_KEY_ORDER,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_agrees_with_the_plain_sum_on_both_paths() {
        use ark_std::UniformRand;
        let mut rng = ark_std::test_rng();
        let bases: Vec<G1Affine> = (0..80).map(|_| G1Affine::rand(&mut rng)).collect();
        for len in [1, 5, MSM_COLUMN - 1, MSM_COLUMN, 70] {
            let terms: Vec<(u32, Fr)> = (0..len)
                .map(|i| {
                    let v = match i % 5 {
                        0 => Fr::one(),
                        1 => -Fr::one(),
                        2 => -Fr::from(1u64 << (i % 60)),
                        3 => Fr::from(i as u64),
                        _ => Fr::rand(&mut rng),
                    };
                    ((i * 7 % 80) as u32, v)
                })
                .collect();
            let plain: G1Projective = terms.iter().map(|&(row, v)| bases[row as usize] * v).sum();
            let mut ours = long_sum::<G1Projective>(&bases, &terms);
            combine(&bases, &terms, &mut ours);
            assert_eq!(ours, plain, "{len} terms");
        }
    }

    #[test]
    fn ptau_power_is_one_more_from_two_to_the_fifteen() {
        assert_eq!(ptau_power(22, 9).unwrap(), 5);
        // 2^14 points: the last chunk stays inside a ptau of power 14.
        assert_eq!(ptau_power((1 << 14) - 20, 9).unwrap(), 14);
        // 2^15 and up: one power more (N = 16 at D = 20 has a domain of 2^17 and needs 18).
        assert_eq!(ptau_power((1 << 15) - 20, 9).unwrap(), 16);
        assert_eq!(ptau_power(106_632, 9).unwrap(), 18);
    }

    #[test]
    fn domain_power_matches_snarkjs() {
        assert_eq!(domain_power(1, 0).unwrap(), 1);
        assert_eq!(domain_power(3, 0).unwrap(), 2);
        assert_eq!(domain_power(3, 1).unwrap(), 3);
        assert_eq!(domain_power(22, 9).unwrap(), 5);
        assert_eq!(domain_power(23, 9).unwrap(), 6);
        assert!(domain_power(0, 0).is_err());
    }

    #[test]
    fn hashed_h_point_count() {
        assert_eq!(hashed_h_points(1), 0);
        assert_eq!(hashed_h_points(32), 31);
        assert_eq!(hashed_h_points(1 << 14), (1 << 14) - 1);
        assert_eq!(hashed_h_points(1 << 15), 1 << 15);
        assert_eq!(hashed_h_points(1 << 19), 1 << 19);
    }
}
