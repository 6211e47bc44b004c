//! `credence verify`: verifies bundles on a server's Verifier service.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use credence_proto::v1 as pb;

use super::client::{ServerArg, channel, refused};

/// `credence verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Server.
    #[command(flatten)]
    pub server: ServerArg,
    /// Bundle files.
    #[arg(required = true)]
    pub bundles: Vec<PathBuf>,
}

pub(crate) async fn verify(a: VerifyArgs) -> Result<i32> {
    let mut client = pb::verifier_client::VerifierClient::new(channel(&a.server).await?);
    let mut all_valid = true;
    for path in &a.bundles {
        let json =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v = client
            .verify_bundle(pb::VerifyBundleRequest { bundle_json: json })
            .await
            .map_err(refused(&a.server.remote(), "VerifyBundle"))?
            .into_inner();
        if v.valid {
            println!("valid    {}  payout {}", path.display(), v.payout);
        } else {
            all_valid = false;
            println!("INVALID  {}  {}", path.display(), v.reason);
        }
    }
    Ok(if all_valid { 0 } else { 1 })
}
