//! The log key files in the data directory, and crash-safe file writes.
//!
//! - `<data_dir>/log.key`: the signer key text (`PRIVATE+KEY+<name>+<id>+<base64>`), mode 0600;
//! - `<data_dir>/log.pub`: the verifier key text and a newline, what auditors configure.
//!
//! Invariants: a key file is written completely or not at all (temp file, fsync, rename, fsync of
//! the directory); a readable-by-others `log.key` is refused rather than used; an existing
//! `log.pub` without its `log.key` is an error, never a reason to mint a new log identity; the
//! secret is only held in zeroizing buffers.

use std::fs::{self, File};
use std::io::Read as _;
use std::path::Path;

use credence_verifier::log::LogSigner;
use zeroize::Zeroizing;

use super::StoreError;

/// File name of the signer key in the data directory.
pub const LOG_KEY_FILE: &str = "log.key";
/// File name of the verifier key in the data directory.
pub const LOG_PUB_FILE: &str = "log.pub";

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` atomically and durably with the given Unix mode
/// ([`credence_verifier::durable`]).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StoreError> {
    credence_verifier::durable::write_atomic(path, bytes, mode).map_err(io_error(path))
}

/// Loads the log's signer from `<data_dir>/log.key`, or creates the key pair on first start.
///
/// `origin` is the log's name (the checkpoint origin line and key name); an existing key with
/// another name is refused. Without one, the existing key's name is kept, and a new log gets
/// [`crate::config::default_origin`], a name of its own. `log.pub` is (re)written from the key
/// when missing or different.
pub fn load_or_create_signer(
    data_dir: &Path,
    origin: Option<&str>,
) -> Result<LogSigner, StoreError> {
    let key_path = data_dir.join(LOG_KEY_FILE);
    let pub_path = data_dir.join(LOG_PUB_FILE);
    let signer = match File::open(&key_path) {
        Ok(mut file) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = file
                    .metadata()
                    .map_err(io_error(&key_path))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(StoreError::KeyPermissions {
                        path: key_path,
                        mode: mode & 0o777,
                    });
                }
            }
            let mut text = Zeroizing::new(String::with_capacity(256));
            file.read_to_string(&mut text)
                .map_err(io_error(&key_path))?;
            let signer = LogSigner::parse(&text)?;
            if let Some(origin) = origin
                && signer.name() != origin
            {
                return Err(StoreError::OriginMismatch {
                    configured: origin.to_owned(),
                    key: signer.name().to_owned(),
                });
            }
            signer
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if pub_path.exists() {
                return Err(StoreError::MissingKey { path: key_path });
            }
            fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
            let mut seed = Zeroizing::new([0u8; 32]);
            rand::fill(&mut seed[..]);
            let origin = match origin {
                Some(o) => o.to_owned(),
                None => crate::config::default_origin(),
            };
            let signer = LogSigner::from_seed(&origin, &seed)?;
            let mut text = signer.to_key_text();
            text.push('\n');
            write_atomic(&key_path, text.as_bytes(), 0o600)?;
            signer
        }
        Err(e) => return Err(io_error(&key_path)(e)),
    };
    let public = format!("{}\n", signer.verifier());
    if fs::read_to_string(&pub_path).ok().as_deref() != Some(public.as_str()) {
        write_atomic(&pub_path, public.as_bytes(), 0o644)?;
    }
    Ok(signer)
}
