//! `credence-verify payee --vk payee-v1.vk PAYEE.json [--json]`

use std::path::{Path, PathBuf};

use credence_verifier::encoding::{address_to_hex, fr_to_decimal};
use credence_verifier::payee::MAX_PAYEE_BYTES;
use credence_verifier::{Malformed, PayeeBundle, PayeeKey, verify_payee};

use crate::common::{
    Exit, InputError, Verdict, input_failure, print_json, read_capped, read_key_file,
};

#[derive(clap::Args)]
pub struct Args {
    /// The payee proof (`payee.json`, from `credence payee prove`).
    payee: PathBuf,
    /// The trusted payee verifying key (`payee-v1.vk`, canonical compressed bytes).
    #[arg(long = "vk", required = true)]
    vk: PathBuf,
    /// Print a JSON verdict instead of a line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Exit {
    // The key first: a key that cannot be loaded is the command line's problem, not this
    // proof's verdict.
    let key = match load_key(&args.vk) {
        Ok(k) => k,
        Err(e) => return input_failure(&e, args.json),
    };
    let name = args.payee.display().to_string();
    let (exit, verdict) = check(&args.payee, &key, &name);
    if args.json {
        print_json(&verdict);
    } else {
        println!("{}", verdict.line());
    }
    exit
}

fn load_key(path: &Path) -> Result<PayeeKey, InputError> {
    let arg = path.display().to_string();
    let bytes = read_key_file(&arg, path)?;
    PayeeKey::from_bytes(&bytes).map_err(|e| InputError::KeyArg {
        arg,
        reason: format!("not a payee verifying key: {e}"),
    })
}

fn read_payee(path: &Path) -> Result<PayeeBundle, InputError> {
    let malformed = |source| InputError::Malformed {
        path: path.display().to_string(),
        source,
    };
    let bytes = read_capped(path, MAX_PAYEE_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        malformed(Malformed::Json {
            what: "file",
            reason: format!("not UTF-8: {e}"),
        })
    })?;
    PayeeBundle::from_json(&text).map_err(malformed)
}

fn check(path: &Path, key: &PayeeKey, name: &str) -> (Exit, Verdict) {
    let bundle = match read_payee(path) {
        Ok(b) => b,
        Err(e) => {
            return (
                Exit::Malformed,
                Verdict::new(name, Exit::Malformed, e.to_string()),
            );
        }
    };
    let mut v = Verdict::new(name, Exit::Valid, String::new());
    v.circuit_id = Some(key.circuit_id().to_owned());
    v.vk_fingerprint = Some(bundle.vk_fingerprint.to_hex());
    v.contributor_id = Some(fr_to_decimal(&bundle.statement.contributor_id));
    match verify_payee(key, &bundle) {
        Ok(()) => {
            let s = &bundle.statement;
            v.reason = format!(
                "proof verifies: contributor {} pays to {} (chain {}, settlement {}, nonce {})",
                fr_to_decimal(&s.contributor_id),
                address_to_hex(&s.payee),
                s.chain_id,
                address_to_hex(&s.settlement),
                s.nonce
            );
            (Exit::Valid, v)
        }
        Err(e) => {
            v.verdict = Exit::Invalid.word();
            v.reason = e.to_string();
            (Exit::Invalid, v)
        }
    }
}
