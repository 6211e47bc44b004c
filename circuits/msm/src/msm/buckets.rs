//! Bucket-method (Pippenger) MSM over pre-signed affine points and
//! non-negative magnitudes: the engine shared by the full-width (GLV) path
//! and the small-scalar paths.
//!
//! `sum_i mags[i] * points[i]` is computed as
//! `sum_w 2^(offset_w) * sum_i digit_w(mags[i]) * points[i]`; each inner sum
//! puts `points[i]` (negated for a negative digit) into bucket `|digit| - 1`
//! and finishes with the running-sum reduction `sum_b (b + 1) * bucket_b`.
//! Windows, and pieces of points within a window, are independent tasks
//! ([`pieces`]) that the threads take one at a time; each piece's digits are
//! computed on the fly from the magnitudes ([`WindowDigits`]).

use super::batch_affine::BatchAdder;
use super::curve::MsmCurve;
use super::digits::{Magnitude, WindowDigits};
use super::parallel;
use super::points::PointSource;
use super::reduce::weighted_sum;
use super::tuning::{Plan, Tuning};
use ark_ec::short_weierstrass::Bucket;

/// `sum_i mags[i] * points.get(i)` for magnitudes below `2^bits`.
///
/// `plan` overrides the tuned window choice (used by tests and the tuning
/// sweep).
pub(crate) fn pippenger<P: MsmCurve, M: Magnitude, S: PointSource<P> + ?Sized>(
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

    let pieces = pieces(windows, n, plan.chunks, parallel::threads());
    let sums = parallel::map_dynamic(pieces.len(), |k| {
        let piece = pieces[k];
        window_sum(
            points,
            piece.start,
            &mags[piece.start..piece.end],
            WindowDigits::new(&plan.windows, piece.window),
            plan.windows.buckets(piece.window),
            tuning,
        )
    });
    let mut partial = vec![Bucket::<P>::ZERO; windows];
    for (piece, sum) in pieces.iter().zip(&sums) {
        partial[piece.window] += sum;
    }

    // Horner over windows, top first: acc = acc * 2^(width_w) + S_w.
    let mut acc = Bucket::<P>::ZERO;
    for w in (0..windows).rev() {
        if w + 1 < windows {
            for _ in 0..plan.windows.width(w) {
                acc.double_in_place();
            }
        }
        acc += &partial[w];
    }
    acc
}

/// Points `start..end` of one window: one bucket set, one reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) window: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Pieces smaller than this are not cut further: each piece pays a full
/// bucket reduction, which a few points do not amortise.
pub(crate) const MIN_PIECE: usize = 1024;

/// The pieces of work for `windows` windows over `n` points, each window
/// first cut into `chunks` equal parts, in the order workers take them.
///
/// Whole windows come first; the last window is also cut into `threads`
/// pieces. Workers take pieces from a shared counter (see
/// `parallel::map_dynamic`), so the small pieces at the end even out the
/// threads' loads whatever the window count (9 windows on 2 threads cost
/// 4.5 windows each, not 5) and whatever else is running on the cores.
/// Every point of every window is in exactly one piece.
pub(crate) fn pieces(windows: usize, n: usize, chunks: usize, threads: usize) -> Vec<Piece> {
    let chunks = chunks.clamp(1, n.max(1));
    let per_chunk = n.div_ceil(chunks);
    let mut out = Vec::with_capacity(windows * chunks + threads);
    for window in 0..windows {
        for c in 0..chunks {
            let start = (c * per_chunk).min(n);
            let end = ((c + 1) * per_chunk).min(n);
            let cuts = if window + 1 == windows {
                threads.clamp(1, ((end - start) / MIN_PIECE).max(1))
            } else {
                1
            };
            let step = (end - start).div_ceil(cuts).max(1);
            let mut s = start;
            while s < end {
                let e = (s + step).min(end);
                out.push(Piece {
                    window,
                    start: s,
                    end: e,
                });
                s = e;
            }
        }
    }
    out
}

/// `sum_k digit(mags[k]) * points.get(start + k)` for one window (or one
/// chunk of it); digits are computed on the fly (see [`WindowDigits`]).
fn window_sum<P: MsmCurve, M: Magnitude, S: PointSource<P> + ?Sized>(
    points: &S,
    start: usize,
    mags: &[M],
    digits: WindowDigits<M>,
    buckets: usize,
    tuning: &Tuning,
) -> Bucket<P> {
    if tuning.use_batch_affine(mags.len(), buckets) {
        // With few buckets, every bucket gets `copies` replicas (point k goes
        // to replica k mod copies) so that a batch rarely meets a busy bucket.
        let copies = tuning.replicas(mags.len(), buckets);
        let slots = buckets * copies;
        let mut adder = BatchAdder::new(points, slots, tuning.batch_size(slots), tuning.lanes);
        let slot = |k: usize, d: i32| (d.unsigned_abs() as usize - 1) * copies + k % copies;
        // Look this far ahead to pull the next buckets into cache early; the
        // digits in between wait in a small ring.
        const AHEAD: usize = 8;
        let mut ring = [0i32; AHEAD];
        for (k, m) in mags.iter().enumerate().take(AHEAD) {
            ring[k] = digits.digit(m);
        }
        for k in 0..mags.len() {
            let d = ring[k % AHEAD];
            if let Some(m) = mags.get(k + AHEAD) {
                let next = digits.digit(m);
                ring[k % AHEAD] = next;
                if next != 0 {
                    adder.touch(slot(k + AHEAD, next));
                }
            }
            if d != 0 {
                adder.add(slot(k, d), start + k, d < 0);
            }
        }
        adder.finish(copies, tuning.reduce_lanes(buckets))
    } else {
        let mut acc = vec![Bucket::<P>::ZERO; buckets];
        for (k, m) in mags.iter().enumerate() {
            let d = digits.digit(m);
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
        lanes: true,
    };

    #[test]
    fn pieces_cover_every_point_of_every_window_once() {
        for (windows, n, chunks, threads) in [
            (9usize, 1 << 17, 1usize, 2usize),
            (10, 1 << 17, 1, 2),
            (9, 5000, 1, 2),
            (3, 100_000, 1, 4),
            (1, 10, 1, 2),
            (2, 3000, 3, 2),
            (41, 300, 7, 3),
            (5, 1, 1, 8),
            (1, 0, 1, 2),
        ] {
            let pieces = pieces(windows, n, chunks, threads);
            let mut seen = vec![0u32; windows * n];
            for piece in &pieces {
                assert!(piece.start < piece.end && piece.end <= n);
                for i in piece.start..piece.end {
                    seen[piece.window * n + i] += 1;
                }
            }
            assert!(
                seen.iter().all(|&k| k == 1),
                "{windows} {n} {chunks} {threads}"
            );
            // Only the last window is cut for the threads.
            assert!(pieces.len() <= windows * chunks + chunks * (threads - 1));
        }
        // 9 windows, 2 threads: 8 whole windows, then two halves.
        let p = pieces(9, 1 << 17, 1, 2);
        assert_eq!(p.len(), 10);
        assert_eq!((p[8].start, p[8].end, p[9].end), (0, 1 << 16, 1 << 17));
    }

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
            Tuning { lanes: false, ..T },
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
