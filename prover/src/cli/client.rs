//! The client side every command that talks to a server shares: the server flags, TLS, the
//! bearer token (never from the command line), and how a gRPC error is shown.
//!
//! Invariant: a token is read from a file or the environment, kept in zeroizing memory, and
//! sent as a sensitive header; it is never printed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use credence_verifier::client::{ClientOptions, Diagnosis, Flags, Given, status_text};
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

/// Adds `authorization: Bearer <token>` to every call (nothing without a token): the shared
/// client's ([`credence_verifier::client`]).
pub use credence_verifier::client::Bearer as BearerToken;

/// A channel that authenticates every call.
pub use credence_verifier::client::AuthChannel;

/// The largest PEM file read (a certificate chain is a few KiB).
const MAX_PEM_BYTES: u64 = 1 << 20;

fn read_pem(flag: &str, path: &Path) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PEM_BYTES).read_to_end(&mut bytes))
        .with_context(|| format!("{flag} {}", path.display()))?;
    Ok(bytes)
}

impl Remote<'_> {
    /// This server's flags, for hints: `--ca` or `--datanet-ca`, ...
    fn flags(&self) -> Flags {
        if self.flag == "--datanet" {
            Flags {
                ca: "--datanet-ca",
                identity: "--datanet-cert and --datanet-key",
                token: "--datanet-token-file (or CREDENCE_DATANET_TOKEN)",
                role: "this contributor's",
            }
        } else {
            Flags {
                ca: "--ca",
                identity: "--cert and --key",
                token: "--token-file (or CREDENCE_TOKEN)",
                role: "the right",
            }
        }
    }

    /// The CA, client identity and token these flags name, read and checked before
    /// connecting: a `--ca` file with no certificate and a token file others can read are
    /// refused here, naming the file.
    fn options(&self) -> Result<ClientOptions> {
        let f = self.flags();
        let mut options = ClientOptions::new();
        if let Some(ca) = self.ca {
            options = options
                .with_ca_pem(read_pem(f.ca, ca)?)
                .with_context(|| format!("{} {}", f.ca, ca.display()))?;
        }
        if let Some((cert, key)) = self.identity {
            let key_pem = Zeroizing::new(read_pem("--key", key)?);
            options = options
                .with_identity(read_pem("--cert", cert)?, key_pem)
                .with_context(|| {
                    format!("{} {} / {}", f.identity, cert.display(), key.display())
                })?;
        }
        if let Some(path) = self.token_file {
            let token = credence_verifier::client::read_token_file(path)
                .with_context(|| format!("token file {}", path.display()))?;
            options = options
                .with_token(&token)
                .with_context(|| format!("token file {}", path.display()))?;
        } else if let Ok(t) = std::env::var(self.token_env) {
            let t = Zeroizing::new(t);
            // Set but empty is how a shell unsets a variable for one command.
            if !t.trim().is_empty() {
                options = options.with_token(&t).context(self.token_env)?;
            }
        }
        Ok(options)
    }
}

pub(crate) async fn channel(server: &ServerArg) -> Result<AuthChannel> {
    connect(&server.remote()).await
}

pub(crate) async fn connect(remote: &Remote<'_>) -> Result<AuthChannel> {
    let options = remote.options()?;
    match credence_verifier::client::connect(remote.url, &options).await {
        Ok((channel, _)) => Ok(channel),
        Err(e) => {
            let head = format!("connecting to {} ({}): {e}", remote.url, remote.flag);
            Err(match e.diagnosis() {
                Some(d) => anyhow::anyhow!(
                    "{head}\n  hint: {}",
                    d.hint(&remote.flags(), options.given())
                ),
                None => anyhow::anyhow!("{head}"),
            })
        }
    }
}

/// A call's error status as the CLI shows it: the code's name, and the server's reason (or,
/// when it gave none, what the code means), with the causes of a transport failure.
pub(crate) fn status(e: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}", status_text(&e))
}

/// [`status`], saying which server refused which call (`--server` or `--datanet`), with a
/// hint when the cause is a usual one.
pub(crate) fn refused<'a>(
    remote: &'a Remote<'a>,
    call: &'static str,
) -> impl Fn(tonic::Status) -> anyhow::Error + 'a {
    move |e| {
        let head = format!(
            "{} ({}) refused {call}: {}",
            remote.url,
            remote.flag,
            status_text(&e)
        );
        let https = remote.url.starts_with("https://");
        let given = Given {
            ca: remote.ca.is_some(),
            identity: remote.identity.is_some(),
            token: remote.token_file.is_some() || std::env::var_os(remote.token_env).is_some(),
        };
        match credence_verifier::client::diagnose_status(&e, https) {
            // A refusal by the access table is answered where its cause is known (the
            // commands say which token to look at); a hint here would be a guess.
            Some(Diagnosis::PermissionDenied) | None => anyhow::anyhow!("{head}"),
            Some(d) => anyhow::anyhow!("{head}\n  hint: {}", d.hint(&remote.flags(), given)),
        }
    }
}
