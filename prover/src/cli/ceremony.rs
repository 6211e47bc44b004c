//! `credence ceremony`: a multi-party Groth16 phase-2 ceremony for a claim circuit or the payee
//! circuit, in snarkjs' file formats, so that any step can be run with `snarkjs zkey ...` instead.
//!
//! ```text
//! credence ceremony r1cs       --shape N,D --out circuit.r1cs
//! credence ceremony pilot-ptau --power P --out pilot.ptau           (SINGLE-PARTY, pilots only)
//! credence ceremony new        --shape N,D POT.ptau OUT.zkey        (snarkjs zkey new)
//! credence ceremony contribute IN.zkey OUT.zkey --name NAME         (snarkjs zkey contribute)
//! credence ceremony beacon     IN.zkey OUT.zkey --beacon HEX --iterations-exp E [--name NAME]
//! credence ceremony verify     --shape N,D POT.ptau FINAL.zkey      (snarkjs zkey verify)
//! credence ceremony import     --shape N,D POT.ptau FINAL.zkey [--data-dir DIR] [--replace]
//! ```
//!
//! Wherever `--shape N,D` names the circuit, `--circuit payee-v1` names the payee circuit
//! instead (and `--circuit claim-v1-nN-dD` is another spelling of `--shape N,D`); exactly one of
//! the two is required.
//!
//! Invariants: every file is written by temp file, fsync and rename (a crash never leaves half
//! a key), and an existing output file is never overwritten (ceremony files are each a
//! participant's published work). A contribution's randomness comes from the OS only and is
//! zeroized by the ceremony crate. Every key a command reads is checked before use.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use credence_ceremony::{Ptau, Zkey};

use super::progress::{Bar, spinner};
use super::setup::CircuitArg;

/// `credence ceremony ...`.
#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {
    /// Write a circuit (the claim circuit of a shape, or the payee circuit) as an iden3 `.r1cs`
    /// (what `snarkjs r1cs info` and `snarkjs zkey new` read).
    R1cs {
        /// The circuit.
        #[command(flatten)]
        which: CircuitArg,
        /// The output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a SINGLE-PARTY phase-2-prepared powers of tau (pilots and tests only: whoever runs
    /// it could forge proofs; production uses a public Perpetual Powers of Tau file).
    PilotPtau {
        /// log2 of the largest domain it serves (`credence ceremony r1cs` prints the power a
        /// shape needs).
        #[arg(long)]
        power: u32,
        /// The output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// The initial key of a circuit from a prepared `.ptau` (byte for byte `snarkjs zkey new`).
    New {
        /// The circuit.
        #[command(flatten)]
        which: CircuitArg,
        /// The phase-2-prepared powers of tau.
        ptau: PathBuf,
        /// The initial key to write (`circuit_0000.zkey`).
        out: PathBuf,
    },
    /// Contribute to a key with fresh OS randomness; prints the hash to publish.
    Contribute {
        /// The previous participant's key.
        input: PathBuf,
        /// Your key, to hand to the next participant.
        out: PathBuf,
        /// Your name, recorded in the transcript (at most 64 bytes are kept).
        #[arg(long)]
        name: String,
    },
    /// Close the ceremony with a public random beacon (as `snarkjs zkey beacon`).
    Beacon {
        /// The last participant's key.
        input: PathBuf,
        /// The final key.
        out: PathBuf,
        /// The beacon value in hex (e.g. a block hash announced before the ceremony closed).
        #[arg(long)]
        beacon: String,
        /// log2 of the SHA-256 iterations (10 to 63).
        #[arg(long, default_value_t = 10)]
        iterations_exp: u8,
        /// The name recorded in the transcript.
        #[arg(long, default_value = "final beacon")]
        name: String,
    },
    /// Verify a key's whole transcript against the circuit and the ptau (every check of
    /// `snarkjs zkey verify`); prints the circuit hash and every contribution hash.
    Verify {
        /// The circuit.
        #[command(flatten)]
        which: CircuitArg,
        /// The phase-2-prepared powers of tau the ceremony started from.
        ptau: PathBuf,
        /// The key to verify.
        zkey: PathBuf,
    },
    /// Verify a final key and install it in a server's keys directory, with its provenance.
    Import {
        /// The circuit.
        #[command(flatten)]
        which: CircuitArg,
        /// The phase-2-prepared powers of tau the ceremony started from.
        ptau: PathBuf,
        /// The final key (after the beacon).
        zkey: PathBuf,
        /// Data directory; keys go to `<data_dir>/keys`.
        #[arg(long, default_value = "credence-data")]
        data_dir: PathBuf,
        /// Replace existing keys of the circuit (every proof made under them stops verifying).
        #[arg(long)]
        replace: bool,
    },
}

/// Runs a ceremony command. The work is CPU-bound and runs on a blocking thread.
pub async fn run(c: CeremonyCommand) -> Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(c)).await?
}

fn run_blocking(c: CeremonyCommand) -> Result<()> {
    match c {
        CeremonyCommand::R1cs { which, out } => {
            let circuit = which.circuit();
            refuse_existing(&out)?;
            let r1cs = step(&format!("synthesizing {circuit}"), || {
                credence_ceremony::circuit_r1cs(circuit)
            })?;
            let power =
                credence_ceremony::setup::ptau_power(r1cs.num_constraints(), r1cs.num_public())?;
            write_file(&out, |w| r1cs.write(w))?;
            println!("circuit      {circuit}");
            println!("constraints  {}", r1cs.num_constraints());
            println!("public       {}", r1cs.num_public());
            println!("wires        {}", r1cs.num_wires);
            println!("ptau power   {power} (at least)");
            println!("wrote        {}", out.display());
        }
        CeremonyCommand::PilotPtau { power, out } => {
            refuse_existing(&out)?;
            eprintln!("{PILOT_PTAU_WARNING}");
            let bar = Bar::new();
            write_file(&out, |w| {
                credence_ceremony::pilot_ptau::write_single_party_ptau_with(power, w, &bar)
            })?;
            drop(bar);
            println!("wrote {}", out.display());
        }
        CeremonyCommand::New { which, ptau, out } => {
            refuse_existing(&out)?;
            let r1cs = credence_ceremony::circuit_r1cs(which.circuit())?;
            let mut ptau = open_ptau(&ptau)?;
            let zkey = credence_ceremony::new_zkey_with(&r1cs, &mut ptau, &Bar::new())?;
            step(&format!("writing {}", out.display()), || {
                write_file(&out, |w| zkey.write(w))
            })?;
            println!(
                "{}",
                credence_ceremony::format_hash(zkey.circuit_hash(), Some("Circuit Hash: "))
            );
            println!("wrote {}", out.display());
        }
        CeremonyCommand::Contribute { input, out, name } => {
            refuse_existing(&out)?;
            let zkey = open_zkey(&input)?;
            let (next, receipt) =
                credence_ceremony::contribute_with(&zkey, Some(&name), &[], &Bar::new())?;
            drop(zkey);
            step(&format!("writing {}", out.display()), || {
                write_file(&out, |w| next.write(w))
            })?;
            println!("{receipt}");
            println!(
                "wrote {}: publish the contribution hash above",
                out.display()
            );
        }
        CeremonyCommand::Beacon {
            input,
            out,
            beacon,
            iterations_exp,
            name,
        } => {
            refuse_existing(&out)?;
            let value = credence_ceremony::parse_beacon_hex(&beacon)?;
            let zkey = open_zkey(&input)?;
            let (last, receipt) = credence_ceremony::beacon_with(
                &zkey,
                Some(&name),
                &value,
                iterations_exp,
                &Bar::new(),
            )?;
            drop(zkey);
            step(&format!("writing {}", out.display()), || {
                write_file(&out, |w| last.write(w))
            })?;
            println!("{receipt}");
            println!("wrote {}", out.display());
        }
        CeremonyCommand::Verify { which, ptau, zkey } => {
            let r1cs = credence_ceremony::circuit_r1cs(which.circuit())?;
            let zkey = open_zkey(&zkey)?;
            let mut ptau = open_ptau(&ptau)?;
            let report = credence_ceremony::verify_with(&r1cs, &mut ptau, &zkey, &Bar::new())?;
            println!("{report}");
        }
        CeremonyCommand::Import {
            which,
            ptau,
            zkey,
            data_dir,
            replace,
        } => {
            let circuit = which.circuit();
            let dir = data_dir.join("keys");
            let bar = Bar::new();
            let result = crate::keys::import_ceremony(&dir, circuit, &ptau, &zkey, replace, &bar);
            drop(bar);
            let (key, report) = result?;
            println!("{report}");
            let (pk, vk) = crate::keys::key_paths(&dir, circuit);
            println!("circuit        {circuit}");
            println!("proving key    {}", pk.display());
            println!("verifying key  {}", vk.display());
            println!("vk fingerprint {}", key.fingerprint);
            println!("provenance     {}", key.entry.provenance());
        }
    }
    Ok(())
}

/// Printed before a pilot ptau is made.
pub const PILOT_PTAU_WARNING: &str = "\
WARNING: single-party powers of tau. This machine draws tau, alpha and beta; whoever ran it \
(or could read this process's memory while it ran) could forge proofs for every circuit set up \
from this file, whatever the phase-2 ceremony does. Use it for pilots and tests only; \
production ceremonies start from a public Perpetual Powers of Tau file.";

/// Runs `f` under a spinner that says what is happening and for how long.
fn step<T, E>(what: &str, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let bar = spinner(what.to_string());
    let out = f();
    bar.finish_and_clear();
    out
}

fn refuse_existing(out: &Path) -> Result<()> {
    if out.exists() {
        bail!(
            "{} exists; ceremony files are never overwritten (choose another name or move it)",
            out.display()
        );
    }
    Ok(())
}

fn open_zkey(path: &Path) -> Result<Zkey> {
    step(&format!("reading {}", path.display()), || Zkey::open(path))
        .with_context(|| format!("{}", path.display()))
}

fn open_ptau(path: &Path) -> Result<Ptau<std::io::BufReader<std::fs::File>>> {
    Ptau::open(path).with_context(|| format!("{}", path.display()))
}

/// Writes a public ceremony file (mode 0644) by temp file, fsync and rename.
fn write_file(
    out: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> credence_ceremony::Result<()>,
) -> Result<()> {
    credence_verifier::durable::write_atomic_with(out, 0o644, |w| {
        fill(w).map_err(std::io::Error::other)
    })
    .with_context(|| format!("writing {}", out.display()))
}
