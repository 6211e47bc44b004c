//! Phase-2 contributions and beacons: multiply δ by a secret, L and H by its inverse, and
//! record a proof of knowledge bound to the transcript.
//!
//! Format source: snarkjs 0.7.6 `zkey_contribute.js`, `zkey_beacon.js`, `mpc_applykey.js`,
//! `keypair.js`, `misc.js` (`formatHash`, `getRandomRng`, `rngFromBeaconParams`).
//!
//! A contribution with secret `x` and random base `s ∈ G1`:
//! - transcript = Blake2b-512(csHash ‖ hashPubKey(c₁) ‖ … ‖ hashPubKey(c_{i−1}) ‖ U(s) ‖ U(x·s));
//! - `g2_sp = hashToG2(transcript)`, `g2_spx = x·g2_sp`;
//! - δ₁ ← x·δ₁, δ₂ ← x·δ₂, `deltaAfter = δ₁`; every L and H point ← x⁻¹·point;
//! - contribution hash = Blake2b-512(hashPubKey(c)) (what participants publish).
//!
//! For a contribution, `x` and `s` come from a ChaCha stream seeded with Blake2b-512 of 64
//! bytes of OS randomness and the caller's optional extra entropy (snarkjs seeds the same way
//! from `crypto.randomFillSync` and the typed entropy text). For a beacon they come from the
//! stream snarkjs derives from the beacon hash, so anyone can re-derive them.
//!
//! Invariant: the output key differs from the input only in δ₁, δ₂, L, H and the appended
//! contribution, and is written in the section order snarkjs' `contribute` uses; the secret,
//! its inverse and the seed are zeroized before returning.

use super::encoding::g1_to_u;
use super::error::{Error, Result};
use super::jsrng::{JsChaCha, beacon_rng, delta_key_from_rng, hash_to_g2};
use super::progress::{Progress, Silent, map_chunks};
use super::zkey::{
    Contribution, ContributionKind, MpcParams, SEQUENTIAL_ORDER, Zkey, truncate_name,
};
use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, Zero};
use blake2::{Blake2b512, Digest};
use rand_core::{OsRng, RngCore};
#[cfg(feature = "parallel")]
use rayon::prelude::*;
use zeroize::{Zeroize, Zeroizing};

/// What a contribution returns besides the new key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionReceipt {
    /// The circuit hash (csHash) of the key.
    pub circuit_hash: [u8; 64],
    /// The contribution hash (what the participant publishes and later finds in `verify`).
    pub contribution_hash: [u8; 64],
}

impl std::fmt::Display for ContributionReceipt {
    /// The lines snarkjs logs after `zkey contribute`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{}",
            format_hash(&self.circuit_hash, Some("Circuit Hash: "))
        )?;
        write!(
            f,
            "{}",
            format_hash(&self.contribution_hash, Some("Contribution Hash: "))
        )
    }
}

/// snarkjs' `formatHash`: four lines of four big-endian 32-bit words in hex, each line
/// indented by two tabs, after an optional title line.
pub fn format_hash(hash: &[u8; 64], title: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(t) = title {
        s.push_str(t);
        s.push('\n');
    }
    for line in 0..4 {
        if line > 0 {
            s.push('\n');
        }
        s.push_str("\t\t");
        for word in 0..4 {
            if word > 0 {
                s.push(' ');
            }
            let o = line * 16 + word * 4;
            s.push_str(&hex::encode(&hash[o..o + 4]));
        }
    }
    s
}

/// The transcript hasher after the circuit hash and every recorded contribution.
pub fn transcript_prefix(mpc: &MpcParams) -> Blake2b512 {
    let mut h = Blake2b512::new();
    h.update(mpc.cs_hash);
    for c in &mpc.contributions {
        c.hash_pub_key(&mut h);
    }
    h
}

/// The secret of one contribution, zeroized on drop.
struct Secret(Fr);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Applies the key `(x, s)` to `zkey`, appending a contribution of `kind`.
fn apply(
    zkey: &Zkey,
    x: &Secret,
    g1_s: G1Affine,
    kind: ContributionKind,
    name: Option<&str>,
    progress: &dyn Progress,
) -> Result<(Zkey, ContributionReceipt)> {
    if x.0.is_zero() {
        return Err(Error::Argument("the contribution secret is zero".into()));
    }
    let x_inv = Secret(x.0.inverse().expect("nonzero"));
    let g1_sx = (g1_s * x.0).into_affine();
    let mut t = transcript_prefix(&zkey.mpc);
    t.update(g1_to_u(&g1_s));
    t.update(g1_to_u(&g1_sx));
    let transcript: [u8; 64] = t.finalize().into();
    let g2_spx = (hash_to_g2(&transcript) * x.0).into_affine();

    let mut out = zkey.clone();
    out.header.delta_g1 = (zkey.header.delta_g1 * x.0).into_affine();
    out.header.delta_g2 = (zkey.header.delta_g2 * x.0).into_affine();
    progress.phase(
        "moving L and H by 1/delta",
        (zkey.l.len() + zkey.h.len()) as u64,
    );
    out.l = scale(&zkey.l, &x_inv.0, progress);
    out.h = scale(&zkey.h, &x_inv.0, progress);
    let c = Contribution {
        delta_after: out.header.delta_g1,
        g1_s,
        g1_sx,
        g2_spx,
        transcript,
        kind,
        name: name
            .filter(|n| !n.is_empty())
            .map(|n| truncate_name(n).to_string()),
    };
    let receipt = ContributionReceipt {
        circuit_hash: zkey.mpc.cs_hash,
        contribution_hash: c.contribution_hash(),
    };
    out.mpc.contributions.push(c);
    out.section_order = SEQUENTIAL_ORDER;
    Ok((out, receipt))
}

/// Every point times `k` (as a group element: BN254 G1 multiplies with the GLV endomorphism,
/// about twice as fast as the affine point's double-and-add).
fn scale(points: &[G1Affine], k: &Fr, progress: &dyn Progress) -> Vec<G1Affine> {
    map_chunks(points, progress, |chunk| {
        let proj: Vec<G1Projective> = ark_std::cfg_iter!(chunk)
            .map(|p| p.into_group() * k)
            .collect();
        G1Projective::normalize_batch(&proj)
    })
}

/// Contributes to `zkey` with fresh OS randomness (mixed with the optional `extra_entropy`),
/// recording `name`. Returns the new key and the hashes to publish.
pub fn contribute(
    zkey: &Zkey,
    name: Option<&str>,
    extra_entropy: &[u8],
) -> Result<(Zkey, ContributionReceipt)> {
    contribute_with(zkey, name, extra_entropy, &Silent)
}

/// [`contribute`], reporting its progress.
pub fn contribute_with(
    zkey: &Zkey,
    name: Option<&str>,
    extra_entropy: &[u8],
    progress: &dyn Progress,
) -> Result<(Zkey, ContributionReceipt)> {
    let mut os = Zeroizing::new([0u8; 64]);
    OsRng.try_fill_bytes(os.as_mut()).map_err(|e| {
        Error::Io(std::io::Error::other(format!(
            "OS randomness unavailable: {e}"
        )))
    })?;
    let mut h = Blake2b512::new();
    h.update(os.as_ref());
    h.update(extra_entropy);
    let seed = Zeroizing::new(<[u8; 64]>::from(h.finalize()));
    let mut rng = JsChaCha::from_hash(seed[..32].try_into().expect("64 bytes"));
    let (x, g1_s) = loop {
        let (x, s) = delta_key_from_rng(&mut rng);
        let x = Secret(x);
        if !x.0.is_zero() {
            break (x, s);
        }
    };
    apply(
        zkey,
        &x,
        g1_s,
        ContributionKind::Contribution,
        name,
        progress,
    )
}

/// Checks beacon parameters as `snarkjs zkey beacon` does.
fn check_beacon(beacon_hash: &[u8], iterations_exp: u8) -> Result<()> {
    if beacon_hash.is_empty() || beacon_hash.len() >= 256 {
        return Err(Error::Argument(
            "the beacon hash must have 1 to 255 bytes".into(),
        ));
    }
    if !(10..=63).contains(&iterations_exp) {
        return Err(Error::Argument(format!(
            "the iteration exponent must be between 10 and 63, got {iterations_exp}"
        )));
    }
    Ok(())
}

/// Parses a beacon hash given in hex, as `snarkjs zkey beacon` accepts it (an even number of
/// hex digits, no prefix).
pub fn parse_beacon_hex(hex_str: &str) -> Result<Vec<u8>> {
    hex::decode(hex_str)
        .map_err(|e| Error::Argument(format!("invalid beacon hash (hexadecimal expected): {e}")))
}

/// Applies the public random beacon: the key is derived from `beacon_hash` by
/// `2^iterations_exp` SHA-256 iterations, as snarkjs does, so verifiers can re-derive it.
pub fn beacon(
    zkey: &Zkey,
    name: Option<&str>,
    beacon_hash: &[u8],
    iterations_exp: u8,
) -> Result<(Zkey, ContributionReceipt)> {
    beacon_with(zkey, name, beacon_hash, iterations_exp, &Silent)
}

/// [`beacon`], reporting its progress.
pub fn beacon_with(
    zkey: &Zkey,
    name: Option<&str>,
    beacon_hash: &[u8],
    iterations_exp: u8,
    progress: &dyn Progress,
) -> Result<(Zkey, ContributionReceipt)> {
    check_beacon(beacon_hash, iterations_exp)?;
    progress.phase(
        &format!("2^{iterations_exp} SHA-256 iterations of the beacon"),
        0,
    );
    let mut rng = beacon_rng(beacon_hash, iterations_exp).expect("checked parameters");
    let (x, g1_s) = delta_key_from_rng(&mut rng);
    let x = Secret(x);
    apply(
        zkey,
        &x,
        g1_s,
        ContributionKind::Beacon {
            hash: beacon_hash.to_vec(),
            iterations_exp,
        },
        name,
        progress,
    )
}

/// The key a beacon derives: `(x, s, x·s)`, for verification.
pub(crate) fn beacon_key(beacon_hash: &[u8], iterations_exp: u8) -> Option<(G1Affine, G1Affine)> {
    let mut rng = beacon_rng(beacon_hash, iterations_exp)?;
    let (x, g1_s) = delta_key_from_rng(&mut rng);
    let x = Secret(x);
    Some((g1_s, (g1_s * x.0).into_affine()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_hash_like_snarkjs() {
        let mut h = [0u8; 64];
        for (i, b) in h.iter_mut().enumerate() {
            *b = i as u8;
        }
        let s = format_hash(&h, Some("Contribution Hash: "));
        assert_eq!(
            s,
            "Contribution Hash: \n\t\t00010203 04050607 08090a0b 0c0d0e0f\n\t\t10111213 14151617 18191a1b 1c1d1e1f\n\t\t20212223 24252627 28292a2b 2c2d2e2f\n\t\t30313233 34353637 38393a3b 3c3d3e3f"
        );
    }

    #[test]
    fn beacon_arguments() {
        assert!(check_beacon(&[], 10).is_err());
        assert!(check_beacon(&[1; 256], 10).is_err());
        assert!(check_beacon(&[1], 9).is_err());
        assert!(check_beacon(&[1], 64).is_err());
        assert!(check_beacon(&[1], 10).is_ok());
        assert!(parse_beacon_hex("0x12").is_err());
        assert!(parse_beacon_hex("123").is_err());
        assert_eq!(parse_beacon_hex("0a0B").unwrap(), vec![10, 11]);
    }
}
