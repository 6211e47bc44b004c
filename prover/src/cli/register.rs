//! `credence register`: registers a contributor's unregistered commitments with a datanet.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use credence_proto::v1 as pb;

use super::client::{ServerArg, channel, status};
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
    let mut client = pb::datanet_client::DatanetClient::new(channel(&a.server).await?);
    for o in openings
        .openings
        .iter_mut()
        .filter(|o| o.leaf_index.is_none())
    {
        let r = client
            .register(pb::RegisterRequest {
                contributor_id: openings.contributor_id.clone(),
                commitment: o.commitment.clone(),
            })
            .await
            .map_err(status)?
            .into_inner();
        o.leaf_index = Some(r.leaf_index);
        if !a.quiet {
            println!("leaf {}  {}", r.leaf_index, o.file);
        }
    }
    openings.save(&a.openings)?;
    Ok(())
}
