use ark_std::UniformRand;
use credence_circuits::{
    prover::{CircuitMatrices, full_assignment},
    *,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(16);
    let depth = 20;
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let shape = Shape::new(n, depth).unwrap();
    let secret = Fr::rand(&mut rng);
    let id = commitment::contributor_id(&secret);
    let mut leaves = vec![];
    let mut opens = vec![];
    for i in 0..n as u64 {
        let (d, b) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let idx = i * 1000 + 7;
        leaves.push((
            idx,
            SumNode {
                hash: commitment::leaf_hash(&id, &commitment::commitment(&d, &b), 10 + i),
                sum: 10 + i,
            },
        ));
        opens.push((idx, d, b, 10 + i));
    }
    let tree = MerkleSumTree::from_leaves(depth, leaves).unwrap();
    let input = ClaimInput {
        secret,
        contributions: opens
            .iter()
            .map(|(idx, d, b, w)| Contribution {
                digest: *d,
                blinding: *b,
                weight: *w,
                leaf_index: *idx,
                path: tree.path(*idx).unwrap(),
            })
            .collect(),
        epoch: 1,
        root: tree.root().hash,
        total_weight: tree.root().sum,
        revenue: 1_000_000,
        range_start: 0,
        range_end: 1 << depth,
    };
    let t = Instant::now();
    let m = CircuitMatrices::synthesize(shape).unwrap();
    println!(
        "matrices {:?} constraints {}",
        t.elapsed(),
        m.num_constraints
    );
    let t = Instant::now();
    let prover = ClaimProver::setup(shape, &mut rng).unwrap();
    println!("setup+matrices {:?}", t.elapsed());
    for _ in 0..3 {
        let t = Instant::now();
        let (_, a) = prover.prepare(&input).unwrap();
        let t1 = t.elapsed();
        let z = full_assignment(shape, a).unwrap();
        let t2 = t.elapsed();
        let _ = prover.matrices().first_unsatisfied(&z);
        let t3 = t.elapsed();
        let _p = prover.prove_full_assignment(&z, &mut rng).unwrap();
        let t4 = t.elapsed();
        println!(
            "check {:?} witness {:?} satcheck {:?} groth16(incl satcheck) {:?}",
            t1,
            t2 - t1,
            t3 - t2,
            t4 - t3
        );
    }
}
