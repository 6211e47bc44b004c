//! Sorting scalars by size, so that each kind takes the cheapest path.
//!
//! A Groth16 witness is mostly bits and small integers, and some of its
//! "small" values are negative (`r - s` for small `s`). Each scalar, reduced
//! mod `r`, is tagged with the narrowest of these classes that holds `s` or
//! `r - s` (the latter by negating the base, which is free):
//! one (tree sum of points), up to 8, 16, 32 or 64 bits (bucket method on
//! short magnitudes), or full width (GLV + bucket method). Zero scalars and
//! identity bases contribute nothing and are dropped here, so no later stage
//! ever sees the identity as an input point.

use super::parallel;
use super::points::{MAX_INPUTS, Ref, make_ref};
use crate::uint::{self, U256};
use ark_ec::{
    AffineRepr,
    short_weierstrass::{Affine, SWCurveConfig},
};

/// Which path a scalar takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Zero scalar or identity base.
    Skip,
    /// Magnitude one.
    One,
    /// Magnitude of at most this many bits (8, 16, 32 or 64).
    Small(u32),
    /// Neither `s` nor `r - s` fits in 64 bits.
    Full,
}

/// Bit widths of the small classes, narrowest first.
pub(crate) const SMALL_WIDTHS: [u32; 4] = [8, 16, 32, 64];

/// A scalar's class, sign and (for non-full classes) magnitude.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    pub(crate) class: Class,
    /// Use `r - s`: the base is negated.
    pub(crate) negate: bool,
    pub(crate) magnitude: u64,
}

/// `k mod r` for any 256-bit `k` (at most five subtractions since r > 2^253
/// for the curves we target; the loop is general anyway).
#[inline]
pub(crate) fn reduce(k: &U256, r: &U256) -> U256 {
    let mut k = *k;
    while uint::geq(&k, r) {
        k = uint::sub(&k, r);
    }
    k
}

fn class_of(bits: u32) -> Class {
    match bits {
        0 => Class::Skip,
        1 => Class::One,
        _ => Class::Small(
            *SMALL_WIDTHS
                .iter()
                .find(|&&w| bits <= w)
                .expect("caller checked bits <= 64"),
        ),
    }
}

/// The tag of a magnitude known to fit in 64 bits.
#[inline(always)]
fn small(m: u64, negate: bool) -> Tag {
    Tag {
        class: class_of(64 - m.leading_zeros()),
        negate,
        magnitude: m,
    }
}

/// Tags one (base, scalar) pair; `r` is the scalar field modulus.
#[inline]
pub(crate) fn classify<P: SWCurveConfig>(base: &Affine<P>, scalar: &U256, r: &U256) -> Tag {
    if base.is_zero() {
        return small(0, false);
    }
    // Common case first: a witness value below 2^64 (certainly below r).
    if scalar[1] | scalar[2] | scalar[3] == 0 {
        return small(scalar[0], false);
    }
    let k = if uint::geq(scalar, r) {
        reduce(scalar, r)
    } else {
        *scalar
    };
    if k[1] | k[2] | k[3] == 0 {
        return small(k[0], false);
    }
    let neg = uint::sub(r, &k);
    if neg[1] | neg[2] | neg[3] == 0 {
        return small(neg[0], true);
    }
    Tag {
        class: Class::Full,
        negate: false,
        magnitude: 0,
    }
}

/// The inputs sorted into paths, as refs into the bases (`index << 1 |
/// negate`, see `points.rs`): no base is copied here.
pub(crate) struct Partition {
    /// Scalar +-1.
    pub(crate) ones: Vec<Ref>,
    /// For each width in [`SMALL_WIDTHS`]: refs and magnitudes.
    pub(crate) small: Vec<(Vec<Ref>, Vec<u64>)>,
    /// Full-width scalars (never negated).
    pub(crate) full: Vec<Ref>,
}

/// Index of a class in per-class tables: ones, the small widths, full.
const CLASSES: usize = SMALL_WIDTHS.len() + 2;

fn slot(class: Class) -> Option<usize> {
    match class {
        Class::Skip => None,
        Class::One => Some(0),
        Class::Small(w) => SMALL_WIDTHS.iter().position(|&x| x == w).map(|k| k + 1),
        Class::Full => Some(CLASSES - 1),
    }
}

/// Cuts `v` into consecutive pieces of the given lengths.
fn cut<T>(mut v: &mut [T], lengths: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    let mut out = Vec::new();
    for len in lengths {
        let (head, tail) = core::mem::take(&mut v).split_at_mut(len);
        out.push(head);
        v = tail;
    }
    out
}

/// One input chunk's pieces of the output vectors.
struct Share<'a> {
    refs: Vec<&'a mut [Ref]>,
    mags: Vec<&'a mut [u64]>,
}

/// Classifies every pair and lists each class. Two parallel passes over
/// input chunks: count, then classify again and write into exactly sized
/// outputs (classifying twice is cheaper than storing tags). With
/// `small_paths == false` every non-zero scalar goes to the full-width path.
pub(crate) fn partition<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalar: impl Fn(usize) -> U256 + Sync,
    r: &U256,
    small_paths: bool,
) -> Partition {
    let n = bases.len();
    assert!(n < MAX_INPUTS, "too many inputs for 32-bit refs");
    let tag = |i: usize| {
        let mut t = classify(&bases[i], &scalar(i), r);
        if !small_paths && t.class != Class::Skip {
            t = Tag {
                class: Class::Full,
                negate: false,
                magnitude: 0,
            };
        }
        t
    };
    let chunk = n.div_ceil(parallel::threads() * 4).max(4096);
    let chunks = n.div_ceil(chunk);
    let range = |c: usize| c * chunk..((c + 1) * chunk).min(n);
    let counts: Vec<[usize; CLASSES]> = parallel::map_indices(chunks, |c| {
        let mut k = [0usize; CLASSES];
        for i in range(c) {
            if let Some(s) = slot(tag(i).class) {
                k[s] += 1;
            }
        }
        k
    });
    let total = |s: usize| counts.iter().map(|k| k[s]).sum::<usize>();
    let mut refs: Vec<Vec<Ref>> = (0..CLASSES).map(|s| vec![0; total(s)]).collect();
    // Magnitudes only for the small classes (slots 1..=SMALL_WIDTHS.len()).
    let mut mags: Vec<Vec<u64>> = (0..CLASSES)
        .map(|s| {
            let small = s >= 1 && s <= SMALL_WIDTHS.len();
            vec![0; if small { total(s) } else { 0 }]
        })
        .collect();
    {
        let mut ref_pieces: Vec<_> = refs
            .iter_mut()
            .enumerate()
            .map(|(s, v)| cut(v, counts.iter().map(move |k| k[s])).into_iter())
            .collect();
        let mut mag_pieces: Vec<_> = mags
            .iter_mut()
            .enumerate()
            .map(|(s, v)| {
                let lens: Vec<usize> = if v.is_empty() {
                    vec![0; chunks]
                } else {
                    counts.iter().map(|k| k[s]).collect()
                };
                cut(v, lens.into_iter()).into_iter()
            })
            .collect();
        let shares: Vec<(usize, Share)> = (0..chunks)
            .map(|c| {
                let share = Share {
                    refs: ref_pieces
                        .iter_mut()
                        .map(|it| it.next().expect("piece"))
                        .collect(),
                    mags: mag_pieces
                        .iter_mut()
                        .map(|it| it.next().expect("piece"))
                        .collect(),
                };
                (c, share)
            })
            .collect();
        parallel::for_each_owned(shares, |(c, mut share)| {
            let mut at = [0usize; CLASSES];
            for i in range(c) {
                let t = tag(i);
                let Some(s) = slot(t.class) else { continue };
                share.refs[s][at[s]] = make_ref(i, t.negate);
                if let Some(m) = share.mags[s].get_mut(at[s]) {
                    *m = t.magnitude;
                }
                at[s] += 1;
            }
        });
    }
    let full = refs.pop().expect("full class");
    let ones = refs.remove(0);
    mags.pop();
    mags.remove(0);
    Partition {
        ones,
        small: refs.into_iter().zip(mags).collect(),
        full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::G1Affine;
    use ark_ec::AffineRepr;

    #[test]
    fn classes_cover_sizes_and_negations() {
        let r = crate::msm::glv::limbs4(&<ark_bn254::Fr as ark_ff::PrimeField>::MODULUS).unwrap();
        let g = G1Affine::generator();
        let t = |k: U256| classify(&g, &k, &r);
        assert_eq!(t([0; 4]).class, Class::Skip);
        assert_eq!(t(r).class, Class::Skip);
        assert_eq!(t([1, 0, 0, 0]).class, Class::One);
        assert_eq!(t([255, 0, 0, 0]).class, Class::Small(8));
        assert_eq!(t([256, 0, 0, 0]).class, Class::Small(16));
        assert_eq!(t([u64::MAX, 0, 0, 0]).class, Class::Small(64));
        assert_eq!(t([0, 1, 0, 0]).class, Class::Full);
        let minus_one = uint::sub(&r, &[1, 0, 0, 0]);
        assert_eq!(
            t(minus_one),
            Tag {
                class: Class::One,
                negate: true,
                magnitude: 1
            }
        );
        let minus_300 = uint::sub(&r, &[300, 0, 0, 0]);
        assert_eq!(t(minus_300).magnitude, 300);
        assert!(t(minus_300).negate);
        // r + 5 is 5 mod r
        assert_eq!(t(uint::add(&r, &[5, 0, 0, 0])).magnitude, 5);
        assert_eq!(
            classify(&G1Affine::identity(), &[7, 0, 0, 0], &r).class,
            Class::Skip
        );
    }
}
