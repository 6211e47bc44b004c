//! The compliance log, server side: an append-only, signed, durable Merkle log.
//!
//! Every key, registration, snapshot publication, claim bundle and verification verdict becomes a
//! [`LogEntry`](credence_verifier::log::LogEntry) in a [`LogStore`]: in the service's database
//! (SQLite in WAL mode with `synchronous=FULL`, or PostgreSQL shared by replicas), one
//! transaction per batch of appends holding the entries and the checkpoint (a C2SP signed note,
//! Ed25519) that covers them. The tree is RFC 6962 with BLAKE3, as checked by
//! `credence_verifier::log`; the key pair lives in the data directory as `log.key` (0600) and
//! `log.pub`. [`LogSink`] is the service's [`AuditSink`](crate::log::hook::AuditSink) over it.
//!
//! Invariant: an index is returned only once its entry and a signed checkpoint covering it are
//! durable, and every checkpoint the store ever signs is consistent with all earlier ones.

mod db;
mod files;
pub mod hook;
mod pg;
mod sink;
mod store;
mod tree;

pub use files::{LOG_KEY_FILE, LOG_PUB_FILE, load_or_create_signer, write_atomic};
pub(crate) use pg::WRITER_LOCK as PG_WRITER_LOCK;
pub use sink::{LogSink, LogThen, entries_of, key_entry, key_marker};
pub use store::{
    Change, ChangeError, CommitError, FsckReport, LEGACY_LOG_DB_FILE, LOG_DB_FILE, LogStore,
    export_db, export_postgres,
};
pub use tree::RangeError;

use std::path::PathBuf;

use credence_verifier::log::{EntryError, NoteError};

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("log database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL database failed.
    #[error("log database: {0}")]
    Postgres(#[from] postgres::Error),
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The entry is not a valid log entry.
    #[error("log entry: {0}")]
    Entry(#[from] EntryError),
    /// A key or checkpoint note is malformed or does not verify.
    #[error("log key or checkpoint: {0}")]
    Note(#[from] NoteError),
    /// The requested index or sizes are outside the log.
    #[error(transparent)]
    Range(#[from] RangeError),
    /// The database belongs to another log key.
    #[error("the log database is signed by {stored}, not by the configured key {configured}")]
    KeyMismatch {
        /// The key text stored in the database.
        stored: String,
        /// The configured key text.
        configured: String,
    },
    /// The key file has another name than the configured origin.
    #[error("log key is for {key:?}, the configured origin is {configured:?}")]
    OriginMismatch {
        /// The configured origin.
        configured: String,
        /// The key's name.
        key: String,
    },
    /// The secret key file is readable by group or others.
    #[error("{} has mode {mode:o}; it must not be readable by group or others (chmod 600)", path.display())]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// `log.pub` exists but `log.key` does not: the log's identity would be lost.
    #[error("{} is missing but log.pub exists; restore the key instead of creating a new log identity", path.display())]
    MissingKey {
        /// The missing key file.
        path: PathBuf,
    },
    /// The database is not a consistent log.
    #[error("log database is corrupt: {0}")]
    Corrupt(String),
    /// Someone else appended to the database behind this store's back.
    #[error("another writer appended to the log: expected next index {expected}, found {found}")]
    Diverged {
        /// The store's next index.
        expected: u64,
        /// The database's next index.
        found: i64,
    },
    /// A thread panicked while holding the log; the in-memory tree may be stale. Reopen.
    #[error("the log store is poisoned by an earlier panic; reopen it")]
    Poisoned,
    /// The export could not be serialized.
    #[error("log export: {0}")]
    Export(serde_json::Error),
}

#[cfg(test)]
mod tests;
