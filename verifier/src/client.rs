//! The gRPC connection every Credence client makes (feature `grpc`): the `credence` command's
//! clients, `credence-verify audit --server`, and the tests. A deployment sits behind TLS
//! (possibly mutual) and bearer tokens; [`ClientOptions`] says whom to trust, which client
//! certificate to present and which token to send, and [`Diagnosis`] recognizes the usual
//! mistakes in a failure so that each command can say what to pass instead, with its own flag
//! names ([`Flags`]).
//!
//! Invariant: a token is read from a file only its owner may read ([`read_token_file`]) or the
//! environment, kept in zeroizing memory, and sent as `authorization: Bearer <token>` in a
//! header value marked sensitive (never logged by the HTTP/2 stack); it is never printed. An
//! `https://` address turns TLS on; with no CA given no certificate is trusted (there is no
//! system root store here: a client names the CA it trusts), and TLS options with an `http://`
//! address are refused rather than ignored.

use std::fmt;
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use thiserror::Error;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use zeroize::Zeroizing;

/// How long the TCP connection and the TLS handshake may take: an address that drops packets
/// fails instead of hanging the audit.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach the server: whom to trust for TLS, the client's certificate for mutual TLS, and
/// the bearer token. The default is a plain connection with no token.
#[derive(Default)]
pub struct ClientOptions {
    /// PEM holding at least one certificate (checked by [`ClientOptions::with_ca_pem`]).
    ca_pem: Option<Vec<u8>>,
    /// Client certificate chain and private key, PEM; the key in zeroizing memory.
    identity: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
    /// `Bearer <token>`, marked sensitive.
    token: Option<MetadataValue<Ascii>>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("ca", &self.ca_pem.is_some())
            .field("identity", &self.identity.is_some())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// An option that cannot be used, found before connecting.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum OptionsError {
    /// A CA file with no certificate. rustls would skip it silently and every connection would
    /// then fail with an unknown issuer, far from the real mistake.
    #[error(
        "no certificate in it (expected a `-----BEGIN CERTIFICATE-----` block; {})",
        pem_found(found)
    )]
    NoCertificate {
        /// The PEM block labels found instead.
        found: Vec<String>,
    },
    /// A client key file with no private key.
    #[error(
        "no private key in it (expected a `-----BEGIN ... PRIVATE KEY-----` block; {})",
        pem_found(found)
    )]
    NoPrivateKey {
        /// The PEM block labels found instead.
        found: Vec<String>,
    },
    /// An empty token (a token file holding only whitespace, for example).
    #[error("the token is empty")]
    EmptyToken,
    /// A token that cannot be an HTTP header value.
    #[error("the token is not printable ASCII")]
    TokenNotAscii,
}

fn pem_found(found: &[String]) -> String {
    if found.is_empty() {
        "found no PEM block at all".into()
    } else {
        format!("found: {}", found.join(", "))
    }
}

/// The labels of the well-formed PEM blocks of `pem`, in order: a BEGIN line, a body that is
/// non-empty base64, and the matching END line. The decoded bytes are only looked at and wiped
/// (a key file's body is the secret itself); the parsing proper is rustls' when connecting.
fn pem_labels(pem: &[u8]) -> Vec<String> {
    // PEM is ASCII; anything else holds no block we could use.
    let Ok(text) = std::str::from_utf8(pem) else {
        return Vec::new();
    };
    let mut labels = Vec::new();
    let mut open: Option<(&str, Zeroizing<String>)> = None;
    for line in text.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            open = Some((label, Zeroizing::new(String::new())));
        } else if let Some(label) = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            if let Some((begun, body)) = open.take()
                && begun == label
                && base64::engine::general_purpose::STANDARD
                    .decode(body.as_bytes())
                    .map(Zeroizing::new)
                    .is_ok_and(|der| !der.is_empty())
            {
                labels.push(begun.to_owned());
            }
        } else if let Some((_, body)) = open.as_mut() {
            body.push_str(line);
        }
    }
    labels
}

impl ClientOptions {
    /// No TLS options and no token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the CA certificate(s) in `pem` to have signed the server's certificate. Refuses a
    /// PEM with no certificate block.
    pub fn with_ca_pem(mut self, pem: Vec<u8>) -> Result<Self, OptionsError> {
        let found = pem_labels(&pem);
        if !found.iter().any(|label| label == "CERTIFICATE") {
            return Err(OptionsError::NoCertificate { found });
        }
        self.ca_pem = Some(pem);
        Ok(self)
    }

    /// Presents this client certificate (chain) and key for mutual TLS.
    pub fn with_identity(
        mut self,
        cert_pem: Vec<u8>,
        key_pem: Zeroizing<Vec<u8>>,
    ) -> Result<Self, OptionsError> {
        let found = pem_labels(&cert_pem);
        if !found.iter().any(|label| label == "CERTIFICATE") {
            return Err(OptionsError::NoCertificate { found });
        }
        let found = pem_labels(&key_pem);
        if !found.iter().any(|label| label.ends_with("PRIVATE KEY")) {
            return Err(OptionsError::NoPrivateKey { found });
        }
        self.identity = Some((cert_pem, key_pem));
        Ok(self)
    }

    /// Sends `authorization: Bearer <token>` (surrounding whitespace trimmed) with every call.
    pub fn with_token(mut self, token: &str) -> Result<Self, OptionsError> {
        self.token = Some(bearer_value(token)?);
        Ok(self)
    }

    /// Whether a bearer token will be sent.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether a CA was given.
    pub fn has_ca(&self) -> bool {
        self.ca_pem.is_some()
    }

    /// Whether a client certificate and key were given.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// What was given, for [`Diagnosis::hint`].
    pub fn given(&self) -> Given {
        Given {
            ca: self.has_ca(),
            identity: self.has_identity(),
            token: self.has_token(),
        }
    }
}

/// Adds the bearer token, if any, to every call.
#[derive(Clone, Default)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer(<redacted>)")
    }
}

impl Bearer {
    /// Sends `token` (surrounding whitespace trimmed) with every call.
    pub fn new(token: &str) -> Result<Self, OptionsError> {
        Ok(Bearer(Some(bearer_value(token)?)))
    }

    /// Sends no token.
    pub fn none() -> Self {
        Bearer(None)
    }
}

/// `Bearer <token>` as a header value marked sensitive.
fn bearer_value(token: &str) -> Result<MetadataValue<Ascii>, OptionsError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(OptionsError::EmptyToken);
    }
    let header = Zeroizing::new(format!("Bearer {token}"));
    let mut value: MetadataValue<Ascii> =
        header.parse().map_err(|_| OptionsError::TokenNotAscii)?;
    value.set_sensitive(true);
    Ok(value)
}

impl tonic::service::Interceptor for Bearer {
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

/// A channel that sends the bearer token with every call.
pub type AuthChannel = InterceptedService<Channel, Bearer>;

/// The largest token file read.
const MAX_TOKEN_BYTES: u64 = 4096;

/// Why a token file cannot be used.
#[derive(Debug, Error)]
pub enum TokenFileError {
    /// It could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Others may read it.
    #[error(
        "holds a secret and is readable by group or others (mode {mode:o}); run `chmod 600 {}`",
        path.display()
    )]
    Permissions {
        /// The file.
        path: std::path::PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Far larger than a token.
    #[error("larger than {MAX_TOKEN_BYTES} bytes: not a token file")]
    TooLarge,
    /// Not text.
    #[error("not UTF-8 text")]
    NotText,
}

/// Reads a token file that only its owner may read (like `secret.key`: anyone who can read it
/// acts as its holder), into zeroizing memory allocated once at its final size.
pub fn read_token_file(path: &Path) -> Result<Zeroizing<String>, TokenFileError> {
    let file = std::fs::File::open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(TokenFileError::Permissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_TOKEN_BYTES as usize + 1));
    file.take(MAX_TOKEN_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TOKEN_BYTES {
        return Err(TokenFileError::TooLarge);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| TokenFileError::NotText)?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// What most likely went wrong, recognized from the error's causes, so that the caller can say
/// what to change. Recognized by text because the causes are rustls', hyper's and h2's types,
/// which are not part of this crate's dependencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    /// The server's certificate is not signed by a trusted CA (none given, or another one).
    UnknownIssuer,
    /// The server's certificate was refused for another reason (expired, not for this name...).
    BadServerCertificate,
    /// The server refused the TLS session for want of an acceptable client certificate: its
    /// alert says so, or it hung up on the first call (a TLS 1.3 client finishes its handshake
    /// before the server has checked the client's certificate, so the refusal arrives as a
    /// connection cut under the first request).
    ClientCertificateRequired,
    /// An `http://` address answered with something that is not HTTP/2: most likely a TLS
    /// server.
    PlaintextToTls,
    /// An `https://` address answered with something that is not TLS: most likely a plain
    /// HTTP/2 server.
    TlsToPlaintext,
    /// The server wants a bearer token, or did not accept the one sent.
    Unauthenticated,
    /// The token is valid but its role may not make this call.
    PermissionDenied,
    /// Nothing accepts connections at the address (no server, or another port).
    NothingListening,
}

/// An error and its causes, `outer: inner: innermost`, without repeats.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    chain_after(Vec::new(), e)
}

/// `parts`, then `e` and its causes, each piece once: wrappers often repeat their source's text.
fn chain_after(mut parts: Vec<String>, e: &(dyn std::error::Error + 'static)) -> String {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// `Code: message: causes`; a status made from an error has that error's text as its message,
/// which is then not repeated.
pub fn status_text(status: &tonic::Status) -> String {
    // A status without a message (tonic's own UNIMPLEMENTED, say) says what its code means.
    let message = match status.message() {
        "" => status.code().description().to_owned(),
        m => m.to_owned(),
    };
    let head = vec![format!("{:?}", status.code()), message];
    match std::error::Error::source(status) {
        Some(source) => chain_after(head, source),
        None => head.join(": "),
    }
}

/// How hyper and h2 word a connection cut by the other side (which one depends on timing).
const CONNECTION_CUT: &[&str] = &[
    "connection error",
    "connection closed",
    "broken pipe",
    "connection reset",
    "end of file",
];

/// Why a connection could not be made (nothing was called yet).
#[derive(Debug, Error)]
pub enum ConnectError {
    /// The address is not a URL.
    #[error("`{addr}` is not a server URL (`http://host:port` or `https://host:port`): {}", chain(.source))]
    Address {
        /// The address given.
        addr: String,
        /// Why.
        source: tonic::transport::Error,
    },
    /// TLS options with an `http://` address: they would be ignored and the connection would be
    /// plain text, which is never what someone passing a CA meant.
    #[error("a CA or client certificate was given but `{addr}` is not an https:// URL")]
    TlsWithoutHttps {
        /// The address given.
        addr: String,
    },
    /// The TLS configuration was refused (for example a client key rustls cannot use).
    #[error("TLS configuration: {}", chain(.0))]
    Tls(tonic::transport::Error),
    /// The server could not be reached, or the TCP connection or TLS handshake failed.
    #[error("connect: {}", chain(.source))]
    Connect {
        /// Whether the address was `https://`.
        https: bool,
        /// The transport error, with its causes.
        source: tonic::transport::Error,
    },
}

impl ConnectError {
    /// The likely cause, when the error's text shows one.
    pub fn diagnosis(&self) -> Option<Diagnosis> {
        match self {
            ConnectError::Connect { https, source } => diagnose(&chain(source), *https, false),
            _ => None,
        }
    }
}

/// The likely cause of a failed call to an `https` (or not) address.
pub fn diagnose_status(status: &tonic::Status, https: bool) -> Option<Diagnosis> {
    match status.code() {
        tonic::Code::Unauthenticated => Some(Diagnosis::Unauthenticated),
        tonic::Code::PermissionDenied => Some(Diagnosis::PermissionDenied),
        _ => diagnose(&status_text(status), https, true),
    }
}

/// The likely cause in an error chain's `text`, connecting to an `https` (or not) address,
/// before or `after_handshake`.
fn diagnose(text: &str, https: bool, after_handshake: bool) -> Option<Diagnosis> {
    let any = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if any(&["UnknownIssuer"]) {
        Some(Diagnosis::UnknownIssuer)
    } else if any(&["CertificateRequired"]) {
        Some(Diagnosis::ClientCertificateRequired)
    } else if any(&["invalid peer certificate"]) {
        Some(Diagnosis::BadServerCertificate)
    } else if any(&["tcp connect error"]) && any(&["refused"]) {
        Some(Diagnosis::NothingListening)
    } else if https {
        if any(&["InvalidContentType", "corrupt message", "tls handshake eof"]) {
            // rustls reading an HTTP/2 frame as a TLS record, or the server hanging up on the
            // ClientHello it could not read.
            Some(Diagnosis::TlsToPlaintext)
        } else if after_handshake && any(CONNECTION_CUT) {
            Some(Diagnosis::ClientCertificateRequired)
        } else {
            None
        }
    } else {
        // A TLS server reads the HTTP/2 preface as a broken record, sends an alert and hangs
        // up: the client sees the alert as an oversized frame (an h2 protocol error) or, by
        // timing, the connection cut under it. Only once connected: a refused TCP connection
        // says nothing about TLS.
        (!any(&["tcp connect error"]) && (any(&["protocol error"]) || any(CONNECTION_CUT)))
            .then_some(Diagnosis::PlaintextToTls)
    }
}

/// What a client was given, which changes what a hint suggests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Given {
    /// A CA certificate.
    pub ca: bool,
    /// A client certificate and key.
    pub identity: bool,
    /// A bearer token.
    pub token: bool,
}

/// A command's names for its client options, so that a hint names what to pass.
#[derive(Clone, Copy, Debug)]
pub struct Flags {
    /// The CA flag, e.g. `--ca`.
    pub ca: &'static str,
    /// The client certificate flags, e.g. `--cert and --key`.
    pub identity: &'static str,
    /// Where the token comes from, e.g. `--token-file or CREDENCE_TOKEN`.
    pub token: &'static str,
    /// The role the call needs, e.g. `an auditor`.
    pub role: &'static str,
}

impl Diagnosis {
    /// What to do about it, in the words of a command whose options are `flags`.
    pub fn hint(self, flags: &Flags, given: Given) -> String {
        let Flags {
            ca,
            identity,
            token,
            role,
        } = *flags;
        match self {
            Diagnosis::UnknownIssuer if given.ca => format!(
                "the CA given with {ca} did not sign the server's certificate: pass {ca} with the \
                 CA certificate that did"
            ),
            Diagnosis::UnknownIssuer => format!(
                "the server's certificate is signed by a CA not trusted here: pass {ca} with the \
                 CA certificate (PEM) that signed the server's certificate"
            ),
            Diagnosis::BadServerCertificate => "the server's certificate was refused: it must be \
                valid now and name the host of the URL"
                .to_owned(),
            Diagnosis::ClientCertificateRequired if given.identity => format!(
                "the server probably refused the client certificate: pass {identity} with one its \
                 client CA signed"
            ),
            Diagnosis::ClientCertificateRequired => format!(
                "the server probably wants mutual TLS: pass {identity} with a client certificate \
                 its client CA signed"
            ),
            Diagnosis::PlaintextToTls => {
                format!("the server probably speaks TLS: use an https:// URL, with {ca}")
            }
            Diagnosis::TlsToPlaintext => {
                "the server probably speaks plain HTTP/2, not TLS: use an http:// URL".to_owned()
            }
            Diagnosis::Unauthenticated if given.token => format!(
                "the server did not accept the token: give {role} token of this server with \
                 {token}"
            ),
            Diagnosis::Unauthenticated => {
                format!("the server wants a bearer token: give {role} token with {token}")
            }
            Diagnosis::PermissionDenied => {
                format!("the token's role may not make this call: use {role} token")
            }
            Diagnosis::NothingListening => {
                "nothing listens there: is the server running, and is the port right?".to_owned()
            }
        }
    }
}

/// Connects as `options` say; also says whether the connection is TLS.
pub async fn connect(
    addr: &str,
    options: &ClientOptions,
) -> Result<(AuthChannel, bool), ConnectError> {
    let endpoint = Endpoint::from_shared(addr.to_owned())
        .map_err(|source| ConnectError::Address {
            addr: addr.to_owned(),
            source,
        })?
        .connect_timeout(CONNECT_TIMEOUT);
    let https = endpoint.uri().scheme_str() == Some("https");
    let endpoint = if https {
        let mut tls = ClientTlsConfig::new().timeout(CONNECT_TIMEOUT);
        if let Some(ca) = &options.ca_pem {
            tls = tls.ca_certificate(Certificate::from_pem(ca));
        }
        if let Some((cert, key)) = &options.identity {
            tls = tls.identity(Identity::from_pem(cert, key.as_slice()));
        }
        endpoint.tls_config(tls).map_err(ConnectError::Tls)?
    } else if options.ca_pem.is_some() || options.identity.is_some() {
        return Err(ConnectError::TlsWithoutHttps {
            addr: addr.to_owned(),
        });
    } else {
        endpoint
    };
    let channel = endpoint
        .connect()
        .await
        .map_err(|source| ConnectError::Connect { https, source })?;
    Ok((
        InterceptedService::new(channel, Bearer(options.token.clone())),
        https,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
    const KEY: &str =
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n";

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        // Empty, a key where the CA belongs, text that is not PEM, a block with a broken body.
        for (pem, found) in [
            ("", vec![]),
            (KEY, vec!["PRIVATE KEY".to_owned()]),
            ("just some text\n", vec![]),
            (
                "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n",
                vec![],
            ),
        ] {
            let e = ClientOptions::new()
                .with_ca_pem(pem.as_bytes().to_vec())
                .unwrap_err();
            assert_eq!(e, OptionsError::NoCertificate { found }, "{pem:?}");
            assert!(e.to_string().starts_with("no certificate in it"), "{e}");
        }
        let e = ClientOptions::new()
            .with_ca_pem(KEY.as_bytes().to_vec())
            .unwrap_err();
        assert!(e.to_string().contains("found: PRIVATE KEY"), "{e}");
        // A certificate among other blocks is accepted.
        let both = format!("{KEY}{CERT}");
        let options = ClientOptions::new().with_ca_pem(both.into_bytes()).unwrap();
        assert!(options.has_ca());
    }

    #[test]
    fn a_client_identity_needs_a_certificate_and_a_private_key() {
        let key = || Zeroizing::new(KEY.as_bytes().to_vec());
        assert!(
            ClientOptions::new()
                .with_identity(CERT.as_bytes().to_vec(), key())
                .is_ok()
        );
        assert!(matches!(
            ClientOptions::new().with_identity(KEY.as_bytes().to_vec(), key()),
            Err(OptionsError::NoCertificate { .. })
        ));
        assert_eq!(
            ClientOptions::new()
                .with_identity(
                    CERT.as_bytes().to_vec(),
                    Zeroizing::new(CERT.as_bytes().to_vec())
                )
                .unwrap_err(),
            OptionsError::NoPrivateKey {
                found: vec!["CERTIFICATE".into()]
            }
        );
    }

    #[test]
    fn tokens_are_trimmed_sensitive_and_never_printed() {
        let options = ClientOptions::new().with_token(" s3cret-token\n").unwrap();
        let value = options.token.as_ref().unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Bearer s3cret-token");
        assert!(!format!("{options:?}").contains("s3cret"));
        assert_eq!(
            ClientOptions::new().with_token(" \n").unwrap_err(),
            OptionsError::EmptyToken
        );
        assert_eq!(
            ClientOptions::new().with_token("to\u{7f}ken").unwrap_err(),
            OptionsError::TokenNotAscii
        );
    }

    #[test]
    fn transport_failures_are_diagnosed_by_scheme_and_status() {
        struct Rpc(Option<Diagnosis>);
        impl Rpc {
            fn diagnosis(&self) -> Option<Diagnosis> {
                self.0
            }
        }
        let rpc = |https: bool, status: tonic::Status| Rpc(diagnose_status(&status, https));
        let cut = || {
            tonic::Status::from_error(Box::new(std::io::Error::other(
                "connection error: stream closed because of a broken pipe",
            )))
        };
        // Plain HTTP/2 cut off once connected: a TLS server. Over TLS the same says nothing.
        assert_eq!(
            rpc(false, cut()).diagnosis(),
            Some(Diagnosis::PlaintextToTls)
        );
        // The same over TLS, once the handshake is done: a mutual TLS server refusing the client.
        assert_eq!(
            rpc(true, cut()).diagnosis(),
            Some(Diagnosis::ClientCertificateRequired)
        );
        let refused = tonic::Status::from_error(Box::new(std::io::Error::other(
            "tcp connect error: Connection refused (os error 111)",
        )));
        assert_eq!(
            rpc(false, refused).diagnosis(),
            Some(Diagnosis::NothingListening)
        );
        assert_eq!(
            rpc(
                true,
                tonic::Status::unauthenticated("a bearer token is required")
            )
            .diagnosis(),
            Some(Diagnosis::Unauthenticated)
        );
        assert_eq!(
            rpc(true, tonic::Status::permission_denied("no")).diagnosis(),
            Some(Diagnosis::PermissionDenied)
        );
        // The cause is shown once, after the status.
        assert_eq!(
            status_text(&cut()),
            "Unknown: connection error: stream closed because of a broken pipe"
        );
    }

    #[cfg(unix)]
    #[test]
    fn token_files_others_can_read_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.token");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = read_token_file(&path).unwrap_err();
        assert!(
            matches!(e, TokenFileError::Permissions { mode: 0o640, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token_file(&path).unwrap().as_str(), "abc\n");
    }

    #[test]
    fn hints_name_the_commands_own_flags() {
        let flags = Flags {
            ca: "--datanet-ca",
            identity: "--datanet-cert and --datanet-key",
            token: "--datanet-token-file",
            role: "a contributor",
        };
        let h = Diagnosis::UnknownIssuer.hint(&flags, Given::default());
        assert!(h.contains("pass --datanet-ca"), "{h}");
        let h = Diagnosis::Unauthenticated.hint(&flags, Given::default());
        assert!(
            h.contains("a contributor token with --datanet-token-file"),
            "{h}"
        );
    }

    #[test]
    fn tls_options_with_an_http_address_are_refused() {
        let options = ClientOptions::new()
            .with_ca_pem(CERT.as_bytes().to_vec())
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = rt
            .block_on(connect("http://127.0.0.1:1", &options))
            .err()
            .unwrap();
        assert!(matches!(e, ConnectError::TlsWithoutHttps { .. }), "{e}");
    }
}
