// Unsafe code lives in `field` (four inline-assembly routines) and `ifma`
// (one AVX-512 IFMA routine), see their module docs; the MSM itself forbids
// it.
#![deny(unsafe_code)]

mod field;
mod ifma;
mod inverse;
pub mod msm;
mod uint;

pub use field::backend as field_backend;

/// The vector routine the batch-affine flushes (G1 and G2) run on:
/// `"avx512-ifma"` (eight additions at once, chosen at run time) or
/// `"none"` (one at a time, on [`field_backend`]'s multiplication).
pub fn lanes_backend() -> &'static str {
    if ifma::available() {
        "avx512-ifma"
    } else {
        "none"
    }
}
