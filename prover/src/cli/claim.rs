//! `credence claim`: proves a claim on a server (the contributor's own prover, reading the
//! snapshot there or on the operator's datanet) and writes its bundle.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use credence_proto::v1 as pb;
use credence_verifier::encoding::fr_to_decimal;

use super::client::{DatanetArg, ServerArg, channel, connect, refused};
use super::files;
use super::progress::spinner;

/// `credence claim`.
#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// The server that proves (its Prover service).
    #[command(flatten)]
    pub server: ServerArg,
    /// The operator's Datanet, when it is not `--server`.
    #[command(flatten)]
    pub datanet: DatanetArg,
    /// The snapshot's epoch.
    #[arg(long)]
    pub epoch: u64,
    /// The contributor secret file.
    #[arg(long, default_value = "secret.key")]
    pub secret: PathBuf,
    /// The openings file.
    #[arg(long, default_value = "openings.json")]
    pub openings: PathBuf,
    /// The claimed range `START..END` (default: the whole tree, revealing no positions).
    #[arg(long)]
    pub range: Option<String>,
    /// Where to write the bundle.
    #[arg(long, default_value = "bundle.json")]
    pub out: PathBuf,
}

fn parse_range(s: &str) -> Result<(u64, u64)> {
    let (a, b) = s.split_once("..").context("--range is START..END")?;
    Ok((
        a.parse().context("range start")?,
        b.parse().context("range end")?,
    ))
}

pub(crate) async fn claim(a: ClaimArgs) -> Result<()> {
    let secret = files::load_secret(&a.secret)?;
    let openings = files::Openings::load(&a.openings)?;
    // One contributor's openings with another's secret can never be claimed; say which two
    // files disagree before any server is asked (a server could only blame the token).
    let id = fr_to_decimal(&credence_circuits::commitment::contributor_id(&secret));
    if id != openings.contributor_id {
        bail!(
            "{} belongs to contributor {}, but {} was made for contributor {}: use the secret \
             and the openings of one contributor (both come from its `credence commit`)",
            a.secret.display(),
            files::short_id(&id),
            a.openings.display(),
            files::short_id(&openings.contributor_id)
        );
    }
    let ch = channel(&a.server).await?;
    let prover_remote = a.server.remote();
    // The snapshot and our leaves in it: on the prover's own server, or on the operator's
    // Datanet, in which case they travel with the claim.
    let foreign = a.datanet.remote();
    let datanet_ch = match &foreign {
        Some(remote) => connect(remote).await?,
        None => ch.clone(),
    };
    let datanet_remote = foreign.as_ref().unwrap_or(&prover_remote);
    let leaves = pb::datanet_client::DatanetClient::new(datanet_ch)
        .get_leaves(pb::GetLeavesRequest {
            epoch: a.epoch,
            contributor_id: openings.contributor_id.clone(),
        })
        .await
        .map_err(|e| {
            let token = if foreign.is_some() {
                "--datanet-token-file (or CREDENCE_DATANET_TOKEN)"
            } else {
                "--token-file (or CREDENCE_TOKEN)"
            };
            denied_hint(e, refused(datanet_remote, "GetLeaves"), token)
        })
        .with_context(|| {
            format!(
                "reading contributor {}'s leaves of epoch {}",
                files::short_id(&id),
                a.epoch
            )
        })?
        .into_inner();
    let (range_start, range_end) = match &a.range {
        Some(r) => {
            let (s, e) = parse_range(r)?;
            (Some(s), Some(e))
        }
        None => (None, None),
    };
    // A range claims the contributions inside it (the statement reveals only the range).
    let in_range = |i: u64| range_start.is_none_or(|s| i >= s) && range_end.is_none_or(|e| i < e);
    let weighted: std::collections::BTreeMap<u64, &pb::Leaf> = leaves
        .leaves
        .iter()
        .filter(|l| in_range(l.leaf_index))
        .map(|l| (l.leaf_index, l))
        .collect();
    let mut mine: Vec<(&files::Opening, &pb::Leaf)> = openings
        .openings
        .iter()
        .filter_map(|o| Some((o, *weighted.get(&o.leaf_index?)?)))
        .collect();
    mine.sort_by_key(|(o, _)| o.leaf_index);
    if mine.is_empty() {
        bail!(
            "none of the registered openings has a weight in epoch {}{}",
            a.epoch,
            a.range
                .as_deref()
                .map_or(String::new(), |r| format!(" within {r}"))
        );
    }
    // A leaf that holds another commitment than our opening (an openings file registered
    // elsewhere) cannot be proven: say which before anything is sent to the prover.
    for (o, leaf) in &mine {
        let ours = credence_verifier::encoding::fr_from_decimal("commitment", &o.commitment)?;
        let theirs = credence_verifier::encoding::fr_from_decimal("commitment", &leaf.commitment)?;
        if ours != theirs {
            bail!(
                "leaf {} of epoch {} holds commitment {}, not this opening's {} ({}): is {} the \
                 openings file registered with this datanet?",
                leaf.leaf_index,
                a.epoch,
                leaf.commitment,
                o.commitment,
                o.file,
                a.openings.display()
            );
        }
    }
    let snapshot = match &foreign {
        Some(remote) => {
            let s = leaves
                .snapshot
                .clone()
                .with_context(|| format!("{} sent no snapshot", remote.url))?;
            eprintln!(
                "snapshot of epoch {} read from {}: root {}, total weight {}, revenue {}",
                s.epoch, remote.url, s.root, s.total_weight, s.revenue
            );
            Some(pb::SnapshotRef {
                depth: s.depth,
                root: s.root,
                total_weight: s.total_weight,
                revenue: s.revenue,
            })
        }
        None => None,
    };
    let request = pb::SubmitClaimRequest {
        secret: fr_to_decimal(&secret),
        epoch: a.epoch,
        contributions: mine
            .iter()
            .map(|(o, leaf)| pb::ClaimContribution {
                data: Some(pb::claim_contribution::Data::Digest(o.digest.clone())),
                blinding: o.blinding.clone(),
                leaf_index: leaf.leaf_index,
                leaf: snapshot.is_some().then(|| pb::LeafProof {
                    weight: leaf.weight,
                    path: leaf.path.clone(),
                }),
            })
            .collect(),
        range_start,
        range_end,
        snapshot,
    };
    let mut prover = pb::prover_client::ProverClient::new(ch);
    let mut resubmissions = 0;
    let last = loop {
        let last = submit_and_watch(&mut prover, &request, &prover_remote, &id, mine.len()).await?;
        // A job whose server stopped before finishing (a restart, or a replica that died and
        // lost its lease) is failed "interrupted, resubmit": the same request is idempotent,
        // so it is resubmitted, and the server (any replica) starts it again.
        if last.state == pb::JobState::Failed as i32
            && last.failure == crate::store::INTERRUPTED
            && resubmissions < MAX_RESUBMISSIONS
        {
            resubmissions += 1;
            eprintln!(
                "job {} was interrupted (its server stopped before finishing): resubmitting",
                last.job_id
            );
            continue;
        }
        break last;
    };
    if last.state != pb::JobState::Done as i32 {
        bail!(
            "job {} ended {}: {}",
            last.job_id,
            state_name(last.state),
            last.failure
        );
    }
    let bundle = prover
        .get_bundle(pb::JobRequest {
            job_id: last.job_id.clone(),
        })
        .await
        .map_err(refused(&prover_remote, "GetBundle"))?
        .into_inner();
    std::fs::write(&a.out, &bundle.bundle_json)
        .with_context(|| format!("writing {}", a.out.display()))?;
    let parsed = credence_verifier::ClaimBundle::from_json(&bundle.bundle_json)?;
    println!("bundle      {}", a.out.display());
    println!("payout      {}", parsed.statement.payout);
    println!(
        "claimed     {} of {}",
        parsed.statement.claimed_weight, parsed.statement.total_weight
    );
    Ok(())
}

/// How many times `credence claim` resubmits a job that was interrupted.
const MAX_RESUBMISSIONS: u32 = 3;

/// Submits the claim and follows its job to its end; returns the job's last state.
async fn submit_and_watch(
    prover: &mut pb::prover_client::ProverClient<super::client::AuthChannel>,
    request: &pb::SubmitClaimRequest,
    prover_remote: &super::client::Remote<'_>,
    id: &str,
    contributions: usize,
) -> Result<pb::Job> {
    let job = prover
        .submit_claim(request.clone())
        .await
        .map_err(|e| {
            denied_hint(
                e,
                refused(prover_remote, "SubmitClaim"),
                "--token-file (or CREDENCE_TOKEN)",
            )
        })
        .with_context(|| {
            format!(
                "claiming for contributor {} on its prover",
                files::short_id(id)
            )
        })?
        .into_inner();
    eprintln!(
        "job {} ({}), {} contributions",
        job.job_id, job.circuit_id, contributions
    );
    let bar = spinner("queued".into());
    let mut stream = prover
        .watch_job(pb::JobRequest {
            job_id: job.job_id.clone(),
        })
        .await
        .map_err(refused(prover_remote, "WatchJob"))?
        .into_inner();
    let mut last = job;
    while let Some(ev) = stream
        .message()
        .await
        .map_err(refused(prover_remote, "WatchJob"))?
    {
        bar.set_message(state_name(ev.state).to_owned());
        last = ev;
    }
    bar.finish_and_clear();
    Ok(last)
}

fn state_name(s: i32) -> &'static str {
    pb::JobState::try_from(s).map_or("unknown", |s| match s {
        pb::JobState::Unspecified => "unknown",
        pb::JobState::Queued => "queued",
        pb::JobState::Witness => "computing the witness",
        pb::JobState::Proving => "proving",
        pb::JobState::Verifying => "verifying",
        pb::JobState::Logged => "logged",
        pb::JobState::Done => "done",
        pb::JobState::Failed => "failed",
        pb::JobState::Cancelled => "cancelled",
    })
}

/// `refuse(e)`, and for PERMISSION_DENIED which token to look at: the secret and the openings
/// agree (checked before any call), so a refused contributor id means a token issued for
/// another contributor.
fn denied_hint(
    e: tonic::Status,
    refuse: impl Fn(tonic::Status) -> anyhow::Error,
    token: &str,
) -> anyhow::Error {
    let denied = e.code() == tonic::Code::PermissionDenied;
    let err = refuse(e);
    if denied {
        err.context(format!(
            "the token from {token} is not the one issued for this contributor (each hospital \
             has its own token file at each server)"
        ))
    } else {
        err
    }
}
