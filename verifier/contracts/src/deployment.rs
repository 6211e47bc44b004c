//! A deployment of the settlement: the token, the verifier contracts, the settlement contract,
//! and the calls of its life (publish, set a payee, claim, sweep), at the level of statements
//! and proofs. Tests and `credence bench --gas` both run through it.
//!
//! Invariant: the settlement and token bytecode are the committed artifacts (`artifacts/`),
//! rebuilt byte for byte by a test; the verifiers are generated from the keys given and compiled
//! by the pinned solc.

use credence_circuits::Fr;
use credence_circuits::payee::{PayeeInput, PayeeStatement};
use credence_verifier::settlement::Snapshot;
use credence_verifier::solidity::{circuit_id_word, input_word, proof_words};
use credence_verifier::{CircuitId, ClaimStatement, Proof};
use serde_json::Value;

use crate::abi::{self, Word, word_address, word_u64};
use crate::evm::{CHAIN_ID, account};
use crate::solc::{Artifact, SolcError, contracts_dir};
use crate::{Address, CallOutcome, Evm, Revert};

/// A committed artifact (`artifacts/<name>.json`).
pub fn artifact(name: &str) -> Result<Artifact, SolcError> {
    let path = contracts_dir()
        .join("artifacts")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| SolcError::Output(format!("{}: {e}", path.display())))?;
    Artifact::from_json(&text)
}

/// An address as the circuits and contracts take it.
pub fn addr20(a: &Address) -> [u8; 20] {
    a.0.0
}

/// The deployed contracts and their accounts.
pub struct Deployment {
    /// The chain.
    pub evm: Evm,
    /// Who publishes epochs.
    pub operator: Address,
    /// The ERC-20 (`TestToken`).
    pub token: Address,
    /// `CredenceSettlement`.
    pub settlement: Address,
    /// The claim verifiers, in the order given.
    pub claim_verifiers: Vec<Address>,
    /// The payee verifier.
    pub payee_verifier: Address,
    /// The gas of each deployment and of the operator's setup calls.
    pub deploy_gas: Vec<(String, u64)>,
    abis: Vec<Value>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("settlement", &self.settlement)
            .finish_non_exhaustive()
    }
}

/// The signature of `publishEpoch`.
pub const PUBLISH_EPOCH: &str = "publishEpoch(uint64,uint8,uint256,uint64,uint64,uint64)";

/// The initial token balance of the operator.
pub const OPERATOR_FUNDS: u64 = 1_000_000_000_000;

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// An artifact could not be read.
    #[error(transparent)]
    Artifact(#[from] SolcError),
    /// A constructor or a setup call reverted.
    #[error("{what} failed: {reason}")]
    Call {
        /// Which step.
        what: String,
        /// The revert or halt.
        reason: String,
    },
}

fn failed(what: &str, out: &CallOutcome) -> DeployError {
    DeployError::Call {
        what: what.to_owned(),
        reason: out
            .halt
            .clone()
            .unwrap_or_else(|| format!("reverted with 0x{}", hex::encode(&out.output))),
    }
}

impl Deployment {
    /// Deploys the token, the verifiers (creation code), and the settlement over them; mints
    /// [`OPERATOR_FUNDS`] to the operator and approves the settlement for all of it.
    pub fn new(
        payee_verifier: &[u8],
        claim_verifiers: &[&[u8]],
    ) -> Result<Deployment, DeployError> {
        let mut evm = Evm::new();
        let deployer = account("deployer");
        let operator = account("operator");
        let token_art = artifact("TestToken")?;
        let settlement_art = artifact("CredenceSettlement")?;
        let mut deploy_gas = Vec::new();
        let mut deploy = |evm: &mut Evm, what: &str, code: &[u8], args: &[u8]| {
            let (a, gas) = evm
                .deploy(deployer, code, args)
                .map_err(|o| failed(what, &o))?;
            deploy_gas.push((what.to_owned(), gas.tx));
            Ok::<_, DeployError>(a)
        };
        let token = deploy(&mut evm, "TestToken", &token_art.bytecode, &[])?;
        let claim: Vec<Address> = claim_verifiers
            .iter()
            .map(|code| deploy(&mut evm, "claim verifier", code, &[]))
            .collect::<Result<_, _>>()?;
        let payee = deploy(&mut evm, "payee verifier", payee_verifier, &[])?;
        // constructor(address token, address operator, address payeeVerifier,
        //             address[] claimVerifiers): the array's offset (4 words), its length, items.
        let mut args: Vec<Word> = vec![
            word_address(&addr20(&token)),
            word_address(&addr20(&operator)),
            word_address(&addr20(&payee)),
            word_u64(0x80),
            word_u64(claim.len() as u64),
        ];
        args.extend(claim.iter().map(|a| word_address(&addr20(a))));
        let args: Vec<u8> = args.concat();
        let settlement = deploy(
            &mut evm,
            "CredenceSettlement",
            &settlement_art.bytecode,
            &args,
        )?;
        let mut d = Deployment {
            evm,
            operator,
            token,
            settlement,
            claim_verifiers: claim,
            payee_verifier: payee,
            deploy_gas,
            abis: vec![settlement_art.abi, token_art.abi],
        };
        let (t, s) = (d.token, d.settlement);
        d.send(
            t,
            operator,
            "mint(address,uint256)",
            &[word_address(&addr20(&operator)), word_u64(OPERATOR_FUNDS)],
        )
        .map_err(|r| DeployError::Call {
            what: "mint".into(),
            reason: r.name,
        })?;
        d.send(
            t,
            operator,
            "approve(address,uint256)",
            &[word_address(&addr20(&s)), [0xff; 32]],
        )
        .map_err(|r| DeployError::Call {
            what: "approve".into(),
            reason: r.name,
        })?;
        Ok(d)
    }

    /// Sends a call; `Err` carries the revert, decoded with the settlement's and the token's
    /// errors (or the halt).
    pub fn send(
        &mut self,
        to: Address,
        from: Address,
        signature: &str,
        words: &[Word],
    ) -> Result<CallOutcome, Revert> {
        let out = self.evm.call(from, to, abi::call(signature, words));
        if out.success {
            Ok(out)
        } else if let Some(h) = &out.halt {
            Err(Revert {
                name: format!("halt: {h}"),
                args: Vec::new(),
            })
        } else {
            let abis: Vec<&Value> = self.abis.iter().collect();
            Err(Revert::decode(&out.output, &abis))
        }
    }

    /// The token balance of `who`.
    pub fn balance(&mut self, who: Address) -> u128 {
        let out = self.evm.view(
            self.token,
            abi::call("balanceOf(address)", &[word_address(&addr20(&who))]),
        );
        abi::words(&out.output)
            .first()
            .and_then(abi::word_to_u128)
            .expect("balanceOf returns a uint256 below 2^128 here")
    }

    /// `publishEpoch` of `snapshot` from the operator, claims open until `deadline`.
    pub fn publish(&mut self, snapshot: &Snapshot, deadline: u64) -> Result<CallOutcome, Revert> {
        let operator = self.operator;
        self.publish_from(operator, snapshot, deadline)
    }

    /// `publishEpoch` from anyone.
    pub fn publish_from(
        &mut self,
        from: Address,
        snapshot: &Snapshot,
        deadline: u64,
    ) -> Result<CallOutcome, Revert> {
        let settlement = self.settlement;
        self.send(
            settlement,
            from,
            PUBLISH_EPOCH,
            &[
                word_u64(snapshot.epoch),
                word_u64(snapshot.depth.into()),
                input_word(&snapshot.root),
                word_u64(snapshot.total_weight),
                word_u64(snapshot.revenue),
                word_u64(deadline),
            ],
        )
    }

    /// The payee statement's input for this deployment (its chain and settlement address).
    pub fn payee_input(&self, secret: Fr, payee: Address, nonce: u64) -> PayeeInput {
        PayeeInput {
            secret,
            chain_id: CHAIN_ID,
            settlement: addr20(&self.settlement),
            payee: addr20(&payee),
            nonce,
        }
    }

    /// `setPayee` with raw words.
    pub fn set_payee_words(
        &mut self,
        from: Address,
        inputs: &[Word],
        proof: &[Word; 8],
    ) -> Result<CallOutcome, Revert> {
        let mut words = inputs.to_vec();
        words.extend_from_slice(proof);
        let settlement = self.settlement;
        self.send(settlement, from, "setPayee(uint256[5],uint256[8])", &words)
    }

    /// `setPayee` with a payee statement and its proof.
    pub fn set_payee(
        &mut self,
        from: Address,
        s: &PayeeStatement,
        proof: &Proof,
    ) -> Result<CallOutcome, Revert> {
        let inputs: Vec<Word> = s.public_inputs().iter().map(input_word).collect();
        self.set_payee_words(from, &inputs, &proof_words(proof))
    }

    /// `claim` with raw words.
    pub fn claim_words(
        &mut self,
        from: Address,
        circuit: &CircuitId,
        inputs: &[Word],
        proof: &[Word; 8],
    ) -> Result<CallOutcome, Revert> {
        let id = circuit_id_word(circuit).map_err(|e| Revert {
            name: e.to_string(),
            args: Vec::new(),
        })?;
        let mut words = vec![id];
        words.extend_from_slice(inputs);
        words.extend_from_slice(proof);
        let settlement = self.settlement;
        self.send(
            settlement,
            from,
            "claim(bytes32,uint256[9],uint256[8])",
            &words,
        )
    }

    /// `claim` with a statement and its proof.
    pub fn claim(
        &mut self,
        from: Address,
        circuit: &CircuitId,
        s: &ClaimStatement,
        proof: &Proof,
    ) -> Result<CallOutcome, Revert> {
        let inputs: Vec<Word> = s.public_inputs().iter().map(input_word).collect();
        self.claim_words(from, circuit, &inputs, &proof_words(proof))
    }

    /// `sweep(epoch)` from anyone.
    pub fn sweep(&mut self, epoch: u64) -> Result<CallOutcome, Revert> {
        let settlement = self.settlement;
        self.send(
            settlement,
            account("anyone"),
            "sweep(uint64)",
            &[word_u64(epoch)],
        )
    }

    /// `verifyProof` of a verifier contract, sent as a transaction: `Some(result)`, or `None`
    /// if it reverted.
    pub fn verify_words(
        &mut self,
        verifier: Address,
        inputs: &[Word],
        proof: &[Word; 8],
    ) -> (Option<bool>, CallOutcome) {
        let sig = format!(
            "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[{}])",
            inputs.len()
        );
        let mut words = proof.to_vec();
        words.extend_from_slice(inputs);
        let out = self
            .evm
            .call(account("anyone"), verifier, abi::call(&sig, &words));
        let verdict = out.success.then(|| {
            out.output.len() == 32
                && out.output[31] == 1
                && out.output[..31].iter().all(|b| *b == 0)
        });
        (verdict, out)
    }
}
