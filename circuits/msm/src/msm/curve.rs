//! Which groups the MSM supports and their tuned cost figures.

use super::tuning::Tuning;
use ark_ec::scalar_mul::glv::GLVConfig;

/// A short-Weierstrass group our MSM runs on: it needs arkworks' GLV data
/// (endomorphism and lattice basis) and the planner's cost figures.
///
/// Implemented for BN254 G1 and G2. Another GLV curve can implement it with
/// its own measured [`Tuning`]; if its scalar field is not four 64-bit limbs
/// the MSM falls back to arkworks' implementation, and if its lattice basis
/// does not give 128-bit halves it runs without GLV.
pub trait MsmCurve: GLVConfig {
    /// Cost figures for the window planner (see [`Tuning`]).
    const TUNING: Tuning;
}

impl MsmCurve for ark_bn254::g1::Config {
    const TUNING: Tuning = Tuning {
        reduce_cost: 4.0,
        xyzz_cost: 1.7,
        inversion_cost: 16.0,
        max_batch: 512,
        bucket_ratio: 8,
        min_batch_points: 256,
        replicate_below: 2048,
        // 64-byte points: 8192 slots = 512 KiB.
        cache_buckets: 8192,
        miss_cost: 0.12,
        affine_reduce_cost: 2.5,
        lane_len: 32,
        min_lanes: 64,
    };
}

impl MsmCurve for ark_bn254::g2::Config {
    const TUNING: Tuning = Tuning {
        reduce_cost: 4.0,
        xyzz_cost: 1.7,
        inversion_cost: 6.0,
        max_batch: 512,
        bucket_ratio: 8,
        min_batch_points: 256,
        replicate_below: 2048,
        // 128-byte points: 4096 slots = 512 KiB.
        cache_buckets: 4096,
        miss_cost: 0.12,
        affine_reduce_cost: 2.5,
        lane_len: 32,
        min_lanes: 64,
    };
}
