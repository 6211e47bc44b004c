//! The iden3 `.wtns` witness format (writer only): what `snarkjs groth16 prove` and
//! `snarkjs wtns check` read.
//!
//! Format source: snarkjs 0.7.6 `wtns_utils.js` (`write`). Container magic `wtns`, version 2,
//! two sections:
//! 1. header: `u32 n8 (=32)`, prime `r` (n8 bytes LE), `u32 nWitness`;
//! 2. the witness: `nWitness` values, each a standard (not Montgomery) LE scalar, in wire
//!    order `[1, public..., private...]`, which is arkworks' column order (see [`super::r1cs`]).
//!
//! A witness holds every secret of its statement. Credence writes one only for the synthetic
//! claims of `credence bench --peers` (so that snarkjs proves exactly our circuit), never for a
//! real claim; the caller creates the file owner-only anyway.

use super::binfile;
use super::encoding::{FR_BYTES, fr_to_le};
use super::error::{FileKind, Result};
use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use std::io::Write;
use zeroize::Zeroizing;

/// The version snarkjs 0.7.6 writes.
pub const WTNS_VERSION: u32 = 2;

/// Writes the full witness `z = [1, public..., private...]` as a `.wtns`.
pub fn write_wtns<W: Write>(z: &[Fr], w: &mut W) -> Result<()> {
    binfile::write_header(w, FileKind::Wtns, WTNS_VERSION, 2)?;
    let mut header = Vec::with_capacity(4 + FR_BYTES + 4);
    header.extend_from_slice(&(FR_BYTES as u32).to_le_bytes());
    header.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    header.extend_from_slice(&(z.len() as u32).to_le_bytes());
    binfile::write_section(w, 1, &header)?;
    // The encoded witness is as secret as `z`: wiped when dropped.
    let mut values = Zeroizing::new(Vec::with_capacity(z.len() * FR_BYTES));
    for v in z {
        values.extend_from_slice(&fr_to_le(v));
    }
    binfile::write_section(w, 2, &values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let z = [Fr::from(1u64), Fr::from(7u64), -Fr::from(1u64)];
        let mut out = Vec::new();
        write_wtns(&z, &mut out).unwrap();
        assert_eq!(&out[..12], b"wtns\x02\x00\x00\x00\x02\x00\x00\x00");
        // Section 1: id 1, 40 bytes: n8 = 32, r, nWitness = 3.
        assert_eq!(&out[12..16], &1u32.to_le_bytes());
        assert_eq!(&out[16..24], &40u64.to_le_bytes());
        assert_eq!(&out[24..28], &32u32.to_le_bytes());
        assert_eq!(&out[28..60], &Fr::MODULUS.to_bytes_le()[..]);
        assert_eq!(&out[60..64], &3u32.to_le_bytes());
        // Section 2: id 2, 96 bytes of standard LE scalars.
        assert_eq!(&out[64..68], &2u32.to_le_bytes());
        assert_eq!(&out[68..76], &96u64.to_le_bytes());
        assert_eq!(out[76], 1);
        assert_eq!(out[108], 7);
        let mut minus_one = Fr::MODULUS;
        minus_one.sub_with_borrow(&1u64.into());
        assert_eq!(&out[140..172], &minus_one.to_bytes_le()[..]);
        assert_eq!(out.len(), 172);
    }
}
