//! `credence.v1.AuditLog`: the compliance log, read-only, for auditors.
//!
//! Serves the latest (or a past) signed checkpoint, entries by range as a server stream, inclusion
//! and consistency proofs, and the log key, straight from the [`LogStore`].
//!
//! Invariant: nothing here writes; every RPC asks the access policy ([`Action::ReadLog`]) once,
//! before reading; store calls run on the blocking pool; a range outside the log is OUT_OF_RANGE.

use std::sync::Arc;

use credence_proto::v1 as pb;
use credence_verifier::log::SignedCheckpoint;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::access::{Action, Caller};
use crate::blocking::blocking;
use crate::error::ServiceError;
use crate::log::{LogStore, StoreError};
use crate::service::state::State;

/// Entries per database read while streaming.
const PAGE: u64 = 256;

/// The AuditLog service.
#[derive(Clone, Debug)]
pub struct AuditLogService {
    state: Arc<State>,
    log: Arc<LogStore>,
}

impl AuditLogService {
    /// A service over the shared state's access policy and `log`.
    pub fn new(state: Arc<State>, log: Arc<LogStore>) -> Self {
        AuditLogService { state, log }
    }

    fn authorize<T>(&self, request: &Request<T>) -> Result<(), ServiceError> {
        let caller = Caller::of(request);
        self.state.access.authorize(&caller, &Action::ReadLog)
    }
}

/// Runs a store read on the blocking pool.
async fn read<T, F>(log: &Arc<LogStore>, f: F) -> Result<T, ServiceError>
where
    T: Send + 'static,
    F: FnOnce(&LogStore) -> Result<T, StoreError> + Send + 'static,
{
    let log = log.clone();
    blocking(move || Ok(f(&log)?)).await
}

fn checkpoint_size(note: &str) -> u64 {
    // Only notes the store signed are served, so they parse; the auditor verifies them anyway.
    SignedCheckpoint::parse(note).map_or(0, |c| c.checkpoint_unverified().size)
}

#[tonic::async_trait]
impl pb::audit_log_server::AuditLog for AuditLogService {
    async fn get_checkpoint(
        &self,
        request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::LogCheckpoint>, Status> {
        self.authorize(&request)?;
        let size = request.into_inner().tree_size;
        let log = self.log.clone();
        let note = blocking(move || {
            if size == 0 {
                return log.checkpoint().map(Some).map_err(ServiceError::from);
            }
            // A size the log has not reached is the caller's mistake, not a database problem.
            let current = log.size()?;
            if size > current {
                return Err(ServiceError::OutOfRange(format!(
                    "tree_size {size} is beyond the log's {current} entries"
                )));
            }
            Ok(log.checkpoint_at(size)?)
        })
        .await?
        .ok_or_else(|| {
            ServiceError::NotFound(format!("the log signed no checkpoint at size {size}"))
        })?;
        Ok(Response::new(pb::LogCheckpoint {
            tree_size: checkpoint_size(&note),
            note,
        }))
    }

    type GetEntriesStream = ReceiverStream<Result<pb::LogEntryBytes, Status>>;

    async fn get_entries(
        &self,
        request: Request<pb::GetEntriesRequest>,
    ) -> Result<Response<Self::GetEntriesStream>, Status> {
        self.authorize(&request)?;
        let pb::GetEntriesRequest { start, end } = request.into_inner();
        // Check the whole range up front so the client gets OUT_OF_RANGE, not a short stream.
        let size = read(&self.log, |log| log.size()).await?;
        if start > end || end > size {
            return Err(ServiceError::OutOfRange(format!(
                "entries {start}..{end} are outside a log of {size} entries"
            ))
            .into());
        }
        let (tx, rx) = mpsc::channel(PAGE as usize);
        let log = self.log.clone();
        tokio::spawn(async move {
            let mut next = start;
            while next < end {
                let page_end = end.min(next + PAGE);
                match read(&log, move |l| l.entries(next..page_end)).await {
                    Ok(page) => {
                        for (index, data) in (next..).zip(page) {
                            if tx
                                .send(Ok(pb::LogEntryBytes { index, data }))
                                .await
                                .is_err()
                            {
                                return; // The client went away.
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                }
                next = page_end;
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        self.authorize(&request)?;
        let pb::GetInclusionProofRequest { index, tree_size } = request.into_inner();
        let hashes = read(&self.log, move |log| log.inclusion_proof(index, tree_size)).await?;
        Ok(Response::new(pb::InclusionProof {
            index,
            tree_size,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        self.authorize(&request)?;
        let pb::GetConsistencyProofRequest { old_size, new_size } = request.into_inner();
        let hashes = read(&self.log, move |log| {
            log.consistency_proof(old_size, new_size)
        })
        .await?;
        Ok(Response::new(pb::ConsistencyProof {
            old_size,
            new_size,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn get_log_key(
        &self,
        request: Request<pb::GetLogKeyRequest>,
    ) -> Result<Response<pb::LogKey>, Status> {
        self.authorize(&request)?;
        Ok(Response::new(pb::LogKey {
            key: self.log.verifier().to_string(),
        }))
    }
}
