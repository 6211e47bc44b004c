//! `credence bench --datanet N`: the datanet at scale, over gRPC on loopback against a
//! `credence serve` child process (so its peak memory is its own): registrations per second,
//! block by block as the datanet grows, then the publication of a snapshot over every leaf
//! (streamed in parts under the server's default message limit).
//!
//! Then the server is restarted and one contributor's leaves are read with GetLeaves: with
//! no tree in memory, the paths come from the stored nodes.
//!
//! The figure that matters is the ratio of the last block's rate to the first's: a
//! registration must cost the same in a full datanet as in an empty one.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ark_bn254::Fr;
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_to_decimal;
use serde::Serialize;

use super::load_test::server::ServerSpec;
use crate::config::Config;
use crate::service::datanet::MAX_REGISTER_BATCH;

/// Registrations timed together: the rate is reported per block of this many.
pub const BLOCK: u64 = 8192;

/// What `credence bench --datanet` measures.
#[derive(Clone, Debug)]
pub struct DatanetOptions {
    /// Contributions registered (a multiple of [`BLOCK`] is reported block by block).
    pub contributions: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// Registrations per call: 1 uses Register, more RegisterBatch.
    pub batch: usize,
    /// Where the server's data directory and configuration go.
    pub scratch: std::path::PathBuf,
    /// A PostgreSQL database to measure instead of SQLite (a schema of its own is made in it
    /// for the run, and dropped afterwards).
    pub database: Option<String>,
}

/// One block of registrations.
#[derive(Clone, Debug, Serialize)]
pub struct BlockReport {
    /// Registrations before this block.
    pub registered_before: u64,
    /// Registrations in the block.
    pub registrations: u64,
    /// Its registrations per second.
    pub per_second: f64,
}

/// The report of `credence bench --datanet`.
#[derive(Clone, Debug, Serialize)]
pub struct DatanetReport {
    /// The storage backend.
    pub backend: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Registrations per call.
    pub batch: usize,
    /// Block by block.
    pub blocks: Vec<BlockReport>,
    /// All registrations per second.
    pub per_second: f64,
    /// The last block's rate over the first's.
    pub last_over_first: f64,
    /// Leaves of the published snapshot.
    pub snapshot_leaves: u64,
    /// PublishSnapshot's wall time, seconds.
    pub publish_s: f64,
    /// The compliance log's entries and checkpoints afterwards (checkpoints < entries: batched).
    pub log_entries: u64,
    /// Signed checkpoints.
    pub log_checkpoints: u64,
    /// The server's peak resident memory, MiB (Linux).
    pub server_peak_rss_mib: Option<f64>,
    /// Leaves (with their paths) of one contributor read by GetLeaves after a restart.
    pub get_leaves: usize,
    /// That GetLeaves call's wall time, milliseconds.
    pub get_leaves_ms: f64,
}

fn pair(n: u64) -> pb::RegisterRequest {
    pb::RegisterRequest {
        contributor_id: fr_to_decimal(&Fr::from(1 + n / 64)),
        commitment: fr_to_decimal(&Fr::from(n + 1_000_000_007)),
    }
}

/// Runs the measurement.
pub async fn run(o: DatanetOptions) -> Result<DatanetReport> {
    if o.contributions == 0 || o.clients == 0 || o.batch == 0 || o.batch > MAX_REGISTER_BATCH {
        bail!("--datanet, --clients must be at least 1 and --batch in 1..={MAX_REGISTER_BATCH}");
    }
    let depth = (64 - (o.contributions - 1).leading_zeros()).max(4);
    let port = super::load_test::free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let scratch = o
        .scratch
        .join(format!("credence-bench-datanet-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("{}", scratch.display()))?;
    let mut config = Config {
        listen: format!("127.0.0.1:{port}").parse()?,
        data_dir: scratch.join("data"),
        ..Config::default()
    };
    config.services.prover = false;
    config.services.verifier = false;
    config.datanet.depth = depth;
    config.log.origin = Some("credence.bench/datanet".into());
    // Publishing 2^20 leaves hashes about 2^21 Poseidon nodes (over a minute on 2 cores):
    // measured, not cut off by the default 60 s deadline.
    config.limits.request_timeout_secs = 900;
    config.limits.registrations_per_contributor = u64::MAX;
    config.limits.registrations_per_tenant = u64::MAX;
    // The postgres client blocks: off the async threads.
    let schema = match o.database.clone() {
        Some(url) => Some(
            tokio::task::spawn_blocking(move || {
                crate::store::postgres::ScratchSchema::create(&url, "credence_bench")
            })
            .await?
            .context("a schema for the run")?,
        ),
        None => None,
    };
    config.database = schema
        .as_ref()
        .map(|s| crate::config::DatabaseUrl(s.url().to_owned()));
    let config_path = scratch.join("bench.toml");
    super::files::write_private(&config_path, toml::to_string(&config)?.as_bytes())?;
    let spec = ServerSpec {
        config: config_path,
        log: scratch.join("server.log"),
        url: url.clone(),
    };
    let (process, _) = spec.start().await?;
    let channel = tonic::transport::Endpoint::from_shared(url.clone())?
        .connect()
        .await?;
    let datanet = pb::datanet_client::DatanetClient::new(channel.clone());

    let bar = super::progress::spinner("registering".into());
    let mut blocks = Vec::new();
    let started = Instant::now();
    let mut registered = 0u64;
    while registered < o.contributions {
        let size = BLOCK.min(o.contributions - registered);
        let block_start = Instant::now();
        let next = Arc::new(std::sync::atomic::AtomicU64::new(registered));
        let end = registered + size;
        let mut tasks = Vec::new();
        for _ in 0..o.clients {
            let mut client = datanet.clone();
            let next = next.clone();
            let batch = o.batch as u64;
            tasks.push(tokio::spawn(async move {
                loop {
                    let from = next.fetch_add(batch, std::sync::atomic::Ordering::Relaxed);
                    if from >= end {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let to = (from + batch).min(end);
                    if batch == 1 {
                        client.register(pair(from)).await?;
                    } else {
                        let answers = client
                            .register_batch(pb::RegisterBatchRequest {
                                registrations: (from..to).map(pair).collect(),
                            })
                            .await?
                            .into_inner()
                            .registrations;
                        if answers.len() as u64 != to - from {
                            bail!("{} answers for {} registrations", answers.len(), to - from);
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await??;
        }
        let seconds = block_start.elapsed().as_secs_f64();
        blocks.push(BlockReport {
            registered_before: registered,
            registrations: size,
            per_second: size as f64 / seconds,
        });
        registered = end;
        bar.set_message(format!(
            "registered {registered} of {} ({:.0}/s in the last block)",
            o.contributions,
            size as f64 / seconds
        ));
    }
    let per_second = registered as f64 / started.elapsed().as_secs_f64();

    bar.set_message(format!("publishing a snapshot of {registered} leaves"));
    let publish_started = Instant::now();
    // In parts under the server's default message limit, as `credence snapshot publish` sends
    // them.
    let weights = (0..registered)
        .map(|leaf_index| pb::LeafWeight {
            leaf_index,
            weight: 1 + leaf_index % 97,
        })
        .collect();
    datanet
        .clone()
        .publish_snapshot_stream(tokio_stream::iter(super::snapshot::snapshot_parts(
            1, depth, 1_000_000, weights,
        )))
        .await
        .context("PublishSnapshotStream")?;
    let publish_s = publish_started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let checkpoint = pb::audit_log_client::AuditLogClient::new(channel)
        .get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 })
        .await
        .context("GetCheckpoint")?
        .into_inner();
    let server_peak_rss_mib = process.peak_rss_mib();
    process
        .terminate(std::time::Duration::from_secs(60))
        .await
        .context("stopping the server")?;

    // GetLeaves on a restarted server, which holds no tree in memory: the paths come from the
    // stored nodes, not from rebuilding the snapshot's tree.
    let (process, _) = spec.start().await?;
    let channel = tonic::transport::Endpoint::from_shared(url.clone())?
        .connect()
        .await?;
    let asked = Instant::now();
    let leaves = pb::datanet_client::DatanetClient::new(channel)
        .get_leaves(pb::GetLeavesRequest {
            epoch: 1,
            contributor_id: pair(0).contributor_id,
        })
        .await
        .context("GetLeaves")?
        .into_inner()
        .leaves;
    let get_leaves_ms = asked.elapsed().as_secs_f64() * 1e3;
    process
        .terminate(std::time::Duration::from_secs(60))
        .await
        .context("stopping the server")?;
    let log_checkpoints = match schema {
        Some(schema) => {
            tokio::task::spawn_blocking(move || -> Result<u64> {
                let n: i64 = crate::store::PgStore::log_connection(schema.url())?
                    .query_one("SELECT COUNT(*) FROM log_checkpoints", &[])?
                    .get(0);
                Ok(n as u64)
            })
            .await??
        }
        None => count_checkpoints(&config.data_dir)?,
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let rate = |b: Option<&BlockReport>| b.map_or(f64::NAN, |b| b.per_second);
    Ok(DatanetReport {
        backend: if o.database.is_some() {
            "postgresql"
        } else {
            "sqlite"
        }
        .into(),
        clients: o.clients,
        batch: o.batch,
        last_over_first: rate(blocks.last()) / rate(blocks.first()),
        blocks,
        per_second,
        snapshot_leaves: registered,
        publish_s,
        log_entries: checkpoint.tree_size,
        log_checkpoints,
        server_peak_rss_mib,
        get_leaves: leaves.len(),
        get_leaves_ms,
    })
}

/// Signed checkpoints the log holds (read after the server stopped).
fn count_checkpoints(data_dir: &std::path::Path) -> Result<u64> {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join(crate::log::LOG_DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    Ok(
        conn.query_row("SELECT COUNT(*) FROM log_checkpoints", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

/// The report as a table.
pub fn table(r: &DatanetReport) -> String {
    let mut out = format!(
        "datanet on {} over gRPC (loopback), {} clients, {} registration(s) per call\n\n\
         {:>12} {:>10} {:>14}\n",
        r.backend, r.clients, r.batch, "registered", "block", "registrations/s"
    );
    for b in &r.blocks {
        out += &format!(
            "{:>12} {:>10} {:>14.0}\n",
            b.registered_before, b.registrations, b.per_second
        );
    }
    out += &format!(
        "\nall: {:.0} registrations/s; last block / first block: {:.2}\n\
         log: {} entries under {} signed checkpoints ({:.1} entries per checkpoint)\n\
         PublishSnapshot of {} leaves: {:.2} s; server peak memory: {}\n\
         GetLeaves after a restart: {} leaves with their paths in {:.1} ms\n",
        r.per_second,
        r.last_over_first,
        r.log_entries,
        r.log_checkpoints,
        r.log_entries as f64 / r.log_checkpoints.max(1) as f64,
        r.snapshot_leaves,
        r.publish_s,
        r.server_peak_rss_mib
            .map_or_else(|| "not measured".into(), |m| format!("{m:.0} MiB")),
        r.get_leaves,
        r.get_leaves_ms,
    );
    out
}
