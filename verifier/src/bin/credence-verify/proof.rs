//! `credence-verify proof BUNDLE --vk KEY [--snapshot SNAPSHOT.json] [--json]`

use std::path::PathBuf;

use credence_verifier::encoding::fr_to_decimal;
use credence_verifier::verify_bundle;

use crate::common::{
    Exit, Keys, Verdict, input_failure, load_ring, print_json, read_bundle, read_snapshot,
};

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
    // The keys first, before the bundle is read: a key that cannot be loaded is the command
    // line's problem and is reported as such, not as this bundle's verdict.
    let keys = match load_ring(&args.vk) {
        Ok(k) => k,
        Err(e) => return input_failure(&e, args.json),
    };
    let name = args.bundle.display().to_string();
    let (exit, verdict) = check(args, &keys, &name);
    if args.json {
        print_json(&verdict);
    } else {
        println!("{}", verdict.line());
    }
    exit
}

fn check(args: &Args, keys: &Keys, name: &str) -> (Exit, Verdict) {
    let malformed = |e: &dyn std::fmt::Display| {
        (
            Exit::Malformed,
            Verdict::new(name, Exit::Malformed, e.to_string()),
        )
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
    // Reasons without the class prefix: the line is "bundle: class: why".
    let result = verify_bundle(&keys.ring, &bundle).map_err(|e| (Exit::of(&e), keys.reason(&e)));
    let result = result.and_then(|claim| match &snapshot {
        Some(s) => s
            .check_statement(claim.statement())
            .map(|()| claim)
            .map_err(|e| (Exit::Invalid, e.to_string())),
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
            v.reason = reason;
            (exit, v)
        }
    }
}
