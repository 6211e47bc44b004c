//! snarkjs interop: a claim as `proof.json`, `public.json` and `verification_key.json`.
//!
//! The files follow snarkjs' groth16 / bn128 JSON: every coordinate a decimal string of its
//! integer value in `[0, q)`; points in projective form with `z = "1"` (G1: `[x, y, "1"]`, G2:
//! `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]`, each Fp2 element as `[c0, c1]` with
//! `c0 + c1 * u`); the identity as `["0", "1", "0"]` (G2: `[["0","0"],["1","0"],["0","0"]]`).
//! snarkjs checks `e(-A, B) * e(alpha, beta) * e(IC, gamma) * e(C, delta) = 1`, the same
//! equation as ours, so the points carry over unchanged. `public.json` lists the nine inputs in
//! protocol order ([`ClaimStatement::public_inputs`]). `vk_alphabeta_12` is not written (snarkjs'
//! verifier recomputes the pairing) and is ignored on import.
//!
//! Invariant: import is as strict as the rest of the crate: canonical decimals below the
//! modulus, `z` exactly `"1"` (or the exact identity encoding), every point on its curve and in
//! the prime-order subgroup (arkworks' `Valid::check`), `protocol == "groth16"`,
//! `curve == "bn128"`, `nPublic == 9`, unknown fields refused.

use std::path::Path;

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::Valid;
use serde::{Deserialize, Serialize};

use crate::bundle::ClaimBundle;
use crate::encoding::{field_from_decimal, field_to_decimal};
use crate::error::{Invalid, Malformed};
use crate::groth16::{Proof, VerifyingKey};
use crate::keys::TrustedKey;
use crate::statement::{ClaimStatement, NUM_PUBLIC_INPUTS, PublicInput};

/// A G1 point as snarkjs writes it.
pub type G1Json = [String; 3];
/// A G2 point as snarkjs writes it.
pub type G2Json = [[String; 2]; 3];

/// snarkjs `proof.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnarkjsProof {
    /// `A`.
    pub pi_a: G1Json,
    /// `B`.
    pub pi_b: G2Json,
    /// `C`.
    pub pi_c: G1Json,
    /// `"groth16"`.
    pub protocol: String,
    /// `"bn128"`.
    pub curve: String,
}

/// snarkjs `verification_key.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnarkjsVerificationKey {
    /// `"groth16"`.
    pub protocol: String,
    /// `"bn128"`.
    pub curve: String,
    /// Number of public inputs.
    #[serde(rename = "nPublic")]
    pub n_public: usize,
    /// alpha.
    pub vk_alpha_1: G1Json,
    /// beta.
    pub vk_beta_2: G2Json,
    /// gamma.
    pub vk_gamma_2: G2Json,
    /// delta.
    pub vk_delta_2: G2Json,
    /// `e(alpha, beta)`: not written, ignored when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vk_alphabeta_12: Option<serde_json::Value>,
    /// `gamma_abc_g1`.
    #[serde(rename = "IC")]
    pub ic: Vec<G1Json>,
}

/// The three files of one claim.
#[derive(Clone, Debug, PartialEq)]
pub struct SnarkjsFiles {
    /// `proof.json`.
    pub proof: SnarkjsProof,
    /// `public.json`.
    pub public: Vec<String>,
    /// `verification_key.json`.
    pub verification_key: SnarkjsVerificationKey,
}

const PROTOCOL: &str = "groth16";
const CURVE: &str = "bn128";

fn g1_to_json(p: &G1Affine) -> G1Json {
    match p.xy() {
        None => ["0".into(), "1".into(), "0".into()],
        Some((x, y)) => [field_to_decimal(&x), field_to_decimal(&y), "1".into()],
    }
}

fn fq2_to_json(x: &Fq2) -> [String; 2] {
    [field_to_decimal(&x.c0), field_to_decimal(&x.c1)]
}

fn g2_to_json(p: &G2Affine) -> G2Json {
    match p.xy() {
        None => [
            ["0".into(), "0".into()],
            ["1".into(), "0".into()],
            ["0".into(), "0".into()],
        ],
        Some((x, y)) => [fq2_to_json(&x), fq2_to_json(&y), ["1".into(), "0".into()]],
    }
}

fn bad(what: &'static str, reason: impl Into<String>) -> Malformed {
    Malformed::Snarkjs {
        what,
        reason: reason.into(),
    }
}

fn fq(what: &'static str, s: &str) -> Result<Fq, Malformed> {
    field_from_decimal::<Fq>(s).map_err(|e| bad(what, format!("coordinate `{s}`: {e}")))
}

fn fq2(what: &'static str, c: &[String; 2]) -> Result<Fq2, Malformed> {
    Ok(Fq2::new(fq(what, &c[0])?, fq(what, &c[1])?))
}

fn g1_from_json(what: &'static str, p: &G1Json) -> Result<G1Affine, Malformed> {
    let point = match p[2].as_str() {
        "1" => G1Affine::new_unchecked(fq(what, &p[0])?, fq(what, &p[1])?),
        "0" if p[0] == "0" && p[1] == "1" => G1Affine::zero(),
        _ => return Err(bad(what, "G1 point is not affine (z must be \"1\")")),
    };
    // The curve and subgroup checks the compressed decoder does.
    point.check().map_err(|e| bad(what, e.to_string()))?;
    Ok(point)
}

fn g2_from_json(what: &'static str, p: &G2Json) -> Result<G2Affine, Malformed> {
    let is = |c: &[String; 2], a: &str, b: &str| c[0] == a && c[1] == b;
    let point = if is(&p[2], "1", "0") {
        G2Affine::new_unchecked(fq2(what, &p[0])?, fq2(what, &p[1])?)
    } else if is(&p[2], "0", "0") && is(&p[0], "0", "0") && is(&p[1], "1", "0") {
        G2Affine::zero()
    } else {
        return Err(bad(
            what,
            "G2 point is not affine (z must be [\"1\", \"0\"])",
        ));
    };
    point.check().map_err(|e| bad(what, e.to_string()))?;
    Ok(point)
}

fn check_tags(what: &'static str, protocol: &str, curve: &str) -> Result<(), Malformed> {
    if protocol != PROTOCOL || curve != CURVE {
        return Err(bad(
            what,
            format!("protocol/curve `{protocol}`/`{curve}`, expected `{PROTOCOL}`/`{CURVE}`"),
        ));
    }
    Ok(())
}

impl SnarkjsProof {
    /// A proof in snarkjs form.
    pub fn from_proof(p: &Proof) -> Self {
        SnarkjsProof {
            pi_a: g1_to_json(&p.a),
            pi_b: g2_to_json(&p.b),
            pi_c: g1_to_json(&p.c),
            protocol: PROTOCOL.into(),
            curve: CURVE.into(),
        }
    }

    /// Decodes strictly.
    pub fn to_proof(&self) -> Result<Proof, Malformed> {
        check_tags("proof.json", &self.protocol, &self.curve)?;
        Ok(Proof {
            a: g1_from_json("proof.json", &self.pi_a)?,
            b: g2_from_json("proof.json", &self.pi_b)?,
            c: g1_from_json("proof.json", &self.pi_c)?,
        })
    }
}

impl SnarkjsVerificationKey {
    /// A key in snarkjs form.
    pub fn from_vk(vk: &VerifyingKey) -> Self {
        SnarkjsVerificationKey {
            protocol: PROTOCOL.into(),
            curve: CURVE.into(),
            n_public: vk.gamma_abc_g1.len().saturating_sub(1),
            vk_alpha_1: g1_to_json(&vk.alpha_g1),
            vk_beta_2: g2_to_json(&vk.beta_g2),
            vk_gamma_2: g2_to_json(&vk.gamma_g2),
            vk_delta_2: g2_to_json(&vk.delta_g2),
            vk_alphabeta_12: None,
            ic: vk.gamma_abc_g1.iter().map(g1_to_json).collect(),
        }
    }

    /// Decodes strictly, with the same refusals as a key read from bytes.
    pub fn to_vk(&self) -> Result<VerifyingKey, Malformed> {
        const W: &str = "verification_key.json";
        check_tags(W, &self.protocol, &self.curve)?;
        if self.n_public != NUM_PUBLIC_INPUTS || self.ic.len() != NUM_PUBLIC_INPUTS + 1 {
            return Err(bad(
                W,
                format!(
                    "nPublic {} with {} IC points, a claim key has {} and {}",
                    self.n_public,
                    self.ic.len(),
                    NUM_PUBLIC_INPUTS,
                    NUM_PUBLIC_INPUTS + 1
                ),
            ));
        }
        let vk = VerifyingKey {
            alpha_g1: g1_from_json(W, &self.vk_alpha_1)?,
            beta_g2: g2_from_json(W, &self.vk_beta_2)?,
            gamma_g2: g2_from_json(W, &self.vk_gamma_2)?,
            delta_g2: g2_from_json(W, &self.vk_delta_2)?,
            gamma_abc_g1: self
                .ic
                .iter()
                .map(|p| g1_from_json(W, p))
                .collect::<Result<_, _>>()?,
        };
        vk.check_shape()?;
        Ok(vk)
    }
}

/// The statement as `public.json`: nine decimal strings in protocol order.
pub fn public_to_json(s: &ClaimStatement) -> Vec<String> {
    s.public_inputs().iter().map(field_to_decimal).collect()
}

/// Decodes `public.json` strictly into a statement: nine canonical decimals `< r`, and the
/// `u64` inputs `< 2^64`.
pub fn public_from_json(public: &[String]) -> Result<ClaimStatement, Malformed> {
    const W: &str = "public.json";
    if public.len() != NUM_PUBLIC_INPUTS {
        return Err(bad(
            W,
            format!("{} values, expected {NUM_PUBLIC_INPUTS}", public.len()),
        ));
    }
    let fr = |i: PublicInput| -> Result<Fr, Malformed> {
        field_from_decimal::<Fr>(&public[i.index()])
            .map_err(|e| bad(W, format!("`{}`: {e}", i.name())))
    };
    let u = |i: PublicInput| -> Result<u64, Malformed> {
        let b = fr(i)?.into_bigint();
        if b.0[1..].iter().any(|&l| l != 0) {
            return Err(bad(W, format!("`{}` does not fit in 64 bits", i.name())));
        }
        debug_assert!(b.num_bits() <= 64);
        Ok(b.0[0])
    };
    use PublicInput as P;
    Ok(ClaimStatement {
        epoch: u(P::Epoch)?,
        root: fr(P::Root)?,
        total_weight: u(P::TotalWeight)?,
        revenue: u(P::Revenue)?,
        contributor_id: fr(P::ContributorId)?,
        claimed_weight: u(P::ClaimedWeight)?,
        payout: u(P::Payout)?,
        range_start: u(P::RangeStart)?,
        range_end: u(P::RangeEnd)?,
    })
}

impl SnarkjsFiles {
    /// Exports a bundle and the trusted key it names.
    pub fn export(key: &TrustedKey, bundle: &ClaimBundle) -> Result<Self, Invalid> {
        if bundle.vk_fingerprint != key.fingerprint() {
            return Err(Invalid::UntrustedKey {
                circuit_id: bundle.circuit_id.to_string(),
                fingerprint: bundle.vk_fingerprint.to_hex(),
                trusted: vec![key.name()],
            });
        }
        if &bundle.circuit_id != key.circuit_id() {
            return Err(Invalid::CircuitMismatch {
                fingerprint: key.fingerprint().to_hex(),
                trusted: key.circuit_id().to_string(),
                claimed: bundle.circuit_id.to_string(),
            });
        }
        Ok(SnarkjsFiles {
            proof: SnarkjsProof::from_proof(&bundle.proof),
            public: public_to_json(&bundle.statement),
            verification_key: SnarkjsVerificationKey::from_vk(key.vk()),
        })
    }

    /// Writes `proof.json`, `public.json` and `verification_key.json` into `dir`.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        let write = |name: &str, v: &dyn erased::Json| {
            std::fs::write(dir.join(name), format!("{}\n", v.to_pretty()))
        };
        write("proof.json", &self.proof)?;
        write("public.json", &self.public)?;
        write("verification_key.json", &self.verification_key)
    }

    /// Reads and decodes the three files from `dir`: the proof, the statement and the key.
    pub fn read_from(dir: &Path) -> Result<(Proof, ClaimStatement, VerifyingKey), ReadError> {
        let read = |name: &str| std::fs::read_to_string(dir.join(name));
        let proof: SnarkjsProof = parse("proof.json", &read("proof.json")?)?;
        let public: Vec<String> = parse("public.json", &read("public.json")?)?;
        let vk: SnarkjsVerificationKey =
            parse("verification_key.json", &read("verification_key.json")?)?;
        Ok((proof.to_proof()?, public_from_json(&public)?, vk.to_vk()?))
    }
}

fn parse<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T, Malformed> {
    serde_json::from_str(text).map_err(|e| Malformed::Json {
        what,
        reason: e.to_string(),
    })
}

/// Reading snarkjs files from disk.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A file's content was refused.
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

/// Serialization to pretty JSON behind a trait object (three different file types).
mod erased {
    pub trait Json {
        fn to_pretty(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_pretty(&self) -> String {
            serde_json::to_string_pretty(self).expect("snarkjs structs of strings always serialize")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;

    #[test]
    fn points_round_trip_including_identity() {
        let g1 = (G1Affine::generator() * Fr::from(12345u64)).into_affine();
        let g2 = (G2Affine::generator() * Fr::from(678u64)).into_affine();
        for p in [g1, G1Affine::zero(), G1Affine::generator()] {
            assert_eq!(g1_from_json("t", &g1_to_json(&p)).unwrap(), p);
        }
        for p in [g2, G2Affine::zero(), G2Affine::generator()] {
            assert_eq!(g2_from_json("t", &g2_to_json(&p)).unwrap(), p);
        }
        // The BN254 G1 generator is (1, 2).
        assert_eq!(g1_to_json(&G1Affine::generator()), ["1", "2", "1"]);
    }

    #[test]
    fn refuses_non_affine_off_curve_and_out_of_range() {
        let mut p = g1_to_json(&G1Affine::generator());
        p[2] = "2".into();
        assert!(g1_from_json("t", &p).is_err());
        let mut p = g1_to_json(&G1Affine::generator());
        p[1] = "3".into(); // (1, 3) is not on y^2 = x^3 + 3
        assert!(g1_from_json("t", &p).is_err());
        let mut p = g1_to_json(&G1Affine::generator());
        // x + q: same residue, refused rather than reduced.
        p[0] =
            "21888242871839275222246405745257275088696311157297823662689037894645226208584".into();
        assert!(g1_from_json("t", &p).is_err());
        let mut p = g1_to_json(&G1Affine::generator());
        p[0] = "01".into();
        assert!(g1_from_json("t", &p).is_err());
        let mut q = g2_to_json(&G2Affine::generator());
        q[2] = ["1".into(), "1".into()];
        assert!(g2_from_json("t", &q).is_err());
        // Swapping c0 and c1 gives a point off the twist.
        let mut q = g2_to_json(&G2Affine::generator());
        q[0].swap(0, 1);
        assert!(g2_from_json("t", &q).is_err());
    }

    #[test]
    fn public_refuses_u64_overflow() {
        let mut v: Vec<String> = vec!["1".into(); NUM_PUBLIC_INPUTS];
        assert!(public_from_json(&v).is_ok());
        v[PublicInput::Payout.index()] = "18446744073709551616".into();
        assert!(public_from_json(&v).is_err());
        v[PublicInput::Payout.index()] = "18446744073709551615".into();
        assert_eq!(public_from_json(&v).unwrap().payout, u64::MAX);
        assert!(public_from_json(&v[..8]).is_err());
    }
}
