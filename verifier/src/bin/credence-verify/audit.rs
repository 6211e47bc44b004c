//! `credence-verify audit (--export FILE | --server URL [--ca FILE] [--cert FILE --key FILE]
//! [--token-file FILE]) --log-key KEY [--state FILE] [--vk [CIRCUIT_ID=]PATH]...
//! [--leaves LEAVES.json] [--json]`
//!
//! Replays the whole compliance log against its signed checkpoints (see
//! `credence_verifier::log::audit`): signatures under the trusted `log.pub`, the recomputed root
//! of every signed prefix, no fork or shrink since the state saved by the previous run, and every
//! claim proof re-verified under a key given with `--vk` (selected by the entry's circuit id and
//! key fingerprint). A claim whose key was not given is a problem, not a skipped entry: an audit
//! that passes has checked every proof in the log. With `--leaves`, the operator's leaf table must
//! have the root and total of the logged snapshot of its epoch, and every leaf must have been
//! registered before that snapshot entry.
//!
//! Exit 0 only if everything holds; 1 if the log is not what it should be (the first problem is
//! printed with its entry index when there is one); 2 if an input cannot be read or is malformed
//! (including a server that cannot be reached, and a state file of another log). `--server`
//! needs the `grpc` feature (`cargo install credence-verifier --features grpc`).
//!
//! A deployment's server speaks TLS and wants a token: `https://` turns TLS on, `--ca` names the
//! CA that signed the server's certificate, `--cert`/`--key` are the client's for mutual TLS, and
//! the bearer token comes from `--token-file` or else `CREDENCE_TOKEN`, never from the command
//! line (where `ps` and shell history would show it), as with the `credence` client. A
//! connection that fails is shown with its causes and, when they show a likely mistake, what to
//! pass instead.
//!
//! The state file is replaced atomically, and only when the audit passed. It records the log it
//! belongs to (origin and key), so that one used with another log is refused as a mix-up rather
//! than reported as a fork.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use credence_verifier::leaves::{LeafCheck, LeafSummary, LeafTable};
use credence_verifier::log::{
    AuditProblem, AuditReport, EntryKind, ExportError, LogEntry, LogEvent, LogExport, LogVerifier,
    TreeState,
};
use credence_verifier::{Error, Invalid};
use serde::{Deserialize, Serialize};

use crate::common::{Exit, Keys, load_ring, print_json, read_capped};

/// The largest export file read (a claim entry is about 1 KiB).
const MAX_EXPORT_BYTES: usize = 1 << 30;
/// The largest leaf table read.
const MAX_LEAVES_BYTES: usize = 1 << 30;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).multiple(false)))]
pub struct Args {
    /// A log export file (`credence log export --data-dir DIR --out FILE`).
    #[arg(long, group = "source")]
    export: Option<PathBuf>,
    /// A running server's address (`http://host:port`, or `https://host:port` for TLS): fetch
    /// the log over gRPC (`AuditLog`).
    #[cfg(feature = "grpc")]
    #[arg(long, group = "source")]
    server: Option<String>,
    /// CA certificate (PEM) that signed the server's certificate (`https://` servers).
    #[cfg(feature = "grpc")]
    // `conflicts_with = "export"` rather than `requires = "server"`: with `--export` given, clap
    // did not enforce these requirements (the required `source` group makes the two the same).
    #[arg(long, value_name = "FILE", conflicts_with = "export")]
    ca: Option<PathBuf>,
    /// Client certificate (PEM), for mutual TLS; with `--key`.
    #[cfg(feature = "grpc")]
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "export")]
    cert: Option<PathBuf>,
    /// Client private key (PEM), for mutual TLS; with `--cert`.
    #[cfg(feature = "grpc")]
    #[arg(
        long,
        value_name = "FILE",
        requires = "cert",
        conflicts_with = "export"
    )]
    key: Option<PathBuf>,
    /// File holding the bearer token (otherwise `CREDENCE_TOKEN`, otherwise none); it must not be
    /// readable by group or others.
    #[cfg(feature = "grpc")]
    #[arg(long = "token-file", value_name = "FILE", conflicts_with = "export")]
    token_file: Option<PathBuf>,
    /// The log's public key file (`log.pub` from the server's data directory).
    #[arg(long = "log-key")]
    log_key: PathBuf,
    /// The state file: read to check the log is consistent with the previous run, then replaced
    /// with the audited checkpoint's size and root if the audit passes. A missing file is a
    /// first run. One per log: it records the log's origin and key, and another log's is refused.
    #[arg(long)]
    state: Option<PathBuf>,
    /// A trusted verifying key, `[CIRCUIT_ID=]PATH`; every claim in the log needs one. May be
    /// repeated.
    #[arg(long = "vk")]
    vk: Vec<String>,
    /// The operator's leaf table of one snapshot (JSON: epoch, depth, leaves).
    #[arg(long)]
    leaves: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

/// The summary, as printed with `--json`.
#[derive(Serialize, Default)]
struct Summary {
    ok: bool,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tree_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<String>,
    checkpoints_verified: usize,
    entries_read: u64,
    entries_by_kind: BTreeMap<&'static str, u64>,
    claims: u64,
    proofs_valid: u64,
    verifications_valid: u64,
    verifications_invalid: u64,
    /// Every key the log introduced, with where it came from.
    keys: Vec<KeyJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    leaves: Option<LeavesJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_state: Option<TreeState>,
    state_updated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem_entry: Option<u64>,
}

/// A `key` entry: a verifying key and its provenance.
#[derive(Clone, Serialize)]
struct KeyJson {
    entry: u64,
    circuit_id: String,
    vk_fingerprint: String,
    setup: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ceremony: Option<credence_verifier::log::KeyCeremony>,
}

#[derive(Serialize)]
struct LeavesJson {
    epoch: u64,
    leaves: usize,
    root: String,
    total_weight: u64,
    snapshot_entry: u64,
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Registration => "registration",
        EntryKind::Snapshot => "snapshot",
        EntryKind::Claim => "claim",
        EntryKind::Verification => "verification",
        EntryKind::Key => "key",
    }
}

/// What the audit hook checks on every entry besides the tree: claim proofs and the leaf table.
pub struct EntryChecks {
    /// The keys given with `--vk`.
    trusted: Keys,
    leaves: Option<LeafCheck>,
    claims: u64,
    proofs_valid: u64,
    verifications_valid: u64,
    verifications_invalid: u64,
    keys: Vec<KeyJson>,
}

impl EntryChecks {
    fn new(trusted: Keys, leaves: Option<LeafCheck>) -> Self {
        EntryChecks {
            trusted,
            leaves,
            claims: 0,
            proofs_valid: 0,
            verifications_valid: 0,
            verifications_invalid: 0,
            keys: Vec::new(),
        }
    }

    /// The `audit()` hook: rejects an entry with the reason.
    pub fn check(&mut self, index: u64, entry: &LogEntry) -> Result<(), String> {
        if let Some(leaves) = self.leaves.as_mut() {
            leaves.observe(index, entry).map_err(|e| e.to_string())?;
        }
        match &entry.event {
            LogEvent::Claim { .. } => {
                self.claims += 1;
                match entry.verify_claim(&self.trusted.ring) {
                    Ok(_) => self.proofs_valid += 1,
                    Err(Error::Invalid(Invalid::UntrustedKey {
                        circuit_id,
                        fingerprint,
                        ..
                    })) => {
                        return Err(format!(
                            "claim of circuit {circuit_id} with key {fingerprint}: no such key \
                             was given with --vk, so its proof cannot be re-verified; {}",
                            self.trusted.given()
                        ));
                    }
                    Err(e) => {
                        return Err(format!(
                            "claim proof does not hold: {}: {}",
                            Exit::of(&e).word(),
                            self.trusted.reason(&e)
                        ));
                    }
                }
            }
            LogEvent::Verification { verdict, .. } => {
                if verdict == "valid" {
                    self.verifications_valid += 1;
                } else {
                    self.verifications_invalid += 1;
                }
            }
            LogEvent::Key {
                circuit_id,
                vk_fingerprint,
                setup,
                ceremony,
            } => self.keys.push(KeyJson {
                entry: index,
                circuit_id: circuit_id.clone(),
                vk_fingerprint: vk_fingerprint.clone(),
                setup: setup.clone(),
                ceremony: ceremony.clone(),
            }),
            LogEvent::Registration { .. } | LogEvent::Snapshot { .. } => {}
        }
        Ok(())
    }
}

/// The inputs every source shares, read before touching the log.
pub struct Prepared {
    pub verifier: LogVerifier,
    pub previous: Option<SavedState>,
    pub checks: EntryChecks,
}

fn prepare(args: &Args) -> Result<Prepared, String> {
    let verifier = read_log_key(&args.log_key)?;
    let previous = match &args.state {
        Some(path) => read_state(path, &verifier)?,
        None => None,
    };
    let keys = load_ring(&args.vk).map_err(|e| e.to_string())?;
    let leaves = match &args.leaves {
        Some(path) => {
            let bytes = read_capped(path, MAX_LEAVES_BYTES).map_err(|e| e.to_string())?;
            let table = LeafTable::from_json(&bytes)
                .and_then(|t| LeafCheck::new(&t))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Some(table)
        }
        None => None,
    };
    Ok(Prepared {
        verifier,
        previous,
        checks: EntryChecks::new(keys, leaves),
    })
}

/// Reads a `log.pub` file: the verifier key text, one line.
pub fn read_log_key(path: &Path) -> Result<LogVerifier, String> {
    let bytes = read_capped(path, 4096).map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("{}: not UTF-8", path.display()))?;
    LogVerifier::parse(text.trim()).map_err(|e| format!("{}: {e}", path.display()))
}

/// The state file as written: the tree the previous run verified, and the log it belongs to.
///
/// `origin` and `log_key` (the `log.pub` text) bind the file to one log, so that a state file
/// used with another log's key is refused as a mix-up (exit 2) before the log is read, instead of
/// being reported as a fork of this log (exit 1, which reads as tampering). State files written
/// before this binding have neither field. We accept them rather than refuse them (refusing
/// would strand every existing auditor, and nothing in such a file says which log it was for):
/// the audit runs against them as before, a fork or shrink found with one says that it may be
/// another log's, and the first audit that passes rewrites the file bound to the audited log.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    size: u64,
    /// 64 hex digits.
    root: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_key: Option<String>,
}

/// A state file read and checked against the trusted log key.
#[derive(Clone, Copy)]
pub struct SavedState {
    pub tree: TreeState,
    /// Whether the file named its log (it is then this log); false for an old state file.
    pub bound: bool,
}

fn read_state(path: &Path, verifier: &LogVerifier) -> Result<Option<SavedState>, String> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
        Ok(_) => {}
    }
    let bytes = read_capped(path, 4096).map_err(|e| e.to_string())?;
    let bad = |why: String| format!("{}: not an audit state file: {why}", path.display());
    let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    let mut root = [0u8; 32];
    hex::decode_to_slice(&file.root, &mut root)
        .map_err(|_| bad("`root` is not 64 hex digits".into()))?;
    let tree = TreeState {
        size: file.size,
        root,
    };
    let stored = match (&file.origin, &file.log_key) {
        (None, None) => return Ok(Some(SavedState { tree, bound: false })),
        (Some(origin), Some(key)) => {
            let stored = LogVerifier::parse(key).map_err(|e| bad(format!("`log_key`: {e}")))?;
            if stored.name() != origin {
                return Err(bad(format!(
                    "`origin` {origin} is not the name of `log_key` {stored}"
                )));
            }
            stored
        }
        _ => return Err(bad("`origin` and `log_key` go together".into())),
    };
    if &stored != verifier {
        return Err(format!(
            "{}: this state file belongs to log `{}` (key {stored}), not to `{}` (key {verifier}): \
             use a state file per log",
            path.display(),
            stored.name(),
            verifier.name()
        ));
    }
    Ok(Some(SavedState { tree, bound: true }))
}

/// Replaces the state file crash-safely (the one durable write: a crash leaves the old or the
/// new state, never a torn one). The state is public (a tree size, a root, the log's public key).
fn write_state(path: &Path, state: &TreeState, verifier: &LogVerifier) -> std::io::Result<()> {
    let file = StateFile {
        size: state.size,
        root: hex::encode(state.root),
        origin: Some(verifier.name().to_owned()),
        log_key: Some(verifier.to_string()),
    };
    let mut json = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    json.push(b'\n');
    credence_verifier::durable::write_atomic(path, &json, 0o644)
}

pub fn run(args: &Args) -> Exit {
    let mut summary = Summary::default();
    let exit = audit(args, &mut summary);
    summary.ok = exit == Exit::Valid;
    if args.json {
        print_json(&summary);
    } else {
        print_text(&summary);
    }
    exit
}

fn audit(args: &Args, summary: &mut Summary) -> Exit {
    let malformed = |summary: &mut Summary, reason: String| {
        summary.problem = Some(reason);
        Exit::Malformed
    };
    let prepared = match prepare(args) {
        Ok(p) => p,
        Err(e) => return malformed(summary, e),
    };
    summary.previous_state = prepared.previous.map(|p| p.tree);
    let Prepared {
        verifier,
        previous: saved,
        mut checks,
    } = prepared;
    let previous = saved.map(|p| p.tree);

    let report = match source(args) {
        Source::Export(path) => {
            summary.source = path.display().to_string();
            let export = match read_capped(path, MAX_EXPORT_BYTES)
                .map_err(|e| e.to_string())
                .and_then(|b| {
                    LogExport::from_json(&b).map_err(|e| format!("{}: {e}", path.display()))
                }) {
                Ok(e) => e,
                Err(e) => return malformed(summary, e),
            };
            match export.audit(&verifier, previous, |i, e, _| checks.check(i, e)) {
                Ok(report) => report,
                Err(e @ ExportError::KeyMismatch { .. }) => {
                    // Well-formed, but not the log the auditor trusts.
                    summary.problem = Some(format!("{}: {e}", path.display()));
                    return Exit::Invalid;
                }
                Err(e) => return malformed(summary, format!("{}: {e}", path.display())),
            }
        }
        #[cfg(feature = "grpc")]
        Source::Server(addr) => {
            summary.source = addr.to_owned();
            let options = match server::options(args) {
                Ok(o) => o,
                Err(e) => return malformed(summary, e),
            };
            let hook = |i, e: &LogEntry, _: &[u8]| checks.check(i, e);
            match credence_verifier::log::remote::audit_server_with(
                addr, &options, &verifier, previous, hook,
            ) {
                Ok(report) => report,
                // The server could not be asked: nothing was judged.
                Err(e) => return malformed(summary, server::explain(addr, &e, &options)),
            }
        }
    };
    let legacy_state = saved.is_some_and(|p| !p.bound);
    finish(args, summary, report, checks, &verifier, legacy_state)
}

/// The server flags: TLS, mutual TLS and the bearer token, as the `credence` client takes them.
#[cfg(feature = "grpc")]
mod server {

    use credence_verifier::client::Flags;
    use credence_verifier::log::remote::{ClientOptions, OptionsError, RemoteError};
    use zeroize::Zeroizing;

    use super::Args;
    use crate::common::read_capped;

    /// Where the token comes from without `--token-file` (the `credence` client's variable).
    pub const TOKEN_ENV: &str = "CREDENCE_TOKEN";
    /// The largest PEM file read (a certificate chain is a few KiB).
    const MAX_PEM_BYTES: usize = 1 << 20;

    /// Reads the CA, the client identity and the token, before connecting.
    pub fn options(args: &Args) -> Result<ClientOptions, String> {
        let mut options = ClientOptions::new();
        if let Some(ca) = &args.ca {
            let pem = read_capped(ca, MAX_PEM_BYTES).map_err(|e| format!("--ca {e}"))?;
            options = options
                .with_ca_pem(pem)
                .map_err(|e| format!("--ca {}: {e}", ca.display()))?;
        }
        if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
            let cert_pem = read_capped(cert, MAX_PEM_BYTES).map_err(|e| format!("--cert {e}"))?;
            let key_pem =
                Zeroizing::new(read_capped(key, MAX_PEM_BYTES).map_err(|e| format!("--key {e}"))?);
            options = options
                .with_identity(cert_pem, key_pem)
                .map_err(|e| match e {
                    OptionsError::NoPrivateKey { .. } => format!("--key {}: {e}", key.display()),
                    _ => format!("--cert {}: {e}", cert.display()),
                })?;
        }
        match &args.token_file {
            Some(path) => {
                let token = credence_verifier::client::read_token_file(path)
                    .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
                options = options
                    .with_token(&token)
                    .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
            }
            None => {
                if let Some(token) = std::env::var_os(TOKEN_ENV) {
                    let token = Zeroizing::new(
                        token
                            .into_string()
                            .map_err(|_| format!("{TOKEN_ENV}: the token is not UTF-8"))?,
                    );
                    // Set but empty is how a shell unsets a variable for one command.
                    if !token.trim().is_empty() {
                        options = options
                            .with_token(&token)
                            .map_err(|e| format!("{TOKEN_ENV}: {e}"))?;
                    }
                }
            }
        }
        Ok(options)
    }

    /// The error with its causes, and what to do when the causes show a likely mistake.
    pub fn explain(addr: &str, e: &RemoteError, options: &ClientOptions) -> String {
        let flags = Flags {
            ca: "--ca",
            identity: "--cert and --key",
            token: "--token-file FILE or CREDENCE_TOKEN",
            role: "an auditor",
        };
        match e.diagnosis() {
            Some(d) => format!("{addr}: {e} (hint: {})", d.hint(&flags, options.given())),
            None => format!("{addr}: {e}"),
        }
    }
}

enum Source<'a> {
    Export(&'a Path),
    #[cfg(feature = "grpc")]
    Server(&'a str),
}

fn source(args: &Args) -> Source<'_> {
    #[cfg(feature = "grpc")]
    if let Some(addr) = &args.server {
        return Source::Server(addr);
    }
    // clap's required group guarantees one source; without `grpc` it is `--export`.
    Source::Export(args.export.as_deref().unwrap_or(Path::new("")))
}

fn finish(
    args: &Args,
    summary: &mut Summary,
    report: AuditReport,
    checks: EntryChecks,
    verifier: &LogVerifier,
    legacy_state: bool,
) -> Exit {
    if let Some(c) = &report.checkpoint {
        summary.origin = Some(c.origin.clone());
        summary.tree_size = Some(c.size);
        summary.root = Some(hex::encode(c.root));
    }
    summary.checkpoints_verified = report.checkpoints_verified;
    summary.entries_read = report.entries_read;
    summary.entries_by_kind = report
        .by_kind
        .iter()
        .map(|(k, n)| (kind_name(*k), *n))
        .collect();
    summary.claims = checks.claims;
    summary.proofs_valid = checks.proofs_valid;
    summary.verifications_valid = checks.verifications_valid;
    summary.verifications_invalid = checks.verifications_invalid;
    summary.keys = checks.keys.clone();

    if let Some(problem) = &report.problem {
        summary.problem_entry = problem.entry_index();
        summary.problem = Some(describe(problem, legacy_state));
        return Exit::Invalid;
    }
    let Some(state) = report.state() else {
        summary.problem = Some("the audit did not reach a verified checkpoint".into());
        return Exit::Invalid;
    };
    if let Some(leaves) = checks.leaves {
        match leaves.finish() {
            Ok(LeafSummary {
                epoch,
                leaves,
                root,
                total_weight,
                snapshot_entry,
            }) => {
                summary.leaves = Some(LeavesJson {
                    epoch,
                    leaves,
                    root,
                    total_weight,
                    snapshot_entry,
                })
            }
            Err(e) => {
                summary.problem_entry = e.entry_index();
                summary.problem = Some(e.to_string());
                return Exit::Invalid;
            }
        }
    }
    if let Some(path) = &args.state {
        if let Err(e) = write_state(path, &state, verifier) {
            summary.problem = Some(format!("{}: cannot save the state: {e}", path.display()));
            return Exit::Malformed;
        }
        summary.state_updated = true;
    }
    Exit::Valid
}

/// The problem line; the entry index leads when the problem pinpoints one.
/// A fork or shrink found with an old state file that does not name its log may be a mix-up
/// of state files rather than this log's history changing: say so.
fn describe(problem: &AuditProblem, legacy_state: bool) -> String {
    match problem {
        AuditProblem::Fork { .. } | AuditProblem::Shrunk { .. } if legacy_state => format!(
            "{problem} (compared with the --state of the previous run, an old state file that \
             does not record its log: if it is another log's, use a state file per log)"
        ),
        AuditProblem::Fork { .. } | AuditProblem::Shrunk { .. } => {
            format!("{problem} (compared with the --state of the previous run)")
        }
        _ => problem.to_string(),
    }
}

fn print_text(s: &Summary) {
    if let (Some(origin), Some(size), Some(root)) = (&s.origin, s.tree_size, &s.root) {
        println!(
            "log {origin}: {size} entries, root {root}; {} signed checkpoint(s) verified ({})",
            s.checkpoints_verified, s.source
        );
    } else if !s.source.is_empty() {
        println!("log {}", s.source);
    }
    if s.entries_read > 0 || s.tree_size.is_some() {
        let kinds = ["registration", "snapshot", "claim", "verification", "key"]
            .iter()
            .map(|k| format!("{} {k}", s.entries_by_kind.get(k).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ");
        println!("entries: {} read: {kinds}", s.entries_read);
        println!(
            "proofs: {} of {} claim(s) valid; verification verdicts: {} valid, {} invalid",
            s.proofs_valid, s.claims, s.verifications_valid, s.verifications_invalid
        );
    }
    for k in &s.keys {
        match &k.ceremony {
            Some(c) => println!(
                "key {} {} (entry {}): ceremony of {} contributions, circuit hash {}, \
                 transcript blake2b {}, ptau blake2b {}",
                k.circuit_id,
                k.vk_fingerprint,
                k.entry,
                c.contributions.len(),
                c.circuit_hash,
                c.transcript_blake2b,
                c.ptau_blake2b
            ),
            None => println!(
                "key {} {} (entry {}): {} setup (whoever ran it could forge proofs)",
                k.circuit_id, k.vk_fingerprint, k.entry, k.setup
            ),
        }
    }
    if let Some(l) = &s.leaves {
        println!(
            "leaves: epoch {}: {} leaves, root {} and total {} match the snapshot at entry {}; \
             every leaf was registered before it",
            l.epoch, l.leaves, l.root, l.total_weight, l.snapshot_entry
        );
    }
    if let Some(prev) = &s.previous_state {
        println!(
            "state: previous run verified size {} root {}",
            prev.size,
            hex::encode(prev.root)
        );
    }
    if s.state_updated {
        println!("state: saved size {}", s.tree_size.unwrap_or(0));
    }
    match (&s.problem, s.problem_entry) {
        (Some(p), Some(i)) => println!("first problem at entry {i}: {p}"),
        (Some(p), None) => println!("first problem: {p}"),
        (None, _) => {}
    }
    println!("{}", if s.ok { "audit: ok" } else { "audit: FAILED" });
}
