//! Groth16 keys on disk: `<keys_dir>/<circuit_id>.pk` (arkworks' canonical uncompressed
//! encoding, so loading needs no square root per point) and `.vk` (canonical compressed, what
//! verifiers are handed), and a manifest, `<keys_dir>/manifest.json`, with the blake3
//! fingerprint of both files.
//!
//! ```json
//! { "format": "credence-keys/v1",
//!   "keys": { "claim-v1-n4-d20": { "pk_blake3": "<hex>", "vk_fingerprint": "<hex>",
//!                                   "pk_bytes": 123, "setup": "single-party, OS randomness",
//!                                   "pk_encoding": "uncompressed" } } }
//! ```
//!
//! An entry without `pk_encoding` (written before it existed) has a compressed `.pk`, and
//! still loads.
//!
//! Invariants:
//! - keys are generated only from OS randomness ([`credence_circuits::prover::os_rng`]); a
//!   single-party setup means whoever ran it could forge proofs, and [`SETUP_WARNING`] says so;
//! - files are written by temp file, fsync, rename and directory fsync, so a crash leaves either
//!   the old file or the whole new one; the manifest is written last, so a key without a
//!   manifest entry is never loaded;
//! - the verifying key is always decoded with full validation (on curve, in the subgroup) and
//!   must pass the verifier crate's refusal checks ([`TrustedKey::new`]);
//! - the proving key is decoded *unchecked*, and only after the file's blake3 matched the
//!   manifest. Why that is acceptable: validating the ~10^5-10^6 points of a pk is minutes of
//!   subgroup checks at N=16; the file is our own output, pinned by the manifest (so corruption
//!   and mixing files are caught); and the pk is not trusted for soundness: every proof is
//!   verified under the checked vk before it leaves the server, and the pk's embedded vk must
//!   equal the `.vk` file byte for byte.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ark_bn254::Bn254;
use ark_groth16::ProvingKey;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use credence_circuits::{ClaimProver, Shape};
use credence_verifier::keys::{CircuitId, Fingerprint, TrustedKey};
use serde::{Deserialize, Serialize};

/// Format tag of the manifest.
pub const MANIFEST_FORMAT: &str = "credence-keys/v1";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Printed (and logged) whenever keys are generated.
pub const SETUP_WARNING: &str = "\
WARNING: single-party trusted setup. These Groth16 keys were generated on this machine from \
its OS randomness. Whoever ran this setup (or could read this process's memory while it ran) \
could forge proofs for these circuits. Use them for development and pilots only; production \
keys must come from a multi-party ceremony.";

/// Why keys could not be generated or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The manifest is not valid.
    #[error("key manifest {}: {reason}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A key file does not match its fingerprint in the manifest.
    #[error("{} does not match its fingerprint in the manifest (corrupt or replaced); delete it and run `credence setup` again", path.display())]
    FingerprintMismatch {
        /// The file.
        path: PathBuf,
    },
    /// A server that does not prove found no keys for a shape. It never generates its own:
    /// keys it made would be trusted by it alone, and no prover's proofs would verify.
    #[error(
        "no keys for {circuit_id} in {}: a server that only verifies never generates keys; copy \
         there the keys directory of the party that ran `credence setup`",
        dir.display()
    )]
    NotHandedOut {
        /// The circuit.
        circuit_id: String,
        /// The keys directory.
        dir: PathBuf,
    },
    /// A key does not decode, or is not a key for this circuit.
    #[error("key for {circuit_id}: {reason}")]
    Invalid {
        /// The circuit.
        circuit_id: String,
        /// Why.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One manifest entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// blake3 of the `.pk` file, hex.
    pub pk_blake3: String,
    /// blake3 of the `.vk` file (the verifier's key fingerprint), hex.
    pub vk_fingerprint: String,
    /// Size of the `.pk` file.
    pub pk_bytes: u64,
    /// How the keys were made.
    pub setup: String,
    /// How the `.pk` file encodes points: [`PK_UNCOMPRESSED`] (written since the load-time
    /// fix) or [`PK_COMPRESSED`] (the default, for manifests written before it).
    #[serde(default = "pk_compressed")]
    pub pk_encoding: String,
}

/// `pk_encoding` of a proving key in arkworks' canonical uncompressed encoding: twice the bytes
/// of the compressed one, but loading it takes no square root per point (the N = 64, D = 20
/// key has about 2.2 million points; decompressing them took most of a minute on 2 cores).
pub const PK_UNCOMPRESSED: &str = "uncompressed";
/// `pk_encoding` of a proving key in the canonical compressed encoding.
pub const PK_COMPRESSED: &str = "compressed";

fn pk_compressed() -> String {
    PK_COMPRESSED.into()
}

/// The manifest file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// By circuit id.
    pub keys: BTreeMap<String, ManifestEntry>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            format: MANIFEST_FORMAT.into(),
            keys: BTreeMap::new(),
        }
    }
}

impl Manifest {
    /// Reads `<dir>/manifest.json`; a missing file is an empty manifest.
    pub fn read(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(io(&path)(e)),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| KeyError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if m.format != MANIFEST_FORMAT {
            return Err(KeyError::Manifest {
                path,
                reason: format!("format `{}`, expected `{MANIFEST_FORMAT}`", m.format),
            });
        }
        Ok(m)
    }

    fn write(&self, dir: &Path) -> Result<(), KeyError> {
        let text = serde_json::to_string_pretty(self).expect("a manifest of strings serializes");
        write_atomic(&dir.join(MANIFEST_FILE), text.as_bytes())
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the complete new one
/// ([`credence_verifier::durable`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&File>) -> std::io::Result<()>,
) -> Result<(), KeyError> {
    // Keys are public (the proving key is large, not secret); the manifest pins them.
    credence_verifier::durable::write_atomic_with(path, 0o644, fill).map_err(io(path))
}

fn file_blake3(path: &Path) -> Result<([u8; 32], u64), KeyError> {
    let mut f = BufReader::new(File::open(path).map_err(io(path))?);
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io(path))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((*h.finalize().as_bytes(), n))
}

/// The key files of a shape.
pub fn key_paths(dir: &Path, shape: Shape) -> (PathBuf, PathBuf) {
    let id = shape.circuit_id();
    (dir.join(format!("{id}.pk")), dir.join(format!("{id}.vk")))
}

/// A shape's loaded keys: the prover (proving key + cached matrices), if loaded, and the
/// trusted verifying key.
pub struct ShapeKeys {
    /// The shape.
    pub shape: Shape,
    /// The prover; `None` when only the verifying key was loaded.
    pub prover: Option<Arc<ClaimProver>>,
    /// The verifying key, checked.
    pub vk: TrustedKey,
}

impl std::fmt::Debug for ShapeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShapeKeys")
            .field("shape", &self.shape)
            .field("vk", &self.vk.fingerprint())
            .finish_non_exhaustive()
    }
}

fn trusted(shape: Shape, vk_bytes: &[u8]) -> Result<TrustedKey, KeyError> {
    let invalid = |reason: String| KeyError::Invalid {
        circuit_id: shape.circuit_id(),
        reason,
    };
    let id = CircuitId::new(&shape.circuit_id()).map_err(|e| invalid(e.to_string()))?;
    TrustedKey::from_bytes(id, vk_bytes).map_err(|e| invalid(e.to_string()))
}

/// Generates keys for `shape` with OS randomness and writes them and their manifest entry.
/// Overwrites existing keys of that shape. The caller prints [`SETUP_WARNING`].
pub fn setup(dir: &Path, shape: Shape) -> Result<ShapeKeys, KeyError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let invalid = |reason: String| KeyError::Invalid {
        circuit_id: shape.circuit_id(),
        reason,
    };
    let prover = ClaimProver::setup(shape, &mut credence_circuits::prover::os_rng())
        .map_err(|e| invalid(e.to_string()))?;
    let (pk_path, vk_path) = key_paths(dir, shape);
    let mut vk_bytes = Vec::new();
    prover
        .verifying_key()
        .serialize_compressed(&mut vk_bytes)
        .map_err(|e| invalid(e.to_string()))?;
    let vk = trusted(shape, &vk_bytes)?;
    write_atomic_with(&pk_path, |w| {
        prover
            .proving_key()
            .serialize_uncompressed(w)
            .map_err(std::io::Error::other)
    })?;
    write_atomic(&vk_path, &vk_bytes)?;
    let (pk_hash, pk_bytes) = file_blake3(&pk_path)?;
    let mut manifest = Manifest::read(dir)?;
    manifest.keys.insert(
        shape.circuit_id(),
        ManifestEntry {
            pk_blake3: hex::encode(pk_hash),
            vk_fingerprint: vk.fingerprint().to_hex(),
            pk_bytes,
            setup: "single-party, OS randomness".into(),
            pk_encoding: PK_UNCOMPRESSED.into(),
        },
    );
    manifest.write(dir)?;
    Ok(ShapeKeys {
        shape,
        prover: Some(Arc::new(prover)),
        vk,
    })
}

/// Whether the manifest lists `shape` (its keys can be loaded).
pub fn has_keys(dir: &Path, shape: Shape) -> Result<bool, KeyError> {
    Ok(Manifest::read(dir)?.keys.contains_key(&shape.circuit_id()))
}

/// Loads the keys of `shape` after checking both files against the manifest. With
/// `with_prover = false` only the verifying key is read.
pub fn load(dir: &Path, shape: Shape, with_prover: bool) -> Result<ShapeKeys, KeyError> {
    let manifest = Manifest::read(dir)?;
    let id = shape.circuit_id();
    let entry = manifest.keys.get(&id).ok_or_else(|| KeyError::Manifest {
        path: dir.join(MANIFEST_FILE),
        reason: format!(
            "no entry for {id}; run `credence setup --shape {},{}`",
            shape.n, shape.depth
        ),
    })?;
    let (pk_path, vk_path) = key_paths(dir, shape);
    let vk_bytes = fs::read(&vk_path).map_err(io(&vk_path))?;
    let vk = trusted(shape, &vk_bytes)?;
    if vk.fingerprint().to_hex() != entry.vk_fingerprint {
        return Err(KeyError::FingerprintMismatch { path: vk_path });
    }
    if !with_prover {
        return Ok(ShapeKeys {
            shape,
            prover: None,
            vk,
        });
    }
    // Hash first, decode second, over the same bytes in memory: the unchecked decoder only
    // ever sees bytes that match the manifest (a file that changes after a check is no risk).
    let invalid = |reason: String| KeyError::Invalid {
        circuit_id: id.clone(),
        reason,
    };
    let bytes = fs::read(&pk_path).map_err(io(&pk_path))?;
    if hex::encode(blake3::hash(&bytes).as_bytes()) != entry.pk_blake3 {
        return Err(KeyError::FingerprintMismatch { path: pk_path });
    }
    let pk = match entry.pk_encoding.as_str() {
        PK_UNCOMPRESSED => ProvingKey::<Bn254>::deserialize_uncompressed_unchecked(&bytes[..]),
        PK_COMPRESSED => ProvingKey::<Bn254>::deserialize_compressed_unchecked(&bytes[..]),
        other => {
            return Err(KeyError::Manifest {
                path: dir.join(MANIFEST_FILE),
                reason: format!("{id}: unknown pk_encoding `{other}`"),
            });
        }
    }
    .map_err(|e| invalid(e.to_string()))?;
    let mut embedded_vk = Vec::new();
    pk.vk
        .serialize_compressed(&mut embedded_vk)
        .map_err(|e| invalid(e.to_string()))?;
    if embedded_vk != vk_bytes {
        return Err(invalid(
            "the proving key's embedded verifying key is not the .vk file".into(),
        ));
    }
    let prover = ClaimProver::new(shape, pk).map_err(|e| invalid(e.to_string()))?;
    Ok(ShapeKeys {
        shape,
        prover: Some(Arc::new(prover)),
        vk,
    })
}

/// The fingerprint of a verifying key file's bytes.
pub fn fingerprint_of(vk_bytes: &[u8]) -> Fingerprint {
    Fingerprint::of_bytes(vk_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_load_and_tamper() {
        let dir = tempfile::tempdir().unwrap();
        let shape = Shape::new(1, 4).unwrap();
        let made = setup(dir.path(), shape).unwrap();
        let loaded = load(dir.path(), shape, true).unwrap();
        assert_eq!(made.vk.fingerprint(), loaded.vk.fingerprint());
        assert!(loaded.prover.is_some());
        // Flip one byte of the pk: refused before decoding.
        let (pk_path, vk_path) = key_paths(dir.path(), shape);
        let mut pk = fs::read(&pk_path).unwrap();
        let last = pk.len() - 1;
        pk[last] ^= 1;
        fs::write(&pk_path, &pk).unwrap();
        assert!(matches!(
            load(dir.path(), shape, true),
            Err(KeyError::FingerprintMismatch { .. })
        ));
        // The vk alone still loads; a flipped vk does not.
        assert!(load(dir.path(), shape, false).is_ok());
        let mut vk = fs::read(&vk_path).unwrap();
        vk[0] ^= 1;
        fs::write(&vk_path, &vk).unwrap();
        assert!(load(dir.path(), shape, false).is_err());
        // An unknown shape names the command to run.
        let other = Shape::new(2, 4).unwrap();
        assert!(
            load(dir.path(), other, false)
                .unwrap_err()
                .to_string()
                .contains("credence setup")
        );
    }

    #[test]
    fn keys_written_before_pk_encoding_existed_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let shape = Shape::new(1, 4).unwrap();
        let made = setup(dir.path(), shape).unwrap();
        let (pk_path, _) = key_paths(dir.path(), shape);
        let pk = made.prover.as_ref().unwrap().proving_key();
        let entry = &Manifest::read(dir.path()).unwrap().keys[&shape.circuit_id()];
        assert_eq!(entry.pk_encoding, PK_UNCOMPRESSED);
        assert_eq!(entry.pk_bytes, pk.uncompressed_size() as u64);

        // Rewrite the directory as the earlier code did: a compressed .pk, no pk_encoding.
        let mut compressed = Vec::new();
        pk.serialize_compressed(&mut compressed).unwrap();
        fs::write(&pk_path, &compressed).unwrap();
        let manifest_path = dir.path().join(MANIFEST_FILE);
        let mut json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
        let e = &mut json["keys"][shape.circuit_id()];
        e.as_object_mut().unwrap().remove("pk_encoding");
        e["pk_blake3"] = hex::encode(blake3::hash(&compressed).as_bytes()).into();
        e["pk_bytes"] = compressed.len().into();
        fs::write(&manifest_path, json.to_string()).unwrap();

        let loaded = load(dir.path(), shape, true).unwrap();
        let mut again = Vec::new();
        loaded
            .prover
            .unwrap()
            .proving_key()
            .serialize_compressed(&mut again)
            .unwrap();
        assert_eq!(again, compressed, "the same proving key");

        json["keys"][shape.circuit_id()]["pk_encoding"] = "zstd".into();
        fs::write(&manifest_path, json.to_string()).unwrap();
        let e = load(dir.path(), shape, true).unwrap_err();
        assert!(
            matches!(e, KeyError::Manifest { .. }) && e.to_string().contains("zstd"),
            "{e}"
        );
    }
}
