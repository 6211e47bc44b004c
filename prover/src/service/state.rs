//! The state every service shares, and the cache of snapshot trees.
//!
//! Invariant: [`State`] is built once by [`App::open`](crate::server::App::open) from a validated
//! configuration and never changes afterwards, except for the jobs' own bookkeeping and the
//! tree cache (immutable snapshots, so a cached tree never goes stale).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use credence_circuits::{MerkleSumTree, Shape, commitment};
use credence_verifier::KeyRing;
use tokio::sync::watch;

use crate::access::AccessPolicy;
use crate::config::Config;
use crate::error::ServiceError;
use crate::jobs::Jobs;
use crate::keys::ShapeKeys;
use crate::log::hook::AuditSink;
use crate::store::{SnapshotLeaf, Store};

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
