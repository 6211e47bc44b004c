//! The settlement contract in revm with real proofs: it pays exactly what `credence-verify
//! settle` admits, to the payee each contributor set, and refuses everything else by name; the
//! token balances add up after every call.

mod common;

use common::{Datanet, Keys, OPERATOR_FUNDS, World, keys, prove_claim, solc};
use credence_circuits::{ClaimStatement, Fr};
use credence_contracts::abi::{self, Word};
use credence_contracts::evm::account;
use credence_contracts::{Address, Revert};
use credence_verifier::settlement::{Settlement, Snapshot};
use credence_verifier::{CircuitId, ClaimBundle, KeyRing, Proof, verify, verify_bundle};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

const REVENUE: u64 = 1_000_003;

fn snap(epoch: u64, depth: u32, root: Fr, total: u64, revenue: u64) -> Snapshot {
    Snapshot::new(epoch, depth, root, total, revenue).unwrap()
}

struct Fixture {
    keys: &'static Keys,
    world: World,
    net: Datanet,
    circuit: CircuitId,
    deadline: u64,
    /// Every payee, to check that the balances add up.
    payees: Vec<Address>,
}

fn fixture() -> Option<Fixture> {
    let solc = solc()?;
    let keys = keys(&solc);
    let mut world = common::deploy(keys);
    let net = Datanet::new(11);
    let deadline = world.evm.timestamp() + 7 * 86_400;
    world
        .publish(
            &snap(1, net.depth, net.root(), net.total(), REVENUE),
            deadline,
        )
        .unwrap();
    let payees = (0..net.contributors.len())
        .map(|i| account(&format!("payee {i}")))
        .collect();
    Some(Fixture {
        keys,
        world,
        circuit: keys.claim_key.circuit_id().clone(),
        net,
        deadline,
        payees,
    })
}

impl Fixture {
    fn claim_proof(&self, who: usize, epoch: u64, range: (u64, u64)) -> (ClaimStatement, Proof) {
        let input = self
            .net
            .claim_input(who, epoch, REVENUE, range, common::SHAPE.0);
        prove_claim(&self.keys.claim, &input, range.0 * 100 + who as u64)
    }

    fn set_payee(&mut self, who: usize) {
        let (secret, payee) = (self.net.contributors[who].secret, self.payees[who]);
        common::register_payee(&mut self.world, self.keys, secret, payee, 0).unwrap();
    }

    fn refused(&mut self, s: &ClaimStatement, p: &Proof) -> Revert {
        let circuit = self.circuit.clone();
        self.world
            .claim(account("relayer"), &circuit, s, p)
            .expect_err("the claim must be refused")
    }

    /// The token's invariant: nothing created or lost, and the contract holds what unswept
    /// epochs still owe.
    fn assert_balances(&mut self, owed: u128) {
        let mut sum =
            self.world.balance(self.world.operator) + self.world.balance(self.world.settlement);
        for p in self.payees.clone() {
            sum += self.world.balance(p);
        }
        sum += self.world.balance(account("relayer")) + self.world.balance(account("front-runner"));
        assert_eq!(
            sum,
            u128::from(OPERATOR_FUNDS),
            "tokens were created or lost"
        );
        assert_eq!(self.world.balance(self.world.settlement), owed);
    }
}

fn payout_of(s: &ClaimStatement) -> u128 {
    u128::from(s.payout)
}

#[test]
fn a_valid_claim_pays_exactly_its_payout_to_the_registered_payee() {
    let Some(mut f) = fixture() else { return };
    f.assert_balances(REVENUE.into());
    f.set_payee(0);
    let (s, p) = f.claim_proof(0, 1, (0, 16));
    verify(&f.keys.claim_key, &s, &p).unwrap();
    let expected = payout_of(&s);
    assert!(expected > 0);
    let circuit = f.circuit.clone();
    let out = f.world.claim(account("relayer"), &circuit, &s, &p).unwrap();
    assert_eq!(f.world.balance(f.payees[0]), expected);
    assert_eq!(
        f.world.balance(account("relayer")),
        0,
        "the submitter is not paid"
    );
    f.assert_balances(u128::from(REVENUE) - expected);
    // ClaimPaid(epoch, contributor id, payee, ...) and the token's Transfer.
    let claim_paid =
        abi::selector("ClaimPaid(uint64,uint256,address,bytes32,uint64,uint64,uint64,uint64)");
    let log = out
        .logs
        .iter()
        .find(|l| l.address == f.world.settlement)
        .expect("ClaimPaid");
    assert_eq!(log.topics()[0].0[..4], claim_paid);
    assert_eq!(
        log.topics()[2].0,
        credence_verifier::solidity::input_word(&s.contributor_id)
    );
    eprintln!(
        "claim: {} gas ({} with the transaction's)",
        out.gas.execution(),
        out.gas.tx
    );
    assert!(
        out.gas.execution() <= 330_000,
        "a whole claim: {} gas",
        out.gas.execution()
    );
}

#[test]
fn a_copied_claim_pays_the_same_payee_and_the_original_is_then_refused() {
    let Some(mut f) = fixture() else { return };
    f.set_payee(1);
    let (s, p) = f.claim_proof(1, 1, (0, 16));
    let circuit = f.circuit.clone();
    // Someone copies the claim from the mempool and submits it first.
    f.world
        .claim(account("front-runner"), &circuit, &s, &p)
        .unwrap();
    assert_eq!(f.world.balance(f.payees[1]), payout_of(&s));
    assert_eq!(f.world.balance(account("front-runner")), 0);
    let r = f
        .world
        .claim(account("relayer"), &circuit, &s, &p)
        .unwrap_err();
    assert_eq!(r.name, "RangeOverlap");
    f.assert_balances(u128::from(REVENUE) - payout_of(&s));
}

#[test]
fn the_contract_pays_what_credence_verify_settle_admits() {
    let Some(mut f) = fixture() else { return };
    for who in 0..3 {
        f.set_payee(who);
    }
    // Disjoint ranges of contributor 0, in any order; two contributors' whole ranges; a repeat.
    let claims = [
        (0, (4, 16)),
        (0, (0, 4)),
        (1, (0, 16)),
        (2, (0, 16)),
        (0, (3, 5)),
        (2, (11, 12)),
    ];
    let snapshot = Snapshot::new(1, f.net.depth, f.net.root(), f.net.total(), REVENUE).unwrap();
    let mut settle = Settlement::new(snapshot);
    let mut ring = KeyRing::new();
    ring.insert(f.keys.claim_key.clone()).unwrap();
    let mut owed = u128::from(REVENUE);
    for (who, range) in claims {
        let (s, p) = f.claim_proof(who, 1, range);
        let bundle = ClaimBundle::new(&f.keys.claim_key, s.clone(), p.clone());
        let verified = verify_bundle(&ring, &bundle).unwrap();
        let offchain = settle.admit(&verified);
        let circuit = f.circuit.clone();
        let onchain = f.world.claim(account("relayer"), &circuit, &s, &p);
        match (&offchain, &onchain) {
            (Ok(()), Ok(_)) => owed -= payout_of(&s),
            (Err(e), Err(r)) => {
                let expected = match e {
                    credence_verifier::Refusal::Overlap { .. } => "RangeOverlap",
                    other => panic!("unexpected refusal {other}"),
                };
                assert_eq!(r.name, expected);
            }
            _ => panic!("{who} {range:?}: settle {offchain:?}, contract {onchain:?}"),
        }
    }
    let report = settle.report();
    for line in &report.payouts {
        let who = f
            .net
            .contributors
            .iter()
            .position(|c| credence_verifier::encoding::fr_to_decimal(&c.id) == line.contributor_id)
            .unwrap();
        assert_eq!(f.world.balance(f.payees[who]).to_string(), line.payout);
    }
    assert_eq!(report.undistributed, owed.to_string());
    f.assert_balances(owed);
}

#[test]
fn every_refusal_is_named_and_changes_nothing() {
    let Some(mut f) = fixture() else { return };
    let (s, p) = f.claim_proof(0, 1, (0, 16));
    let circuit = f.circuit.clone();

    // No payee yet.
    assert_eq!(f.refused(&s, &p).name, "PayeeNotSet");
    f.set_payee(0);

    // An unknown circuit id.
    let unknown = CircuitId::new("claim-v1-n64-d20").unwrap();
    let r = f
        .world
        .claim(account("relayer"), &unknown, &s, &p)
        .unwrap_err();
    assert_eq!(r.name, "UnknownCircuit");

    // A proof for another statement.
    let mut changed = s.clone();
    changed.payout -= 1;
    assert_eq!(f.refused(&changed, &p).name, "InvalidProof");

    // A second epoch's statement: epoch 2 is published with another snapshot, and a valid proof
    // of a statement that says epoch 2 over epoch 1's tree names the wrong root.
    let other = Datanet::new(12);
    let deadline = f.deadline;
    f.world
        .publish(
            &snap(2, other.depth, other.root(), other.total(), 500),
            deadline,
        )
        .unwrap();
    let (s2, p2) = f.claim_proof(0, 2, (0, 16));
    let r = f.refused(&s2, &p2);
    assert_eq!((r.name.as_str(), r.args[0][31]), ("SnapshotMismatch", 1));
    // An epoch never published.
    let (s3, p3) = f.claim_proof(0, 3, (0, 16));
    assert_eq!(f.refused(&s3, &p3).name, "EpochNotPublished");

    // The snapshot republished, by the operator or anyone else.
    let r = f
        .world
        .publish(&snap(1, 4, Fr::from(1u64), 1, 1), deadline)
        .unwrap_err();
    assert_eq!(r.name, "EpochAlreadyPublished");
    let r = f
        .world
        .publish_from(
            account("mallory"),
            &snap(9, 4, Fr::from(1u64), 1, 1),
            deadline,
        )
        .unwrap_err();
    assert_eq!(r.name, "NotOperator");

    // The claim goes through once; an overlapping range is refused.
    f.world.claim(account("relayer"), &circuit, &s, &p).unwrap();
    let (s4, p4) = f.claim_proof(0, 1, (6, 7));
    assert_eq!(f.refused(&s4, &p4).name, "RangeOverlap");

    // After the deadline: no more claims; the rest goes back to the operator, once.
    let owed = u128::from(REVENUE) - payout_of(&s) + 500;
    f.assert_balances(owed);
    let sweep = |f: &mut Fixture, epoch: u64| f.world.sweep(epoch);
    assert_eq!(sweep(&mut f, 1).unwrap_err().name, "ClaimWindowOpen");
    f.world.evm.set_timestamp(deadline + 1);
    let (s5, p5) = f.claim_proof(1, 1, (0, 16));
    f.set_payee(1);
    assert_eq!(f.refused(&s5, &p5).name, "ClaimWindowClosed");
    let before = f.world.balance(f.world.operator);
    sweep(&mut f, 1).unwrap();
    assert_eq!(
        f.world.balance(f.world.operator) - before,
        u128::from(REVENUE) - payout_of(&s)
    );
    assert_eq!(sweep(&mut f, 1).unwrap_err().name, "AlreadySwept");
    f.assert_balances(500);
}

#[test]
fn payee_proofs_are_bound_to_the_chain_the_contract_and_their_nonce() {
    let Some(mut f) = fixture() else { return };
    let secret = f.net.contributors[2].secret;
    let keys = f.keys;
    let prove = |f: &Fixture, input: credence_circuits::payee::PayeeInput, seed: u64| {
        let (s, p) = keys
            .payee
            .prove(&input, &mut ChaCha20Rng::seed_from_u64(seed))
            .unwrap();
        let _ = f;
        (s, Proof::from(p))
    };
    let first = f.world.payee_input(secret, account("first payee"), 0);
    let (s0, p0) = prove(&f, first, 1);
    f.world.set_payee(account("anyone"), &s0, &p0).unwrap();
    // Replaying the same proof (its nonce is spent) is refused.
    let r = f.world.set_payee(account("anyone"), &s0, &p0).unwrap_err();
    assert_eq!(r.name, "StalePayeeNonce");
    // Nonce 1 moves the payee; its replay is refused too.
    let second = f.world.payee_input(secret, account("second payee"), 1);
    let (s1, p1) = prove(&f, second, 2);
    f.world.set_payee(account("anyone"), &s1, &p1).unwrap();
    assert_eq!(
        f.world
            .set_payee(account("anyone"), &s1, &p1)
            .unwrap_err()
            .name,
        "StalePayeeNonce"
    );
    // A proof for another chain, or another settlement contract, is refused.
    let mut other_chain = f.world.payee_input(secret, account("thief"), 2);
    other_chain.chain_id = 1;
    let (s, p) = prove(&f, other_chain, 3);
    assert_eq!(
        f.world
            .set_payee(account("anyone"), &s, &p)
            .unwrap_err()
            .name,
        "WrongChain"
    );
    let mut other_contract = f.world.payee_input(secret, account("thief"), 2);
    other_contract.settlement = [7; 20];
    let (s, p) = prove(&f, other_contract, 4);
    assert_eq!(
        f.world
            .set_payee(account("anyone"), &s, &p)
            .unwrap_err()
            .name,
        "WrongSettlement"
    );
    // Someone else's secret cannot set this contributor's payee: the proof is for its own id,
    // and moving it onto this id is an invalid proof.
    let mallory = f.world.payee_input(Fr::from(42u64), account("thief"), 2);
    let (mut s, p) = prove(&f, mallory, 5);
    s.contributor_id = f.net.contributors[2].id;
    assert_eq!(
        f.world
            .set_payee(account("anyone"), &s, &p)
            .unwrap_err()
            .name,
        "InvalidProof"
    );

    // The claim pays the payee of nonce 1.
    let (cs, cp) = f.claim_proof(2, 1, (0, 16));
    let circuit = f.circuit.clone();
    f.world
        .claim(account("relayer"), &circuit, &cs, &cp)
        .unwrap();
    assert_eq!(f.world.balance(account("second payee")), payout_of(&cs));
    assert_eq!(f.world.balance(account("first payee")), 0);
    assert_eq!(f.world.balance(account("thief")), 0);
}

/// A snapshot whose node sums wrap around the field: the operator adds a phantom leaf of
/// weight `-50`, so the total (150) is below the two real leaves' weights (100 + 100). Each
/// claim alone proves (the circuit checks `claimed_weight <= total_weight`, not the sums'
/// signs), so only the settlement's running sums stand between the two claims and more than the
/// revenue: the second claim is refused for its weight, on chain as by `settle`. (A separate
/// revenue check follows it, but cannot fire once the weights fit: the payouts are floors of
/// shares of the revenue.)
#[test]
fn a_snapshot_whose_sums_wrap_cannot_pay_more_than_its_revenue() {
    use credence_circuits::claim::{ClaimAssignment, SlotAssignment};
    use credence_circuits::commitment::{commitment, contributor_id, leaf_hash};
    use credence_circuits::poseidon::hash;

    let Some(solc) = solc() else { return };
    let keys = keys(&solc);
    let mut world = common::deploy(keys);
    let zero = Fr::from(0u64);
    let secrets = [Fr::from(1_001u64), Fr::from(2_002u64)];
    let opening = |k: u64| (Fr::from(10 + k), Fr::from(20 + k));
    // Leaves 0 and 1: the two contributors, weight 100 each; leaf 2: hash 7, sum -50.
    let mut level: Vec<(Fr, Fr)> = vec![(zero, zero); 16];
    for (k, s) in secrets.iter().enumerate() {
        let (d, b) = opening(k as u64);
        level[k] = (
            leaf_hash(&contributor_id(s), &commitment(&d, &b), 100),
            Fr::from(100u64),
        );
    }
    level[2] = (Fr::from(7u64), zero - Fr::from(50u64));
    let mut levels = vec![level];
    while levels.last().unwrap().len() > 1 {
        let next = levels
            .last()
            .unwrap()
            .chunks(2)
            .map(|p| (hash(&[p[0].0, p[0].1, p[1].0, p[1].1]), p[0].1 + p[1].1))
            .collect();
        levels.push(next);
    }
    let (root, total) = levels[4][0];
    assert_eq!(total, Fr::from(150u64));
    let deadline = world.evm.timestamp() + 1000;
    world
        .publish(&snap(1, 4, root, 150, REVENUE), deadline)
        .unwrap();

    let prove = |k: usize| -> (ClaimStatement, Proof) {
        let index = k as u64;
        let (d, b) = opening(index);
        let siblings: Vec<(Fr, Fr)> = (0..4)
            .map(|j| levels[j][((index >> j) ^ 1) as usize])
            .collect();
        let payout = (u128::from(REVENUE) * 100 / 150) as u64;
        let statement = ClaimStatement {
            epoch: 1,
            root,
            total_weight: 150,
            revenue: REVENUE,
            contributor_id: contributor_id(&secrets[k]),
            claimed_weight: 100,
            payout,
            range_start: 0,
            range_end: 16,
        };
        let assignment = ClaimAssignment {
            public: statement.public_inputs(),
            secret: secrets[k],
            slots: vec![
                SlotAssignment {
                    enabled: Fr::from(1u64),
                    digest: d,
                    blinding: b,
                    weight: Fr::from(100u64),
                    index: Fr::from(index),
                    bits: (0..4).map(|j| Fr::from((index >> j) & 1)).collect(),
                    siblings,
                },
                SlotAssignment::padding(4),
            ],
            rem: Fr::from(
                u64::try_from(u128::from(REVENUE) * 100 - u128::from(payout) * 150).unwrap(),
            ),
        };
        let proof = keys
            .claim
            .prove_assignment(assignment, &mut ChaCha20Rng::seed_from_u64(k as u64))
            .unwrap();
        (statement, Proof::from(proof))
    };

    let snapshot = Snapshot::new(1, 4, root, 150, REVENUE).unwrap();
    let mut settle = Settlement::new(snapshot);
    let mut ring = KeyRing::new();
    ring.insert(keys.claim_key.clone()).unwrap();
    let circuit = keys.claim_key.circuit_id().clone();
    for (k, secret) in secrets.iter().enumerate() {
        common::register_payee(&mut world, keys, *secret, account(&format!("payee {k}")), 0)
            .unwrap();
    }
    let (s0, p0) = prove(0);
    let (s1, p1) = prove(1);
    for (s, p) in [(&s0, &p0), (&s1, &p1)] {
        verify(&keys.claim_key, s, p).expect("each claim alone is a valid proof");
    }
    let admit = |settle: &mut Settlement, s: &ClaimStatement, p: &Proof| {
        settle.admit(
            &verify_bundle(
                &ring,
                &ClaimBundle::new(&keys.claim_key, s.clone(), p.clone()),
            )
            .unwrap(),
        )
    };
    admit(&mut settle, &s0, &p0).unwrap();
    world.claim(account("relayer"), &circuit, &s0, &p0).unwrap();
    assert!(matches!(
        admit(&mut settle, &s1, &p1),
        Err(credence_verifier::Refusal::OverWeight { .. })
    ));
    let r = world
        .claim(account("relayer"), &circuit, &s1, &p1)
        .unwrap_err();
    assert_eq!(r.name, "OverWeight");
    assert_eq!(world.balance(account("payee 0")), payout_of(&s0));
    assert_eq!(world.balance(account("payee 1")), 0);
    assert_eq!(
        world.balance(world.settlement),
        u128::from(REVENUE) - payout_of(&s0)
    );
}

/// What no `snapshot.json` can hold, sent as raw words: a depth outside 4..=32, a root >= r, a
/// deadline already past. Each is refused by name, and nothing is escrowed.
#[test]
fn publishing_refuses_a_bad_depth_a_root_above_the_field_and_a_past_deadline() {
    use credence_contracts::abi::word_u64;
    use credence_contracts::deployment::PUBLISH_EPOCH;
    let Some(mut f) = fixture() else { return };
    let (settlement, operator) = (f.world.settlement, f.world.operator);
    let now = f.world.evm.timestamp();
    let root = credence_verifier::solidity::input_word(&f.net.root());
    let mut r = [0u8; 32];
    r.copy_from_slice(&ark_ff::BigInteger::to_bytes_be(
        &<Fr as ark_ff::PrimeField>::MODULUS,
    ));
    let cases: [(u64, Word, u64, &str); 4] = [
        (3, root, now + 10, "DepthOutOfRange"),
        (33, root, now + 10, "DepthOutOfRange"),
        (4, r, now + 10, "RootOutOfRange"),
        (4, root, now, "DeadlineInPast"),
    ];
    for (depth, root, deadline, error) in cases {
        let words = [
            word_u64(5),
            word_u64(depth),
            root,
            word_u64(10),
            word_u64(10),
            word_u64(deadline),
        ];
        let refused = f
            .world
            .send(settlement, operator, PUBLISH_EPOCH, &words)
            .unwrap_err();
        assert_eq!(refused.name, error, "depth {depth}");
    }
    f.assert_balances(REVENUE.into());
}
