//! The pinned Solidity compiler: npm's `solc` (see `package.json`), driven by `compile.js`.
//!
//! Invariant: the compiler version and every setting that changes bytecode (optimizer, runs,
//! via-IR, EVM version, no metadata hash) are fixed in `compile.js`, so the same sources always
//! give the same bytecode; `artifacts/` is that output for this folder's sources, and the test
//! `the_committed_artifacts_are_what_the_pinned_compiler_builds` rebuilds it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// This folder: `compile.js`, `package.json`, `sol/`, `artifacts/`.
pub fn contracts_dir() -> PathBuf {
    std::env::var_os("CREDENCE_CONTRACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Why compiling failed.
#[derive(Debug, thiserror::Error)]
pub enum SolcError {
    /// The compiler is not installed.
    #[error("the Solidity compiler is not installed: run `npm ci` in {0} (Node.js 18 or later)")]
    NotInstalled(String),
    /// Node.js could not be started or its output read.
    #[error("running node: {0}")]
    Io(#[from] std::io::Error),
    /// The compiler reported errors.
    #[error("solc: {0}")]
    Compile(String),
    /// The output was not what solc writes.
    #[error("solc's output: {0}")]
    Output(String),
}

/// One compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Its ABI (solc's JSON array).
    pub abi: Value,
    /// Its creation code.
    pub bytecode: Vec<u8>,
    /// Its runtime code.
    pub deployed_bytecode: Vec<u8>,
}

impl Artifact {
    /// The artifact as a JSON file holds it (hex code with `0x`, and the compiler).
    pub fn to_json(&self, name: &str, compiler: &str) -> String {
        let v = json!({
            "contractName": name,
            "compiler": compiler,
            "abi": self.abi,
            "bytecode": format!("0x{}", hex::encode(&self.bytecode)),
            "deployedBytecode": format!("0x{}", hex::encode(&self.deployed_bytecode)),
        });
        serde_json::to_string_pretty(&v).expect("JSON values serialize") + "\n"
    }

    /// Reads [`Artifact::to_json`]'s form.
    pub fn from_json(text: &str) -> Result<Artifact, SolcError> {
        let v: Value = serde_json::from_str(text).map_err(|e| SolcError::Output(e.to_string()))?;
        let code = |k: &str| -> Result<Vec<u8>, SolcError> {
            let s = v[k].as_str().unwrap_or_default();
            hex::decode(s.strip_prefix("0x").unwrap_or(s))
                .map_err(|e| SolcError::Output(format!("{k}: {e}")))
        };
        Ok(Artifact {
            abi: v["abi"].clone(),
            bytecode: code("bytecode")?,
            deployed_bytecode: code("deployedBytecode")?,
        })
    }
}

/// The output of one compilation, by contract name.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The compiler's version string.
    pub compiler: String,
    /// Every contract with code, by name (interfaces and libraries without code are left out).
    pub contracts: BTreeMap<String, Artifact>,
}

impl Compiled {
    /// The contract `name`.
    pub fn get(&self, name: &str) -> Result<&Artifact, SolcError> {
        self.contracts
            .get(name)
            .ok_or_else(|| SolcError::Output(format!("no contract {name} in the output")))
    }
}

/// The compiler of a contracts folder.
#[derive(Clone, Debug)]
pub struct Solc {
    dir: PathBuf,
}

impl Solc {
    /// The compiler installed in [`contracts_dir`], if `npm ci` ran there.
    pub fn installed() -> Result<Solc, SolcError> {
        Self::in_dir(&contracts_dir())
    }

    /// The compiler installed in `dir`.
    pub fn in_dir(dir: &Path) -> Result<Solc, SolcError> {
        if !dir.join("node_modules/solc/package.json").exists() {
            return Err(SolcError::NotInstalled(dir.display().to_string()));
        }
        Ok(Solc {
            dir: dir.to_path_buf(),
        })
    }

    /// Compiles `sources` (file name, text); imports of `@openzeppelin/...` resolve to the
    /// pinned OpenZeppelin contracts.
    pub fn compile(&self, sources: &[(&str, &str)]) -> Result<Compiled, SolcError> {
        let request = json!({
            "sources": sources.iter().map(|(n, s)| (n.to_string(), Value::from(*s)))
                .collect::<serde_json::Map<_, _>>()
        });
        let mut child = Command::new("node")
            .arg(self.dir.join("compile.js"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(request.to_string().as_bytes())?;
        let out = child.wait_with_output()?;
        let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
            SolcError::Output(format!(
                "{e}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        })?;
        let errors: Vec<String> = v["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["severity"] == "error")
            .map(|e| {
                e["formattedMessage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        if !errors.is_empty() || !out.status.success() {
            return Err(SolcError::Compile(errors.join("\n")));
        }
        let mut contracts = BTreeMap::new();
        for file in v["contracts"].as_object().into_iter().flatten() {
            for (name, c) in file.1.as_object().into_iter().flatten() {
                let code = |k: &str| {
                    hex::decode(c["evm"][k]["object"].as_str().unwrap_or_default())
                        .map_err(|e| SolcError::Output(format!("{name}: {e}")))
                };
                let bytecode = code("bytecode")?;
                if bytecode.is_empty() {
                    continue;
                }
                contracts.insert(
                    name.clone(),
                    Artifact {
                        abi: c["abi"].clone(),
                        bytecode,
                        deployed_bytecode: code("deployedBytecode")?,
                    },
                );
            }
        }
        Ok(Compiled {
            compiler: v["compiler"].as_str().unwrap_or_default().to_owned(),
            contracts,
        })
    }
}
