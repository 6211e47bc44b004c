//! The request log: one structured line per gRPC request, for operators.
//!
//! [`RequestLogLayer`] is the outermost of the server's own layers, so it sees every request,
//! including those refused before any handler ran (no token, an unknown token, a switched-off
//! service). Each line (target [`TARGET`]) has four fields:
//!
//! - `method`: the request path, `/credence.v1.Prover/SubmitClaim` (cut at [`MAX_METHOD_LEN`]
//!   characters: the path is the client's to choose);
//! - `tenant`: the tenant of the token [`AuthLayer`](crate::access::AuthLayer) accepted, read
//!   from the [`TenantSlot`] this layer hands it, or `-` when no token identified the caller;
//! - `code`: the gRPC status that ended the call, by its name (`OK`, `PERMISSION_DENIED`): from
//!   the response headers for a trailers-only answer, else from the trailers that end the body
//!   (for a stream, the status that ends it); `CANCELLED` when the call ended before either
//!   (the client left, or the server-side deadline cut it);
//! - `latency_ms`: from the request's arrival to that end (for a stream, its whole life).
//!
//! Invariant: a line holds those four fields and nothing else. No header (so no token), no
//! message field, no status message (a message may quote what the caller sent) is ever read
//! into it. Each request is logged exactly once: when its status is known, or when its
//! response (future or body) is dropped.
//!
//! Health checks and reflection are logged at DEBUG, not INFO: load balancers and
//! orchestrators probe health every few seconds, and a line each would bury the requests an
//! operator looks for.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use tonic::Code;

use crate::access::{TenantSlot, is_public_path};

/// The `tracing` target of request lines (`RUST_LOG=credence::request=info` selects them).
pub const TARGET: &str = "credence::request";

/// The longest `method` logged, in characters; a longer path is cut and marked `...`.
pub const MAX_METHOD_LEN: usize = 128;

/// The name gRPC gives a status code (`PERMISSION_DENIED`), as the specification and other
/// gRPC implementations print it; tonic's own `Debug` spelling is `PermissionDenied`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The `grpc-status` of a header map (response headers or trailers), if it has one. A value
/// that is not a code is UNKNOWN, as a client would read it.
fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.parse::<i32>().ok())
            .map_or(Code::Unknown, Code::from_i32),
    )
}

/// The layer: see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLogLayer;

impl<S> tower::Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

/// The service [`RequestLogLayer`] wraps around the server's other layers.
#[derive(Clone, Debug)]
pub struct RequestLog<S> {
    inner: S,
}

/// What one line needs, until the call's status is known.
#[derive(Debug)]
struct Line {
    method: String,
    tenant: TenantSlot,
    started: Instant,
    /// Health and reflection: DEBUG instead of INFO.
    quiet: bool,
}

impl Line {
    fn new(path: &str) -> Line {
        let method = match path.char_indices().nth(MAX_METHOD_LEN) {
            Some((cut, _)) => format!("{}...", &path[..cut]),
            None => path.to_owned(),
        };
        Line {
            method,
            tenant: TenantSlot::default(),
            started: Instant::now(),
            quiet: is_public_path(path),
        }
    }

    fn write(self, code: Code) {
        let latency_ms = (self.started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
        let tenant = self.tenant.get().unwrap_or("-");
        let code = code_name(code);
        // Two calls because a `tracing` event's level is fixed where it is written.
        if self.quiet {
            tracing::debug!(target: TARGET, method = %self.method, tenant = %tenant, code = %code, latency_ms);
        } else {
            tracing::info!(target: TARGET, method = %self.method, tenant = %tenant, code = %code, latency_ms);
        }
    }
}

/// Writes the line with CANCELLED if the response future is dropped before it completes: the
/// client reset the stream, or the server-side deadline (outside this layer) cut the call.
struct Pending(Option<Line>);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(line) = self.0.take() {
            line.write(Code::Cancelled);
        }
    }
}

impl<S, B, R> tower::Service<http::Request<B>> for RequestLog<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Body + Unpin + Send + 'static,
{
    type Response = http::Response<LoggedBody<R>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let line = Line::new(request.uri().path());
        // A fresh slot whatever the request carried: only the authentication layer fills it.
        request.extensions_mut().insert(line.tenant.clone());
        let mut pending = Pending(Some(line));
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            let line = pending.0.take();
            match result {
                Ok(response) => {
                    // A trailers-only answer (every refusal) has its status in the headers.
                    let line = match (line, grpc_status(response.headers())) {
                        (Some(line), Some(code)) => {
                            line.write(code);
                            None
                        }
                        (line, None) => line,
                        (None, Some(_)) => None,
                    };
                    Ok(response.map(|inner| LoggedBody { inner, line }))
                }
                Err(e) => {
                    // The transport turns a service error into a status of its own choosing;
                    // the handlers never return one (tonic's routes are infallible).
                    if let Some(line) = line {
                        line.write(Code::Unknown);
                    }
                    Err(e)
                }
            }
        })
    }
}

/// A response body that writes the request's line when its trailers pass (their
/// `grpc-status`), or when it is dropped without them (CANCELLED: the client left mid-stream).
#[derive(Debug)]
pub struct LoggedBody<B> {
    inner: B,
    /// `None` once written (or written before the body, for a trailers-only answer).
    line: Option<Line>,
}

impl<B: Body + Unpin> Body for LoggedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame
                .trailers_ref()
                .map(|t| grpc_status(t).unwrap_or(Code::Unknown)),
            // hyper resets the stream on a body error: the client reads INTERNAL.
            Poll::Ready(Some(Err(_))) => Some(Code::Internal),
            // Ended without trailers: a client reads the missing status as UNKNOWN.
            Poll::Ready(None) => Some(Code::Unknown),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(line) = this.line.take()
        {
            line.write(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for LoggedBody<B> {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            line.write(Code::Cancelled);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_grpc_names() {
        assert_eq!(code_name(Code::PermissionDenied), "PERMISSION_DENIED");
        assert_eq!(code_name(Code::Ok), "OK");
        let mut h = http::HeaderMap::new();
        assert_eq!(grpc_status(&h), None);
        h.insert("grpc-status", http::HeaderValue::from_static("16"));
        assert_eq!(grpc_status(&h), Some(Code::Unauthenticated));
        h.insert("grpc-status", http::HeaderValue::from_static("x"));
        assert_eq!(grpc_status(&h), Some(Code::Unknown));
    }

    #[test]
    fn long_paths_are_cut() {
        let long = format!("/{}", "é".repeat(300));
        let line = Line::new(&long);
        assert_eq!(line.method.chars().count(), MAX_METHOD_LEN + 3);
        assert!(line.method.ends_with("..."));
        assert_eq!(Line::new("/a/B").method, "/a/B");
    }
}
