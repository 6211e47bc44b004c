//! Bucket reduction: `sum_b (b + 1) * bucket[b]`.
//!
//! The textbook form walks the buckets from the top keeping a running sum
//! (`running += bucket; total += running`): two additions per bucket, each
//! depending on the previous one, so they cannot share inversions.
//!
//! [`weighted_sum_affine`] cuts the buckets into `K` blocks ("lanes") of
//! length `L` and runs the walk in all lanes at once: step `t` does the
//! `K` independent additions `running_j += bucket[jL + t]`, then the `K`
//! additions `total_j += running_j`, each step as one batch of affine
//! additions with a single inversion. With local weights `t + 1`,
//!
//! `sum_b (b + 1) bucket[b] = sum_j total_j + L * sum_j j * running_j`,
//!
//! and the last term is a `K`-bucket weighted sum done in XYZZ. Two batched
//! affine additions per bucket cost well under the two XYZZ additions of
//! the textbook walk, which lets the planner afford wider windows.

use super::batch_affine::{add_denominator, add_with_inverse, peel_inverse, push_norm};
use super::curve::MsmCurve;
use ark_ec::{
    AffineRepr,
    short_weierstrass::{Affine, Bucket, SWCurveConfig},
};

/// Textbook running-sum reduction over XYZZ buckets.
pub(crate) fn weighted_sum<P: SWCurveConfig>(buckets: &[Bucket<P>]) -> Bucket<P> {
    let mut running = Bucket::<P>::ZERO;
    let mut total = Bucket::<P>::ZERO;
    for b in buckets.iter().rev() {
        running += b;
        total += &running;
    }
    total
}

/// Textbook running-sum reduction over affine buckets (identity = empty).
fn weighted_sum_mixed<P: SWCurveConfig>(buckets: &[Affine<P>]) -> Bucket<P> {
    let mut running = Bucket::<P>::ZERO;
    let mut total = Bucket::<P>::ZERO;
    // Empty buckets at the top add nothing; skip them.
    let top = buckets
        .iter()
        .rposition(|b| !b.is_zero())
        .map_or(0, |i| i + 1);
    for b in buckets[..top].iter().rev() {
        running += b;
        total += &running;
    }
    total
}

/// `sum_b (b + 1) * buckets[b]` for affine buckets, using `lanes` lanes
/// (1 means the textbook walk).
pub(crate) fn weighted_sum_affine<P: MsmCurve>(buckets: &[Affine<P>], lanes: usize) -> Bucket<P> {
    let k = lanes.clamp(1, buckets.len().max(1));
    if k == 1 {
        return weighted_sum_mixed(buckets);
    }
    let l = buckets.len().div_ceil(k);
    let mut running = vec![Affine::<P>::identity(); k];
    let mut total = vec![Affine::<P>::identity(); k];
    let mut scratch = LaneScratch::new(k);
    for t in (0..l).rev() {
        scratch.add_lanes(&mut running, |j| buckets.get(j * l + t).copied());
        scratch.add_lanes(&mut total, |j| Some(running[j]));
    }
    let mut sum_totals = Bucket::<P>::ZERO;
    for p in &total {
        sum_totals += p;
    }
    // sum_j j * running_j, then times L.
    let mut run = Bucket::<P>::ZERO;
    let mut weighted = Bucket::<P>::ZERO;
    for p in running[1..].iter().rev() {
        run += p;
        weighted += &run;
    }
    sum_totals += &mul_small(weighted, l);
    sum_totals
}

/// `p * m` for a small `m` by double-and-add.
fn mul_small<P: SWCurveConfig>(p: Bucket<P>, m: usize) -> Bucket<P> {
    let mut acc = Bucket::<P>::ZERO;
    for bit in (0..usize::BITS - m.leading_zeros()).rev() {
        acc.double_in_place();
        if m >> bit & 1 == 1 {
            acc += &p;
        }
    }
    acc
}

/// Buffers for one batched step over all lanes.
struct LaneScratch<P: MsmCurve> {
    /// Running products of the denominators' norms (see `batch_affine.rs`).
    prefix: Vec<P::NormField>,
    norms: Vec<P::NormField>,
    /// Lane and doubling flag of each batched addition.
    kept: Vec<(u32, bool)>,
}

impl<P: MsmCurve> LaneScratch<P> {
    fn new(k: usize) -> Self {
        Self {
            prefix: Vec::with_capacity(k),
            norms: Vec::with_capacity(k),
            kept: Vec::with_capacity(k),
        }
    }

    /// `dst[j] += src(j)` for every lane `j` (`None` or identity: no-op).
    fn add_lanes(&mut self, dst: &mut [Affine<P>], src: impl Fn(usize) -> Option<Affine<P>>) {
        self.prefix.clear();
        self.norms.clear();
        self.kept.clear();
        for (j, d) in dst.iter_mut().enumerate() {
            let Some(s) = src(j).filter(|s| !s.is_zero()) else {
                continue;
            };
            if d.is_zero() {
                *d = s;
                continue;
            }
            match add_denominator(d, &s) {
                None => *d = Affine::identity(),
                Some((den, dbl)) => {
                    push_norm::<P>(&mut self.prefix, &mut self.norms, P::norm(&den));
                    self.kept.push((j as u32, dbl));
                }
            }
        }
        let Some(last) = self.prefix.last() else {
            return;
        };
        let mut inv = P::norm_inverse(last).expect("non-zero product of norms");
        for k in (0..self.kept.len()).rev() {
            let (j, dbl) = self.kept[k];
            let j = j as usize;
            let s = src(j).expect("kept lanes have a source");
            let d = dst[j];
            let inv_norm = peel_inverse::<P>(&mut inv, &self.prefix, &self.norms, k);
            let den = add_denominator(&d, &s).expect("kept lanes do not cancel").0;
            let inv_den = P::inverse_from_norm(&den, &inv_norm);
            dst[j] = add_with_inverse(&d, &s, dbl, &inv_den);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective};
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::Zero;

    fn naive(buckets: &[G1Affine]) -> G1Projective {
        buckets
            .iter()
            .enumerate()
            .map(|(i, b)| *b * Fr::from((i + 1) as u64))
            .sum()
    }

    #[test]
    fn lanes_agree_with_textbook_walk() {
        let g = G1Projective::generator();
        let mut buckets: Vec<G1Affine> = (0..150u64)
            .map(|i| (g * Fr::from(i * i + 1)).into_affine())
            .collect();
        // empty buckets, equal buckets (doublings in the running sums) and
        // buckets that cancel a running sum.
        buckets[3] = G1Affine::identity();
        buckets[149] = G1Affine::identity();
        buckets[10] = buckets[11];
        buckets[40] = -buckets[41];
        buckets[100] = G1Affine::identity();
        let expect = naive(&buckets);
        for lanes in [1usize, 2, 3, 7, 16, 149, 150, 500] {
            let got: G1Projective = weighted_sum_affine(&buckets, lanes).into();
            assert_eq!(got, expect, "lanes {lanes}");
        }
        let xyzz: Vec<Bucket<ark_bn254::g1::Config>> =
            buckets.iter().map(|b| Bucket::from(*b)).collect();
        assert_eq!(G1Projective::from(weighted_sum(&xyzz)), expect);
    }

    #[test]
    fn empty_and_all_identity_buckets() {
        assert!(G1Projective::from(weighted_sum_affine::<ark_bn254::g1::Config>(&[], 4)).is_zero());
        let empty = vec![G1Affine::identity(); 64];
        assert!(G1Projective::from(weighted_sum_affine(&empty, 8)).is_zero());
    }

    #[test]
    fn small_multiples() {
        let g = Bucket::<ark_bn254::g1::Config>::from(G1Affine::generator());
        for m in [0usize, 1, 2, 3, 31, 64, 1000] {
            assert_eq!(
                G1Projective::from(mul_small(g, m)),
                G1Projective::generator() * Fr::from(m as u64)
            );
        }
    }
}
