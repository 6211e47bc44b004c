//! Building blocks for `credence bench`: a synthetic full claim for any shape, and the
//! proving floor, the time of a proof's multi-scalar multiplications and FFTs alone.
//!
//! The floor is measured on the proof's own scalars (its witness and its quotient
//! coefficients), because MSM cost depends on them: a witness full of bits is far cheaper than
//! random scalars. Everything a proof spends above the floor (witness generation, constraint
//! evaluation, conversions) is overhead that is ours to remove.

use crate::{
    ClaimInput, ClaimProver, Contribution, Fr, MerkleSumTree, Shape, SumNode, commitment,
    prover::{CheckedReduction, CircomReduction, Msm, Qap},
};
use ark_ff::{FftField, PrimeField, UniformRand};
use ark_groth16::r1cs_to_qap::R1CSToQAP;
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_std::rand::{CryptoRng, RngCore};
use std::time::{Duration, Instant};

/// A claim that fills every slot of `shape`, over a snapshot with as many other contributors'
/// leaves, spread across the tree.
pub fn synthetic_claim<R: RngCore + CryptoRng>(shape: Shape, rng: &mut R) -> ClaimInput {
    let secret = Fr::rand(rng);
    let id = commitment::contributor_id(&secret);
    let stranger = commitment::contributor_id(&Fr::rand(rng));
    let stride = shape.leaves() / (2 * shape.n as u64);
    let mut leaves = Vec::new();
    let mut ours = Vec::new();
    for i in 0..2 * shape.n as u64 {
        let (d, b) = (Fr::rand(rng), Fr::rand(rng));
        let w = 1 + rng.next_u64() % 1_000_000;
        let owner = if i % 2 == 0 { id } else { stranger };
        let index = i * stride + (rng.next_u64() % stride.max(1));
        let leaf = commitment::leaf_hash(&owner, &commitment::commitment(&d, &b), w);
        leaves.push((index, SumNode { hash: leaf, sum: w }));
        if owner == id {
            ours.push((index, d, b, w));
        }
    }
    let tree = MerkleSumTree::from_leaves(shape.depth, leaves).expect("distinct in-range leaves");
    ClaimInput {
        secret,
        contributions: ours
            .into_iter()
            .map(|(leaf_index, digest, blinding, weight)| Contribution {
                digest,
                blinding,
                weight,
                leaf_index,
                path: tree.path(leaf_index).expect("index in range"),
            })
            .collect(),
        epoch: 1,
        root: tree.root().hash,
        total_weight: tree.root().sum,
        revenue: 1_000_000_000,
        range_start: 0,
        range_end: shape.leaves(),
    }
}

/// The proving floor of one proof, by part.
#[derive(Clone, Copy, Debug, Default)]
pub struct Floor {
    /// The FFTs of the witness map: three inverse and three coset FFTs, and for libsnark's
    /// reduction one inverse coset FFT.
    pub fft: Duration,
    /// The four G1 MSMs: `A`, `B` in G1, the witness part of `C`, and `H`.
    pub msm_g1: Duration,
    /// The G2 MSM of `B`.
    pub msm_g2: Duration,
}

impl Floor {
    /// The whole floor.
    pub fn total(&self) -> Duration {
        self.fft + self.msm_g1 + self.msm_g2
    }
}

/// Measures the floor of the proof of the full witness `z` (see the module docs), with the
/// MSMs of `msm` (the prover's own is [`Msm::Credence`]; `credence bench` measures both).
pub fn measure_floor(prover: &ClaimProver, z: &[Fr], msm: Msm) -> Floor {
    let m = prover.matrices();
    let pk = prover.proving_key();
    // The quotient scalars of the reduction the key was made for (snarkjs' for ceremony keys).
    let h = match prover.qap() {
        Qap::Libsnark => CheckedReduction::witness_map_from_matrices::<
            Fr,
            GeneralEvaluationDomain<Fr>,
        >(&m.matrices, m.num_instance_variables, m.num_constraints, z),
        Qap::Circom => {
            CircomReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
                &m.matrices,
                m.num_instance_variables,
                m.num_constraints,
                z,
            )
        }
    }
    .expect("a satisfying witness");
    let domain = GeneralEvaluationDomain::<Fr>::new(m.num_constraints + m.num_instance_variables)
        .expect("domain fits");
    let coset = domain.get_coset(Fr::GENERATOR).expect("coset");

    // FFT cost does not depend on the values; use the quotient's own length and values.
    let mut v = h.clone();
    v.resize(domain.size(), Fr::from(0u64));
    let start = Instant::now();
    for _ in 0..3 {
        domain.ifft_in_place(&mut v);
        coset.fft_in_place(&mut v);
    }
    // libsnark's reduction interpolates the quotient; snarkjs' uses the coset values as they are.
    if prover.qap() == Qap::Libsnark {
        coset.ifft_in_place(&mut v);
    }
    let fft = start.elapsed();

    let bigints = |s: &[Fr]| s.iter().map(|x| x.into_bigint()).collect::<Vec<_>>();
    let assignment = bigints(&z[1..]);
    let aux = bigints(&z[m.num_instance_variables..]);
    let h = bigints(&h);
    let start = Instant::now();
    let _a = msm.g1(&pk.a_query[1..], &assignment);
    let _b1 = msm.g1(&pk.b_g1_query[1..], &assignment);
    let _l = msm.g1(&pk.l_query, &aux);
    let _h = msm.g1(&pk.h_query, &h);
    let msm_g1 = start.elapsed();
    let start = Instant::now();
    let _b2 = msm.g2(&pk.b_g2_query[1..], &assignment);
    let msm_g2 = start.elapsed();
    Floor {
        fft,
        msm_g1,
        msm_g2,
    }
}
