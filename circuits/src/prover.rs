//! Groth16 keys and proving for claim circuits, from cached R1CS matrices.
//!
//! A claim circuit's shape is fixed, so its constraint matrices never change: [`ClaimProver`]
//! synthesizes them once (setup mode), and each proof then only computes the witness (a
//! prove-mode synthesis that builds no linear combinations and no matrices) before the
//! Groth16 prover proper. Synthesis with matrices was a third of a plain arkworks proof.
//!
//! Invariant: no proof is produced for a witness that does not satisfy the circuit. The
//! assignment is checked natively ([`check_assignment`], named conditions) and the full
//! witness is then checked against the cached matrices, because ark-groth16 only
//! debug-asserts satisfiability.

use crate::claim::{
    ClaimAssignment, ClaimCircuit, ClaimError, ClaimInput, Shape, check_assignment,
};
use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_ff::Zero;
use ark_groth16::{Groth16, Proof, ProvingKey, VerifyingKey, r1cs_to_qap::LibsnarkReduction};
use ark_relations::{
    gr1cs::{
        ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, R1CS_PREDICATE_LABEL,
        SynthesisError, SynthesisMode,
    },
    utils::matrix::Matrix,
};
use ark_std::rand::{CryptoRng, RngCore};
use credence_verifier::statement::ClaimStatement;

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The claim is false or malformed; the condition is named, no value is shown.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// The witness does not satisfy the cached matrices (a bug: the native check passed).
    #[error("the witness does not satisfy constraint {0} of the circuit")]
    Unsatisfied(usize),
    /// The keys do not belong to this circuit.
    #[error("the proving key does not match the circuit shape")]
    KeyMismatch,
    /// arkworks failed.
    #[error("synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
}

/// The R1CS matrices of one circuit shape, and its dimensions.
#[derive(Clone, Debug)]
pub struct CircuitMatrices {
    /// `[A, B, C]`, one row per constraint, columns = `[1, public..., witness...]`.
    pub matrices: Vec<Matrix<Fr>>,
    /// Instance variables, including the constant 1.
    pub num_instance_variables: usize,
    /// Witness variables.
    pub num_witness_variables: usize,
    /// Constraints.
    pub num_constraints: usize,
}

impl CircuitMatrices {
    /// Synthesizes the matrices of `shape` (setup mode, linear combinations inlined exactly as
    /// ark-groth16's key generator does).
    pub fn synthesize(shape: Shape) -> Result<Self, SynthesisError> {
        let cs = ConstraintSystem::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        ClaimCircuit::blank(shape).generate_constraints(cs.clone())?;
        cs.finalize();
        let matrices = cs
            .to_matrices()?
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or(SynthesisError::MissingCS)?;
        Ok(CircuitMatrices {
            matrices,
            num_instance_variables: cs.num_instance_variables(),
            num_witness_variables: cs.num_witness_variables(),
            num_constraints: cs.num_constraints(),
        })
    }

    /// The first constraint that `z = [1, public..., witness...]` violates, if any.
    pub fn first_unsatisfied(&self, z: &[Fr]) -> Option<usize> {
        let row = |m: &Matrix<Fr>, k: usize| -> Fr { m[k].iter().map(|(c, i)| *c * z[*i]).sum() };
        let [a, b, c] = &self.matrices[..] else {
            return Some(0);
        };
        (0..self.num_constraints).find(|&k| row(a, k) * row(b, k) != row(c, k))
    }
}

/// Computes the full witness `z = [1, public..., witness...]` of a claim assignment, without
/// building matrices.
pub fn full_assignment(
    shape: Shape,
    assignment: ClaimAssignment,
) -> Result<Vec<Fr>, SynthesisError> {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    ClaimCircuit::new(shape, assignment).generate_constraints(cs.clone())?;
    let cs = cs.into_inner().ok_or(SynthesisError::MissingCS)?;
    Ok([cs.instance_assignment()?, cs.witness_assignment()?].concat())
}

/// Proves claims of one shape with one proving key and the shape's cached matrices.
pub struct ClaimProver {
    shape: Shape,
    pk: ProvingKey<Bn254>,
    matrices: CircuitMatrices,
}

impl ClaimProver {
    /// Generates fresh Groth16 keys for `shape`. The randomness is toxic waste: whoever knows it
    /// can forge proofs, so callers outside tests must pass an OS-backed RNG.
    pub fn setup<R: RngCore + CryptoRng>(shape: Shape, rng: &mut R) -> Result<Self, ProveError> {
        let pk = Groth16::<Bn254, LibsnarkReduction>::generate_random_parameters_with_reduction(
            ClaimCircuit::blank(shape),
            rng,
        )?;
        Self::new(shape, pk)
    }

    /// Wraps an existing proving key, synthesizing the shape's matrices once.
    pub fn new(shape: Shape, pk: ProvingKey<Bn254>) -> Result<Self, ProveError> {
        let matrices = CircuitMatrices::synthesize(shape)?;
        let expected_inputs = matrices.num_instance_variables;
        if pk.vk.gamma_abc_g1.len() != expected_inputs
            || pk.l_query.len() != matrices.num_witness_variables
        {
            return Err(ProveError::KeyMismatch);
        }
        Ok(ClaimProver {
            shape,
            pk,
            matrices,
        })
    }

    /// The shape this prover proves.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The proving key.
    pub fn proving_key(&self) -> &ProvingKey<Bn254> {
        &self.pk
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey<Bn254> {
        &self.pk.vk
    }

    /// The cached matrices.
    pub fn matrices(&self) -> &CircuitMatrices {
        &self.matrices
    }

    /// Checks a claim and returns its statement and assignment, or the first failed condition.
    pub fn prepare(
        &self,
        input: &ClaimInput,
    ) -> Result<(ClaimStatement, ClaimAssignment), ProveError> {
        Ok(input.assign(self.shape)?)
    }

    /// Proves a claim: checks it, computes the witness, checks it against the matrices, and
    /// runs the Groth16 prover with fresh `r, s` from `rng` (OS randomness outside tests).
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        input: &ClaimInput,
        rng: &mut R,
    ) -> Result<(ClaimStatement, Proof<Bn254>), ProveError> {
        let (statement, assignment) = self.prepare(input)?;
        let proof = self.prove_assignment(assignment, rng)?;
        Ok((statement, proof))
    }

    /// Proves a prepared assignment (see [`ClaimProver::prove`]).
    pub fn prove_assignment<R: RngCore + CryptoRng>(
        &self,
        assignment: ClaimAssignment,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        check_assignment(self.shape, &assignment)?;
        let mut z = full_assignment(self.shape, assignment)?;
        let result = self.prove_full_assignment(&z, rng);
        z.iter_mut().for_each(|v| *v = Fr::zero());
        result
    }

    /// The Groth16 prover proper, on a full witness `z` (exposed for benchmarks).
    pub fn prove_full_assignment<R: RngCore + CryptoRng>(
        &self,
        z: &[Fr],
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        let m = &self.matrices;
        if z.len() != m.num_instance_variables + m.num_witness_variables {
            return Err(ProveError::KeyMismatch);
        }
        if let Some(k) = m.first_unsatisfied(z) {
            return Err(ProveError::Unsatisfied(k));
        }
        let (r, s) = (Fr::rand(rng), Fr::rand(rng));
        Ok(
            Groth16::<Bn254, LibsnarkReduction>::create_proof_with_reduction_and_matrices(
                &self.pk,
                r,
                s,
                &m.matrices,
                m.num_instance_variables,
                m.num_constraints,
                z,
            )?,
        )
    }
}

/// OS randomness in the form arkworks takes (rand_core 0.6). Use it for keys and proofs.
pub fn os_rng() -> rand_core::OsRng {
    rand_core::OsRng
}
