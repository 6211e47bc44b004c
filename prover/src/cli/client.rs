//! The client side every command that talks to a server shares: the server flags, TLS, the
//! bearer token (never from the command line), and how a gRPC error is shown.
//!
//! Invariant: a token is read from a file or the environment, kept in zeroizing memory, and
//! sent as a sensitive header; it is never printed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use zeroize::Zeroizing;

/// Where the server is, and how to authenticate to it.
#[derive(Debug, Args)]
pub struct ServerArg {
    /// Server URL (`https://` for TLS).
    #[arg(long, default_value = "http://127.0.0.1:7117")]
    pub server: String,
    /// CA certificate (PEM) that signed the server's certificate.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM), for mutual TLS.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM), for mutual TLS.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// File holding the bearer token (otherwise `CREDENCE_TOKEN`, otherwise none).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

impl ServerArg {
    /// `url` without TLS options or token file (the token may still come from the
    /// environment).
    pub fn new(url: String) -> Self {
        ServerArg {
            server: url,
            ca: None,
            cert: None,
            key: None,
            token_file: None,
        }
    }

    pub(crate) fn remote(&self) -> Remote<'_> {
        Remote {
            flag: "--server",
            url: &self.server,
            ca: self.ca.as_deref(),
            identity: self.cert.as_deref().zip(self.key.as_deref()),
            token_file: self.token_file.as_deref(),
            token_env: TOKEN_ENV,
        }
    }
}

/// The operator's Datanet, when a claim is proven on another server than the one holding the
/// snapshot (a contributor's own prover): the snapshot, the contributor's leaves and their
/// Merkle-sum paths are read there and sent to the prover with the claim.
#[derive(Debug, Default, Args)]
pub struct DatanetArg {
    /// The operator's Datanet URL (`https://` for TLS); without it, `--server` holds the
    /// snapshot.
    #[arg(long)]
    pub datanet: Option<String>,
    /// CA certificate (PEM) that signed the Datanet's certificate.
    #[arg(long, requires = "datanet")]
    pub datanet_ca: Option<PathBuf>,
    /// Client certificate (PEM) for the Datanet, for mutual TLS.
    #[arg(long, requires_all = ["datanet", "datanet_key"])]
    pub datanet_cert: Option<PathBuf>,
    /// Client private key (PEM) for the Datanet, for mutual TLS.
    #[arg(long, requires = "datanet_cert")]
    pub datanet_key: Option<PathBuf>,
    /// File holding the Datanet's bearer token (otherwise `CREDENCE_DATANET_TOKEN`, otherwise
    /// none).
    #[arg(long, requires = "datanet")]
    pub datanet_token_file: Option<PathBuf>,
}

impl DatanetArg {
    pub(crate) fn remote(&self) -> Option<Remote<'_>> {
        Some(Remote {
            flag: "--datanet",
            url: self.datanet.as_deref()?,
            ca: self.datanet_ca.as_deref(),
            identity: self
                .datanet_cert
                .as_deref()
                .zip(self.datanet_key.as_deref()),
            token_file: self.datanet_token_file.as_deref(),
            token_env: DATANET_TOKEN_ENV,
        })
    }
}

/// A server to connect to, as one set of client flags names it.
pub(crate) struct Remote<'a> {
    /// The flag that gave the URL, for error messages.
    flag: &'static str,
    pub(crate) url: &'a str,
    ca: Option<&'a Path>,
    /// Client certificate and key, for mutual TLS.
    identity: Option<(&'a Path, &'a Path)>,
    token_file: Option<&'a Path>,
    /// Where the token comes from without a token file.
    token_env: &'static str,
}

/// The environment variable a client reads its bearer token from.
pub const TOKEN_ENV: &str = "CREDENCE_TOKEN";
/// The environment variable `credence claim --datanet` reads the Datanet's token from.
pub const DATANET_TOKEN_ENV: &str = "CREDENCE_DATANET_TOKEN";

/// Adds `authorization: Bearer <token>` to every call (nothing without a token).
#[derive(Clone)]
pub struct BearerToken(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// A token sent with every call; the header value is marked sensitive.
    pub fn new(token: &str) -> Result<Self> {
        let mut value: tonic::metadata::MetadataValue<tonic::metadata::Ascii> =
            format!("Bearer {}", token.trim())
                .parse()
                .map_err(|_| anyhow::anyhow!("the token is not printable ASCII"))?;
        value.set_sensitive(true);
        Ok(BearerToken(Some(value)))
    }

    /// No token.
    pub fn none() -> Self {
        BearerToken(None)
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            request.metadata_mut().insert("authorization", v.clone());
        }
        Ok(request)
    }
}

/// A channel that authenticates every call.
pub type AuthChannel =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BearerToken>;

/// The bearer token: `--token-file`, else `CREDENCE_TOKEN`, else none.
fn client_token(remote: &Remote<'_>) -> Result<BearerToken> {
    if let Some(path) = remote.token_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
        return BearerToken::new(&text);
    }
    match std::env::var(remote.token_env) {
        Ok(t) if !t.trim().is_empty() => BearerToken::new(&Zeroizing::new(t)),
        _ => Ok(BearerToken::none()),
    }
}

pub(crate) async fn channel(server: &ServerArg) -> Result<AuthChannel> {
    connect(&server.remote()).await
}

pub(crate) async fn connect(remote: &Remote<'_>) -> Result<AuthChannel> {
    let url = remote.url;
    let mut endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad {} URL", remote.flag))?;
    if remote.ca.is_some() || remote.identity.is_some() || url.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new();
        if let Some(ca) = remote.ca {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        if let Some((cert, key)) = remote.identity {
            let cert =
                std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
            let key = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        endpoint = endpoint.tls_config(tls).context("TLS configuration")?;
    }
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))?;
    Ok(tonic::service::interceptor::InterceptedService::new(
        channel,
        client_token(remote)?,
    ))
}

pub(crate) fn status(e: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code(), e.message())
}
