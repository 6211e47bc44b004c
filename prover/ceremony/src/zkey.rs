//! The snarkjs Groth16 `.zkey` format: reader and writer, including the phase-2 MPC section.
//!
//! Format source: snarkjs 0.7.6 `zkey_utils.js` (`writeHeader`, `readHeaderGroth16`,
//! `readZKey`, `readMPCParams`/`writeMPCParams`, `hashPubKey`) and `zkey_new.js`. Container
//! magic `zkey`, version 1, ten sections; points in LEM form, scalars as described:
//!
//! | id | content |
//! |----|---------|
//! | 1  | `u32` protocol, 1 = Groth16 |
//! | 2  | `u32 n8q`, `q`, `u32 n8r`, `r`, `u32 nVars`, `u32 nPublic`, `u32 domainSize`, α₁, β₁, β₂, γ₂, δ₁, δ₂ |
//! | 3  | IC: `nPublic + 1` G1 points `(β·A_j + α·B_j + C_j)(τ)/γ` (γ = 1) |
//! | 4  | coefficients: `u32 n`, then `n` × (`u32 matrix` 0=A 1=B, `u32 constraint`, `u32 signal`, value·R² mod r) |
//! | 5  | A: `nVars` G1 points `A_j(τ)` |
//! | 6  | B1: `nVars` G1 points `B_j(τ)` |
//! | 7  | B2: `nVars` G2 points `B_j(τ)` |
//! | 8  | C (arkworks' L): `nVars − nPublic − 1` G1 points `(β·A_j + α·B_j + C_j)(τ)/δ` |
//! | 9  | H: `domainSize` G1 points `L_{2i+1}(τ)/δ` over the domain of size `2·domainSize` |
//! | 10 | MPC: csHash (64 bytes), `u32 n`, `n` contributions |
//!
//! A contribution is `deltaAfter` (G1), `g1_s`, `g1_sx` (G1), `g2_spx` (G2), the 64-byte
//! transcript, `u32 type` (0 contribution, 1 beacon), `u32` parameter length and sorted
//! parameters (1: name ≤ 64 UTF-16 units; 2: iteration exponent; 3: beacon hash).
//!
//! `snarkjs zkey new` writes the sections in the order 1 2 4 3 9 8 5 6 7 10; `contribute` and
//! `beacon` write 1 to 10. A [`Zkey`] remembers the order it was read or built in and writes
//! it back the same way.
//!
//! Invariant: a parsed [`Zkey`] has every section at the size its header implies, every point
//! reduced and on the curve (G2 points that enter pairings — β₂, γ₂, δ₂, `g2_spx` — also in
//! the subgroup), every coefficient reduced and inside the circuit's bounds, and exactly the
//! sections 1–10 once each. Writing a parsed key reproduces its bytes.

use super::binfile::{self, BinFile, Cursor};
use super::encoding::{
    FR_BYTES, G1_BYTES, G2_BYTES, G2Check, fr_from_r2, fr_to_r2, g1_at, g1_section,
    g1_section_bytes, g1_to_lem, g1_to_u, g2_at, g2_section, g2_section_bytes, g2_to_lem, g2_to_u,
};
use super::error::{Error, FileKind, Result};
use super::ptau::parse_params_in;
use ark_bn254::{Fq, Fr, G1Affine, G2Affine};
use ark_ff::{BigInteger, PrimeField};
use blake2::{Blake2b512, Digest};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

const KIND: FileKind = FileKind::Zkey;

/// Section order of a key written by `snarkjs zkey new`.
pub const NEW_KEY_ORDER: [u32; 10] = [1, 2, 4, 3, 9, 8, 5, 6, 7, 10];
/// Section order of a key written by `snarkjs zkey contribute`/`beacon`.
pub const SEQUENTIAL_ORDER: [u32; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// The Groth16 header (section 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkeyHeader {
    /// Wires, the constant one included.
    pub n_vars: u32,
    /// Public signals, the constant one excluded.
    pub n_public: u32,
    /// Evaluation domain size (a power of two).
    pub domain_size: u32,
    /// α·G1.
    pub alpha_g1: G1Affine,
    /// β·G1.
    pub beta_g1: G1Affine,
    /// β·G2.
    pub beta_g2: G2Affine,
    /// γ·G2 (the generator in snarkjs keys).
    pub gamma_g2: G2Affine,
    /// δ·G1.
    pub delta_g1: G1Affine,
    /// δ·G2.
    pub delta_g2: G2Affine,
}

/// One entry of section 4: a nonzero A or B matrix coefficient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coefficient {
    /// 0 for A, 1 for B.
    pub matrix: u32,
    /// Row (constraints first, then one row per public signal and the constant one).
    pub constraint: u32,
    /// Column (wire).
    pub signal: u32,
    /// The coefficient.
    pub value: Fr,
}

/// What kind of contribution an MPC entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContributionKind {
    /// A participant's random contribution.
    Contribution,
    /// A public random beacon: the key is derived from the beacon hash by `2^iterations_exp`
    /// SHA-256 iterations.
    Beacon {
        /// The beacon value (e.g. a block hash), at most 255 bytes.
        hash: Vec<u8>,
        /// log2 of the number of SHA-256 iterations.
        iterations_exp: u8,
    },
}

/// One phase-2 contribution as recorded in section 10.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// δ·G1 after this contribution.
    pub delta_after: G1Affine,
    /// The random base `s` of the proof of knowledge.
    pub g1_s: G1Affine,
    /// `s·x` for the contribution's secret `x`.
    pub g1_sx: G1Affine,
    /// `hashToG2(transcript)·x`.
    pub g2_spx: G2Affine,
    /// The transcript hash the proof of knowledge is bound to.
    pub transcript: [u8; 64],
    /// Contribution or beacon.
    pub kind: ContributionKind,
    /// The participant's name, if any.
    pub name: Option<String>,
}

impl Contribution {
    /// Feeds snarkjs' `hashPubKey` of this contribution into `h`.
    pub fn hash_pub_key(&self, h: &mut Blake2b512) {
        h.update(g1_to_u(&self.delta_after));
        h.update(g1_to_u(&self.g1_s));
        h.update(g1_to_u(&self.g1_sx));
        h.update(g2_to_u(&self.g2_spx));
        h.update(self.transcript);
    }

    /// The contribution hash snarkjs prints: Blake2b-512 of `hashPubKey`.
    pub fn contribution_hash(&self) -> [u8; 64] {
        let mut h = Blake2b512::new();
        self.hash_pub_key(&mut h);
        h.finalize().into()
    }
}

/// Section 10.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpcParams {
    /// Blake2b-512 of the initial key (the circuit hash).
    pub cs_hash: [u8; 64],
    /// Contributions in order.
    pub contributions: Vec<Contribution>,
}

/// A Groth16 zkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zkey {
    /// Section 2.
    pub header: ZkeyHeader,
    /// Section 3.
    pub ic: Vec<G1Affine>,
    /// Section 4.
    pub coefficients: Vec<Coefficient>,
    /// Section 5.
    pub a: Vec<G1Affine>,
    /// Section 6.
    pub b1: Vec<G1Affine>,
    /// Section 7.
    pub b2: Vec<G2Affine>,
    /// Section 8 (snarkjs calls it C, arkworks L).
    pub l: Vec<G1Affine>,
    /// Section 9.
    pub h: Vec<G1Affine>,
    /// Section 10.
    pub mpc: MpcParams,
    /// Order the sections are written in.
    pub section_order: [u32; 10],
}

fn size_err(id: u32, name: &'static str, expected: u64, found: u64) -> Error {
    Error::SectionSize {
        kind: KIND,
        id,
        name,
        expected,
        found,
    }
}

impl Zkey {
    /// Opens a `.zkey` file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::read(BufReader::new(File::open(path)?))
    }

    /// Parses a `.zkey` from bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::read(std::io::Cursor::new(bytes))
    }

    /// Reads and checks a Groth16 `.zkey`.
    pub fn read<R: Read + Seek>(reader: R) -> Result<Self> {
        let mut f = BinFile::open(reader, KIND, 1)?;
        let order = f.section_order();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        if sorted != SEQUENTIAL_ORDER {
            return Err(Error::Malformed {
                kind: KIND,
                what: format!("expected sections 1 to 10 once each, found {order:?}"),
            });
        }
        let section_order: [u32; 10] = order.try_into().expect("10 sections");

        let s1 = f.read_section(1, "protocol")?;
        let mut c = Cursor::new(&s1, KIND, "protocol");
        let protocol = c.u32()?;
        c.finish()?;
        if protocol != 1 {
            return Err(Error::NotGroth16(protocol));
        }

        let header = parse_header(&f.read_section(2, "Groth16 header")?)?;
        let nv = header.n_vars as u64;
        let np = header.n_public as u64;
        let ds = header.domain_size as u64;
        let g1 = G1_BYTES as u64;
        let g2 = G2_BYTES as u64;

        let check = |f: &BinFile<R>, id: u32, name: &'static str, expected: u64| -> Result<()> {
            let s = f.section(id, name)?;
            if s.len != expected {
                return Err(size_err(id, name, expected, s.len));
            }
            Ok(())
        };
        check(&f, 3, "IC", (np + 1) * g1)?;
        check(&f, 5, "A", nv * g1)?;
        check(&f, 6, "B1", nv * g1)?;
        check(&f, 7, "B2", nv * g2)?;
        check(&f, 8, "C", (nv - np - 1) * g1)?;
        check(&f, 9, "H", ds * g1)?;

        let ic = g1_section(&f.read_section(3, "IC")?, KIND, "IC")?;
        let coefficients = parse_coefficients(&f.read_section(4, "coefficients")?, &header)?;
        let a = g1_section(&f.read_section(5, "A")?, KIND, "A")?;
        let b1 = g1_section(&f.read_section(6, "B1")?, KIND, "B1")?;
        let b2 = g2_section(&f.read_section(7, "B2")?, KIND, "B2", G2Check::OnCurve)?;
        let l = g1_section(&f.read_section(8, "C")?, KIND, "C")?;
        let h = g1_section(&f.read_section(9, "H")?, KIND, "H")?;
        let mpc = parse_mpc(&f.read_section(10, "MPC parameters")?)?;
        Ok(Zkey {
            header,
            ic,
            coefficients,
            a,
            b1,
            b2,
            l,
            h,
            mpc,
            section_order,
        })
    }

    /// The bytes of one section's content.
    pub fn section_bytes(&self, id: u32) -> Vec<u8> {
        match id {
            1 => 1u32.to_le_bytes().to_vec(),
            2 => header_bytes(&self.header),
            3 => g1_section_bytes(&self.ic),
            4 => coefficient_bytes(&self.coefficients),
            5 => g1_section_bytes(&self.a),
            6 => g1_section_bytes(&self.b1),
            7 => g2_section_bytes(&self.b2),
            8 => g1_section_bytes(&self.l),
            9 => g1_section_bytes(&self.h),
            10 => mpc_bytes(&self.mpc),
            _ => Vec::new(),
        }
    }

    /// Writes the key in its section order.
    pub fn write<W: Write>(&self, w: &mut W) -> Result<()> {
        binfile::write_header(w, KIND, 1, 10)?;
        for id in self.section_order {
            binfile::write_section(w, id, &self.section_bytes(id))?;
        }
        Ok(())
    }

    /// The file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// Writes the key to a file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut w = BufWriter::new(File::create(path)?);
        self.write(&mut w)?;
        w.flush()?;
        Ok(())
    }

    /// The circuit hash (csHash) recorded in the key.
    pub fn circuit_hash(&self) -> &[u8; 64] {
        &self.mpc.cs_hash
    }
}

fn parse_header(bytes: &[u8]) -> Result<ZkeyHeader> {
    let mut c = Cursor::new(bytes, KIND, "Groth16 header");
    let n8q = c.u32()?;
    if n8q != 32 || c.bytes(32)? != Fq::MODULUS.to_bytes_le().as_slice() {
        return Err(Error::WrongCurve {
            kind: KIND,
            what: "q is not the BN254 base field",
        });
    }
    let n8r = c.u32()?;
    if n8r != 32 || c.bytes(32)? != Fr::MODULUS.to_bytes_le().as_slice() {
        return Err(Error::WrongCurve {
            kind: KIND,
            what: "r is not the BN254 scalar field",
        });
    }
    let n_vars = c.u32()?;
    let n_public = c.u32()?;
    let domain_size = c.u32()?;
    if n_public as u64 + 1 > n_vars as u64 {
        return Err(Error::Malformed {
            kind: KIND,
            what: format!("{n_public} public signals do not fit in {n_vars} variables"),
        });
    }
    if !domain_size.is_power_of_two() {
        return Err(Error::Malformed {
            kind: KIND,
            what: format!("domain size {domain_size} is not a power of two"),
        });
    }
    let s = "Groth16 header";
    let header = ZkeyHeader {
        n_vars,
        n_public,
        domain_size,
        alpha_g1: g1_at(c.bytes(G1_BYTES)?, KIND, s, 0)?,
        beta_g1: g1_at(c.bytes(G1_BYTES)?, KIND, s, 1)?,
        beta_g2: g2_at(c.bytes(G2_BYTES)?, KIND, s, 2, G2Check::Subgroup)?,
        gamma_g2: g2_at(c.bytes(G2_BYTES)?, KIND, s, 3, G2Check::Subgroup)?,
        delta_g1: g1_at(c.bytes(G1_BYTES)?, KIND, s, 4)?,
        delta_g2: g2_at(c.bytes(G2_BYTES)?, KIND, s, 5, G2Check::Subgroup)?,
    };
    c.finish()?;
    Ok(header)
}

fn header_bytes(h: &ZkeyHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(660);
    out.extend_from_slice(&32u32.to_le_bytes());
    out.extend_from_slice(&Fq::MODULUS.to_bytes_le());
    out.extend_from_slice(&32u32.to_le_bytes());
    out.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    out.extend_from_slice(&h.n_vars.to_le_bytes());
    out.extend_from_slice(&h.n_public.to_le_bytes());
    out.extend_from_slice(&h.domain_size.to_le_bytes());
    out.extend_from_slice(&g1_to_lem(&h.alpha_g1));
    out.extend_from_slice(&g1_to_lem(&h.beta_g1));
    out.extend_from_slice(&g2_to_lem(&h.beta_g2));
    out.extend_from_slice(&g2_to_lem(&h.gamma_g2));
    out.extend_from_slice(&g1_to_lem(&h.delta_g1));
    out.extend_from_slice(&g2_to_lem(&h.delta_g2));
    out
}

const COEF_BYTES: usize = 12 + FR_BYTES;

fn parse_coefficients(bytes: &[u8], h: &ZkeyHeader) -> Result<Vec<Coefficient>> {
    let mut c = Cursor::new(bytes, KIND, "coefficients");
    let n = c.u32()? as u64;
    let expected = 4 + n * COEF_BYTES as u64;
    if expected != bytes.len() as u64 {
        return Err(size_err(4, "coefficients", expected, bytes.len() as u64));
    }
    let mut out = Vec::with_capacity(n as usize);
    for index in 0..n as usize {
        let matrix = c.u32()?;
        let constraint = c.u32()?;
        let signal = c.u32()?;
        let value = fr_from_r2(c.bytes(FR_BYTES)?).ok_or(Error::BadScalar {
            kind: KIND,
            section: "coefficients",
            index,
        })?;
        if matrix > 1 || constraint >= h.domain_size || signal >= h.n_vars {
            return Err(Error::Malformed {
                kind: KIND,
                what: format!(
                    "coefficient {index} (matrix {matrix}, row {constraint}, signal {signal}) is out of bounds"
                ),
            });
        }
        out.push(Coefficient {
            matrix,
            constraint,
            signal,
            value,
        });
    }
    Ok(out)
}

pub(crate) fn coefficient_bytes(coefs: &[Coefficient]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + coefs.len() * COEF_BYTES);
    out.extend_from_slice(&(coefs.len() as u32).to_le_bytes());
    for k in coefs {
        out.extend_from_slice(&k.matrix.to_le_bytes());
        out.extend_from_slice(&k.constraint.to_le_bytes());
        out.extend_from_slice(&k.signal.to_le_bytes());
        out.extend_from_slice(&fr_to_r2(&k.value));
    }
    out
}

fn parse_mpc(bytes: &[u8]) -> Result<MpcParams> {
    const FIXED: usize = 3 * G1_BYTES + G2_BYTES + 64 + 8;
    let mut c = Cursor::new(bytes, KIND, "MPC parameters");
    let cs_hash = c.array::<64>()?;
    let n = c.u32()? as usize;
    if n > c.remaining() / FIXED {
        return Err(binfile::truncated(
            KIND,
            format!("{n} contributions announced"),
        ));
    }
    let mut contributions = Vec::with_capacity(n);
    let s = "MPC contribution";
    for i in 0..n {
        let delta_after = g1_at(c.bytes(G1_BYTES)?, KIND, s, i)?;
        let g1_s = g1_at(c.bytes(G1_BYTES)?, KIND, s, i)?;
        let g1_sx = g1_at(c.bytes(G1_BYTES)?, KIND, s, i)?;
        let g2_spx = g2_at(c.bytes(G2_BYTES)?, KIND, s, i, G2Check::Subgroup)?;
        let transcript = c.array::<64>()?;
        let typ = c.u32()?;
        let params = parse_params_in(&mut c, KIND, i)?;
        let kind = match (typ, params.exp, params.hash) {
            (0, _, _) => ContributionKind::Contribution,
            (1, Some(iterations_exp), Some(hash)) => ContributionKind::Beacon {
                hash,
                iterations_exp,
            },
            _ => {
                return Err(Error::Malformed {
                    kind: KIND,
                    what: format!(
                        "contribution {} has type {typ} and parameters that do not fit it",
                        i + 1
                    ),
                });
            }
        };
        contributions.push(Contribution {
            delta_after,
            g1_s,
            g1_sx,
            g2_spx,
            transcript,
            kind,
            name: params.name,
        });
    }
    c.finish()?;
    Ok(MpcParams {
        cs_hash,
        contributions,
    })
}

/// Truncates a name as snarkjs does (`substring(0, 64)`: 64 UTF-16 code units; a character
/// that would straddle the limit is dropped whole).
pub fn truncate_name(name: &str) -> &str {
    let mut units = 0;
    for (i, ch) in name.char_indices() {
        units += ch.len_utf16();
        if units > 64 {
            return &name[..i];
        }
    }
    name
}

fn mpc_bytes(m: &MpcParams) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&m.cs_hash);
    out.extend_from_slice(&(m.contributions.len() as u32).to_le_bytes());
    for c in &m.contributions {
        out.extend_from_slice(&g1_to_lem(&c.delta_after));
        out.extend_from_slice(&g1_to_lem(&c.g1_s));
        out.extend_from_slice(&g1_to_lem(&c.g1_sx));
        out.extend_from_slice(&g2_to_lem(&c.g2_spx));
        out.extend_from_slice(&c.transcript);
        let typ: u32 = match c.kind {
            ContributionKind::Contribution => 0,
            ContributionKind::Beacon { .. } => 1,
        };
        out.extend_from_slice(&typ.to_le_bytes());
        let mut params = Vec::new();
        if let Some(name) = c.name.as_deref().filter(|n| !n.is_empty()) {
            let b = truncate_name(name).as_bytes();
            params.push(1);
            params.push(b.len() as u8);
            params.extend_from_slice(b);
        }
        if let ContributionKind::Beacon {
            hash,
            iterations_exp,
        } = &c.kind
        {
            params.push(2);
            params.push(*iterations_exp);
            params.push(3);
            // Beacon hashes are limited to 255 bytes when made; a longer one cannot be parsed.
            let hash = &hash[..hash.len().min(255)];
            params.push(hash.len() as u8);
            params.extend_from_slice(hash);
        }
        out.extend_from_slice(&(params.len() as u32).to_le_bytes());
        out.extend_from_slice(&params);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};

    /// A small, structurally valid key (not a real circuit's).
    fn synthetic() -> Zkey {
        let g1 = |k: u64| (G1Affine::generator() * Fr::from(k)).into_affine();
        let g2 = |k: u64| (G2Affine::generator() * Fr::from(k)).into_affine();
        Zkey {
            header: ZkeyHeader {
                n_vars: 4,
                n_public: 1,
                domain_size: 4,
                alpha_g1: g1(2),
                beta_g1: g1(3),
                beta_g2: g2(3),
                gamma_g2: g2(1),
                delta_g1: g1(5),
                delta_g2: g2(5),
            },
            ic: vec![g1(7), g1(8)],
            coefficients: vec![Coefficient {
                matrix: 1,
                constraint: 2,
                signal: 3,
                value: Fr::from(9u64),
            }],
            a: vec![g1(1), G1Affine::identity(), g1(3), g1(4)],
            b1: vec![g1(5), g1(6), g1(7), g1(8)],
            b2: vec![g2(5), g2(6), G2Affine::identity(), g2(8)],
            l: vec![g1(11), g1(12)],
            h: vec![g1(13), g1(14), g1(15), g1(16)],
            mpc: MpcParams {
                cs_hash: [7u8; 64],
                contributions: vec![Contribution {
                    delta_after: g1(5),
                    g1_s: g1(17),
                    g1_sx: g1(85),
                    g2_spx: g2(19),
                    transcript: [3u8; 64],
                    kind: ContributionKind::Beacon {
                        hash: vec![1, 2, 3],
                        iterations_exp: 10,
                    },
                    name: Some("zoë".into()),
                }],
            },
            section_order: NEW_KEY_ORDER,
        }
    }

    #[test]
    fn roundtrip_and_garbage() {
        let z = synthetic();
        let bytes = z.to_bytes();
        let back = Zkey::from_bytes(&bytes).unwrap();
        assert_eq!(back, z);
        assert_eq!(back.to_bytes(), bytes);
        for cut in 0..bytes.len() {
            assert!(Zkey::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for pos in 0..bytes.len() {
            let mut b = bytes.clone();
            b[pos] ^= 0xa5;
            // Refused or parsed, never a panic; a parsed key re-encodes to its bytes.
            // (Names are decoded lossily, as snarkjs' TextDecoder does.)
            if let Ok(k) = Zkey::from_bytes(&b) {
                let lossy = k
                    .mpc
                    .contributions
                    .iter()
                    .any(|c| c.name.as_deref().is_some_and(|n| n.contains('\u{fffd}')));
                if !lossy {
                    assert_eq!(k.to_bytes(), b, "flip at {pos}");
                }
            }
        }
        let noise: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect();
        assert!(Zkey::from_bytes(&noise).is_err());
        let mut plonk = bytes.clone();
        // Section 1 is first: protocol id at offset 12 + 12.
        plonk[24] = 2;
        assert!(matches!(
            Zkey::from_bytes(&plonk),
            Err(Error::NotGroth16(2))
        ));
    }

    #[test]
    fn names_truncate_like_snarkjs() {
        assert_eq!(truncate_name("alice"), "alice");
        let long = "é".repeat(70);
        assert_eq!(truncate_name(&long).chars().count(), 64);
        let emoji = format!("{}{}", "a".repeat(63), "😀");
        assert_eq!(truncate_name(&emoji), "a".repeat(63));
    }
}
