//! The ABI encodings our calls need, and custom errors decoded by name.
//!
//! Written here rather than taken from alloy's `sol!` macro: every argument of every call the
//! tests and benchmarks make is a static type (`uint256`, `uint64`, `uint8`, `bytes32`,
//! `address`, fixed arrays of those), whose encoding is one 32-byte word per value in order; a
//! proc-macro toolchain for that would cost more build time than it saves code.

use revm::primitives::keccak256;
use serde_json::Value;

/// One 32-byte ABI word.
pub type Word = [u8; 32];

/// The 4-byte selector of a function or error signature, e.g. `claim(bytes32,uint256[9],uint256[8])`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// Call data: the selector of `signature`, then the words.
pub fn call(signature: &str, words: &[Word]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 32 * words.len());
    out.extend_from_slice(&selector(signature));
    for w in words {
        out.extend_from_slice(w);
    }
    out
}

/// A `u64` (or any smaller unsigned integer) as a word.
pub fn word_u64(x: u64) -> Word {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&x.to_be_bytes());
    w
}

/// A `u128` as a word.
pub fn word_u128(x: u128) -> Word {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&x.to_be_bytes());
    w
}

/// An address as a word (right-aligned).
pub fn word_address(a: &[u8; 20]) -> Word {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a);
    w
}

/// Splits return data into words (a trailing partial word is dropped).
pub fn words(data: &[u8]) -> Vec<Word> {
    data.chunks_exact(32)
        .map(|c| c.try_into().expect("chunks_exact gives 32 bytes"))
        .collect()
}

/// A word as a `u128`, if it fits.
pub fn word_to_u128(w: &Word) -> Option<u128> {
    if w[..16].iter().any(|b| *b != 0) {
        return None;
    }
    Some(u128::from_be_bytes(w[16..].try_into().expect("16 bytes")))
}

/// A revert, decoded against a contract's ABI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revert {
    /// The error's name (`RangeOverlap`), `Error` for `require` strings, `Panic` for Solidity
    /// panics, or `unknown` when no error of the ABI has the selector.
    pub name: String,
    /// The error's arguments, one word each (static arguments only), or the raw data.
    pub args: Vec<Word>,
}

impl Revert {
    /// Decodes revert data with the errors of `abis` (solc's ABI JSON arrays).
    pub fn decode(data: &[u8], abis: &[&Value]) -> Revert {
        let unknown = || Revert {
            name: "unknown".into(),
            args: Vec::new(),
        };
        if data.len() < 4 {
            return if data.is_empty() {
                Revert {
                    name: "empty".into(),
                    args: Vec::new(),
                }
            } else {
                unknown()
            };
        }
        let sel = &data[..4];
        let args = words(&data[4..]);
        if sel == selector("Error(string)") {
            return Revert {
                name: "Error".into(),
                args,
            };
        }
        if sel == selector("Panic(uint256)") {
            return Revert {
                name: "Panic".into(),
                args,
            };
        }
        for abi in abis {
            for item in abi.as_array().into_iter().flatten() {
                if item["type"] != "error" {
                    continue;
                }
                let name = item["name"].as_str().unwrap_or_default();
                let types: Vec<&str> = item["inputs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["type"].as_str())
                    .collect();
                if selector(&format!("{name}({})", types.join(","))) == sel {
                    return Revert {
                        name: name.into(),
                        args,
                    };
                }
            }
        }
        unknown()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_keccak_prefixes() {
        // The ERC-20 `transfer(address,uint256)` selector, as every Ethereum tool prints it.
        assert_eq!(
            selector("transfer(address,uint256)"),
            [0xa9, 0x05, 0x9c, 0xbb]
        );
        assert_eq!(selector("Error(string)"), [0x08, 0xc3, 0x79, 0xa0]);
    }

    #[test]
    fn words_are_big_endian() {
        assert_eq!(word_u64(258)[30..], [1, 2]);
        assert_eq!(word_to_u128(&word_u128(u128::MAX)), Some(u128::MAX));
        let mut big = [0u8; 32];
        big[0] = 1;
        assert_eq!(word_to_u128(&big), None);
    }

    #[test]
    fn custom_errors_are_named_from_the_abi() {
        let abi: Value = serde_json::json!([
            {"type": "error", "name": "RangeOverlap", "inputs": [
                {"type": "uint64"}, {"type": "uint64"}, {"type": "uint64"}, {"type": "uint64"}]}
        ]);
        let mut data = selector("RangeOverlap(uint64,uint64,uint64,uint64)").to_vec();
        for x in [1u64, 2, 0, 4] {
            data.extend_from_slice(&word_u64(x));
        }
        let r = Revert::decode(&data, &[&abi]);
        assert_eq!(r.name, "RangeOverlap");
        assert_eq!(r.args.len(), 4);
        assert_eq!(Revert::decode(&[1, 2, 3, 4], &[&abi]).name, "unknown");
        assert_eq!(Revert::decode(&[], &[&abi]).name, "empty");
    }
}
