//! `credence-verify settle --snapshot SNAPSHOT.json --vk KEY... BUNDLE... [--json]`
//!
//! Verifies every bundle (one multi-pairing per key), then admits the verified claims in the
//! order given. Prints the payout table by contributor id, the undistributed remainder and the
//! refused claims. Exit 0 if every claim was admitted, 1 if some were refused, 2 if an input was
//! malformed.

use std::path::PathBuf;

use credence_verifier::settlement::{Settlement, SettlementReport};
use credence_verifier::{ClaimBundle, verify_bundles};
use serde::Serialize;

use crate::common::{Exit, input_failure, load_ring, print_json, read_bundle, read_snapshot};

#[derive(clap::Args)]
pub struct Args {
    /// The published snapshot.
    #[arg(long, required = true)]
    snapshot: PathBuf,
    /// A trusted verifying key, `[CIRCUIT_ID=]PATH`; may be repeated.
    #[arg(long = "vk", required = true)]
    vk: Vec<String>,
    /// The claim bundles, admitted in this order.
    #[arg(required = true)]
    bundles: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Refused {
    bundle: String,
    class: &'static str,
    reason: String,
}

#[derive(Serialize)]
struct Output {
    report: SettlementReport,
    admitted: usize,
    refused: Vec<Refused>,
}

pub fn run(args: &Args) -> Exit {
    let inputs = load_ring(&args.vk).and_then(|r| Ok((r, read_snapshot(&args.snapshot)?)));
    let (keys, snapshot) = match inputs {
        Ok(x) => x,
        Err(e) => return input_failure(&e, args.json),
    };
    let mut refused = Vec::new();
    let mut decoded: Vec<(String, ClaimBundle)> = Vec::new();
    let mut worst = Exit::Valid;
    for path in &args.bundles {
        let name = path.display().to_string();
        match read_bundle(path) {
            Ok(b) => decoded.push((name, b)),
            Err(e) => {
                worst = worst.max(Exit::Malformed);
                refused.push(Refused {
                    bundle: name,
                    class: Exit::Malformed.word(),
                    reason: e.to_string(),
                });
            }
        }
    }
    let bundles: Vec<ClaimBundle> = decoded.iter().map(|(_, b)| b.clone()).collect();
    let results = verify_bundles(&keys.ring, &bundles, &mut ark_std::rand::rngs::OsRng);
    let mut settlement = Settlement::new(snapshot);
    let mut admitted = 0;
    for ((name, _), result) in decoded.iter().zip(results) {
        let outcome = match result {
            Ok(claim) => settlement
                .admit(&claim)
                .map_err(|r| (Exit::Invalid, r.to_string())),
            Err(e) => Err((Exit::of(&e), keys.reason(&e))),
        };
        match outcome {
            Ok(()) => admitted += 1,
            Err((exit, reason)) => {
                worst = worst.max(exit);
                refused.push(Refused {
                    bundle: name.clone(),
                    class: exit.word(),
                    reason,
                });
            }
        }
    }
    let report = settlement.report();
    if args.json {
        print_json(&Output {
            report,
            admitted,
            refused,
        });
    } else {
        let s = &report.snapshot;
        println!(
            "epoch {} depth {} root {} total_weight {} revenue {}",
            s.epoch, s.depth, s.root, s.total_weight, s.revenue
        );
        println!("contributor_id\tclaims\tclaimed_weight\tpayout");
        for line in &report.payouts {
            println!(
                "{}\t{}\t{}\t{}",
                line.contributor_id, line.claims, line.claimed_weight, line.payout
            );
        }
        println!(
            "paid {} of {}; undistributed {}",
            report.paid, s.revenue, report.undistributed
        );
        for r in &refused {
            println!("refused {}: {}: {}", r.bundle, r.class, r.reason);
        }
        println!(
            "{}: {admitted} admitted, {} refused",
            worst.word(),
            refused.len()
        );
    }
    worst
}
