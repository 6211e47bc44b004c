//! revm in process: accounts, deployments, calls, gas and logs, under Cancun's rules.
//!
//! Invariant: every call runs the real interpreter and the real precompiles on the state the
//! previous calls committed; a call that reverts or halts changes nothing but its sender's
//! nonce, as on a chain. Gas prices are zero, so no account needs ether.

use revm::context::result::{ExecutionResult, Output};
use revm::context::{BlockEnv, TxEnv};
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Bytes, TxKind};
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

pub use revm::primitives::{Address, Log, U256};

/// The chain id of the in-process chain (Hardhat's and Anvil's default).
pub const CHAIN_ID: u64 = 31337;
/// The gas limit of every transaction: the cap of EIP-7825, far above what any call here needs.
pub const GAS_LIMIT: u64 = 16_777_216;
/// 21,000, what every transaction pays before its calldata and execution.
pub const TX_BASE_GAS: u64 = 21_000;

/// A transaction's gas, split the way a contract's cost is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gas {
    /// What the transaction was charged, after refunds (a receipt's `gasUsed`).
    pub tx: u64,
    /// The fixed part: 21,000 and the calldata (4 per zero byte, 16 per other byte).
    pub intrinsic: u64,
}

impl Gas {
    /// What the call's code cost: `tx - intrinsic`.
    pub fn execution(&self) -> u64 {
        self.tx.saturating_sub(self.intrinsic)
    }
}

/// The intrinsic gas of a call with `data` (Istanbul's calldata prices, no access list).
pub fn intrinsic_gas(data: &[u8]) -> u64 {
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    TX_BASE_GAS + 4 * zeros + 16 * (data.len() as u64 - zeros)
}

/// What a call did.
#[derive(Clone, Debug)]
pub struct CallOutcome {
    /// Whether it returned (rather than reverted or halted).
    pub success: bool,
    /// Its return data, or its revert data.
    pub output: Vec<u8>,
    /// Its logs (none if it did not succeed).
    pub logs: Vec<Log>,
    /// Its gas.
    pub gas: Gas,
    /// The halt reason, if it halted (out of gas, invalid opcode, ...).
    pub halt: Option<String>,
    /// The created contract, for a deployment.
    pub created: Option<Address>,
}

/// An EVM with its state.
pub struct Evm {
    evm: MainnetEvm<MainnetContext<InMemoryDB>>,
}

impl std::fmt::Debug for Evm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evm").finish_non_exhaustive()
    }
}

impl Default for Evm {
    fn default() -> Self {
        Self::new()
    }
}

/// An address from a short name, for test accounts (`keccak256(name)`'s last 20 bytes).
pub fn account(name: &str) -> Address {
    let h = revm::primitives::keccak256(name.as_bytes());
    Address::from_slice(&h[12..])
}

impl Evm {
    /// An empty chain (Cancun, chain id [`CHAIN_ID`], block 1 at time 1,700,000,000).
    pub fn new() -> Self {
        let evm = Context::mainnet()
            .with_db(InMemoryDB::default())
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(SpecId::CANCUN);
                cfg.chain_id = CHAIN_ID;
                cfg.disable_nonce_check = true;
            })
            .modify_block_chained(|b: &mut BlockEnv| {
                b.number = U256::from(1);
                b.timestamp = U256::from(1_700_000_000u64);
                b.gas_limit = 30_000_000;
            })
            .build_mainnet();
        Evm { evm }
    }

    /// The current block's timestamp.
    pub fn timestamp(&self) -> u64 {
        self.evm.ctx.block.timestamp.saturating_to()
    }

    /// Moves time to `t` (and the block number on by one).
    pub fn set_timestamp(&mut self, t: u64) {
        self.evm.ctx.modify_block(|b| {
            b.timestamp = U256::from(t);
            b.number += U256::from(1);
        });
    }

    fn run(&mut self, from: Address, kind: TxKind, data: Vec<u8>, commit: bool) -> CallOutcome {
        let intrinsic = intrinsic_gas(&data);
        let tx = TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(Bytes::from(data))
            .gas_limit(GAS_LIMIT)
            .gas_price(0)
            .chain_id(Some(CHAIN_ID))
            .build()
            .expect("a call's transaction is well-formed");
        let result = if commit {
            self.evm.transact_commit(tx)
        } else {
            self.evm.transact(tx).map(|r| r.result)
        };
        let result = match result {
            Ok(r) => r,
            // A transaction the EVM refuses before running it (never ours: zero gas price, no
            // nonce check): report it as a halt.
            Err(e) => {
                return CallOutcome {
                    success: false,
                    output: Vec::new(),
                    logs: Vec::new(),
                    gas: Gas { tx: 0, intrinsic },
                    halt: Some(format!("transaction refused: {e:?}")),
                    created: None,
                };
            }
        };
        let gas = Gas {
            tx: result.tx_gas_used(),
            intrinsic,
        };
        match result {
            ExecutionResult::Success { logs, output, .. } => {
                let created = match &output {
                    Output::Create(_, address) => *address,
                    Output::Call(_) => None,
                };
                CallOutcome {
                    success: true,
                    output: output.into_data().to_vec(),
                    logs,
                    gas,
                    halt: None,
                    created,
                }
            }
            ExecutionResult::Revert { output, .. } => CallOutcome {
                success: false,
                output: output.to_vec(),
                logs: Vec::new(),
                gas,
                halt: None,
                created: None,
            },
            ExecutionResult::Halt { reason, .. } => CallOutcome {
                success: false,
                output: Vec::new(),
                logs: Vec::new(),
                gas,
                halt: Some(format!("{reason:?}")),
                created: None,
            },
        }
    }

    /// Deploys `init_code` followed by `constructor_args` from `from`: the new contract's
    /// address and the deployment's gas.
    pub fn deploy(
        &mut self,
        from: Address,
        init_code: &[u8],
        constructor_args: &[u8],
    ) -> Result<(Address, Gas), CallOutcome> {
        let mut data = init_code.to_vec();
        data.extend_from_slice(constructor_args);
        let out = self.run(from, TxKind::Create, data, true);
        match out.created {
            Some(a) if out.success => Ok((a, out.gas)),
            _ => Err(out),
        }
    }

    /// Sends a transaction calling `to` with `data`, and commits its effects if it succeeds.
    pub fn call(&mut self, from: Address, to: Address, data: Vec<u8>) -> CallOutcome {
        self.run(from, TxKind::Call(to), data, true)
    }

    /// Runs a call without committing anything (`eth_call`).
    pub fn view(&mut self, to: Address, data: Vec<u8>) -> CallOutcome {
        self.run(Address::ZERO, TxKind::Call(to), data, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsic_gas_prices_zero_and_other_bytes() {
        assert_eq!(intrinsic_gas(&[]), 21_000);
        assert_eq!(intrinsic_gas(&[0, 1, 0, 2]), 21_000 + 8 + 32);
    }

    #[test]
    fn a_deployed_contract_runs_and_reports_its_gas() {
        let mut evm = Evm::new();
        // Init code that returns the runtime `PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`.
        let runtime = [0x60, 42, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3];
        let mut init = vec![0x60, runtime.len() as u8, 0x60, 12, 0x60, 0, 0x39];
        init.extend_from_slice(&[0x60, runtime.len() as u8, 0x60, 0, 0xf3]);
        init.extend_from_slice(&runtime);
        let (a, _) = evm.deploy(account("deployer"), &init, &[]).unwrap();
        let out = evm.call(account("caller"), a, vec![]);
        assert!(out.success);
        assert_eq!(out.output[31], 42);
        // Four PUSH1 (12), MSTORE (3, and 3 for one word of memory), RETURN (0): 18.
        assert_eq!(out.gas.execution(), 18);
        // The BN254 precompile ecAdd (address 6) is there: (0,0) + (0,0) = (0,0) for 150 gas.
        let out = evm.view(Address::with_last_byte(6), vec![0; 128]);
        assert!(out.success);
        assert_eq!(out.output, vec![0; 64]);
        assert_eq!(out.gas.execution(), 150);
    }
}
