//! Groth16 keys on disk: `<keys_dir>/<circuit_id>.pk` (arkworks' canonical uncompressed
//! encoding, so loading needs no square root per point) and `.vk` (canonical compressed, what
//! verifiers are handed), and a manifest, `<keys_dir>/manifest.json`, with the blake3
//! fingerprint of both files.
//!
//! ```json
//! { "format": "credence-keys/v1",
//!   "keys": { "claim-v1-n4-d20": { "pk_blake3": "<hex>", "vk_fingerprint": "<hex>",
//!                                   "pk_bytes": 123, "setup": "single-party, OS randomness",
//!                                   "pk_encoding": "uncompressed", "qap": "libsnark" } } }
//! ```
//!
//! Circuit ids are [`Circuit::circuit_id`]'s: `claim-v1-nN-dD` for each claim shape, and
//! `payee-v1` for the payee circuit (a contributor's proof of where its payouts go), whose keys
//! live beside the claim keys under the same rules ([`setup_payee`], [`load_payee`]).
//!
//! Keys imported from a phase-2 ceremony (`credence ceremony import`) have `"setup":
//! "ceremony"`, `"qap": "circom"` (snarkjs' reduction) and a `ceremony` object: the circuit
//! hash, the Blake2b-512 of the `.ptau` (the hash published beside it) and of the final `.zkey`
//! (the transcript), and every contribution's name and hash in order, so anyone holding the
//! transcript can find theirs and re-run `snarkjs zkey verify`.
//!
//! An entry without `pk_encoding` (written before it existed) has a compressed `.pk`, and
//! still loads; one without `qap` is libsnark's.
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
use credence_circuits::{
    Circuit, ClaimProver, PAYEE_CIRCUIT_ID, PayeeInput, PayeeProver, ProveError, Shape,
    prover::{CircuitProver, Qap},
};
use credence_verifier::keys::{CircuitId, Fingerprint, TrustedKey};
use credence_verifier::payee::{PayeeKey, verify_payee_proof};
use serde::{Deserialize, Serialize};

/// Format tag of the manifest.
pub const MANIFEST_FORMAT: &str = "credence-keys/v1";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Said once for every single-party key: by `credence setup` when it generates one, by the
/// server's log for each such key it loads or generates (`credence serve`), and by `credence
/// demo` to its reader instead of the log (see [`crate::server::Hooks::log_setup_warning`]).
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
    /// A ceremony transcript did not verify, or is not a key of this circuit.
    #[error("ceremony key for {circuit_id}: {source}")]
    Ceremony {
        /// The circuit.
        circuit_id: String,
        /// Why.
        source: credence_ceremony::Error,
    },
    /// Keys exist for the circuit and are not the ones being written: one circuit id, one key.
    #[error(
        "{circuit_id} already has a key ({existing}, fingerprint {fingerprint}); every bundle \
         proven under it would stop verifying. Pass --replace to replace it deliberately"
    )]
    WouldReplace {
        /// The circuit.
        circuit_id: String,
        /// How the existing key was made.
        existing: String,
        /// Its fingerprint.
        fingerprint: String,
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
    /// The R1CS-to-QAP reduction the key was made for ([`Qap::name`]); libsnark's when absent.
    #[serde(default = "qap_libsnark")]
    pub qap: String,
    /// Where a ceremony key came from; absent for single-party keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceremony: Option<CeremonyRecord>,
}

/// `setup` of keys made by `credence setup` (or a prover's first start).
pub const SETUP_SINGLE_PARTY: &str = "single-party, OS randomness";
/// `setup` of keys imported from a ceremony.
pub const SETUP_CEREMONY: &str = "ceremony";

fn qap_libsnark() -> String {
    Qap::Libsnark.name().into()
}

/// Where a ceremony key came from (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyRecord {
    /// The circuit hash (snarkjs' csHash), 128 hex digits.
    pub circuit_hash: String,
    /// Blake2b-512 of the phase-1 `.ptau` file, hex (compare with the hash published beside it).
    pub ptau_blake2b: String,
    /// Blake2b-512 of the final `.zkey`, the transcript, hex.
    pub transcript_blake2b: String,
    /// Every contribution in order.
    pub contributions: Vec<ContributionRecord>,
}

/// One contribution of a ceremony.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributionRecord {
    /// The participant's name (may be empty).
    pub name: String,
    /// The contribution hash, 128 hex digits.
    pub hash: String,
    /// For the random beacon: its value (hex) and iteration exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<BeaconRecord>,
}

/// A beacon's public parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeaconRecord {
    /// The beacon value, hex.
    pub value: String,
    /// log2 of the number of SHA-256 iterations.
    pub iterations_exp: u8,
}

impl ManifestEntry {
    /// One line on where the key came from, for logs and listings.
    pub fn provenance(&self) -> String {
        match &self.ceremony {
            None => format!("{} (whoever ran the setup could forge proofs)", self.setup),
            Some(c) => format!(
                "ceremony of {} contributions, circuit hash {}…, transcript blake2b {}…",
                c.contributions.len(),
                &c.circuit_hash[..16.min(c.circuit_hash.len())],
                &c.transcript_blake2b[..16.min(c.transcript_blake2b.len())],
            ),
        }
    }
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

/// The key files of a circuit (a claim [`Shape`] or [`Circuit::Payee`]).
pub fn key_paths(dir: &Path, circuit: impl Into<Circuit>) -> (PathBuf, PathBuf) {
    let id = circuit.into().circuit_id();
    (dir.join(format!("{id}.pk")), dir.join(format!("{id}.vk")))
}

/// A shape's loaded keys: the prover (proving key + cached matrices), if loaded, the
/// trusted verifying key, and its manifest entry (where the key came from).
pub struct ShapeKeys {
    /// The shape.
    pub shape: Shape,
    /// The prover; `None` when only the verifying key was loaded.
    pub prover: Option<Arc<ClaimProver>>,
    /// The verifying key, checked.
    pub vk: TrustedKey,
    /// The key's manifest entry.
    pub entry: ManifestEntry,
}

impl std::fmt::Debug for ShapeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShapeKeys")
            .field("shape", &self.shape)
            .field("vk", &self.vk.fingerprint())
            .finish_non_exhaustive()
    }
}

/// The payee circuit's loaded keys (`payee-v1`): the prover, if loaded, the checked verifying
/// key, and its manifest entry.
pub struct PayeeKeys {
    /// The prover; `None` when only the verifying key was loaded.
    pub prover: Option<PayeeProver>,
    /// The verifying key, checked.
    pub vk: PayeeKey,
    /// The key's manifest entry.
    pub entry: ManifestEntry,
}

impl std::fmt::Debug for PayeeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayeeKeys")
            .field("vk", &self.vk.fingerprint())
            .finish_non_exhaustive()
    }
}

/// What writing, loading and importing keys needs of a circuit's prover and verifying key, so
/// that each is written once for both circuits.
trait Keyed: Sized {
    /// The verifier crate's checked form of the circuit's verifying key.
    type Vk;
    /// The circuit's prover around a key and its matrices (refuses another circuit's).
    fn from_core(core: CircuitProver) -> Result<Self, ProveError>;
    /// The key and matrices.
    fn core(&self) -> &CircuitProver;
    /// Decodes `.vk` bytes with full validation and the verifier crate's refusal checks.
    fn trust(circuit: Circuit, vk_bytes: &[u8]) -> Result<Self::Vk, String>;
    /// The checked key's fingerprint.
    fn fingerprint(vk: &Self::Vk) -> Fingerprint;
    /// Proves one synthetic statement and verifies it under `vk`, so that a key that converts
    /// but cannot prove this circuit is never installed.
    fn self_test(&self, vk: &Self::Vk) -> Result<(), String>;
}

impl Keyed for ClaimProver {
    type Vk = TrustedKey;

    fn from_core(core: CircuitProver) -> Result<Self, ProveError> {
        ClaimProver::from_circuit_prover(core)
    }

    fn core(&self) -> &CircuitProver {
        self
    }

    fn trust(circuit: Circuit, vk_bytes: &[u8]) -> Result<TrustedKey, String> {
        let id = CircuitId::new(&circuit.circuit_id()).map_err(|e| e.to_string())?;
        TrustedKey::from_bytes(id, vk_bytes).map_err(|e| e.to_string())
    }

    fn fingerprint(vk: &TrustedKey) -> Fingerprint {
        vk.fingerprint()
    }

    fn self_test(&self, vk: &TrustedKey) -> Result<(), String> {
        let mut rng = credence_circuits::prover::os_rng();
        let input = credence_circuits::bench::synthetic_claim(self.shape(), &mut rng);
        let (statement, proof) = self
            .prove(&input, &mut rng)
            .map_err(|e| format!("a synthetic claim does not prove under the key: {e}"))?;
        credence_verifier::verify(vk, &statement, &proof.into())
            .map_err(|e| format!("a proof made under the key does not verify under it: {e}"))
    }
}

impl Keyed for PayeeProver {
    type Vk = PayeeKey;

    fn from_core(core: CircuitProver) -> Result<Self, ProveError> {
        PayeeProver::from_circuit_prover(core)
    }

    fn core(&self) -> &CircuitProver {
        self
    }

    fn trust(_: Circuit, vk_bytes: &[u8]) -> Result<PayeeKey, String> {
        PayeeKey::from_bytes(vk_bytes).map_err(|e| e.to_string())
    }

    fn fingerprint(vk: &PayeeKey) -> Fingerprint {
        vk.fingerprint()
    }

    fn self_test(&self, vk: &PayeeKey) -> Result<(), String> {
        use ark_ff::UniformRand;
        let mut rng = credence_circuits::prover::os_rng();
        let input = PayeeInput {
            secret: ark_bn254::Fr::rand(&mut rng),
            chain_id: 1,
            settlement: [0x5e; 20],
            payee: [0xa1; 20],
            nonce: 0,
        };
        let (statement, proof) = self.prove(&input, &mut rng).map_err(|e| {
            format!("a synthetic payee statement does not prove under the key: {e}")
        })?;
        verify_payee_proof(vk, &statement, &proof.into())
            .map_err(|e| format!("a proof made under the key does not verify under it: {e}"))
    }
}

/// A circuit's keys as [`Keyed`] loads them.
struct Loaded<P: Keyed> {
    prover: Option<P>,
    vk: P::Vk,
    entry: ManifestEntry,
}

impl Loaded<ClaimProver> {
    fn shape_keys(self, shape: Shape) -> ShapeKeys {
        ShapeKeys {
            shape,
            prover: self.prover.map(Arc::new),
            vk: self.vk,
            entry: self.entry,
        }
    }
}

impl Loaded<PayeeProver> {
    fn payee_keys(self) -> PayeeKeys {
        PayeeKeys {
            prover: self.prover,
            vk: self.vk,
            entry: self.entry,
        }
    }
}

fn invalid(circuit: Circuit) -> impl Fn(String) -> KeyError {
    move |reason| KeyError::Invalid {
        circuit_id: circuit.circuit_id(),
        reason,
    }
}

fn trusted<P: Keyed>(circuit: Circuit, vk_bytes: &[u8]) -> Result<P::Vk, KeyError> {
    P::trust(circuit, vk_bytes).map_err(invalid(circuit))
}

fn vk_bytes_of(circuit: Circuit, core: &CircuitProver) -> Result<Vec<u8>, KeyError> {
    let mut vk_bytes = Vec::new();
    core.verifying_key()
        .serialize_compressed(&mut vk_bytes)
        .map_err(|e| invalid(circuit)(e.to_string()))?;
    Ok(vk_bytes)
}

/// The arguments of `credence setup` that make a circuit's keys, for messages.
fn setup_arguments(circuit: Circuit) -> String {
    match circuit {
        Circuit::Claim(shape) => format!("--shape {},{}", shape.n, shape.depth),
        Circuit::Payee => format!("--circuit {PAYEE_CIRCUIT_ID}"),
    }
}

/// Refuses to overwrite the key of a circuit (a claim [`Shape`] or [`Circuit::Payee`]) unless
/// `replace`: one circuit id, one key.
pub fn check_replace(
    manifest: &Manifest,
    circuit: impl Into<Circuit>,
    replace: bool,
) -> Result<(), KeyError> {
    let id = circuit.into().circuit_id();
    match manifest.keys.get(&id) {
        Some(old) if !replace => Err(KeyError::WouldReplace {
            circuit_id: id,
            existing: old.setup.clone(),
            fingerprint: old.vk_fingerprint.clone(),
        }),
        _ => Ok(()),
    }
}

/// Generates keys for `shape` with OS randomness and writes them and their manifest entry.
/// Existing keys of that shape are replaced only with `replace`. The caller prints
/// [`SETUP_WARNING`].
pub fn setup(dir: &Path, shape: Shape, replace: bool) -> Result<ShapeKeys, KeyError> {
    Ok(setup_keys::<ClaimProver>(dir, shape.into(), replace)?.shape_keys(shape))
}

/// [`setup`] for the payee circuit (`<dir>/payee-v1.{pk,vk}`, in the same manifest, under the
/// same rule: an existing payee key is replaced only with `replace`).
pub fn setup_payee(dir: &Path, replace: bool) -> Result<PayeeKeys, KeyError> {
    Ok(setup_keys::<PayeeProver>(dir, Circuit::Payee, replace)?.payee_keys())
}

fn setup_keys<P: Keyed>(
    dir: &Path,
    circuit: Circuit,
    replace: bool,
) -> Result<Loaded<P>, KeyError> {
    check_replace(&Manifest::read(dir)?, circuit, replace)?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    let core = CircuitProver::setup_for(
        circuit,
        Qap::Libsnark,
        &mut credence_circuits::prover::os_rng(),
    )
    .map_err(|e| invalid(circuit)(e.to_string()))?;
    let vk_bytes = vk_bytes_of(circuit, &core)?;
    let prover = P::from_core(core).map_err(|e| invalid(circuit)(e.to_string()))?;
    write_keys(dir, prover, &vk_bytes, SETUP_SINGLE_PARTY, None)
}

/// Writes a prover's keys and then their manifest entry (last: a key without an entry is never
/// loaded).
fn write_keys<P: Keyed>(
    dir: &Path,
    prover: P,
    vk_bytes: &[u8],
    setup: &str,
    ceremony: Option<CeremonyRecord>,
) -> Result<Loaded<P>, KeyError> {
    let core = prover.core();
    let circuit = core.circuit();
    let (pk_path, vk_path) = key_paths(dir, circuit);
    let vk = trusted::<P>(circuit, vk_bytes)?;
    write_atomic_with(&pk_path, |w| {
        core.proving_key()
            .serialize_uncompressed(w)
            .map_err(std::io::Error::other)
    })?;
    write_atomic(&vk_path, vk_bytes)?;
    let (pk_hash, pk_bytes) = file_blake3(&pk_path)?;
    let mut manifest = Manifest::read(dir)?;
    let entry = ManifestEntry {
        pk_blake3: hex::encode(pk_hash),
        vk_fingerprint: P::fingerprint(&vk).to_hex(),
        pk_bytes,
        setup: setup.into(),
        pk_encoding: PK_UNCOMPRESSED.into(),
        qap: core.qap().name().into(),
        ceremony,
    };
    manifest.keys.insert(circuit.circuit_id(), entry.clone());
    manifest.write(dir)?;
    Ok(Loaded {
        prover: Some(prover),
        vk,
        entry,
    })
}

/// A key installed from a ceremony: its circuit, fingerprint and manifest entry.
#[derive(Clone, Debug)]
pub struct InstalledKey {
    /// The circuit.
    pub circuit: Circuit,
    /// The verifying key's fingerprint.
    pub fingerprint: Fingerprint,
    /// Its manifest entry (with the ceremony's record).
    pub entry: ManifestEntry,
}

/// Imports the final key of a ceremony for a circuit (a claim [`Shape`] or
/// [`Circuit::Payee`]): verifies the transcript `zkey` against the circuit and `ptau` (every
/// check of `snarkjs zkey verify`), converts it, proves and verifies one synthetic statement
/// under it, and writes the keys with their provenance. Refuses to replace a different key of
/// the circuit unless `replace`. Reports each phase (minutes each at D = 20) to `progress`.
pub fn import_ceremony(
    dir: &Path,
    circuit: impl Into<Circuit>,
    ptau_path: &Path,
    zkey_path: &Path,
    replace: bool,
    progress: &dyn credence_ceremony::Progress,
) -> Result<(InstalledKey, credence_ceremony::VerifyReport), KeyError> {
    let circuit = circuit.into();
    let installed = |fingerprint: Fingerprint, entry: ManifestEntry| InstalledKey {
        circuit,
        fingerprint,
        entry,
    };
    Ok(match circuit {
        Circuit::Claim(_) => {
            let (keys, report) =
                import_keys::<ClaimProver>(dir, circuit, ptau_path, zkey_path, replace, progress)?;
            (installed(keys.vk.fingerprint(), keys.entry), report)
        }
        Circuit::Payee => {
            let (keys, report) =
                import_keys::<PayeeProver>(dir, circuit, ptau_path, zkey_path, replace, progress)?;
            (installed(keys.vk.fingerprint(), keys.entry), report)
        }
    })
}

fn import_keys<P: Keyed>(
    dir: &Path,
    circuit: Circuit,
    ptau_path: &Path,
    zkey_path: &Path,
    replace: bool,
    progress: &dyn credence_ceremony::Progress,
) -> Result<(Loaded<P>, credence_ceremony::VerifyReport), KeyError> {
    use credence_ceremony::{
        Ptau, Zkey, circuit_r1cs, file_blake2b_with, proving_key, verify_with,
    };
    let id = circuit.circuit_id();
    let ceremony = |source: credence_ceremony::Error| KeyError::Ceremony {
        circuit_id: id.clone(),
        source,
    };
    let manifest = Manifest::read(dir)?;
    let ptau_blake2b = file_blake2b_with(ptau_path, progress).map_err(|e| match e {
        credence_ceremony::Error::Io(e) => io(ptau_path)(e),
        e => ceremony(e),
    })?;
    let transcript_blake2b = file_blake2b_with(zkey_path, progress).map_err(|e| match e {
        credence_ceremony::Error::Io(e) => io(zkey_path)(e),
        e => ceremony(e),
    })?;
    progress.phase("synthesizing the circuit and reading the transcript", 0);
    let r1cs = circuit_r1cs(circuit).map_err(ceremony)?;
    let zkey = Zkey::open(zkey_path).map_err(ceremony)?;
    let mut ptau = Ptau::open(ptau_path).map_err(ceremony)?;
    let report = verify_with(&r1cs, &mut ptau, &zkey, progress).map_err(ceremony)?;
    progress.phase("proving a synthetic statement under the key", 0);
    let pk = proving_key(&zkey, &r1cs, &report.circuit_hash).map_err(ceremony)?;
    drop(zkey);
    let core = CircuitProver::with_qap(circuit, pk, Qap::Circom)
        .map_err(|e| invalid(circuit)(e.to_string()))?;
    let vk_bytes = vk_bytes_of(circuit, &core)?;
    let prover = P::from_core(core).map_err(|e| invalid(circuit)(e.to_string()))?;
    // The same ceremony key again replaces nothing; any other key of the circuit needs `replace`.
    let same_key = manifest.keys.get(&id).is_some_and(|old| {
        old.vk_fingerprint == fingerprint_of(&vk_bytes).to_hex() && old.ceremony.is_some()
    });
    if !same_key {
        check_replace(&manifest, circuit, replace)?;
    }
    let vk = trusted::<P>(circuit, &vk_bytes)?;
    prover.self_test(&vk).map_err(invalid(circuit))?;
    progress.phase("writing the keys", 0);
    fs::create_dir_all(dir).map_err(io(dir))?;
    let record = CeremonyRecord {
        circuit_hash: hex::encode(report.circuit_hash),
        ptau_blake2b: hex::encode(ptau_blake2b),
        transcript_blake2b: hex::encode(transcript_blake2b),
        contributions: report
            .contributions
            .iter()
            .map(|c| ContributionRecord {
                name: c.name.clone().unwrap_or_default(),
                hash: hex::encode(c.hash),
                beacon: match &c.kind {
                    credence_ceremony::zkey::ContributionKind::Beacon {
                        hash,
                        iterations_exp,
                    } => Some(BeaconRecord {
                        value: hex::encode(hash),
                        iterations_exp: *iterations_exp,
                    }),
                    _ => None,
                },
            })
            .collect(),
    };
    let keys = write_keys(dir, prover, &vk_bytes, SETUP_CEREMONY, Some(record))?;
    Ok((keys, report))
}

/// Whether the manifest lists the circuit (a claim [`Shape`] or [`Circuit::Payee`]): its keys
/// can be loaded.
pub fn has_keys(dir: &Path, circuit: impl Into<Circuit>) -> Result<bool, KeyError> {
    Ok(Manifest::read(dir)?
        .keys
        .contains_key(&circuit.into().circuit_id()))
}

/// Loads the keys of `shape` after checking both files against the manifest. With
/// `with_prover = false` only the verifying key is read.
pub fn load(dir: &Path, shape: Shape, with_prover: bool) -> Result<ShapeKeys, KeyError> {
    Ok(load_keys::<ClaimProver>(dir, shape.into(), with_prover)?.shape_keys(shape))
}

/// [`load`] for the payee circuit (`<dir>/payee-v1.{pk,vk}`).
pub fn load_payee(dir: &Path, with_prover: bool) -> Result<PayeeKeys, KeyError> {
    Ok(load_keys::<PayeeProver>(dir, Circuit::Payee, with_prover)?.payee_keys())
}

fn load_keys<P: Keyed>(
    dir: &Path,
    circuit: Circuit,
    with_prover: bool,
) -> Result<Loaded<P>, KeyError> {
    let manifest = Manifest::read(dir)?;
    let id = circuit.circuit_id();
    let entry = manifest.keys.get(&id).ok_or_else(|| KeyError::Manifest {
        path: dir.join(MANIFEST_FILE),
        reason: format!(
            "no entry for {id}; run `credence setup {}`",
            setup_arguments(circuit)
        ),
    })?;
    let (pk_path, vk_path) = key_paths(dir, circuit);
    let vk_bytes = fs::read(&vk_path).map_err(io(&vk_path))?;
    let vk = trusted::<P>(circuit, &vk_bytes)?;
    if P::fingerprint(&vk).to_hex() != entry.vk_fingerprint {
        return Err(KeyError::FingerprintMismatch { path: vk_path });
    }
    if !with_prover {
        return Ok(Loaded {
            prover: None,
            vk,
            entry: entry.clone(),
        });
    }
    // Hash first, decode second, over the same bytes in memory: the unchecked decoder only
    // ever sees bytes that match the manifest (a file that changes after a check is no risk).
    let invalid = invalid(circuit);
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
    let qap = Qap::from_name(&entry.qap).ok_or_else(|| KeyError::Manifest {
        path: dir.join(MANIFEST_FILE),
        reason: format!("{id}: unknown qap `{}`", entry.qap),
    })?;
    let core = CircuitProver::with_qap(circuit, pk, qap).map_err(|e| invalid(e.to_string()))?;
    let prover = P::from_core(core).map_err(|e| invalid(e.to_string()))?;
    Ok(Loaded {
        prover: Some(prover),
        vk,
        entry: entry.clone(),
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
        let made = setup(dir.path(), shape, false).unwrap();
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
    fn payee_keys_beside_claim_keys() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_payee(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("credence setup --circuit payee-v1"), "{e}");
        let shape = Shape::new(1, 4).unwrap();
        setup(dir.path(), shape, false).unwrap();
        let made = setup_payee(dir.path(), false).unwrap();
        assert!(matches!(
            setup_payee(dir.path(), false),
            Err(KeyError::WouldReplace { .. })
        ));
        let manifest = Manifest::read(dir.path()).unwrap();
        assert_eq!(
            manifest.keys.keys().collect::<Vec<_>>(),
            ["claim-v1-n1-d4", "payee-v1"]
        );
        assert!(has_keys(dir.path(), Circuit::Payee).unwrap());
        let loaded = load_payee(dir.path(), true).unwrap();
        assert_eq!(loaded.vk.fingerprint(), made.vk.fingerprint());
        let prover = loaded.prover.as_ref().unwrap();
        prover.self_test(&loaded.vk).unwrap();
        assert!(load(dir.path(), shape, true).is_ok());
        // The payee files under the claim key's name are refused (pinned by the manifest and
        // by the input count).
        let (payee_pk, payee_vk) = key_paths(dir.path(), Circuit::Payee);
        let (claim_pk, claim_vk) = key_paths(dir.path(), shape);
        fs::copy(&payee_vk, &claim_vk).unwrap();
        fs::copy(&payee_pk, &claim_pk).unwrap();
        assert!(load(dir.path(), shape, false).is_err());
    }

    #[test]
    fn keys_written_before_pk_encoding_existed_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let shape = Shape::new(1, 4).unwrap();
        let made = setup(dir.path(), shape, false).unwrap();
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
