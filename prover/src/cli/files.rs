//! The contributor's private files.
//!
//! `secret.key` (mode 0600), the contributor secret `s`:
//!
//! ```json
//! { "format": "credence-contributor-secret/v1",
//!   "secret": "<decimal Fr, uniformly random from the OS>",
//!   "contributor_id": "<decimal Fr, H(secret)>" }
//! ```
//!
//! `openings.json` (mode 0600), one entry per committed file:
//!
//! ```json
//! { "format": "credence-openings/v1",
//!   "contributor_id": "<decimal>",
//!   "openings": [ { "file": "scans/a.dcm", "digest": "<decimal>", "blinding": "<decimal>",
//!                   "commitment": "<decimal>", "leaf_index": 3 } ] }
//! ```
//!
//! `leaf_index` is filled in by `credence register`. Only `commitment` and `contributor_id`
//! are public; the digest and blinding are the opening, as secret as the data.
//!
//! Invariants: both files are written with mode 0600 (temp file, fsync, rename) and refused on
//! read if anyone but the owner can read them; `contributor_id` is checked against the secret on
//! every read; secret text is held in zeroizing buffers.

use std::path::Path;

use anyhow::{Context, Result, bail};
use ark_bn254::Fr;
use credence_circuits::commitment;
use credence_verifier::encoding::{fr_from_decimal, fr_to_decimal};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Format tag of `secret.key`.
pub const SECRET_FORMAT: &str = "credence-contributor-secret/v1";
/// Format tag of `openings.json`.
pub const OPENINGS_FORMAT: &str = "credence-openings/v1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    format: String,
    secret: String,
    contributor_id: String,
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.secret.zeroize();
    }
}

/// One committed file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// The file's path as given to `credence commit`.
    pub file: String,
    /// The digest (secret).
    pub digest: String,
    /// The blinding (secret).
    pub blinding: String,
    /// The public commitment.
    pub commitment: String,
    /// The leaf index, once registered.
    pub leaf_index: Option<u64>,
}

impl Drop for Opening {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.digest.zeroize();
        self.blinding.zeroize();
    }
}

/// The openings file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Openings {
    /// Always [`OPENINGS_FORMAT`].
    pub format: String,
    /// The contributor's public id.
    pub contributor_id: String,
    /// The openings.
    pub openings: Vec<Opening>,
}

/// Writes `bytes` to `path` readable by its owner only, atomically ([`credence_verifier::durable`]).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    credence_verifier::durable::write_atomic(path, bytes, 0o600)
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads a file that must be readable by its owner only.
pub fn read_private(path: &Path) -> Result<Zeroizing<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    Ok(Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    ))
}

/// A fresh uniformly random field element from the OS.
pub fn random_fr() -> Fr {
    use ark_ff::UniformRand;
    Fr::rand(&mut credence_circuits::prover::os_rng())
}

/// Reads `secret.key`, or creates it with a fresh secret if it does not exist.
pub fn load_or_create_secret(path: &Path) -> Result<(Zeroizing<Fr>, bool)> {
    if path.exists() {
        return Ok((load_secret(path)?, false));
    }
    let secret = Zeroizing::new(random_fr());
    let file = SecretFile {
        format: SECRET_FORMAT.into(),
        secret: fr_to_decimal(&secret),
        contributor_id: fr_to_decimal(&commitment::contributor_id(&secret)),
    };
    let text = Zeroizing::new(serde_json::to_string_pretty(&file)?);
    write_private(path, text.as_bytes())?;
    Ok((secret, true))
}

/// Reads `secret.key`.
pub fn load_secret(path: &Path) -> Result<Zeroizing<Fr>> {
    let text = read_private(path)?;
    let file: SecretFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a credence secret file", path.display()))?;
    if file.format != SECRET_FORMAT {
        bail!(
            "{}: format `{}`, expected `{SECRET_FORMAT}`",
            path.display(),
            file.format
        );
    }
    let secret = Zeroizing::new(
        fr_from_decimal("secret", &file.secret)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
    );
    if fr_to_decimal(&commitment::contributor_id(&secret)) != file.contributor_id {
        bail!("{}: contributor_id is not H(secret)", path.display());
    }
    Ok(secret)
}

impl Openings {
    /// Reads the openings file, or an empty one for `contributor_id` if absent.
    pub fn load_or_new(path: &Path, contributor_id: &Fr) -> Result<Self> {
        let id = fr_to_decimal(contributor_id);
        if !path.exists() {
            return Ok(Openings {
                format: OPENINGS_FORMAT.into(),
                contributor_id: id,
                openings: vec![],
            });
        }
        let o = Self::load(path)?;
        if o.contributor_id != id {
            bail!("{} belongs to another contributor id", path.display());
        }
        Ok(o)
    }

    /// Reads the openings file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_private(path)?;
        let o: Openings = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a credence openings file", path.display()))?;
        if o.format != OPENINGS_FORMAT {
            bail!(
                "{}: format `{}`, expected `{OPENINGS_FORMAT}`",
                path.display(),
                o.format
            );
        }
        Ok(o)
    }

    /// Writes it (0600).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = Zeroizing::new(serde_json::to_string_pretty(self)?);
        write_private(path, text.as_bytes())
    }
}

/// The digest of a file, hashed as a stream.
pub fn file_digest(path: &Path) -> Result<Fr> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = blake3::Hasher::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("reading {}", path.display()))?;
    Ok(commitment::digest_from_blake3(h.finalize().as_bytes()))
}

/// The first digits of a decimal id (a contributor id, a commitment): enough to tell two
/// apart in a message, short enough to read.
pub fn short_id(id: &str) -> String {
    match id.get(..16) {
        Some(head) if id.len() > 16 => format!("{head}…"),
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_are_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let (s, created) = load_or_create_secret(&path).unwrap();
        assert!(created);
        let (again, created) = load_or_create_secret(&path).unwrap();
        assert!(!created);
        assert_eq!(*s, *again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(
                load_secret(&path)
                    .unwrap_err()
                    .to_string()
                    .contains("readable by others")
            );
        }
    }
}
