//! The payee proof, `payee.json`: a contributor's Groth16 proof that it sets where its payouts
//! go (`payee-v1`; the statement, its five public inputs and their order are
//! [`credence_circuits::payee`]'s), handed to the settlement contract and to
//! `credence-verify payee`.
//!
//! ```json
//! {
//!   "protocol": "credence-payee-v1",
//!   "circuit_id": "payee-v1",
//!   "vk_fingerprint": "<64 lowercase hex: blake3 of the canonical compressed key>",
//!   "statement": { "contributor_id": "<decimal < r>", "chain_id": "31337",
//!                  "settlement": "0x<40 hex>", "payee": "0x<40 hex>", "nonce": "0" },
//!   "proof": "<256 lowercase hex: canonical compressed Groth16 proof>"
//! }
//! ```
//!
//! Invariants:
//! - [`PayeeBundle::from_json`] accepts a document only if every field decodes strictly (unknown
//!   and duplicate fields refused; decimals, hex and proof as in bundles, [`crate::encoding`]).
//!   The one liberty is an address's letter case ([`crate::encoding::address_from_hex`]), so a
//!   decoded file re-encodes to the same content up to that case. The statement's field names
//!   are exactly [`PayeePublicInput::name`].
//! - A [`PayeeKey`] is a verifying key of exactly five public inputs that passed the refusal
//!   checks of a claim key (full point validation, `gamma != delta`, no identity). It is a type
//!   of its own, not a [`TrustedKey`](crate::TrustedKey): a payee key never enters a claim
//!   [`KeyRing`](crate::KeyRing), and a claim key never verifies a payee proof.

use credence_circuits::payee::{
    Address, NUM_PAYEE_PUBLIC_INPUTS, PAYEE_CIRCUIT_ID, PayeePublicInput, PayeeStatement,
};
use serde::{Deserialize, Serialize};

use crate::encoding::{
    address_from_hex, address_to_hex, fr_from_decimal, fr_to_decimal, hex_decode, u64_from_decimal,
};
use crate::error::{Invalid, KeyName, Malformed};
use crate::groth16::{Proof, VerifyingKey};
use crate::keys::{CheckedKey, Fingerprint};

/// The `protocol` tag of `payee.json`.
pub const PAYEE_PROTOCOL: &str = "credence-payee-v1";

/// The largest `payee.json` read (a valid one is under 1 KiB).
pub const MAX_PAYEE_BYTES: usize = 4 * 1024;

/// A payee verifying key the verifier was given, validated (see the module invariants); it
/// derefs to its [`CheckedKey`] (fingerprint, key, bytes).
#[derive(Clone, Debug)]
pub struct PayeeKey {
    key: CheckedKey,
}

impl std::ops::Deref for PayeeKey {
    type Target = CheckedKey;
    fn deref(&self) -> &CheckedKey {
        &self.key
    }
}

impl PayeeKey {
    /// Trusts `vk` as the payee circuit's key, after the refusal checks.
    pub fn new(vk: VerifyingKey) -> Result<Self, Malformed> {
        Ok(PayeeKey {
            key: CheckedKey::new(vk, NUM_PAYEE_PUBLIC_INPUTS, PAYEE_CIRCUIT_ID)?,
        })
    }

    /// Decodes canonical compressed key bytes (strictly: a `payee-v1.vk` file) and trusts them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Malformed> {
        Self::new(VerifyingKey::from_bytes_for(
            bytes,
            NUM_PAYEE_PUBLIC_INPUTS,
            PAYEE_CIRCUIT_ID,
        )?)
    }

    /// The circuit id, always `payee-v1`.
    pub fn circuit_id(&self) -> &'static str {
        PAYEE_CIRCUIT_ID
    }

    /// The key as an error names it.
    pub fn name(&self) -> KeyName {
        KeyName {
            circuit_id: PAYEE_CIRCUIT_ID.to_owned(),
            fingerprint: self.fingerprint().to_hex(),
        }
    }
}

/// The statement as it appears in `payee.json`: the five public inputs, named as
/// [`PayeePublicInput::name`], `u64`s and the field element as canonical decimal strings,
/// addresses as `0x` hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayeeStatementJson {
    /// `contributor_id`
    pub contributor_id: String,
    /// `chain_id`
    pub chain_id: String,
    /// `settlement`
    pub settlement: String,
    /// `payee`
    pub payee: String,
    /// `nonce`
    pub nonce: String,
}

impl PayeeStatementJson {
    /// Encodes a statement.
    pub fn encode(s: &PayeeStatement) -> Self {
        PayeeStatementJson {
            contributor_id: fr_to_decimal(&s.contributor_id),
            chain_id: s.chain_id.to_string(),
            settlement: address_to_hex(&s.settlement),
            payee: address_to_hex(&s.payee),
            nonce: s.nonce.to_string(),
        }
    }

    /// Decodes strictly.
    pub fn decode(&self) -> Result<PayeeStatement, Malformed> {
        use PayeePublicInput as P;
        let address =
            |p: P, s: &str| -> Result<Address, Malformed> { address_from_hex(p.name(), s) };
        Ok(PayeeStatement {
            contributor_id: fr_from_decimal(P::ContributorId.name(), &self.contributor_id)?,
            chain_id: u64_from_decimal(P::ChainId.name(), &self.chain_id)?,
            settlement: address(P::Settlement, &self.settlement)?,
            payee: address(P::Payee, &self.payee)?,
            nonce: u64_from_decimal(P::Nonce.name(), &self.nonce)?,
        })
    }
}

/// `payee.json` as it appears in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayeeJson {
    /// Always [`PAYEE_PROTOCOL`].
    pub protocol: String,
    /// Always `payee-v1`.
    pub circuit_id: String,
    /// blake3 of the verifying key's canonical compressed bytes, lowercase hex.
    pub vk_fingerprint: String,
    /// The public inputs.
    pub statement: PayeeStatementJson,
    /// Canonical compressed proof bytes, lowercase hex.
    pub proof: String,
}

/// A decoded `payee.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayeeBundle {
    /// Which key it should verify under.
    pub vk_fingerprint: Fingerprint,
    /// The public statement.
    pub statement: PayeeStatement,
    /// The proof.
    pub proof: Proof,
}

impl PayeeBundle {
    /// A payee proof made under `key`.
    pub fn new(key: &PayeeKey, statement: PayeeStatement, proof: Proof) -> Self {
        PayeeBundle {
            vk_fingerprint: key.fingerprint(),
            statement,
            proof,
        }
    }

    /// Decodes the JSON form strictly.
    pub fn from_json_value(j: &PayeeJson) -> Result<Self, Malformed> {
        if j.protocol != PAYEE_PROTOCOL {
            return Err(Malformed::Format {
                found: j.protocol.clone(),
                expected: PAYEE_PROTOCOL,
            });
        }
        if j.circuit_id != PAYEE_CIRCUIT_ID {
            return Err(Malformed::Format {
                found: j.circuit_id.clone(),
                expected: PAYEE_CIRCUIT_ID,
            });
        }
        Ok(PayeeBundle {
            vk_fingerprint: Fingerprint::from_hex(&j.vk_fingerprint)?,
            statement: j.statement.decode()?,
            proof: Proof::from_bytes(&hex_decode("proof", &j.proof)?)?,
        })
    }

    /// Parses and decodes a `payee.json` document.
    pub fn from_json(text: &str) -> Result<Self, Malformed> {
        if text.len() > MAX_PAYEE_BYTES {
            return Err(Malformed::Json {
                what: "payee proof",
                reason: format!("larger than {MAX_PAYEE_BYTES} bytes"),
            });
        }
        let j: PayeeJson = serde_json::from_str(text).map_err(|e| Malformed::Json {
            what: "payee proof",
            reason: e.to_string(),
        })?;
        Self::from_json_value(&j)
    }

    /// The JSON form.
    pub fn to_json_value(&self) -> PayeeJson {
        PayeeJson {
            protocol: PAYEE_PROTOCOL.to_owned(),
            circuit_id: PAYEE_CIRCUIT_ID.to_owned(),
            vk_fingerprint: self.vk_fingerprint.to_hex(),
            statement: PayeeStatementJson::encode(&self.statement),
            proof: hex::encode(self.proof.to_bytes()),
        }
    }

    /// The document, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_json_value())
            .expect("a PayeeJson of strings always serializes")
    }
}

/// Verifies one payee proof of `statement` under `key`.
pub fn verify_payee_proof(
    key: &PayeeKey,
    statement: &PayeeStatement,
    proof: &Proof,
) -> Result<(), Invalid> {
    crate::verify::check_proof(
        &key.prepared,
        &key.vk().gamma_abc_g1,
        &statement.public_inputs(),
        proof,
    )
}

/// Verifies a decoded `payee.json` under the key the verifier was given: the file must name
/// that key's fingerprint (it never supplies a key), and its proof must verify.
pub fn verify_payee(key: &PayeeKey, bundle: &PayeeBundle) -> Result<(), Invalid> {
    if bundle.vk_fingerprint != key.fingerprint() {
        return Err(Invalid::UntrustedKey {
            circuit_id: PAYEE_CIRCUIT_ID.to_owned(),
            fingerprint: bundle.vk_fingerprint.to_hex(),
            trusted: vec![key.name()],
        });
    }
    verify_payee_proof(key, &bundle.statement, &bundle.proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G2Affine};
    use ark_ec::AffineRepr;

    fn statement() -> PayeeStatement {
        PayeeStatement {
            contributor_id: Fr::from(42u64),
            chain_id: 31337,
            settlement: [0xab; 20],
            payee: [0x01; 20],
            nonce: 7,
        }
    }

    fn document() -> serde_json::Value {
        let bundle = PayeeBundle {
            vk_fingerprint: Fingerprint::of_bytes(b"key"),
            statement: statement(),
            proof: Proof {
                a: G1Affine::zero(),
                b: G2Affine::zero(),
                c: G1Affine::generator(),
            },
        };
        serde_json::to_value(bundle.to_json_value()).unwrap()
    }

    fn decode(v: &serde_json::Value) -> Result<PayeeBundle, Malformed> {
        PayeeBundle::from_json(&v.to_string())
    }

    #[test]
    fn round_trips_and_names_its_fields() {
        let v = document();
        let b = decode(&v).unwrap();
        assert_eq!(b.statement, statement());
        assert_eq!(serde_json::to_value(b.to_json_value()).unwrap(), v);
        assert_eq!(
            v["statement"]["settlement"],
            format!("0x{}", "ab".repeat(20))
        );
        let names: Vec<&str> = PayeePublicInput::ALL.iter().map(|i| i.name()).collect();
        let mut keys: Vec<&str> = v["statement"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
        // A checksummed (mixed-case) address is the same address.
        let mut mixed = v.clone();
        mixed["statement"]["settlement"] = format!("0x{}", "aB".repeat(20)).into();
        assert_eq!(decode(&mixed).unwrap(), b);
    }

    #[test]
    fn refuses_what_is_not_strictly_a_payee_proof() {
        let v = document();
        let change = |path: &[&str], value: serde_json::Value| {
            let mut w = v.clone();
            let mut at = &mut w;
            for p in &path[..path.len() - 1] {
                at = &mut at[*p];
            }
            at[path[path.len() - 1]] = value;
            decode(&w)
        };
        let cases: [(&[&str], serde_json::Value); 12] = [
            (&["protocol"][..], "credence-payee-v2".into()),
            (&["circuit_id"][..], "claim-v1-n16-d20".into()),
            (&["vk_fingerprint"][..], "AB".repeat(32).into()),
            (&["statement", "chain_id"][..], "031337".into()),
            (&["statement", "chain_id"][..], 31337.into()),
            (&["statement", "nonce"][..], "18446744073709551616".into()),
            (&["statement", "payee"][..], "01".repeat(20).into()),
            (
                &["statement", "payee"][..],
                format!("0x{}", "01".repeat(21)).into(),
            ),
            (
                &["statement", "contributor_id"][..],
                "21888242871839275222246405745257275088548364400416034343698204186575808495617"
                    .into(),
            ),
            (&["proof"][..], "00".into()),
            (&["extra"][..], "1".into()),
            (&["statement", "extra"][..], "1".into()),
        ];
        for (path, value) in cases {
            assert!(change(path, value.clone()).is_err(), "{path:?} = {value}");
        }
        // Duplicate fields are refused.
        let text = v.to_string().replacen(
            "\"protocol\":",
            "\"protocol\":\"credence-payee-v1\",\"protocol\":",
            1,
        );
        assert!(PayeeBundle::from_json(&text).is_err());
    }
}
