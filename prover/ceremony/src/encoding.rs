//! Byte encodings of BN254 field elements and points used by snarkjs/ffjavascript.
//!
//! Format source: ffjavascript 0.3 (`wasm_curve.js` `toRprLEM`/`toRprUncompressed`), wasmcurves
//! (`LEMtoU`), snarkjs `zkey_utils.js` (`writeFr2`), r1csfile (coefficients).
//!
//! - **LEM** (files): each base-field coordinate as its Montgomery form, 32 bytes
//!   little-endian; `Fq2 = c0 ‖ c1`; a point is `x ‖ y`; the point at infinity is all zeros.
//!   arkworks keeps `Fq` in Montgomery form with the same `R = 2^256`, so the limbs are the
//!   bytes.
//! - **U** (hashes: csHash, transcripts): each coordinate in standard form, big-endian; an
//!   `Fq2` is `c1 ‖ c0` (the whole 64-byte element byte-reversed); infinity is all zeros.
//! - **Fr, standard LE** (`.r1cs` coefficients): 32 bytes little-endian, reduced.
//! - **Fr "R²"** (zkey section 4): the value times `R² mod r`, standard LE.
//!
//! Invariant: decoding accepts only reduced coordinates and points on the curve (and, where
//! asked, in the prime-order subgroup), so decode and encode are inverse bijections and
//! re-encoding a decoded section reproduces its bytes.

use super::error::{Error, FileKind, Result};
use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, PrimeField, Zero};
#[cfg(feature = "parallel")]
use rayon::prelude::*;

/// Bytes of a base-field element.
pub const FQ_BYTES: usize = 32;
/// Bytes of a scalar.
pub const FR_BYTES: usize = 32;
/// Bytes of a G1 point (LEM or U).
pub const G1_BYTES: usize = 64;
/// Bytes of a G2 point (LEM or U).
pub const G2_BYTES: usize = 128;

fn limbs_le(bytes: &[u8]) -> [u64; 4] {
    let mut l = [0u64; 4];
    for (i, chunk) in bytes.chunks_exact(8).enumerate().take(4) {
        l[i] = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    }
    l
}

fn limbs_to_le(l: &[u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in l.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// An `Fq` from its LEM bytes, if reduced.
pub fn fq_from_lem(bytes: &[u8]) -> Option<Fq> {
    let b = BigInt::new(limbs_le(bytes));
    (b < Fq::MODULUS).then(|| Fq::new_unchecked(b))
}

/// The LEM bytes of an `Fq`.
pub fn fq_to_lem(f: &Fq) -> [u8; 32] {
    limbs_to_le(&f.0.0)
}

/// The big-endian standard bytes of an `Fq`.
pub fn fq_to_be(f: &Fq) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&f.into_bigint().to_bytes_be());
    out
}

/// A scalar from standard little-endian bytes, if reduced.
pub fn fr_from_le(bytes: &[u8]) -> Option<Fr> {
    Fr::from_bigint(BigInt::new(limbs_le(bytes)))
}

/// The standard little-endian bytes of a scalar.
pub fn fr_to_le(f: &Fr) -> [u8; 32] {
    limbs_to_le(&f.into_bigint().0)
}

/// A scalar from its zkey "R²" encoding (`v·R² mod r`, standard LE), if reduced.
pub fn fr_from_r2(bytes: &[u8]) -> Option<Fr> {
    let s = BigInt::new(limbs_le(bytes));
    if s >= Fr::MODULUS {
        return None;
    }
    // new_unchecked(s) has value s·R⁻¹ = v·R, whose standard integer is then v's Montgomery form.
    Some(Fr::new_unchecked(Fr::new_unchecked(s).into_bigint()))
}

/// The zkey "R²" encoding of a scalar.
pub fn fr_to_r2(v: &Fr) -> [u8; 32] {
    // from_bigint(v·R) stores (v·R)·R in Montgomery form.
    limbs_to_le(
        &Fr::from_bigint(v.0)
            .expect("Montgomery limbs are reduced")
            .0
            .0,
    )
}

/// How much to check when decoding a G2 point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum G2Check {
    /// On the curve only (the point is compared with a rebuilt one, or only used by a prover).
    OnCurve,
    /// On the curve and in the prime-order subgroup (the point enters a pairing check).
    Subgroup,
}

/// A G1 point from LEM bytes.
pub fn g1_from_lem(bytes: &[u8]) -> Result<G1Affine, &'static str> {
    if bytes.iter().all(|&b| b == 0) {
        return Ok(G1Affine::identity());
    }
    let x = fq_from_lem(&bytes[..32]).ok_or("coordinate not reduced")?;
    let y = fq_from_lem(&bytes[32..64]).ok_or("coordinate not reduced")?;
    let p = G1Affine::new_unchecked(x, y);
    // BN254 G1 has cofactor 1: on the curve means in the group.
    if !p.is_on_curve() {
        return Err("not on the curve");
    }
    Ok(p)
}

/// The LEM bytes of a G1 point.
pub fn g1_to_lem(p: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    if !p.is_zero() {
        out[..32].copy_from_slice(&fq_to_lem(&p.x));
        out[32..].copy_from_slice(&fq_to_lem(&p.y));
    }
    out
}

/// The U (uncompressed, big-endian) bytes of a G1 point, as snarkjs hashes it.
pub fn g1_to_u(p: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    if !p.is_zero() {
        out[..32].copy_from_slice(&fq_to_be(&p.x));
        out[32..].copy_from_slice(&fq_to_be(&p.y));
    }
    out
}

fn fq2_from_lem(bytes: &[u8]) -> Option<Fq2> {
    Some(Fq2::new(
        fq_from_lem(&bytes[..32])?,
        fq_from_lem(&bytes[32..64])?,
    ))
}

fn fq2_to_lem(f: &Fq2) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&fq_to_lem(&f.c0));
    out[32..].copy_from_slice(&fq_to_lem(&f.c1));
    out
}

fn fq2_to_be(f: &Fq2) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&fq_to_be(&f.c1));
    out[32..].copy_from_slice(&fq_to_be(&f.c0));
    out
}

/// A G2 point from LEM bytes.
pub fn g2_from_lem(bytes: &[u8], check: G2Check) -> Result<G2Affine, &'static str> {
    if bytes.iter().all(|&b| b == 0) {
        return Ok(G2Affine::identity());
    }
    let x = fq2_from_lem(&bytes[..64]).ok_or("coordinate not reduced")?;
    let y = fq2_from_lem(&bytes[64..128]).ok_or("coordinate not reduced")?;
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err("not on the curve");
    }
    if check == G2Check::Subgroup && !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err("not in the prime-order subgroup");
    }
    Ok(p)
}

/// The LEM bytes of a G2 point.
pub fn g2_to_lem(p: &G2Affine) -> [u8; 128] {
    let mut out = [0u8; 128];
    if !p.is_zero() {
        out[..64].copy_from_slice(&fq2_to_lem(&p.x));
        out[64..].copy_from_slice(&fq2_to_lem(&p.y));
    }
    out
}

/// The U (uncompressed, big-endian) bytes of a G2 point, as snarkjs hashes it.
pub fn g2_to_u(p: &G2Affine) -> [u8; 128] {
    let mut out = [0u8; 128];
    if !p.is_zero() {
        out[..64].copy_from_slice(&fq2_to_be(&p.x));
        out[64..].copy_from_slice(&fq2_to_be(&p.y));
    }
    out
}

/// Decodes a whole section of G1 points (LEM), naming the first bad one.
pub fn g1_section(bytes: &[u8], kind: FileKind, section: &'static str) -> Result<Vec<G1Affine>> {
    if !bytes.len().is_multiple_of(G1_BYTES) {
        return Err(Error::Malformed {
            kind,
            what: format!(
                "{section}: {} bytes is not a whole number of G1 points",
                bytes.len()
            ),
        });
    }
    ark_std::cfg_chunks!(bytes, G1_BYTES)
        .enumerate()
        .map(|(index, c)| {
            g1_from_lem(c).map_err(|why| Error::BadPoint {
                kind,
                section,
                index,
                group: "G1",
                why,
            })
        })
        .collect()
}

/// Decodes a whole section of G2 points (LEM), naming the first bad one.
pub fn g2_section(
    bytes: &[u8],
    kind: FileKind,
    section: &'static str,
    check: G2Check,
) -> Result<Vec<G2Affine>> {
    if !bytes.len().is_multiple_of(G2_BYTES) {
        return Err(Error::Malformed {
            kind,
            what: format!(
                "{section}: {} bytes is not a whole number of G2 points",
                bytes.len()
            ),
        });
    }
    ark_std::cfg_chunks!(bytes, G2_BYTES)
        .enumerate()
        .map(|(index, c)| {
            g2_from_lem(c, check).map_err(|why| Error::BadPoint {
                kind,
                section,
                index,
                group: "G2",
                why,
            })
        })
        .collect()
}

/// Encodes G1 points (LEM) back to back.
pub fn g1_section_bytes(points: &[G1Affine]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * G1_BYTES);
    for p in points {
        out.extend_from_slice(&g1_to_lem(p));
    }
    out
}

/// Encodes G2 points (LEM) back to back.
pub fn g2_section_bytes(points: &[G2Affine]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * G2_BYTES);
    for p in points {
        out.extend_from_slice(&g2_to_lem(p));
    }
    out
}

/// A point decoded in a structure (not a section), with the error naming it.
pub(crate) fn g1_at(
    bytes: &[u8],
    kind: FileKind,
    section: &'static str,
    index: usize,
) -> Result<G1Affine> {
    g1_from_lem(bytes).map_err(|why| Error::BadPoint {
        kind,
        section,
        index,
        group: "G1",
        why,
    })
}

/// A G2 point decoded in a structure (not a section), with the error naming it.
pub(crate) fn g2_at(
    bytes: &[u8],
    kind: FileKind,
    section: &'static str,
    index: usize,
    check: G2Check,
) -> Result<G2Affine> {
    g2_from_lem(bytes, check).map_err(|why| Error::BadPoint {
        kind,
        section,
        index,
        group: "G2",
        why,
    })
}

/// True if the base-field element is "negative" in ffjavascript's sense (above (q-1)/2).
pub fn fq_is_negative(f: &Fq) -> bool {
    f.into_bigint() > Fq::MODULUS_MINUS_ONE_DIV_TWO
}

/// ffjavascript's sign of an `Fq2`: the sign of `c1`, or of `c0` when `c1` is zero.
pub fn fq2_is_negative(f: &Fq2) -> bool {
    if f.c1.is_zero() {
        fq_is_negative(&f.c0)
    } else {
        fq_is_negative(&f.c1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::UniformRand;
    use ark_std::test_rng;

    #[test]
    fn roundtrips() {
        let mut rng = test_rng();
        for _ in 0..20 {
            let v = Fr::rand(&mut rng);
            assert_eq!(fr_from_r2(&fr_to_r2(&v)), Some(v));
            assert_eq!(fr_from_le(&fr_to_le(&v)), Some(v));
            let p = (G1Affine::generator() * v).into_affine();
            assert_eq!(g1_from_lem(&g1_to_lem(&p)), Ok(p));
            let q = (G2Affine::generator() * v).into_affine();
            assert_eq!(g2_from_lem(&g2_to_lem(&q), G2Check::Subgroup), Ok(q));
        }
        assert_eq!(g1_from_lem(&[0u8; 64]), Ok(G1Affine::identity()));
        assert_eq!(g1_to_u(&G1Affine::identity()), [0u8; 64]);
        // R² encoding of 1 is R² mod r.
        let one = fr_to_r2(&Fr::from(1u64));
        let r = Fr::from(2u64).pow_u64(256);
        assert_eq!(fr_from_le(&one), Some(r * r));
    }

    trait PowU64 {
        fn pow_u64(self, e: u64) -> Self;
    }
    impl PowU64 for Fr {
        fn pow_u64(self, e: u64) -> Self {
            ark_ff::Field::pow(&self, [e])
        }
    }

    #[test]
    fn refuses_bad_points() {
        let mut b = g1_to_lem(&G1Affine::generator());
        b[40] ^= 1;
        assert_eq!(g1_from_lem(&b), Err("not on the curve"));
        let b = [0xffu8; 64];
        assert_eq!(g1_from_lem(&b), Err("coordinate not reduced"));
        let mut b = g2_to_lem(&G2Affine::generator());
        b[100] ^= 1;
        assert!(g2_from_lem(&b, G2Check::OnCurve).is_err());
    }
}
