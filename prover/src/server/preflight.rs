//! What a server needs from elsewhere, checked before it creates anything.
//!
//! Invariant: when [`check`] fails, `credence serve` has created no file or directory: a
//! mistyped path or a missing key leaves no stray data directory with a fresh log identity
//! behind it (which a corrected start would then refuse, or worse, adopt).

use credence_circuits::Shape;

use super::ServerError;
use crate::config::Config;
use crate::keys::{self, KeyError};

/// Checks that the keys a verify-only server cannot make, and the TLS files, are there.
pub(super) fn check(config: &Config, shapes: &[Shape]) -> Result<(), ServerError> {
    if config.services.verifier && !config.services.prover {
        let dir = config.keys_dir();
        for shape in shapes {
            // A directory without a manifest has no keys; other errors (an unreadable or
            // malformed manifest) are reported as they are.
            let present = dir.exists() && keys::has_keys(&dir, *shape)?;
            if !present {
                return Err(KeyError::NotHandedOut {
                    circuit_id: shape.circuit_id(),
                    dir,
                }
                .into());
            }
        }
    }
    if let Some(tls) = &config.tls {
        for (path, what) in [(&tls.cert, "cert"), (&tls.key, "key")]
            .into_iter()
            .chain(tls.client_ca.as_ref().map(|ca| (ca, "client_ca")))
        {
            std::fs::metadata(path)
                .map_err(|e| ServerError::Io(format!("[tls] {what} = {}: {e}", path.display())))?;
        }
        crate::config::owner_only(&tls.key, "the TLS private key")?;
    }
    Ok(())
}
