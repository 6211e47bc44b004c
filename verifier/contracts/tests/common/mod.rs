//! The chain the contract tests run on: the committed settlement and token artifacts, verifier
//! contracts generated from real keys and compiled by the pinned solc, a small datanet with
//! real claim and payee proofs (N = 2, D = 4).
//!
//! The tests need the compiler (`npm ci` in verifier/contracts). Without it they skip with a
//! message, except under `CI`, where `.ci/run` installs it and a missing compiler fails them.
#![allow(dead_code)]

use std::sync::OnceLock;

use ark_std::UniformRand;
use credence_circuits::commitment::{commitment, contributor_id, leaf};
use credence_circuits::{
    ClaimInput, ClaimProver, ClaimStatement, Contribution, Fr, MerkleSumTree, Shape,
    prover::PayeeProver,
};
use credence_contracts::evm::account;
use credence_contracts::solc::Compiled;
use credence_contracts::{Address, CallOutcome, Revert, Solc};
use credence_verifier::solidity::verifier_contract;
use credence_verifier::{CircuitId, PayeeKey, Proof, TrustedKey, VerifyingKey};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

/// The compiler, or `None` (skip) outside CI.
pub fn solc() -> Option<Solc> {
    match Solc::installed() {
        Ok(s) => Some(s),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install solc: {e}"
            );
            eprintln!("skipped: {e}");
            None
        }
    }
}

pub const SHAPE: (usize, u32) = (2, 4);
pub const OTHER_SHAPE: (usize, u32) = (1, 4);

/// The keys of the test chain: two claim shapes and the payee circuit (seeded: tests only).
pub struct Keys {
    pub claim: ClaimProver,
    pub claim_key: TrustedKey,
    pub other: ClaimProver,
    pub other_key: TrustedKey,
    pub payee: PayeeProver,
    pub payee_key: PayeeKey,
    /// The three verifier contracts, compiled.
    pub verifiers: Compiled,
}

fn claim_keys(shape: Shape, rng: &mut ChaCha20Rng) -> (ClaimProver, TrustedKey) {
    let prover = ClaimProver::setup(shape, rng).unwrap();
    let vk = VerifyingKey::from(prover.verifying_key().clone());
    let key = TrustedKey::new(CircuitId::new(&shape.circuit_id()).unwrap(), vk).unwrap();
    (prover, key)
}

pub fn keys(solc: &Solc) -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let (claim, claim_key) = claim_keys(Shape::new(SHAPE.0, SHAPE.1).unwrap(), &mut rng);
        let (other, other_key) =
            claim_keys(Shape::new(OTHER_SHAPE.0, OTHER_SHAPE.1).unwrap(), &mut rng);
        let payee = PayeeProver::setup(&mut rng).unwrap();
        let payee_key = PayeeKey::new(VerifyingKey::from(payee.verifying_key().clone())).unwrap();
        let sources: Vec<_> = [
            (claim_key.circuit_id().clone(), claim_key.vk()),
            (other_key.circuit_id().clone(), other_key.vk()),
            (CircuitId::new("payee-v1").unwrap(), payee_key.vk()),
        ]
        .iter()
        .map(|(id, vk)| verifier_contract(id, vk).unwrap())
        .collect();
        let named: Vec<(String, &str)> = sources
            .iter()
            .map(|c| (c.file_name(), c.source.as_str()))
            .collect();
        let refs: Vec<(&str, &str)> = named.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let verifiers = solc.compile(&refs).unwrap();
        Keys {
            claim,
            claim_key,
            other,
            other_key,
            payee,
            payee_key,
            verifiers,
        }
    })
}

/// One contributor of the datanet.
pub struct Contributor {
    pub secret: Fr,
    pub id: Fr,
    /// (leaf index, digest, blinding, weight)
    pub leaves: Vec<(u64, Fr, Fr, u64)>,
}

/// A snapshot of depth 4 with three contributors.
pub struct Datanet {
    pub contributors: Vec<Contributor>,
    pub tree: MerkleSumTree,
    pub depth: u32,
}

impl Datanet {
    pub fn new(seed: u64) -> Datanet {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let layout: [&[u64]; 3] = [&[1, 4, 6], &[2, 9], &[11]];
        let contributors: Vec<Contributor> = layout
            .iter()
            .map(|indices| {
                let secret = Fr::rand(&mut rng);
                Contributor {
                    secret,
                    id: contributor_id(&secret),
                    leaves: indices
                        .iter()
                        .map(|i| {
                            let w = 1 + u64::from(u32::rand(&mut rng) % 1000);
                            (*i, Fr::rand(&mut rng), Fr::rand(&mut rng), w)
                        })
                        .collect(),
                }
            })
            .collect();
        let leaves = contributors.iter().flat_map(|c| {
            c.leaves
                .iter()
                .map(|(i, d, b, w)| (*i, leaf(&c.id, &commitment(d, b), *w)))
        });
        let tree = MerkleSumTree::from_leaves(4, leaves).unwrap();
        Datanet {
            contributors,
            tree,
            depth: 4,
        }
    }

    pub fn root(&self) -> Fr {
        self.tree.root().hash
    }

    pub fn total(&self) -> u64 {
        self.tree.root().sum
    }

    /// The claim input of contributor `who` over `[start, end)` (at most `n` of its leaves).
    pub fn claim_input(
        &self,
        who: usize,
        epoch: u64,
        revenue: u64,
        range: (u64, u64),
        n: usize,
    ) -> ClaimInput {
        let c = &self.contributors[who];
        let contributions = c
            .leaves
            .iter()
            .filter(|(i, ..)| (range.0..range.1).contains(i))
            .take(n)
            .map(|(i, d, b, w)| Contribution {
                digest: *d,
                blinding: *b,
                weight: *w,
                leaf_index: *i,
                path: self.tree.path(*i).unwrap(),
            })
            .collect();
        ClaimInput {
            secret: c.secret,
            contributions,
            epoch,
            root: self.root(),
            total_weight: self.total(),
            revenue,
            range_start: range.0,
            range_end: range.1,
        }
    }
}

/// Proves a claim with `prover`.
pub fn prove_claim(prover: &ClaimProver, input: &ClaimInput, seed: u64) -> (ClaimStatement, Proof) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (s, p) = prover.prove(input, &mut rng).unwrap();
    (s, Proof::from(p))
}

#[allow(unused_imports)]
pub use credence_contracts::deployment::OPERATOR_FUNDS;
pub type World = credence_contracts::Deployment;

/// The test chain: token, the two claim verifiers and the payee verifier, the settlement.
pub fn deploy(keys: &Keys) -> World {
    let code = |id: &CircuitId| {
        let name = credence_verifier::solidity::contract_name(id);
        keys.verifiers.get(&name).unwrap().bytecode.clone()
    };
    let claim = code(keys.claim_key.circuit_id());
    let other = code(keys.other_key.circuit_id());
    let payee = code(&CircuitId::new("payee-v1").unwrap());
    World::new(&payee, &[&claim, &other]).unwrap()
}

/// Sets contributor `secret`'s payee, proving at `nonce`.
pub fn register_payee(
    world: &mut World,
    keys: &Keys,
    secret: Fr,
    payee: Address,
    nonce: u64,
) -> Result<CallOutcome, Revert> {
    let input = world.payee_input(secret, payee, nonce);
    let (s, p) = keys
        .payee
        .prove(&input, &mut ChaCha20Rng::seed_from_u64(nonce + 77))
        .unwrap();
    world.set_payee(account("anyone"), &s, &Proof::from(p))
}
