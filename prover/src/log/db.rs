//! Where the log's rows live: the three log tables in SQLite (the embedded default) or in
//! PostgreSQL (replicas sharing one log). [`LogStore`](super::LogStore) keeps the tree, the
//! signer and the batching; a [`LogDb`] only reads and writes rows.
//!
//! Invariants every backend keeps:
//! - [`LogDb::write`] is one transaction that holds the log's *writer lock* from its first
//!   statement to its commit (SQLite: `BEGIN IMMEDIATE`, the database's one writer; PostgreSQL:
//!   `pg_advisory_xact_lock` on the log of the current schema), so appends of every process
//!   sharing the log are sequenced, and a writer sees every entry committed before it;
//! - entries, their checkpoint and their markers are written in that one transaction;
//! - a change ([`Change`]) runs inside it in a savepoint of its own, so one that fails rolls
//!   back alone.

use credence_verifier::log::{Hash, LogEntry};

use super::StoreError;
use super::store::{Change, ChangeError};

/// One stored entry: its index, its bytes and its stored leaf hash.
pub(crate) struct StoredEntry {
    pub idx: u64,
    pub bytes: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

/// What both a connection and a write transaction read of the log's rows.
pub(crate) trait LogRead {
    /// Entries with an index in `from..to` (`to` unbounded when `None`), by index.
    fn entries(&mut self, from: u64, to: Option<u64>) -> Result<Vec<StoredEntry>, StoreError>;
    /// The latest checkpoint `(size, note)`.
    fn latest_checkpoint(&mut self) -> Result<Option<(u64, String)>, StoreError>;
    /// The index recorded under a marker key.
    fn marked_index(&mut self, key: &str) -> Result<Option<u64>, StoreError>;
}

/// The log's rows, outside any write.
pub(crate) trait LogDb: LogRead + Send {
    /// Other processes append to the same log (PostgreSQL replicas): their entries are caught
    /// up with. Otherwise an entry this store did not write means another writer, refused.
    fn shared(&self) -> bool;
    /// Binds the log to `key_text`: stores it if the log has no key, else returns the stored
    /// one (the caller refuses a different key).
    fn bind_key(&mut self, key_text: &str) -> Result<String, StoreError>;
    /// The stored key text.
    fn log_key(&mut self) -> Result<Option<String>, StoreError>;
    /// The checkpoint note signed at `size`.
    fn checkpoint_at(&mut self, size: u64) -> Result<Option<String>, StoreError>;
    /// Every checkpoint `(size, note)`, by size.
    fn checkpoints(&mut self) -> Result<Vec<(u64, String)>, StoreError>;
    /// Runs `f` in one write transaction holding the writer lock, and commits it if `f`
    /// returns `Ok` (rolls it back otherwise).
    fn write(
        &mut self,
        f: &mut dyn FnMut(&mut dyn LogTx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// The log's rows inside a write transaction.
pub(crate) trait LogTx: LogRead {
    /// The index the next entry takes (one past the largest stored).
    fn next_index(&mut self) -> Result<u64, StoreError>;
    /// Inserts one entry.
    fn insert_entry(&mut self, idx: u64, bytes: &[u8], hash: &Hash) -> Result<(), StoreError>;
    /// Inserts entries at `start`, `start + 1`, ... (one statement where the database allows:
    /// a batch of a thousand registrations is a thousand entries).
    fn insert_entries(
        &mut self,
        start: u64,
        entries: &[(Vec<u8>, Hash)],
    ) -> Result<(), StoreError> {
        for (i, (bytes, hash)) in entries.iter().enumerate() {
            self.insert_entry(start + i as u64, bytes, hash)?;
        }
        Ok(())
    }
    /// Inserts (or replaces) the checkpoint at `size`.
    fn insert_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError>;
    /// Records `idx` under a marker key.
    fn insert_marker(&mut self, key: &str, idx: u64) -> Result<(), StoreError>;
    /// Opens a savepoint.
    fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Releases the savepoint (`keep`) or rolls back to it and releases it.
    fn end_savepoint(&mut self, keep: bool) -> Result<(), StoreError>;
    /// Runs a state change in this transaction; a change for another backend is refused.
    fn run_change(&mut self, change: Change) -> Result<Vec<LogEntry>, ChangeError>;
}

pub(crate) fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} does not fit a row")))
}

pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

pub(crate) fn parse_marker(key: &str, value: &str) -> Result<u64, StoreError> {
    value.parse().map_err(|_| {
        StoreError::Corrupt(format!("log_meta {key} is not an entry index: {value:?}"))
    })
}

/// The savepoint every change runs in (one at a time: changes of a batch run in turn).
pub(crate) const SAVEPOINT: &str = "credence_change";

pub(crate) mod sqlite {
    //! The log's rows in SQLite.

    use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

    use super::*;

    /// The tables (in the service's database, beside its own).
    pub(crate) const SCHEMA: &str = "
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

    /// The log in one SQLite connection (the service's database, WAL, `synchronous=FULL`).
    pub(crate) struct SqliteLogDb {
        pub(crate) conn: Connection,
    }

    fn entries(
        conn: &Connection,
        from: u64,
        to: Option<u64>,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let mut stmt = conn.prepare_cached(
            "SELECT idx, bytes, leaf_hash FROM log_entries WHERE idx >= ?1 AND idx < ?2
             ORDER BY idx",
        )?;
        let to = to.map_or(Ok(i64::MAX), to_i64)?;
        let mut rows = stmt.query(params![to_i64(from)?, to])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let idx: i64 = row.get(0)?;
            let bytes = row
                .get_ref(1)?
                .as_blob()
                .map_err(|_| StoreError::Corrupt(format!("entry {idx} is not stored as bytes")))?;
            out.push(StoredEntry {
                idx: to_u64(idx, "entry index")?,
                bytes: bytes.to_vec(),
                leaf_hash: row.get(2)?,
            });
        }
        Ok(out)
    }

    fn latest_checkpoint(conn: &Connection) -> Result<Option<(u64, String)>, StoreError> {
        conn.query_row(
            "SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?
        .map(|(size, note)| Ok((to_u64(size, "checkpoint size")?, note)))
        .transpose()
    }

    fn marked_index(conn: &Connection, key: &str) -> Result<Option<u64>, StoreError> {
        let seen: Option<String> = conn
            .query_row(
                "SELECT value FROM log_meta WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?;
        seen.map(|v| parse_marker(key, &v)).transpose()
    }

    impl LogRead for SqliteLogDb {
        fn entries(&mut self, from: u64, to: Option<u64>) -> Result<Vec<StoredEntry>, StoreError> {
            entries(&self.conn, from, to)
        }

        fn latest_checkpoint(&mut self) -> Result<Option<(u64, String)>, StoreError> {
            latest_checkpoint(&self.conn)
        }

        fn marked_index(&mut self, key: &str) -> Result<Option<u64>, StoreError> {
            marked_index(&self.conn, key)
        }
    }

    impl LogDb for SqliteLogDb {
        fn shared(&self) -> bool {
            false
        }

        fn bind_key(&mut self, key_text: &str) -> Result<String, StoreError> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(SCHEMA)?;
            tx.execute(
                "INSERT OR IGNORE INTO log_meta (key, value) VALUES ('log_key', ?1)",
                params![key_text],
            )?;
            let stored: String = tx.query_row(
                "SELECT value FROM log_meta WHERE key = 'log_key'",
                [],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(stored)
        }

        fn log_key(&mut self) -> Result<Option<String>, StoreError> {
            Ok(self
                .conn
                .query_row(
                    "SELECT value FROM log_meta WHERE key = 'log_key'",
                    [],
                    |r| r.get(0),
                )
                .optional()?)
        }

        fn checkpoint_at(&mut self, size: u64) -> Result<Option<String>, StoreError> {
            Ok(self
                .conn
                .query_row(
                    "SELECT note FROM log_checkpoints WHERE size = ?1",
                    params![to_i64(size)?],
                    |r| r.get(0),
                )
                .optional()?)
        }

        fn checkpoints(&mut self) -> Result<Vec<(u64, String)>, StoreError> {
            let mut stmt = self
                .conn
                .prepare("SELECT size, note FROM log_checkpoints ORDER BY size")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (size, note) = row?;
                out.push((to_u64(size, "checkpoint size")?, note));
            }
            Ok(out)
        }

        fn write(
            &mut self,
            f: &mut dyn FnMut(&mut dyn LogTx) -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut w = SqliteTx { tx };
            f(&mut w)?;
            w.tx.commit()?;
            Ok(())
        }
    }

    struct SqliteTx<'c> {
        tx: rusqlite::Transaction<'c>,
    }

    impl LogRead for SqliteTx<'_> {
        fn entries(&mut self, from: u64, to: Option<u64>) -> Result<Vec<StoredEntry>, StoreError> {
            entries(&self.tx, from, to)
        }

        fn latest_checkpoint(&mut self) -> Result<Option<(u64, String)>, StoreError> {
            latest_checkpoint(&self.tx)
        }

        fn marked_index(&mut self, key: &str) -> Result<Option<u64>, StoreError> {
            marked_index(&self.tx, key)
        }
    }

    impl LogTx for SqliteTx<'_> {
        fn next_index(&mut self) -> Result<u64, StoreError> {
            let next: i64 = self.tx.query_row(
                "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries",
                [],
                |r| r.get(0),
            )?;
            to_u64(next, "entry index")
        }

        fn insert_entry(&mut self, idx: u64, bytes: &[u8], hash: &Hash) -> Result<(), StoreError> {
            self.tx
                .prepare_cached(
                    "INSERT INTO log_entries (idx, bytes, leaf_hash) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![to_i64(idx)?, bytes, hash.as_slice()])?;
            Ok(())
        }

        fn insert_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
            self.tx.execute(
                "INSERT OR REPLACE INTO log_checkpoints (size, note) VALUES (?1, ?2)",
                params![to_i64(size)?, note],
            )?;
            Ok(())
        }

        fn insert_marker(&mut self, key: &str, idx: u64) -> Result<(), StoreError> {
            self.tx.execute(
                "INSERT INTO log_meta (key, value) VALUES (?1, ?2)",
                params![key, idx.to_string()],
            )?;
            Ok(())
        }

        fn savepoint(&mut self) -> Result<(), StoreError> {
            self.tx.execute_batch(&format!("SAVEPOINT {SAVEPOINT}"))?;
            Ok(())
        }

        fn end_savepoint(&mut self, keep: bool) -> Result<(), StoreError> {
            let sql = if keep {
                format!("RELEASE {SAVEPOINT}")
            } else {
                format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}")
            };
            self.tx.execute_batch(&sql)?;
            Ok(())
        }

        fn run_change(&mut self, change: Change) -> Result<Vec<LogEntry>, ChangeError> {
            match change {
                Change::Sqlite(f) => f(&self.tx),
                Change::Postgres(_) => Err(ChangeError::Other(
                    "a PostgreSQL change given to a SQLite log".into(),
                )),
            }
        }
    }
}
