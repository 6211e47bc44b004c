#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| credence_fuzz::msm(data));
