//! The Groth16 prover proper on a full witness: the proof assembly of ark-groth16 0.6
//! (`create_proof_with_assignment`), with the multi-scalar multiplications done by an [`Msm`]
//! engine, ours (`credence-msm`) by default.
//!
//! Invariant: for the same key, witness and `r, s`, the proof is the one ark-groth16 makes,
//! point for point, whichever engine runs the MSMs (the tests compare them). Only the MSMs
//! change; the witness map (the QAP reduction, which refuses an unsatisfying witness) and the
//! assembly of `A`, `B` and `C` are the same arithmetic.
//!
//! We own this assembly (rather than calling ark-groth16's) for two reasons: ark-groth16 calls
//! arkworks' `VariableBaseMSM` with no way to pass another, and owning it lets us wipe the
//! witness-derived vectors it allocates (the quotient coefficients and the scalar big
//! integers), which ark-groth16 drops unwiped.

use super::CircuitMatrices;
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::CurveGroup;
use ark_ec::{AffineRepr, VariableBaseMSM};
use ark_ff::Zero;
use ark_groth16::{Proof, ProvingKey, r1cs_to_qap::R1CSToQAP};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::SynthesisError;
use credence_msm::msm::{ScalarBigInt, scalars_to_bigints};
use zeroize::Zeroize;

/// Which multi-scalar multiplication the prover (and the floor `credence bench` measures) uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Msm {
    /// Ours (`credence-msm`): signed digits, GLV, batch-affine buckets, small-scalar paths.
    #[default]
    Credence,
    /// arkworks 0.6's `VariableBaseMSM::msm_bigint`, as ark-groth16 calls it.
    Arkworks,
}

impl Msm {
    /// Both, ours first.
    pub const ALL: [Msm; 2] = [Msm::Credence, Msm::Arkworks];

    /// Its name in reports: `credence` or `arkworks`.
    pub fn name(self) -> &'static str {
        match self {
            Msm::Credence => "credence",
            Msm::Arkworks => "arkworks",
        }
    }

    /// The base-field multiplication this MSM runs on, for reports: ours
    /// takes `bmi2-adx` (its own assembly) when the CPU has those
    /// instructions and `ark-ff` otherwise; arkworks' is always `ark-ff`.
    pub fn field(self) -> &'static str {
        match self {
            Msm::Credence => credence_msm::field_backend(),
            Msm::Arkworks => "ark-ff",
        }
    }

    /// The vector routine this MSM's G1 additions run on, for reports: ours
    /// takes `avx512-ifma` when the CPU has it and `none` otherwise;
    /// arkworks' is always `none`.
    pub fn lanes(self) -> &'static str {
        match self {
            Msm::Credence => credence_msm::lanes_backend(),
            Msm::Arkworks => "none",
        }
    }

    /// `Σ scalars[i]·bases[i]` in G1 (lengths cut to the shorter, as arkworks does).
    pub fn g1(self, bases: &[G1Affine], scalars: &[ScalarBigInt]) -> G1Projective {
        match self {
            Msm::Credence => credence_msm::msm::msm_g1(bases, scalars),
            Msm::Arkworks => G1Projective::msm_bigint(bases, scalars),
        }
    }

    /// `Σ scalars[i]·bases[i]` in G2 (lengths cut to the shorter, as arkworks does).
    pub fn g2(self, bases: &[G2Affine], scalars: &[ScalarBigInt]) -> G2Projective {
        match self {
            Msm::Credence => credence_msm::msm::msm_g2(bases, scalars),
            Msm::Arkworks => G2Projective::msm_bigint(bases, scalars),
        }
    }
}

/// Scalar big integers derived from the witness: wiped on drop.
struct Secret(Vec<ScalarBigInt>);

impl Drop for Secret {
    fn drop(&mut self) {
        for x in &mut self.0 {
            x.0.zeroize();
        }
    }
}

/// A Groth16 proof of the full witness `z = [1, public..., witness...]` under `pk` (made for
/// the reduction `Q`), with randomness `r, s`. Fails with [`SynthesisError::Unsatisfiable`]
/// if `z` does not satisfy the matrices (the reduction checks every row).
pub(crate) fn prove<Q: R1CSToQAP>(
    pk: &ProvingKey<Bn254>,
    m: &CircuitMatrices,
    z: &[Fr],
    r: Fr,
    s: Fr,
    msm: Msm,
) -> Result<Proof<Bn254>, SynthesisError> {
    let inputs = m.num_instance_variables;
    let mut h = Q::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &m.matrices,
        inputs,
        m.num_constraints,
        z,
    )?;
    let h_scalars = Secret(scalars_to_bigints(&h));
    h.zeroize();
    drop(h);
    let h_acc = msm.g1(&pk.h_query, &h_scalars.0);
    drop(h_scalars);

    // `[public..., witness...]`: the A and B queries take all of it, L the witness part.
    let assignment = Secret(scalars_to_bigints(&z[1..]));
    let aux = &assignment.0[inputs - 1..];
    let l_aux_acc = msm.g1(&pk.l_query, aux);

    let delta_g1 = pk.delta_g1.into_group();
    // A = α + Σ z_i·A_i(τ) + r·δ (the query's first entry is the constant one's).
    let g_a =
        delta_g1 * r + pk.a_query[0] + msm.g1(&pk.a_query[1..], &assignment.0) + pk.vk.alpha_g1;
    // B in G1 is only needed for C's r·B term.
    let g1_b = if r.is_zero() {
        G1Projective::zero()
    } else {
        delta_g1 * s + pk.b_g1_query[0] + msm.g1(&pk.b_g1_query[1..], &assignment.0) + pk.beta_g1
    };
    let g2_b = pk.vk.delta_g2.into_group() * s
        + pk.b_g2_query[0]
        + msm.g2(&pk.b_g2_query[1..], &assignment.0)
        + pk.vk.beta_g2;
    drop(assignment);

    // C = s·A + r·B - r·s·δ + Σ_aux z_i·L_i + H.
    let g_c = g_a * s + g1_b * r - delta_g1 * (r * s) + l_aux_acc + h_acc;
    Ok(Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::synthetic_claim;
    use crate::prover::{CheckedReduction, CircomReduction, Qap, full_assignment};
    use crate::{ClaimProver, Shape};
    use ark_ff::UniformRand;
    use ark_groth16::Groth16;
    use ark_std::rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Ours with either engine equals ark-groth16's own prover, for both reductions and for
    /// `r = 0` (where B in G1 is skipped).
    #[test]
    fn same_proof_as_ark_groth16() {
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        let shape = Shape::new(2, 4).unwrap();
        for qap in Qap::ALL {
            let prover = ClaimProver::setup_for(shape, qap, &mut rng).unwrap();
            let input = synthetic_claim(shape, &mut rng);
            let assignment = prover.prepare(&input).unwrap().into_assignment();
            let z = full_assignment(shape, assignment).unwrap();
            let m = prover.matrices();
            let pk = prover.proving_key();
            for (r, s) in [
                (Fr::rand(&mut rng), Fr::rand(&mut rng)),
                (Fr::zero(), Fr::rand(&mut rng)),
            ] {
                let (n, c) = (m.num_instance_variables, m.num_constraints);
                let theirs = match qap {
                    Qap::Libsnark => Groth16::<Bn254, CheckedReduction>::
                        create_proof_with_reduction_and_matrices(pk, r, s, &m.matrices, n, c, &z),
                    Qap::Circom => Groth16::<Bn254, CircomReduction>::
                        create_proof_with_reduction_and_matrices(pk, r, s, &m.matrices, n, c, &z),
                }
                .unwrap();
                for msm in Msm::ALL {
                    let ours = match qap {
                        Qap::Libsnark => prove::<CheckedReduction>(pk, m, &z, r, s, msm),
                        Qap::Circom => prove::<CircomReduction>(pk, m, &z, r, s, msm),
                    }
                    .unwrap();
                    assert_eq!(ours, theirs, "{qap:?} {msm:?}");
                }
            }
        }
    }

    /// A witness that breaks one constraint is refused, not proven.
    #[test]
    fn unsatisfying_witness_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        let shape = Shape::new(2, 4).unwrap();
        let prover = ClaimProver::setup(shape, &mut rng).unwrap();
        let input = synthetic_claim(shape, &mut rng);
        let assignment = prover.prepare(&input).unwrap().into_assignment();
        let mut z = full_assignment(shape, assignment).unwrap();
        let last = z.len() - 1;
        z[last] += Fr::from(1u64);
        let got = prove::<CheckedReduction>(
            prover.proving_key(),
            prover.matrices(),
            &z,
            Fr::rand(&mut rng),
            Fr::rand(&mut rng),
            Msm::Credence,
        );
        assert!(matches!(got, Err(SynthesisError::Unsatisfiable)));
    }
}
