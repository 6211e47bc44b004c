//! A batch of seeded random inputs through the MSM target (`credence_fuzz::msm`), on stable
//! Rust; `tests/corpus.rs` replays its corpus with the others.

use ark_std::rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

#[test]
fn seeded_random_inputs_pass() {
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    for _ in 0..300 {
        let len = rng.gen_range(0..600);
        let data: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        credence_fuzz::msm(&data);
    }
}
