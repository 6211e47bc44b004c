//! Compiles `credence/v1/*.proto` with protox (pure Rust: no `protoc` needed) and generates the
//! prost messages and tonic clients and servers; also writes the file descriptor set that the
//! server's reflection service publishes.

use std::{env, fs, path::PathBuf};

use prost::Message as _;

const FILES: &[&str] = &[
    "credence/v1/common.proto",
    "credence/v1/datanet.proto",
    "credence/v1/prover.proto",
    "credence/v1/verifier.proto",
    "credence/v1/audit.proto",
];

/// Messages that carry a contributor's secrets: their `Debug` must never print them.
const SECRET_MESSAGES: &[&str] = &[
    ".credence.v1.SubmitClaimRequest",
    ".credence.v1.ClaimContribution",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let fds = protox::compile(FILES.iter().map(|f| root.join(f)), [&root])?;
    fs::write(out.join("credence_descriptor.bin"), fds.encode_to_vec())?;
    let mut config = tonic_prost_build::configure();
    for m in SECRET_MESSAGES {
        config = config.skip_debug([*m]);
    }
    config.compile_fds(fds)?;
    println!("cargo:rerun-if-changed={}", root.join("credence").display());
    Ok(())
}
