//! `credence register`: registers a contributor's unregistered commitments with a datanet.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use credence_proto::v1 as pb;

use super::client::{ServerArg, channel, refused};
use super::files;

/// `credence register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Server.
    #[command(flatten)]
    pub server: ServerArg,
    /// The openings file whose unregistered commitments to register.
    #[arg(long, default_value = "openings.json")]
    pub openings: PathBuf,
    /// Print no line per file.
    #[arg(long)]
    pub quiet: bool,
}

pub(crate) async fn register(a: RegisterArgs) -> Result<()> {
    let mut openings = files::Openings::load(&a.openings)?;
    let pending = openings
        .openings
        .iter()
        .filter(|o| o.leaf_index.is_none())
        .count();
    if pending == 0 {
        println!(
            "nothing to register: all {} openings in {} already have a leaf",
            openings.openings.len(),
            a.openings.display()
        );
        return Ok(());
    }
    let remote = a.server.remote();
    let mut client = pb::datanet_client::DatanetClient::new(channel(&a.server).await?);
    let (mut created, mut known) = (0usize, 0usize);
    let mut failure = None;
    for o in openings
        .openings
        .iter_mut()
        .filter(|o| o.leaf_index.is_none())
    {
        let r = match client
            .register(pb::RegisterRequest {
                contributor_id: openings.contributor_id.clone(),
                commitment: o.commitment.clone(),
            })
            .await
        {
            Ok(r) => r.into_inner(),
            Err(e) => {
                let denied = e.code() == tonic::Code::PermissionDenied;
                let mut err = refused(&remote, "Register")(e).context(format!(
                    "registering {} for contributor {} (the id in {})",
                    o.file,
                    files::short_id(&openings.contributor_id),
                    a.openings.display()
                ));
                if denied {
                    err = err.context(
                        "the token sent is not the one the operator issued for this contributor \
                         (each hospital has its own token file)",
                    );
                }
                failure = Some(err);
                break;
            }
        };
        o.leaf_index = Some(r.leaf_index);
        if r.created {
            created += 1;
        } else {
            known += 1;
        }
        if !a.quiet {
            let what = if r.created { "new " } else { "kept" };
            println!("leaf {:<6} {what}  {}", r.leaf_index, o.file);
        }
    }
    // What was registered is kept even if a later registration failed: registering again
    // answers the same leaves, but the file should not have to wait for that.
    if created + known > 0 {
        openings.save(&a.openings)?;
    }
    let done = created + known;
    if done == 0
        && let Some(e) = failure.take()
    {
        return Err(e);
    }
    println!(
        "registered {done} of {pending}: {created} new, {known} already registered; {}",
        if done > 0 {
            format!("leaf indices written to {}", a.openings.display())
        } else {
            "nothing written".to_owned()
        }
    );
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
