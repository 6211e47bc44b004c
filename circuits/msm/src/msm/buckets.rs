//! Bucket-method (Pippenger) MSM over pre-signed affine points and
//! non-negative magnitudes: the engine shared by the full-width (GLV) path
//! and the small-scalar paths.
//!
//! `sum_i mags[i] * points[i]` is computed as
//! `sum_w 2^(offset_w) * sum_i digit_w(mags[i]) * points[i]`; each inner sum
//! puts `points[i]` (negated for a negative digit) into bucket `|digit| - 1`
//! and finishes with the running-sum reduction `sum_b (b + 1) * bucket_b`.
//! Windows, and chunks of points within a window, are independent tasks
//! spread over the thread pool.

use super::batch_affine::BatchAdder;
use super::digits::{self, Magnitude};
use super::parallel;
use super::points::PointSource;
use super::reduce::weighted_sum;
use super::tuning::{Plan, Tuning};
use ark_ec::short_weierstrass::{Bucket, SWCurveConfig};

/// `sum_i mags[i] * points.get(i)` for magnitudes below `2^bits`.
///
/// `plan` overrides the tuned window choice (used by tests and the tuning
/// sweep).
pub(crate) fn pippenger<P: SWCurveConfig, M: Magnitude, S: PointSource<P> + ?Sized>(
    points: &S,
    mags: &[M],
    bits: u32,
    tuning: &Tuning,
    plan: Option<Plan>,
) -> Bucket<P> {
    assert_eq!(points.len(), mags.len());
    let n = points.len();
    if n == 0 {
        return Bucket::ZERO;
    }
    let plan = plan.unwrap_or_else(|| tuning.plan(n, bits, parallel::threads()));
    let windows = plan.windows.len();
    let digits = digits::window_major(mags, &plan.windows);
    let chunks = plan.chunks.clamp(1, n);
    let per_chunk = n.div_ceil(chunks);

    let partial = parallel::map_indices(windows * chunks, |task| {
        let (w, c) = (task / chunks, task % chunks);
        let start = (c * per_chunk).min(n);
        let end = ((c + 1) * per_chunk).min(n);
        let row = &digits[w * n..(w + 1) * n];
        window_sum(
            points,
            start,
            &row[start..end],
            plan.windows.buckets(w),
            tuning,
        )
    });

    // Horner over windows, top first: acc = acc * 2^(width_w) + S_w.
    let mut acc = Bucket::<P>::ZERO;
    for w in (0..windows).rev() {
        if w + 1 < windows {
            for _ in 0..plan.windows.width(w) {
                acc.double_in_place();
            }
        }
        for s in &partial[w * chunks..(w + 1) * chunks] {
            acc += s;
        }
    }
    acc
}

/// `sum_k digits[k] * points.get(start + k)` for one window (or one chunk of it).
fn window_sum<P: SWCurveConfig, S: PointSource<P> + ?Sized>(
    points: &S,
    start: usize,
    digits: &[i32],
    buckets: usize,
    tuning: &Tuning,
) -> Bucket<P> {
    if tuning.use_batch_affine(digits.len(), buckets) {
        // With few buckets, every bucket gets `copies` replicas (point k goes
        // to replica k mod copies) so that a batch rarely meets a busy bucket.
        let copies = tuning.replicas(digits.len(), buckets);
        let slots = buckets * copies;
        let mut adder = BatchAdder::new(points, slots, tuning.batch_size(slots));
        let slot = |k: usize, d: i32| (d.unsigned_abs() as usize - 1) * copies + k % copies;
        // Look this far ahead to pull the next buckets into cache early.
        const AHEAD: usize = 6;
        for (k, &d) in digits.iter().enumerate() {
            if let Some(&next) = digits.get(k + AHEAD)
                && next != 0
            {
                adder.touch(slot(k + AHEAD, next));
            }
            if d != 0 {
                adder.add(slot(k, d), start + k, d < 0);
            }
        }
        adder.finish(copies, tuning.reduce_lanes(buckets))
    } else {
        let mut acc = vec![Bucket::<P>::ZERO; buckets];
        for (k, &d) in digits.iter().enumerate() {
            if d > 0 {
                acc[(d - 1) as usize] += &points.get(start + k);
            } else if d < 0 {
                acc[(-d - 1) as usize] -= &points.get(start + k);
            }
        }
        weighted_sum(&acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msm::digits::WindowPlan;
    use ark_bn254::{Fr, G1Affine, G1Projective};
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_std::rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    const T: Tuning = Tuning {
        reduce_cost: 4.0,
        xyzz_cost: 1.7,
        inversion_cost: 20.0,
        max_batch: 64,
        bucket_ratio: 4,
        min_batch_points: 16,
        replicate_below: 0,
        cache_buckets: 1 << 20,
        miss_cost: 0.0,
        affine_reduce_cost: 2.5,
        lane_len: 4,
        min_lanes: 2,
    };

    #[test]
    fn every_plan_gives_the_same_sum() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let g = G1Projective::generator();
        let n = 300;
        let points: Vec<G1Affine> = (0..n)
            .map(|_| (g * Fr::from(rng.r#gen::<u64>())).into_affine())
            .collect();
        let mags: Vec<u64> = (0..n).map(|_| rng.r#gen::<u64>() >> 24).collect();
        let expect: G1Projective = points
            .iter()
            .zip(&mags)
            .map(|(p, m)| *p * Fr::from(*m))
            .sum();
        // Plain batch-affine buckets (or XYZZ for tiny tasks), then with
        // replicated buckets.
        for tuning in [
            T,
            Tuning {
                replicate_below: 1 << 10,
                ..T
            },
        ] {
            for windows in [2usize, 3, 5, 8, 41] {
                for chunks in [1usize, 2, 3, 7] {
                    let plan = Plan {
                        windows: WindowPlan::new(40, windows),
                        chunks,
                    };
                    let got: G1Projective =
                        pippenger(points.as_slice(), &mags, 40, &tuning, Some(plan)).into();
                    assert_eq!(got, expect, "windows {windows} chunks {chunks}");
                }
            }
        }
    }
}
