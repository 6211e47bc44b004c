//! `credence commit`: a contributor's commitments to its files, made offline.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use credence_circuits::commitment;
use credence_verifier::encoding::fr_to_decimal;
use zeroize::Zeroizing;

use super::files;

/// `credence commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Files to commit to (never sent anywhere).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The contributor secret file (created if absent).
    #[arg(long, default_value = "secret.key")]
    pub secret: PathBuf,
    /// The openings file (created or extended).
    #[arg(long, default_value = "openings.json")]
    pub openings: PathBuf,
    /// Print no line per file.
    #[arg(long)]
    pub quiet: bool,
}

pub(crate) fn commit(a: CommitArgs) -> Result<()> {
    let (secret, created) = files::load_or_create_secret(&a.secret)?;
    if created {
        eprintln!(
            "created {} (mode 0600): keep it; it is your identity",
            a.secret.display()
        );
    }
    let id = commitment::contributor_id(&secret);
    let mut openings = files::Openings::load_or_new(&a.openings, &id)?;
    println!("contributor_id {}", fr_to_decimal(&id));
    for file in &a.files {
        let digest = Zeroizing::new(files::file_digest(file)?);
        let blinding = Zeroizing::new(files::random_fr());
        let cm = commitment::commitment(&digest, &blinding);
        openings.openings.push(files::Opening {
            file: file.display().to_string(),
            digest: fr_to_decimal(&digest),
            blinding: fr_to_decimal(&blinding),
            commitment: fr_to_decimal(&cm),
            leaf_index: None,
        });
        if !a.quiet {
            println!("{}  {}", fr_to_decimal(&cm), file.display());
        }
    }
    openings.save(&a.openings)?;
    eprintln!("openings written to {} (mode 0600)", a.openings.display());
    Ok(())
}

/// `credence contributor-id`.
#[derive(Debug, Args)]
pub struct ContributorIdArgs {
    /// The contributor secret file.
    #[arg(long, default_value = "secret.key")]
    pub secret: PathBuf,
    /// Make a fresh secret (mode 0600) if the file does not exist.
    #[arg(long)]
    pub create: bool,
}

/// Prints the contributor id `H(secret)`: public, and what the operator's token for this
/// contributor names, so a contributor can hand it over before committing to any file.
pub(crate) fn contributor_id(a: ContributorIdArgs) -> Result<()> {
    let secret = if a.create {
        let (secret, created) = files::load_or_create_secret(&a.secret)?;
        if created {
            eprintln!(
                "created {} (mode 0600): keep it; it is your identity",
                a.secret.display()
            );
        }
        secret
    } else if !a.secret.exists() {
        anyhow::bail!(
            "{} does not exist: `credence contributor-id --create` makes a fresh secret",
            a.secret.display()
        );
    } else {
        files::load_secret(&a.secret)?
    };
    println!("{}", fr_to_decimal(&commitment::contributor_id(&secret)));
    Ok(())
}
