//! Groth16 keys and proving for Credence's circuits (the claim circuit of each shape and the
//! payee circuit), from cached R1CS matrices.
//!
//! A circuit is fixed, so its constraint matrices never change: a [`CircuitProver`] (a proving
//! key, its reduction and the matrices) synthesizes them once (setup mode), and each proof then
//! only computes the witness (a prove-mode synthesis that builds no linear combinations and no
//! matrices) before the Groth16 prover proper. Synthesis with matrices was a third of a plain
//! arkworks proof. [`ClaimProver`] and [`PayeeProver`] are the two circuits' provers over it.
//!
//! Invariant: no proof is produced for a witness that does not satisfy the circuit. The
//! assignment is checked natively (the circuit's `check_assignment`, named conditions) and the
//! full witness is then checked against the cached matrices, because ark-groth16 only
//! debug-asserts satisfiability.

use crate::circuit::Circuit;
use crate::claim::{
    ClaimAssignment, ClaimCircuit, ClaimError, ClaimInput, Shape, check_assignment,
};
use crate::payee::{self, PayeeAssignment, PayeeCircuit, PayeeError, PayeeInput, PayeeStatement};
use crate::statement::ClaimStatement;
use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::{Groth16, Proof, ProvingKey, VerifyingKey};
use ark_poly::EvaluationDomain;
use ark_relations::{
    gr1cs::{
        ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, R1CS_PREDICATE_LABEL,
        SynthesisError, SynthesisMode,
    },
    utils::matrix::Matrix,
};
use ark_std::rand::{CryptoRng, RngCore};
use zeroize::Zeroize;

mod groth16;
pub mod reduction;
pub use groth16::Msm;
pub use reduction::{CheckedReduction, CircomReduction, Qap};

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The claim is false or malformed; the condition is named, no value is shown.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// The payee statement is false or malformed; the condition is named, no value is shown.
    #[error(transparent)]
    Payee(#[from] PayeeError),
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

/// The R1CS matrices of one circuit, and its dimensions.
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
    /// Synthesizes the matrices of a circuit (a claim [`Shape`] or [`Circuit::Payee`]).
    pub fn synthesize(circuit: impl Into<Circuit>) -> Result<Self, SynthesisError> {
        match circuit.into() {
            Circuit::Claim(shape) => Self::of(ClaimCircuit::blank(shape)),
            Circuit::Payee => Self::of(PayeeCircuit::blank()),
        }
    }

    /// Synthesizes the matrices of any circuit, given without values (setup mode, linear
    /// combinations inlined exactly as ark-groth16's key generator does).
    pub fn of<C: ConstraintSynthesizer<Fr>>(blank: C) -> Result<Self, SynthesisError> {
        let cs = ConstraintSystem::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        blank.generate_constraints(cs.clone())?;
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
    witness_of(ClaimCircuit::new(shape, assignment))
}

/// Computes the full witness `z = [1, public..., witness...]` of any circuit given with its
/// values, without building matrices. The caller checks the assignment first.
pub fn witness_of<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Vec<Fr>, SynthesisError> {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    circuit.generate_constraints(cs.clone())?;
    let mut cs = cs.into_inner().ok_or(SynthesisError::MissingCS)?;
    let z = [cs.instance_assignment()?, cs.witness_assignment()?].concat();
    // The constraint system's copies are secret too; wipe them before it is dropped. (The
    // buffers its vectors outgrew while synthesizing were freed by `Vec` unwiped.)
    let values = &mut cs.assignments;
    values.instance_assignment.zeroize();
    values.witness_assignment.zeroize();
    values.lc_assignment.zeroize();
    Ok(z)
}

/// A claim checked against every condition of one shape's circuit, with its statement and full
/// assignment. Only [`ClaimProver::prepare`] makes one; its secrets are zeroized on drop.
pub struct PreparedClaim {
    shape: Shape,
    statement: ClaimStatement,
    assignment: ClaimAssignment,
}

impl PreparedClaim {
    /// The public statement the proof will have.
    pub fn statement(&self) -> &ClaimStatement {
        &self.statement
    }

    /// The shape it was checked for.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The checked assignment (secret: for the benchmark's and tests' witness computations).
    pub fn into_assignment(self) -> ClaimAssignment {
        self.assignment.clone()
    }
}

impl std::fmt::Debug for PreparedClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedClaim")
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

/// The full witness `z = [1, public..., witness...]` of a circuit: secret, wiped on drop.
pub struct Witness {
    z: Vec<Fr>,
}

impl Drop for Witness {
    fn drop(&mut self) {
        // Volatile writes: plain stores into memory about to be freed may be optimized away.
        self.z.zeroize();
    }
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("len", &self.z.len())
            .finish_non_exhaustive()
    }
}

/// A proving key, the reduction it was made for, and the cached matrices of its circuit: what
/// proving any of the circuits takes once the full witness is known. [`ClaimProver`] and
/// [`PayeeProver`] each wrap one and add their circuit's checks and witness.
pub struct CircuitProver {
    circuit: Circuit,
    pk: ProvingKey<Bn254>,
    qap: Qap,
    matrices: CircuitMatrices,
}

/// Fresh Groth16 keys for `blank` under `qap`'s reduction.
fn generate_key<C: ConstraintSynthesizer<Fr>, R: RngCore + CryptoRng>(
    blank: C,
    qap: Qap,
    rng: &mut R,
) -> Result<ProvingKey<Bn254>, SynthesisError> {
    match qap {
        Qap::Libsnark => {
            Groth16::<Bn254, CheckedReduction>::generate_random_parameters_with_reduction(
                blank, rng,
            )
        }
        Qap::Circom => {
            Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(blank, rng)
        }
    }
}

impl CircuitProver {
    /// Generates fresh Groth16 keys for `circuit` under `qap`'s reduction. The randomness is
    /// toxic waste: whoever knows it can forge proofs, so callers outside tests must pass an
    /// OS-backed RNG. A [`Qap::Circom`] key made this way has the form of a ceremony's key (for
    /// tests of the ceremony-key path without a ceremony).
    pub fn setup_for<R: RngCore + CryptoRng>(
        circuit: Circuit,
        qap: Qap,
        rng: &mut R,
    ) -> Result<Self, ProveError> {
        let pk = match circuit {
            Circuit::Claim(shape) => generate_key(ClaimCircuit::blank(shape), qap, rng)?,
            Circuit::Payee => generate_key(PayeeCircuit::blank(), qap, rng)?,
        };
        Self::with_qap(circuit, pk, qap)
    }

    /// Wraps an existing proving key made for `qap`, synthesizing the circuit's matrices once.
    /// Refuses a key whose dimensions are not the circuit's (a ceremony key is also checked
    /// against the circuit's coefficients and hash when it is imported).
    pub fn with_qap(circuit: Circuit, pk: ProvingKey<Bn254>, qap: Qap) -> Result<Self, ProveError> {
        let matrices = CircuitMatrices::synthesize(circuit)?;
        let expected_inputs = matrices.num_instance_variables;
        let domain = ark_poly::GeneralEvaluationDomain::<Fr>::new(
            matrices.num_constraints + matrices.num_instance_variables,
        )
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let variables = matrices.num_instance_variables + matrices.num_witness_variables;
        let h_len = match qap {
            Qap::Libsnark => domain.size() - 1,
            Qap::Circom => domain.size(),
        };
        if pk.vk.gamma_abc_g1.len() != expected_inputs
            || pk.l_query.len() != matrices.num_witness_variables
            || pk.a_query.len() != variables
            || pk.b_g1_query.len() != variables
            || pk.b_g2_query.len() != variables
            || pk.h_query.len() != h_len
        {
            return Err(ProveError::KeyMismatch);
        }
        Ok(CircuitProver {
            circuit,
            pk,
            qap,
            matrices,
        })
    }

    /// The circuit its key is for.
    pub fn circuit(&self) -> Circuit {
        self.circuit
    }

    /// The reduction its key was made for.
    pub fn qap(&self) -> Qap {
        self.qap
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

    /// The Groth16 prover proper, on a full witness `z`: checks it against the matrices while
    /// reducing to the QAP, and draws fresh `r, s` from `rng` (OS randomness outside tests).
    /// The MSMs are ours ([`Msm::Credence`]).
    pub fn prove_full_assignment<R: RngCore + CryptoRng>(
        &self,
        z: &[Fr],
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        self.prove_full_assignment_with(z, Msm::Credence, rng)
    }

    /// [`prove_full_assignment`](Self::prove_full_assignment) with the MSMs of `msm` (the
    /// benchmark proves with both engines side by side; the proofs are the same arithmetic).
    pub fn prove_full_assignment_with<R: RngCore + CryptoRng>(
        &self,
        z: &[Fr],
        msm: Msm,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        let m = &self.matrices;
        if z.len() != m.num_instance_variables + m.num_witness_variables {
            return Err(ProveError::KeyMismatch);
        }
        let (r, s) = (Fr::rand(rng), Fr::rand(rng));
        match self.qap {
            Qap::Libsnark => groth16::prove::<CheckedReduction>(&self.pk, m, z, r, s, msm),
            Qap::Circom => groth16::prove::<CircomReduction>(&self.pk, m, z, r, s, msm),
        }
        .map_err(|e| match e {
            SynthesisError::Unsatisfiable => {
                ProveError::Unsatisfied(m.first_unsatisfied(z).unwrap_or(usize::MAX))
            }
            other => ProveError::Synthesis(other),
        })
    }
}

/// Proves claims of one shape with one proving key, the reduction the key was made for, and
/// the shape's cached matrices. It derefs to its [`CircuitProver`] for the key, its reduction
/// and the matrices (`qap()`, `proving_key()`, `verifying_key()`, `matrices()`), which both
/// circuits' provers share.
pub struct ClaimProver {
    shape: Shape,
    core: CircuitProver,
}

impl std::ops::Deref for ClaimProver {
    type Target = CircuitProver;
    fn deref(&self) -> &CircuitProver {
        &self.core
    }
}

impl ClaimProver {
    /// Generates fresh Groth16 keys for `shape`. The randomness is toxic waste: whoever knows it
    /// can forge proofs, so callers outside tests must pass an OS-backed RNG.
    pub fn setup<R: RngCore + CryptoRng>(shape: Shape, rng: &mut R) -> Result<Self, ProveError> {
        Self::setup_for(shape, Qap::Libsnark, rng)
    }

    /// [`setup`](Self::setup) for either reduction. A [`Qap::Circom`] key made this way has
    /// the form of a ceremony's key (for tests of the ceremony-key path without a ceremony).
    pub fn setup_for<R: RngCore + CryptoRng>(
        shape: Shape,
        qap: Qap,
        rng: &mut R,
    ) -> Result<Self, ProveError> {
        let core = CircuitProver::setup_for(shape.into(), qap, rng)?;
        Ok(ClaimProver { shape, core })
    }

    /// Wraps an existing libsnark-reduction proving key (`credence setup`'s), synthesizing the
    /// shape's matrices once.
    pub fn new(shape: Shape, pk: ProvingKey<Bn254>) -> Result<Self, ProveError> {
        Self::with_qap(shape, pk, Qap::Libsnark)
    }

    /// Wraps an existing proving key made for `qap`, synthesizing the shape's matrices once.
    /// Refuses a key whose dimensions are not the circuit's (a ceremony key is also checked
    /// against the circuit's coefficients and hash when it is imported).
    pub fn with_qap(shape: Shape, pk: ProvingKey<Bn254>, qap: Qap) -> Result<Self, ProveError> {
        let core = CircuitProver::with_qap(shape.into(), pk, qap)?;
        Ok(ClaimProver { shape, core })
    }

    /// Wraps a [`CircuitProver`] of a claim circuit; refuses one of another circuit.
    pub fn from_circuit_prover(core: CircuitProver) -> Result<Self, ProveError> {
        match core.circuit() {
            Circuit::Claim(shape) => Ok(ClaimProver { shape, core }),
            Circuit::Payee => Err(ProveError::KeyMismatch),
        }
    }

    /// The shape this prover proves.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Checks a claim against every condition of this prover's circuit and builds its statement
    /// and full assignment, once; or names the first failed condition (no value).
    pub fn prepare(&self, input: &ClaimInput) -> Result<PreparedClaim, ClaimError> {
        let (statement, assignment) = input.assign(self.shape)?;
        Ok(PreparedClaim {
            shape: self.shape,
            statement,
            assignment,
        })
    }

    /// Proves a claim: [`prepare`](Self::prepare), then [`prove_prepared`](Self::prove_prepared).
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        input: &ClaimInput,
        rng: &mut R,
    ) -> Result<(ClaimStatement, Proof<Bn254>), ProveError> {
        let prepared = self.prepare(input)?;
        let statement = prepared.statement.clone();
        let proof = self.prove_prepared(prepared, rng)?;
        Ok((statement, proof))
    }

    /// Proves a prepared claim: [`witness`](Self::witness), then
    /// [`prove_witness`](Self::prove_witness).
    pub fn prove_prepared<R: RngCore + CryptoRng>(
        &self,
        claim: PreparedClaim,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        self.prove_witness(&self.witness(claim)?, rng)
    }

    /// The full witness of a prepared claim. The native check is not repeated: a
    /// [`PreparedClaim`] passed it when it was made.
    pub fn witness(&self, claim: PreparedClaim) -> Result<Witness, ProveError> {
        if claim.shape != self.shape {
            return Err(ProveError::KeyMismatch);
        }
        Ok(Witness {
            z: full_assignment(self.shape, claim.assignment.clone())?,
        })
    }

    /// Proves a full witness: checks it against the matrices while reducing to the QAP, and runs
    /// the Groth16 prover with fresh `r, s` from `rng` (OS randomness outside tests).
    pub fn prove_witness<R: RngCore + CryptoRng>(
        &self,
        witness: &Witness,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        self.prove_full_assignment(&witness.z, rng)
    }

    /// Proves any assignment, checking it natively first (for assignments not made by
    /// [`prepare`](Self::prepare), such as tests' hand-changed witnesses).
    pub fn prove_assignment<R: RngCore + CryptoRng>(
        &self,
        assignment: ClaimAssignment,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        check_assignment(self.shape, &assignment)?;
        let witness = Witness {
            z: full_assignment(self.shape, assignment)?,
        };
        self.prove_witness(&witness, rng)
    }

    /// The Groth16 prover proper, on a full witness `z` (exposed for benchmarks).
    pub fn prove_full_assignment<R: RngCore + CryptoRng>(
        &self,
        z: &[Fr],
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        self.core.prove_full_assignment(z, rng)
    }
}

/// Proves payee statements (`payee-v1`) with one proving key, the reduction it was made for,
/// and the payee circuit's cached matrices; derefs to its [`CircuitProver`] like
/// [`ClaimProver`].
pub struct PayeeProver {
    core: CircuitProver,
}

impl std::ops::Deref for PayeeProver {
    type Target = CircuitProver;
    fn deref(&self) -> &CircuitProver {
        &self.core
    }
}

impl PayeeProver {
    /// Generates fresh libsnark-reduction Groth16 keys for the payee circuit. The randomness is
    /// toxic waste: callers outside tests must pass an OS-backed RNG.
    pub fn setup<R: RngCore + CryptoRng>(rng: &mut R) -> Result<Self, ProveError> {
        Self::setup_for(Qap::Libsnark, rng)
    }

    /// [`setup`](Self::setup) for either reduction ([`Qap::Circom`]: a key of a ceremony's
    /// form).
    pub fn setup_for<R: RngCore + CryptoRng>(qap: Qap, rng: &mut R) -> Result<Self, ProveError> {
        let core = CircuitProver::setup_for(Circuit::Payee, qap, rng)?;
        Ok(PayeeProver { core })
    }

    /// Wraps an existing libsnark-reduction proving key (`credence setup`'s).
    pub fn new(pk: ProvingKey<Bn254>) -> Result<Self, ProveError> {
        Self::with_qap(pk, Qap::Libsnark)
    }

    /// Wraps an existing proving key made for `qap`; refuses a key whose dimensions are not the
    /// payee circuit's.
    pub fn with_qap(pk: ProvingKey<Bn254>, qap: Qap) -> Result<Self, ProveError> {
        let core = CircuitProver::with_qap(Circuit::Payee, pk, qap)?;
        Ok(PayeeProver { core })
    }

    /// Wraps a [`CircuitProver`] of the payee circuit; refuses one of another circuit.
    pub fn from_circuit_prover(core: CircuitProver) -> Result<Self, ProveError> {
        match core.circuit() {
            Circuit::Payee => Ok(PayeeProver { core }),
            Circuit::Claim(_) => Err(ProveError::KeyMismatch),
        }
    }

    /// Proves a payee statement: builds and checks its assignment ([`PayeeInput::assign`]),
    /// then proves it with fresh randomness from `rng`.
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        input: &PayeeInput,
        rng: &mut R,
    ) -> Result<(PayeeStatement, Proof<Bn254>), ProveError> {
        let (statement, assignment) = input.assign()?;
        let proof = self.prove_checked(assignment, rng)?;
        Ok((statement, proof))
    }

    /// Proves any assignment, checking it natively first (for tests' hand-changed witnesses).
    pub fn prove_assignment<R: RngCore + CryptoRng>(
        &self,
        assignment: PayeeAssignment,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        payee::check_assignment(&assignment)?;
        self.prove_checked(assignment, rng)
    }

    /// Proves an assignment that passed [`payee::check_assignment`]; the matrices check it again.
    fn prove_checked<R: RngCore + CryptoRng>(
        &self,
        assignment: PayeeAssignment,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        let witness = Witness {
            z: witness_of(PayeeCircuit::new(assignment))?,
        };
        self.core.prove_full_assignment(&witness.z, rng)
    }
}

/// OS randomness in the form arkworks takes (rand_core 0.6). Use it for keys and proofs.
pub fn os_rng() -> rand_core::OsRng {
    rand_core::OsRng
}
