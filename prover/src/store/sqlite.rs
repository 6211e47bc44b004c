//! The SQLite backend: one file `<data_dir>/credence.db`, WAL journal, `synchronous=FULL`.
//!
//! ```sql
//! contributions(leaf_index INTEGER PRIMARY KEY, contributor_id TEXT, commitment TEXT,
//!               created_at INTEGER, tenant TEXT, UNIQUE(contributor_id, commitment))
//! snapshots(epoch INTEGER PRIMARY KEY, depth, root TEXT, total_weight, revenue, leaf_count,
//!           created_at)
//! snapshot_leaves(epoch, leaf_index, contributor_id TEXT, commitment TEXT, weight,
//!                 PRIMARY KEY(epoch, leaf_index))
//! jobs(id TEXT PRIMARY KEY, fingerprint BLOB UNIQUE, state TEXT, failure TEXT, circuit_id TEXT,
//!      epoch, tenant TEXT, created_at, updated_at, attempt INTEGER)
//! bundles(job_id TEXT PRIMARY KEY REFERENCES jobs(id), bundle_json TEXT, created_at)
//! ```
//!
//! The schema is versioned by `PRAGMA user_version` ([`MIGRATIONS`], applied in order at open,
//! each in its own transaction with the version it reaches); a database of a newer version is
//! refused rather than written by code that does not know it.
//!
//! Field elements are canonical decimal text. A `u64` is stored in an `INTEGER` column by bit
//! cast (`as i64`), so values above `i64::MAX` read back exactly; nothing here compares them in
//! SQL (the latest snapshot is found by insertion order, `rowid`).
//!
//! WAL with `synchronous=FULL` fsyncs the log at every commit: SQLite documents that a commit in
//! WAL mode with `synchronous=NORMAL` may roll back after a power loss, so FULL is what makes an
//! acknowledged write durable. One connection behind a mutex: writes are serialized anyway, and
//! every call is short.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use ark_bn254::Fr;
use credence_verifier::encoding::fr_to_decimal;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::log::{Change, LogStore};

use credence_circuits::merkle_sum::SumNode;

use super::{
    Admitted, ContributionRecord, INTERRUPTED, JobQuota, JobRecord, JobState, Lease, Logged,
    Published, QuotaLimit, Registered, RegistrationBatch, RegistrationQuota, SnapshotLeaf,
    SnapshotRecord, StorageError, Store, StoredNode, from_column as to_u64, stored_fr as fr,
    to_column as to_i64,
};

/// File name of the database in the data directory.
pub const DB_FILE: &str = "credence.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS contributions (
    leaf_index     INTEGER PRIMARY KEY,
    contributor_id TEXT NOT NULL,
    commitment     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (contributor_id, commitment)
);
CREATE TABLE IF NOT EXISTS snapshots (
    epoch        INTEGER PRIMARY KEY,
    depth        INTEGER NOT NULL,
    root         TEXT NOT NULL,
    total_weight INTEGER NOT NULL,
    revenue      INTEGER NOT NULL,
    leaf_count   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot_leaves (
    epoch          INTEGER NOT NULL REFERENCES snapshots(epoch),
    leaf_index     INTEGER NOT NULL,
    contributor_id TEXT NOT NULL,
    commitment     TEXT NOT NULL,
    weight         INTEGER NOT NULL,
    PRIMARY KEY (epoch, leaf_index)
);
CREATE INDEX IF NOT EXISTS snapshot_leaves_by_contributor
    ON snapshot_leaves (epoch, contributor_id);
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    fingerprint BLOB NOT NULL UNIQUE,
    state       TEXT NOT NULL,
    failure     TEXT,
    circuit_id  TEXT NOT NULL,
    epoch       INTEGER NOT NULL,
    tenant      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state);
CREATE TABLE IF NOT EXISTS bundles (
    job_id      TEXT PRIMARY KEY REFERENCES jobs(id),
    bundle_json TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
";

/// The schema's versions: `MIGRATIONS[i]` takes a database from version `i` to `i + 1`.
/// Version 1 is the schema before versioning (databases made then have `user_version` 0 and
/// every table already: its `IF NOT EXISTS` makes it a no-op on them).
const MIGRATIONS: &[&str] = &[
    SCHEMA,
    // 2: job attempts, fencing every write of a job task.
    "ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;",
    // 3: the registering tenant, for registration quotas (earlier rows count for no tenant).
    "ALTER TABLE contributions ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
     CREATE INDEX IF NOT EXISTS contributions_by_tenant ON contributions (tenant);",
    // 4: registration quotas counted as they grow, not by counting a tenant's rows at every
    // registration (which cost more the more it had registered).
    "CREATE TABLE registration_counts (
         scope TEXT NOT NULL CHECK (scope IN ('contributor', 'tenant')),
         key   TEXT NOT NULL,
         n     INTEGER NOT NULL CHECK (n >= 0),
         PRIMARY KEY (scope, key)
     ) WITHOUT ROWID;
     INSERT INTO registration_counts (scope, key, n)
         SELECT 'contributor', contributor_id, COUNT(*) FROM contributions GROUP BY contributor_id;
     INSERT INTO registration_counts (scope, key, n)
         SELECT 'tenant', tenant, COUNT(*) FROM contributions GROUP BY tenant;",
    // 5: a snapshot's inner nodes (from `STORED_FROM_LEVEL` up), so GetLeaves reads a path
    // instead of rebuilding the tree; snapshots from before keep `nodes_stored = 0`.
    "CREATE TABLE snapshot_nodes (
         epoch INTEGER NOT NULL REFERENCES snapshots(epoch),
         level INTEGER NOT NULL,
         idx   INTEGER NOT NULL,
         hash  TEXT NOT NULL,
         sum   INTEGER NOT NULL,
         PRIMARY KEY (epoch, level, idx)
     ) WITHOUT ROWID;
     ALTER TABLE snapshots ADD COLUMN nodes_stored INTEGER NOT NULL DEFAULT 0;",
    // 6: job leases (the replica running a job, and until when), as the PostgreSQL backend
    // keeps them; earlier jobs have none.
    "ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
     ALTER TABLE jobs ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;",
];

/// Brings `conn` to the newest schema, refusing one newer than this code knows.
fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "the database has schema version {version}, newer than this server's {}: \
             upgrade the server",
            MIGRATIONS.len()
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

const RUNNING_STATES: &str = "('queued','witness','proving','verifying','logged')";

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The compliance log in the same database: registrations and snapshots commit with their
    /// entries through it ([`SqliteStore::with_log`]).
    log: Option<Arc<LogStore>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `<data_dir>/credence.db`.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        super::private_dir(data_dir)
            .map_err(|e| StorageError::Database(format!("{}: {e}", data_dir.display())))?;
        Self::open_file(&data_dir.join(DB_FILE))
    }

    /// Opens an existing `<data_dir>/credence.db` read-only, for exports beside a running
    /// server (WAL lets it read while the server writes). A missing database is an error,
    /// never a new empty one.
    pub fn open_read_only(data_dir: &Path) -> Result<Self, StorageError> {
        let path = data_dir.join(DB_FILE);
        if !path.is_file() {
            return Err(StorageError::Database(format!(
                "{}: no database here (is {} a server's data directory?)",
                path.display(),
                data_dir.display()
            )));
        }
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            log: None,
        })
    }

    /// Opens a database file.
    pub fn open_file(path: &Path) -> Result<Self, StorageError> {
        super::private_database(path)
            .map_err(|e| StorageError::Database(format!("{}: {e}", path.display())))?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // `journal_mode` returns the mode in effect; anything but WAL is refused.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError::Database(format!(
                "journal_mode is {mode}, not wal"
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            log: None,
        })
    }

    /// Commits registrations and snapshots with their log entries through `log`, which must
    /// keep its tables in this database ([`crate::log::LOG_DB_FILE`]): a state change and its
    /// entries are then durable together, or neither is.
    pub fn with_log(mut self, log: Arc<LogStore>) -> Self {
        self.log = Some(log);
        self
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written transaction behind (SQLite
        // rolls back an uncommitted one), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(JobRecordRow, ())> {
    Ok((
        JobRecordRow {
            id: r.get(0)?,
            fingerprint: r.get(1)?,
            state: r.get(2)?,
            failure: r.get(3)?,
            circuit_id: r.get(4)?,
            epoch: r.get(5)?,
            tenant: r.get(6)?,
            created_at: r.get(7)?,
            updated_at: r.get(8)?,
            attempt: r.get(9)?,
            lease_owner: r.get(10)?,
            lease_until: r.get(11)?,
        },
        (),
    ))
}

struct JobRecordRow {
    id: String,
    fingerprint: Vec<u8>,
    state: String,
    failure: Option<String>,
    circuit_id: String,
    epoch: i64,
    tenant: String,
    created_at: i64,
    updated_at: i64,
    attempt: u32,
    lease_owner: Option<String>,
    lease_until: i64,
}

impl JobRecordRow {
    fn decode(self) -> Result<JobRecord, StorageError> {
        let corrupt = |reason: &str| StorageError::Corrupt {
            table: "jobs",
            reason: reason.to_owned(),
        };
        Ok(JobRecord {
            fingerprint: self
                .fingerprint
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("fingerprint is not 32 bytes"))?,
            state: JobState::parse(&self.state).ok_or_else(|| corrupt("unknown state"))?,
            id: self.id,
            failure: self.failure,
            circuit_id: self.circuit_id,
            epoch: to_u64(self.epoch),
            tenant: self.tenant,
            created_at: to_u64(self.created_at),
            updated_at: to_u64(self.updated_at),
            attempt: self.attempt,
            lease_owner: self.lease_owner,
            lease_until: to_u64(self.lease_until),
        })
    }
}

const JOB_COLUMNS: &str = "id, fingerprint, state, failure, circuit_id, epoch, tenant, created_at, \
                           updated_at, attempt, lease_owner, lease_until";

fn get_job(conn: &Connection, id: &str) -> Result<Option<JobRecord>, StorageError> {
    let row = conn
        .query_row(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
            [id],
            job_from_row,
        )
        .optional()?;
    row.map(|(r, ())| r.decode()).transpose()
}

fn get_snapshot(
    conn: &Connection,
    epoch: Option<u64>,
) -> Result<Option<SnapshotRecord>, StorageError> {
    let map = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(i64, u32, String, i64, i64, i64)> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    };
    let cols = "epoch, depth, root, total_weight, revenue, leaf_count";
    let row = match epoch {
        Some(e) => conn
            .query_row(
                &format!("SELECT {cols} FROM snapshots WHERE epoch = ?1"),
                [to_i64(e)],
                map,
            )
            .optional()?,
        None => conn
            .query_row(
                &format!("SELECT {cols} FROM snapshots ORDER BY rowid DESC LIMIT 1"),
                [],
                map,
            )
            .optional()?,
    };
    row.map(|(epoch, depth, root, total, revenue, count)| {
        Ok(SnapshotRecord {
            epoch: to_u64(epoch),
            depth,
            root: fr("snapshots", &root)?,
            total_weight: to_u64(total),
            revenue: to_u64(revenue),
            leaf_count: to_u64(count),
        })
    })
    .transpose()
}

fn get_leaves(conn: &Connection, epoch: u64) -> Result<Vec<SnapshotLeaf>, StorageError> {
    query_leaves(conn, "", [to_i64(epoch)])
}

/// The snapshot leaves `WHERE epoch = ?1 <filter>`, by leaf index.
fn query_leaves(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<SnapshotLeaf>, StorageError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT leaf_index, contributor_id, commitment, weight FROM snapshot_leaves
         WHERE epoch = ?1 {filter} ORDER BY leaf_index"
    ))?;
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (i, id, cm, w) = row?;
        out.push(SnapshotLeaf {
            leaf_index: to_u64(i),
            contributor_id: fr("snapshot_leaves", &id)?,
            commitment: fr("snapshot_leaves", &cm)?,
            weight: to_u64(w),
        });
    }
    Ok(out)
}

/// Registers `pairs` on `conn` (inside a transaction): each new pair at the next free leaf, an
/// existing one at its leaf. Stops at the first refused pair (full, over a quota), whose
/// refusal ends the list; the caller then rolls the whole batch back. Every step is an index
/// lookup (the pair's unique key, the quota counters' primary key, the largest leaf), so a
/// registration costs the same in an empty datanet and in a full one.
fn register_in(
    conn: &Connection,
    pairs: &[(String, String)],
    capacity: u64,
    quota: &RegistrationBatch,
    now: u64,
) -> Result<Vec<Registered>, StorageError> {
    let mut find = conn.prepare_cached(
        "SELECT leaf_index FROM contributions WHERE contributor_id = ?1 AND commitment = ?2",
    )?;
    let mut count =
        conn.prepare_cached("SELECT n FROM registration_counts WHERE scope = ?1 AND key = ?2")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO contributions (leaf_index, contributor_id, commitment, created_at, tenant)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut bump = conn.prepare_cached(
        "INSERT INTO registration_counts (scope, key, n) VALUES (?1, ?2, 1)
         ON CONFLICT (scope, key) DO UPDATE SET n = n + 1",
    )?;
    // Leaf indices are dense from 0, so the next one follows the largest (the primary key:
    // one index lookup, however many contributions there are).
    let mut next = to_u64(conn.query_row(
        "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM contributions",
        [],
        |r| r.get::<_, i64>(0),
    )?);
    let mut out = Vec::with_capacity(pairs.len());
    for (id, cm) in pairs {
        if let Some(i) = find
            .query_row(params![id, cm], |r| r.get::<_, i64>(0))
            .optional()?
        {
            out.push(Registered::Existing(to_u64(i)));
            continue;
        }
        let mut held = |scope: &str, key: &str| -> rusqlite::Result<u64> {
            Ok(count
                .query_row(params![scope, key], |r| r.get::<_, i64>(0))
                .optional()?
                .map_or(0, to_u64))
        };
        let refused = if held("contributor", id)? >= quota.per_contributor {
            Some(Registered::Quota(QuotaLimit::Contributor(
                quota.per_contributor,
            )))
        } else if held("tenant", &quota.tenant)? >= quota.per_tenant {
            Some(Registered::Quota(QuotaLimit::Tenant(quota.per_tenant)))
        } else if next >= capacity {
            Some(Registered::Full)
        } else {
            None
        };
        if let Some(refused) = refused {
            out.push(refused);
            return Ok(out);
        }
        insert.execute(params![to_i64(next), id, cm, to_i64(now), quota.tenant])?;
        bump.execute(params!["contributor", id])?;
        bump.execute(params!["tenant", quota.tenant])?;
        out.push(Registered::Created(next));
        next += 1;
    }
    Ok(out)
}

/// Writes `snapshot` and its leaves on `conn` (inside a transaction), unless its epoch is
/// taken.
fn publish_in(
    conn: &Connection,
    s: &SnapshotRecord,
    leaves: &[SnapshotLeaf],
    nodes: &[StoredNode],
) -> Result<Published, StorageError> {
    if let Some(existing) = get_snapshot(conn, Some(s.epoch))? {
        let same = existing == *s && get_leaves(conn, s.epoch)? == leaves;
        return Ok(if same {
            Published::Identical
        } else {
            Published::Conflict
        });
    }
    conn.execute(
        "INSERT INTO snapshots (epoch, depth, root, total_weight, revenue, leaf_count, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            to_i64(s.epoch),
            s.depth,
            fr_to_decimal(&s.root),
            to_i64(s.total_weight),
            to_i64(s.revenue),
            to_i64(s.leaf_count),
            to_i64(super::now())
        ],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO snapshot_leaves (epoch, leaf_index, contributor_id, commitment, weight)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for l in leaves {
        stmt.execute(params![
            to_i64(s.epoch),
            to_i64(l.leaf_index),
            fr_to_decimal(&l.contributor_id),
            fr_to_decimal(&l.commitment),
            to_i64(l.weight)
        ])?;
    }
    if !nodes.is_empty() {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO snapshot_nodes (epoch, level, idx, hash, sum) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for n in nodes {
            stmt.execute(params![
                to_i64(s.epoch),
                n.level,
                to_i64(n.index),
                fr_to_decimal(&n.node.hash),
                to_i64(n.node.sum)
            ])?;
        }
        conn.execute(
            "UPDATE snapshots SET nodes_stored = 1 WHERE epoch = ?1",
            [to_i64(s.epoch)],
        )?;
    }
    Ok(Published::Created)
}

impl SqliteStore {
    /// Runs `change` in one transaction with the log entries it returns: through the log's
    /// batched commit when a log is attached (state and entries durable together, or neither),
    /// else on the store's own connection. A change that returns no entries (`None`) writes
    /// nothing: it is rolled back.
    fn logged<T: Send + 'static>(
        &self,
        change: impl FnOnce(&Connection) -> Result<Logged<T>, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let Some(log) = &self.log else {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let (out, entries) = change(&tx)?;
            if entries.is_some() {
                tx.commit()?;
            }
            return Ok(out);
        };
        super::commit_logged(log, |report| {
            Change::Sqlite(Box::new(move |conn| report(change(conn))))
        })
    }
}

impl Store for SqliteStore {
    fn register_batch(
        &self,
        pairs: &[(Fr, Fr)],
        capacity: u64,
        quota: &RegistrationQuota<'_>,
    ) -> Result<Vec<Registered>, StorageError> {
        let batch = RegistrationBatch::new(pairs, quota);
        self.logged(move |conn| {
            let now = super::now();
            let out = register_in(conn, &batch.stored, capacity, &batch, now)?;
            Ok(batch.committed(out, now))
        })
    }

    fn contributions(&self, leaf_indices: &[u64]) -> Result<Vec<ContributionRecord>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT contributor_id, commitment FROM contributions WHERE leaf_index = ?1",
        )?;
        let mut out = Vec::with_capacity(leaf_indices.len());
        for &i in leaf_indices {
            let row: Option<(String, String)> = stmt
                .query_row([to_i64(i)], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((id, cm)) = row {
                out.push(ContributionRecord {
                    leaf_index: i,
                    contributor_id: fr("contributions", &id)?,
                    commitment: fr("contributions", &cm)?,
                });
            }
        }
        Ok(out)
    }

    fn publish_snapshot(
        &self,
        tenant: &str,
        s: &SnapshotRecord,
        leaves: &[SnapshotLeaf],
        nodes: &[StoredNode],
    ) -> Result<Published, StorageError> {
        let (tenant, s, leaves, nodes) = (
            tenant.to_owned(),
            s.clone(),
            leaves.to_vec(),
            nodes.to_vec(),
        );
        self.logged(move |conn| {
            let published = publish_in(conn, &s, &leaves, &nodes)?;
            Ok(super::snapshot_committed(published, &tenant, &s))
        })
    }

    fn snapshot(&self, epoch: Option<u64>) -> Result<Option<SnapshotRecord>, StorageError> {
        get_snapshot(&self.conn(), epoch)
    }

    fn snapshot_leaves(&self, epoch: u64) -> Result<Vec<SnapshotLeaf>, StorageError> {
        get_leaves(&self.conn(), epoch)
    }

    fn snapshot_leaves_of(
        &self,
        epoch: u64,
        contributor_id: &Fr,
    ) -> Result<Vec<SnapshotLeaf>, StorageError> {
        query_leaves(
            &self.conn(),
            "AND contributor_id = ?2",
            params![to_i64(epoch), fr_to_decimal(contributor_id)],
        )
    }

    fn snapshot_leaves_in(
        &self,
        epoch: u64,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<SnapshotLeaf>, StorageError> {
        // Leaf indices are below 2^32 (the deepest tree), so they compare as i64.
        query_leaves(
            &self.conn(),
            "AND leaf_index >= ?2 AND leaf_index < ?3",
            params![to_i64(epoch), to_i64(range.start), to_i64(range.end)],
        )
    }

    fn snapshot_nodes(
        &self,
        epoch: u64,
        wanted: &[(u32, u64)],
    ) -> Result<Option<Vec<Option<SumNode>>>, StorageError> {
        let conn = self.conn();
        let stored: Option<i64> = conn
            .query_row(
                "SELECT nodes_stored FROM snapshots WHERE epoch = ?1",
                [to_i64(epoch)],
                |r| r.get(0),
            )
            .optional()?;
        if stored != Some(1) {
            return Ok(None);
        }
        let mut stmt = conn.prepare_cached(
            "SELECT hash, sum FROM snapshot_nodes WHERE epoch = ?1 AND level = ?2 AND idx = ?3",
        )?;
        let mut out = Vec::with_capacity(wanted.len());
        for &(level, index) in wanted {
            let row: Option<(String, i64)> = stmt
                .query_row(params![to_i64(epoch), level, to_i64(index)], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            out.push(
                row.map(|(hash, sum)| {
                    Ok::<_, StorageError>(SumNode {
                        hash: fr("snapshot_nodes", &hash)?,
                        sum: to_u64(sum),
                    })
                })
                .transpose()?,
            );
        }
        Ok(Some(out))
    }

    fn insert_job(&self, job: &JobRecord, quota: &JobQuota) -> Result<Admitted, StorageError> {
        self.write(|tx| {
            let existing = tx
                .query_row(
                    &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE fingerprint = ?1"),
                    [&job.fingerprint[..]],
                    job_from_row,
                )
                .optional()?;
            if let Some((row, ())) = existing {
                return Ok(Admitted::Existing(row.decode()?));
            }
            if let Some(refused) = admit(tx, &job.tenant, quota)? {
                return Ok(refused);
            }
            tx.execute(
                &format!(
                    "INSERT INTO jobs ({JOB_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                ),
                params![
                    job.id,
                    &job.fingerprint[..],
                    job.state.as_str(),
                    job.failure,
                    job.circuit_id,
                    to_i64(job.epoch),
                    job.tenant,
                    to_i64(job.created_at),
                    to_i64(job.updated_at),
                    job.attempt,
                    job.lease_owner,
                    to_i64(job.lease_until)
                ],
            )?;
            Ok(Admitted::Inserted(job.clone()))
        })
    }

    fn job(&self, id: &str) -> Result<Option<JobRecord>, StorageError> {
        get_job(&self.conn(), id)
    }

    fn job_by_fingerprint(
        &self,
        fingerprint: &[u8; 32],
    ) -> Result<Option<JobRecord>, StorageError> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE fingerprint = ?1"),
                [&fingerprint[..]],
                job_from_row,
            )
            .optional()?;
        row.map(|(r, ())| r.decode()).transpose()
    }

    fn advance_job(
        &self,
        id: &str,
        attempt: Option<u32>,
        state: JobState,
        failure: Option<&str>,
        now: u64,
    ) -> Result<Option<JobRecord>, StorageError> {
        self.write(|tx| {
            let n = tx.execute(
                &format!(
                    "UPDATE jobs SET state = ?2, failure = ?3, updated_at = ?4
                     WHERE id = ?1 AND state IN {RUNNING_STATES}
                       AND (?5 IS NULL OR attempt = ?5)"
                ),
                params![id, state.as_str(), failure, to_i64(now), attempt],
            )?;
            if n == 0 {
                return Ok(None);
            }
            get_job(tx, id)
        })
    }

    fn finish_job(
        &self,
        id: &str,
        attempt: u32,
        bundle_json: &str,
        now: u64,
    ) -> Result<Option<JobRecord>, StorageError> {
        self.write(|tx| {
            let n = tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'done', failure = NULL, updated_at = ?2
                     WHERE id = ?1 AND state IN {RUNNING_STATES} AND attempt = ?3"
                ),
                params![id, to_i64(now), attempt],
            )?;
            if n == 0 {
                return Ok(None);
            }
            tx.execute(
                "INSERT OR REPLACE INTO bundles (job_id, bundle_json, created_at) VALUES (?1, ?2, ?3)",
                params![id, bundle_json, to_i64(now)],
            )?;
            get_job(tx, id)
        })
    }

    fn restart_job(
        &self,
        id: &str,
        attempt: u32,
        circuit_id: &str,
        lease: &Lease<'_>,
        quota: &JobQuota,
    ) -> Result<Option<JobRecord>, StorageError> {
        self.write(|tx| {
            let Some(current) = get_job(tx, id)? else {
                return Ok(None);
            };
            if !super::restartable(&current, attempt, lease) {
                return Ok(None);
            }
            // A job that ended is live again: it takes a place in the queue.
            if current.state.is_terminal() && admit(tx, &current.tenant, quota)?.is_some() {
                return Ok(None);
            }
            tx.execute(
                "UPDATE jobs SET state = 'queued', failure = NULL, circuit_id = ?2, updated_at = ?3,
                                 attempt = attempt + 1, lease_owner = ?4, lease_until = ?5
                 WHERE id = ?1",
                params![
                    id,
                    circuit_id,
                    to_i64(lease.now),
                    lease.owner,
                    to_i64(lease.until)
                ],
            )?;
            get_job(tx, id)
        })
    }

    fn bundle(&self, job_id: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT bundle_json FROM bundles WHERE job_id = ?1",
                [job_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn interrupt_running_jobs(&self, now: u64) -> Result<usize, StorageError> {
        self.write(|tx| {
            Ok(tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'failed', failure = ?1, updated_at = ?2
                     WHERE state IN {RUNNING_STATES}"
                ),
                params![INTERRUPTED, to_i64(now)],
            )?)
        })
    }

    fn renew_leases(
        &self,
        owner: &str,
        jobs: &[(String, u32)],
        until: u64,
    ) -> Result<(), StorageError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "UPDATE jobs SET lease_until = ?1
                 WHERE id = ?2 AND attempt = ?3 AND lease_owner = ?4 AND state IN {RUNNING_STATES}"
            ))?;
            for (id, attempt) in jobs {
                stmt.execute(params![to_i64(until), id, attempt, owner])?;
            }
            Ok(())
        })
    }

    fn interrupt_jobs_of(&self, owner: &str, now: u64) -> Result<usize, StorageError> {
        self.write(|tx| {
            Ok(tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'failed', failure = ?1, updated_at = ?2
                     WHERE state IN {RUNNING_STATES} AND lease_owner = ?3"
                ),
                params![INTERRUPTED, to_i64(now), owner],
            )?)
        })
    }

    fn interrupt_expired_jobs(&self, now: u64) -> Result<usize, StorageError> {
        self.write(|tx| {
            Ok(tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'failed', failure = ?1, updated_at = ?2
                     WHERE state IN {RUNNING_STATES} AND lease_until < ?2"
                ),
                params![INTERRUPTED, to_i64(now)],
            )?)
        })
    }
}

/// The refusal that `quota` gives a new live job of `tenant`, if any (live jobs are counted in
/// the database: a handful, found by the index on their state).
fn admit(
    conn: &Connection,
    tenant: &str,
    quota: &JobQuota,
) -> Result<Option<Admitted>, StorageError> {
    let (all, mine): (i64, i64) = conn.query_row(
        &format!(
            "SELECT COUNT(*), COALESCE(SUM(tenant = ?1), 0) FROM jobs WHERE state IN {RUNNING_STATES}"
        ),
        [tenant],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(if all as u64 >= quota.queue as u64 {
        Some(Admitted::QueueFull)
    } else if mine as u64 >= quota.per_tenant as u64 {
        Some(Admitted::TenantQuota)
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_versions_migrate_and_newer_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            // A database from before versioning: version 0, jobs without attempts.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute(
                "INSERT INTO jobs (id, fingerprint, state, circuit_id, epoch, tenant,
                 created_at, updated_at) VALUES ('old', ?1, 'failed', 'c', 1, 't', 1, 1)",
                [&[7u8; 32][..]],
            )
            .unwrap();
        }
        {
            // Version 3: two contributions of one tenant, before quotas had counters.
            let mut conn = Connection::open(&path).unwrap();
            for step in &MIGRATIONS[1..3] {
                conn.execute_batch(step).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            let tx = conn.transaction().unwrap();
            for (i, cm) in ["5", "6"].iter().enumerate() {
                tx.execute(
                    "INSERT INTO contributions (leaf_index, contributor_id, commitment,
                     created_at, tenant) VALUES (?1, '1', ?2, 1, 'x')",
                    params![i as i64, cm],
                )
                .unwrap();
            }
            tx.commit().unwrap();
        }
        let s = SqliteStore::open_file(&path).unwrap();
        assert_eq!(s.job("old").unwrap().unwrap().attempt, 1);
        // The counters start from what was registered before them.
        let q = RegistrationQuota {
            tenant: "x",
            per_contributor: u64::MAX,
            per_tenant: 2,
        };
        assert_eq!(
            s.register(&Fr::from(2u64), &Fr::from(7u64), 16, &q)
                .unwrap(),
            Registered::Quota(QuotaLimit::Tenant(2))
        );
        drop(s);
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        conn.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)
            .unwrap();
        drop(conn);
        let err = SqliteStore::open_file(&path).unwrap_err().to_string();
        assert!(err.contains("newer than this server"), "{err}");
    }
}
