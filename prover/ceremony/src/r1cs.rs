//! The iden3 `.r1cs` circuit format: writer (from arkworks matrices) and reader.
//!
//! Format source: r1csfile 0.0.48 (`readR1csHeader`, `readConstraints`, `readMap`,
//! `writeR1cs*`). Container magic `r1cs`, version 1; sections:
//! 1. header: `u32 n8 (=32)`, prime `r` (n8 bytes LE), `u32 nWires`, `u32 nPubOut`,
//!    `u32 nPubIn`, `u32 nPrvIn`, `u64 nLabels`, `u32 nConstraints`;
//! 2. constraints: for each, the linear combinations A, B, C, each `u32 n` then `n` times
//!    (`u32 wire`, coefficient as a standard LE scalar);
//! 3. wire-to-label map: `nWires` times `u64 label`.
//!
//! Wire 0 is the constant one, wires `1..=nPubOut+nPubIn` the public signals (outputs first),
//! the rest private. arkworks' column order `[1, public..., witness...]` is exactly this.
//!
//! Invariant: [`R1cs::from_matrices`] is canonical (each linear combination sorted by wire,
//! duplicate wires summed, zero terms dropped), so the same matrices always give the same
//! bytes, and the keys built from it match snarkjs' keys built from the written file. A parsed
//! file keeps its terms as written, because snarkjs' `zkey new` reads them raw.

use super::binfile::{self, BinFile, Cursor};
use super::encoding::{FR_BYTES, fr_from_le, fr_to_le};
use super::error::{Error, FileKind, Result};
use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField, Zero};

/// A constraint matrix as arkworks lays it out (`ark_relations::utils::matrix::Matrix`, the same
/// type): one row per constraint, each a list of `(coefficient, column)`.
pub type Matrix<F> = Vec<Vec<(F, usize)>>;
use std::io::{Read, Seek, Write};

const KIND: FileKind = FileKind::R1cs;

/// One linear combination: `(wire, coefficient)` terms.
pub type Lc = Vec<(u32, Fr)>;

/// A circuit in R1CS form, as the `.r1cs` file holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct R1cs {
    /// Total wires, the constant one included.
    pub num_wires: u32,
    /// Public outputs (`nPubOut`).
    pub num_pub_outputs: u32,
    /// Public inputs (`nPubIn`).
    pub num_pub_inputs: u32,
    /// Private inputs (`nPrvIn`); informational.
    pub num_prv_inputs: u32,
    /// Labels (`nLabels`).
    pub num_labels: u64,
    /// `[A, B, C]` of every constraint.
    pub constraints: Vec<[Lc; 3]>,
    /// Label of every wire.
    pub wire_to_label: Vec<u64>,
}

impl R1cs {
    /// Builds the canonical R1CS of arkworks matrices.
    ///
    /// `matrices` is `[A, B, C]`, one row per constraint, columns `[1, public..., witness...]`;
    /// `num_instance_variables` counts the constant one. All public variables are written as
    /// public inputs (`nPubOut = 0`), labels are the wire indices.
    pub fn from_matrices(
        matrices: &[Matrix<Fr>],
        num_instance_variables: usize,
        num_witness_variables: usize,
        num_constraints: usize,
    ) -> Result<Self> {
        let [a, b, c] = matrices else {
            return Err(Error::Circuit(format!(
                "expected the 3 matrices A, B, C, got {}",
                matrices.len()
            )));
        };
        if a.len() != num_constraints || b.len() != num_constraints || c.len() != num_constraints {
            return Err(Error::Circuit(format!(
                "matrices have {}/{}/{} rows for {num_constraints} constraints",
                a.len(),
                b.len(),
                c.len()
            )));
        }
        if num_instance_variables == 0 {
            return Err(Error::Circuit(
                "num_instance_variables must count the constant one".into(),
            ));
        }
        let wires = num_instance_variables
            .checked_add(num_witness_variables)
            .and_then(|w| u32::try_from(w).ok())
            .ok_or_else(|| Error::Circuit("more than 2^32 wires".into()))?;
        u32::try_from(num_constraints)
            .map_err(|_| Error::Circuit("more than 2^32 constraints".into()))?;
        let canon = |row: &Vec<(Fr, usize)>, k: usize| -> Result<Lc> {
            let mut terms: Vec<(u32, Fr)> = Vec::with_capacity(row.len());
            for &(coeff, col) in row {
                if col >= wires as usize {
                    return Err(Error::Circuit(format!(
                        "constraint {k} uses column {col}, the circuit has {wires} wires"
                    )));
                }
                terms.push((col as u32, coeff));
            }
            terms.sort_by_key(|t| t.0);
            let mut out: Lc = Vec::with_capacity(terms.len());
            for (w, v) in terms {
                match out.last_mut() {
                    Some(last) if last.0 == w => last.1 += v,
                    _ => out.push((w, v)),
                }
            }
            out.retain(|t| !t.1.is_zero());
            Ok(out)
        };
        let mut constraints = Vec::with_capacity(num_constraints);
        for k in 0..num_constraints {
            constraints.push([canon(&a[k], k)?, canon(&b[k], k)?, canon(&c[k], k)?]);
        }
        Ok(R1cs {
            num_wires: wires,
            num_pub_outputs: 0,
            num_pub_inputs: (num_instance_variables - 1) as u32,
            num_prv_inputs: 0,
            num_labels: wires as u64,
            constraints,
            wire_to_label: (0..wires as u64).collect(),
        })
    }

    /// Checks the invariants the key builder relies on (a parsed or built `R1cs` has them; a
    /// hand-assembled one may not): the declared signals fit in the wires, every term names
    /// an existing wire, and there is one label per wire.
    pub fn validate(&self) -> Result<()> {
        let declared = 1u64
            + self.num_pub_outputs as u64
            + self.num_pub_inputs as u64
            + self.num_prv_inputs as u64;
        if declared > self.num_wires as u64 {
            return Err(Error::Circuit(format!(
                "{} wires cannot hold {declared} declared signals",
                self.num_wires
            )));
        }
        if self.wire_to_label.len() != self.num_wires as usize {
            return Err(Error::Circuit("one label per wire is required".into()));
        }
        if u32::try_from(self.constraints.len()).is_err() {
            return Err(Error::Circuit("more than 2^32 constraints".into()));
        }
        for (k, c) in self.constraints.iter().enumerate() {
            if c.iter().flatten().any(|&(w, _)| w >= self.num_wires) {
                return Err(Error::Circuit(format!(
                    "constraint {k} uses a wire outside the {} wires",
                    self.num_wires
                )));
            }
        }
        Ok(())
    }

    /// Public signals, the constant one excluded (`nPubOut + nPubIn`).
    pub fn num_public(&self) -> usize {
        self.num_pub_outputs as usize + self.num_pub_inputs as usize
    }

    /// Instance variables as arkworks counts them (the constant one included).
    pub fn num_instance_variables(&self) -> usize {
        self.num_public() + 1
    }

    /// Witness variables as arkworks counts them.
    pub fn num_witness_variables(&self) -> usize {
        self.num_wires as usize - self.num_instance_variables()
    }

    /// Constraints.
    pub fn num_constraints(&self) -> usize {
        self.constraints.len()
    }

    /// The matrices `[A, B, C]` in arkworks' form.
    pub fn to_matrices(&self) -> Vec<Matrix<Fr>> {
        (0..3)
            .map(|m| {
                self.constraints
                    .iter()
                    .map(|c| c[m].iter().map(|&(w, v)| (v, w as usize)).collect())
                    .collect()
            })
            .collect()
    }

    /// The file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// Writes the file (sections 1, 2, 3 in that order).
    pub fn write<W: Write>(&self, w: &mut W) -> Result<()> {
        binfile::write_header(w, KIND, 1, 3)?;
        let mut h = Vec::with_capacity(64);
        h.extend_from_slice(&(FR_BYTES as u32).to_le_bytes());
        h.extend_from_slice(&Fr::MODULUS.to_bytes_le());
        h.extend_from_slice(&self.num_wires.to_le_bytes());
        h.extend_from_slice(&self.num_pub_outputs.to_le_bytes());
        h.extend_from_slice(&self.num_pub_inputs.to_le_bytes());
        h.extend_from_slice(&self.num_prv_inputs.to_le_bytes());
        h.extend_from_slice(&self.num_labels.to_le_bytes());
        h.extend_from_slice(&(self.constraints.len() as u32).to_le_bytes());
        binfile::write_section(w, 1, &h)?;

        let mut c = Vec::new();
        for constraint in &self.constraints {
            for lc in constraint {
                c.extend_from_slice(&(lc.len() as u32).to_le_bytes());
                for (wire, v) in lc {
                    c.extend_from_slice(&wire.to_le_bytes());
                    c.extend_from_slice(&fr_to_le(v));
                }
            }
        }
        binfile::write_section(w, 2, &c)?;

        let mut m = Vec::with_capacity(self.wire_to_label.len() * 8);
        for l in &self.wire_to_label {
            m.extend_from_slice(&l.to_le_bytes());
        }
        binfile::write_section(w, 3, &m)?;
        Ok(())
    }

    /// Reads a `.r1cs` file from bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::read(std::io::Cursor::new(bytes))
    }

    /// Reads a `.r1cs` file. Custom gates (PLONK-only sections 4 and 5) are refused.
    pub fn read<R: Read + Seek>(reader: R) -> Result<Self> {
        let mut f = BinFile::open(reader, KIND, 1)?;
        if f.has_section(4) || f.has_section(5) {
            return Err(Error::Circuit(
                "custom gates are not supported by Groth16".into(),
            ));
        }
        let header = f.read_section(1, "header")?;
        let mut h = Cursor::new(&header, KIND, "header");
        let n8 = h.u32()?;
        if n8 as usize != FR_BYTES {
            return Err(Error::WrongCurve {
                kind: KIND,
                what: "field size is not 32 bytes",
            });
        }
        if h.bytes(FR_BYTES)? != Fr::MODULUS.to_bytes_le().as_slice() {
            return Err(Error::WrongCurve {
                kind: KIND,
                what: "prime is not the BN254 scalar field",
            });
        }
        let num_wires = h.u32()?;
        let num_pub_outputs = h.u32()?;
        let num_pub_inputs = h.u32()?;
        let num_prv_inputs = h.u32()?;
        let num_labels = h.u64()?;
        let num_constraints = h.u32()?;
        h.finish()?;
        let declared =
            1u64 + num_pub_outputs as u64 + num_pub_inputs as u64 + num_prv_inputs as u64;
        if declared > num_wires as u64 {
            return Err(Error::Malformed {
                kind: KIND,
                what: format!("{num_wires} wires cannot hold {declared} declared signals"),
            });
        }

        let body = f.read_section(2, "constraints")?;
        let mut c = Cursor::new(&body, KIND, "constraints");
        // Each constraint takes at least 12 bytes: refuse counts the section cannot hold
        // before allocating for them.
        if num_constraints as usize > body.len() / 12 {
            return Err(binfile::truncated(
                KIND,
                format!(
                    "{num_constraints} constraints do not fit in {} bytes",
                    body.len()
                ),
            ));
        }
        let mut constraints = Vec::with_capacity(num_constraints as usize);
        for k in 0..num_constraints as usize {
            let mut read_lc = || -> Result<Lc> {
                let n = c.u32()? as usize;
                if n > c.remaining() / (4 + FR_BYTES) {
                    return Err(binfile::truncated(
                        KIND,
                        format!("constraint {k} announces {n} terms"),
                    ));
                }
                let mut lc = Vec::with_capacity(n);
                for _ in 0..n {
                    let wire = c.u32()?;
                    if wire >= num_wires {
                        return Err(Error::Malformed {
                            kind: KIND,
                            what: format!("constraint {k} uses wire {wire} of {num_wires}"),
                        });
                    }
                    let v = fr_from_le(c.bytes(FR_BYTES)?).ok_or(Error::BadScalar {
                        kind: KIND,
                        section: "constraints",
                        index: k,
                    })?;
                    lc.push((wire, v));
                }
                Ok(lc)
            };
            let a = read_lc()?;
            let b = read_lc()?;
            let cc = read_lc()?;
            constraints.push([a, b, cc]);
        }
        c.finish()?;

        let map = f.read_section(3, "wire-to-label map")?;
        if map.len() as u64 != num_wires as u64 * 8 {
            return Err(Error::SectionSize {
                kind: KIND,
                id: 3,
                name: "wire-to-label map",
                expected: num_wires as u64 * 8,
                found: map.len() as u64,
            });
        }
        let wire_to_label = map
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        Ok(R1cs {
            num_wires,
            num_pub_outputs,
            num_pub_inputs,
            num_prv_inputs,
            num_labels,
            constraints,
            wire_to_label,
        })
    }

    /// The first constraint that the full assignment `z = [1, public..., witness...]` violates.
    pub fn first_unsatisfied(&self, z: &[Fr]) -> Option<usize> {
        let eval = |lc: &Lc| -> Fr {
            lc.iter()
                .map(|&(w, v)| z.get(w as usize).copied().unwrap_or_default() * v)
                .sum()
        };
        self.constraints
            .iter()
            .position(|[a, b, c]| eval(a) * eval(b) != eval(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> R1cs {
        let one = Fr::from(1u64);
        let a: Matrix<Fr> = vec![
            vec![(one, 2), (Fr::from(3u64), 1), (one, 2)],
            vec![(one, 3)],
        ];
        let b: Matrix<Fr> = vec![vec![(one, 0)], vec![(one, 3), (Fr::zero(), 1)]];
        let c: Matrix<Fr> = vec![vec![(one, 3)], vec![(one, 3)]];
        R1cs::from_matrices(&[a, b, c], 2, 2, 2).unwrap()
    }

    #[test]
    fn canonical_and_roundtrip() {
        let r = sample();
        assert_eq!(
            r.constraints[0][0],
            vec![(1, Fr::from(3u64)), (2, Fr::from(2u64))]
        );
        assert_eq!(r.constraints[1][1], vec![(3, Fr::from(1u64))]);
        let bytes = r.to_bytes();
        assert_eq!(R1cs::from_bytes(&bytes).unwrap(), r);
        assert_eq!(r.to_bytes(), bytes, "deterministic");
    }

    #[test]
    fn refuses_truncated_and_garbage() {
        let bytes = sample().to_bytes();
        for cut in [0, 3, 11, 20, 40, bytes.len() / 2, bytes.len() - 1] {
            assert!(R1cs::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = bytes.clone();
        bad[0] = b'x';
        assert!(matches!(
            R1cs::from_bytes(&bad),
            Err(Error::BadMagic { .. })
        ));
        // A huge term count in the constraints section.
        let mut bad = bytes.clone();
        let pos = 12 + 12 + 64 + 12; // after header section: first LC count
        bad[pos..pos + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(R1cs::from_bytes(&bad).is_err());
        let noise: Vec<u8> = (0..500u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(R1cs::from_bytes(&noise).is_err());
    }
}
