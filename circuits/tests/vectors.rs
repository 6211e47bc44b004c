//! Reproduces every value of `testdata/protocol-v1.json`: test vectors for protocol v1 computed
//! independently with circomlibjs 0.1.7 (Poseidon) and the blake3 reference implementation
//! (see `testdata/README.md`).

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use credence_circuits::{
    ClaimCircuit, ClaimInput, Contribution, Fr, MerkleSumPath, MerkleSumTree, Shape, SumNode,
    commitment, merkle_sum::empty_subtrees, poseidon,
};
use serde_json::Value;
use std::{collections::BTreeMap, str::FromStr};

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/protocol-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fr(v: &Value) -> Fr {
    Fr::from_str(v.as_str().expect("decimal string")).unwrap()
}

fn u64_of(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_u64().unwrap(),
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn poseidon_one_to_four_inputs() {
    let v = vectors();
    let cases = v["poseidon"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let inputs: Vec<Fr> = case["inputs"].as_array().unwrap().iter().map(fr).collect();
        assert_eq!(
            poseidon::hash(&inputs),
            fr(&case["hash"]),
            "{} inputs",
            inputs.len()
        );
    }
}

#[test]
fn contributors_commitments_leaves_paths_and_snapshot() {
    let v = vectors();
    let ids: BTreeMap<String, Fr> = v["contributors"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, c)| {
            let id = commitment::contributor_id(&fr(&c["secret"]));
            assert_eq!(id, fr(&c["contributor_id"]), "{name}");
            (name.clone(), id)
        })
        .collect();

    let snapshot = &v["snapshot"];
    let depth = snapshot["depth"].as_u64().unwrap() as u32;
    let mut leaves = Vec::new();
    for c in v["contributions"].as_array().unwrap() {
        let data = unhex(c["data_hex"].as_str().unwrap());
        assert_eq!(
            blake3::hash(&data).as_bytes().to_vec(),
            unhex(c["blake3_hex"].as_str().unwrap())
        );
        let digest = commitment::digest(&data);
        assert_eq!(digest, fr(&c["digest"]));
        let cm = commitment::commitment(&digest, &fr(&c["blinding"]));
        assert_eq!(cm, fr(&c["commitment"]));
        let weight = u64_of(&c["weight"]);
        let leaf = commitment::leaf_hash(&ids[c["contributor"].as_str().unwrap()], &cm, weight);
        assert_eq!(leaf, fr(&c["leaf_hash"]));
        leaves.push((
            c["leaf_index"].as_u64().unwrap(),
            SumNode {
                hash: leaf,
                sum: weight,
            },
        ));
    }
    let tree = MerkleSumTree::from_leaves(depth, leaves).unwrap();
    for c in v["contributions"].as_array().unwrap() {
        let path = tree.path(c["leaf_index"].as_u64().unwrap()).unwrap();
        let expected: Vec<SumNode> = c["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| SumNode {
                hash: fr(&p["sibling_hash"]),
                sum: u64_of(&p["sibling_sum"]),
            })
            .collect();
        assert_eq!(path, MerkleSumPath { siblings: expected });
    }
    for (level, e) in empty_subtrees(depth)
        .iter()
        .zip(v["empty_subtrees"].as_array().unwrap())
    {
        assert_eq!(level.hash, fr(&e["hash"]));
        assert_eq!(level.sum, u64_of(&e["sum"]));
    }
    assert_eq!(tree.root().hash, fr(&snapshot["root"]));
    assert_eq!(tree.root().sum, u64_of(&snapshot["total_weight"]));
}

#[test]
fn the_claim_and_its_public_inputs_in_protocol_order() {
    let v = vectors();
    let snapshot = &v["snapshot"];
    let claim = &v["claim"];
    let depth = snapshot["depth"].as_u64().unwrap() as u32;
    let who = claim["contributor"].as_str().unwrap();
    let secret = fr(&v["contributors"][who]["secret"]);
    let all = v["contributions"].as_array().unwrap();
    let leaves: Vec<(u64, SumNode)> = all
        .iter()
        .map(|c| {
            (
                c["leaf_index"].as_u64().unwrap(),
                SumNode {
                    hash: fr(&c["leaf_hash"]),
                    sum: u64_of(&c["weight"]),
                },
            )
        })
        .collect();
    let tree = MerkleSumTree::from_leaves(depth, leaves).unwrap();
    let contributions = claim["leaf_indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let i = i.as_u64().unwrap();
            let c = all
                .iter()
                .find(|c| c["leaf_index"].as_u64() == Some(i))
                .unwrap();
            assert_eq!(c["contributor"].as_str(), Some(who));
            Contribution {
                digest: fr(&c["digest"]),
                blinding: fr(&c["blinding"]),
                weight: u64_of(&c["weight"]),
                leaf_index: i,
                path: tree.path(i).unwrap(),
            }
        })
        .collect();
    let input = ClaimInput {
        secret,
        contributions,
        epoch: u64_of(&snapshot["epoch"]),
        root: fr(&snapshot["root"]),
        total_weight: u64_of(&snapshot["total_weight"]),
        revenue: u64_of(&snapshot["revenue"]),
        range_start: u64_of(&claim["range_start"]),
        range_end: u64_of(&claim["range_end"]),
    };
    let shape = Shape::new(4, depth).unwrap();
    let (statement, assignment) = input.assign(shape).unwrap();
    let expected: Vec<Fr> = claim["public_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(fr)
        .collect();
    assert_eq!(statement.public_inputs().to_vec(), expected);
    assert_eq!(statement.claimed_weight, u64_of(&claim["claimed_weight"]));
    assert_eq!(statement.payout, u64_of(&claim["payout"]));
    assert_eq!(assignment.rem, fr(&claim["rem"]));

    let cs = ConstraintSystem::<Fr>::new_ref();
    ClaimCircuit::new(shape, assignment)
        .generate_constraints(cs.clone())
        .unwrap();
    assert!(cs.is_satisfied().unwrap());
    let instance = cs.borrow().unwrap().instance_assignment().unwrap().to_vec();
    assert_eq!(&instance[1..], &expected[..]);
}
