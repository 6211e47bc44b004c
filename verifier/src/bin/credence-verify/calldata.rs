//! `credence-verify calldata FILE [--json]`
//!
//! The call data that submits a claim bundle (`claim(bytes32,uint256[9],uint256[8])`) or a
//! payee proof (`setPayee(uint256[5],uint256[8])`) to the settlement contract, as `0x` hex on
//! one line (the data of a transaction to the contract, as `eth_sendTransaction` takes it), or with `--json`
//! its arguments as hex words beside it (what `snarkjs zkey export soliditycalldata` gives for
//! a verifier). The file is decoded strictly but its proof is not checked: the contract checks
//! it. Exit 0 when written, 2 when the file is not a bundle or a payee proof.

use std::path::PathBuf;

use credence_verifier::payee::{MAX_PAYEE_BYTES, PAYEE_PROTOCOL};
use credence_verifier::solidity::{
    CLAIM_SIGNATURE, ClaimCall, PayeeCall, SET_PAYEE_SIGNATURE, Word, circuit_id_word, word_hex,
};
use credence_verifier::{ClaimBundle, Malformed, PayeeBundle};
use serde::Serialize;

use crate::common::{Exit, print_json, read_capped};

#[derive(clap::Args)]
pub struct Args {
    /// A claim bundle (`*.bundle.json`) or a payee proof (`payee.json`).
    file: PathBuf,
    /// Print the function, its arguments and the call data as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Call {
    function: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    circuit_id: Option<String>,
    inputs: Vec<String>,
    proof: Vec<String>,
    calldata: String,
}

fn hex_words(data: &[u8], from: usize, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let w: Word = data[4 + 32 * (from + i)..4 + 32 * (from + i + 1)]
                .try_into()
                .expect("32 bytes");
            word_hex(&w)
        })
        .collect()
}

fn call(text: &str) -> Result<Call, Malformed> {
    let protocol = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["protocol"].as_str().map(str::to_owned));
    if protocol.as_deref() == Some(PAYEE_PROTOCOL) {
        let b = PayeeBundle::from_json(text)?;
        let data = PayeeCall {
            statement: b.statement,
            proof: b.proof,
        }
        .encode();
        return Ok(Call {
            function: SET_PAYEE_SIGNATURE,
            circuit_id: None,
            inputs: hex_words(&data, 0, 5),
            proof: hex_words(&data, 5, 8),
            calldata: format!("0x{}", hex::encode(&data)),
        });
    }
    let b = ClaimBundle::from_json(text)?;
    let data = ClaimCall {
        circuit_id: b.circuit_id.clone(),
        statement: b.statement,
        proof: b.proof,
    }
    .encode()?;
    Ok(Call {
        function: CLAIM_SIGNATURE,
        circuit_id: Some(word_hex(&circuit_id_word(&b.circuit_id)?)),
        inputs: hex_words(&data, 1, 9),
        proof: hex_words(&data, 10, 8),
        calldata: format!("0x{}", hex::encode(&data)),
    })
}

pub fn run(args: &Args) -> Exit {
    let name = args.file.display().to_string();
    // A bundle is the larger of the two documents; both caps are far above a valid one.
    let text = read_capped(&args.file, 64 * 1024 + MAX_PAYEE_BYTES)
        .map_err(|e| e.to_string())
        .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned()))
        .and_then(|t| call(&t).map_err(|e| e.to_string()));
    match text {
        Ok(c) if args.json => {
            print_json(&c);
            Exit::Valid
        }
        Ok(c) => {
            println!("{}", c.calldata);
            Exit::Valid
        }
        Err(e) => {
            println!("{name}: malformed: {e}");
            Exit::Malformed
        }
    }
}
