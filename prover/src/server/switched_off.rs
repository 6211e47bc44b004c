//! What a caller of a switched-off service hears: UNIMPLEMENTED, with a message that says the
//! service is off here, which configuration key turned it off, and where to go instead.
//!
//! Without this layer a call to a service the configuration turned off falls through to
//! tonic's router, whose answer is UNIMPLEMENTED with an empty message: the client cannot tell
//! a misrouted call from a wrong method name.
//!
//! Invariants: only paths under `/<service>/` of a service that is off are answered here (a
//! trailers-only response; nothing of the request is read), every other path goes on
//! untouched, so an unknown method of a service that is on keeps tonic's answer. The layer
//! sits outside authentication: which services a server runs is no secret (public health
//! reports them), and a caller holding another server's token learns it called the wrong
//! server instead of "unknown token".

use std::sync::Arc;
use std::task::{Context, Poll};

use credence_proto::v1 as pb;
use tonic::server::NamedService;

use crate::config::Services;
use crate::error::{LayerFuture, status_response};
use crate::service::datanet::DatanetService;
use crate::service::prover::ProverService;
use crate::service::verifier::VerifierService;

/// One switched-off service: the path prefix of its methods and what its callers are told.
#[derive(Debug)]
struct Off {
    /// `/credence.v1.Prover/`.
    prefix: String,
    message: String,
}

impl Off {
    fn new(service: &str, key: &str, instead: &str) -> Off {
        Off {
            prefix: format!("/{service}/"),
            message: format!(
                "this server does not serve {service}: it is switched off in its \
                 configuration ([services] {key} = false); {instead}"
            ),
        }
    }
}

/// The layer: see the module docs.
#[derive(Clone, Debug)]
pub struct SwitchedOffLayer {
    off: Arc<[Off]>,
}

impl SwitchedOffLayer {
    /// Answers for every service `services` turns off (the AuditLog service is always on).
    pub fn new(services: &Services) -> Self {
        let mut off = Vec::new();
        if !services.datanet {
            off.push(Off::new(
                pb::datanet_server::DatanetServer::<DatanetService>::NAME,
                "datanet",
                "register contributions and read snapshots on the operator's datanet server",
            ));
        }
        if !services.prover {
            off.push(Off::new(
                pb::prover_server::ProverServer::<ProverService>::NAME,
                "prover",
                "send claims to the server that proves for you",
            ));
        }
        if !services.verifier {
            off.push(Off::new(
                pb::verifier_server::VerifierServer::<VerifierService>::NAME,
                "verifier",
                "verify bundles on a server whose verifier is on, or offline with \
                 `credence-verify`",
            ));
        }
        SwitchedOffLayer { off: off.into() }
    }
}

impl<S> tower::Layer<S> for SwitchedOffLayer {
    type Service = SwitchedOff<S>;

    fn layer(&self, inner: S) -> SwitchedOff<S> {
        SwitchedOff {
            inner,
            off: self.off.clone(),
        }
    }
}

/// The service [`SwitchedOffLayer`] wraps.
#[derive(Clone, Debug)]
pub struct SwitchedOff<S> {
    inner: S,
    off: Arc<[Off]>,
}

impl<S, B, R> tower::Service<http::Request<B>> for SwitchedOff<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = LayerFuture<R, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        if let Some(off) = self.off.iter().find(|o| path.starts_with(&o.prefix)) {
            return status_response(tonic::Status::unimplemented(off.message.clone()));
        }
        Box::pin(self.inner.call(request))
    }
}
