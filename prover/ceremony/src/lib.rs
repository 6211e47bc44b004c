//! Multi-party Groth16 phase-2 ceremony on BN254, interoperating with snarkjs 0.7.6.
//!
//! The files are snarkjs' (`.r1cs`, prepared `.ptau`, `.zkey`), so any participant or auditor
//! can use snarkjs instead of this module at any step, and `snarkjs zkey verify` checks a
//! transcript made here. The cryptography is arkworks 0.6 (BN254).
//!
//! From Credence's `CircuitMatrices` to proofs under a ceremony key:
//!
//! 1. [`R1cs::from_matrices`]`(&m.matrices, m.num_instance_variables, m.num_witness_variables,
//!    m.num_constraints)`, then [`R1cs::to_bytes`]: the `circuit.r1cs` auditors run snarkjs on.
//! 2. [`Ptau::open`] a phase-2-prepared powers-of-tau file and [`new_zkey`]: the initial key,
//!    byte-identical to `snarkjs zkey new circuit.r1cs pot.ptau circuit_0000.zkey`.
//! 3. Each participant runs [`contribute`] (or `snarkjs zkey contribute`) on the previous key
//!    and publishes the contribution hash ([`ContributionReceipt`] prints it as snarkjs does).
//! 4. The coordinator closes with [`beacon`] (or `snarkjs zkey beacon`).
//! 5. [`verify`]`(&r1cs, &mut ptau, &final_key)` checks everything `snarkjs zkey verify`
//!    checks and returns a [`VerifyReport`] (its `Display` is snarkjs' output).
//! 6. [`proving_key`]`(&final_key, &r1cs, &report.circuit_hash)` gives the arkworks
//!    `ProvingKey`; prove with `Groth16::<Bn254, CircomReduction>::
//!    create_proof_with_reduction_and_matrices` ([`CircomReduction`]), verify with plain
//!    ark-groth16 or snarkjs ([`keys::proof_json`], [`keys::public_json`]).
//!
//! Files (each states its format source and invariant):
//! - [`binfile`]: the iden3 section container;
//! - [`circuit`]: the claim circuit of a shape, or the payee circuit, as an `.r1cs`;
//! - [`encoding`]: LEM / uncompressed point encodings, scalar encodings;
//! - [`jsrng`]: ffjavascript's ChaCha stream and the key derivations snarkjs makes from it;
//! - [`r1cs`], [`ptau`], [`zkey`]: the three file formats of a ceremony; [`wtns`]: the witness
//!   file `snarkjs groth16 prove` reads (written for `credence bench --peers` only);
//! - [`setup`]: `zkey new` and the circuit hash;
//! - [`contribution`]: contributions and beacons;
//! - [`verify`]: transcript verification;
//! - [`keys`]: zkey to arkworks keys, snarkjs JSON;
//! - [`progress`]: progress of the long steps, for progress bars;
//! - [`pilot_ptau`]: a SINGLE-PARTY powers-of-tau generator for pilots and tests;
//! - [`error`]: the error type.

pub mod binfile;
#[cfg(feature = "keys")]
pub mod circuit;
pub mod contribution;
pub mod encoding;
pub mod error;
pub mod jsrng;
#[cfg(feature = "keys")]
pub mod keys;
pub mod pilot_ptau;
pub mod progress;
pub mod ptau;
pub mod r1cs;
pub mod setup;
pub mod verify;
pub mod wtns;
pub mod zkey;

#[cfg(feature = "keys")]
pub use circuit::{circuit_r1cs, claim_r1cs, payee_r1cs};
pub use contribution::{
    ContributionReceipt, beacon, beacon_with, contribute, contribute_with, format_hash,
    parse_beacon_hex,
};
/// The snarkjs R1CS-to-QAP reduction ceremony keys prove with; it lives beside the other
/// reduction in the circuits crate's prover, which chooses by key.
#[cfg(feature = "keys")]
pub use credence_circuits::prover::CircomReduction;
pub use error::{Error, FileKind, Result, VerifyFailure};
#[cfg(feature = "keys")]
pub use keys::{check_circuit, proving_key, verifying_key, zkey_from_proving_key};
pub use progress::{Progress, Silent};
pub use ptau::Ptau;
pub use r1cs::R1cs;
pub use setup::{circuit_hash, new_zkey, new_zkey_with};
pub use verify::{VerifyReport, verify, verify_with};
pub use wtns::write_wtns;
pub use zkey::Zkey;

/// Blake2b-512 of a file, read in 1 MiB blocks: the hash published beside every powers-of-tau
/// file (what `b2sum` prints), and the one Credence records for ptau files and transcripts.
pub fn file_blake2b(path: impl AsRef<std::path::Path>) -> Result<[u8; 64]> {
    file_blake2b_with(path, &Silent)
}

/// [`file_blake2b`], reporting the bytes hashed (a ptau of power 20 is over a GiB).
pub fn file_blake2b_with(
    path: impl AsRef<std::path::Path>,
    progress: &dyn Progress,
) -> Result<[u8; 64]> {
    use blake2::{Blake2b512, Digest};
    use std::io::Read;
    let path = path.as_ref();
    let mut f = std::fs::File::open(path)?;
    progress.phase(&format!("hashing {}", path.display()), f.metadata()?.len());
    let mut h = Blake2b512::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress.advance(n as u64);
    }
    Ok(h.finalize().into())
}
