//! Affine bucket accumulation with batched (Montgomery-trick) inversion.
//!
//! Adding two affine points needs one field inversion; doing `B` independent
//! additions at once shares a single inversion between them (3 extra
//! multiplications each). On G2 the shared inversion runs on the norms of
//! the `Fq2` denominators ([`MsmCurve::norm`]), so those 3 multiplications
//! are in `Fq`, not `Fq2`. An affine addition then costs about 6
//! multiplications, against about 10 for a mixed addition into an XYZZ
//! bucket (what arkworks uses).
//!
//! The catch is independence: two additions into the same bucket within one
//! batch would both read the bucket's old value. [`BatchAdder`] therefore
//! marks buckets that already have a pending addition as busy and parks
//! points for a busy bucket in a queue, retried after the next flush. When
//! the queue keeps filling with repeats (skewed scalars: many equal digits),
//! the repeats go to per-bucket XYZZ accumulators instead, so the worst case
//! degrades to arkworks' cost rather than to one inversion per addition.
//!
//! Special cases are decided when an addition is scheduled, before any
//! denominator enters the batch (a zero denominator would poison the shared
//! inversion):
//! * empty bucket: the point is stored, no arithmetic;
//! * `bucket == point`: doubling, denominator `2y`;
//! * `bucket == -point` (or a doubling with `y = 0`): the bucket becomes empty.
//!
//! Where the CPU has AVX-512 IFMA ([`MsmCurve::Lanes`], `crate::ifma`), a
//! flush hands the whole batch to the lanes instead: scheduling records each
//! addition's coordinates, and the flush runs eight additions per
//! instruction stream with one inversion for the batch, then writes the
//! sums back. Doublings, which the lanes do not take, then go to the XYZZ
//! side buckets (rare: they need a bucket equal to the point added).
//!
//! Callers never pass the identity as a point (the router drops identity
//! bases). Buckets are stored as bare coordinates in cache-line aligned
//! [`Slot`]s (arkworks' `Affine` carries an extra flag: 72 and 136 bytes,
//! so most random bucket accesses would touch one line more); `(0, 0)`
//! marks an empty bucket, which is sound because it is not on a curve with
//! `b != 0` (checked when an adder is built).

use super::curve::{LaneAdds, MsmCurve};
use super::points::{PointSource, Ref};
use ark_ec::{
    AffineRepr,
    short_weierstrass::{Affine, Bucket, SWCurveConfig},
};
use ark_ff::{AdditiveGroup, Field, Zero};
use core::hint::black_box;

/// Denominator of the affine addition `a + b` (or doubling), or `None` when
/// the sum is the identity. Neither input may be the identity.
#[inline(always)]
pub(crate) fn add_denominator<P: MsmCurve>(
    a: &Affine<P>,
    b: &Affine<P>,
) -> Option<(P::BaseField, bool)> {
    // The denominator is needed anyway; testing it for zero is cheaper than
    // comparing the two x coordinates first.
    let den = b.x - a.x;
    if !den.is_zero() {
        Some((den, false))
    } else if a.y == b.y && !a.y.is_zero() {
        Some((a.y.double(), true))
    } else {
        // a == -b, or a doubling of a point of order two.
        None
    }
}

/// Completes the affine addition `a + b` given `inv = 1 / denominator`.
#[inline(always)]
pub(crate) fn add_with_inverse<P: MsmCurve>(
    a: &Affine<P>,
    b: &Affine<P>,
    doubling: bool,
    inv: &P::BaseField,
) -> Affine<P> {
    let lambda = if doubling {
        let xx = P::square(&a.x);
        P::mul(&(xx.double() + xx + P::COEFF_A), inv)
    } else {
        P::mul(&(b.y - a.y), inv)
    };
    let x3 = P::square(&lambda) - a.x - b.x;
    let y3 = P::mul(&lambda, &(a.x - x3)) - a.y;
    Affine::new_unchecked(x3, y3)
}

/// Montgomery's trick, step one: records norm `n` of the next pending
/// addition, with `prefix[k]` the product of the first `k + 1` norms.
#[inline(always)]
pub(crate) fn push_norm<P: MsmCurve>(
    prefix: &mut Vec<P::NormField>,
    norms: &mut Vec<P::NormField>,
    n: P::NormField,
) {
    let acc = match prefix.last() {
        Some(last) => P::norm_mul(last, &n),
        None => n,
    };
    prefix.push(acc);
    norms.push(n);
}

/// Montgomery's trick, step two: given `inv = 1 / (n_0 ... n_k)`, returns
/// `1 / n_k` and leaves `inv = 1 / (n_0 ... n_(k-1))`.
#[inline(always)]
pub(crate) fn peel_inverse<P: MsmCurve>(
    inv: &mut P::NormField,
    prefix: &[P::NormField],
    norms: &[P::NormField],
    k: usize,
) -> P::NormField {
    let inv_norm = if k > 0 {
        P::norm_mul(inv, &prefix[k - 1])
    } else {
        *inv
    };
    *inv = P::norm_mul(inv, &norms[k]);
    inv_norm
}

/// An affine bucket without arkworks' identity flag, aligned so that a G1
/// bucket is exactly one cache line and a G2 bucket exactly two. `(0, 0)`
/// is the empty bucket.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot<F> {
    x: F,
    y: F,
}

impl<F: Field> Slot<F> {
    const EMPTY: Self = Self {
        x: F::ZERO,
        y: F::ZERO,
    };

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.x.is_zero() && self.y.is_zero()
    }

    #[inline(always)]
    fn set<P: SWCurveConfig<BaseField = F>>(&mut self, p: &Affine<P>) {
        // Results of additions are never the identity here (those are
        // caught before scheduling), and inputs never are.
        debug_assert!(!p.is_zero());
        self.x = p.x;
        self.y = p.y;
    }

    #[inline(always)]
    fn get<P: SWCurveConfig<BaseField = F>>(&self) -> Affine<P> {
        if self.is_empty() {
            Affine::identity()
        } else {
            Affine::new_unchecked(self.x, self.y)
        }
    }
}

/// Affine buckets fed through batched additions; see the module docs.
pub(crate) struct BatchAdder<'a, P: MsmCurve, S: PointSource<P> + ?Sized> {
    /// The window's input points, referenced by index.
    points: &'a S,
    /// Current bucket values.
    buckets: Vec<Slot<P::BaseField>>,
    /// One bit per bucket: an addition into it is pending in this batch.
    busy: Vec<u64>,
    /// Pending additions: bucket, point, doubling.
    pending: Vec<(u32, Ref, bool)>,
    /// `prefix[k]` is the product of the norms of the first `k + 1` pending
    /// denominators (see [`MsmCurve::norm`]).
    prefix: Vec<P::NormField>,
    /// The norm of each pending denominator.
    norms: Vec<P::NormField>,
    /// Points whose bucket was busy when they arrived.
    queue: Vec<(u32, Ref)>,
    /// XYZZ side buckets for repeats; allocated on first use.
    overflow: Vec<Bucket<P>>,
    capacity: usize,
    /// When set, pending additions are recorded here and performed
    /// several at a time ([`MsmCurve::Lanes`]) instead of through
    /// `prefix`/`norms`; doublings then go to `overflow`.
    lanes: Option<P::Lanes>,
}

impl<'a, P: MsmCurve, S: PointSource<P> + ?Sized> BatchAdder<'a, P, S> {
    /// `buckets` empty buckets over `points`; flush after `capacity` pending
    /// additions; with `lanes`, through [`MsmCurve::Lanes`] where the CPU
    /// has them.
    pub(crate) fn new(points: &'a S, buckets: usize, capacity: usize, lanes: bool) -> Self {
        assert!(
            points.len() < super::points::MAX_INPUTS,
            "too many points for 32-bit refs"
        );
        assert!(
            !P::COEFF_B.is_zero(),
            "(0, 0) marks an empty bucket, so it must not be on the curve"
        );
        let capacity = capacity.max(1);
        Self {
            points,
            buckets: vec![Slot::EMPTY; buckets],
            busy: vec![0; buckets.div_ceil(64)],
            pending: Vec::with_capacity(capacity),
            prefix: Vec::with_capacity(capacity),
            norms: Vec::with_capacity(capacity),
            queue: Vec::with_capacity(capacity),
            overflow: Vec::new(),
            capacity,
            lanes: (lanes && <P::Lanes as LaneAdds<P::BaseField>>::available())
                .then(P::Lanes::default),
        }
    }

    #[inline(always)]
    fn point(&self, r: Ref) -> Affine<P> {
        self.points.get_ref(r)
    }

    #[inline(always)]
    fn is_busy(&self, b: usize) -> bool {
        self.busy[b / 64] >> (b % 64) & 1 == 1
    }

    /// Starts loading bucket `b` into cache ahead of its use: the value is
    /// not needed, so the CPU does not wait for it.
    #[inline(always)]
    pub(crate) fn touch(&self, b: usize) {
        let s = &self.buckets[b];
        // x and y: the two cache lines of a G2 bucket.
        black_box((s.x.is_zero(), s.y.is_zero()));
    }

    /// `bucket[b] += ±points[i]` (negated if `negate`).
    #[inline]
    pub(crate) fn add(&mut self, b: usize, i: usize, negate: bool) {
        let r = (i as u32) << 1 | u32::from(negate);
        if self.is_busy(b) {
            self.queue.push((b as u32, r));
        } else {
            self.schedule(b, r);
        }
        if self.pending.len() >= self.capacity || self.queue.len() >= self.capacity {
            self.flush_and_retry();
        }
    }

    /// Schedules `bucket[b] += point(r)` for a bucket that is not busy.
    #[inline(always)]
    fn schedule(&mut self, b: usize, r: Ref) {
        let p = self.point(r);
        let slot = &mut self.buckets[b];
        if slot.is_empty() {
            slot.set(&p);
            return;
        }
        let current = Affine::<P>::new_unchecked(slot.x, slot.y);
        match add_denominator(&current, &p) {
            None => *slot = Slot::EMPTY,
            Some((_, true)) if self.lanes.is_some() => {
                // Rare with distinct bases; the lanes take only x1 != x2.
                self.overflow_add(b, r);
            }
            Some((den, doubling)) => {
                match &mut self.lanes {
                    Some(lanes) => lanes.push(&current.x, &current.y, &p.x, &p.y),
                    None => push_norm::<P>(&mut self.prefix, &mut self.norms, P::norm(&den)),
                }
                self.pending.push((b as u32, r, doubling));
                self.busy[b / 64] |= 1 << (b % 64);
            }
        }
    }

    /// [`Self::flush`] through the lanes: every pending addition has
    /// `x1 != x2` (doublings went to `overflow`).
    fn flush_lanes(&mut self) {
        let Some(lanes) = &mut self.lanes else {
            return;
        };
        if self.pending.is_empty() {
            return;
        }
        lanes.run();
        for (k, &(b, _, _)) in self.pending.iter().enumerate() {
            let (x, y) = lanes.sum(k);
            let b = b as usize;
            self.buckets[b] = Slot { x, y };
            self.busy[b / 64] &= !(1 << (b % 64));
        }
        lanes.clear();
        self.pending.clear();
    }

    /// Performs all pending additions with one inversion.
    fn flush(&mut self) {
        if self.lanes.is_some() {
            return self.flush_lanes();
        }
        let Some(last) = self.prefix.last() else {
            return;
        };
        // Every norm is non-zero (see `add_denominator`), so is their product.
        let mut inv = P::norm_inverse(last).expect("non-zero product of norms");
        for k in (0..self.pending.len()).rev() {
            let (b, r, doubling) = self.pending[k];
            let b = b as usize;
            let p = self.point(r);
            let slot = &self.buckets[b];
            let current = Affine::<P>::new_unchecked(slot.x, slot.y);
            let inv_norm = peel_inverse::<P>(&mut inv, &self.prefix, &self.norms, k);
            let den = if doubling {
                current.y.double()
            } else {
                p.x - current.x
            };
            let inv_den = P::inverse_from_norm(&den, &inv_norm);
            self.buckets[b].set(&add_with_inverse(&current, &p, doubling, &inv_den));
            self.busy[b / 64] &= !(1 << (b % 64));
        }
        self.pending.clear();
        self.prefix.clear();
        self.norms.clear();
    }

    fn overflow_add(&mut self, b: usize, r: Ref) {
        if self.overflow.is_empty() {
            self.overflow = vec![Bucket::ZERO; self.buckets.len()];
        }
        let p = self.point(r);
        self.overflow[b] += &p;
    }

    /// Flushes, then reschedules queued points whose bucket is free again.
    fn flush_and_retry(&mut self) {
        self.flush();
        let mut queued = core::mem::take(&mut self.queue);
        let mut waiting = 0;
        for k in 0..queued.len() {
            let (b, r) = queued[k];
            if self.is_busy(b as usize) {
                queued[waiting] = (b, r);
                waiting += 1;
            } else {
                self.schedule(b as usize, r);
                if self.pending.len() >= self.capacity {
                    self.flush();
                }
            }
        }
        queued.truncate(waiting);
        if waiting >= self.capacity / 2 {
            // Mostly repeats of a few buckets: batching them would cost one
            // inversion per round, so accumulate them in XYZZ instead.
            for (b, r) in queued.drain(..) {
                self.overflow_add(b as usize, r);
            }
        }
        self.queue = queued;
    }

    /// Completes all additions and returns `sum_b (b + 1) * logical[b]`,
    /// where logical bucket `b` is the sum of the `copies` consecutive slots
    /// `b * copies ..`. The reduction uses `lanes` lanes (see `reduce.rs`).
    pub(crate) fn finish(mut self, copies: usize, lanes: usize) -> Bucket<P> {
        self.flush();
        while !self.queue.is_empty() {
            let queued = core::mem::take(&mut self.queue);
            for (b, r) in queued {
                if self.is_busy(b as usize) {
                    self.overflow_add(b as usize, r);
                } else {
                    self.schedule(b as usize, r);
                }
            }
            self.flush();
        }
        if copies > 1 {
            return self.finish_replicated(copies);
        }
        let buckets: Vec<Affine<P>> = self.buckets.iter().map(Slot::get).collect();
        let mut total = super::reduce::weighted_sum_affine(&buckets, lanes);
        if !self.overflow.is_empty() {
            // The weighted sum is linear in the buckets: add the side part.
            total += &super::reduce::weighted_sum(&self.overflow);
        }
        total
    }

    /// Sums each bucket's replicas pairwise (batched), then reduces.
    fn finish_replicated(self, copies: usize) -> Bucket<P> {
        let logical = self.buckets.len() / copies;
        let buckets: Vec<Affine<P>> = self.buckets.iter().map(Slot::get).collect();
        let refs: Vec<Ref> = (0..buckets.len())
            .map(|i| super::points::make_ref(i, false))
            .collect();
        let segs = vec![copies as u32; logical];
        let mut sums =
            super::pairwise::Levels::new().segment_sums(buckets.as_slice(), &refs, &segs);
        for (i, o) in self.overflow.iter().enumerate() {
            sums[i / copies] += o;
        }
        super::reduce::weighted_sum(&sums)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective};
    use ark_ec::{CurveGroup, PrimeGroup};

    fn naive(buckets: usize, points: &[G1Affine], items: &[(usize, usize, bool)]) -> G1Projective {
        let mut acc = vec![G1Projective::zero(); buckets];
        for &(b, i, neg) in items {
            if neg {
                acc[b] -= points[i];
            } else {
                acc[b] += points[i];
            }
        }
        acc.iter()
            .enumerate()
            .map(|(i, a)| *a * Fr::from((i + 1) as u64))
            .sum()
    }

    /// Both flushes (scalar, and the vector lanes where the CPU has them)
    /// must agree; returns their result.
    fn run(
        buckets: usize,
        capacity: usize,
        lanes: usize,
        points: &[G1Affine],
        items: &[(usize, usize, bool)],
    ) -> G1Projective {
        // lanes > 3 stands for "replicate every bucket (lanes - 2) times".
        let copies = if lanes > 3 { lanes - 2 } else { 1 };
        let [scalar, vector] = [false, true].map(|vector| {
            let mut adder =
                BatchAdder::<_, [G1Affine]>::new(points, buckets * copies, capacity, vector);
            for (k, &(b, i, neg)) in items.iter().enumerate() {
                let slot = b * copies + k % copies;
                adder.touch(slot);
                adder.add(slot, i, neg);
            }
            G1Projective::from(adder.finish(copies, lanes))
        });
        assert_eq!(scalar, vector, "scalar and lane flushes differ");
        scalar
    }

    fn points(n: u64) -> Vec<G1Affine> {
        let g = G1Projective::generator();
        (1..=n)
            .map(|i| (g * Fr::from(i * 7919)).into_affine())
            .collect()
    }

    #[test]
    fn conflicts_doublings_and_cancellations() {
        let pts = points(20);
        let mut items = Vec::new();
        // same bucket many times (conflicts), equal points (doubling),
        // negations (cancellation), and a cancel-then-refill.
        for i in 0..60 {
            items.push((i % 3, i % 20, i % 7 == 0));
        }
        items.extend([
            (5, 0, false),
            (5, 0, false),
            (5, 0, false),
            (6, 4, false),
            (6, 4, true),
            (6, 7, false),
            (7, 1, true),
            (7, 1, false),
        ]);
        for cap in [1, 2, 3, 8, 64] {
            for lanes in [1, 2, 3, 4, 6] {
                assert_eq!(
                    run(8, cap, lanes, &pts, &items),
                    naive(8, &pts, &items),
                    "capacity {cap} lanes {lanes}"
                );
            }
        }
    }

    #[test]
    fn all_in_one_bucket_uses_overflow_and_stays_correct() {
        let pts = points(500);
        let items: Vec<(usize, usize, bool)> = (0..500).map(|i| (0, i, false)).collect();
        assert_eq!(run(4, 16, 1, &pts, &items), naive(4, &pts, &items));
        assert_eq!(run(4, 16, 5, &pts, &items), naive(4, &pts, &items));
    }

    #[test]
    fn empty_adder_reduces_to_zero() {
        assert!(run(16, 8, 4, &[], &[]).is_zero());
    }
}
