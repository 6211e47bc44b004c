//! The auditor's gRPC client of `credence.v1.AuditLog` (feature `grpc`): fetches the latest
//! checkpoint, a consistency proof from the previous run's state, the checkpoint the log signed
//! at that older size, and every entry as a server stream, and runs the same [`audit`] as an
//! export does.
//!
//! Invariant: nothing the server sends is trusted. Checkpoints are verified against the key the
//! auditor configured (the server's `GetLogKey` answer is never used for that), the root is
//! recomputed from the streamed bytes, and a stream that skips, repeats or stops early is a
//! problem with the entry index where it happened, never a shorter log that passes.

use std::fmt;

use credence_proto::v1 as pb;
use credence_proto::v1::audit_log_client::AuditLogClient;
use thiserror::Error;

use super::audit::{AuditInput, AuditProblem, AuditReport, TreeState, audit};
use super::entry::LogEntry;
use super::merkle::Hash;
use super::note::{LogVerifier, SignedCheckpoint};

/// Why an audit over gRPC could not run (the log itself was not judged).
#[derive(Debug, Error)]
pub enum RemoteError {
    /// No runtime could be started.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    /// The address is invalid or the server unreachable.
    #[error("connect: {0}")]
    Connect(tonic::transport::Error),
    /// An RPC failed.
    #[error("{rpc}: {status}")]
    Rpc {
        /// Which call.
        rpc: &'static str,
        /// The status.
        status: Box<tonic::Status>,
    },
}

/// A misbehaving stream, reported as the audit's problem.
struct StreamFault {
    index: u64,
    what: String,
}

impl fmt::Display for StreamFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server's entry stream {}", self.what)
    }
}

fn rpc(name: &'static str) -> impl FnOnce(tonic::Status) -> RemoteError {
    move |status| RemoteError::Rpc {
        rpc: name,
        status: Box::new(status),
    }
}

/// Audits the log served at `addr` (`http://host:port`). Blocking: it runs its own
/// single-threaded runtime, so call it from a thread that is not inside an async runtime.
pub fn audit_server<F>(
    addr: &str,
    verifier: &LogVerifier,
    previous: Option<TreeState>,
    mut hook: F,
) -> Result<AuditReport, RemoteError>
where
    F: FnMut(u64, &LogEntry, &[u8]) -> Result<(), String>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RemoteError::Runtime)?;
    let mut client = rt
        .block_on(AuditLogClient::connect(addr.to_owned()))
        .map_err(RemoteError::Connect)?;
    let checkpoint = rt
        .block_on(client.get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 }))
        .map_err(rpc("GetCheckpoint"))?
        .into_inner()
        .note;
    // The size to fetch comes from the note; audit() verifies its signature before trusting it,
    // and a note that does not even parse fails there without any entry.
    let size = match SignedCheckpoint::parse(&checkpoint) {
        Ok(c) => c.checkpoint_unverified().size,
        Err(_) => {
            let input = AuditInput {
                checkpoint: &checkpoint,
                ..AuditInput::default()
            };
            return Ok(audit(verifier, input, std::iter::empty::<Vec<u8>>(), hook));
        }
    };

    // What the log says about the previous run's tree: its signed checkpoint at that size (a
    // split view shows up as two roots for one size) and the consistency proof from it.
    let mut history = Vec::new();
    let mut consistency = None;
    if let Some(prev) = previous.filter(|p| p.size > 0 && p.size <= size) {
        match rt.block_on(client.get_checkpoint(pb::GetCheckpointRequest {
            tree_size: prev.size,
        })) {
            Ok(r) => history.push(r.into_inner().note),
            // A log need not keep every checkpoint; the recomputed prefix is checked anyway.
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => return Err(rpc("GetCheckpoint")(s)),
        }
        let proof = rt
            .block_on(
                client.get_consistency_proof(pb::GetConsistencyProofRequest {
                    old_size: prev.size,
                    new_size: size,
                }),
            )
            .map_err(rpc("GetConsistencyProof"))?
            .into_inner();
        let hashes: Option<Vec<Hash>> = proof
            .hashes
            .iter()
            .map(|h| h.as_slice().try_into().ok())
            .collect();
        // Malformed hashes cannot prove anything: an empty proof fails the check for a fork.
        consistency = Some(hashes.unwrap_or_default());
    }

    let mut stream = rt
        .block_on(client.get_entries(pb::GetEntriesRequest {
            start: 0,
            end: size,
        }))
        .map_err(rpc("GetEntries"))?
        .into_inner();
    let mut fault: Option<StreamFault> = None;
    let mut expected = 0u64;
    let entries = std::iter::from_fn(|| {
        if fault.is_some() {
            return None;
        }
        match rt.block_on(stream.message()) {
            Ok(Some(e)) if e.index == expected => {
                expected += 1;
                Some(e.data)
            }
            Ok(Some(e)) => {
                fault = Some(StreamFault {
                    index: expected,
                    what: format!("sent index {} where {expected} was due", e.index),
                });
                None
            }
            Ok(None) => None,
            Err(status) => {
                fault = Some(StreamFault {
                    index: expected,
                    what: format!("failed: {status}"),
                });
                None
            }
        }
    });
    let input = AuditInput {
        checkpoint: &checkpoint,
        history: &history,
        previous,
        consistency_proof: consistency.as_deref(),
    };
    let mut report = audit(verifier, input, entries, &mut hook);
    // A stream that broke off looks like a short log to audit(); say what really happened.
    if let Some(f) = fault
        && matches!(report.problem, None | Some(AuditProblem::Missing { .. }))
    {
        report.problem = Some(AuditProblem::Rejected {
            index: f.index,
            reason: f.to_string(),
        });
    }
    Ok(report)
}
