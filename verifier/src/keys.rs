//! Trusted verifying keys, pinned by circuit id and identified by fingerprint.
//!
//! Invariant: a [`TrustedKey`] exists only for a key that decoded with full validation and passed
//! the refusal checks (claim input count, `gamma != delta`, no identity among alpha/beta/gamma/
//! delta). A payee key is a [`PayeeKey`](crate::payee::PayeeKey): a type of its own, with the
//! same checks but its own input count, so it never enters a [`KeyRing`] and no claim is
//! verified under it. A [`KeyRing`] holds the keys a verifier was *given*; a bundle's `vk_fingerprint` only
//! selects among them, and the selected key must be pinned to the circuit id the bundle names.
//! A bundle never supplies a key.

use std::collections::BTreeMap;
use std::fmt;

use ark_bn254::{Bn254, G2Affine};
use ark_ec::AffineRepr;
use ark_ec::pairing::{Pairing, PairingOutput};

use crate::error::{Invalid, KeyName, Malformed};
use crate::groth16::VerifyingKey;
use crate::statement::NUM_PUBLIC_INPUTS;

/// A circuit identifier such as `claim-v1-n16-d20`: 1 to 64 characters of `[A-Za-z0-9._-]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CircuitId(String);

impl CircuitId {
    /// Validates a circuit id.
    pub fn new(s: &str) -> Result<Self, Malformed> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
        if ok {
            Ok(CircuitId(s.to_owned()))
        } else {
            Err(Malformed::CircuitId(s.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CircuitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// blake3 of a key's canonical compressed bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of canonical compressed key bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Fingerprint(*blake3::hash(bytes).as_bytes())
    }

    /// Parses 64 lowercase hex digits.
    pub fn from_hex(s: &str) -> Result<Self, Malformed> {
        let bytes = crate::encoding::hex_decode("vk_fingerprint", s)?;
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Malformed::WrongLength {
                what: "vk_fingerprint",
                expected: 32,
                got: bytes.len(),
            })?;
        Ok(Fingerprint(arr))
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

/// The pairing-ready parts of a key, computed once per key.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// `e(alpha, beta)`, the right-hand side of the single-proof check.
    pub alpha_beta: PairingOutput<Bn254>,
    /// `-gamma`, `-delta` and `beta`, with their Miller-loop line coefficients precomputed.
    pub neg_gamma: <Bn254 as Pairing>::G2Prepared,
    pub neg_delta: <Bn254 as Pairing>::G2Prepared,
    pub beta: <Bn254 as Pairing>::G2Prepared,
}

impl Prepared {
    /// The prepared form of a key (one pairing and three G2 preparations).
    pub(crate) fn new(vk: &VerifyingKey) -> Self {
        let neg = |p: G2Affine| -> G2Affine { (-p.into_group()).into() };
        Prepared {
            alpha_beta: Bn254::pairing(vk.alpha_g1, vk.beta_g2),
            neg_gamma: neg(vk.gamma_g2).into(),
            neg_delta: neg(vk.delta_g2).into(),
            beta: vk.beta_g2.into(),
        }
    }
}

/// A verifying key that passed the refusal checks, with its canonical bytes, its fingerprint
/// and its prepared form: what a claim key ([`TrustedKey`]) and the payee key
/// ([`PayeeKey`](crate::payee::PayeeKey)) both are, and what each derefs to.
#[derive(Clone, Debug)]
pub struct CheckedKey {
    vk: VerifyingKey,
    bytes: Vec<u8>,
    fingerprint: Fingerprint,
    pub(crate) prepared: Prepared,
}

impl CheckedKey {
    /// Checks `vk` as a key of `num_inputs` public inputs (a `kind` key, as refusals name it).
    pub(crate) fn new(vk: VerifyingKey, num_inputs: usize, kind: &str) -> Result<Self, Malformed> {
        vk.check_shape_for(num_inputs, kind)?;
        let bytes = vk.to_bytes();
        Ok(CheckedKey {
            fingerprint: Fingerprint::of_bytes(&bytes),
            prepared: Prepared::new(&vk),
            vk,
            bytes,
        })
    }

    /// blake3 of the canonical compressed key bytes.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The key.
    pub fn vk(&self) -> &VerifyingKey {
        &self.vk
    }

    /// The canonical compressed key bytes (the content of a `.vk` file).
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A verifying key the verifier was given, validated, pinned to one circuit id.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    circuit_id: CircuitId,
    key: CheckedKey,
}

impl std::ops::Deref for TrustedKey {
    type Target = CheckedKey;
    fn deref(&self) -> &CheckedKey {
        &self.key
    }
}

impl TrustedKey {
    /// Trusts `vk` for `circuit_id`, after the refusal checks.
    pub fn new(circuit_id: CircuitId, vk: VerifyingKey) -> Result<Self, Malformed> {
        Ok(TrustedKey {
            circuit_id,
            key: CheckedKey::new(vk, NUM_PUBLIC_INPUTS, "claim")?,
        })
    }

    /// Decodes canonical compressed key bytes (strictly) and trusts them for `circuit_id`.
    pub fn from_bytes(circuit_id: CircuitId, bytes: &[u8]) -> Result<Self, Malformed> {
        Self::new(circuit_id, VerifyingKey::from_bytes(bytes)?)
    }

    /// The circuit id this key is pinned to.
    pub fn circuit_id(&self) -> &CircuitId {
        &self.circuit_id
    }

    /// The key as an error names it (circuit id and fingerprint).
    pub fn name(&self) -> KeyName {
        KeyName {
            circuit_id: self.circuit_id.to_string(),
            fingerprint: self.fingerprint().to_hex(),
        }
    }
}

/// The set of keys a verifier trusts, by fingerprint.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<Fingerprint, TrustedKey>,
}

impl KeyRing {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key. Adding the same key for the same circuit twice is a no-op; the same key
    /// pinned to two circuit ids is refused (the pin would become ambiguous).
    pub fn insert(&mut self, key: TrustedKey) -> Result<(), Malformed> {
        if let Some(existing) = self.keys.get(&key.fingerprint) {
            if existing.circuit_id != key.circuit_id {
                return Err(Malformed::Key(format!(
                    "key {} already trusted for circuit `{}`, not also `{}`",
                    key.fingerprint, existing.circuit_id, key.circuit_id
                )));
            }
            return Ok(());
        }
        self.keys.insert(key.fingerprint, key);
        Ok(())
    }

    /// Selects the key a bundle names: its fingerprint must be trusted, and pinned to the
    /// circuit id the bundle names.
    pub fn select(
        &self,
        circuit_id: &CircuitId,
        fingerprint: &Fingerprint,
    ) -> Result<&TrustedKey, Invalid> {
        let key = self
            .keys
            .get(fingerprint)
            .ok_or_else(|| Invalid::UntrustedKey {
                circuit_id: circuit_id.to_string(),
                fingerprint: fingerprint.to_hex(),
                trusted: self.iter().map(TrustedKey::name).collect(),
            })?;
        if &key.circuit_id != circuit_id {
            return Err(Invalid::CircuitMismatch {
                fingerprint: fingerprint.to_hex(),
                trusted: key.circuit_id.to_string(),
                claimed: circuit_id.to_string(),
            });
        }
        Ok(key)
    }

    /// The trusted keys, by fingerprint.
    pub fn iter(&self) -> impl Iterator<Item = &TrustedKey> {
        self.keys.values()
    }

    /// How many keys are trusted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
