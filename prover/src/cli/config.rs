//! `credence config`: configuration files and the parties' tokens.
//!
//! Invariant: every token these commands make is written twice, both files mode 0600 and
//! neither ever overwritten: into the server's configuration (`[[tokens]]`) and into the
//! party's own token file (`<tenant>.token`, what `--token-file` reads), so no token is copied
//! out of a TOML file by hand. A configuration is checked ([`Config::validate`]) before it is
//! written, so a written file always starts a server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use zeroize::Zeroizing;

use super::files;
use crate::config::{Config, Party, RoleName, Services, Template, TlsConfig};

/// `credence config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a documented configuration with a fresh token per party (mode 0600), and each
    /// party's token file.
    Init(Box<InitArgs>),
    /// Add a party (role, tenant, contributor id) to a configuration: a fresh token, appended
    /// to the file and written to the party's token file. Restart the server to use it.
    AddParty(AddPartyArgs),
}

/// A service a configuration turns on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ServiceName {
    /// `credence.v1.Datanet`: registrations and snapshots (an operator's).
    Datanet,
    /// `credence.v1.Prover`: claims (a contributor's own, inside its network).
    Prover,
    /// `credence.v1.Verifier`: verifying bundles.
    Verifier,
}

/// A role, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Registers contributions and publishes snapshots.
    Operator,
    /// Registers, reads its leaves and claims for its own contributor id.
    Contributor,
    /// Verifies bundles.
    Verifier,
    /// Reads the compliance log and verifies.
    Auditor,
}

impl From<RoleArg> for RoleName {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Operator => RoleName::Operator,
            RoleArg::Contributor => RoleName::Contributor,
            RoleArg::Verifier => RoleName::Verifier,
            RoleArg::Auditor => RoleName::Auditor,
        }
    }
}

/// `credence config init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The configuration file to write (refused if it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// The services this server runs (comma-separated). An operator: `datanet,verifier`; a
    /// contributor's own prover: `prover`.
    #[arg(long, value_delimiter = ',', default_value = "datanet,prover,verifier")]
    pub services: Vec<ServiceName>,
    /// Where to listen (off loopback: needs `--tls-cert`/`--tls-key`).
    #[arg(long, default_value = crate::config::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// The server's TLS certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The server's TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CA (PEM) of client certificates: every client must present one (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// The data directory (default: `credence-data` beside the configuration file).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The keys directory (default: `<data-dir>/keys`).
    #[arg(long)]
    pub keys_dir: Option<PathBuf>,
    /// A circuit shape `N,D` offered (repeatable; default 1,20 4,20 16,20).
    #[arg(long = "shape")]
    pub shapes: Vec<String>,
    /// The depth of the datanet's snapshots (default: the shapes' depth).
    #[arg(long)]
    pub depth: Option<u32>,
    /// The compliance log's name (default: `<host>/credence/<random>`, one per deployment).
    #[arg(long)]
    pub origin: Option<String>,
    /// A contributor token for this contributor id (decimal, as `credence contributor-id`
    /// prints it); a contributor's own prover needs one to accept its claims.
    #[arg(long)]
    pub contributor_id: Option<String>,
    /// The contributor token's tenant.
    #[arg(long, default_value = "hospital-a", requires = "contributor_id")]
    pub tenant: String,
    /// Where the token files go (default: the configuration file's directory).
    #[arg(long)]
    pub token_dir: Option<PathBuf>,
}

/// `credence config add-party`.
#[derive(Debug, Args)]
pub struct AddPartyArgs {
    /// The configuration file to add the party to.
    #[arg(long)]
    pub config: PathBuf,
    /// The party's role.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// The tenant it acts for (its jobs belong to it; names its token file).
    #[arg(long)]
    pub tenant: String,
    /// Contributors only: the contributor id it may act for (`credence contributor-id`).
    #[arg(long)]
    pub contributor_id: Option<String>,
    /// Where to write its token (default: `<tenant>.token` beside the configuration).
    #[arg(long)]
    pub token_out: Option<PathBuf>,
}

/// The token file of `party` in `dir`.
fn token_path(dir: &Path, tenant: &str) -> Result<PathBuf> {
    if tenant.is_empty()
        || !tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || tenant.starts_with('.')
    {
        bail!(
            "tenant `{tenant}` cannot name a token file: use letters, digits, `-`, `_` and `.`, \
             or give the file with --token-out"
        );
    }
    Ok(dir.join(format!("{tenant}.token")))
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn refuse_existing(paths: &[&Path]) -> Result<()> {
    for p in paths {
        if p.exists() {
            bail!("{} exists; not overwriting a token", p.display());
        }
    }
    Ok(())
}

fn write_token(path: &Path, party: &Party) -> Result<()> {
    let text = Zeroizing::new(format!("{}\n", party.token.as_str()));
    files::write_private(path, text.as_bytes())
}

fn role_name(r: RoleName) -> &'static str {
    match r {
        RoleName::Operator => "operator",
        RoleName::Contributor => "contributor",
        RoleName::Verifier => "verifier",
        RoleName::Auditor => "auditor",
    }
}

pub(crate) fn init(a: InitArgs) -> Result<()> {
    if a.out.exists() {
        bail!("{} exists; not overwriting its tokens", a.out.display());
    }
    if let Some(id) = &a.contributor_id {
        credence_verifier::encoding::fr_from_decimal("--contributor-id", id)?;
    }
    let services = Services {
        datanet: a.services.contains(&ServiceName::Datanet),
        prover: a.services.contains(&ServiceName::Prover),
        verifier: a.services.contains(&ServiceName::Verifier),
    };
    // Paths on the command line are relative to the working directory; in the file, to the
    // file's directory: each is written so that it names the same file from there.
    let config_dir = dir_of(&a.out);
    let seen_from_file = |p: PathBuf| -> Result<PathBuf> {
        if p.is_absolute() || config_dir == Path::new(".") {
            Ok(p)
        } else {
            std::path::absolute(&p).with_context(|| format!("resolving {}", p.display()))
        }
    };
    let mut t = Template::all_services(None);
    t.listen = a.listen;
    if let Some(d) = a.data_dir {
        t.data_dir = seen_from_file(d)?;
    }
    t.keys_dir = a.keys_dir.map(seen_from_file).transpose()?;
    if !a.shapes.is_empty() {
        t.shapes = a.shapes;
    }
    t.depth = a
        .depth
        .or_else(|| crate::config::common_depth(&t.shapes))
        .unwrap_or(credence_circuits::claim::DEFAULT_DEPTH);
    if let Some(origin) = a.origin {
        t.origin = origin;
    }
    t.tls = match a.tls_cert.zip(a.tls_key) {
        Some((cert, key)) => Some(TlsConfig {
            cert: seen_from_file(cert)?,
            key: seen_from_file(key)?,
            client_ca: a.client_ca.map(seen_from_file).transpose()?,
        }),
        None => None,
    };
    // A party per role this server answers: the operator's where it keeps the datanet, a
    // verifier's where it verifies, an auditor's always (every server keeps a log), and the
    // contributor's own where one was named.
    t.parties.clear();
    if services.datanet {
        t.parties
            .push(Party::new("operator", RoleName::Operator, None));
    }
    if let Some(id) = &a.contributor_id {
        t.parties
            .push(Party::new(&a.tenant, RoleName::Contributor, Some(id)));
    }
    if services.verifier {
        t.parties
            .push(Party::new("verifier", RoleName::Verifier, None));
    }
    t.parties
        .push(Party::new("auditor", RoleName::Auditor, None));
    t.services = services;
    if t.tls.is_none() && !t.listen.ip().is_loopback() {
        bail!(
            "--listen {} is off loopback: tokens, secrets and openings would cross the network \
             in clear; pass --tls-cert and --tls-key (or listen on 127.0.0.1 behind a proxy that \
             terminates TLS, and set `tls_terminated_in_front = true` in the file)",
            t.listen
        );
    }
    let text = t.render();
    let config: Config = toml::from_str(&text).context("the generated configuration")?;
    config
        .validate()
        .context("the configuration these options describe")?;
    let token_dir = a.token_dir.unwrap_or(config_dir);
    let paths = t
        .parties
        .iter()
        .map(|p| token_path(&token_dir, &p.tenant))
        .collect::<Result<Vec<_>>>()?;
    refuse_existing(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    std::fs::create_dir_all(&token_dir)
        .with_context(|| format!("creating {}", token_dir.display()))?;
    for (party, path) in t.parties.iter().zip(&paths) {
        write_token(path, party)?;
    }
    files::write_private(&a.out, text.as_bytes())?;
    let on: Vec<&str> = [
        ("datanet", t.services.datanet),
        ("prover", t.services.prover),
        ("verifier", t.services.verifier),
    ]
    .into_iter()
    .filter_map(|(n, b)| b.then_some(n))
    .collect();
    eprintln!(
        "wrote {} (mode 0600): {} on {} ({}), shapes {}, log origin {}",
        a.out.display(),
        on.join(", "),
        t.listen,
        if t.tls.is_some() { "TLS" } else { "no TLS" },
        t.shapes.join(" "),
        t.origin
    );
    eprintln!("token files (mode 0600); hand each to its holder over a private channel:");
    for (party, path) in t.parties.iter().zip(&paths) {
        eprintln!("  {:<28} {}", path.display(), role_name(party.role));
    }
    if t.services.prover && a.contributor_id.is_none() {
        eprintln!(
            "no contributor token: nobody can claim on this prover until one is added \
             (`credence config add-party --config {} --role contributor --tenant NAME \
             --contributor-id ID`)",
            a.out.display()
        );
    }
    Ok(())
}

pub(crate) fn add_party(a: AddPartyArgs) -> Result<()> {
    let role = RoleName::from(a.role);
    match (role, &a.contributor_id) {
        (RoleName::Contributor, None) => {
            bail!("a contributor needs --contributor-id (its `credence contributor-id`)")
        }
        (RoleName::Contributor, Some(id)) => {
            credence_verifier::encoding::fr_from_decimal("--contributor-id", id)?;
        }
        (_, Some(_)) => bail!("only a contributor has --contributor-id"),
        (_, None) => {}
    }
    let old = files::read_private(&a.config)?;
    // Checked as it is first: a party is added to a file that works, not to one that doesn't.
    let before: Config =
        toml::from_str(&old).with_context(|| format!("parsing {}", a.config.display()))?;
    before.validate()?;
    let party = Party::new(&a.tenant, role, a.contributor_id.as_deref());
    let token_out = match a.token_out {
        Some(p) => p,
        None => token_path(&dir_of(&a.config), &a.tenant)?,
    };
    refuse_existing(&[&token_out])?;
    let mut text = Zeroizing::new(old.to_string());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&party.toml());
    let after: Config = toml::from_str(&text).context("the configuration with the new party")?;
    after.validate()?;
    write_token(&token_out, &party)?;
    files::write_private(&a.config, text.as_bytes())?;
    eprintln!(
        "added {} `{}`{} to {}; its token is in {} (mode 0600): hand it over a private \
         channel, and restart the server to accept it",
        role_name(role),
        a.tenant,
        a.contributor_id
            .as_deref()
            .map(|id| format!(" (contributor id {}…)", &id[..id.len().min(12)]))
            .unwrap_or_default(),
        a.config.display(),
        token_out.display()
    );
    Ok(())
}
