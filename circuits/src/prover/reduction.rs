//! The two R1CS-to-QAP reductions a claim's proving key can be made for, both refusing a
//! witness that does not satisfy every constraint.
//!
//! - [`CheckedReduction`] is libsnark's (arkworks' default): keys from [`super::ClaimProver::setup`]
//!   (`credence setup`). The H query holds `τ^i·Z(τ)/δ`; the prover divides `A·B − C` by the
//!   vanishing polynomial on a coset and interpolates the quotient.
//! - [`CircomReduction`] is snarkjs' (circom's): keys from a phase-2 ceremony `.zkey`. Format
//!   source: snarkjs 0.7.6 `groth16_prove.js` (the witness map) and `zkey_new.js` (the H
//!   section). The H query holds `L_{2i+1}(τ)/δ`, the odd-indexed Lagrange basis of the domain
//!   of size `2n` (the odd coset `ω_{2n}·⟨ω_n⟩`). `P = A·B − C` has degree below `2n` and
//!   vanishes on the `n`-th roots when the witness satisfies the circuit, so
//!   `P(τ) = Σ_i P(ω_{2n}^{2i+1})·L_{2i+1}(τ)`: the H scalars are the evaluations of `P` on the
//!   odd coset, with no division (`Z` is the constant −2 there) and no interpolation.
//!
//! Both lay out the rows alike: the `m` constraints, then one A-only row per instance variable
//! (the constant one included) holding its value, which binds every public input even if no
//! constraint uses it; the domain is the smallest power of two of at least `m + inputs` points.
//! The roots of unity are the same in arkworks and ffjavascript (powers of 5^t on BN254).
//!
//! Invariant: the witness map evaluates every row's `A·z`, `B·z`, `C·z` anyway, and refuses
//! ([`SynthesisError::Unsatisfiable`]) unless `A·z · B·z = C·z` on every row: ark-groth16 only
//! debug-asserts satisfiability, and a check here costs one multiplication per row where a
//! separate pass would evaluate the matrices again. Key generation and the instance map are
//! libsnark's for both, so keys made through either reduction by arkworks have the same form as
//! the keys a ceremony makes.
//!
//! The row vectors are linear images of the secret witness: every one this module drops is
//! zeroized first (the one it returns belongs to ark-groth16's prover, which does not wipe it).

use ark_ff::PrimeField;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP, evaluate_constraint};
use ark_poly::EvaluationDomain;
use ark_relations::{
    gr1cs::{ConstraintSystemRef, SynthesisError},
    utils::matrix::Matrix,
};
use zeroize::Zeroize;

/// Which reduction a proving key was made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qap {
    /// libsnark's ([`CheckedReduction`]): single-party keys from `credence setup`.
    Libsnark,
    /// snarkjs' ([`CircomReduction`]): keys from a phase-2 ceremony.
    Circom,
}

impl Qap {
    /// Both, in a fixed order.
    pub const ALL: [Qap; 2] = [Qap::Libsnark, Qap::Circom];

    /// The name key manifests record.
    pub fn name(self) -> &'static str {
        match self {
            Qap::Libsnark => "libsnark",
            Qap::Circom => "circom",
        }
    }

    /// The reduction named `name`, if any.
    pub fn from_name(name: &str) -> Option<Qap> {
        Qap::ALL.into_iter().find(|q| q.name() == name)
    }
}

impl std::fmt::Display for Qap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// libsnark's reduction whose witness map refuses an unsatisfied witness (module docs).
pub struct CheckedReduction;

/// snarkjs' reduction whose witness map refuses an unsatisfied witness (module docs). Prove
/// with it under a proving key converted from a ceremony `.zkey`.
pub struct CircomReduction;

/// The rows `A·z`, `B·z`, `C·z` of every constraint, then the instance rows, padded to the
/// domain; `Unsatisfiable` unless every constraint holds.
fn checked_rows<F: PrimeField>(
    matrices: &[Matrix<F>],
    num_inputs: usize,
    num_constraints: usize,
    z: &[F],
    size: usize,
) -> Result<[Vec<F>; 3], SynthesisError> {
    let [ma, mb, mc] = matrices else {
        return Err(SynthesisError::MissingCS);
    };
    if ma.len() < num_constraints
        || mb.len() < num_constraints
        || mc.len() < num_constraints
        || z.len() < num_inputs
        || size < num_constraints + num_inputs
    {
        return Err(SynthesisError::AssignmentMissing);
    }
    let mut a = vec![F::zero(); size];
    let mut b = vec![F::zero(); size];
    let mut c = vec![F::zero(); size];
    let rows = num_constraints;
    let satisfied = rows::all(
        &mut a[..rows],
        &mut b[..rows],
        &mut c[..rows],
        |k, a, b, c| {
            *a = evaluate_constraint(&ma[k], z);
            *b = evaluate_constraint(&mb[k], z);
            *c = evaluate_constraint(&mc[k], z);
            *a * *b == *c
        },
    );
    if !satisfied {
        for v in [&mut a, &mut b, &mut c] {
            v.zeroize();
        }
        return Err(SynthesisError::Unsatisfiable);
    }
    a[rows..rows + num_inputs].copy_from_slice(&z[..num_inputs]);
    Ok([a, b, c])
}

impl R1CSToQAP for CheckedReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        z: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        let domain =
            D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let [mut a, mut b, mut c] =
            checked_rows(matrices, num_inputs, num_constraints, z, domain.size())?;
        let coset = domain
            .get_coset(F::GENERATOR)
            .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        for v in [&mut a, &mut b, &mut c] {
            domain.ifft_in_place(v);
            coset.fft_in_place(v);
        }
        let vanishing_inverse = domain
            .evaluate_vanishing_polynomial(F::GENERATOR)
            .inverse()
            .ok_or(SynthesisError::DivisionByZero)?;
        rows::zip3(&mut a, &b, &c, |h, b, c| {
            *h = (*h * b - c) * vanishing_inverse
        });
        b.zeroize();
        c.zeroize();
        coset.ifft_in_place(&mut a);
        Ok(a)
    }

    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        LibsnarkReduction::h_query_scalars::<F, D>(max_power, t, zt, delta_inverse)
    }
}

impl R1CSToQAP for CircomReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        z: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        let domain =
            D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let n = domain.size();
        let [mut a, mut b, mut c] = checked_rows(matrices, num_inputs, num_constraints, z, n)?;
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
        rows::zip3(&mut a, &b, &c, |p, b, c| *p = *p * b - c);
        b.zeroize();
        c.zeroize();
        Ok(a)
    }

    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        _zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        // arkworks passes the domain size minus one; the H query has one point per domain
        // point: L_{2i+1}(t)/δ over the domain of twice the size.
        let n = max_power + 1;
        let big = D::new(2 * n).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        if big.size() != 2 * n {
            return Err(SynthesisError::PolynomialDegreeTooLarge);
        }
        Ok(big
            .evaluate_all_lagrange_coefficients(t)
            .into_iter()
            .skip(1)
            .step_by(2)
            .map(|l| l * delta_inverse)
            .collect())
    }
}

/// Row loops that run on rayon when the `parallel` feature is on.
mod rows {
    #[cfg(feature = "parallel")]
    use rayon::prelude::*;

    /// Calls `f(k, a_k, b_k, c_k)` for every row; true if every call returned true.
    pub fn all<F: Send + Sync>(
        a: &mut [F],
        b: &mut [F],
        c: &mut [F],
        f: impl Fn(usize, &mut F, &mut F, &mut F) -> bool + Sync + Send,
    ) -> bool {
        // Every row is evaluated even after a failure: the vectors must be complete anyway.
        #[cfg(feature = "parallel")]
        {
            a.par_iter_mut()
                .zip(b.par_iter_mut())
                .zip(c.par_iter_mut())
                .enumerate()
                .map(|(k, ((a, b), c))| f(k, a, b, c))
                .reduce(|| true, |x, y| x && y)
        }
        #[cfg(not(feature = "parallel"))]
        {
            let mut ok = true;
            for (k, ((a, b), c)) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()).enumerate() {
                ok &= f(k, a, b, c);
            }
            ok
        }
    }

    /// Calls `f(a_k, b_k, c_k)` for every index.
    pub fn zip3<F: Send + Sync>(
        a: &mut [F],
        b: &[F],
        c: &[F],
        f: impl Fn(&mut F, &F, &F) + Sync + Send,
    ) {
        #[cfg(feature = "parallel")]
        a.par_iter_mut()
            .zip(b.par_iter())
            .zip(c.par_iter())
            .for_each(|((a, b), c)| f(a, b, c));
        #[cfg(not(feature = "parallel"))]
        a.iter_mut()
            .zip(b.iter())
            .zip(c.iter())
            .for_each(|((a, b), c)| f(a, b, c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qap_names_round_trip() {
        for q in Qap::ALL {
            assert_eq!(Qap::from_name(q.name()), Some(q));
        }
        assert_eq!(Qap::from_name("groth16"), None);
    }
}
