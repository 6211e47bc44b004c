//! The durable log store: SQLite (WAL, `synchronous=FULL`), one transaction per append.
//!
//! Tables (prefixed so they can live in the service's own database):
//!
//! ```sql
//! log_meta(key TEXT PRIMARY KEY, value TEXT)             -- 'log_key' = the verifier key text;
//!                                                       -- 'once:<marker>' = an append_once entry's index
//! log_entries(idx INTEGER PRIMARY KEY, bytes BLOB, leaf_hash BLOB)
//! log_checkpoints(size INTEGER PRIMARY KEY, note TEXT)  -- every signed checkpoint
//! ```
//!
//! Invariants:
//! - An append inserts its entries *and* the signed checkpoint covering them in one
//!   transaction; it returns only after the commit, which `synchronous=FULL` makes durable. A kill
//!   at any point leaves the entries and their checkpoint all present or all absent.
//! - Indices are contiguous from 0; the latest checkpoint's size is always the entry count, and
//!   its root is the root of the in-memory tree (checked at open).
//! - The log never signs two checkpoints that are not consistent: it only appends, and refuses to
//!   open a database whose stored key is not the configured one.
//! - All access goes through one `Mutex`, so `&LogStore` can be shared across threads (the gRPC
//!   service calls it from `spawn_blocking`).

use std::ops::Range;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use credence_verifier::log::{
    Checkpoint, EXPORT_FORMAT, Hash, LogEntry, LogExport, LogInclusion, LogSigner, LogVerifier,
    leaf_hash,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};

use super::StoreError;
use super::files::{load_or_create_signer, write_atomic};
use super::tree::Tree;

/// File name of the log database in the data directory.
pub const LOG_DB_FILE: &str = "log.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS log_entries (
    idx INTEGER PRIMARY KEY CHECK (idx >= 0),
    bytes BLOB NOT NULL,
    leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;
CREATE TABLE IF NOT EXISTS log_checkpoints (
    size INTEGER PRIMARY KEY CHECK (size >= 0),
    note TEXT NOT NULL
) STRICT;
";

/// The append-only, signed compliance log.
pub struct LogStore {
    verifier: LogVerifier,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

struct Inner {
    conn: Connection,
    tree: Tree,
    signer: LogSigner,
    /// The latest signed checkpoint note; its size is `tree.size()`.
    latest: String,
}

/// What [`LogStore::fsck`] checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsckReport {
    /// Entries whose bytes were re-hashed.
    pub entries: u64,
    /// Signed checkpoints whose signature and root were checked.
    pub checkpoints: u64,
}

fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} does not fit SQLite")))
}

impl LogStore {
    /// Opens (or creates) the log in `data_dir`: key files as in
    /// [`load_or_create_signer`](super::load_or_create_signer), database `log.db`.
    pub fn open_data_dir(data_dir: &Path, origin: Option<&str>) -> Result<LogStore, StoreError> {
        let signer = load_or_create_signer(data_dir, origin)?;
        LogStore::open(&data_dir.join(LOG_DB_FILE), signer)
    }

    /// Opens (or creates) the log database at `path`, signing with `signer`.
    pub fn open(path: &Path, signer: LogSigner) -> Result<LogStore, StoreError> {
        crate::store::private_database(path).map_err(|source| StoreError::Io {
            path: path.to_owned(),
            source,
        })?;
        let conn = Connection::open(path)?;
        LogStore::from_connection(conn, signer)
    }

    /// Opens the log in an existing connection (e.g. the service's database).
    pub fn from_connection(
        mut conn: Connection,
        signer: LogSigner,
    ) -> Result<LogStore, StoreError> {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        // An in-memory database (tests) reports "memory"; a file must really be in WAL mode.
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(StoreError::Corrupt(format!(
                "journal_mode is {mode}, not WAL"
            )));
        }
        // FULL: in WAL mode the WAL is fsynced at every commit, so a commit that returned
        // survives power loss, not just a process kill.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;

        let verifier = signer.verifier();
        let key_text = verifier.to_string();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT value FROM log_meta WHERE key = 'log_key'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match stored {
            Some(stored) if stored != key_text => {
                return Err(StoreError::KeyMismatch {
                    stored,
                    configured: key_text,
                });
            }
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO log_meta (key, value) VALUES ('log_key', ?1)",
                    params![key_text],
                )?;
            }
        }

        // Every entry's bytes are hashed again, not only its stored leaf hash read: an entry
        // edited in the database (its hash left alone) is noticed here, by the server, and not
        // only by an offline audit. One pass over the entries, at start only.
        let mut tree = Tree::default();
        {
            let mut stmt =
                tx.prepare("SELECT idx, leaf_hash, bytes FROM log_entries ORDER BY idx")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let idx: i64 = row.get(0)?;
                let hash: Vec<u8> = row.get(1)?;
                if u64::try_from(idx).ok() != Some(tree.size()) {
                    return Err(StoreError::Corrupt(format!(
                        "entry index {idx} where {} was expected",
                        tree.size()
                    )));
                }
                let hash: Hash = hash
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("leaf hash of entry {idx}")))?;
                let bytes = row.get_ref(2)?.as_blob().map_err(|_| {
                    StoreError::Corrupt(format!("entry {idx} is not stored as bytes"))
                })?;
                if leaf_hash(bytes) != hash {
                    return Err(StoreError::Corrupt(format!(
                        "entry {idx}'s bytes do not hash to its stored leaf hash (edited?)"
                    )));
                }
                tree.push(hash);
            }
        }
        let latest: Option<(i64, String)> = tx
            .query_row(
                "SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let latest = match latest {
            Some((size, note)) => {
                let checkpoint = verifier.verify_checkpoint(&note)?;
                if u64::try_from(size).ok() != Some(checkpoint.size)
                    || checkpoint.size != tree.size()
                {
                    return Err(StoreError::Corrupt(format!(
                        "latest checkpoint is for {} entries, the log has {}",
                        checkpoint.size,
                        tree.size()
                    )));
                }
                if checkpoint.root != tree.root_at(checkpoint.size)? {
                    return Err(StoreError::Corrupt(
                        "entries do not hash to the latest checkpoint's root".into(),
                    ));
                }
                note
            }
            None if tree.size() == 0 => {
                // A fresh log signs its empty tree so `checkpoint()` always has an answer.
                let note = signer.sign(&Checkpoint {
                    origin: signer.name().to_owned(),
                    size: 0,
                    root: tree.root_at(0)?,
                })?;
                tx.execute(
                    "INSERT INTO log_checkpoints (size, note) VALUES (0, ?1)",
                    params![note],
                )?;
                note
            }
            None => return Err(StoreError::Corrupt("entries without a checkpoint".into())),
        };
        tx.commit()?;
        Ok(LogStore {
            verifier,
            inner: Mutex::new(Inner {
                conn,
                tree,
                signer,
                latest,
            }),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        // A panic while holding the lock may have left the tree ahead of the database.
        self.inner.lock().map_err(|_| StoreError::Poisoned)
    }

    /// The log's verifier key (what `log.pub` holds).
    pub fn verifier(&self) -> &LogVerifier {
        &self.verifier
    }

    /// Number of entries.
    pub fn size(&self) -> Result<u64, StoreError> {
        Ok(self.lock()?.tree.size())
    }

    /// Appends one entry; returns its index once it and a checkpoint covering it are durable.
    pub fn append(&self, entry: &LogEntry) -> Result<u64, StoreError> {
        Ok(self.append_batch(std::slice::from_ref(entry))?.start)
    }

    /// Appends entries in one transaction with one checkpoint; returns their index range.
    pub fn append_batch(&self, entries: &[LogEntry]) -> Result<Range<u64>, StoreError> {
        // Encode before taking the lock: a malformed entry never reaches the log.
        let encoded = entries
            .iter()
            .map(LogEntry::to_bytes)
            .collect::<Result<Vec<_>, _>>()?;
        let mut inner = self.lock()?;
        let start = inner.tree.size();
        if encoded.is_empty() {
            // Nothing to make durable; the latest checkpoint already covers `start`.
            return Ok(start..start);
        }
        let result = inner.append_locked(&encoded);
        if result.is_err() {
            inner.tree.truncate(start);
        }
        result
    }

    /// Appends `entry` unless an entry was appended under `marker` before (in this log's whole
    /// history); returns its index, or `None` when it was already there. The entry and its
    /// marker commit in one transaction, so a crash never logs it twice or marks it unlogged.
    pub fn append_once(&self, marker: &str, entry: &LogEntry) -> Result<Option<u64>, StoreError> {
        let bytes = entry.to_bytes()?;
        let key = format!("once:{marker}");
        let mut inner = self.lock()?;
        if inner.marked_index(&key)?.is_some() {
            return Ok(None);
        }
        let start = inner.tree.size();
        match inner.append_locked_marked(std::slice::from_ref(&bytes), Some(&key)) {
            Ok(range) => Ok(Some(range.start)),
            Err(e) => {
                inner.tree.truncate(start);
                Err(e)
            }
        }
    }

    /// As [`LogStore::append_and_prove`], unless an entry was appended under `marker` before:
    /// then that entry's inclusion in the latest checkpoint (with its bytes, which may differ
    /// from `entry`'s). A job logs its claim under its id this way, so however many attempts
    /// it takes (a crash, a cancellation and resubmission), the log holds one claim entry for
    /// it and every attempt ends with that one.
    pub fn append_once_and_prove(
        &self,
        marker: &str,
        entry: &LogEntry,
    ) -> Result<LogInclusion, StoreError> {
        let bytes = entry.to_bytes()?;
        let key = format!("once:{marker}");
        let mut inner = self.lock()?;
        if let Some(index) = inner.marked_index(&key)? {
            return inner.inclusion(index);
        }
        inner.append_proving(&bytes, Some(&key))
    }

    /// Appends one entry and returns its inclusion proof in the checkpoint that covers it, as a
    /// claim bundle carries it. Atomic: no other append can come in between.
    pub fn append_and_prove(&self, entry: &LogEntry) -> Result<LogInclusion, StoreError> {
        let bytes = entry.to_bytes()?;
        self.lock()?.append_proving(&bytes, None)
    }

    /// The latest signed checkpoint note.
    pub fn checkpoint(&self) -> Result<String, StoreError> {
        Ok(self.lock()?.latest.clone())
    }

    /// The signed checkpoint note for `size` entries, if the log signed one at that size.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<String>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .conn
            .query_row(
                "SELECT note FROM log_checkpoints WHERE size = ?1",
                params![to_i64(size)?],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        Ok(self.lock()?.tree.inclusion_proof(index, size)?)
    }

    /// The inclusion of entry `index` in the latest checkpoint, with the entry's bytes.
    pub fn inclusion(&self, index: u64) -> Result<LogInclusion, StoreError> {
        self.lock()?.inclusion(index)
    }

    /// The consistency proof from the tree of `old` entries to the tree of `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        Ok(self.lock()?.tree.consistency_proof(old, new)?)
    }

    /// The root of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Hash, StoreError> {
        Ok(self.lock()?.tree.root_at(size)?)
    }

    /// The logged bytes of entries `range` (must lie within the log).
    pub fn entries(&self, range: Range<u64>) -> Result<Vec<Vec<u8>>, StoreError> {
        let inner = self.lock()?;
        let size = inner.tree.size();
        if range.start > range.end || range.end > size {
            return Err(super::RangeError::OutOfRange {
                index: range.start,
                old: range.start,
                new: range.end,
                size,
            }
            .into());
        }
        let mut stmt = inner.conn.prepare_cached(
            "SELECT bytes FROM log_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let rows = stmt.query_map(params![to_i64(range.start)?, to_i64(range.end)?], |r| {
            r.get::<_, Vec<u8>>(0)
        })?;
        let out = rows.collect::<Result<Vec<_>, _>>()?;
        if out.len() as u64 != range.end - range.start {
            return Err(StoreError::Corrupt(
                "entries missing from the database".into(),
            ));
        }
        Ok(out)
    }

    /// Full check: every entry's bytes hash to its stored leaf hash and to the tree, and every
    /// stored checkpoint is signed by the log key and matches the tree at its size.
    pub fn fsck(&self) -> Result<FsckReport, StoreError> {
        let inner = self.lock()?;
        let mut fresh = Tree::default();
        {
            let mut stmt = inner
                .conn
                .prepare("SELECT idx, bytes, leaf_hash FROM log_entries ORDER BY idx")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let idx: i64 = row.get(0)?;
                let bytes: Vec<u8> = row.get(1)?;
                let stored: Vec<u8> = row.get(2)?;
                let hash = leaf_hash(&bytes);
                if stored != hash || u64::try_from(idx).ok() != Some(fresh.size()) {
                    return Err(StoreError::Corrupt(format!(
                        "entry {idx} does not hash to its leaf"
                    )));
                }
                fresh.push(hash);
            }
        }
        if fresh.size() != inner.tree.size()
            || fresh.root_at(fresh.size())? != inner.tree.root_at(inner.tree.size())?
        {
            return Err(StoreError::Corrupt(
                "stored entries differ from the served tree".into(),
            ));
        }
        let mut checkpoints = 0;
        let mut stmt = inner
            .conn
            .prepare("SELECT size, note FROM log_checkpoints ORDER BY size")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let size: i64 = row.get(0)?;
            let note: String = row.get(1)?;
            let checkpoint = self.verifier.verify_checkpoint(&note)?;
            if u64::try_from(size).ok() != Some(checkpoint.size)
                || checkpoint.size > fresh.size()
                || fresh.root_at(checkpoint.size)? != checkpoint.root
            {
                return Err(StoreError::Corrupt(format!(
                    "checkpoint at size {size} does not match the entries"
                )));
            }
            checkpoints += 1;
        }
        Ok(FsckReport {
            entries: fresh.size(),
            checkpoints,
        })
    }

    /// Writes the export file (see [`LogExport`]) for the current log, atomically.
    ///
    /// Appends wait while the log is read; for a large live log prefer [`export_db`], which
    /// reads a snapshot through its own connection.
    pub fn export(&self, out: &Path) -> Result<u64, StoreError> {
        let inner = self.lock()?;
        let export = read_export(&inner.conn)?;
        drop(inner);
        write_export(&export, out)
    }
}

impl Inner {
    /// The index of the entry appended under `key` (`once:<marker>`), if any.
    fn marked_index(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let seen: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM log_meta WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?;
        seen.map(|v| {
            v.parse().map_err(|_| {
                StoreError::Corrupt(format!("log_meta {key} is not an entry index: {v:?}"))
            })
        })
        .transpose()
    }

    /// The inclusion of entry `index` in the latest checkpoint, with the entry's bytes.
    fn inclusion(&self, index: u64) -> Result<LogInclusion, StoreError> {
        let size = self.tree.size();
        let proof = self.tree.inclusion_proof(index, size)?;
        let bytes = self.entry_bytes(index)?;
        Ok(LogInclusion::new(index, size, &proof, self.latest.clone()).with_entry(&bytes))
    }

    /// Appends one encoded entry (under `marker`, if any) and proves its inclusion in the
    /// checkpoint that covers it; on failure the in-memory tree is as before.
    fn append_proving(
        &mut self,
        bytes: &[u8],
        marker: Option<&str>,
    ) -> Result<LogInclusion, StoreError> {
        let start = self.tree.size();
        let range = match self.append_locked_marked(&[bytes.to_vec()], marker) {
            Ok(range) => range,
            Err(e) => {
                self.tree.truncate(start);
                return Err(e);
            }
        };
        let size = range.end;
        let proof = self.tree.inclusion_proof(range.start, size)?;
        Ok(LogInclusion::new(range.start, size, &proof, self.latest.clone()).with_entry(bytes))
    }

    /// Inserts encoded entries and their checkpoint in one durable transaction. On error the
    /// caller truncates the tree back; the transaction rolls back on drop.
    fn append_locked(&mut self, encoded: &[Vec<u8>]) -> Result<Range<u64>, StoreError> {
        self.append_locked_marked(encoded, None)
    }

    /// [`append_locked`](Self::append_locked), also recording `marker` in `log_meta` in the
    /// same transaction.
    fn append_locked_marked(
        &mut self,
        encoded: &[Vec<u8>],
        marker: Option<&str>,
    ) -> Result<Range<u64>, StoreError> {
        let start = self.tree.size();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another writer on the same database would make the tree lie about the log.
        let next: i64 = tx.query_row(
            "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries",
            [],
            |r| r.get(0),
        )?;
        if u64::try_from(next).ok() != Some(start) {
            return Err(StoreError::Diverged {
                expected: start,
                found: next,
            });
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO log_entries (idx, bytes, leaf_hash) VALUES (?1, ?2, ?3)",
            )?;
            for bytes in encoded {
                let hash = leaf_hash(bytes);
                insert.execute(params![to_i64(self.tree.size())?, bytes, hash.as_slice()])?;
                self.tree.push(hash);
            }
        }
        let size = self.tree.size();
        let note = self.signer.sign(&Checkpoint {
            origin: self.signer.name().to_owned(),
            size,
            root: self.tree.root_at(size)?,
        })?;
        tx.execute(
            "INSERT OR REPLACE INTO log_checkpoints (size, note) VALUES (?1, ?2)",
            params![to_i64(size)?, note],
        )?;
        if let Some(marker) = marker {
            tx.execute(
                "INSERT INTO log_meta (key, value) VALUES (?1, ?2)",
                params![marker, start.to_string()],
            )?;
        }
        tx.commit()?;
        self.latest = note;
        Ok(start..size)
    }

    fn entry_bytes(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT bytes FROM log_entries WHERE idx = ?1",
            params![to_i64(index)?],
            |r| r.get(0),
        )?)
    }
}

/// Reads a consistent snapshot of the whole log as an export.
fn read_export(conn: &Connection) -> Result<LogExport, StoreError> {
    // One read transaction: entries and checkpoints from the same moment.
    let tx = conn.unchecked_transaction()?;
    let log_key: String = tx.query_row(
        "SELECT value FROM log_meta WHERE key = 'log_key'",
        [],
        |r| r.get(0),
    )?;
    let checkpoints = {
        let mut stmt = tx.prepare("SELECT note FROM log_checkpoints ORDER BY size")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?
    };
    let checkpoint = checkpoints
        .last()
        .cloned()
        .ok_or_else(|| StoreError::Corrupt("no checkpoint".into()))?;
    let entries = {
        let mut stmt = tx.prepare("SELECT bytes FROM log_entries ORDER BY idx")?;
        stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .map(|b| b.map(|b| B64.encode(b)))
            .collect::<Result<Vec<_>, _>>()?
    };
    tx.finish()?;
    Ok(LogExport {
        format: EXPORT_FORMAT.to_owned(),
        log_key,
        checkpoint,
        checkpoints,
        entries,
    })
}

fn write_export(export: &LogExport, out: &Path) -> Result<u64, StoreError> {
    let json = serde_json::to_vec_pretty(export).map_err(StoreError::Export)?;
    write_atomic(out, &json, 0o644)?;
    Ok(export.entries.len() as u64)
}

/// Writes the export file of the log database at `db_path` without its signing key (read-only;
/// safe while the service runs). Returns the number of entries exported.
pub fn export_db(db_path: &Path, out: &Path) -> Result<u64, StoreError> {
    let conn = Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let export = read_export(&conn)?;
    write_export(&export, out)
}
