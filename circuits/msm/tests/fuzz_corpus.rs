//! Replays the fuzz corpus (`fuzz/corpus/msm/`) and a batch of seeded
//! random inputs through the fuzz target's check, on stable Rust.

#[path = "../fuzz/fuzz_targets/msm_check.rs"]
mod msm_check;

use ark_std::rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

#[test]
fn corpus_files_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/msm");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/corpus/msm exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "corpus should hold a few inputs");
    for f in files {
        let data = std::fs::read(&f).expect("readable corpus file");
        msm_check::check(&data);
    }
}

#[test]
fn seeded_random_inputs_pass() {
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    for _ in 0..300 {
        let len = rng.gen_range(0..600);
        let data: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        msm_check::check(&data);
    }
}
