//! `credence-verify inclusion BUNDLE --log-key KEY [--vk [CIRCUIT_ID=]PATH]... [--json]`
//!
//! Checks offline that a claim bundle was logged: its `log` field (a `LogInclusion`: entry index,
//! tree size, inclusion proof, signed checkpoint, entry bytes) must hold a checkpoint signed by
//! the trusted log key for exactly `tree_size` entries, an inclusion proof from the carried
//! entry's leaf hash at `index` to that checkpoint's root, and the entry must be a claim entry
//! recording *this* bundle: same circuit id, key fingerprint, statement and proof
//! (`credence_verifier::log::check_bundle_inclusion`). With `--vk`, the proof is also verified.
//!
//! Exit 0 if the bundle is in the log; 1 if the inclusion (or the proof) does not hold; 2 if an
//! input cannot be read or is malformed, including a bundle with no `log` field.

use std::path::PathBuf;

use credence_verifier::log::{BundleLogError, check_bundle_inclusion};
use credence_verifier::verify_bundle;

use crate::audit::read_log_key;
use crate::common::{Exit, Keys, Verdict, input_failure, load_ring, print_json, read_bundle};

#[derive(clap::Args)]
pub struct Args {
    /// The claim bundle (JSON) with its `log` field.
    bundle: PathBuf,
    /// The log's public key file (`log.pub`).
    #[arg(long = "log-key")]
    log_key: PathBuf,
    /// Also verify the proof under this trusted key, `[CIRCUIT_ID=]PATH`. May be repeated.
    #[arg(long = "vk")]
    vk: Vec<String>,
    /// Print a JSON verdict instead of a line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Exit {
    // A `--vk` key that cannot be loaded is the command line's problem, not the bundle's.
    let keys = match load_ring(&args.vk) {
        Ok(k) => k,
        Err(e) => return input_failure(&e, args.json),
    };
    let name = args.bundle.display().to_string();
    let (exit, reason) = check(args, &keys);
    let verdict = Verdict::new(&name, exit, reason);
    if args.json {
        print_json(&verdict);
    } else {
        println!("{}", verdict.line());
    }
    exit
}

fn check(args: &Args, keys: &Keys) -> (Exit, String) {
    let malformed = |e: String| (Exit::Malformed, e);
    let verifier = match read_log_key(&args.log_key) {
        Ok(v) => v,
        Err(e) => return malformed(e),
    };
    let bundle = match read_bundle(&args.bundle) {
        Ok(b) => b,
        Err(e) => return malformed(e.to_string()),
    };
    let (inclusion, checkpoint, entry) = match check_bundle_inclusion(&bundle, &verifier) {
        Ok(found) => found,
        Err(e) if e.is_malformed() => return malformed(e.to_string()),
        Err(e @ BundleLogError::Inclusion(_)) => {
            return (Exit::Invalid, format!("not in the log: {e}"));
        }
        Err(e) => return (Exit::Invalid, e.to_string()),
    };
    let mut proof_note = "";
    if !keys.ring.is_empty() {
        if let Err(e) = verify_bundle(&keys.ring, &bundle) {
            return (
                Exit::of(&e),
                format!("logged, but {}: {}", Exit::of(&e).word(), keys.reason(&e)),
            );
        }
        proof_note = "; the proof verifies";
    }
    (
        Exit::Valid,
        format!(
            "claim is entry {} of log {} (tenant {}, time {}), included in its signed checkpoint of size {}{proof_note}",
            inclusion.index, checkpoint.origin, entry.tenant, entry.time, checkpoint.size
        ),
    )
}
