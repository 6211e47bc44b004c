//! Blocking work off the async runtime.
//!
//! Invariant: handlers and job tasks never block a runtime thread: storage calls, tree
//! building, witness checks and proving all go through [`blocking`] (a handler's work, failing
//! with a [`ServiceError`]) or [`blocking_as`] (work with its own typed error, such as a job's).

use crate::error::ServiceError;

/// Runs a handler's `f` on the blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, ServiceError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ServiceError> + Send + 'static,
{
    blocking_as(f).await
}

/// Runs `f` on the blocking pool; a task that panicked or was cancelled becomes `E`.
pub async fn blocking_as<T, E, F>(f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<tokio::task::JoinError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}
