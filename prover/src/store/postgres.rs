//! The PostgreSQL backend: every replica of a deployment on one database, so replicas keep no
//! state of their own (`database = "postgres://…"` in the configuration).
//!
//! The tables mirror the SQLite backend's ([`super::sqlite`]), in PostgreSQL's types (`BIGINT`
//! holds a `u64` by bit cast, as there; `BYTEA` for bytes), plus the compliance log's tables
//! (read and written by [`crate::log`]). The schema is versioned in `credence_schema`
//! ([`MIGRATIONS`], applied at open under an advisory lock so replicas starting together
//! migrate once; a database of a newer version is refused). Everything lives in the schema the
//! connection's `search_path` names (`?options=-c%20search_path%3Dname` in the URL), so one
//! database can hold several deployments, or every test its own.
//!
//! Why the `postgres` crate (synchronous, over tokio-postgres): the [`Store`] trait is
//! synchronous and called from `spawn_blocking`, like the SQLite backend; sqlx would have to
//! share `libsqlite3-sys` with rusqlite, which cargo's `links` rule forbids at these versions.
//! Connections come from an r2d2 pool.
//!
//! Sequencing across replicas: registrations and snapshot publications are changes of the
//! compliance log ([`LogStore::commit`]), which runs them under the log's writer lock (an
//! advisory lock), so the next leaf index is read and taken by one replica at a time and each
//! commits with its log entries. Jobs are leased: the replica running a job holds
//! `lease_owner`/`lease_until` and renews it; a job whose lease has expired is marked
//! interrupted by any replica ([`Store::interrupt_expired_jobs`], `FOR UPDATE SKIP LOCKED`, so
//! replicas sweeping at once never wait on each other), and its client's resubmission starts it
//! again on whichever replica receives it. Admission (the queue and per-tenant quotas) counts
//! live jobs in the database under an advisory lock, so the limits hold across replicas.

use std::collections::HashMap;
use std::sync::Arc;

use ark_bn254::Fr;
use credence_circuits::merkle_sum::SumNode;
use credence_verifier::encoding::fr_to_decimal;
use postgres::{GenericClient, NoTls, Row};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2;

use crate::log::{Change, LogStore};

use super::{
    Admitted, ContributionRecord, INTERRUPTED, JobQuota, JobRecord, JobState, Lease, Logged,
    Published, QuotaLimit, Registered, RegistrationBatch, RegistrationQuota, SnapshotLeaf,
    SnapshotRecord, StorageError, Store, StoredNode, from_column as to_u64, stored_fr as fr,
    to_column as to_i64,
};

/// The schema's versions: `MIGRATIONS[i]` takes a database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite backend reached in its five versions, and the log's tables.
    "CREATE TABLE contributions (
         leaf_index     BIGINT PRIMARY KEY,
         contributor_id TEXT NOT NULL,
         commitment     TEXT NOT NULL,
         created_at     BIGINT NOT NULL,
         tenant         TEXT NOT NULL,
         UNIQUE (contributor_id, commitment)
     );
     CREATE TABLE registration_counts (
         scope TEXT NOT NULL CHECK (scope IN ('contributor', 'tenant')),
         key   TEXT NOT NULL,
         n     BIGINT NOT NULL CHECK (n >= 0),
         PRIMARY KEY (scope, key)
     );
     CREATE TABLE snapshots (
         seq          BIGSERIAL UNIQUE,
         epoch        BIGINT PRIMARY KEY,
         depth        INTEGER NOT NULL,
         root         TEXT NOT NULL,
         total_weight BIGINT NOT NULL,
         revenue      BIGINT NOT NULL,
         leaf_count   BIGINT NOT NULL,
         created_at   BIGINT NOT NULL,
         nodes_stored BOOLEAN NOT NULL DEFAULT FALSE
     );
     CREATE TABLE snapshot_leaves (
         epoch          BIGINT NOT NULL REFERENCES snapshots (epoch),
         leaf_index     BIGINT NOT NULL,
         contributor_id TEXT NOT NULL,
         commitment     TEXT NOT NULL,
         weight         BIGINT NOT NULL,
         PRIMARY KEY (epoch, leaf_index)
     );
     CREATE INDEX snapshot_leaves_by_contributor ON snapshot_leaves (epoch, contributor_id);
     CREATE TABLE snapshot_nodes (
         epoch BIGINT NOT NULL REFERENCES snapshots (epoch),
         level INTEGER NOT NULL,
         idx   BIGINT NOT NULL,
         hash  TEXT NOT NULL,
         sum   BIGINT NOT NULL,
         PRIMARY KEY (epoch, level, idx)
     );
     CREATE TABLE jobs (
         id          TEXT PRIMARY KEY,
         fingerprint BYTEA NOT NULL UNIQUE,
         state       TEXT NOT NULL,
         failure     TEXT,
         circuit_id  TEXT NOT NULL,
         epoch       BIGINT NOT NULL,
         tenant      TEXT NOT NULL,
         created_at  BIGINT NOT NULL,
         updated_at  BIGINT NOT NULL,
         attempt     INTEGER NOT NULL,
         lease_owner TEXT,
         lease_until BIGINT NOT NULL DEFAULT 0
     );
     CREATE INDEX jobs_live ON jobs (tenant)
         WHERE state IN ('queued', 'witness', 'proving', 'verifying', 'logged');
     CREATE TABLE bundles (
         job_id      TEXT PRIMARY KEY REFERENCES jobs (id),
         bundle_json TEXT NOT NULL,
         created_at  BIGINT NOT NULL
     );
     CREATE TABLE credence_meta (
         key   TEXT PRIMARY KEY,
         value TEXT NOT NULL
     );
     CREATE TABLE log_meta (
         key   TEXT PRIMARY KEY,
         value TEXT NOT NULL
     );
     CREATE TABLE log_entries (
         idx       BIGINT PRIMARY KEY CHECK (idx >= 0),
         bytes     BYTEA NOT NULL,
         leaf_hash BYTEA NOT NULL CHECK (length(leaf_hash) = 32)
     );
     CREATE TABLE log_checkpoints (
         size BIGINT PRIMARY KEY CHECK (size >= 0),
         note TEXT NOT NULL
     );",
];

/// Serializes migrations of one schema (replicas starting together).
const MIGRATION_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('credence.migrate:' || current_schema(), 0))";

/// Serializes admission of jobs (the queue and quotas count live jobs).
const ADMISSION_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('credence.admission:' || current_schema(), 0))";

const RUNNING_STATES: &str = "('queued','witness','proving','verifying','logged')";

/// Largest number of rows one statement inserts (bounds a statement's parameter arrays).
const ROWS_PER_STATEMENT: usize = 32_768;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
    /// The compliance log in the same database: registrations and snapshots commit with their
    /// entries through it ([`PgStore::with_log`]).
    log: Option<Arc<LogStore>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> Self {
        StorageError::Database(e.to_string())
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(e: r2d2::Error) -> Self {
        StorageError::Database(format!("connection pool: {e}"))
    }
}

/// A PostgreSQL URL with its password left out, for messages and logs.
pub fn redacted(url: &str) -> String {
    let Ok(config) = url.parse::<postgres::Config>() else {
        return "<a database URL that does not parse>".into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "postgres://{}{}@{}{}/{}",
        config.get_user().unwrap_or(""),
        if config.get_password().is_some() {
            ":***"
        } else {
            ""
        },
        hosts.join(","),
        if ports.is_empty() {
            String::new()
        } else {
            format!(":{}", ports.join(","))
        },
        config.get_dbname().unwrap_or("")
    )
}

/// Parses a PostgreSQL URL (or key-value string), naming what is wrong without echoing it
/// (it may hold a password).
pub fn parse_url(url: &str) -> Result<postgres::Config, StorageError> {
    let config = url
        .parse::<postgres::Config>()
        .map_err(|e| StorageError::Database(format!("the database URL does not parse: {e}")))?;
    // No TLS client is built in yet (connections are plain): say so rather than fail later
    // with a handshake error that reads like an unreachable server.
    if config.get_ssl_mode() == postgres::config::SslMode::Require {
        return Err(StorageError::Database(
            "sslmode=require: this server does not speak TLS to PostgreSQL yet; keep the \
             database on a private network or reach it through a local TLS tunnel, and drop \
             sslmode=require"
                .into(),
        ));
    }
    Ok(config)
}

/// Creates a new, empty schema named `name` in the database at `url` and returns the URL of
/// that schema (`url` with its `search_path` set): one database, several deployments (or every
/// test its own). `name` must be a plain lowercase identifier.
pub fn create_schema(url: &str, name: &str) -> Result<String, StorageError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StorageError::Database(format!(
            "{name:?} is not a plain lowercase schema name"
        )));
    }
    let mut client = PgStore::log_connection(url)?;
    client.batch_execute(&format!("CREATE SCHEMA {name}"))?;
    Ok(with_search_path(url, name))
}

/// `url` with its connection options setting `search_path` to `schema`.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Drops a schema made by [`create_schema`], with everything in it.
pub fn drop_schema(url: &str, name: &str) -> Result<(), StorageError> {
    let mut client = PgStore::log_connection(url)?;
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))?;
    Ok(())
}

/// Brings the schema of `client`'s `search_path` to the newest version, refusing a newer one.
fn migrate(client: &mut postgres::Client) -> Result<(), StorageError> {
    let mut tx = client.transaction()?;
    tx.execute(MIGRATION_LOCK, &[])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS credence_schema (version INTEGER NOT NULL)")?;
    let version: i32 = match tx.query_opt("SELECT version FROM credence_schema", &[])? {
        Some(r) => r.try_get(0)?,
        None => {
            tx.execute("INSERT INTO credence_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "the database has schema version {version}, newer than this server's {}: \
             upgrade the server",
            MIGRATIONS.len()
        )));
    }
    // One transaction for every step: PostgreSQL's DDL is transactional, so a failed step
    // leaves the schema at the version it started from.
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.batch_execute(step)?;
        tx.execute(
            "UPDATE credence_schema SET version = $1",
            &[&((i + 1) as i32)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

impl PgStore {
    /// Connects to `url` (a pool of up to `connections`), migrating its schema.
    pub fn open(url: &str, connections: u32) -> Result<Self, StorageError> {
        // One connection first: a server that does not answer is named at once (a pool would
        // retry until its timeout), and the schema is migrated before the pool serves.
        migrate(&mut PgStore::log_connection(url)?)?;
        let manager = PostgresConnectionManager::new(parse_url(url)?, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(1))
            // Connections open as they are needed, not all at start: a replica at rest holds one.
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(|e| {
                StorageError::Database(format!(
                    "PostgreSQL at {} does not answer: {e}",
                    redacted(url)
                ))
            })?;
        Ok(PgStore { pool, log: None })
    }

    /// Stores `value` under `key` unless a value is stored there, and refuses a different
    /// stored value with `mismatch` (a setting every replica must share).
    pub fn bind_meta(&self, key: &str, value: &str, mismatch: &str) -> Result<(), StorageError> {
        let mut c = self.conn()?;
        c.execute(
            "INSERT INTO credence_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &value],
        )?;
        let stored: String = c
            .query_one("SELECT value FROM credence_meta WHERE key = $1", &[&key])?
            .try_get(0)?;
        if stored != value {
            return Err(StorageError::Database(mismatch.to_owned()));
        }
        Ok(())
    }

    /// A connection of its own for the compliance log ([`LogStore::open_postgres`]).
    pub fn log_connection(url: &str) -> Result<postgres::Client, StorageError> {
        parse_url(url)?.connect(NoTls).map_err(|e| {
            StorageError::Database(format!(
                "PostgreSQL at {} does not answer: {e}",
                redacted(url)
            ))
        })
    }

    /// Commits registrations and snapshots with their log entries through `log`, which must
    /// keep its tables in this database and schema.
    pub fn with_log(mut self, log: Arc<LogStore>) -> Self {
        self.log = Some(log);
        self
    }

    fn conn(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StorageError> {
        Ok(self.pool.get()?)
    }

    /// Runs `change` in one transaction with the log entries it returns, through the log's
    /// batched commit when a log is attached (state and entries durable together, or neither,
    /// under the log's writer lock), else in a transaction of its own. A change that returns no
    /// entries (`None`) writes nothing.
    fn logged<T: Send + 'static>(
        &self,
        change: impl for<'a> FnOnce(&mut postgres::Transaction<'a>) -> Result<Logged<T>, StorageError>
        + Send
        + 'static,
    ) -> Result<T, StorageError> {
        let Some(log) = &self.log else {
            let mut conn = self.conn()?;
            let mut tx = conn.transaction()?;
            tx.execute(crate::log::PG_WRITER_LOCK, &[])?;
            let (out, entries) = change(&mut tx)?;
            if entries.is_some() {
                tx.commit()?;
            }
            return Ok(out);
        };
        super::commit_logged(log, |report| {
            Change::Postgres(Box::new(move |tx| report(change(tx))))
        })
    }
}

const JOB_COLUMNS: &str = "id, fingerprint, state, failure, circuit_id, epoch, tenant, created_at, \
                           updated_at, attempt, lease_owner, lease_until";

fn job_from_row(r: &Row) -> Result<JobRecord, StorageError> {
    let corrupt = |reason: &str| StorageError::Corrupt {
        table: "jobs",
        reason: reason.to_owned(),
    };
    let fingerprint: Vec<u8> = r.try_get(1)?;
    let state: String = r.try_get(2)?;
    let attempt: i32 = r.try_get(9)?;
    Ok(JobRecord {
        id: r.try_get(0)?,
        fingerprint: fingerprint
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("fingerprint is not 32 bytes"))?,
        state: JobState::parse(&state).ok_or_else(|| corrupt("unknown state"))?,
        failure: r.try_get(3)?,
        circuit_id: r.try_get(4)?,
        epoch: to_u64(r.try_get(5)?),
        tenant: r.try_get(6)?,
        created_at: to_u64(r.try_get(7)?),
        updated_at: to_u64(r.try_get(8)?),
        attempt: u32::try_from(attempt).map_err(|_| corrupt("negative attempt"))?,
        lease_owner: r.try_get(10)?,
        lease_until: to_u64(r.try_get(11)?),
    })
}

fn get_job(c: &mut impl GenericClient, id: &str) -> Result<Option<JobRecord>, StorageError> {
    c.query_opt(
        &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"),
        &[&id],
    )?
    .map(|r| job_from_row(&r))
    .transpose()
}

fn get_snapshot(
    c: &mut impl GenericClient,
    epoch: Option<u64>,
) -> Result<Option<SnapshotRecord>, StorageError> {
    let cols = "epoch, depth, root, total_weight, revenue, leaf_count";
    let row = match epoch {
        Some(e) => c.query_opt(
            &format!("SELECT {cols} FROM snapshots WHERE epoch = $1"),
            &[&to_i64(e)],
        )?,
        None => c.query_opt(
            &format!("SELECT {cols} FROM snapshots ORDER BY seq DESC LIMIT 1"),
            &[],
        )?,
    };
    row.map(|r| {
        let depth: i32 = r.try_get(1)?;
        let root: String = r.try_get(2)?;
        Ok(SnapshotRecord {
            epoch: to_u64(r.try_get(0)?),
            depth: depth as u32,
            root: fr("snapshots", &root)?,
            total_weight: to_u64(r.try_get(3)?),
            revenue: to_u64(r.try_get(4)?),
            leaf_count: to_u64(r.try_get(5)?),
        })
    })
    .transpose()
}

/// The snapshot leaves `WHERE epoch = $1 <filter>`, by leaf index.
fn query_leaves(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<SnapshotLeaf>, StorageError> {
    let rows = c.query(
        &format!(
            "SELECT leaf_index, contributor_id, commitment, weight FROM snapshot_leaves
             WHERE epoch = $1 {filter} ORDER BY leaf_index"
        ),
        params,
    )?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(1)?;
            let cm: String = r.try_get(2)?;
            Ok(SnapshotLeaf {
                leaf_index: to_u64(r.try_get(0)?),
                contributor_id: fr("snapshot_leaves", &id)?,
                commitment: fr("snapshot_leaves", &cm)?,
                weight: to_u64(r.try_get(3)?),
            })
        })
        .collect()
}

/// Registers `pairs` in `tx`, as the SQLite backend does pair by pair, in a constant number of
/// statements per batch: the existing pairs and the quota counters are read at once, the
/// outcomes decided here, and the new rows and counters written at once. Stops at the first
/// refused pair, whose refusal ends the list (the caller then writes nothing).
fn register_in(
    tx: &mut postgres::Transaction<'_>,
    pairs: &[(String, String)],
    capacity: u64,
    quota: &RegistrationBatch,
    now: u64,
) -> Result<Vec<Registered>, StorageError> {
    let ids: Vec<&str> = pairs.iter().map(|(id, _)| id.as_str()).collect();
    let cms: Vec<&str> = pairs.iter().map(|(_, cm)| cm.as_str()).collect();
    let mut known: HashMap<(String, String), u64> = HashMap::new();
    for r in tx.query(
        // One index lookup per pair, whatever the planner thinks of the table's size (a join
        // it planned as a scan of every contribution made registrations slow down as the
        // datanet grew): LIMIT keeps the lateral subquery from being flattened into a join.
        "SELECT p.id, p.cm, c.leaf_index
         FROM UNNEST($1::text[], $2::text[]) AS p (id, cm)
         JOIN LATERAL (SELECT leaf_index FROM contributions
                       WHERE contributor_id = p.id AND commitment = p.cm LIMIT 1) c ON TRUE",
        &[&ids, &cms],
    )? {
        known.insert((r.try_get(0)?, r.try_get(1)?), to_u64(r.try_get(2)?));
    }
    let mut held: HashMap<(String, String), u64> = HashMap::new();
    let keys: Vec<&str> = ids.iter().copied().chain([quota.tenant.as_str()]).collect();
    let scopes: Vec<&str> = ids
        .iter()
        .map(|_| "contributor")
        .chain(["tenant"])
        .collect();
    for r in tx.query(
        // As above: one index lookup per distinct key.
        "SELECT k.scope, k.key, r.n
         FROM (SELECT DISTINCT * FROM UNNEST($1::text[], $2::text[])) AS k (scope, key)
         JOIN LATERAL (SELECT n FROM registration_counts
                       WHERE scope = k.scope AND key = k.key LIMIT 1) r ON TRUE",
        &[&scopes, &keys],
    )? {
        held.insert((r.try_get(0)?, r.try_get(1)?), to_u64(r.try_get(2)?));
    }
    let next_row = tx.query_one(
        "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM contributions",
        &[],
    )?;
    let mut next = to_u64(next_row.try_get(0)?);
    let mut out = Vec::with_capacity(pairs.len());
    let mut new_rows: Vec<(i64, &str, &str)> = Vec::new();
    let mut bumps: HashMap<(&str, &str), i64> = HashMap::new();
    for (id, cm) in pairs {
        if let Some(&i) = known.get(&(id.clone(), cm.clone())) {
            out.push(Registered::Existing(i));
            continue;
        }
        let count = |scope: &str, key: &str| {
            held.get(&(scope.to_owned(), key.to_owned()))
                .copied()
                .unwrap_or(0)
        };
        let mine = count("contributor", id)
            + bumps
                .get(&("contributor", id.as_str()))
                .copied()
                .unwrap_or(0) as u64;
        let tenant = count("tenant", &quota.tenant)
            + bumps
                .get(&("tenant", quota.tenant.as_str()))
                .copied()
                .unwrap_or(0) as u64;
        let refused = if mine >= quota.per_contributor {
            Some(Registered::Quota(QuotaLimit::Contributor(
                quota.per_contributor,
            )))
        } else if tenant >= quota.per_tenant {
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
        new_rows.push((to_i64(next), id, cm));
        *bumps.entry(("contributor", id.as_str())).or_insert(0) += 1;
        *bumps.entry(("tenant", quota.tenant.as_str())).or_insert(0) += 1;
        known.insert((id.clone(), cm.clone()), next);
        out.push(Registered::Created(next));
        next += 1;
    }
    for chunk in new_rows.chunks(ROWS_PER_STATEMENT) {
        let idx: Vec<i64> = chunk.iter().map(|r| r.0).collect();
        let ids: Vec<&str> = chunk.iter().map(|r| r.1).collect();
        let cms: Vec<&str> = chunk.iter().map(|r| r.2).collect();
        tx.execute(
            "INSERT INTO contributions (leaf_index, contributor_id, commitment, created_at, tenant)
             SELECT i, id, cm, $4, $5 FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS p (i, id, cm)",
            &[&idx, &ids, &cms, &to_i64(now), &quota.tenant],
        )?;
    }
    if !bumps.is_empty() {
        let (scopes, rest): (Vec<&str>, Vec<(&str, i64)>) =
            bumps.iter().map(|((s, k), n)| (*s, (*k, *n))).unzip();
        let (keys, ns): (Vec<&str>, Vec<i64>) = rest.into_iter().unzip();
        tx.execute(
            "INSERT INTO registration_counts (scope, key, n)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[])
             ON CONFLICT (scope, key) DO UPDATE SET n = registration_counts.n + EXCLUDED.n",
            &[&scopes, &keys, &ns],
        )?;
    }
    Ok(out)
}

/// Writes `snapshot`, its leaves and nodes in `tx`, unless its epoch is taken.
fn publish_in(
    tx: &mut postgres::Transaction<'_>,
    s: &SnapshotRecord,
    leaves: &[SnapshotLeaf],
    nodes: &[StoredNode],
) -> Result<Published, StorageError> {
    if let Some(existing) = get_snapshot(tx, Some(s.epoch))? {
        let same = existing == *s && query_leaves(tx, "", &[&to_i64(s.epoch)])? == leaves;
        return Ok(if same {
            Published::Identical
        } else {
            Published::Conflict
        });
    }
    let epoch = to_i64(s.epoch);
    tx.execute(
        "INSERT INTO snapshots (epoch, depth, root, total_weight, revenue, leaf_count, created_at,
                                nodes_stored)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &epoch,
            &(s.depth as i32),
            &fr_to_decimal(&s.root),
            &to_i64(s.total_weight),
            &to_i64(s.revenue),
            &to_i64(s.leaf_count),
            &to_i64(super::now()),
            &!nodes.is_empty(),
        ],
    )?;
    for chunk in leaves.chunks(ROWS_PER_STATEMENT) {
        let idx: Vec<i64> = chunk.iter().map(|l| to_i64(l.leaf_index)).collect();
        let ids: Vec<String> = chunk
            .iter()
            .map(|l| fr_to_decimal(&l.contributor_id))
            .collect();
        let cms: Vec<String> = chunk.iter().map(|l| fr_to_decimal(&l.commitment)).collect();
        let ws: Vec<i64> = chunk.iter().map(|l| to_i64(l.weight)).collect();
        tx.execute(
            "INSERT INTO snapshot_leaves (epoch, leaf_index, contributor_id, commitment, weight)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::bigint[])",
            &[&epoch, &idx, &ids, &cms, &ws],
        )?;
    }
    for chunk in nodes.chunks(ROWS_PER_STATEMENT) {
        let levels: Vec<i32> = chunk.iter().map(|n| n.level as i32).collect();
        let idx: Vec<i64> = chunk.iter().map(|n| to_i64(n.index)).collect();
        let hashes: Vec<String> = chunk.iter().map(|n| fr_to_decimal(&n.node.hash)).collect();
        let sums: Vec<i64> = chunk.iter().map(|n| to_i64(n.node.sum)).collect();
        tx.execute(
            "INSERT INTO snapshot_nodes (epoch, level, idx, hash, sum)
             SELECT $1, * FROM UNNEST($2::int[], $3::bigint[], $4::text[], $5::bigint[])",
            &[&epoch, &levels, &idx, &hashes, &sums],
        )?;
    }
    Ok(Published::Created)
}

/// Live jobs over all tenants and of `tenant`, or the refusal that `quota` gives a new one.
fn admit(
    tx: &mut postgres::Transaction<'_>,
    tenant: &str,
    quota: &JobQuota,
) -> Result<Option<Admitted>, StorageError> {
    tx.execute(ADMISSION_LOCK, &[])?;
    let r = tx.query_one(
        &format!(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE tenant = $1) FROM jobs
             WHERE state IN {RUNNING_STATES}"
        ),
        &[&tenant],
    )?;
    let (all, mine): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
    Ok(if all as u64 >= quota.queue as u64 {
        Some(Admitted::QueueFull)
    } else if mine as u64 >= quota.per_tenant as u64 {
        Some(Admitted::TenantQuota)
    } else {
        None
    })
}

impl Store for PgStore {
    fn register_batch(
        &self,
        pairs: &[(Fr, Fr)],
        capacity: u64,
        quota: &RegistrationQuota<'_>,
    ) -> Result<Vec<Registered>, StorageError> {
        let batch = RegistrationBatch::new(pairs, quota);
        self.logged(move |tx| {
            let now = super::now();
            let out = register_in(tx, &batch.stored, capacity, &batch, now)?;
            Ok(batch.committed(out, now))
        })
    }

    fn contributions(&self, leaf_indices: &[u64]) -> Result<Vec<ContributionRecord>, StorageError> {
        let idx: Vec<i64> = leaf_indices.iter().map(|&i| to_i64(i)).collect();
        // A few leaves: one index lookup each. A snapshot's worth: one join, which the planner
        // may run as a scan (the right plan when most of the table is asked for).
        let sql = if idx.len() <= 4096 {
            "SELECT w.i, c.contributor_id, c.commitment
             FROM UNNEST($1::bigint[]) WITH ORDINALITY AS w (i, o)
             JOIN LATERAL (SELECT contributor_id, commitment FROM contributions
                           WHERE leaf_index = w.i LIMIT 1) c ON TRUE
             ORDER BY w.o"
        } else {
            "SELECT w.i, c.contributor_id, c.commitment
             FROM UNNEST($1::bigint[]) WITH ORDINALITY AS w (i, o)
             JOIN contributions c ON c.leaf_index = w.i
             ORDER BY w.o"
        };
        let rows = self.conn()?.query(sql, &[&idx])?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(1)?;
                let cm: String = r.try_get(2)?;
                Ok(ContributionRecord {
                    leaf_index: to_u64(r.try_get(0)?),
                    contributor_id: fr("contributions", &id)?,
                    commitment: fr("contributions", &cm)?,
                })
            })
            .collect()
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
        self.logged(move |tx| {
            let published = publish_in(tx, &s, &leaves, &nodes)?;
            Ok(super::snapshot_committed(published, &tenant, &s))
        })
    }

    fn snapshot(&self, epoch: Option<u64>) -> Result<Option<SnapshotRecord>, StorageError> {
        get_snapshot(&mut *self.conn()?, epoch)
    }

    fn snapshot_leaves(&self, epoch: u64) -> Result<Vec<SnapshotLeaf>, StorageError> {
        query_leaves(&mut *self.conn()?, "", &[&to_i64(epoch)])
    }

    fn snapshot_leaves_of(
        &self,
        epoch: u64,
        contributor_id: &Fr,
    ) -> Result<Vec<SnapshotLeaf>, StorageError> {
        query_leaves(
            &mut *self.conn()?,
            "AND contributor_id = $2",
            &[&to_i64(epoch), &fr_to_decimal(contributor_id)],
        )
    }

    fn snapshot_leaves_in(
        &self,
        epoch: u64,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<SnapshotLeaf>, StorageError> {
        // Leaf indices are below 2^32 (the deepest tree), so they compare as i64.
        query_leaves(
            &mut *self.conn()?,
            "AND leaf_index >= $2 AND leaf_index < $3",
            &[&to_i64(epoch), &to_i64(range.start), &to_i64(range.end)],
        )
    }

    fn snapshot_nodes(
        &self,
        epoch: u64,
        wanted: &[(u32, u64)],
    ) -> Result<Option<Vec<Option<SumNode>>>, StorageError> {
        let mut c = self.conn()?;
        let stored = c.query_opt(
            "SELECT nodes_stored FROM snapshots WHERE epoch = $1",
            &[&to_i64(epoch)],
        )?;
        if !matches!(
            stored.map(|r| r.try_get::<_, bool>(0)).transpose()?,
            Some(true)
        ) {
            return Ok(None);
        }
        let levels: Vec<i32> = wanted.iter().map(|w| w.0 as i32).collect();
        let idx: Vec<i64> = wanted.iter().map(|w| to_i64(w.1)).collect();
        let rows = c.query(
            "SELECT w.o, n.hash, n.sum
             FROM UNNEST($2::int[], $3::bigint[]) WITH ORDINALITY AS w (level, idx, o)
             JOIN snapshot_nodes n ON n.epoch = $1 AND n.level = w.level AND n.idx = w.idx",
            &[&to_i64(epoch), &levels, &idx],
        )?;
        let mut out = vec![None; wanted.len()];
        for r in rows {
            let o: i64 = r.try_get(0)?;
            let hash: String = r.try_get(1)?;
            let slot = usize::try_from(o - 1)
                .ok()
                .and_then(|i| out.get_mut(i))
                .ok_or_else(|| StorageError::Database("node lookup out of order".into()))?;
            *slot = Some(SumNode {
                hash: fr("snapshot_nodes", &hash)?,
                sum: to_u64(r.try_get(2)?),
            });
        }
        Ok(Some(out))
    }

    fn insert_job(&self, job: &JobRecord, quota: &JobQuota) -> Result<Admitted, StorageError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        if let Some(r) = tx.query_opt(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE fingerprint = $1"),
            &[&&job.fingerprint[..]],
        )? {
            return Ok(Admitted::Existing(job_from_row(&r)?));
        }
        if let Some(refused) = admit(&mut tx, &job.tenant, quota)? {
            return Ok(refused);
        }
        let inserted = tx.execute(
            &format!(
                "INSERT INTO jobs ({JOB_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (fingerprint) DO NOTHING"
            ),
            &[
                &job.id,
                &&job.fingerprint[..],
                &job.state.as_str(),
                &job.failure,
                &job.circuit_id,
                &to_i64(job.epoch),
                &job.tenant,
                &to_i64(job.created_at),
                &to_i64(job.updated_at),
                &(job.attempt as i32),
                &job.lease_owner,
                &to_i64(job.lease_until),
            ],
        )?;
        if inserted == 0 {
            // Another replica inserted the same request meanwhile.
            let r = tx.query_one(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE fingerprint = $1"),
                &[&&job.fingerprint[..]],
            )?;
            return Ok(Admitted::Existing(job_from_row(&r)?));
        }
        tx.commit()?;
        Ok(Admitted::Inserted(job.clone()))
    }

    fn job(&self, id: &str) -> Result<Option<JobRecord>, StorageError> {
        get_job(&mut *self.conn()?, id)
    }

    fn job_by_fingerprint(
        &self,
        fingerprint: &[u8; 32],
    ) -> Result<Option<JobRecord>, StorageError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE fingerprint = $1"),
                &[&&fingerprint[..]],
            )?
            .map(|r| job_from_row(&r))
            .transpose()
    }

    fn advance_job(
        &self,
        id: &str,
        attempt: Option<u32>,
        state: JobState,
        failure: Option<&str>,
        now: u64,
    ) -> Result<Option<JobRecord>, StorageError> {
        let attempt = attempt.map(|a| a as i32);
        self.conn()?
            .query_opt(
                &format!(
                    "UPDATE jobs SET state = $2, failure = $3, updated_at = $4
                     WHERE id = $1 AND state IN {RUNNING_STATES}
                       AND ($5::int IS NULL OR attempt = $5)
                     RETURNING {JOB_COLUMNS}"
                ),
                &[&id, &state.as_str(), &failure, &to_i64(now), &attempt],
            )?
            .map(|r| job_from_row(&r))
            .transpose()
    }

    fn finish_job(
        &self,
        id: &str,
        attempt: u32,
        bundle_json: &str,
        now: u64,
    ) -> Result<Option<JobRecord>, StorageError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let Some(r) = tx.query_opt(
            &format!(
                "UPDATE jobs SET state = 'done', failure = NULL, updated_at = $2
                 WHERE id = $1 AND state IN {RUNNING_STATES} AND attempt = $3
                 RETURNING {JOB_COLUMNS}"
            ),
            &[&id, &to_i64(now), &(attempt as i32)],
        )?
        else {
            return Ok(None);
        };
        tx.execute(
            "INSERT INTO bundles (job_id, bundle_json, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (job_id) DO UPDATE SET bundle_json = EXCLUDED.bundle_json,
                                                created_at = EXCLUDED.created_at",
            &[&id, &bundle_json, &to_i64(now)],
        )?;
        let record = job_from_row(&r)?;
        tx.commit()?;
        Ok(Some(record))
    }

    fn restart_job(
        &self,
        id: &str,
        attempt: u32,
        circuit_id: &str,
        lease: &Lease<'_>,
        quota: &JobQuota,
    ) -> Result<Option<JobRecord>, StorageError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let Some(current) = tx.query_opt(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE"),
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let current = job_from_row(&current)?;
        if !super::restartable(&current, attempt, lease) {
            return Ok(None);
        }
        // A job that ended is live again: it takes a place in the queue.
        if current.state.is_terminal() && admit(&mut tx, &current.tenant, quota)?.is_some() {
            return Ok(None);
        }
        let r = tx.query_one(
            &format!(
                "UPDATE jobs SET state = 'queued', failure = NULL, circuit_id = $2,
                                 updated_at = $3, attempt = attempt + 1, lease_owner = $4,
                                 lease_until = $5
                 WHERE id = $1 RETURNING {JOB_COLUMNS}"
            ),
            &[
                &id,
                &circuit_id,
                &to_i64(lease.now),
                &lease.owner,
                &to_i64(lease.until),
            ],
        )?;
        let record = job_from_row(&r)?;
        tx.commit()?;
        Ok(Some(record))
    }

    fn bundle(&self, job_id: &str) -> Result<Option<String>, StorageError> {
        self.conn()?
            .query_opt(
                "SELECT bundle_json FROM bundles WHERE job_id = $1",
                &[&job_id],
            )?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn interrupt_running_jobs(&self, _now: u64) -> Result<usize, StorageError> {
        // Other replicas' jobs run on: only expired leases are interrupted, by the sweep.
        Ok(0)
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
        let ids: Vec<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
        let attempts: Vec<i32> = jobs.iter().map(|j| j.1 as i32).collect();
        self.conn()?.execute(
            &format!(
                "UPDATE jobs j SET lease_until = $2
                 FROM UNNEST($3::text[], $4::int[]) AS h (id, attempt)
                 WHERE j.id = h.id AND j.attempt = h.attempt AND j.lease_owner = $1
                   AND j.state IN {RUNNING_STATES}"
            ),
            &[&owner, &to_i64(until), &ids, &attempts],
        )?;
        Ok(())
    }

    fn interrupt_jobs_of(&self, owner: &str, now: u64) -> Result<usize, StorageError> {
        let n = self.conn()?.execute(
            &format!(
                "UPDATE jobs SET state = 'failed', failure = $1, updated_at = $2
                 WHERE state IN {RUNNING_STATES} AND lease_owner = $3"
            ),
            &[&INTERRUPTED, &to_i64(now), &owner],
        )?;
        Ok(n as usize)
    }

    fn interrupt_expired_jobs(&self, now: u64) -> Result<usize, StorageError> {
        let mut c = self.conn()?;
        let n = c.execute(
            &format!(
                "UPDATE jobs SET state = 'failed', failure = $1, updated_at = $2
                 WHERE id IN (SELECT id FROM jobs
                              WHERE state IN {RUNNING_STATES} AND lease_until < $2
                              FOR UPDATE SKIP LOCKED)"
            ),
            &[&INTERRUPTED, &to_i64(now)],
        )?;
        Ok(n as usize)
    }
}

/// The variable naming the PostgreSQL database that tests use.
pub const TEST_DATABASE_ENV: &str = "CREDENCE_TEST_DATABASE";

/// The database tests use by default: the development and CI machines' server (trust
/// authentication, database `test`).
pub const TEST_DATABASE_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema of its own for one test or one benchmark run, dropped (with everything in it) when
/// this is dropped, so runs never see each other's rows and can run in parallel.
#[derive(Debug)]
pub struct ScratchSchema {
    base: String,
    name: String,
    url: String,
}

impl ScratchSchema {
    /// A new schema `<prefix>_<random>` in the database at `base_url`.
    pub fn create(base_url: &str, prefix: &str) -> Result<Self, StorageError> {
        let name = format!("{prefix}_{}", crate::jobs::new_job_id());
        let url = create_schema(base_url, &name)?;
        Ok(ScratchSchema {
            base: base_url.to_owned(),
            name,
            url,
        })
    }

    /// For tests: a new schema in [`TEST_DATABASE_ENV`] (or [`TEST_DATABASE_DEFAULT`]). When
    /// no server answers, `None` with a message on stderr (the test then skips), unless `CI` is
    /// set: there the tests must run, so it panics saying why.
    pub fn for_test(prefix: &str) -> Option<Self> {
        let base =
            std::env::var(TEST_DATABASE_ENV).unwrap_or_else(|_| TEST_DATABASE_DEFAULT.to_owned());
        match ScratchSchema::create(&base, prefix) {
            Ok(s) => Some(s),
            Err(e) if std::env::var_os("CI").is_some() => panic!(
                "PostgreSQL at {} does not answer, and CI must run the PostgreSQL tests: {e}",
                redacted(&base)
            ),
            Err(e) => {
                eprintln!(
                    "skipped: PostgreSQL at {} does not answer ({e}); set {TEST_DATABASE_ENV}",
                    redacted(&base)
                );
                None
            }
        }
    }

    /// The URL of the schema (the base URL with its `search_path`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        // On a thread of its own: the postgres client blocks, and this may be dropped on an
        // async thread (an early return of a benchmark).
        let (base, name) = (self.base.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || drop_schema(&base, &name)).join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop schema {}", self.name);
        }
    }
}
