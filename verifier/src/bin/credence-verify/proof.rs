//! `credence-verify proof BUNDLE --vk KEY [--snapshot SNAPSHOT.json] [--json]`

use std::path::PathBuf;

use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::verify_bundle;

use crate::common::{Exit, Verdict, load_ring, print_json, read_bundle, read_snapshot};

#[derive(clap::Args)]
pub struct Args {
    /// The claim bundle (JSON).
    bundle: PathBuf,
    /// A trusted verifying key, `[CIRCUIT_ID=]PATH` of canonical compressed bytes; without
    /// `CIRCUIT_ID=` the file stem is the circuit id. May be repeated.
    #[arg(long = "vk", required = true)]
    vk: Vec<String>,
    /// The published snapshot: a statement naming another snapshot is invalid.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Print a JSON verdict instead of a line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Exit {
    let name = args.bundle.display().to_string();
    let (exit, verdict) = check(args, &name);
    if args.json {
        print_json(&verdict);
    } else {
        println!("{}", verdict.line());
    }
    exit
}

fn check(args: &Args, name: &str) -> (Exit, Verdict) {
    let malformed = |e: &dyn std::fmt::Display| {
        (
            Exit::Malformed,
            Verdict::new(name, Exit::Malformed, e.to_string()),
        )
    };
    let ring = match load_ring(&args.vk) {
        Ok(r) => r,
        Err(e) => return malformed(&e),
    };
    let snapshot = match args.snapshot.as_deref().map(read_snapshot).transpose() {
        Ok(s) => s,
        Err(e) => return malformed(&e),
    };
    let bundle = match read_bundle(&args.bundle) {
        Ok(b) => b,
        Err(e) => return malformed(&e),
    };
    let mut v = Verdict::new(name, Exit::Valid, String::new());
    v.circuit_id = Some(bundle.circuit_id.to_string());
    v.vk_fingerprint = Some(bundle.vk_fingerprint.to_hex());
    let result = verify_bundle(&ring, &bundle).map_err(|e| (Exit::of(&e), e.to_string()));
    let result = result.and_then(|claim| match &snapshot {
        Some(s) => s
            .check_statement(claim.statement())
            .map(|()| claim)
            .map_err(|e| (Exit::Invalid, format!("invalid: {e}"))),
        None => Ok(claim),
    });
    match result {
        Ok(claim) => {
            let s = claim.statement();
            v.contributor_id = Some(fr_to_decimal(&s.contributor_id));
            v.payout = Some(s.payout.to_string());
            v.reason = format!(
                "proof verifies: epoch {}, contributor {}, range [{}, {}), weight {}, payout {}{}",
                s.epoch,
                fr_to_decimal(&s.contributor_id),
                s.range_start,
                s.range_end,
                s.claimed_weight,
                s.payout,
                if snapshot.is_some() {
                    ", matches the snapshot"
                } else {
                    ""
                }
            );
            (Exit::Valid, v)
        }
        Err((exit, reason)) => {
            v.verdict = exit.word();
            // `Error`'s Display starts with its class; keep the line "bundle: class: why".
            v.reason = reason
                .strip_prefix(&format!("{}: ", exit.word()))
                .map(str::to_owned)
                .unwrap_or(reason);
            (exit, v)
        }
    }
}
