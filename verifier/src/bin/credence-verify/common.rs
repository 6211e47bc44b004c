//! Shared by the subcommands: reading inputs with size caps, trusted keys, verdicts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use credence_circuits::payee::PAYEE_CIRCUIT_ID;
use credence_verifier::bundle::MAX_BUNDLE_BYTES;
use credence_verifier::settlement::Snapshot;
use credence_verifier::{
    CheckedKey, CircuitId, ClaimBundle, Error, Fingerprint, Invalid, KeyRing, Malformed, PayeeKey,
    TrustedKey,
};
use serde::Serialize;

/// The process exit status, ordered by severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Valid = 0,
    Invalid = 1,
    Malformed = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

impl Exit {
    pub fn of(e: &Error) -> Self {
        match e {
            Error::Malformed(_) => Exit::Malformed,
            Error::Invalid(_) => Exit::Invalid,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Exit::Valid => "valid",
            Exit::Invalid => "invalid",
            Exit::Malformed => "malformed",
        }
    }
}

/// A failure to obtain an input: it could not be read or it is malformed. Both exit 2.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: larger than {limit} bytes")]
    TooLarge { path: String, limit: usize },
    #[error("{path}: {source}")]
    Malformed { path: String, source: Malformed },
    #[error("--vk {arg}: {reason}")]
    KeyArg { arg: String, reason: String },
}

/// Reads a file of at most `limit` bytes (inputs come from outside; never read unbounded).
pub fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>, InputError> {
    use std::io::Read;
    let show = || path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| InputError::Io {
        path: show(),
        source,
    })?;
    let mut buf = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|source| InputError::Io {
            path: show(),
            source,
        })?;
    if buf.len() > limit {
        return Err(InputError::TooLarge {
            path: show(),
            limit,
        });
    }
    Ok(buf)
}

fn read_text(path: &Path, limit: usize) -> Result<String, InputError> {
    let bytes = read_capped(path, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::Malformed {
        path: path.display().to_string(),
        source: Malformed::Json {
            what: "file",
            reason: format!("not UTF-8: {e}"),
        },
    })
}

pub fn read_bundle(path: &Path) -> Result<ClaimBundle, InputError> {
    let text = read_text(path, MAX_BUNDLE_BYTES)?;
    ClaimBundle::from_json(&text).map_err(|source| InputError::Malformed {
        path: path.display().to_string(),
        source,
    })
}

pub fn read_snapshot(path: &Path) -> Result<Snapshot, InputError> {
    let text = read_text(path, 64 * 1024)?;
    Snapshot::from_json(&text).map_err(|source| InputError::Malformed {
        path: path.display().to_string(),
        source,
    })
}

/// Parses `--vk [CIRCUIT_ID=]PATH`. Without `CIRCUIT_ID=`, the key is pinned to the circuit id
/// spelled by the file's stem (`claim-v1-n16-d20.vk` pins `claim-v1-n16-d20`).
///
/// Every failure is a [`InputError::KeyArg`] naming the flag and the argument: a key file that
/// is missing or unreadable is a problem of the command line, and the message must not read as
/// if the bundle beside it were at fault.
pub fn load_key(arg: &str) -> Result<TrustedKey, InputError> {
    let (id, bytes) = read_key_arg(arg)?;
    TrustedKey::from_bytes(id, &bytes).map_err(|source| InputError::KeyArg {
        arg: arg.to_owned(),
        reason: format!("not a verifying key: {source}"),
    })
}

/// The circuit id and the bytes of a `--vk [CIRCUIT_ID=]PATH` argument, not yet decoded.
pub fn read_key_arg(arg: &str) -> Result<(CircuitId, Vec<u8>), InputError> {
    let key_arg = |reason: String| InputError::KeyArg {
        arg: arg.to_owned(),
        reason,
    };
    let (id, path) = match arg.split_once('=') {
        Some((id, path)) => (id.to_owned(), PathBuf::from(path)),
        None => {
            let path = PathBuf::from(arg);
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| key_arg("no file name to take the circuit id from".into()))?
                .to_owned();
            (stem, path)
        }
    };
    let id = CircuitId::new(&id).map_err(|e| key_arg(format!("{e} (use --vk CIRCUIT_ID=PATH)")))?;
    Ok((id, read_key_file(arg, &path)?))
}

/// The bytes of the key file `path` given as the argument `arg`; failures are
/// [`InputError::KeyArg`]s that name the argument (which holds the path, so the reasons do not
/// repeat it).
pub fn read_key_file(arg: &str, path: &Path) -> Result<Vec<u8>, InputError> {
    let key_arg = |reason: String| InputError::KeyArg {
        arg: arg.to_owned(),
        reason,
    };
    // A claim key is 552 bytes; allow slack so an oversized key is refused by the decoder with a
    // precise reason rather than by the cap.
    read_capped(path, 64 * 1024).map_err(|e| match e {
        InputError::Io { source, .. } => {
            key_arg(format!("cannot read the verifying key file: {source}"))
        }
        InputError::TooLarge { limit, .. } => key_arg(format!(
            "the verifying key file is larger than {limit} bytes"
        )),
        other => key_arg(other.to_string()),
    })
}

/// A `--vk [CIRCUIT_ID=]PATH` of any circuit: the payee key when the id is `payee-v1`, a claim
/// key otherwise; the circuit id and the checked key.
pub fn load_any_key(arg: &str) -> Result<(CircuitId, CheckedKey), InputError> {
    let (id, bytes) = read_key_arg(arg)?;
    let key = if id.as_str() == PAYEE_CIRCUIT_ID {
        PayeeKey::from_bytes(&bytes).map(|k| (*k).clone())
    } else {
        TrustedKey::from_bytes(id.clone(), &bytes).map(|k| (*k).clone())
    };
    let key = key.map_err(|source| InputError::KeyArg {
        arg: arg.to_owned(),
        reason: format!("not a verifying key: {source}"),
    })?;
    Ok((id, key))
}

/// The keys given with `--vk`, with the argument each came from, so that a message about a key
/// names the file the user passed rather than only a fingerprint.
pub struct Keys {
    pub ring: KeyRing,
    /// `--vk` argument by key fingerprint.
    args: BTreeMap<Fingerprint, String>,
}

impl Keys {
    /// Why a bundle failed, without the `malformed: ` / `invalid: ` class prefix.
    pub fn reason(&self, e: &Error) -> String {
        match e {
            Error::Malformed(m) => m.to_string(),
            Error::Invalid(i) => self.invalid_reason(i),
        }
    }

    /// Why a claim is invalid; an untrusted key lists the keys given by their `--vk` files.
    pub fn invalid_reason(&self, e: &Invalid) -> String {
        match e {
            Invalid::UntrustedKey {
                circuit_id,
                fingerprint,
                ..
            } => format!(
                "the bundle was proven under {circuit_id} with key {fingerprint}, which is not \
                 trusted; {}",
                self.given()
            ),
            other => other.to_string(),
        }
    }

    /// The keys given: `PATH (CIRCUIT_ID, FINGERPRINT)` each.
    pub fn given(&self) -> String {
        if self.ring.is_empty() {
            return "no key was given with --vk".into();
        }
        let list: Vec<String> = self
            .ring
            .iter()
            .map(|k| {
                let arg = self.args.get(&k.fingerprint()).map_or("?", String::as_str);
                // `CIRCUIT_ID=PATH`: the path is what the user recognizes; the id follows anyway.
                let path = arg.split_once('=').map_or(arg, |(_, p)| p);
                format!("{path} ({}, {})", k.circuit_id(), k.fingerprint())
            })
            .collect();
        format!("the trusted keys are: {}", list.join(", "))
    }
}

pub fn load_ring(args: &[String]) -> Result<Keys, InputError> {
    let mut keys = Keys {
        ring: KeyRing::new(),
        args: BTreeMap::new(),
    };
    for a in args {
        let key = load_key(a)?;
        let fingerprint = key.fingerprint();
        keys.ring.insert(key).map_err(|source| InputError::KeyArg {
            arg: a.clone(),
            reason: source.to_string(),
        })?;
        keys.args.entry(fingerprint).or_insert_with(|| a.clone());
    }
    Ok(keys)
}

/// Reports an input that is not a bundle (a `--vk` key) and could not be used: no bundle was
/// judged, so the line is not a bundle's verdict. Exit 2, as for every unusable input.
pub fn input_failure(e: &InputError, json: bool) -> Exit {
    #[derive(Serialize)]
    struct Failure<'a> {
        verdict: &'static str,
        reason: &'a str,
    }
    let reason = e.to_string();
    if json {
        print_json(&Failure {
            verdict: Exit::Malformed.word(),
            reason: &reason,
        });
    } else {
        println!("{}: {reason}", Exit::Malformed.word());
    }
    Exit::Malformed
}

/// One verdict, as printed with `--json`.
#[derive(Serialize)]
pub struct Verdict {
    pub bundle: String,
    pub verdict: &'static str,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vk_fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout: Option<String>,
}

impl Verdict {
    pub fn new(bundle: &str, exit: Exit, reason: String) -> Self {
        Verdict {
            bundle: bundle.to_owned(),
            verdict: exit.word(),
            reason,
            circuit_id: None,
            vk_fingerprint: None,
            contributor_id: None,
            payout: None,
        }
    }

    pub fn line(&self) -> String {
        format!("{}: {}: {}", self.bundle, self.verdict, self.reason)
    }
}

pub fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string(v) {
        Ok(s) => println!("{s}"),
        // Our verdict types are plain strings and numbers; this cannot happen, but never panic.
        Err(e) => println!("{{\"verdict\":\"malformed\",\"reason\":\"json: {e}\"}}"),
    }
}
