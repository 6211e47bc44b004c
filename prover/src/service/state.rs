//! The state every service shares, and the cache of snapshot trees.
//!
//! Invariant: [`State`] is built once by [`App::open`](crate::server::App::open) from a validated
//! configuration and never changes afterwards, except for the jobs' own bookkeeping and the
//! tree cache (immutable snapshots, so a cached tree never goes stale).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use credence_circuits::merkle_sum::{MerkleSumPath, empty_subtrees};
use credence_circuits::{MerkleSumTree, Shape, commitment};
use credence_verifier::KeyRing;
use tokio::sync::watch;

use crate::access::AccessPolicy;
use crate::config::Config;
use crate::error::ServiceError;
use crate::jobs::Jobs;
use crate::keys::ShapeKeys;
use crate::log::hook::AuditSink;
use crate::store::{STORED_FROM_LEVEL, SnapshotLeaf, SnapshotRecord, Store, StoredNode};

/// Everything the services share.
pub struct State {
    /// The validated configuration.
    pub config: Config,
    /// Loaded keys, by shape (sorted by depth, then slots).
    pub keys: BTreeMap<Shape, ShapeKeys>,
    /// The verifying keys as the verifier crate's trusted ring.
    pub ring: KeyRing,
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Access control hook.
    pub access: Arc<dyn AccessPolicy>,
    /// Compliance log hook.
    pub audit: Arc<dyn AuditSink>,
    /// Proving jobs: the live ones, admission, the proving semaphore.
    pub jobs: Arc<Jobs>,
    /// Key of the request fingerprints (see [`crate::jobs::request_fingerprint`]).
    pub idempotency_key: [u8; 32],
    /// Trees of recent snapshots, so paths are not rebuilt per request.
    pub trees: TreeCache,
    /// Becomes `true` when a shutdown begins: no new submission, no new proof.
    pub draining: watch::Receiver<bool>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("shapes", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The trees of recently used snapshots. Snapshots are immutable, so a cached tree never goes
/// stale.
#[derive(Debug, Default)]
pub struct TreeCache {
    trees: Mutex<HashMap<u64, Arc<MerkleSumTree>>>,
}

/// How many snapshot trees are kept (a depth-20 tree of 10^4 leaves is ~200k nodes).
const CACHED_TREES: usize = 4;

impl TreeCache {
    /// The tree of a snapshot built from its leaves (blocking: hashes every node).
    pub fn get_or_build(
        &self,
        epoch: u64,
        depth: u32,
        leaves: impl FnOnce() -> Result<Vec<SnapshotLeaf>, ServiceError>,
    ) -> Result<Arc<MerkleSumTree>, ServiceError> {
        if let Some(t) = self.lock().get(&epoch) {
            return Ok(t.clone());
        }
        let tree = Arc::new(build_tree(depth, &leaves()?)?);
        self.insert(epoch, tree.clone());
        Ok(tree)
    }

    /// Caches a tree.
    pub fn insert(&self, epoch: u64, tree: Arc<MerkleSumTree>) {
        let mut map = self.lock();
        if map.len() >= CACHED_TREES
            && let Some(&old) = map.keys().next()
        {
            map.remove(&old);
        }
        map.insert(epoch, tree);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<MerkleSumTree>>> {
        self.trees.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The Merkle-sum tree of weighted leaves.
pub fn build_tree(depth: u32, leaves: &[SnapshotLeaf]) -> Result<MerkleSumTree, ServiceError> {
    use rayon::prelude::*;
    // Leaf hashes on every core: one Poseidon hash per leaf, a million at 2^20 leaves.
    let hashed: Vec<(u64, _)> = leaves
        .par_iter()
        .map(|l| {
            (
                l.leaf_index,
                commitment::leaf(&l.contributor_id, &l.commitment, l.weight),
            )
        })
        .collect();
    MerkleSumTree::from_leaves(depth, hashed).map_err(|e| ServiceError::invalid("weights", e))
}

/// The Merkle-sum path of `leaf_index` in a published snapshot: read from its stored nodes
/// ([`stored_path`]), or, for a snapshot stored without them (an earlier version's), from its
/// whole tree, built once into the cache. GetLeaves and SubmitClaim both take paths here.
pub fn snapshot_path(
    state: &State,
    snapshot: &SnapshotRecord,
    leaf_index: u64,
) -> Result<MerkleSumPath, ServiceError> {
    if let Some(path) = stored_path(state.store.as_ref(), snapshot, leaf_index)? {
        return Ok(path);
    }
    let tree = state
        .trees
        .get_or_build(snapshot.epoch, snapshot.depth, || {
            Ok(state.store.snapshot_leaves(snapshot.epoch)?)
        })?;
    tree.path(leaf_index)
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The nodes of `tree` a snapshot stores: every non-empty node from level
/// [`STORED_FROM_LEVEL`] up to the root.
pub fn stored_nodes(tree: &MerkleSumTree) -> Vec<StoredNode> {
    (STORED_FROM_LEVEL..=tree.depth())
        .flat_map(|level| {
            tree.level(level)
                .map(move |(index, node)| StoredNode { level, index, node })
        })
        .collect()
}

/// The Merkle-sum path of `leaf_index` in a published snapshot, read without the whole tree:
/// the siblings below [`STORED_FROM_LEVEL`] from the tree of the leaf's block (at most
/// `2^STORED_FROM_LEVEL` leaves, hashed here), those above from the stored nodes. `None` for a
/// snapshot stored without its nodes (then only the whole tree gives paths).
pub fn stored_path(
    store: &dyn Store,
    snapshot: &SnapshotRecord,
    leaf_index: u64,
) -> Result<Option<MerkleSumPath>, ServiceError> {
    let low = STORED_FROM_LEVEL.min(snapshot.depth);
    let wanted: Vec<(u32, u64)> = (low..snapshot.depth)
        .map(|level| (level, (leaf_index >> level) ^ 1))
        .collect();
    let Some(upper) = store.snapshot_nodes(snapshot.epoch, &wanted)? else {
        return Ok(None);
    };
    let block = leaf_index >> low;
    let start = block << low;
    let block_leaves = store.snapshot_leaves_in(snapshot.epoch, start..start + (1u64 << low))?;
    let relative: Vec<SnapshotLeaf> = block_leaves
        .into_iter()
        .map(|l| SnapshotLeaf {
            leaf_index: l.leaf_index - start,
            ..l
        })
        .collect();
    let mut siblings = if low == 0 {
        Vec::new()
    } else {
        build_tree(low, &relative)?
            .path(leaf_index - start)
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .siblings
    };
    let empty = empty_subtrees(snapshot.depth);
    siblings.extend(
        wanted
            .iter()
            .zip(upper)
            .map(|(&(level, _), node)| node.unwrap_or(empty[level as usize])),
    );
    Ok(Some(MerkleSumPath { siblings }))
}

#[cfg(test)]
mod tests {
    use ark_bn254::Fr;
    use rand::RngExt as _;

    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn a_path_from_stored_nodes_is_the_whole_trees_path() {
        let mut rng = rand::rng();
        for depth in [4u32, 5, 9] {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open(dir.path()).unwrap();
            // Sparse random leaves: empty blocks and empty siblings on every level.
            let mut indices: Vec<u64> = (0..20)
                .map(|_| rng.random_range(0..1u64 << depth))
                .collect();
            indices.sort_unstable();
            indices.dedup();
            let leaves: Vec<SnapshotLeaf> = indices
                .iter()
                .map(|&leaf_index| SnapshotLeaf {
                    leaf_index,
                    contributor_id: Fr::from(rng.random::<u64>()),
                    commitment: Fr::from(rng.random::<u64>()),
                    weight: rng.random_range(1..1000),
                })
                .collect();
            let tree = build_tree(depth, &leaves).unwrap();
            let record = SnapshotRecord {
                epoch: 1,
                depth,
                root: tree.root().hash,
                total_weight: tree.root().sum,
                revenue: 10,
                leaf_count: leaves.len() as u64,
            };
            store
                .publish_snapshot("t", &record, &leaves, &stored_nodes(&tree))
                .unwrap();
            for l in &leaves {
                let stored = stored_path(&store, &record, l.leaf_index).unwrap().unwrap();
                assert_eq!(
                    stored,
                    tree.path(l.leaf_index).unwrap(),
                    "depth {depth}, leaf {}",
                    l.leaf_index
                );
            }
            // A snapshot stored without nodes has no stored path.
            let older = SnapshotRecord { epoch: 2, ..record };
            store.publish_snapshot("t", &older, &leaves, &[]).unwrap();
            assert!(
                stored_path(&store, &older, leaves[0].leaf_index)
                    .unwrap()
                    .is_none()
            );
        }
    }
}
