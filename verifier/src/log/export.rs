//! The log export file: a whole log in one JSON document, for auditing with no network.
//!
//! ```json
//! {
//!   "format": "credence-log-export/v1",
//!   "log_key": "<verifier key text, as in log.pub>",
//!   "checkpoint": "<latest signed checkpoint note>",
//!   "checkpoints": ["<every signed checkpoint note, ascending size>", "..."],
//!   "entries": ["<base64 (standard, padded) of entry 0's bytes>", "..."]
//! }
//! ```
//!
//! Invariant: nothing in the file is trusted. `log_key` is informational; the auditor supplies
//! the key it trusts and [`LogExport::audit`] refuses a file that names another one. Entries are
//! the logged bytes themselves (base64 only transports them), so their hashes are the log's.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::audit::{AuditInput, AuditProblem, AuditReport, TreeState, audit};
use super::entry::{EntryError, LogEntry};
use super::note::{LogVerifier, NoteError};

/// The `format` value of this version of the export file.
pub const EXPORT_FORMAT: &str = "credence-log-export/v1";

/// A log export file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogExport {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// The log's verifier key text.
    pub log_key: String,
    /// The latest signed checkpoint; `entries` are exactly its tree.
    pub checkpoint: String,
    /// Every signed checkpoint the log kept, in ascending size.
    pub checkpoints: Vec<String>,
    /// Base64 of each entry's logged bytes, in index order.
    pub entries: Vec<String>,
}

/// Why an export file could not be audited at all.
#[derive(Debug, Error)]
pub enum ExportError {
    /// Not JSON of the export schema.
    #[error("not a log export file: {0}")]
    Json(#[from] serde_json::Error),
    /// Another format version.
    #[error("unsupported export format {0:?}")]
    Format(String),
    /// The file's key text is malformed.
    #[error("log_key: {0}")]
    Key(#[from] NoteError),
    /// The file is for another key than the one the auditor trusts.
    #[error("the export is signed by {found}, not by the trusted key {trusted}")]
    KeyMismatch {
        /// The trusted key text.
        trusted: String,
        /// The file's key text.
        found: String,
    },
}

impl LogExport {
    /// Parses an export file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ExportError> {
        let export: LogExport = serde_json::from_slice(bytes)?;
        if export.format != EXPORT_FORMAT {
            return Err(ExportError::Format(export.format));
        }
        Ok(export)
    }

    /// Serializes the export file (pretty JSON, one entry per line).
    pub fn to_json(&self) -> Result<Vec<u8>, ExportError> {
        Ok(serde_json::to_vec_pretty(self)?)
    }

    /// Audits the exported log against the trusted key. See [`audit`].
    pub fn audit<F>(
        &self,
        trusted: &LogVerifier,
        previous: Option<TreeState>,
        hook: F,
    ) -> Result<AuditReport, ExportError>
    where
        F: FnMut(u64, &LogEntry, &[u8]) -> Result<(), String>,
    {
        let named = LogVerifier::parse(&self.log_key)?;
        if &named != trusted {
            return Err(ExportError::KeyMismatch {
                trusted: trusted.to_string(),
                found: named.to_string(),
            });
        }
        // Decode lazily; the first bad base64 stops the audit at that index.
        let mut bad_encoding = None;
        let entries = self
            .entries
            .iter()
            .enumerate()
            .map_while(|(i, e)| match B64.decode(e) {
                Ok(bytes) => Some(bytes),
                Err(_) => {
                    bad_encoding = Some(i as u64);
                    None
                }
            });
        let input = AuditInput {
            checkpoint: &self.checkpoint,
            history: &self.checkpoints,
            previous,
            consistency_proof: None,
        };
        let mut report = audit(trusted, input, entries, hook);
        if let Some(index) = bad_encoding
            && report.entries_read == index
            && matches!(report.problem, None | Some(AuditProblem::Missing { .. }))
        {
            report.problem = Some(AuditProblem::Entry {
                index,
                error: EntryError::Encoding,
            });
        }
        Ok(report)
    }
}
