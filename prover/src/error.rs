//! The service's errors, and the one place they become gRPC statuses.
//!
//! Invariant: every handler returns `Result<_, ServiceError>`, and [`From<ServiceError> for
//! Status`](ServiceError) is the only conversion to [`tonic::Status`]. No message carries a
//! secret or witness value: argument errors name the *field* and the rule it broke, claim
//! errors name the *condition* (see [`credence_circuits::ClaimError`]), internal errors are
//! logged here and answered with a generic message.
//!
//! A tower layer in front of the services that answers a call itself (authentication, a
//! switched-off service) sends its status through [`status_response`], the one way a status
//! becomes a response outside tonic's handlers.

use std::future::Future;
use std::pin::Pin;

use credence_circuits::{ClaimError, ProveError};
use tonic::Status;

use crate::store::StorageError;

/// Why an RPC failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A request field is missing or not a valid encoding (INVALID_ARGUMENT).
    #[error("invalid `{field}`: {reason}")]
    InvalidArgument {
        /// The field's path in the request, e.g. `contributions[1].blinding`.
        field: String,
        /// The rule it broke (never its value).
        reason: String,
    },
    /// The claim is false: the witness check failed (FAILED_PRECONDITION).
    #[error("the claim does not hold: {0}")]
    FalseClaim(#[from] ClaimError),
    /// The request is valid but the system is not in a state to serve it (FAILED_PRECONDITION).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The named object does not exist (NOT_FOUND).
    #[error("{0}")]
    NotFound(String),
    /// The object exists with different content (ALREADY_EXISTS).
    #[error("{0}")]
    AlreadyExists(String),
    /// A capacity or quota is exhausted (RESOURCE_EXHAUSTED).
    #[error("{0}")]
    ResourceExhausted(String),
    /// The caller is not authenticated (UNAUTHENTICATED).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this (PERMISSION_DENIED).
    #[error("{0}")]
    PermissionDenied(String),
    /// The service is turned off or shutting down (UNAVAILABLE).
    #[error("{0}")]
    Unavailable(String),
    /// An index or size is outside what exists, e.g. of the compliance log (OUT_OF_RANGE).
    #[error("{0}")]
    OutOfRange(String),
    /// A proof could not be made (FAILED_PRECONDITION for a false claim, else INTERNAL).
    #[error(transparent)]
    Prove(#[from] ProveError),
    /// The compliance log failed (INTERNAL; detail logged, not returned).
    #[error("compliance log: {0}")]
    Log(String),
    /// The database failed (INTERNAL; detail logged, not returned).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Anything else that is the server's fault (INTERNAL; detail logged, not returned).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(e: tokio::task::JoinError) -> Self {
        ServiceError::Internal(format!("blocking task failed: {e}"))
    }
}

impl From<crate::log::StoreError> for ServiceError {
    fn from(e: crate::log::StoreError) -> Self {
        match e {
            // A range the caller asked for is outside the log: its fault, not the log's.
            crate::log::StoreError::Range(r) => ServiceError::OutOfRange(r.to_string()),
            other => ServiceError::Log(other.to_string()),
        }
    }
}

impl ServiceError {
    /// An INVALID_ARGUMENT error for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        ServiceError::InvalidArgument {
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Status {
        match &e {
            ServiceError::InvalidArgument { .. } => Status::invalid_argument(e.to_string()),
            ServiceError::FalseClaim(_)
            | ServiceError::FailedPrecondition(_)
            | ServiceError::Prove(ProveError::Claim(_)) => {
                Status::failed_precondition(e.to_string())
            }
            ServiceError::NotFound(_) => Status::not_found(e.to_string()),
            ServiceError::AlreadyExists(_) => Status::already_exists(e.to_string()),
            ServiceError::ResourceExhausted(_) => Status::resource_exhausted(e.to_string()),
            ServiceError::Unauthenticated(_) => Status::unauthenticated(e.to_string()),
            ServiceError::PermissionDenied(_) => Status::permission_denied(e.to_string()),
            ServiceError::Unavailable(_) => Status::unavailable(e.to_string()),
            ServiceError::OutOfRange(_) => Status::out_of_range(e.to_string()),
            ServiceError::Storage(_)
            | ServiceError::Internal(_)
            | ServiceError::Log(_)
            | ServiceError::Prove(_) => {
                // The detail may name files or SQL; it goes to the operator's log only.
                tracing::error!(error = %e, "internal error");
                Status::internal("internal error (see the server log)")
            }
        }
    }
}

/// The future of a tower layer in front of the services: its own answer
/// ([`status_response`]) or the inner service's, boxed.
pub type LayerFuture<R, E> = Pin<Box<dyn Future<Output = Result<http::Response<R>, E>> + Send>>;

/// A layer's own answer to a call it does not pass on: `status` as a trailers-only gRPC
/// response (HTTP 200, the status in its headers, an empty body). Nothing of the request is
/// read, so the caller gets the status whatever it sent.
pub fn status_response<R, E>(status: Status) -> LayerFuture<R, E>
where
    R: Default + Send + 'static,
    E: Send + 'static,
{
    Box::pin(std::future::ready(Ok(status.into_http())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[tokio::test]
    async fn a_layers_answer_is_trailers_only() {
        let response = status_response::<(), ()>(Status::unimplemented("off here"))
            .await
            .unwrap();
        assert_eq!(response.status(), http::StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "application/grpc");
        assert_eq!(
            headers["grpc-status"],
            (Code::Unimplemented as i32).to_string()
        );
        assert_eq!(headers["grpc-message"], "off%20here");
    }

    #[test]
    fn each_class_maps_to_its_code() {
        let cases = [
            (
                ServiceError::invalid("secret", "empty"),
                Code::InvalidArgument,
            ),
            (
                ServiceError::FalseClaim(ClaimError::PayoutMismatch),
                Code::FailedPrecondition,
            ),
            (ServiceError::NotFound("x".into()), Code::NotFound),
            (ServiceError::AlreadyExists("x".into()), Code::AlreadyExists),
            (
                ServiceError::ResourceExhausted("x".into()),
                Code::ResourceExhausted,
            ),
            (
                ServiceError::Unauthenticated("x".into()),
                Code::Unauthenticated,
            ),
            (
                ServiceError::PermissionDenied("x".into()),
                Code::PermissionDenied,
            ),
            (ServiceError::Unavailable("x".into()), Code::Unavailable),
            (ServiceError::OutOfRange("x".into()), Code::OutOfRange),
            (
                ServiceError::Prove(ProveError::Claim(ClaimError::PayoutMismatch)),
                Code::FailedPrecondition,
            ),
            (ServiceError::Prove(ProveError::KeyMismatch), Code::Internal),
            (
                ServiceError::Log("disk /secret/path".into()),
                Code::Internal,
            ),
            (
                ServiceError::Internal("disk /secret/path".into()),
                Code::Internal,
            ),
        ];
        for (e, code) in cases {
            let status = Status::from(e);
            assert_eq!(status.code(), code);
            assert!(!status.message().contains("/secret/path"));
        }
    }

    #[test]
    fn invalid_argument_names_the_field() {
        let s = Status::from(ServiceError::invalid(
            "contributions[2].blinding",
            "not a field element",
        ));
        assert!(
            s.message().contains("contributions[2].blinding"),
            "{}",
            s.message()
        );
    }
}
