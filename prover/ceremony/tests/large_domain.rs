//! csHash for domains of 2^15 points and more, where snarkjs 0.7.6 hashes one extra H point.
//! Slow (a 2^15 domain, a power-16 ptau): `cargo test --release --test large_domain -- --ignored`.
//! The ptau files come from the pilot generator (byte-identical to snarkjs' `prepare phase2`,
//! see `pilot_ptau_matches_snarkjs_prepare`), because snarkjs takes tens of minutes to prepare
//! a power-16 file on two cores.

mod common;

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, LinearCombination,
    OptimizationGoal, R1CS_PREDICATE_LABEL, SynthesisError, SynthesisMode,
};
use common::*;
use credence_ceremony::{
    Error, pilot_ptau::write_single_party_ptau, ptau::Ptau, r1cs::R1cs, setup::new_zkey, zkey::Zkey,
};

fn pilot(dir: &std::path::Path, power: u32) -> std::path::PathBuf {
    let path = dir.join(format!("pilot{power}.ptau"));
    let t = std::time::Instant::now();
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write_single_party_ptau(power, &mut f).unwrap();
    drop(f);
    eprintln!("pilot ptau power {power}: {:?}", t.elapsed());
    path
}

struct Chain(usize);

impl ConstraintSynthesizer<Fr> for Chain {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let one = Fr::from(1u64);
        let mut x = Vec::new();
        for _ in 0..PUBLIC {
            x.push(cs.new_input_variable(|| Ok(Fr::from(3u64)))?);
        }
        let mut cur = x[0];
        for i in 0..self.0 {
            let n = cs.new_witness_variable(|| Ok(Fr::from(0u64)))?;
            let other = x[i % PUBLIC];
            cs.enforce_r1cs_constraint(
                || LinearCombination::from_sum_coeff_vars(&[(one, cur)]),
                || LinearCombination::from_sum_coeff_vars(&[(one, other)]),
                || LinearCombination::from_sum_coeff_vars(&[(one, n)]),
            )?;
            cur = n;
        }
        Ok(())
    }
}

#[test]
#[ignore]
fn zkey_new_domain_2_15() {
    let Some(sj) = snarkjs() else { return };
    let dir = test_dir("large");
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    Chain((1 << 14) + 100)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    let mats = cs
        .to_matrices()
        .unwrap()
        .remove(R1CS_PREDICATE_LABEL)
        .unwrap();
    let r1cs = R1cs::from_matrices(
        &mats,
        cs.num_instance_variables(),
        cs.num_witness_variables(),
        cs.num_constraints(),
    )
    .unwrap();
    let r1cs_path = dir.join("chain.r1cs");
    std::fs::write(&r1cs_path, r1cs.to_bytes()).unwrap();

    let pot16 = pilot(&dir, 16);
    let theirs = dir.join("chain.zkey");
    let t = std::time::Instant::now();
    run_ok(&sj, &["zkey", "new", s(&r1cs_path), s(&pot16), s(&theirs)]);
    eprintln!("zkey new (snarkjs), 2^15 domain: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let ours = new_zkey(&r1cs, &mut Ptau::open(&pot16).unwrap()).unwrap();
    eprintln!("zkey new (ours), 2^15 domain: {:?}", t.elapsed());
    assert_eq!(ours.header.domain_size, 1 << 15);
    let theirs_bytes = std::fs::read(&theirs).unwrap();
    let theirs = Zkey::from_bytes(&theirs_bytes).unwrap();
    assert_eq!(ours.mpc.cs_hash, theirs.mpc.cs_hash, "csHash");
    assert!(ours.to_bytes() == theirs_bytes, "zkey bytes differ");

    // With a ptau of exactly power 15 snarkjs hashes bytes past tauG1: we refuse.
    let pot15 = pilot(&dir, 15);
    match new_zkey(&r1cs, &mut Ptau::open(&pot15).unwrap()) {
        Err(Error::PtauTooSmall { needed: 16, .. }) => {}
        other => panic!("expected PtauTooSmall, got {other:?}"),
    }
}
