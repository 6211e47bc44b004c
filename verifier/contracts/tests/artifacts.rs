//! The committed artifacts are what the pinned compiler builds from the sources here, byte for
//! byte: anyone can rebuild the bytecode a deployment runs and compare.
//!
//! After changing a source, `CREDENCE_WRITE_ARTIFACTS=1 cargo test -p credence-contracts --test
//! artifacts` writes the new artifacts (then commit them).

mod common;

use credence_contracts::abi::selector;
use credence_contracts::solc::contracts_dir;
use credence_verifier::solidity::{
    CLAIM_SELECTOR, CLAIM_SIGNATURE, SET_PAYEE_SELECTOR, SET_PAYEE_SIGNATURE,
};

/// The sources compiled into `artifacts/`, and the contracts taken from them.
const SOURCES: [(&str, &str); 2] = [
    ("CredenceSettlement.sol", "sol/CredenceSettlement.sol"),
    ("TestToken.sol", "sol/test/TestToken.sol"),
];
const CONTRACTS: [&str; 2] = ["CredenceSettlement", "TestToken"];

#[test]
fn the_committed_artifacts_are_what_the_pinned_compiler_builds() {
    let Some(solc) = common::solc() else { return };
    let dir = contracts_dir();
    let texts: Vec<(&str, String)> = SOURCES
        .iter()
        .map(|(name, path)| (*name, std::fs::read_to_string(dir.join(path)).unwrap()))
        .collect();
    let refs: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let compiled = solc.compile(&refs).unwrap();
    assert!(
        compiled.compiler.starts_with("0.8.30+"),
        "the pinned compiler is solc 0.8.30 (package.json), found {}",
        compiled.compiler
    );
    for name in CONTRACTS {
        let built = compiled
            .get(name)
            .unwrap()
            .to_json(name, &compiled.compiler);
        let path = dir.join("artifacts").join(format!("{name}.json"));
        if std::env::var_os("CREDENCE_WRITE_ARTIFACTS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &built).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == built,
            "{} is not what solc {} builds from the sources: rebuild it with \
             CREDENCE_WRITE_ARTIFACTS=1 (see this file's docs)",
            path.display(),
            compiled.compiler
        );
    }
}

#[test]
fn the_verifier_crate_knows_the_selectors() {
    assert_eq!(selector(CLAIM_SIGNATURE), CLAIM_SELECTOR);
    assert_eq!(selector(SET_PAYEE_SIGNATURE), SET_PAYEE_SELECTOR);
}
