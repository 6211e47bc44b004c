//! `credence register`: registers a contributor's unregistered commitments with a datanet.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use credence_proto::v1 as pb;

use super::client::{ServerArg, channel, refused};
use super::files;
use crate::service::datanet::MAX_REGISTER_BATCH;

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
    let contributor_id = openings.contributor_id.clone();
    let mut unregistered: Vec<&mut files::Opening> = openings
        .openings
        .iter_mut()
        .filter(|o| o.leaf_index.is_none())
        .collect();
    // One RegisterBatch per chunk: each chunk is one transaction on the server (all of it or
    // none), so a failure leaves the earlier chunks registered and written below.
    for chunk in unregistered.chunks_mut(MAX_REGISTER_BATCH) {
        let request = pb::RegisterBatchRequest {
            registrations: chunk
                .iter()
                .map(|o| pb::RegisterRequest {
                    contributor_id: contributor_id.clone(),
                    commitment: o.commitment.clone(),
                })
                .collect(),
        };
        let answers = match client.register_batch(request).await {
            Ok(r) => r.into_inner().registrations,
            Err(e) => {
                let denied = e.code() == tonic::Code::PermissionDenied;
                // The server names `registrations[i]`; say which file that is.
                let file = registration_index(e.message())
                    .and_then(|i| chunk.get(i))
                    .map_or_else(
                        || format!("{} openings from {}", chunk.len(), chunk[0].file),
                        |o| o.file.clone(),
                    );
                let mut err = refused(&remote, "RegisterBatch")(e).context(format!(
                    "registering {file} for contributor {} (the id in {})",
                    files::short_id(&contributor_id),
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
        if answers.len() != chunk.len() {
            failure = Some(anyhow::anyhow!(
                "{} answered {} registrations for {} sent",
                remote.url,
                answers.len(),
                chunk.len()
            ));
            break;
        }
        for (o, r) in chunk.iter_mut().zip(answers) {
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

/// The `i` of the first `registrations[i]` a status message names.
fn registration_index(message: &str) -> Option<usize> {
    let rest = &message[message.find("registrations[")? + "registrations[".len()..];
    rest[..rest.find(']')?].parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refused_registration_is_found_in_the_message() {
        assert_eq!(
            super::registration_index("registrations[17]: this tenant has 4 contributions"),
            Some(17)
        );
        assert_eq!(
            super::registration_index("invalid registrations[3].commitment: not canonical"),
            Some(3)
        );
        assert_eq!(super::registration_index("the datanet is full"), None);
    }
}
