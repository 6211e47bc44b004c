//! `credence snapshot publish|show|export`: an epoch's snapshot, and the files that leave the
//! operator with it.
//!
//! - `snapshot.json` (public): what settlement verifiers check bundles against
//!   (`credence-verify proof --snapshot`, `settle --snapshot`). `show --out` writes it from any
//!   server; `export` from the operator's own data directory.
//! - `leaves.json` (the operator's leaf table, for auditors: `credence-verify audit --leaves`):
//!   which leaf holds whose commitment with what weight. Only the operator can write it, since
//!   the snapshot and the log hide exactly that; it is written mode 0600.
//!
//! Invariant: `export` writes nothing unless the stored leaves give the stored root and total
//! weight, recomputed with the verifier crate's own Merkle-sum code (`light-poseidon`,
//! independent of the circuits crate), so an auditor is never handed a table that the
//! operator's database contradicts. Both files are written by temp file, fsync, rename.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_from_decimal;
use credence_verifier::leaves::{Leaf, LeafTable, snapshot_root};
use credence_verifier::settlement::Snapshot;

use super::client::{ServerArg, channel, refused};
use super::files;
use crate::store::{SqliteStore, Store};

/// `credence snapshot`.
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Publish an epoch's snapshot (operator).
    Publish {
        /// Server.
        #[command(flatten)]
        server: ServerArg,
        /// The epoch.
        #[arg(long)]
        epoch: u64,
        /// Revenue to distribute.
        #[arg(long)]
        revenue: u64,
        /// Tree depth (default: the server's).
        #[arg(long, default_value_t = 0)]
        depth: u32,
        /// Leaf weights, `LEAF=WEIGHT` (repeatable).
        #[arg(long = "weight", value_parser = parse_weight)]
        weights: Vec<(u64, u64)>,
        /// More leaf weights from a file: one `LEAF,WEIGHT` (or `LEAF=WEIGHT`) per line;
        /// blank lines and lines starting with `#` are skipped. For a snapshot of any size:
        /// the weights are sent in parts under the message limit (PublishSnapshotStream).
        #[arg(long, value_name = "FILE")]
        weights_file: Option<PathBuf>,
    },
    /// Show a snapshot (default: the latest), and optionally write it as `snapshot.json`.
    Show {
        /// Server.
        #[command(flatten)]
        server: ServerArg,
        /// The epoch.
        #[arg(long)]
        epoch: Option<u64>,
        /// Also write the snapshot here, in the format `credence-verify --snapshot` reads.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a published snapshot and the operator's leaf table from the server's data
    /// directory (read-only; safe while the server runs).
    Export {
        /// The operator server's data directory (holding `credence.db`).
        #[arg(long, default_value = "credence-data")]
        data_dir: PathBuf,
        /// The replicas' PostgreSQL database instead (`postgres://…`; also read from
        /// `CREDENCE_DATABASE`).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// The epoch (default: the latest published).
        #[arg(long)]
        epoch: Option<u64>,
        /// Write the public snapshot here (`snapshot.json`).
        #[arg(long, required_unless_present = "leaves")]
        snapshot: Option<PathBuf>,
        /// Write the leaf table here (`leaves.json`, mode 0600: it shows whose each leaf is).
        #[arg(long)]
        leaves: Option<PathBuf>,
    },
}

/// Weights per part of a PublishSnapshotStream: about 1 MB, a quarter of the default limit.
pub const WEIGHTS_PER_PART: usize = 65_536;

/// A snapshot's weights as the parts of a PublishSnapshotStream (at least one part).
pub fn snapshot_parts(
    epoch: u64,
    depth: u32,
    revenue: u64,
    weights: Vec<pb::LeafWeight>,
) -> Vec<pb::PublishSnapshotRequest> {
    let leaf_count = weights.len() as u64;
    let part = |weights: Vec<pb::LeafWeight>| pb::PublishSnapshotRequest {
        epoch,
        depth,
        revenue,
        weights,
        leaf_count,
    };
    if weights.is_empty() {
        return vec![part(Vec::new())];
    }
    weights
        .chunks(WEIGHTS_PER_PART)
        .map(|c| part(c.to_vec()))
        .collect()
}

/// Reads a weights file ([`parse_weights`]).
fn read_weights_file(path: &Path) -> Result<Vec<(u64, u64)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    parse_weights(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))
}

/// A weights file's text: `LEAF,WEIGHT` or `LEAF=WEIGHT` per line, blank lines and `#`
/// comments skipped. An error starts with the line number.
pub fn parse_weights(text: &str) -> Result<Vec<(u64, u64)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let pair = line.replacen(',', "=", 1);
        out.push(
            parse_weight(&pair).map_err(|e| format!("{}: {e} (expected LEAF,WEIGHT)", n + 1))?,
        );
    }
    Ok(out)
}

fn parse_weight(s: &str) -> Result<(u64, u64), String> {
    let (l, w) = s.split_once('=').ok_or("expected LEAF=WEIGHT")?;
    Ok((
        l.trim().parse().map_err(|_| "LEAF is not a number")?,
        w.trim().parse().map_err(|_| "WEIGHT is not a number")?,
    ))
}

fn print_snapshot(s: &pb::Snapshot) {
    println!("epoch        {}", s.epoch);
    println!("depth        {}", s.depth);
    println!("root         {}", s.root);
    println!("total_weight {}", s.total_weight);
    println!("revenue      {}", s.revenue);
    println!("leaves       {}", s.leaf_count);
}

/// A snapshot as a server sent it, checked as the verifier crate checks `snapshot.json`.
pub fn from_pb(s: &pb::Snapshot) -> Result<Snapshot> {
    Ok(Snapshot::new(
        s.epoch,
        s.depth,
        fr_from_decimal("root", &s.root)?,
        s.total_weight,
        s.revenue,
    )?)
}

/// Reads a published snapshot (`epoch`, or the latest) and its leaf table from an operator's
/// data directory, and checks that the leaves give the snapshot's root and total.
pub fn read_published(data_dir: &Path, epoch: Option<u64>) -> Result<(Snapshot, LeafTable)> {
    let store = SqliteStore::open_read_only(data_dir)?;
    read_published_from(&store, &data_dir.display().to_string(), epoch)
}

/// [`read_published`] from a store, named `place` in messages.
pub fn read_published_from(
    store: &dyn Store,
    place: &str,
    epoch: Option<u64>,
) -> Result<(Snapshot, LeafTable)> {
    let Some(record) = store.snapshot(epoch)? else {
        match epoch {
            Some(e) => bail!("no snapshot of epoch {e} in {place}"),
            None => bail!("no snapshot has been published in {place}"),
        }
    };
    let leaves: Vec<Leaf> = store
        .snapshot_leaves(record.epoch)?
        .into_iter()
        .map(|l| Leaf {
            index: l.leaf_index,
            contributor_id: l.contributor_id,
            commitment: l.commitment,
            weight: l.weight,
        })
        .collect();
    let table = LeafTable::new(record.epoch, record.depth, &leaves);
    let (root, total) = snapshot_root(&table.decode()?)?;
    if root != record.root || total != record.total_weight {
        bail!(
            "the stored leaves of epoch {} do not give its stored root and total weight: the \
             database in {} is damaged; nothing was written",
            record.epoch,
            place
        );
    }
    let snapshot = Snapshot::new(
        record.epoch,
        record.depth,
        record.root,
        record.total_weight,
        record.revenue,
    )?;
    Ok((snapshot, table))
}

/// Writes `snapshot.json` (public, mode 0644).
pub fn write_snapshot(path: &Path, snapshot: &Snapshot) -> Result<()> {
    credence_verifier::durable::write_atomic(path, snapshot.to_json().as_bytes(), 0o644)
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes the leaf table (mode 0600).
pub fn write_leaves(path: &Path, table: &LeafTable) -> Result<()> {
    files::write_private(path, table.to_json()?.as_bytes())
}

pub(super) async fn run(c: SnapshotCommand) -> Result<()> {
    match c {
        SnapshotCommand::Publish {
            server,
            epoch,
            revenue,
            depth,
            mut weights,
            weights_file,
        } => {
            if let Some(file) = &weights_file {
                weights.extend(read_weights_file(file)?);
            }
            let weights: Vec<pb::LeafWeight> = weights
                .into_iter()
                .map(|(leaf_index, weight)| pb::LeafWeight { leaf_index, weight })
                .collect();
            let mut client = pb::datanet_client::DatanetClient::new(channel(&server).await?);
            let s = client
                .publish_snapshot_stream(tokio_stream::iter(snapshot_parts(
                    epoch, depth, revenue, weights,
                )))
                .await
                .map_err(refused(&server.remote(), "PublishSnapshotStream"))?
                .into_inner();
            print_snapshot(&s);
        }
        SnapshotCommand::Show { server, epoch, out } => {
            let mut client = pb::datanet_client::DatanetClient::new(channel(&server).await?);
            let s = client
                .get_snapshot(pb::GetSnapshotRequest { epoch })
                .await
                .map_err(refused(&server.remote(), "GetSnapshot"))?
                .into_inner();
            print_snapshot(&s);
            if let Some(out) = out {
                let snapshot = from_pb(&s).context("the server's snapshot")?;
                write_snapshot(&out, &snapshot)?;
                eprintln!("credence: wrote {}", out.display());
            }
        }
        SnapshotCommand::Export {
            data_dir,
            database,
            epoch,
            snapshot,
            leaves,
        } => {
            let dir = data_dir.clone();
            let url = super::serve::database_url(database);
            let (s, table) = tokio::task::spawn_blocking(move || match url {
                Some(url) => read_published_from(
                    &crate::store::PgStore::open(&url, 1)?,
                    &crate::store::postgres::redacted(&url),
                    epoch,
                ),
                None => read_published(&dir, epoch),
            })
            .await??;
            if let Some(path) = &snapshot {
                write_snapshot(path, &s)?;
                eprintln!(
                    "credence: wrote the snapshot of epoch {} to {}",
                    s.epoch,
                    path.display()
                );
            }
            if let Some(path) = &leaves {
                write_leaves(path, &table)?;
                eprintln!(
                    "credence: wrote the leaf table of epoch {} ({} leaves, root and total \
                     checked) to {}",
                    s.epoch,
                    table.leaves.len(),
                    path.display()
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weights_file_reads_both_spellings_and_names_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights.csv");
        std::fs::write(&path, "# leaf,weight\n0,30\n\n1 = 70\n 2, 5 \n").unwrap();
        assert_eq!(
            read_weights_file(&path).unwrap(),
            vec![(0, 30), (1, 70), (2, 5)]
        );
        std::fs::write(&path, "0,30\n1;70\n").unwrap();
        let err = read_weights_file(&path).unwrap_err().to_string();
        assert!(err.contains("weights.csv:2"), "{err}");
    }

    #[test]
    fn parts_carry_every_weight_once_and_the_count_in_each() {
        let weights: Vec<pb::LeafWeight> = (0..WEIGHTS_PER_PART as u64 * 2 + 5)
            .map(|leaf_index| pb::LeafWeight {
                leaf_index,
                weight: 1,
            })
            .collect();
        let parts = snapshot_parts(3, 20, 9, weights.clone());
        assert_eq!(parts.len(), 3);
        assert!(
            parts.iter().all(|p| p.leaf_count == weights.len() as u64
                && (p.epoch, p.depth, p.revenue) == (3, 20, 9))
        );
        let joined: Vec<_> = parts.into_iter().flat_map(|p| p.weights).collect();
        assert_eq!(joined, weights);
        assert_eq!(snapshot_parts(3, 20, 9, Vec::new()).len(), 1);
    }
}
