// Unsafe code lives in `field` alone (four inline-assembly routines, see its
// module docs); the MSM itself forbids it.
#![deny(unsafe_code)]

mod field;
mod inverse;
pub mod msm;
mod uint;

pub use field::backend as field_backend;
