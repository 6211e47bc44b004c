//! The log's rows in PostgreSQL, shared by every replica of a deployment.
//!
//! The tables are made by the store's migrations ([`crate::store::postgres`]); this module only
//! reads and writes them. Appends are sequenced across replicas by a transaction-scoped
//! advisory lock keyed by the current schema ([`WRITER_LOCK`]): a writer holds it from the
//! start of its transaction to the commit, and under `READ COMMITTED` each statement after it
//! sees every append committed before the lock was granted, so the writer first catches up
//! with them, then appends after them. Readers take no lock: entries with an index below a
//! committed checkpoint's size are committed with it (one transaction), so reading the latest
//! checkpoint first and then the entries below its size is always consistent.

use credence_verifier::log::{Hash, LogEntry};
use postgres::{Client, Transaction};

use super::StoreError;
use super::db::{LogDb, LogRead, LogTx, SAVEPOINT, StoredEntry, parse_marker, to_i64, to_u64};
use super::store::{Change, ChangeError};

/// Takes the log's writer lock for the rest of the transaction. Keyed by the schema, so logs
/// in different schemas of one database (tests, or tenants of one server) do not contend.
pub(crate) const WRITER_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('credence.log.writer:' || current_schema(), 0))";

/// The log in one PostgreSQL connection of its own.
pub(crate) struct PgLogDb {
    pub(crate) client: Client,
}

fn entries(
    c: &mut impl postgres::GenericClient,
    from: u64,
    to: Option<u64>,
) -> Result<Vec<StoredEntry>, StoreError> {
    let to = to.map_or(Ok(i64::MAX), to_i64)?;
    let rows = c.query(
        "SELECT idx, bytes, leaf_hash FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        &[&to_i64(from)?, &to],
    )?;
    rows.iter()
        .map(|r| {
            Ok(StoredEntry {
                idx: to_u64(r.try_get(0)?, "entry index")?,
                bytes: r.try_get(1)?,
                leaf_hash: r.try_get(2)?,
            })
        })
        .collect()
}

fn latest_checkpoint(
    c: &mut impl postgres::GenericClient,
) -> Result<Option<(u64, String)>, StoreError> {
    c.query_opt(
        "SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        &[],
    )?
    .map(|r| Ok((to_u64(r.try_get(0)?, "checkpoint size")?, r.try_get(1)?)))
    .transpose()
}

fn marked_index(
    c: &mut impl postgres::GenericClient,
    key: &str,
) -> Result<Option<u64>, StoreError> {
    c.query_opt("SELECT value FROM log_meta WHERE key = $1", &[&key])?
        .map(|r| parse_marker(key, &r.try_get::<_, String>(0)?))
        .transpose()
}

impl LogRead for PgLogDb {
    fn entries(&mut self, from: u64, to: Option<u64>) -> Result<Vec<StoredEntry>, StoreError> {
        entries(&mut self.client, from, to)
    }

    fn latest_checkpoint(&mut self) -> Result<Option<(u64, String)>, StoreError> {
        latest_checkpoint(&mut self.client)
    }

    fn marked_index(&mut self, key: &str) -> Result<Option<u64>, StoreError> {
        marked_index(&mut self.client, key)
    }
}

impl LogDb for PgLogDb {
    fn shared(&self) -> bool {
        true
    }

    fn bind_key(&mut self, key_text: &str) -> Result<String, StoreError> {
        let c = &mut self.client;
        c.execute(
            "INSERT INTO log_meta (key, value) VALUES ('log_key', $1) ON CONFLICT (key) DO NOTHING",
            &[&key_text],
        )?;
        Ok(
            c.query_one("SELECT value FROM log_meta WHERE key = 'log_key'", &[])?
                .try_get(0)?,
        )
    }

    fn log_key(&mut self) -> Result<Option<String>, StoreError> {
        self.client
            .query_opt("SELECT value FROM log_meta WHERE key = 'log_key'", &[])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn checkpoint_at(&mut self, size: u64) -> Result<Option<String>, StoreError> {
        self.client
            .query_opt(
                "SELECT note FROM log_checkpoints WHERE size = $1",
                &[&to_i64(size)?],
            )?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn checkpoints(&mut self) -> Result<Vec<(u64, String)>, StoreError> {
        self.client
            .query("SELECT size, note FROM log_checkpoints ORDER BY size", &[])?
            .iter()
            .map(|r| Ok((to_u64(r.try_get(0)?, "checkpoint size")?, r.try_get(1)?)))
            .collect()
    }

    fn write(
        &mut self,
        f: &mut dyn FnMut(&mut dyn LogTx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        tx.execute(WRITER_LOCK, &[])?;
        let mut w = PgTx { tx };
        f(&mut w)?;
        w.tx.commit()?;
        Ok(())
    }
}

struct PgTx<'c> {
    tx: Transaction<'c>,
}

impl LogRead for PgTx<'_> {
    fn entries(&mut self, from: u64, to: Option<u64>) -> Result<Vec<StoredEntry>, StoreError> {
        entries(&mut self.tx, from, to)
    }

    fn latest_checkpoint(&mut self) -> Result<Option<(u64, String)>, StoreError> {
        latest_checkpoint(&mut self.tx)
    }

    fn marked_index(&mut self, key: &str) -> Result<Option<u64>, StoreError> {
        marked_index(&mut self.tx, key)
    }
}

impl LogTx for PgTx<'_> {
    fn next_index(&mut self) -> Result<u64, StoreError> {
        let next: i64 = self
            .tx
            .query_one("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries", &[])?
            .try_get(0)?;
        to_u64(next, "entry index")
    }

    fn insert_entry(&mut self, idx: u64, bytes: &[u8], hash: &Hash) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO log_entries (idx, bytes, leaf_hash) VALUES ($1, $2, $3)",
            &[&to_i64(idx)?, &bytes, &hash.as_slice()],
        )?;
        Ok(())
    }

    fn insert_entries(
        &mut self,
        start: u64,
        entries: &[(Vec<u8>, Hash)],
    ) -> Result<(), StoreError> {
        let idx = (0..entries.len() as u64)
            .map(|i| to_i64(start + i))
            .collect::<Result<Vec<i64>, _>>()?;
        let bytes: Vec<&[u8]> = entries.iter().map(|(b, _)| b.as_slice()).collect();
        let hashes: Vec<&[u8]> = entries.iter().map(|(_, h)| h.as_slice()).collect();
        self.tx.execute(
            "INSERT INTO log_entries (idx, bytes, leaf_hash)
             SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[])",
            &[&idx, &bytes, &hashes],
        )?;
        Ok(())
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO log_checkpoints (size, note) VALUES ($1, $2)
             ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note",
            &[&to_i64(size)?, &note],
        )?;
        Ok(())
    }

    fn insert_marker(&mut self, key: &str, idx: u64) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO log_meta (key, value) VALUES ($1, $2)",
            &[&key, &idx.to_string()],
        )?;
        Ok(())
    }

    fn savepoint(&mut self) -> Result<(), StoreError> {
        self.tx.batch_execute(&format!("SAVEPOINT {SAVEPOINT}"))?;
        Ok(())
    }

    fn end_savepoint(&mut self, keep: bool) -> Result<(), StoreError> {
        let sql = if keep {
            format!("RELEASE SAVEPOINT {SAVEPOINT}")
        } else {
            format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
        };
        self.tx.batch_execute(&sql)?;
        Ok(())
    }

    fn run_change(&mut self, change: Change) -> Result<Vec<LogEntry>, ChangeError> {
        match change {
            Change::Postgres(f) => f(&mut self.tx),
            Change::Sqlite(_) => Err(ChangeError::Other(
                "a SQLite change given to a PostgreSQL log".into(),
            )),
        }
    }
}
