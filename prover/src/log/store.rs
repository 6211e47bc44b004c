//! The durable log store: SQLite (WAL, `synchronous=FULL`), in the service's own database
//! (`credence.db`), so that a state change and its log entries commit in one transaction.
//!
//! Tables (prefixed, beside the service's own):
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
//! - Appends are batched ([`LogStore::commit`]): changes that arrive while a batch commits wait
//!   for the lock and then commit together, as the next batch, under one signed checkpoint and
//!   one fsync; each caller is answered once that checkpoint is durable. Each change runs in its
//!   own savepoint, so one that fails rolls back alone. Throughput thus grows with load: one
//!   caller pays one commit, a thousand waiting callers pay one commit between them.
//! - A state change given to [`LogStore::commit`] writes the service's tables in the same
//!   transaction as its entries: both are durable, or neither (a kill at any point never leaves
//!   a registration or snapshot unlogged).

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

/// File name of the log database in the data directory: the service's own database, so a
/// state change and its entries share one transaction.
pub const LOG_DB_FILE: &str = crate::store::sqlite::DB_FILE;

/// Where the log lived before it moved into the service's database; merged at open
/// ([`LogStore::open_data_dir`]) and renamed to `log.db.merged`.
pub const LEGACY_LOG_DB_FILE: &str = "log.db";

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
    /// Changes waiting for the next batch ([`LogStore::commit`]).
    pending: Mutex<Vec<Pending>>,
}

/// A state change committed with the log entries it returns (see [`LogStore::commit`]). It
/// runs inside the batch's transaction (in a savepoint of its own) on the log's connection.
pub type Change = Box<dyn FnOnce(&Connection) -> Result<Vec<LogEntry>, ChangeError> + Send>;

/// Why a [`Change`] wrote nothing: it rolls back alone, the rest of its batch commits.
#[derive(Debug)]
pub enum ChangeError {
    /// The change decided not to write (its caller learns why through its own channel).
    Declined,
    /// A database error.
    Sqlite(rusqlite::Error),
    /// Another error, as text.
    Other(String),
}

impl From<rusqlite::Error> for ChangeError {
    fn from(e: rusqlite::Error) -> Self {
        ChangeError::Sqlite(e)
    }
}

/// What happened to one change of a batch.
type Outcome = Result<Range<u64>, CommitError>;

/// Why [`LogStore::commit`] did not commit a change.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CommitError {
    /// The change itself declined (nothing of it was written).
    #[error("the change was declined")]
    Declined,
    /// The change or its batch failed (nothing of it was written).
    #[error("{0}")]
    Failed(String),
}

struct Pending {
    change: Change,
    outcome: std::sync::Arc<Mutex<Option<Outcome>>>,
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
        let path = data_dir.join(LOG_DB_FILE);
        merge_legacy_log(data_dir, &path)?;
        LogStore::open(&path, signer)
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
            pending: Mutex::new(Vec::new()),
        })
    }

    /// Commits `change` (state writes on the log's connection) together with the entries it
    /// returns, batched with every change that arrived while the previous batch committed;
    /// returns the entries' index range once a signed checkpoint covering them is durable.
    ///
    /// Group commit: the caller queues its change, then takes the log's lock. If a batch that
    /// ran meanwhile already took the change, its outcome is there; otherwise this caller
    /// commits everything queued, its own change included.
    pub fn commit(&self, change: Change) -> Result<Range<u64>, CommitError> {
        let outcome = std::sync::Arc::new(Mutex::new(None));
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Pending {
                change,
                outcome: outcome.clone(),
            });
        let take = |o: &Mutex<Option<Outcome>>| o.lock().unwrap_or_else(|p| p.into_inner()).take();
        let mut inner = self
            .lock()
            .map_err(|e| CommitError::Failed(e.to_string()))?;
        if let Some(done) = take(&outcome) {
            return done;
        }
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        inner.commit_batch(batch);
        drop(inner);
        take(&outcome).unwrap_or_else(|| {
            Err(CommitError::Failed(
                "the batch ended without an outcome".into(),
            ))
        })
    }

    /// Changes queued for the next batch (for tests that stage a batch).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
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
    /// Runs every change of `batch` in one transaction, each in its own savepoint, then signs
    /// one checkpoint over all their entries and commits; every change's outcome is set.
    fn commit_batch(&mut self, batch: Vec<Pending>) {
        let start = self.tree.size();
        let (changes, slots): (Vec<Change>, Vec<_>) =
            batch.into_iter().map(|p| (p.change, p.outcome)).unzip();
        let n = changes.len();
        let outcomes = self.run_batch(changes).unwrap_or_else(|e| {
            self.tree.truncate(start);
            vec![Err(CommitError::Failed(e.to_string())); n]
        });
        for (slot, outcome) in slots.into_iter().zip(outcomes) {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
        }
    }

    /// The outcome of each change, if the batch committed.
    fn run_batch(&mut self, changes: Vec<Change>) -> Result<Vec<Outcome>, StoreError> {
        let start = self.tree.size();
        let Inner {
            conn, tree, signer, ..
        } = self;
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_not_diverged(&tx, start)?;
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            let before = tree.size();
            let result = apply_change(&mut tx, tree, change);
            if result.is_err() {
                tree.truncate(before);
            }
            outcomes.push(result.map(|()| before..tree.size()));
        }
        let size = tree.size();
        if size == start {
            tx.commit()?;
            return Ok(outcomes);
        }
        let note = signer.sign(&Checkpoint {
            origin: signer.name().to_owned(),
            size,
            root: tree.root_at(size)?,
        })?;
        tx.execute(
            "INSERT OR REPLACE INTO log_checkpoints (size, note) VALUES (?1, ?2)",
            params![to_i64(size)?, note],
        )?;
        tx.commit()?;
        self.latest = note;
        Ok(outcomes)
    }

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
        check_not_diverged(&tx, start)?;
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

/// Refuses to append when the database's next index is not `expected`, the tree's size:
/// another writer on the same database would make the tree lie about the log.
fn check_not_diverged(conn: &Connection, expected: u64) -> Result<(), StoreError> {
    let next: i64 = conn.query_row(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries",
        [],
        |r| r.get(0),
    )?;
    if u64::try_from(next).ok() != Some(expected) {
        return Err(StoreError::Diverged {
            expected,
            found: next,
        });
    }
    Ok(())
}

/// Runs one change in a savepoint of `tx` and inserts its entries (pushing them on `tree`);
/// on error the savepoint is rolled back and the caller truncates the tree.
fn apply_change(
    tx: &mut rusqlite::Transaction<'_>,
    tree: &mut Tree,
    change: Change,
) -> Result<(), CommitError> {
    let failed = |e: &dyn std::fmt::Display| CommitError::Failed(e.to_string());
    let sp = tx.savepoint().map_err(|e| failed(&e))?;
    let entries = match change(&sp) {
        Ok(entries) => entries,
        Err(ChangeError::Declined) => return Err(CommitError::Declined),
        Err(ChangeError::Sqlite(e)) => return Err(failed(&e)),
        Err(ChangeError::Other(e)) => return Err(CommitError::Failed(e)),
    };
    let encoded = entries
        .iter()
        .map(LogEntry::to_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(&e))?;
    {
        let mut insert = sp
            .prepare_cached("INSERT INTO log_entries (idx, bytes, leaf_hash) VALUES (?1, ?2, ?3)")
            .map_err(|e| failed(&e))?;
        for bytes in &encoded {
            let hash = leaf_hash(bytes);
            let idx = to_i64(tree.size()).map_err(|e| failed(&e))?;
            insert
                .execute(params![idx, bytes, hash.as_slice()])
                .map_err(|e| failed(&e))?;
            tree.push(hash);
        }
    }
    sp.commit().map_err(|e| failed(&e))
}

/// Moves a log kept in its own `log.db` (servers before the log moved into `credence.db`) into
/// `db`, in one transaction, then renames `log.db` (and its WAL files) to `log.db.merged`. A
/// crash before the rename is finished by the next open, which finds the same log in both.
fn merge_legacy_log(data_dir: &Path, db: &Path) -> Result<(), StoreError> {
    let legacy = data_dir.join(LEGACY_LOG_DB_FILE);
    if !legacy.is_file() {
        return Ok(());
    }
    crate::store::private_database(db).map_err(|source| StoreError::Io {
        path: db.to_owned(),
        source,
    })?;
    let mut conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute(
        "ATTACH DATABASE ?1 AS legacy",
        params![legacy.to_string_lossy()],
    )?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(SCHEMA)?;
    let key = |schema: &str| -> Result<Option<String>, StoreError> {
        Ok(tx
            .query_row(
                &format!("SELECT value FROM {schema}.log_meta WHERE key = 'log_key'"),
                [],
                |r| r.get(0),
            )
            .optional()?)
    };
    let count = |schema: &str| -> Result<i64, StoreError> {
        Ok(tx.query_row(
            &format!("SELECT COUNT(*) FROM {schema}.log_entries"),
            [],
            |r| r.get(0),
        )?)
    };
    match (key("main")?, key("legacy")?) {
        (None, Some(_)) => {
            tx.execute_batch(
                "INSERT INTO main.log_meta SELECT key, value FROM legacy.log_meta;
                 INSERT INTO main.log_entries SELECT idx, bytes, leaf_hash FROM legacy.log_entries;
                 INSERT INTO main.log_checkpoints SELECT size, note FROM legacy.log_checkpoints;",
            )?;
            tracing::info!(
                entries = count("main")?,
                "the compliance log moved from log.db into credence.db"
            );
        }
        (Some(main), Some(old)) if main == old && count("main")? >= count("legacy")? => {}
        (_, None) => {}
        (Some(_), Some(_)) => {
            return Err(StoreError::Corrupt(format!(
                "{} and {} both hold a compliance log; keep one (the newer server's is in {})",
                legacy.display(),
                db.display(),
                db.display()
            )));
        }
    }
    tx.commit()?;
    conn.execute("DETACH DATABASE legacy", [])?;
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let from = data_dir.join(format!("{LEGACY_LOG_DB_FILE}{suffix}"));
        let to = data_dir.join(format!("{LEGACY_LOG_DB_FILE}.merged{suffix}"));
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path: from, source }),
        }
    }
    // The renames survive a power loss once the directory is synced.
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::Io {
            path: data_dir.to_owned(),
            source,
        })
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
