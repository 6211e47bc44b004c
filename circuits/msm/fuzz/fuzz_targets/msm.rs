//! cargo-fuzz target: decode bytes into a small MSM and compare with arkworks.
//! The decoding and the comparison live in `msm_check.rs`, which the crate's
//! `tests/fuzz_corpus.rs` also uses to replay `fuzz/corpus/msm/` on stable.
#![no_main]

#[path = "msm_check.rs"]
mod msm_check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    msm_check::check(data);
});
