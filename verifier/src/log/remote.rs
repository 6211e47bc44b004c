//! The auditor's gRPC client of `credence.v1.AuditLog` (feature `grpc`): fetches the latest
//! checkpoint, a consistency proof from the previous run's state, the checkpoint the log signed
//! at that older size, and every entry as a server stream, and runs the same [`audit`] as an
//! export does.
//!
//! A real deployment sits behind TLS (possibly mutual) and bearer tokens, so the connection is
//! configured by [`ClientOptions`]: the CA that signed the server's certificate, a client
//! certificate and key, and the token, which is sent as `authorization: Bearer <token>` in a
//! header value marked sensitive (never logged by the HTTP/2 stack). An `https://` address turns
//! TLS on; with no CA given, no certificate is trusted (there is no system root store here: an
//! auditor names the CA it trusts), so the connection fails with an unknown issuer, which
//! [`RemoteError::diagnosis`] recognizes so the caller can say what to pass.
//!
//! Invariant: nothing the server sends is trusted. Checkpoints are verified against the key the
//! auditor configured (the server's `GetLogKey` answer is never used for that), the root is
//! recomputed from the streamed bytes, and a stream that skips, repeats or stops early is a
//! problem with the entry index where it happened, never a shorter log that passes.

use std::fmt;

use credence_proto::v1 as pb;
use credence_proto::v1::audit_log_client::AuditLogClient;
use thiserror::Error;

use crate::client::{self, AuthChannel, ConnectError, status_text};
pub use crate::client::{ClientOptions, Diagnosis, OptionsError};

use super::audit::{AuditInput, AuditProblem, AuditReport, TreeState, audit};
use super::entry::LogEntry;
use super::merkle::Hash;
use super::note::{LogVerifier, SignedCheckpoint};

type Client = AuditLogClient<AuthChannel>;

/// Why an audit over gRPC could not run (the log itself was not judged).
#[derive(Debug, Error)]
pub enum RemoteError {
    /// No runtime could be started.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    /// No connection could be made.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// An RPC failed.
    #[error("{rpc}: {}", status_text(status))]
    Rpc {
        /// Which call.
        rpc: &'static str,
        /// Whether the address was `https://`.
        https: bool,
        /// The status.
        status: Box<tonic::Status>,
    },
}

impl RemoteError {
    /// The likely cause, when the error's text shows one.
    pub fn diagnosis(&self) -> Option<Diagnosis> {
        match self {
            RemoteError::Connect(c) => c.diagnosis(),
            RemoteError::Rpc { status, https, .. } => client::diagnose_status(status, *https),
            RemoteError::Runtime(_) => None,
        }
    }
}

/// Connects as `options` say; also says whether the connection is TLS.
async fn connect(addr: &str, options: &ClientOptions) -> Result<(Client, bool), RemoteError> {
    let (channel, https) = client::connect(addr, options).await?;
    Ok((AuditLogClient::new(channel), https))
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

fn rpc(name: &'static str, https: bool) -> impl FnOnce(tonic::Status) -> RemoteError {
    move |status| RemoteError::Rpc {
        rpc: name,
        https,
        status: Box::new(status),
    }
}

/// Audits the log served at `addr` (`http://host:port`), with no TLS options and no token.
/// Blocking: see [`audit_server_with`].
pub fn audit_server<F>(
    addr: &str,
    verifier: &LogVerifier,
    previous: Option<TreeState>,
    hook: F,
) -> Result<AuditReport, RemoteError>
where
    F: FnMut(u64, &LogEntry, &[u8]) -> Result<(), String>,
{
    audit_server_with(addr, &ClientOptions::default(), verifier, previous, hook)
}

/// Audits the log served at `addr` (`http://host:port`, or `https://host:port` for TLS),
/// connecting as `options` say. Blocking: it runs its own single-threaded runtime, so call it
/// from a thread that is not inside an async runtime.
pub fn audit_server_with<F>(
    addr: &str,
    options: &ClientOptions,
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
    let (mut client, https) = rt.block_on(connect(addr, options))?;
    let checkpoint = rt
        .block_on(client.get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 }))
        .map_err(rpc("GetCheckpoint", https))?
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
            Err(s) => return Err(rpc("GetCheckpoint", https)(s)),
        }
        let proof = rt
            .block_on(
                client.get_consistency_proof(pb::GetConsistencyProofRequest {
                    old_size: prev.size,
                    new_size: size,
                }),
            )
            .map_err(rpc("GetConsistencyProof", https))?
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
        .map_err(rpc("GetEntries", https))?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_call_names_the_call_and_its_cause_once() {
        let e = RemoteError::Rpc {
            rpc: "GetCheckpoint",
            https: false,
            status: Box::new(tonic::Status::from_error(Box::new(std::io::Error::other(
                "connection error: stream closed because of a broken pipe",
            )))),
        };
        assert_eq!(
            e.to_string(),
            "GetCheckpoint: Unknown: connection error: stream closed because of a broken pipe"
        );
        assert_eq!(e.diagnosis(), Some(Diagnosis::PlaintextToTls));
    }
}
