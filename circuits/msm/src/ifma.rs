//! Eight independent BN254 affine additions at once, G1 or G2, with AVX-512
//! IFMA (the batch-affine flush's vector path, [`AddBatch`]).
//!
//! # Invariant
//!
//! [`AddBatch`] returns exactly the canonical Montgomery coordinates that
//! the scalar flush returns for the same additions (`x3 = l^2 - x1 - x2`,
//! `y3 = l (x1 - x3) - y1`, `l = (y2 - y1) / (x2 - x1)`, in `Fq` or `Fq2`),
//! and it shares one `Fq` inversion among the whole batch (for `Fq2`, of
//! the denominators' norms). The tests compare it with arkworks' point
//! addition on random points, on every batch length from 0 to 40 (the last
//! group of eight is padded) and on 300 single groups.
//!
//! # Why by hand
//!
//! Field multiplications are most of the flush, and IFMA's
//! `vpmadd52{lo,hi}uq` multiply eight 52-bit pairs per instruction: on CPUs
//! that have it (AMD Zen 4 and later, Intel Ice Lake and later) eight
//! 5-limb Montgomery products cost about as many instructions as two
//! scalar 4-limb ones. No maintained crate offers a runtime-dispatched IFMA
//! Montgomery multiplication for arkworks' `Fq`. The technique follows the
//! published descriptions (Gueron and Krasnov's radix-2^52 multiplication,
//! and the ZPrize MSM write-ups that run batch-affine additions across SIMD
//! lanes); the code is ours.
//!
//! # Representation
//!
//! Lane `j` of a vector holds element `j` of eight; an element is five
//! limbs of 52 bits (radix `2^52`, least significant first), normalised (each
//! limb below `2^52`) between operations. Montgomery form is taken with
//! `R' = 2^260`: limbs `v` stand for `v / 2^260 mod p`. Values are reduced
//! lazily: a value is only kept below `K p` for a `K` stated where it is
//! formed, always below `2^260 / p` (about 84.6), and a product of values
//! below `A p` and `B p` is below `(A B p / 2^260 + 1) p`
//! (`(a b + m p) / 2^260` with `m < 2^260`).
//!
//! arkworks keeps `x 2^256 mod p`; the same element in `R'`-form is that
//! integer times 16, which is a shift (below `16 p`). Back, [`to_words`]
//! divides by 16 modulo `p` with one 4-bit Montgomery step and subtracts
//! `p` until the result is canonical.
//!
//! This module and `field` hold the crate's only `unsafe` code: here, the
//! calls into the `#[target_feature]` routines (after the run-time check)
//! and their vector loads and stores.

#![allow(unsafe_code)]

use ark_bn254::{Fq, Fq2, FqConfig};
use ark_ff::{BigInt, MontConfig};
use core::marker::PhantomData;

/// Additions computed side by side.
pub(crate) const LANES: usize = 8;

const MASK: u64 = (1 << 52) - 1;

/// The modulus' 64-bit limbs.
const P: [u64; 4] = <FqConfig as MontConfig<4>>::MODULUS.0;

/// `-p^-1 mod 2^64` (arkworks'), whose low 52 bits are `-p^-1 mod 2^52`.
const INV: u64 = <FqConfig as MontConfig<4>>::INV;

// `16 p` (an input's bound) and `50 p` (the largest value formed) fit in
// five 52-bit limbs.
const _: () = assert!(P[3] < 1 << 62);

/// The five 52-bit limbs of the 320-bit integer `w`.
const fn split52(w: [u64; 5]) -> [u64; 5] {
    let mut l = [0u64; 5];
    let mut i = 0;
    while i < 5 {
        let (word, off) = ((52 * i) / 64, (52 * i) % 64);
        let mut v = w[word] >> off;
        if off > 12 {
            v |= w[word + 1] << (64 - off);
        }
        l[i] = v & MASK;
        i += 1;
    }
    l
}

/// `k p` in 52-bit limbs.
const fn kp(k: u64) -> [u64; 5] {
    let mut w = [0u64; 5];
    let mut carry = 0u128;
    let mut i = 0;
    while i < 4 {
        let t = P[i] as u128 * k as u128 + carry;
        w[i] = t as u64;
        carry = t >> 64;
        i += 1;
    }
    w[4] = carry as u64;
    split52(w)
}

/// The multiples of `p` the formulas add to keep differences non-negative,
/// and the two the conversion back subtracts.
const P1: [u64; 5] = kp(1);
const P2: [u64; 5] = kp(2);
const P16: [u64; 5] = kp(16);
const P32: [u64; 5] = kp(32);
const P34: [u64; 5] = kp(34);
const P5: [u64; 5] = kp(5);
const P8: [u64; 5] = kp(8);
const P21: [u64; 5] = kp(21);
const P44: [u64; 5] = kp(44);

/// Eight elements in arkworks' form: `w[i][j]` is 64-bit limb `i` of
/// element `j`.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Words([[u64; LANES]; 4]);

/// Eight elements in 52-bit limbs (`R'`-form).
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Limbs([[u64; LANES]; 5]);

/// A coordinate field the lanes handle: `Fq` (G1, one part) or `Fq2` (G2,
/// two parts, `c0 + c1 u`).
pub trait Coord: Copy {
    /// `Fq` parts per element.
    const PARTS: usize;
    /// Scratch rows kept per group between the two passes (the
    /// denominator's parts and, for `Fq2`, its norm).
    const SCRATCH: usize;
    /// Part `q`'s Montgomery limbs.
    fn part(&self, q: usize) -> &[u64; 4];
    /// The element with these parts (the first [`Self::PARTS`] are used).
    fn from_parts(parts: [[u64; 4]; 2]) -> Self;
    /// The batch's two passes.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX-512 F and IFMA; the batch's buffers hold
    /// `groups` groups.
    #[doc(hidden)]
    unsafe fn run(b: &mut AddBatch<Self>, groups: usize);
}

impl Coord for Fq {
    const PARTS: usize = 1;
    const SCRATCH: usize = 1;

    #[inline(always)]
    fn part(&self, _: usize) -> &[u64; 4] {
        &self.0.0
    }

    #[inline(always)]
    fn from_parts(parts: [[u64; 4]; 2]) -> Self {
        Fq::new_unchecked(BigInt(parts[0]))
    }

    unsafe fn run(b: &mut AddBatch<Self>, groups: usize) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as this function's contract.
        unsafe {
            avx::run_g1(b, groups)
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (b, groups);
    }
}

impl Coord for Fq2 {
    const PARTS: usize = 2;
    const SCRATCH: usize = 3;

    #[inline(always)]
    fn part(&self, q: usize) -> &[u64; 4] {
        if q == 0 { &self.c0.0.0 } else { &self.c1.0.0 }
    }

    #[inline(always)]
    fn from_parts(parts: [[u64; 4]; 2]) -> Self {
        Fq2::new(
            Fq::new_unchecked(BigInt(parts[0])),
            Fq::new_unchecked(BigInt(parts[1])),
        )
    }

    unsafe fn run(b: &mut AddBatch<Self>, groups: usize) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as this function's contract.
        unsafe {
            avx::run_g2(b, groups)
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (b, groups);
    }
}

/// A batch of independent affine additions over `F` (see the module docs).
///
/// [`push`](Self::push) records an addition, [`run`](Self::run) performs
/// all of them with one shared inversion, [`sum`](Self::sum) reads result
/// `k`. Every pushed addition needs `x1 != x2`, and no input may be the
/// identity.
pub struct AddBatch<F: Coord> {
    /// Per group of eight additions: `x1, y1, x2, y2`, each as
    /// `F::PARTS` rows of words.
    inputs: Vec<Words>,
    len: usize,
    /// Per group: `F::SCRATCH` rows (the denominators `x2 - x1`, and their
    /// norms for `Fq2`), then each lane's running product of the
    /// denominators (or norms), all in `R'`-form.
    scratch: Vec<Limbs>,
    prefix: Vec<Limbs>,
    /// Per group: `x3` and `y3`, canonical, in arkworks' form.
    out: Vec<Words>,
    _field: PhantomData<F>,
}

impl<F: Coord> Default for AddBatch<F> {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            len: 0,
            scratch: Vec::new(),
            prefix: Vec::new(),
            out: Vec::new(),
            _field: PhantomData,
        }
    }
}

/// Whether this CPU has AVX-512 F and IFMA (std caches the answer): whether
/// [`AddBatch::run`] runs here.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512ifma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl<F: Coord> AddBatch<F> {
    /// Rows of `inputs` per group.
    const ROWS: usize = 4 * F::PARTS;

    /// Additions recorded since the last [`clear`](Self::clear).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Records the addition `(x1, y1) + (x2, y2)`, which must have `x1 != x2`.
    #[inline(always)]
    pub fn push(&mut self, x1: &F, y1: &F, x2: &F, y2: &F) {
        let (g, lane) = (self.len / LANES, self.len % LANES);
        if g * Self::ROWS == self.inputs.len() {
            self.inputs.resize((g + 1) * Self::ROWS, Words::default());
        }
        let rows = &mut self.inputs[g * Self::ROWS..(g + 1) * Self::ROWS];
        for (c, v) in [x1, y1, x2, y2].into_iter().enumerate() {
            for q in 0..F::PARTS {
                for (word, limb) in rows[c * F::PARTS + q].0.iter_mut().zip(v.part(q)) {
                    word[lane] = *limb;
                }
            }
        }
        self.len += 1;
    }

    /// Performs every recorded addition.
    ///
    /// # Panics
    ///
    /// If the CPU lacks AVX-512 F or IFMA ([`available`]).
    pub fn run(&mut self) {
        if self.len == 0 {
            return;
        }
        assert!(available(), "AddBatch needs AVX-512 F and IFMA");
        // Pad the last group with a harmless addition: x2 - x1 = 1 (in
        // arkworks' form) keeps every lane's product of denominators
        // invertible; its results are never read.
        let (g, used) = (self.len / LANES, self.len % LANES);
        if used > 0 {
            let x2 = 2 * F::PARTS;
            for (r, row) in self.inputs[g * Self::ROWS..(g + 1) * Self::ROWS]
                .iter_mut()
                .enumerate()
            {
                for (i, limb) in row.0.iter_mut().enumerate() {
                    for w in &mut limb[used..] {
                        *w = u64::from(r == x2 && i == 0);
                    }
                }
            }
        }
        let groups = self.len.div_ceil(LANES);
        self.scratch.resize(groups * F::SCRATCH, Limbs::default());
        self.prefix.resize(groups, Limbs::default());
        self.out.resize(groups * 2 * F::PARTS, Words::default());
        // SAFETY: the CPU has AVX-512 F and IFMA (asserted above); the
        // buffers were just sized for `groups`.
        unsafe { F::run(self, groups) }
    }

    /// The sum of addition `k` (after [`run`](Self::run)).
    #[inline(always)]
    pub fn sum(&self, k: usize) -> (F, F) {
        let (g, lane) = (k / LANES, k % LANES);
        let rows = &self.out[g * 2 * F::PARTS..(g + 1) * 2 * F::PARTS];
        let coord = |c: usize| {
            F::from_parts(core::array::from_fn(|q| {
                let row = &rows[c * F::PARTS + q.min(F::PARTS - 1)];
                core::array::from_fn(|i| row.0[i][lane])
            }))
        };
        (coord(0), coord(1))
    }

    /// Forgets the recorded additions (keeps the buffers).
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// `1 / a_j` for eight non-zero elements, by Montgomery's trick: one
/// inversion and 21 multiplications.
fn invert_lanes(a: &[Fq; LANES]) -> [Fq; LANES] {
    let mut prefix = *a;
    for j in 1..LANES {
        prefix[j] = crate::field::mul(&prefix[j - 1], &a[j]);
    }
    let mut inv = crate::inverse::inverse(&prefix[LANES - 1])
        .expect("every lane's product of denominators is non-zero");
    let mut out = [Fq::from(0u64); LANES];
    for j in (0..LANES).rev() {
        out[j] = if j > 0 {
            crate::field::mul(&inv, &prefix[j - 1])
        } else {
            inv
        };
        inv = crate::field::mul(&inv, &a[j]);
    }
    out
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{
        AddBatch, Fq, Fq2, INV, LANES, Limbs, MASK, P1, P2, P5, P8, P16, P21, P32, P34, P44, Words,
        invert_lanes,
    };
    use ark_ff::BigInt;
    use core::arch::x86_64::*;

    /// Eight elements, one 52-bit limb per vector.
    type F8 = [__m512i; 5];

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn splat(x: u64) -> __m512i {
        _mm512_set1_epi64(x as i64)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn constant(l: &[u64; 5]) -> F8 {
        [
            splat(l[0]),
            splat(l[1]),
            splat(l[2]),
            splat(l[3]),
            splat(l[4]),
        ]
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn load(w: &[u64; LANES]) -> __m512i {
        // SAFETY: `w` is eight readable u64s (`Words` and `Limbs` rows are
        // 64-byte aligned, but the unaligned load does not rely on it).
        unsafe { _mm512_loadu_epi64(w.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn store(w: &mut [u64; LANES], v: __m512i) {
        // SAFETY: `w` is eight writable u64s.
        unsafe { _mm512_storeu_epi64(w.as_mut_ptr().cast(), v) }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn load_limbs(l: &Limbs) -> F8 {
        core::array::from_fn(|i| load(&l.0[i]))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn store_limbs(l: &mut Limbs, v: &F8) {
        for (row, x) in l.0.iter_mut().zip(v) {
            store(row, *x);
        }
    }

    /// Carries of non-negative limbs (each below `2^63`) into the next limb.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn normalise(mut t: F8) -> F8 {
        let mask = splat(MASK);
        for i in 0..4 {
            t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
            t[i] = _mm512_and_si512(t[i], mask);
        }
        t
    }

    /// Carries of signed limbs (each within `+-2^62`) into the next limb;
    /// the value itself must be non-negative.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn normalise_signed(mut t: F8) -> F8 {
        let mask = splat(MASK);
        for i in 0..4 {
            t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srai_epi64::<52>(t[i]));
            t[i] = _mm512_and_si512(t[i], mask);
        }
        t
    }

    /// `a + k - b - c` for normalised `a`, `b`, `c` and a constant `k` (a
    /// multiple of `p` making the result non-negative).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn add_sub2(a: &F8, k: &F8, b: &F8, c: &F8) -> F8 {
        normalise_signed(core::array::from_fn(|i| {
            _mm512_sub_epi64(_mm512_sub_epi64(_mm512_add_epi64(a[i], k[i]), b[i]), c[i])
        }))
    }

    /// `a + k - b`, as [`add_sub2`].
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn add_sub(a: &F8, k: &F8, b: &F8) -> F8 {
        normalise_signed(core::array::from_fn(|i| {
            _mm512_sub_epi64(_mm512_add_epi64(a[i], k[i]), b[i])
        }))
    }

    /// Montgomery product `a b / 2^260 mod p`, lazily reduced: for `a < A p`
    /// and `b < B p` (both below `2^260`) the result is below
    /// `(A B p / 2^260 + 1) p`.
    ///
    /// Schoolbook product into ten accumulators (each limb product adds its
    /// low 52 bits to one column and its high bits to the next), then five
    /// reduction rows: `m = t_i (-p^-1) mod 2^52` makes column `i` a
    /// multiple of `2^52`, whose carry moves up. No column exceeds `2^58`
    /// (at most 21 terms below `2^52` each, plus a carry).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn mul(a: &F8, b: &F8) -> F8 {
        let zero = _mm512_setzero_si512();
        let mut t = [zero; 10];
        for i in 0..5 {
            for j in 0..5 {
                t[i + j] = _mm512_madd52lo_epu64(t[i + j], a[i], b[j]);
                t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a[i], b[j]);
            }
        }
        let n0 = splat(INV & MASK);
        let p = constant(&P1);
        for i in 0..5 {
            let m = _mm512_madd52lo_epu64(zero, t[i], n0);
            for j in 0..5 {
                t[i + j] = _mm512_madd52lo_epu64(t[i + j], m, p[j]);
                t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], m, p[j]);
            }
            t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
        }
        normalise([t[5], t[6], t[7], t[8], t[9]])
    }

    /// Eight canonical arkworks elements (`x 2^256`, below `p`) to
    /// `R'`-form limbs: the integer times 16 (below `16 p`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn from_words(w: &Words) -> F8 {
        let [w0, w1, w2, w3] = core::array::from_fn(|i| load(&w.0[i]));
        let mask = splat(MASK);
        let or = |a, b| _mm512_and_si512(_mm512_or_si512(a, b), mask);
        [
            _mm512_and_si512(_mm512_slli_epi64::<4>(w0), mask),
            or(_mm512_srli_epi64::<48>(w0), _mm512_slli_epi64::<16>(w1)),
            or(_mm512_srli_epi64::<36>(w1), _mm512_slli_epi64::<28>(w2)),
            or(_mm512_srli_epi64::<24>(w2), _mm512_slli_epi64::<40>(w3)),
            _mm512_srli_epi64::<12>(w3),
        ]
    }

    /// `v - c` where that is non-negative, else `v`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn subtract_if_ge(v: &F8, c: &F8) -> F8 {
        let d = normalise_signed(core::array::from_fn(|i| _mm512_sub_epi64(v[i], c[i])));
        let keep = _mm512_cmpge_epi64_mask(d[4], _mm512_setzero_si512());
        core::array::from_fn(|i| _mm512_mask_blend_epi64(keep, v[i], d[i]))
    }

    /// `R'`-form limbs of a value below `48 p` to canonical arkworks words:
    /// `v / 16 mod p` (adding the multiple `k p`, `k < 16`, that makes the
    /// value divisible by 16, then shifting), which is below `4 p`, then two
    /// conditional subtractions.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn to_words(v: &F8, out: &mut Words) {
        let p = constant(&P1);
        let k = _mm512_and_si512(
            _mm512_madd52lo_epu64(_mm512_setzero_si512(), v[0], splat(INV & 15)),
            splat(15),
        );
        let mut t = *v;
        for i in 0..5 {
            t[i] = _mm512_madd52lo_epu64(t[i], k, p[i]);
            // k p[4] < 2^50: its high part is zero.
            if i < 4 {
                t[i + 1] = _mm512_madd52hi_epu64(t[i + 1], k, p[i]);
            }
        }
        let t = normalise(t);
        let mask = splat(MASK);
        let mut s: F8 = core::array::from_fn(|i| {
            if i < 4 {
                _mm512_or_si512(
                    _mm512_srli_epi64::<4>(t[i]),
                    _mm512_and_si512(_mm512_slli_epi64::<48>(t[i + 1]), mask),
                )
            } else {
                _mm512_srli_epi64::<4>(t[4])
            }
        });
        s = subtract_if_ge(&s, &constant(&P2));
        s = subtract_if_ge(&s, &p);
        let words = [
            _mm512_or_si512(s[0], _mm512_slli_epi64::<52>(s[1])),
            _mm512_or_si512(_mm512_srli_epi64::<12>(s[1]), _mm512_slli_epi64::<40>(s[2])),
            _mm512_or_si512(_mm512_srli_epi64::<24>(s[2]), _mm512_slli_epi64::<28>(s[3])),
            _mm512_or_si512(_mm512_srli_epi64::<36>(s[3]), _mm512_slli_epi64::<16>(s[4])),
        ];
        for (row, w) in out.0.iter_mut().zip(words) {
            store(row, w);
        }
    }

    /// One inversion for all eight lanes' running products `acc`: returns
    /// each lane's inverse in `R'`-form (below `16 p`).
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn invert(acc: &F8) -> F8 {
        let mut words = Words::default();
        to_words(acc, &mut words);
        let totals: [Fq; LANES] = core::array::from_fn(|j| {
            Fq::new_unchecked(BigInt(core::array::from_fn(|i| words.0[i][j])))
        });
        let inverses = invert_lanes(&totals);
        for (i, row) in words.0.iter_mut().enumerate() {
            for (j, w) in row.iter_mut().enumerate() {
                *w = inverses[j].0.0[i];
            }
        }
        from_words(&words)
    }

    /// G1's batch; see [`AddBatch::run`]. Bounds (in units of `p`, from
    /// the product bound in the module docs, `2^260 / p > 84`): inputs
    /// `< 16`; denominators `< 32`; running products `< 32`; the running
    /// inverse and each peeled inverse `< 16` (the last group's is the
    /// inversion's output itself); `l < 7.1`; `l^2 < 1.6`; `x3 < 33.6`;
    /// `x1 - x3 + 34 p < 50`; `y3 < 21.2`.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX-512 F and IFMA; the buffers hold `groups`
    /// groups.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn run_g1(b: &mut AddBatch<Fq>, groups: usize) {
        let (p16, p32, p34) = (constant(&P16), constant(&P32), constant(&P34));
        // Pass 1: denominators and each lane's running product.
        let mut acc = [_mm512_setzero_si512(); 5];
        for g in 0..groups {
            let rows = &b.inputs[4 * g..4 * g + 4];
            let d = add_sub(&from_words(&rows[2]), &p16, &from_words(&rows[0]));
            acc = if g == 0 { d } else { mul(&acc, &d) };
            store_limbs(&mut b.scratch[g], &d);
            store_limbs(&mut b.prefix[g], &acc);
        }
        let mut inv = invert(&acc);
        // Pass 2, last group first: peel each lane's inverse, then add.
        for g in (0..groups).rev() {
            let inv_den = if g > 0 {
                let d = mul(&inv, &load_limbs(&b.prefix[g - 1]));
                inv = mul(&inv, &load_limbs(&b.scratch[g]));
                d
            } else {
                inv
            };
            let rows = &b.inputs[4 * g..4 * g + 4];
            let [x1, y1, x2, y2] = core::array::from_fn(|c| from_words(&rows[c]));
            let lambda = mul(&add_sub(&y2, &p16, &y1), &inv_den);
            let x3 = add_sub2(&mul(&lambda, &lambda), &p32, &x1, &x2);
            let y3 = add_sub(&mul(&lambda, &add_sub(&x1, &p34, &x3)), &p16, &y1);
            let [ox, oy] = &mut b.out[2 * g..2 * g + 2] else {
                unreachable!("two output rows per group")
            };
            to_words(&x3, ox);
            to_words(&y3, oy);
        }
    }

    /// `a + b`, normalised.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn add(a: &F8, b: &F8) -> F8 {
        normalise(core::array::from_fn(|i| _mm512_add_epi64(a[i], b[i])))
    }

    /// G2's batch (`Fq2 = Fq[u] / (u^2 + 1)`); see [`AddBatch::run`]. The
    /// shared inversion runs on the norms `d0^2 + d1^2` of the
    /// denominators, and `1 / d = (d0 - d1 u) / N(d)`. Bounds per part (in
    /// units of `p`, as for G1): inputs `< 16`; denominators `< 32`; norms
    /// and running products `< 26.3`; the running inverse and each peeled
    /// inverse norm `< 16`; `1 / d`: `< 7.1` and `< 8`; `l` (Karatsuba):
    /// `< 8.7` and `< 20.4`; `l^2`: `< 11.2` and `< 6.2`; `x3 < 43.2`;
    /// `x1 - x3 + 44 p < 60`; `y3 < 39.2` (schoolbook: a Karatsuba sum of
    /// `x1 - x3` parts would pass `2^260`).
    ///
    /// # Safety
    ///
    /// As [`run_g1`].
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn run_g2(b: &mut AddBatch<Fq2>, groups: usize) {
        let (p16, p32) = (constant(&P16), constant(&P32));
        let (p5, p8, p21, p44) = (constant(&P5), constant(&P8), constant(&P21), constant(&P44));
        let mut acc = [_mm512_setzero_si512(); 5];
        for g in 0..groups {
            let rows = &b.inputs[8 * g..8 * g + 8];
            let d0 = add_sub(&from_words(&rows[4]), &p16, &from_words(&rows[0]));
            let d1 = add_sub(&from_words(&rows[5]), &p16, &from_words(&rows[1]));
            let n = add(&mul(&d0, &d0), &mul(&d1, &d1));
            acc = if g == 0 { n } else { mul(&acc, &n) };
            store_limbs(&mut b.scratch[3 * g], &d0);
            store_limbs(&mut b.scratch[3 * g + 1], &d1);
            store_limbs(&mut b.scratch[3 * g + 2], &n);
            store_limbs(&mut b.prefix[g], &acc);
        }
        let mut inv = invert(&acc);
        let zero = [_mm512_setzero_si512(); 5];
        for g in (0..groups).rev() {
            let inv_norm = if g > 0 {
                let d = mul(&inv, &load_limbs(&b.prefix[g - 1]));
                inv = mul(&inv, &load_limbs(&b.scratch[3 * g + 2]));
                d
            } else {
                inv
            };
            let (d0, d1) = (
                load_limbs(&b.scratch[3 * g]),
                load_limbs(&b.scratch[3 * g + 1]),
            );
            // 1 / d = (e0, e1) = (d0 N^-1, -d1 N^-1).
            let e0 = mul(&d0, &inv_norm);
            let e1 = add_sub(&zero, &p8, &mul(&d1, &inv_norm));
            let rows = &b.inputs[8 * g..8 * g + 8];
            let [x10, x11, y10, y11, x20, x21, y20, y21] =
                core::array::from_fn(|r| from_words(&rows[r]));
            let dy0 = add_sub(&y20, &p16, &y10);
            let dy1 = add_sub(&y21, &p16, &y11);
            // l = dy / d, Karatsuba: three products.
            let v0 = mul(&dy0, &e0);
            let v1 = mul(&dy1, &e1);
            let v2 = mul(&add(&dy0, &dy1), &add(&e0, &e1));
            let l0 = add_sub(&v0, &p5, &v1);
            let l1 = add_sub2(&v2, &p8, &v0, &v1);
            // l^2 = ((l0 + l1)(l0 - l1), 2 l0 l1).
            let s0 = mul(&add(&l0, &l1), &add_sub(&l0, &p21, &l1));
            let m = mul(&l0, &l1);
            let s1 = add(&m, &m);
            let x30 = add_sub2(&s0, &p32, &x10, &x20);
            let x31 = add_sub2(&s1, &p32, &x11, &x21);
            let t0 = add_sub(&x10, &p44, &x30);
            let t1 = add_sub(&x11, &p44, &x31);
            // y3 = l t - y1, schoolbook.
            let y30 = add_sub(&add_sub(&mul(&l0, &t0), &p16, &mul(&l1, &t1)), &p16, &y10);
            let y31 = add_sub(&add(&mul(&l0, &t1), &mul(&l1, &t0)), &p16, &y11);
            let out = &mut b.out[4 * g..4 * g + 4];
            to_words(&x30, &mut out[0]);
            to_words(&x31, &mut out[1]);
            to_words(&y30, &mut out[2]);
            to_words(&y31, &mut out[3]);
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
    use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
    use ark_ff::{Field, PrimeField, UniformRand};
    use ark_std::rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// Skips (saying so) on a CPU without IFMA: there is nothing to test.
    fn has_ifma() -> bool {
        let yes = available();
        if !yes {
            eprintln!("this CPU lacks AVX-512 IFMA: the lane routine is not used here");
        }
        yes
    }

    /// The integer a limb array stands for, as a field element (mod p).
    fn integer(l: &[u64; 5]) -> Fq {
        let base = Fq::from(1u64 << 52);
        l.iter()
            .rev()
            .fold(Fq::from(0u64), |acc, &x| acc * base + Fq::from(x))
    }

    /// Whether the limbs are normalised and stand for less than `k p`.
    fn below(l: &[u64; 5], k: u64) -> bool {
        let bound = kp(k);
        l.iter().all(|&x| x <= MASK)
            && (0..5)
                .rev()
                .map(|i| l[i].cmp(&bound[i]))
                .find(|o| o.is_ne())
                == Some(core::cmp::Ordering::Less)
    }

    /// A random normalised value below `k p`.
    fn random_below(rng: &mut ChaCha20Rng, k: u64) -> [u64; 5] {
        loop {
            let top = kp(k)[4];
            let l: [u64; 5] = core::array::from_fn(|i| {
                if i < 4 {
                    rng.r#gen::<u64>() & MASK
                } else {
                    rng.gen_range(0..=top)
                }
            });
            if below(&l, k) {
                return l;
            }
        }
    }

    /// Edge values below `k p`: 0, 1, `k p - 1`, `p - 1`, `p`, `p + 1`,
    /// all-ones limbs up to the bound.
    fn edges(k: u64) -> Vec<[u64; 5]> {
        let minus_one = |mut l: [u64; 5]| {
            let mut i = 0;
            while l[i] == 0 {
                l[i] = MASK;
                i += 1;
            }
            l[i] -= 1;
            l
        };
        let mut e = vec![
            [0; 5],
            [1, 0, 0, 0, 0],
            minus_one(kp(k)),
            minus_one(kp(1)),
            kp(1),
        ];
        let mut p1 = kp(1);
        p1[0] += 1;
        e.push(p1);
        let mut ones = [MASK; 5];
        ones[4] = kp(k)[4] - 1;
        e.push(ones);
        e.retain(|l| below(l, k));
        e
    }

    fn to_vec(l: &[[u64; 5]; LANES]) -> Limbs {
        Limbs(core::array::from_fn(|i| core::array::from_fn(|j| l[j][i])))
    }

    fn lane(l: &Limbs, j: usize) -> [u64; 5] {
        core::array::from_fn(|i| l.0[i][j])
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul8(a: &Limbs, b: &Limbs) -> Limbs {
        let mut out = Limbs::default();
        let (a, b) = (avx::load_limbs(a), avx::load_limbs(b));
        avx::store_limbs(&mut out, &avx::mul(&a, &b));
        out
    }

    /// The Montgomery product is `a b / 2^260 mod p` and keeps the stated
    /// bound, on edges and random values of every range the flush forms.
    #[test]
    fn lane_product_is_montgomerys_and_stays_in_bounds() {
        if !has_ifma() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(52);
        let r_inv = Fq::from(2u64).pow([260]).inverse().unwrap();
        for (ka, kb) in [
            (1u64, 1u64),
            (16, 32),
            (32, 32),
            (16, 16),
            (4, 50),
            (50, 16),
            (84, 4),
        ] {
            let mut xs: Vec<[u64; 5]> = edges(ka);
            let mut ys: Vec<[u64; 5]> = edges(kb);
            xs.extend((0..400).map(|_| random_below(&mut rng, ka)));
            ys.extend((0..400).map(|_| random_below(&mut rng, kb)));
            // Every edge against every edge, then random pairs.
            let mut pairs = Vec::new();
            for x in &xs[..7.min(xs.len())] {
                for y in &ys[..7.min(ys.len())] {
                    pairs.push((*x, *y));
                }
            }
            pairs.extend(xs.iter().zip(ys.iter().rev()).map(|(x, y)| (*x, *y)));
            for chunk in pairs.chunks(LANES) {
                let a: [[u64; 5]; LANES] = core::array::from_fn(|j| chunk[j % chunk.len()].0);
                let b: [[u64; 5]; LANES] = core::array::from_fn(|j| chunk[j % chunk.len()].1);
                // SAFETY: IFMA checked above.
                let c = unsafe { mul8(&to_vec(&a), &to_vec(&b)) };
                for j in 0..LANES {
                    let got = lane(&c, j);
                    assert_eq!(integer(&got), integer(&a[j]) * integer(&b[j]) * r_inv);
                    // (A B p / 2^260 + 1) p with 2^260 / p > 84.
                    let bound = (ka * kb).div_ceil(84) + 1;
                    assert!(below(&got, bound), "{ka} x {kb}: {got:x?}");
                }
            }
        }
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn round_trip(w: &Words) -> (Limbs, Words) {
        let mut l = Limbs::default();
        avx::store_limbs(&mut l, &avx::from_words(w));
        let mut back = Words::default();
        avx::to_words(&avx::load_limbs(&l), &mut back);
        (l, back)
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn canonical(l: &Limbs) -> Words {
        let mut w = Words::default();
        avx::to_words(&avx::load_limbs(l), &mut w);
        w
    }

    /// arkworks' form in is 16 times the integer (the same element with
    /// `R' = 2^260`), and back out is exact; any value below `48 p` comes
    /// back canonical and divided by 16.
    #[test]
    fn conversions_are_exact_and_canonical() {
        if !has_ifma() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let p = Fq::MODULUS;
        let mut xs: Vec<Fq> = vec![Fq::from(0u64), Fq::from(1u64), -Fq::from(1u64)];
        xs.extend([BigInt([1, 0, 0, 0]), BigInt([u64::MAX, 0, 0, 0])].map(Fq::new_unchecked));
        let mut pm1 = p;
        pm1.0[0] -= 1;
        xs.push(Fq::new_unchecked(pm1));
        xs.extend((0..200).map(|_| Fq::rand(&mut rng)));
        let sixteen = Fq::from(16u64);
        for chunk in xs.chunks(LANES) {
            let w = Words(core::array::from_fn(|i| {
                core::array::from_fn(|j| chunk[j % chunk.len()].0.0[i])
            }));
            // SAFETY: IFMA checked above.
            let (l, back) = unsafe { round_trip(&w) };
            for j in 0..LANES {
                let x = chunk[j % chunk.len()];
                let raw = Fq::from_bigint(x.0).unwrap();
                assert_eq!(integer(&lane(&l, j)), raw * sixteen);
                assert!(below(&lane(&l, j), 16));
                assert_eq!(back.0.map(|row| row[j]), x.0.0);
            }
        }
        let inv16 = sixteen.inverse().unwrap();
        let mut vs = edges(48);
        vs.extend((0..400).map(|_| random_below(&mut rng, 48)));
        for chunk in vs.chunks(LANES) {
            let v: [[u64; 5]; LANES] = core::array::from_fn(|j| chunk[j % chunk.len()]);
            // SAFETY: IFMA checked above.
            let w = unsafe { canonical(&to_vec(&v)) };
            for j in 0..LANES {
                let out = BigInt(w.0.map(|row| row[j]));
                assert!(out < p, "not canonical");
                assert_eq!(Fq::from_bigint(out).unwrap(), integer(&v[j]) * inv16);
            }
        }
    }

    /// Every batch length from 0 to 40 (so every padding of the last group),
    /// on random points, their negatives and sums that come out small; the
    /// same batch reused after `clear`.
    #[test]
    fn batches_add_like_arkworks() {
        if !has_ifma() {
            return;
        }
        check_batches::<ark_bn254::g1::Config>();
        check_batches::<ark_bn254::g2::Config>();
    }

    fn check_batches<P: SWCurveConfig>()
    where
        P::BaseField: Coord,
    {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let g = Projective::<P>::generator();
        let points: Vec<Affine<P>> = (0..80)
            .map(|_| (g * P::ScalarField::rand(&mut rng)).into_affine())
            .collect();
        let mut batch = AddBatch::<P::BaseField>::default();
        // Lengths 0 to 40, then many single groups: the last group (the
        // first one run) uses the inversion's output directly, the largest
        // inverse the formulas see.
        for len in (0..=40).chain([17, 3, 40, 1]).chain([8; 300]) {
            batch.clear();
            let mut expect = Vec::new();
            for k in 0..len {
                let a = if len == 8 {
                    (g * P::ScalarField::rand(&mut rng)).into_affine()
                } else {
                    points[(k * 7 + len) % points.len()]
                };
                let mut b = match k % 4 {
                    // b - a: the sum is b, whose y may be near p.
                    0 => (points[k] + -a).into_affine(),
                    1 => -points[k],
                    2 => (a + a).into_affine(),
                    _ => points[k + 1],
                };
                if b.is_zero() || a.x == b.x {
                    // a == points[k]: not an addition the batch takes.
                    b = points[k + 41];
                }
                assert_ne!(a.x, b.x);
                batch.push(&a.x, &a.y, &b.x, &b.y);
                expect.push((a + b).into_affine());
            }
            assert_eq!(batch.len(), len);
            batch.run();
            for (k, e) in expect.iter().enumerate() {
                let (x, y) = batch.sum(k);
                assert_eq!((x, y), e.xy().unwrap(), "length {len}, addition {k}");
            }
        }
    }
}
