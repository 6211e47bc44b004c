//! Summing lists of affine points by pairwise batched affine additions.
//!
//! Points are kept in *segments* (contiguous runs, one per sum wanted). One
//! level adds neighbours `(2t, 2t + 1)` inside every segment into slot `t`
//! of the segment's half-length output (an odd last point is carried into
//! the last slot). All additions of a level are independent, so they share
//! inversions without any conflict bookkeeping. About `n` additions in total
//! at ~6 multiplications each, against ~10 for the XYZZ mixed additions
//! arkworks uses.
//!
//! The layout of every level is fixed by the segment lengths alone: a pair
//! that cancels leaves the identity in its slot, and the next level treats
//! identity inputs without arithmetic. Input points may be the identity.
//!
//! Used for the scalar-is-one path (one segment per input run) and for
//! windows with few buckets (one segment per bucket after a counting sort,
//! see `buckets.rs`), where batching into live buckets would conflict too
//! often.

use super::batch_affine::{add_denominator, add_with_inverse, peel_inverse, push_norm};
use super::curve::MsmCurve;
use super::parallel;
use super::points::{PointSource, Ref};
use ark_ec::{
    AffineRepr,
    short_weierstrass::{Affine, Bucket, SWCurveConfig},
};
use ark_ff::{AdditiveGroup, Zero};
use core::hint::black_box;

/// Pairs sharing one inversion.
const BATCH_PAIRS: usize = 512;
/// How many pairs ahead a level loads its inputs.
const PREFETCH_PAIRS: usize = 4;
/// Once a level would have fewer pairs than this, an inversion no longer
/// pays for itself: the remaining points are added in XYZZ.
const MIN_LEVEL_PAIRS: usize = 48;

/// One pending pair: source index of its first point, output slot, doubling.
#[derive(Clone, Copy)]
struct Job {
    src: u32,
    dst: u32,
    doubling: bool,
}

/// Reusable buffers for pairwise summation.
pub(crate) struct Levels<P: MsmCurve> {
    jobs: Vec<Job>,
    /// Running products of the denominators' norms (see `batch_affine.rs`).
    prefix: Vec<P::NormField>,
    norms: Vec<P::NormField>,
    cur: Vec<Affine<P>>,
    next: Vec<Affine<P>>,
    cur_segs: Vec<u32>,
    next_segs: Vec<u32>,
}

impl<P: MsmCurve> Levels<P> {
    pub(crate) fn new() -> Self {
        Self {
            jobs: Vec::with_capacity(BATCH_PAIRS),
            prefix: Vec::with_capacity(BATCH_PAIRS),
            norms: Vec::with_capacity(BATCH_PAIRS),
            cur: Vec::new(),
            next: Vec::new(),
            cur_segs: Vec::new(),
            next_segs: Vec::new(),
        }
    }

    /// Schedules `dst[d] = src[s] + src[s + 1]`, or does it at once when no
    /// field arithmetic is needed (an identity input, or a cancelling pair).
    #[inline(always)]
    fn push<G: Fn(usize) -> Affine<P>>(
        &mut self,
        src: &G,
        dst: &mut [Affine<P>],
        s: usize,
        d: usize,
    ) {
        let (a, b) = (&src(s), &src(s + 1));
        if a.is_zero() {
            dst[d] = *b;
        } else if b.is_zero() {
            dst[d] = *a;
        } else {
            match add_denominator(a, b) {
                None => dst[d] = Affine::identity(),
                Some((den, doubling)) => {
                    push_norm::<P>(&mut self.prefix, &mut self.norms, P::norm(&den));
                    self.jobs.push(Job {
                        src: s as u32,
                        dst: d as u32,
                        doubling,
                    });
                    if self.jobs.len() == BATCH_PAIRS {
                        self.flush(src, dst);
                    }
                }
            }
        }
    }

    /// Completes the scheduled pairs with one inversion.
    fn flush<G: Fn(usize) -> Affine<P>>(&mut self, src: &G, dst: &mut [Affine<P>]) {
        let Some(last) = self.prefix.last() else {
            return;
        };
        let mut inv = P::norm_inverse(last).expect("non-zero product of norms");
        for k in (0..self.jobs.len()).rev() {
            let job = self.jobs[k];
            let (a, b) = (&src(job.src as usize), &src(job.src as usize + 1));
            let inv_norm = peel_inverse::<P>(&mut inv, &self.prefix, &self.norms, k);
            let den = if job.doubling {
                a.y.double()
            } else {
                b.x - a.x
            };
            let inv_den = P::inverse_from_norm(&den, &inv_norm);
            dst[job.dst as usize] = add_with_inverse(a, b, job.doubling, &inv_den);
        }
        self.jobs.clear();
        self.prefix.clear();
        self.norms.clear();
    }

    /// One level from `src` (segment lengths `segs`) into `dst`/`dst_segs`.
    fn level<G: Fn(usize) -> Affine<P>>(
        &mut self,
        src: &G,
        segs: &[u32],
        dst: &mut Vec<Affine<P>>,
        dst_segs: &mut Vec<u32>,
    ) {
        dst_segs.clear();
        dst_segs.extend(segs.iter().map(|&l| l.div_ceil(2)));
        let total: usize = dst_segs.iter().map(|&l| l as usize).sum();
        dst.clear();
        dst.resize(total, Affine::identity());
        let src_len: usize = segs.iter().map(|&l| l as usize).sum();
        let (mut s, mut d) = (0usize, 0usize);
        for &len in segs {
            let len = len as usize;
            for t in 0..len / 2 {
                // Level 0 gathers bases in bucket order: load the pair a few
                // steps ahead so the CPU is not left waiting on memory.
                let ahead = s + 2 * t + 2 * PREFETCH_PAIRS;
                if ahead + 1 < src_len {
                    black_box(src(ahead).x.is_zero() | src(ahead + 1).x.is_zero());
                }
                self.push(src, dst, s + 2 * t, d + t);
            }
            if len % 2 == 1 {
                dst[d + len / 2] = src(s + len - 1);
            }
            s += len;
            d += len.div_ceil(2);
        }
        self.flush(src, dst);
    }

    /// Sum of each segment (lengths in `segs`, in order) of the items
    /// `source.get_ref(refs[k])`.
    pub(crate) fn segment_sums<S: PointSource<P> + ?Sized>(
        &mut self,
        source: &S,
        refs: &[Ref],
        segs: &[u32],
    ) -> Vec<Bucket<P>> {
        let first = |k: usize| source.get_ref(refs[k]);
        if !self.worth_a_level(segs) {
            return finish_xyzz(&first, segs);
        }
        let mut cur = core::mem::take(&mut self.cur);
        let mut cur_segs = core::mem::take(&mut self.cur_segs);
        let mut next = core::mem::take(&mut self.next);
        let mut next_segs = core::mem::take(&mut self.next_segs);
        self.level(&first, segs, &mut cur, &mut cur_segs);
        while self.worth_a_level(&cur_segs) {
            self.level(&|k: usize| cur[k], &cur_segs, &mut next, &mut next_segs);
            core::mem::swap(&mut cur, &mut next);
            core::mem::swap(&mut cur_segs, &mut next_segs);
        }
        let out = finish_xyzz(&|k: usize| cur[k], &cur_segs);
        (self.cur, self.cur_segs, self.next, self.next_segs) = (cur, cur_segs, next, next_segs);
        out
    }

    fn worth_a_level(&self, segs: &[u32]) -> bool {
        segs.iter().map(|&l| l as usize / 2).sum::<usize>() >= MIN_LEVEL_PAIRS
    }
}

/// Sums each segment in XYZZ.
fn finish_xyzz<P: SWCurveConfig>(
    src: &impl Fn(usize) -> Affine<P>,
    segs: &[u32],
) -> Vec<Bucket<P>> {
    let mut out = Vec::with_capacity(segs.len());
    let mut start = 0usize;
    for &len in segs {
        let mut acc = Bucket::ZERO;
        for k in start..start + len as usize {
            acc += &src(k);
        }
        out.push(acc);
        start += len as usize;
    }
    out
}

/// Points summed as one tree before their sum joins the run's total.
const SUM_BLOCK: usize = 8192;
/// Smallest run worth handing to another thread.
const MIN_PER_THREAD: usize = 4096;

/// Sum of `source.get_ref(r)` over `refs` (runs of it summed in parallel).
pub(crate) fn sum<P: MsmCurve, S: PointSource<P> + ?Sized>(source: &S, refs: &[Ref]) -> Bucket<P> {
    let runs = parallel::threads().min(refs.len() / MIN_PER_THREAD).max(1);
    let per = refs.len().div_ceil(runs).max(1);
    let partial = parallel::map_indices(runs, |t| {
        let run = &refs[(t * per).min(refs.len())..((t + 1) * per).min(refs.len())];
        // Blocks keep the level buffers small (cache-resident) and reused.
        let mut levels = Levels::new();
        let mut acc = Bucket::ZERO;
        for block in run.chunks(SUM_BLOCK) {
            acc += &levels.segment_sums(source, block, &[block.len() as u32])[0];
        }
        acc
    });
    let mut acc = Bucket::ZERO;
    for p in &partial {
        acc += p;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective};
    use ark_ec::{CurveGroup, PrimeGroup};

    fn refs(n: usize) -> Vec<Ref> {
        (0..n)
            .map(|i| crate::msm::points::make_ref(i, false))
            .collect()
    }

    fn points(n: usize) -> Vec<G1Affine> {
        let g = G1Projective::generator();
        (1..=n as u64)
            .map(|i| (g * Fr::from(i * i + 3)).into_affine())
            .collect()
    }

    #[test]
    fn run_sums_match_projective_sums_with_repeats_and_negations() {
        let base = points(300);
        for n in [0usize, 1, 2, 31, 32, 33, 64, 65, 129, 300] {
            let mut pts: Vec<G1Affine> = base[..n].to_vec();
            if n > 10 {
                pts[1] = pts[0]; // doubling
                pts[3] = -pts[2]; // cancellation, leaves an identity slot
                pts[5] = -pts[4]; // a second one: identity + identity next level
                pts[7] = pts[6];
                pts[9] = G1Affine::identity(); // identity input
            }
            let expect: G1Projective = pts.iter().map(|p| G1Projective::from(*p)).sum();
            let got: G1Projective = sum(pts.as_slice(), &refs(n)).into();
            // Same through negated refs.
            let neg: Vec<Ref> = refs(n).iter().map(|r| r | 1).collect();
            let got_neg: G1Projective = sum(pts.as_slice(), &neg).into();
            assert_eq!(got_neg, -expect, "negated n = {n}");
            assert_eq!(got, expect, "n = {n}");
        }
    }

    #[test]
    fn equal_points_double_repeatedly() {
        let g = G1Projective::generator().into_affine();
        let got: G1Projective = sum(vec![g; 20000].as_slice(), &refs(20000)).into();
        assert_eq!(got, G1Projective::generator() * Fr::from(20000u64));
    }

    #[test]
    fn segments_are_summed_separately() {
        let base = points(600);
        let segs = [0u32, 1, 100, 31, 200, 2, 0, 66, 3, 150];
        let total: u32 = segs.iter().sum();
        let pts = &base[..total as usize];
        let mut levels = Levels::new();
        // Twice with the same buffers: reuse must not leak state.
        for _ in 0..2 {
            let got = levels.segment_sums(pts, &refs(pts.len()), &segs);
            let mut start = 0usize;
            for (s, g) in segs.iter().zip(&got) {
                let expect: G1Projective = pts[start..start + *s as usize]
                    .iter()
                    .map(|p| G1Projective::from(*p))
                    .sum();
                assert_eq!(G1Projective::from(*g), expect);
                start += *s as usize;
            }
        }
    }
}
