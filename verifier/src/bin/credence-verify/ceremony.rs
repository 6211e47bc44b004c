//! `credence-verify ceremony --vk KEY --zkey FINAL.zkey [--r1cs CIRCUIT.r1cs --ptau POT.ptau] [--json]`
//!
//! Where a verifying key came from, read from its ceremony's transcript (the final `.zkey`, a
//! public file): checks that the key is the transcript's final key, and prints the circuit hash
//! and every contribution (name, hash, beacon) so each participant can find its own. With the
//! circuit and the powers of tau it also re-verifies the whole transcript, every check of
//! `snarkjs zkey verify`. Exit 0 when the key is the transcript's (and, if asked, the transcript
//! verifies), 1 when not, 2 when an input cannot be read or parsed.

use std::path::PathBuf;

use credence_ceremony::zkey::ContributionKind;
use credence_ceremony::{Ptau, R1cs, Zkey, format_hash};
use credence_verifier::VerifyingKey;
use serde::Serialize;

use crate::common::{Exit, input_failure, load_any_key, print_json};

#[derive(clap::Args)]
pub struct Args {
    /// The verifying key to trace, `[CIRCUIT_ID=]PATH`.
    #[arg(long)]
    vk: String,
    /// The ceremony's final key (its transcript).
    #[arg(long)]
    zkey: PathBuf,
    /// The circuit (`credence ceremony r1cs` or the coordinator's published file); with
    /// `--ptau`, re-verify the whole transcript.
    #[arg(long, requires = "ptau")]
    r1cs: Option<PathBuf>,
    /// The phase-2-prepared powers of tau the ceremony started from.
    #[arg(long, requires = "r1cs")]
    ptau: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Contribution {
    index: usize,
    name: String,
    hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    beacon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    beacon_iterations_exp: Option<u8>,
}

#[derive(Serialize)]
struct Report {
    verdict: &'static str,
    reason: String,
    circuit_id: String,
    vk_fingerprint: String,
    circuit_hash: String,
    contributions: Vec<Contribution>,
    transcript_verified: bool,
}

pub fn run(args: &Args) -> Exit {
    let (circuit_id, key) = match load_any_key(&args.vk) {
        Ok(k) => k,
        // The key's problem, not the transcript's: no line prefixed with the .zkey path.
        Err(e) => return input_failure(&e, args.json),
    };
    let zkey = match Zkey::open(&args.zkey) {
        Ok(z) => z,
        Err(e) => {
            return fail(
                args,
                Exit::Malformed,
                format!("{}: {e}", args.zkey.display()),
            );
        }
    };
    let mut report = Report {
        verdict: Exit::Valid.word(),
        reason: String::new(),
        circuit_id: circuit_id.to_string(),
        vk_fingerprint: key.fingerprint().to_hex(),
        circuit_hash: hex::encode(zkey.circuit_hash()),
        contributions: zkey
            .mpc
            .contributions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (beacon, beacon_iterations_exp) = match &c.kind {
                    ContributionKind::Beacon {
                        hash,
                        iterations_exp,
                    } => (Some(hex::encode(hash)), Some(*iterations_exp)),
                    _ => (None, None),
                };
                Contribution {
                    index: i + 1,
                    name: c.name.clone().unwrap_or_default(),
                    hash: hex::encode(c.contribution_hash()),
                    beacon,
                    beacon_iterations_exp,
                }
            })
            .collect(),
        transcript_verified: false,
    };
    let h = &zkey.header;
    let final_key = VerifyingKey {
        alpha_g1: h.alpha_g1,
        beta_g2: h.beta_g2,
        gamma_g2: h.gamma_g2,
        delta_g2: h.delta_g2,
        gamma_abc_g1: zkey.ic.clone(),
    };
    let mut exit = Exit::Valid;
    if &final_key != key.vk() {
        exit = Exit::Invalid;
        report.reason = format!(
            "{} is not the final key of {}",
            args.vk,
            args.zkey.display()
        );
    } else if let (Some(r1cs), Some(ptau)) = (&args.r1cs, &args.ptau) {
        match full_check(r1cs, ptau, &zkey) {
            Ok(()) => {
                report.transcript_verified = true;
                report.reason = "the key is the transcript's final key; the transcript \
                                 verifies against the circuit and the powers of tau"
                    .into();
            }
            Err((e, reason)) => {
                exit = e;
                report.reason = reason;
            }
        }
    } else {
        report.reason = "the key is the transcript's final key (transcript not re-verified: \
                         pass --r1cs and --ptau)"
            .into();
    }
    report.verdict = exit.word();
    if args.json {
        print_json(&report);
    } else {
        println!(
            "{}: {}: {}",
            args.zkey.display(),
            report.verdict,
            report.reason
        );
        println!("key {} {}", report.circuit_id, report.vk_fingerprint);
        println!(
            "{}",
            format_hash(zkey.circuit_hash(), Some("Circuit Hash: "))
        );
        for (c, z) in report.contributions.iter().zip(&zkey.mpc.contributions) {
            let title = format!("contribution #{} {}:", c.index, c.name);
            println!("{}", format_hash(&z.contribution_hash(), Some(&title)));
            if let (Some(b), Some(e)) = (&c.beacon, c.beacon_iterations_exp) {
                println!("Beacon generator: {b}");
                println!("Beacon iterations Exp: {e}");
            }
        }
    }
    exit
}

/// Re-verifies the transcript as `snarkjs zkey verify` does.
fn full_check(r1cs: &PathBuf, ptau: &PathBuf, zkey: &Zkey) -> Result<(), (Exit, String)> {
    let malformed = |p: &PathBuf, e: credence_ceremony::Error| {
        (Exit::Malformed, format!("{}: {e}", p.display()))
    };
    let circuit = std::fs::File::open(r1cs)
        .map_err(credence_ceremony::Error::from)
        .and_then(|f| R1cs::read(std::io::BufReader::new(f)))
        .map_err(|e| malformed(r1cs, e))?;
    let mut pot = Ptau::open(ptau).map_err(|e| malformed(ptau, e))?;
    credence_ceremony::verify(&circuit, &mut pot, zkey)
        .map(|_| ())
        .map_err(|e| {
            (
                Exit::Invalid,
                format!("the transcript does not verify: {e}"),
            )
        })
}

fn fail(args: &Args, exit: Exit, reason: String) -> Exit {
    if args.json {
        print_json(&serde_json::json!({ "verdict": exit.word(), "reason": reason }));
    } else {
        println!("{}: {}: {reason}", args.zkey.display(), exit.word());
    }
    exit
}
