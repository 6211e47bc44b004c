//! `credence-verify batch BUNDLE... --vk KEY [--json]`: one multi-pairing per key.

use std::path::PathBuf;

use credence_verifier::{ClaimBundle, verify_bundles};

use crate::common::{Exit, Verdict, input_failure, load_ring, print_json, read_bundle};

#[derive(clap::Args)]
pub struct Args {
    /// The claim bundles.
    #[arg(required = true)]
    bundles: Vec<PathBuf>,
    /// A trusted verifying key, `[CIRCUIT_ID=]PATH`; may be repeated.
    #[arg(long = "vk", required = true)]
    vk: Vec<String>,
    /// Print JSON verdicts.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Exit {
    let keys = match load_ring(&args.vk) {
        Ok(k) => k,
        Err(e) => return input_failure(&e, args.json),
    };
    let names: Vec<String> = args
        .bundles
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut verdicts: Vec<Option<(Exit, Verdict)>> = Vec::with_capacity(names.len());
    let mut decoded: Vec<ClaimBundle> = Vec::new();
    let mut positions: Vec<usize> = Vec::new();
    for (i, path) in args.bundles.iter().enumerate() {
        match read_bundle(path) {
            Ok(b) => {
                decoded.push(b);
                positions.push(i);
                verdicts.push(None);
            }
            Err(e) => verdicts.push(Some((
                Exit::Malformed,
                Verdict::new(&names[i], Exit::Malformed, e.to_string()),
            ))),
        }
    }
    let results = verify_bundles(&keys.ring, &decoded, &mut ark_std::rand::rngs::OsRng);
    for ((&i, result), bundle) in positions.iter().zip(results).zip(&decoded) {
        let v = match result {
            Ok(_) => (
                Exit::Valid,
                Verdict::new(
                    &names[i],
                    Exit::Valid,
                    format!("proof verifies (payout {})", bundle.statement.payout),
                ),
            ),
            Err(e) => {
                let exit = Exit::of(&e);
                (exit, Verdict::new(&names[i], exit, keys.reason(&e)))
            }
        };
        verdicts[i] = Some(v);
    }
    let verdicts: Vec<(Exit, Verdict)> = verdicts.into_iter().flatten().collect();
    let worst = verdicts
        .iter()
        .map(|(e, _)| *e)
        .max()
        .unwrap_or(Exit::Valid);
    let bad = verdicts.iter().filter(|(e, _)| *e != Exit::Valid).count();
    if args.json {
        let list: Vec<&Verdict> = verdicts.iter().map(|(_, v)| v).collect();
        print_json(&list);
    } else {
        for (_, v) in &verdicts {
            println!("{}", v.line());
        }
        println!(
            "{}: {} of {} bundles verify",
            worst.word(),
            verdicts.len() - bad,
            verdicts.len()
        );
    }
    worst
}
