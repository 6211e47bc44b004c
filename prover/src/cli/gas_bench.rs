//! `credence bench --gas`: the gas of on-chain settlement, per claim shape, in revm.
//!
//! For each shape: a key (single-party, made here, or read from `--keys-dir`), its generated
//! verifier contract compiled by the pinned solc, a deployment of the settlement over it, a
//! synthetic claim proven under the key, and the gas of `verifyProof`, of a whole `claim`
//! (verification, checks, storage, transfer) and of the calls around it (`publishEpoch`,
//! `setPayee`). Execution gas is the transaction's gas minus its intrinsic part (21,000 and
//! the call data), the part a contract's code decides; the transaction's own figure is beside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use credence_circuits::payee::PAYEE_CIRCUIT_ID;
use credence_circuits::prover::{PayeeProver, Qap, os_rng};
use credence_circuits::{ClaimProver, Shape, bench::synthetic_claim};
use credence_contracts::abi::Word;
use credence_contracts::evm::account;
use credence_contracts::{Deployment, Solc};
use credence_verifier::settlement::Snapshot;
use credence_verifier::solidity::{contract_name, input_word, proof_words, verifier_contract};
use credence_verifier::{CircuitId, PayeeKey, Proof, TrustedKey, VerifyingKey};
use serde::Serialize;

/// Options of `credence bench --gas`.
#[derive(Clone, Debug)]
pub struct GasOptions {
    /// The claim shapes.
    pub shapes: Vec<Shape>,
    /// Where `<circuit_id>.pk` keys are read from (made here, single-party, if absent).
    pub keys_dir: Option<PathBuf>,
    /// snarkjs, to measure its generated verifier beside ours on one key and one proof.
    pub snarkjs: Option<PathBuf>,
}

/// One shape's gas (JSON names are a contract: the README documents them).
#[derive(Clone, Debug, Serialize)]
pub struct ShapeGas {
    /// `claim-v1-n{n}-d{d}`.
    pub circuit_id: String,
    /// `verifyProof` of the shape's verifier contract: execution gas.
    pub verify_proof_gas: u64,
    /// The same call as a transaction (with 21,000 and the call data).
    pub verify_proof_tx_gas: u64,
    /// A whole `claim`, the first of its contributor in the epoch: execution gas.
    pub claim_gas: u64,
    /// The same as a transaction.
    pub claim_tx_gas: u64,
    /// Deploying the verifier contract (a transaction).
    pub deploy_verifier_tx_gas: u64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct GasReport {
    /// The compiler the contracts were built with.
    pub compiler: String,
    /// The EVM the calls ran in.
    pub evm: &'static str,
    /// Per shape.
    pub shapes: Vec<ShapeGas>,
    /// `verifyProof` of the payee verifier (five inputs): execution gas.
    pub payee_verify_proof_gas: u64,
    /// `setPayee`, a contributor's first: execution gas.
    pub set_payee_gas: u64,
    /// `publishEpoch` with the escrow transfer: execution gas.
    pub publish_epoch_gas: u64,
    /// Deploying the settlement contract (a transaction).
    pub deploy_settlement_tx_gas: u64,
    /// What the precompiles alone cost for nine inputs (EIP-197/1108: 181,000 for four
    /// pairings, 6,150 per input), the floor of any Groth16 verifier.
    pub precompile_floor_gas: u64,
    /// snarkjs' verifier beside ours (with `SNARKJS` set or `--snarkjs`).
    pub snarkjs: Option<PeerGas>,
}

fn claim_keys(shape: Shape, keys_dir: Option<&PathBuf>) -> Result<Arc<ClaimProver>> {
    if let Some(dir) = keys_dir {
        let path = dir.join(format!("{}.pk", shape.circuit_id()));
        if path.exists() {
            let keys = crate::keys::load(dir, shape, true)
                .with_context(|| format!("reading {}", path.display()))?;
            return keys
                .prover
                .ok_or_else(|| anyhow!("{}: no proving key loaded", path.display()));
        }
    }
    Ok(Arc::new(ClaimProver::setup(shape, &mut os_rng())?))
}

fn step(what: String) -> Instant {
    eprintln!("  {what} ...");
    Instant::now()
}

/// snarkjs' generated verifier beside ours, on one key and one proof.
#[derive(Clone, Debug, Serialize)]
pub struct PeerGas {
    /// The circuit of the comparison (every claim shape has nine inputs, so any serves).
    pub circuit_id: String,
    /// `verifyProof` of `snarkjs zkey export solidityverifier`'s contract: execution gas.
    pub snarkjs_verify_proof_gas: u64,
    /// `verifyProof` of ours for the same key and proof: execution gas.
    pub ours_verify_proof_gas: u64,
}

/// A ceremony key of `shape` (a pilot ptau, `zkey new`, one contribution: the form of a real
/// ceremony's key), snarkjs' verifier contract for it and ours, and one claim proven under it:
/// both contracts verify the same call, and each one's gas is measured.
fn snarkjs_peer(solc: &Solc, snarkjs: &Path, shape: Shape) -> Result<PeerGas> {
    use credence_ceremony::Ptau;
    let dir = std::env::temp_dir().join(format!("credence-gas-peer-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<PeerGas> {
        let r1cs = credence_ceremony::claim_r1cs(shape)?;
        let power =
            credence_ceremony::setup::ptau_power(r1cs.num_constraints(), r1cs.num_public())?;
        let ptau_path = dir.join("pot.ptau");
        {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&ptau_path)?);
            credence_ceremony::pilot_ptau::write_single_party_ptau(power, &mut w)?;
            std::io::Write::flush(&mut w)?;
        }
        let mut ptau = Ptau::open(&ptau_path)?;
        let initial = credence_ceremony::new_zkey(&r1cs, &mut ptau)?;
        let (zkey, _) = credence_ceremony::contribute(&initial, Some("gas bench"), &[])?;
        let zkey_path = dir.join("claim.zkey");
        std::fs::write(&zkey_path, zkey.to_bytes())?;
        let sol_path = dir.join("Groth16Verifier.sol");
        let out = std::process::Command::new(snarkjs)
            .args(["zkey", "export", "solidityverifier"])
            .arg(&zkey_path)
            .arg(&sol_path)
            .output()
            .with_context(|| format!("running {}", snarkjs.display()))?;
        if !out.status.success() {
            bail!(
                "snarkjs zkey export solidityverifier: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let theirs = std::fs::read_to_string(&sol_path)?;

        let pk = credence_ceremony::keys::proving_key_unchecked(&zkey);
        let prover = ClaimProver::with_qap(shape, pk, Qap::Circom)?;
        let id = CircuitId::new(&shape.circuit_id())?;
        let key = TrustedKey::new(
            id.clone(),
            VerifyingKey::from(prover.verifying_key().clone()),
        )?;
        let ours = verifier_contract(&id, key.vk())?;
        let compiled = solc.compile(&[
            ("Groth16Verifier.sol", &theirs),
            (&ours.file_name(), &ours.source),
        ])?;
        let mut rng = os_rng();
        let (statement, proof) = prover.prove(&synthetic_claim(shape, &mut rng), &mut rng)?;
        let inputs: Vec<Word> = statement.public_inputs().iter().map(input_word).collect();
        let words = proof_words(&Proof::from(proof));
        let mut evm = credence_contracts::Evm::new();
        let mut gas = |name: &str| -> Result<u64> {
            let code = &compiled.get(name)?.bytecode;
            let (address, _) = evm
                .deploy(account("deployer"), code, &[])
                .map_err(|o| anyhow!("deploying {name}: {:?}", o.halt))?;
            let mut data = words.concat();
            data.extend(inputs.concat());
            let call = credence_contracts::abi::call(
                "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[9])",
                &data
                    .chunks(32)
                    .map(|c| c.try_into().expect("32 bytes"))
                    .collect::<Vec<Word>>(),
            );
            let out = evm.call(account("anyone"), address, call);
            if !(out.success && out.output.last() == Some(&1)) {
                bail!("{name} refused a valid proof");
            }
            Ok(out.gas.execution())
        };
        Ok(PeerGas {
            circuit_id: id.to_string(),
            snarkjs_verify_proof_gas: gas("Groth16Verifier")?,
            ours_verify_proof_gas: gas(&contract_name(&id))?,
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Runs the measurement.
pub fn run(o: GasOptions) -> Result<GasReport> {
    let solc = Solc::installed().map_err(|e| anyhow!("{e}"))?;
    if o.shapes.is_empty() {
        bail!("no shape to measure");
    }
    let t = step("payee key (single-party) and its verifier".into());
    let payee = PayeeProver::setup(&mut os_rng())?;
    let payee_key = PayeeKey::new(VerifyingKey::from(payee.verifying_key().clone()))?;
    let payee_id = CircuitId::new(PAYEE_CIRCUIT_ID)?;
    let payee_contract = verifier_contract(&payee_id, payee_key.vk())?;
    eprintln!("    {:.1} s", t.elapsed().as_secs_f64());

    let mut shapes = Vec::new();
    let mut rest = None;
    let mut compiler = String::new();
    for shape in o.shapes {
        let id = CircuitId::new(&shape.circuit_id())?;
        let t = step(format!("{id}: key"));
        let prover = claim_keys(shape, o.keys_dir.as_ref())?;
        let key = TrustedKey::new(
            id.clone(),
            VerifyingKey::from(prover.verifying_key().clone()),
        )?;
        eprintln!("    {:.1} s", t.elapsed().as_secs_f64());
        let t = step(format!(
            "{id}: compiling the verifier and the payee verifier"
        ));
        let contract = verifier_contract(&id, key.vk())?;
        let compiled = solc.compile(&[
            (&contract.file_name(), &contract.source),
            (&payee_contract.file_name(), &payee_contract.source),
        ])?;
        compiler = compiled.compiler.clone();
        let claim_code = &compiled.get(&contract_name(&id))?.bytecode;
        let payee_code = &compiled.get(&contract_name(&payee_id))?.bytecode;
        eprintln!("    {:.1} s", t.elapsed().as_secs_f64());

        let t = step(format!("{id}: proving a synthetic claim"));
        let mut rng = os_rng();
        let input = synthetic_claim(shape, &mut rng);
        let (statement, proof) = prover.prove(&input, &mut rng)?;
        let proof = Proof::from(proof);
        eprintln!("    {:.1} s", t.elapsed().as_secs_f64());

        let mut d = Deployment::new(payee_code, &[claim_code])?;
        let inputs: Vec<Word> = statement.public_inputs().iter().map(input_word).collect();
        let (verdict, verify_out) =
            d.verify_words(d.claim_verifiers[0], &inputs, &proof_words(&proof));
        if verdict != Some(true) {
            bail!("{id}: the verifier contract refused a valid proof");
        }
        let deadline = d.evm.timestamp() + 86_400;
        let publish = d
            .publish(
                &Snapshot::new(
                    statement.epoch,
                    shape.depth,
                    statement.root,
                    statement.total_weight,
                    statement.revenue,
                )?,
                deadline,
            )
            .map_err(|r| anyhow!("publishEpoch: {}", r.name))?;
        let payee_input = d.payee_input(input.secret, account("payee"), 0);
        let (ps, pp) = payee.prove(&payee_input, &mut rng)?;
        let (payee_verdict, payee_verify) = d.verify_words(
            d.payee_verifier,
            &ps.public_inputs()
                .iter()
                .map(input_word)
                .collect::<Vec<_>>(),
            &proof_words(&Proof::from(pp.clone())),
        );
        if payee_verdict != Some(true) {
            bail!("the payee verifier refused a valid proof");
        }
        let set_payee = d
            .set_payee(account("contributor"), &ps, &Proof::from(pp))
            .map_err(|r| anyhow!("setPayee: {}", r.name))?;
        let claim = d
            .claim(account("relayer"), &id, &statement, &proof)
            .map_err(|r| anyhow!("claim: {}", r.name))?;
        let deployed = |what: &str| {
            d.deploy_gas
                .iter()
                .find(|(w, _)| w == what)
                .map_or(0, |(_, g)| *g)
        };
        shapes.push(ShapeGas {
            circuit_id: id.to_string(),
            verify_proof_gas: verify_out.gas.execution(),
            verify_proof_tx_gas: verify_out.gas.tx,
            claim_gas: claim.gas.execution(),
            claim_tx_gas: claim.gas.tx,
            deploy_verifier_tx_gas: deployed("claim verifier"),
        });
        rest = Some((
            payee_verify.gas.execution(),
            set_payee.gas.execution(),
            publish.gas.execution(),
            deployed("CredenceSettlement"),
        ));
    }
    let (payee_verify, set_payee, publish, deploy_settlement) =
        rest.expect("at least one shape was measured");
    let snarkjs = match &o.snarkjs {
        Some(path) => {
            // Gas depends on the number of inputs only, which every claim shape shares: the
            // smallest shape keeps the ceremony quick.
            let shape = Shape::new(1, credence_circuits::merkle_sum::MIN_DEPTH)?;
            let t = step(format!(
                "{}: a ceremony key, snarkjs' verifier and ours on one proof",
                shape.circuit_id()
            ));
            let peer = snarkjs_peer(&solc, path, shape)?;
            eprintln!("    {:.1} s", t.elapsed().as_secs_f64());
            Some(peer)
        }
        None => None,
    };
    Ok(GasReport {
        compiler,
        evm: "revm 43, Cancun rules",
        shapes,
        payee_verify_proof_gas: payee_verify,
        set_payee_gas: set_payee,
        publish_epoch_gas: publish,
        deploy_settlement_tx_gas: deploy_settlement,
        precompile_floor_gas: 181_000 + 9 * 6_150,
        snarkjs,
    })
}

/// The report as a table.
pub fn table(r: &GasReport) -> String {
    let mut out = format!(
        "gas of on-chain settlement (solc {}, {}); execution gas, then the whole transaction's\n\n\
         {:<20} {:>20} {:>20} {:>16}\n",
        r.compiler, r.evm, "circuit", "verifyProof", "claim", "deploy verifier"
    );
    for s in &r.shapes {
        out += &format!(
            "{:<20} {:>9} ({:>8}) {:>9} ({:>8}) {:>16}\n",
            s.circuit_id,
            s.verify_proof_gas,
            s.verify_proof_tx_gas,
            s.claim_gas,
            s.claim_tx_gas,
            s.deploy_verifier_tx_gas
        );
    }
    out += &format!(
        "\nprecompile floor of verifyProof (nine inputs): {}\n\
         payee-v1 verifyProof: {}; setPayee: {}; publishEpoch (with the escrow): {}\n\
         deploying the settlement: {}\n",
        r.precompile_floor_gas,
        r.payee_verify_proof_gas,
        r.set_payee_gas,
        r.publish_epoch_gas,
        r.deploy_settlement_tx_gas
    );
    out += &match &r.snarkjs {
        Some(p) => format!(
            "snarkjs 0.7.6's verifier on the same key and proof ({}): {} gas; ours: {} ({:.1}% less)\n",
            p.circuit_id,
            p.snarkjs_verify_proof_gas,
            p.ours_verify_proof_gas,
            100.0 * (1.0 - p.ours_verify_proof_gas as f64 / p.snarkjs_verify_proof_gas as f64)
        ),
        None => "snarkjs' verifier: not measured (set SNARKJS or --snarkjs)\n".into(),
    };
    out
}
