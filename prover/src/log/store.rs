//! The durable log store, in the service's own database so that a state change and its log
//! entries commit in one transaction: SQLite (`credence.db`, WAL, `synchronous=FULL`), or
//! PostgreSQL shared by every replica (rows read and written by [`super::db`] and
//! [`super::pg`]; the tree, the signer and the batching are here, the same for both).
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
//! - Replicas sharing a PostgreSQL log each keep the tree in memory. An append takes the
//!   database's writer lock, adopts the entries other replicas appended (each re-hashed, their
//!   checkpoint's signature and root checked), then appends after them; a read first adopts
//!   what was appended since. So any replica serves every entry, checkpoint and proof, and no
//!   two replicas ever sign inconsistent checkpoints.
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
use super::db::sqlite::{SCHEMA, SqliteLogDb};
use super::db::{LogDb, LogRead, LogTx, StoredEntry};
use super::files::{load_or_create_signer, write_atomic};
use super::pg::PgLogDb;
use super::tree::Tree;

/// File name of the log database in the data directory: the service's own database, so a
/// state change and its entries share one transaction.
pub const LOG_DB_FILE: &str = crate::store::sqlite::DB_FILE;

/// Where the log lived before it moved into the service's database; merged at open
/// ([`LogStore::open_data_dir`]) and renamed to `log.db.merged`.
pub const LEGACY_LOG_DB_FILE: &str = "log.db";

/// The append-only, signed compliance log.
pub struct LogStore {
    verifier: LogVerifier,
    inner: Mutex<Inner>,
    /// Changes waiting for the next batch ([`LogStore::commit`]).
    pending: Mutex<Vec<Pending>>,
}

/// A state change committed with the log entries it returns (see [`LogStore::commit`]). It
/// runs inside the batch's transaction (in a savepoint of its own), on the log's connection:
/// a change is written for the backend of the log it is given to.
pub enum Change {
    /// A change of a log in SQLite.
    Sqlite(SqliteChange),
    /// A change of a log in PostgreSQL.
    Postgres(PgChange),
}

/// A [`Change`] of a log in SQLite: writes on the log's connection, returns its entries.
pub type SqliteChange = Box<dyn FnOnce(&Connection) -> Result<Vec<LogEntry>, ChangeError> + Send>;

/// A [`Change`] of a log in PostgreSQL: writes in the batch's transaction, returns its entries.
pub type PgChange = Box<
    dyn for<'a> FnOnce(&mut postgres::Transaction<'a>) -> Result<Vec<LogEntry>, ChangeError> + Send,
>;

/// The body of one write of the log ([`Inner::write`]): given the transaction, the tree and the
/// signer, it writes and returns the note of the checkpoint it signed, if any.
type WriteBody<'f> =
    dyn FnMut(&mut dyn LogTx, &mut Tree, &LogSigner) -> Result<Option<String>, StoreError> + 'f;

/// Why a [`Change`] wrote nothing: it rolls back alone, the rest of its batch commits.
#[derive(Debug)]
pub enum ChangeError {
    /// The change decided not to write (its caller learns why through its own channel).
    Declined,
    /// A SQLite error.
    Sqlite(rusqlite::Error),
    /// A PostgreSQL error.
    Postgres(postgres::Error),
    /// Another error, as text.
    Other(String),
}

impl From<rusqlite::Error> for ChangeError {
    fn from(e: rusqlite::Error) -> Self {
        ChangeError::Sqlite(e)
    }
}

impl From<postgres::Error> for ChangeError {
    fn from(e: postgres::Error) -> Self {
        ChangeError::Postgres(e)
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
    db: Box<dyn LogDb>,
    tree: Tree,
    signer: LogSigner,
    verifier: LogVerifier,
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

/// Whether an append under a marker happened.
enum Marked {
    /// Appended now, at these indices.
    Appended(Range<u64>),
    /// An entry was appended under the marker before, at this index.
    Before(u64),
}

/// Pushes a stored entry on `tree` after checking its index and that its bytes hash to its
/// stored leaf hash: an entry edited in the database (its hash left alone) is noticed by the
/// server, not only by an offline audit.
fn push_checked(tree: &mut Tree, e: &StoredEntry) -> Result<(), StoreError> {
    if e.idx != tree.size() {
        return Err(StoreError::Corrupt(format!(
            "entry index {} where {} was expected",
            e.idx,
            tree.size()
        )));
    }
    let hash: Hash = e
        .leaf_hash
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("leaf hash of entry {}", e.idx)))?;
    if leaf_hash(&e.bytes) != hash {
        return Err(StoreError::Corrupt(format!(
            "entry {}'s bytes do not hash to its stored leaf hash (edited?)",
            e.idx
        )));
    }
    tree.push(hash);
    Ok(())
}

/// Entries read per query when the whole log is read (at open, by fsck): the log's entries are
/// never all in memory at once (a million of them are about 300 MB).
const READ_CHUNK: u64 = 65_536;

/// Calls `f` on every stored entry by index, from 0 up to `upto` (to the end for `None`),
/// `chunk` entries per query.
pub(super) fn for_each_entry(
    db: &mut dyn LogDb,
    upto: Option<u64>,
    chunk: u64,
    mut f: impl FnMut(&StoredEntry) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut from = 0;
    loop {
        let to = upto.map_or(from + chunk, |u| u.min(from + chunk));
        if from >= to {
            return Ok(());
        }
        let chunk = db.entries(from, Some(to))?;
        if chunk.is_empty() && upto.is_none() {
            return Ok(());
        }
        chunk.iter().try_for_each(&mut f)?;
        from = to;
    }
}

/// Checks that `note` is signed by the log key, for `size` entries, over the tree's root.
fn check_checkpoint(
    verifier: &LogVerifier,
    tree: &Tree,
    size: u64,
    note: &str,
) -> Result<(), StoreError> {
    let checkpoint = verifier.verify_checkpoint(note)?;
    if checkpoint.size != size || checkpoint.size != tree.size() {
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
    Ok(())
}

/// Adopts entries another replica appended (up to its checkpoint `(size, note)`): each is
/// checked as at open, and the checkpoint's signature and root. On error the tree is as before.
fn adopt(
    tree: &mut Tree,
    latest: &mut String,
    verifier: &LogVerifier,
    (size, note): (u64, String),
    new: &[StoredEntry],
) -> Result<(), StoreError> {
    let start = tree.size();
    if size < start {
        return Err(StoreError::Corrupt(format!(
            "the shared log holds {size} entries, fewer than the {start} this server saw"
        )));
    }
    let result = new
        .iter()
        .try_for_each(|e| push_checked(tree, e))
        .and_then(|()| check_checkpoint(verifier, tree, size, &note));
    match result {
        Ok(()) => {
            *latest = note;
            Ok(())
        }
        Err(e) => {
            tree.truncate(start);
            Err(e)
        }
    }
}

/// Adopts the entries other replicas appended since this tree was last caught up (see
/// [`adopt`]); nothing when the latest checkpoint is the tree's.
fn catch_up(
    rows: &mut dyn LogRead,
    tree: &mut Tree,
    latest: &mut String,
    verifier: &LogVerifier,
) -> Result<(), StoreError> {
    if let Some((size, note)) = rows.latest_checkpoint()?
        && size != tree.size()
    {
        let new = rows.entries(tree.size(), Some(size))?;
        adopt(tree, latest, verifier, (size, note), &new)?;
    }
    Ok(())
}

/// Inside a write, before appending: catches up with the appends of other replicas (a shared
/// log), then refuses to go on unless the next index is the tree's size (another writer on an
/// unshared log would make the tree lie about the log).
fn sync_in(
    tx: &mut dyn LogTx,
    shared: bool,
    tree: &mut Tree,
    latest: &mut String,
    verifier: &LogVerifier,
) -> Result<(), StoreError> {
    if shared {
        catch_up(tx, tree, latest, verifier)?;
    }
    check_not_diverged(tx, tree.size())
}

impl LogStore {
    /// Opens (or creates) the log in `data_dir`: key files as in
    /// [`load_or_create_signer`](super::load_or_create_signer), tables in `credence.db`.
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
    pub fn from_connection(conn: Connection, signer: LogSigner) -> Result<LogStore, StoreError> {
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
        LogStore::from_db(Box::new(SqliteLogDb { conn }), signer)
    }

    /// Opens the log shared by every replica in a PostgreSQL database, on a connection of its
    /// own (whose `search_path` names the schema). The tables must exist: the store's
    /// migrations make them ([`crate::store::PgStore::open`]).
    pub fn open_postgres(
        client: postgres::Client,
        signer: LogSigner,
    ) -> Result<LogStore, StoreError> {
        LogStore::from_db(Box::new(PgLogDb { client }), signer)
    }

    fn from_db(mut db: Box<dyn LogDb>, signer: LogSigner) -> Result<LogStore, StoreError> {
        let verifier = signer.verifier();
        let key_text = verifier.to_string();
        let stored = db.bind_key(&key_text)?;
        if stored != key_text {
            return Err(StoreError::KeyMismatch {
                stored,
                configured: key_text,
            });
        }
        // A shared log may grow while it is read: read up to its latest checkpoint, whose
        // entries are committed with it. An unshared log must hold exactly its checkpoint's
        // entries.
        let latest = db.latest_checkpoint()?;
        let upto = if db.shared() {
            Some(latest.as_ref().map_or(0, |(size, _)| *size))
        } else {
            None
        };
        let mut tree = Tree::default();
        for_each_entry(db.as_mut(), upto, READ_CHUNK, |e| {
            push_checked(&mut tree, e)
        })?;
        let latest = match latest {
            Some((size, note)) => {
                check_checkpoint(&verifier, &tree, size, &note)?;
                note
            }
            None if tree.size() == 0 => {
                // A fresh log signs its empty tree so `checkpoint()` always has an answer
                // (replicas opening at once sign the same note: Ed25519 is deterministic).
                let note = signer.sign(&Checkpoint {
                    origin: signer.name().to_owned(),
                    size: 0,
                    root: tree.root_at(0)?,
                })?;
                db.write(&mut |tx| tx.insert_checkpoint(0, &note))?;
                note
            }
            None => return Err(StoreError::Corrupt("entries without a checkpoint".into())),
        };
        Ok(LogStore {
            verifier: verifier.clone(),
            inner: Mutex::new(Inner {
                db,
                tree,
                signer,
                verifier,
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

    /// The log, caught up with the appends of other replicas (a shared log), for a read.
    fn read(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        let mut inner = self.lock()?;
        inner.refresh()?;
        Ok(inner)
    }

    /// The log's verifier key (what `log.pub` holds).
    pub fn verifier(&self) -> &LogVerifier {
        &self.verifier
    }

    /// Number of entries.
    pub fn size(&self) -> Result<u64, StoreError> {
        Ok(self.read()?.tree.size())
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
        if encoded.is_empty() {
            // Nothing to make durable; the latest checkpoint already covers the log.
            let size = self.size()?;
            return Ok(size..size);
        }
        match self.lock()?.append_marked(&encoded, None)? {
            Marked::Appended(range) => Ok(range),
            Marked::Before(_) => Err(StoreError::Corrupt("an unmarked append was marked".into())),
        }
    }

    /// Appends `entry` unless an entry was appended under `marker` before (in this log's whole
    /// history); returns its index, or `None` when it was already there. The entry and its
    /// marker commit in one transaction, so a crash never logs it twice or marks it unlogged.
    pub fn append_once(&self, marker: &str, entry: &LogEntry) -> Result<Option<u64>, StoreError> {
        let bytes = entry.to_bytes()?;
        let key = format!("once:{marker}");
        let mut inner = self.lock()?;
        if inner.db.marked_index(&key)?.is_some() {
            return Ok(None);
        }
        match inner.append_marked(std::slice::from_ref(&bytes), Some(&key))? {
            Marked::Appended(range) => Ok(Some(range.start)),
            Marked::Before(_) => Ok(None),
        }
    }

    /// As [`LogStore::append_and_prove`], unless an entry was appended under `marker` before:
    /// then that entry's inclusion in the latest checkpoint (with its bytes, which may differ
    /// from `entry`'s). A job logs its claim under its id this way, so however many attempts
    /// it takes (a crash, a cancellation and resubmission, a takeover by another replica), the
    /// log holds one claim entry for it and every attempt ends with that one.
    pub fn append_once_and_prove(
        &self,
        marker: &str,
        entry: &LogEntry,
    ) -> Result<LogInclusion, StoreError> {
        let bytes = entry.to_bytes()?;
        let key = format!("once:{marker}");
        let mut inner = self.read()?;
        if let Some(index) = inner.db.marked_index(&key)? {
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
        Ok(self.read()?.latest.clone())
    }

    /// The signed checkpoint note for `size` entries, if the log signed one at that size.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<String>, StoreError> {
        self.lock()?.db.checkpoint_at(size)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        Ok(self.read()?.tree.inclusion_proof(index, size)?)
    }

    /// The inclusion of entry `index` in the latest checkpoint, with the entry's bytes.
    pub fn inclusion(&self, index: u64) -> Result<LogInclusion, StoreError> {
        self.read()?.inclusion(index)
    }

    /// The consistency proof from the tree of `old` entries to the tree of `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        Ok(self.read()?.tree.consistency_proof(old, new)?)
    }

    /// The root of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Hash, StoreError> {
        Ok(self.read()?.tree.root_at(size)?)
    }

    /// The logged bytes of entries `range` (must lie within the log).
    pub fn entries(&self, range: Range<u64>) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut inner = self.read()?;
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
        let out: Vec<Vec<u8>> = inner
            .db
            .entries(range.start, Some(range.end))?
            .into_iter()
            .map(|e| e.bytes)
            .collect();
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
        let mut inner = self.read()?;
        let size = inner.tree.size();
        let upto = inner.db.shared().then_some(size);
        let mut fresh = Tree::default();
        for_each_entry(inner.db.as_mut(), upto, READ_CHUNK, |e| {
            push_checked(&mut fresh, e).map_err(|_| {
                StoreError::Corrupt(format!("entry {} does not hash to its leaf", e.idx))
            })
        })?;
        if fresh.size() != size || fresh.root_at(fresh.size())? != inner.tree.root_at(size)? {
            return Err(StoreError::Corrupt(
                "stored entries differ from the served tree".into(),
            ));
        }
        let mut checkpoints = 0;
        for (stored_size, note) in inner.db.checkpoints()? {
            let checkpoint = self.verifier.verify_checkpoint(&note)?;
            if checkpoint.size != stored_size {
                return Err(StoreError::Corrupt(format!(
                    "checkpoint at size {stored_size} does not match the entries"
                )));
            }
            // A replica may have appended since this one caught up: its checkpoints are
            // checked by the next fsck.
            if stored_size > size && inner.db.shared() {
                continue;
            }
            if checkpoint.size > fresh.size() || fresh.root_at(checkpoint.size)? != checkpoint.root
            {
                return Err(StoreError::Corrupt(format!(
                    "checkpoint at size {stored_size} does not match the entries"
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
    /// reads through its own connection.
    pub fn export(&self, out: &Path) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let export = read_export(inner.db.as_mut())?;
        drop(inner);
        write_export(&export, out)
    }
}

impl Inner {
    /// Catches up with the appends of other replicas (a shared log; nothing otherwise).
    fn refresh(&mut self) -> Result<(), StoreError> {
        if !self.db.shared() {
            return Ok(());
        }
        catch_up(
            self.db.as_mut(),
            &mut self.tree,
            &mut self.latest,
            &self.verifier,
        )
    }

    /// Runs `f` in one write transaction, caught up and checked first (see [`sync_in`]). On
    /// failure the tree and the latest checkpoint are as before.
    fn write(&mut self, f: &mut WriteBody<'_>) -> Result<(), StoreError> {
        let (start, before) = (self.tree.size(), self.latest.clone());
        let Inner {
            db,
            tree,
            signer,
            verifier,
            latest,
        } = self;
        let shared = db.shared();
        let mut signed = None;
        let result = db.write(&mut |tx| {
            sync_in(tx, shared, tree, latest, verifier)?;
            signed = f(tx, tree, signer)?;
            Ok(())
        });
        match result {
            Ok(()) => {
                if let Some(note) = signed {
                    self.latest = note;
                }
                Ok(())
            }
            Err(e) => {
                self.tree.truncate(start);
                self.latest = before;
                Err(e)
            }
        }
    }

    /// Runs every change of `batch` in one transaction, each in its own savepoint, then signs
    /// one checkpoint over all their entries and commits; every change's outcome is set.
    fn commit_batch(&mut self, batch: Vec<Pending>) {
        let (changes, slots): (Vec<Change>, Vec<_>) =
            batch.into_iter().map(|p| (p.change, p.outcome)).unzip();
        let n = changes.len();
        let mut changes = Some(changes);
        let mut outcomes = Vec::with_capacity(n);
        let result = self.write(&mut |tx, tree, signer| {
            let start = tree.size();
            for change in changes.take().unwrap_or_default() {
                let before = tree.size();
                let result = apply_change(tx, tree, change);
                if result.is_err() {
                    tree.truncate(before);
                }
                outcomes.push(result.map(|()| before..tree.size()));
            }
            let size = tree.size();
            if size == start {
                return Ok(None);
            }
            sign_into(tx, tree, signer).map(Some)
        });
        if let Err(e) = result {
            outcomes = vec![Err(CommitError::Failed(e.to_string())); n];
        }
        for (slot, outcome) in slots.into_iter().zip(outcomes) {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
        }
    }

    /// The inclusion of entry `index` in the latest checkpoint, with the entry's bytes.
    fn inclusion(&mut self, index: u64) -> Result<LogInclusion, StoreError> {
        let size = self.tree.size();
        let proof = self.tree.inclusion_proof(index, size)?;
        let bytes = self.entry_bytes(index)?;
        Ok(LogInclusion::new(index, size, &proof, self.latest.clone()).with_entry(&bytes))
    }

    /// Appends one encoded entry (under `marker`, if any) and proves its inclusion in the
    /// checkpoint that covers it, or proves the entry appended under `marker` before.
    fn append_proving(
        &mut self,
        bytes: &[u8],
        marker: Option<&str>,
    ) -> Result<LogInclusion, StoreError> {
        match self.append_marked(&[bytes.to_vec()], marker)? {
            Marked::Appended(range) => {
                let size = range.end;
                let proof = self.tree.inclusion_proof(range.start, size)?;
                Ok(
                    LogInclusion::new(range.start, size, &proof, self.latest.clone())
                        .with_entry(bytes),
                )
            }
            Marked::Before(index) => self.inclusion(index),
        }
    }

    /// Inserts encoded entries and their checkpoint in one durable transaction, recording
    /// `marker` with them, unless an entry was appended under `marker` before (checked under
    /// the writer lock, so two replicas never both append it).
    fn append_marked(
        &mut self,
        encoded: &[Vec<u8>],
        marker: Option<&str>,
    ) -> Result<Marked, StoreError> {
        let mut outcome = None;
        self.write(&mut |tx, tree, signer| {
            if let Some(key) = marker
                && let Some(index) = tx.marked_index(key)?
            {
                outcome = Some(Marked::Before(index));
                return Ok(None);
            }
            let start = tree.size();
            let hashed: Vec<(Vec<u8>, Hash)> = encoded
                .iter()
                .map(|bytes| (bytes.clone(), leaf_hash(bytes)))
                .collect();
            tx.insert_entries(start, &hashed)?;
            for (_, hash) in hashed {
                tree.push(hash);
            }
            if let Some(key) = marker {
                tx.insert_marker(key, start)?;
            }
            outcome = Some(Marked::Appended(start..tree.size()));
            sign_into(tx, tree, signer).map(Some)
        })?;
        outcome.ok_or_else(|| StoreError::Corrupt("an append without an outcome".into()))
    }

    fn entry_bytes(&mut self, index: u64) -> Result<Vec<u8>, StoreError> {
        self.db
            .entries(index, Some(index + 1))?
            .pop()
            .map(|e| e.bytes)
            .ok_or_else(|| StoreError::Corrupt(format!("entry {index} is missing")))
    }
}

/// Signs the checkpoint of the whole tree and writes it in `tx`; returns the note.
fn sign_into(tx: &mut dyn LogTx, tree: &Tree, signer: &LogSigner) -> Result<String, StoreError> {
    let size = tree.size();
    let note = signer.sign(&Checkpoint {
        origin: signer.name().to_owned(),
        size,
        root: tree.root_at(size)?,
    })?;
    tx.insert_checkpoint(size, &note)?;
    Ok(note)
}

/// Refuses to append when the database's next index is not `expected`, the tree's size:
/// another writer on the same database would make the tree lie about the log.
fn check_not_diverged(tx: &mut dyn LogTx, expected: u64) -> Result<(), StoreError> {
    let next = tx.next_index()?;
    if next != expected {
        return Err(StoreError::Diverged {
            expected,
            found: i64::try_from(next).unwrap_or(i64::MAX),
        });
    }
    Ok(())
}

/// Runs one change in a savepoint of `tx` and inserts its entries (pushing them on `tree`);
/// on error the savepoint is rolled back and the caller truncates the tree.
fn apply_change(tx: &mut dyn LogTx, tree: &mut Tree, change: Change) -> Result<(), CommitError> {
    let failed = |e: &dyn std::fmt::Display| CommitError::Failed(e.to_string());
    tx.savepoint().map_err(|e| failed(&e))?;
    let run = || -> Result<(), CommitError> {
        let entries = match tx.run_change(change) {
            Ok(entries) => entries,
            Err(ChangeError::Declined) => return Err(CommitError::Declined),
            Err(ChangeError::Sqlite(e)) => return Err(failed(&e)),
            Err(ChangeError::Postgres(e)) => return Err(failed(&e)),
            Err(ChangeError::Other(e)) => return Err(CommitError::Failed(e)),
        };
        let encoded = entries
            .iter()
            .map(|entry| {
                let bytes = entry.to_bytes()?;
                let hash = leaf_hash(&bytes);
                Ok((bytes, hash))
            })
            .collect::<Result<Vec<_>, credence_verifier::log::EntryError>>()
            .map_err(|e| failed(&e))?;
        tx.insert_entries(tree.size(), &encoded)
            .map_err(|e| failed(&e))?;
        for (_, hash) in encoded {
            tree.push(hash);
        }
        Ok(())
    };
    let result = run();
    tx.end_savepoint(result.is_ok()).map_err(|e| failed(&e))?;
    result
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

/// Reads the whole log as an export: its checkpoints first, then the entries below the latest
/// one's size (committed with it), so the export is consistent while others append.
fn read_export(db: &mut dyn LogDb) -> Result<LogExport, StoreError> {
    let log_key = db
        .log_key()?
        .ok_or_else(|| StoreError::Corrupt("the log has no key".into()))?;
    let checkpoints = db.checkpoints()?;
    let (size, checkpoint) = checkpoints
        .last()
        .cloned()
        .ok_or_else(|| StoreError::Corrupt("no checkpoint".into()))?;
    let entries = db
        .entries(0, Some(size))?
        .into_iter()
        .map(|e| B64.encode(e.bytes))
        .collect();
    Ok(LogExport {
        format: EXPORT_FORMAT.to_owned(),
        log_key,
        checkpoint,
        checkpoints: checkpoints.into_iter().map(|(_, note)| note).collect(),
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
    let export = read_export(&mut SqliteLogDb { conn })?;
    write_export(&export, out)
}

/// Writes the export file of the log in a PostgreSQL database (the replicas' shared log),
/// through `client` (whose `search_path` names the schema), without its signing key. Safe while
/// replicas append. Returns the number of entries exported.
pub fn export_postgres(client: postgres::Client, out: &Path) -> Result<u64, StoreError> {
    let export = read_export(&mut PgLogDb { client })?;
    write_export(&export, out)
}
