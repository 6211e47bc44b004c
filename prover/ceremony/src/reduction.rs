//! `CircomReduction`: the R1CS-to-QAP reduction of snarkjs keys, for arkworks' Groth16 prover.
//!
//! Format source: snarkjs 0.7.6 `groth16_prove.js` (the witness map) and `zkey_new.js` (the H
//! section). A snarkjs key's H section holds `L_{2i+1}(τ)/δ`, the odd-indexed Lagrange basis
//! of the domain of size `2n` (the odd coset `ω_{2n}·⟨ω_n⟩`), instead of arkworks' (libsnark's)
//! `τ^i·Z(τ)/δ`. `P = A·B − C` has degree below `2n` and vanishes on the `n`-th roots when the
//! witness satisfies the circuit, so `P(τ) = Σ_i P(ω_{2n}^{2i+1})·L_{2i+1}(τ)`: the prover's H
//! scalars are the evaluations of `P` on the odd coset, with no division by `Z` (which is the
//! constant −2 there).
//!
//! Rows follow snarkjs: the `m` constraints, then one A-only row per instance variable
//! (constant one included) holding its value; the domain is the smallest power of two of at
//! least `m + num_inputs` points, as arkworks' `D::new(m + num_inputs)` picks. The roots are the
//! same in arkworks and ffjavascript (both powers of 5^t on BN254).
//!
//! Invariant: the witness map refuses (`SynthesisError::Unsatisfiable`) a witness that does
//! not satisfy every constraint, as Credence's `CheckedReduction` does, so no proof is made for
//! a false statement. Key generation through this reduction (`h_query_scalars`) gives keys of
//! the same form, so arkworks-generated test keys prove the same way as ceremony keys.

use ark_ff::PrimeField;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::EvaluationDomain;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ark_relations::utils::matrix::Matrix;
#[cfg(feature = "parallel")]
use rayon::prelude::*;

/// The snarkjs (circom) R1CS-to-QAP reduction. Use with
/// `Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices` and a
/// proving key converted from a `.zkey`.
pub struct CircomReduction;

/// `Σ coeff·z[index]`, refusing indices outside the assignment.
fn eval_row<F: PrimeField>(row: &[(F, usize)], z: &[F]) -> Result<F, SynthesisError> {
    let mut acc = F::zero();
    for &(coeff, i) in row {
        let v = z.get(i).ok_or(SynthesisError::AssignmentMissing)?;
        acc += coeff * v;
    }
    Ok(acc)
}

impl R1CSToQAP for CircomReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        // Same rows (constraints, then the instance rows in A) as snarkjs.
        LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        z: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        let [ma, mb, mc] = matrices else {
            return Err(SynthesisError::MissingCS);
        };
        if ma.len() < num_constraints
            || mb.len() < num_constraints
            || mc.len() < num_constraints
            || z.len() < num_inputs
        {
            return Err(SynthesisError::AssignmentMissing);
        }
        let domain =
            D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let n = domain.size();
        let rows: Vec<(F, F, F)> = ark_std::cfg_into_iter!(0..num_constraints)
            .map(|k| {
                Ok((
                    eval_row(&ma[k], z)?,
                    eval_row(&mb[k], z)?,
                    eval_row(&mc[k], z)?,
                ))
            })
            .collect::<Result<_, SynthesisError>>()?;
        if rows.iter().any(|(a, b, c)| *a * b != *c) {
            return Err(SynthesisError::Unsatisfiable);
        }
        let mut a = vec![F::zero(); n];
        let mut b = vec![F::zero(); n];
        let mut c = vec![F::zero(); n];
        for (k, (ra, rb, rc)) in rows.into_iter().enumerate() {
            a[k] = ra;
            b[k] = rb;
            c[k] = rc;
        }
        a[num_constraints..num_constraints + num_inputs].copy_from_slice(&z[..num_inputs]);

        // Evaluate on the odd coset ω_{2n}·⟨ω_n⟩.
        let shift =
            F::get_root_of_unity(2 * n as u64).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let coset = domain
            .get_coset(shift)
            .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        for v in [&mut a, &mut b, &mut c] {
            domain.ifft_in_place(v);
            coset.fft_in_place(v);
        }
        ark_std::cfg_iter_mut!(a)
            .zip(ark_std::cfg_iter!(b))
            .zip(ark_std::cfg_iter!(c))
            .for_each(|((a, b), c)| *a = *a * b - c);
        Ok(a)
    }

    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        _zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        // arkworks passes the domain size minus one; the H query has one point per domain point:
        // L_{2i+1}(t)/δ over the domain of twice the size.
        let n = max_power + 1;
        let big = D::new(2 * n).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        if big.size() != 2 * n {
            return Err(SynthesisError::PolynomialDegreeTooLarge);
        }
        let lagrange = big.evaluate_all_lagrange_coefficients(t);
        Ok(lagrange
            .into_iter()
            .skip(1)
            .step_by(2)
            .map(|l| l * delta_inverse)
            .collect())
    }
}
