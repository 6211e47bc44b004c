//! Reader of snarkjs powers-of-tau files prepared for phase 2.
//!
//! Format source: snarkjs 0.7.6 `powersoftau_new.js`, `powersoftau_utils.js`
//! (`readPTauHeader`, `readContributions`), `powersoftau_preparephase2.js`. Container magic
//! `ptau`, version 1; with `p` the power and points in LEM form (see `encoding.rs`):
//!
//! | id | content | points |
//! |----|---------|--------|
//! | 1  | header: `u32 n8 (=32)`, prime `q`, `u32 power`, `u32 ceremonyPower` | |
//! | 2  | tauG1: `τ^i·G1` | `2^(p+1) − 1` |
//! | 3  | tauG2 | `2^p` |
//! | 4  | alphaTauG1 | `2^p` |
//! | 5  | betaTauG1 | `2^p` |
//! | 6  | betaG2 | 1 |
//! | 7  | contributions | |
//! | 12 | Lagrange tauG1 for every domain `2^k`, `k = 0..=p+1`, back to back | `2^(p+2) − 1` |
//! | 13 | Lagrange tauG2, `k = 0..=p` | `2^(p+1) − 1` |
//! | 14 | Lagrange alphaTauG1, `k = 0..=p` | `2^(p+1) − 1` |
//! | 15 | Lagrange betaTauG1, `k = 0..=p` | `2^(p+1) − 1` |
//!
//! The domain of size `2^k` starts at point `2^k − 1` of a Lagrange section. Sections 12–15
//! are what `snarkjs powersoftau prepare phase2` adds.
//!
//! Invariant: [`Ptau::read`] checks the header, every section size against the power and the
//! contributions' structure; points are checked (reduced, on the curve) whenever they are
//! read. This reader does not verify the phase-1 ceremony itself (`snarkjs powersoftau verify`
//! does), so use a ptau whose transcript was verified or that comes from a trusted ceremony.

use super::binfile::{BinFile, Cursor, truncated};
use super::encoding::{G1_BYTES, G2_BYTES, G2Check, g1_section, g2_section};
use super::error::{Error, FileKind, Result};
use ark_bn254::{Fq, G1Affine, G2Affine};
use ark_ff::{BigInteger, PrimeField};
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

const KIND: FileKind = FileKind::Ptau;

/// The largest power snarkjs handles on BN254 (the 2-adicity of the scalar field).
pub const MAX_POWER: u32 = 28;

/// What a phase-1 contribution recorded (not verified here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PtauContribution {
    /// Participant name, if given.
    pub name: Option<String>,
    /// Beacon hash and iteration exponent, for a beacon contribution.
    pub beacon: Option<(Vec<u8>, u8)>,
    /// The challenge hash after this contribution.
    pub next_challenge: [u8; 64],
}

/// An opened, structurally checked, phase-2-prepared powers-of-tau file.
#[derive(Debug)]
pub struct Ptau<R> {
    file: BinFile<R>,
    power: u32,
    ceremony_power: u32,
    contributions: Vec<PtauContribution>,
}

impl Ptau<BufReader<File>> {
    /// Opens a `.ptau` file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::read(BufReader::new(File::open(path)?))
    }
}

impl<R: Read + Seek> Ptau<R> {
    /// Reads and checks the structure of a prepared `.ptau`.
    pub fn read(reader: R) -> Result<Self> {
        let mut file = BinFile::open(reader, KIND, 1)?;
        let header = file.read_section(1, "header")?;
        let mut h = Cursor::new(&header, KIND, "header");
        let n8 = h.u32()?;
        if n8 != 32 {
            return Err(Error::WrongCurve {
                kind: KIND,
                what: "base field size is not 32 bytes",
            });
        }
        if h.bytes(32)? != Fq::MODULUS.to_bytes_le().as_slice() {
            return Err(Error::WrongCurve {
                kind: KIND,
                what: "prime is not the BN254 base field",
            });
        }
        let power = h.u32()?;
        let ceremony_power = h.u32()?;
        h.finish()?;
        if power == 0 || power > MAX_POWER {
            return Err(Error::Malformed {
                kind: KIND,
                what: format!("power {power} is outside 1..={MAX_POWER}"),
            });
        }
        let n = 1u64 << power;
        let expect = |file: &BinFile<R>, id: u32, name: &'static str, bytes: u64| -> Result<()> {
            let s = file.section(id, name)?;
            if s.len != bytes {
                return Err(Error::SectionSize {
                    kind: KIND,
                    id,
                    name,
                    expected: bytes,
                    found: s.len,
                });
            }
            Ok(())
        };
        let g1 = G1_BYTES as u64;
        let g2 = G2_BYTES as u64;
        expect(&file, 2, "tauG1", (2 * n - 1) * g1)?;
        expect(&file, 3, "tauG2", n * g2)?;
        expect(&file, 4, "alphaTauG1", n * g1)?;
        expect(&file, 5, "betaTauG1", n * g1)?;
        expect(&file, 6, "betaG2", g2)?;
        if ![12, 13, 14, 15].iter().any(|&id| file.has_section(id)) {
            return Err(Error::PtauNotPrepared);
        }
        expect(&file, 12, "Lagrange tauG1", (4 * n - 1) * g1)?;
        expect(&file, 13, "Lagrange tauG2", (2 * n - 1) * g2)?;
        expect(&file, 14, "Lagrange alphaTauG1", (2 * n - 1) * g1)?;
        expect(&file, 15, "Lagrange betaTauG1", (2 * n - 1) * g1)?;
        let contributions = if file.has_section(7) {
            let bytes = file.read_section(7, "contributions")?;
            parse_contributions(&bytes)?
        } else {
            Vec::new()
        };
        Ok(Ptau {
            file,
            power,
            ceremony_power,
            contributions,
        })
    }

    /// The power: the file holds domains up to `2^power`.
    pub fn power(&self) -> u32 {
        self.power
    }

    /// The power of the ceremony this file was truncated from.
    pub fn ceremony_power(&self) -> u32 {
        self.ceremony_power
    }

    /// The phase-1 contributions as recorded.
    pub fn contributions(&self) -> &[PtauContribution] {
        &self.contributions
    }

    /// `α·G1`.
    pub fn alpha_g1(&mut self) -> Result<G1Affine> {
        let b = self
            .file
            .read_section_range(4, "alphaTauG1", 0, G1_BYTES as u64)?;
        Ok(g1_section(&b, KIND, "alphaTauG1")?[0])
    }

    /// `β·G1`.
    pub fn beta_g1(&mut self) -> Result<G1Affine> {
        let b = self
            .file
            .read_section_range(5, "betaTauG1", 0, G1_BYTES as u64)?;
        Ok(g1_section(&b, KIND, "betaTauG1")?[0])
    }

    /// `β·G2`.
    pub fn beta_g2(&mut self) -> Result<G2Affine> {
        let b = self.file.read_section(6, "betaG2")?;
        Ok(g2_section(&b, KIND, "betaG2", G2Check::Subgroup)?[0])
    }

    /// `τ^i·G1` for `i` in `start..start+count`.
    pub fn tau_g1(&mut self, start: u64, count: u64) -> Result<Vec<G1Affine>> {
        let b = self.file.read_section_range(
            2,
            "tauG1",
            start * G1_BYTES as u64,
            count * G1_BYTES as u64,
        )?;
        g1_section(&b, KIND, "tauG1")
    }

    fn level_range(&self, max_power: u32, k: u32, point: u64) -> Result<(u64, u64)> {
        if k > max_power {
            return Err(Error::PtauTooSmall {
                power: self.power,
                needed: k.saturating_sub(max_power - self.power),
                why: format!("a domain of 2^{k} points"),
            });
        }
        let n = 1u64 << k;
        Ok(((n - 1) * point, n * point))
    }

    /// The Lagrange basis `L_i(τ)·G1` of the domain `2^k` (`k ≤ power + 1`).
    pub fn lagrange_tau_g1(&mut self, k: u32) -> Result<Vec<G1Affine>> {
        let (off, len) = self.level_range(self.power + 1, k, G1_BYTES as u64)?;
        let b = self
            .file
            .read_section_range(12, "Lagrange tauG1", off, len)?;
        g1_section(&b, KIND, "Lagrange tauG1")
    }

    /// The Lagrange basis `L_i(τ)·G2` of the domain `2^k` (`k ≤ power`).
    pub fn lagrange_tau_g2(&mut self, k: u32) -> Result<Vec<G2Affine>> {
        let (off, len) = self.level_range(self.power, k, G2_BYTES as u64)?;
        let b = self
            .file
            .read_section_range(13, "Lagrange tauG2", off, len)?;
        g2_section(&b, KIND, "Lagrange tauG2", G2Check::OnCurve)
    }

    /// The Lagrange basis `α·L_i(τ)·G1` of the domain `2^k` (`k ≤ power`).
    pub fn lagrange_alpha_tau_g1(&mut self, k: u32) -> Result<Vec<G1Affine>> {
        let (off, len) = self.level_range(self.power, k, G1_BYTES as u64)?;
        let b = self
            .file
            .read_section_range(14, "Lagrange alphaTauG1", off, len)?;
        g1_section(&b, KIND, "Lagrange alphaTauG1")
    }

    /// The Lagrange basis `β·L_i(τ)·G1` of the domain `2^k` (`k ≤ power`).
    pub fn lagrange_beta_tau_g1(&mut self, k: u32) -> Result<Vec<G1Affine>> {
        let (off, len) = self.level_range(self.power, k, G1_BYTES as u64)?;
        let b = self
            .file
            .read_section_range(15, "Lagrange betaTauG1", off, len)?;
        g1_section(&b, KIND, "Lagrange betaTauG1")
    }
}

/// Section 7: `u32 n`, then per contribution five points, the nine-point public key, a
/// 216-byte partial hash, the 64-byte next challenge, `u32 type`, `u32` parameter length and
/// the parameters (sorted ids: 1 name, 2 iteration exponent, 3 beacon hash).
fn parse_contributions(bytes: &[u8]) -> Result<Vec<PtauContribution>> {
    const FIXED: usize = 3 * G1_BYTES + 2 * G2_BYTES + 6 * G1_BYTES + 3 * G2_BYTES + 216;
    let mut c = Cursor::new(bytes, KIND, "contributions");
    let n = c.u32()? as usize;
    if n > c.remaining() / (FIXED + 64 + 8) {
        return Err(truncated(KIND, format!("{n} contributions announced")));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        c.bytes(FIXED)?;
        let next_challenge = c.array::<64>()?;
        let typ = c.u32()?;
        let params = parse_params(&mut c, i)?;
        let beacon = match (typ, params.exp, params.hash) {
            (0, _, _) => None,
            (1, Some(e), Some(h)) => Some((h, e)),
            _ => {
                return Err(Error::Malformed {
                    kind: KIND,
                    what: format!(
                        "contribution {} has type {typ} without beacon parameters",
                        i + 1
                    ),
                });
            }
        };
        out.push(PtauContribution {
            name: params.name,
            beacon,
            next_challenge,
        });
    }
    c.finish()?;
    Ok(out)
}

/// Contribution parameters shared by ptau and zkey (`readContribution` in both formats).
#[derive(Default)]
pub(crate) struct Params {
    pub name: Option<String>,
    pub exp: Option<u8>,
    pub hash: Option<Vec<u8>>,
}

pub(crate) fn parse_params_in(c: &mut Cursor<'_>, kind: FileKind, index: usize) -> Result<Params> {
    let len = c.u32()? as usize;
    let body = c.bytes(len)?;
    let mut p = Cursor::new(body, kind, "contribution parameters");
    let mut out = Params::default();
    let mut last = 0u8;
    while p.remaining() > 0 {
        let t = p.u8()?;
        if t <= last {
            return Err(Error::Malformed {
                kind,
                what: format!("contribution {}: parameters not sorted", index + 1),
            });
        }
        last = t;
        match t {
            1 => {
                let n = p.u8()? as usize;
                out.name = Some(String::from_utf8_lossy(p.bytes(n)?).into_owned());
            }
            2 => out.exp = Some(p.u8()?),
            3 => {
                let n = p.u8()? as usize;
                out.hash = Some(p.bytes(n)?.to_vec());
            }
            _ => {
                return Err(Error::Malformed {
                    kind,
                    what: format!("contribution {}: unknown parameter {t}", index + 1),
                });
            }
        }
    }
    Ok(out)
}

fn parse_params(c: &mut Cursor<'_>, index: usize) -> Result<Params> {
    parse_params_in(c, KIND, index)
}
