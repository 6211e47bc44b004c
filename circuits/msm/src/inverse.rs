//! Inversion in BN254's `Fq` by Bernstein and Yang's "safegcd" divsteps, in
//! the variable-time form (62 divsteps per round on the low word, skipping
//! runs of zero bits and cancelling several bits at once).
//!
//! # Invariant
//!
//! [`inverse`] returns exactly what ark-ff's `Field::inverse` returns on the
//! same element: `None` for zero, otherwise the canonical Montgomery form of
//! `1 / a`. The tests compare the two on edge and random elements.
//!
//! # Why by hand
//!
//! Each batch of affine additions in the MSM shares one inversion, and ark-ff
//! 0.6 inverts with the binary extended Euclidean algorithm: about 8 us
//! here, 6-7% of a G1 MSM. crypto-bigint's safegcd (measured: 6.0-6.7 us
//! variable-time) is barely faster and not an arkworks type; no maintained
//! crate offers a fast inversion of arkworks' `Fq`. Written from the paper
//! (<https://eprint.iacr.org/2019/266>) and the divstep analysis in
//! <https://github.com/sipa/safegcd-bounds>.
//!
//! # How
//!
//! With `f = p` and `g = x` (the Montgomery form `a R`, read as an integer),
//! each round computes the matrix `T` of 62 divsteps from the low bits of
//! `f` and `g` alone, then applies it to the full values: `(f, g) <- T (f,
//! g) / 2^62` (exact), and `(d, e) <- T (d, e) / 2^62 mod p`, which keeps `f
//! = d x / R^2` and `g = e x / R^2` mod `p` (they start as `d = 0` and `e =
//! R^2`). When `g` reaches zero, `f = +-gcd(p, x) = +-1`, so `+-d = R^2 / x
//! = R / a`: the Montgomery form of `1 / a`, with no final multiplication.
//!
//! Numbers are five signed 62-bit limbs (`2^310`, room for the `d, e`
//! bound below). Timing depends on the input, as ark-ff's binary algorithm
//! does; the MSM is not constant-time anyway (bucket accesses follow the
//! scalars' digits), as arkworks' is not.

use crate::uint;
use ark_bn254::{Fq, FqConfig};
use ark_ff::{BigInt, Field, MontConfig, Zero};

const M62: u64 = u64::MAX >> 2;

/// A signed integer as `l[0] + l[1] 2^62 + ... + l[4] 2^248`: the low four
/// limbs in `[0, 2^62)`, the top one signed.
type Signed62 = [i64; 5];

const P: [u64; 4] = <FqConfig as MontConfig<4>>::MODULUS.0;
const P62: Signed62 = to_signed62(&P);

/// `p^-1 mod 2^62` (Newton's iteration doubles the correct low bits; `p`
/// is its own inverse mod 8).
const P_INV62: u64 = {
    let mut inv = P[0];
    let mut k = 0;
    while k < 5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(P[0].wrapping_mul(inv)));
        k += 1;
    }
    inv & M62
};
const _: () = assert!(P[0].wrapping_mul(P_INV62) & M62 == 1);

/// `R^2 mod p`, the starting `e`.
const R2: [u64; 4] = <FqConfig as MontConfig<4>>::R2.0;

/// More rounds than any input needs (safegcd-bounds: at most 741 divsteps
/// for 256-bit inputs, 12 rounds of 62); past it we fall back to ark-ff.
const MAX_ROUNDS: usize = 16;

const fn to_signed62(w: &[u64; 4]) -> Signed62 {
    [
        (w[0] & M62) as i64,
        ((w[0] >> 62 | w[1] << 2) & M62) as i64,
        ((w[1] >> 60 | w[2] << 4) & M62) as i64,
        ((w[2] >> 58 | w[3] << 6) & M62) as i64,
        (w[3] >> 56) as i64,
    ]
}

/// `1 / a` in `Fq`, or `None` for zero.
pub(crate) fn inverse(a: &Fq) -> Option<Fq> {
    if a.is_zero() {
        return None;
    }
    let mut f = P62;
    let mut g = to_signed62(&a.0.0);
    let mut d: Signed62 = [0; 5];
    let mut e = to_signed62(&R2);
    let mut eta: i64 = -1;
    for _ in 0..MAX_ROUNDS {
        let t = divsteps_62(&mut eta, f[0] as u64, g[0] as u64);
        update_de(&mut d, &mut e, &t);
        update_fg(&mut f, &mut g, &t);
        if g == [0; 5] {
            // f = +-1 since a != 0 and p is prime.
            const MINUS_ONE: Signed62 = [M62 as i64, M62 as i64, M62 as i64, M62 as i64, -1];
            debug_assert!(f == [1, 0, 0, 0, 0] || f == MINUS_ONE);
            let negative = f[4] < 0;
            return Some(Fq::new_unchecked(BigInt(normalize(d, negative))));
        }
    }
    // Unreachable by the divstep bound; kept so that a bound mistake costs
    // time, not a wrong result.
    a.inverse()
}

/// The transition matrix `[u v; q r]` (scaled by `2^62`) of 62 divsteps on
/// `f` and `g` (their low 64 bits; `f` odd), updating `eta = -delta`.
///
/// Invariant at every point: with `i` divsteps left, the current `f` and
/// `g` satisfy `f 2^(62 - i) = u f0 + v g0` and `g 2^(62 - i) = q f0 + r
/// g0`, and `|u| + |v|, |q| + |r| <= 2^(62 - i)` after each shift, so the
/// entries fit an `i64` at the end.
fn divsteps_62(eta: &mut i64, mut f: u64, mut g: u64) -> [i64; 4] {
    let (mut u, mut v, mut q, mut r) = (1u64, 0u64, 0u64, 1u64);
    let mut i: u32 = 62;
    loop {
        // Drop g's trailing zeros (at most the steps left): g halves, so
        // f's row doubles to keep the invariant.
        let zeros = (g | (u64::MAX << i)).trailing_zeros();
        g >>= zeros;
        u <<= zeros;
        v <<= zeros;
        *eta -= i64::from(zeros);
        i -= zeros;
        if i == 0 {
            break;
        }
        // Now f and g are both odd.
        let w = if *eta < 0 {
            // delta > 0: swap, negating the old f, as the divstep does.
            *eta = -*eta;
            (f, g) = (g, f.wrapping_neg());
            (u, v, q, r) = (q, r, u.wrapping_neg(), v.wrapping_neg());
            // Cancel up to six bits of g: f (f^2 - 2) is -1/f mod 64 for odd
            // f (one Newton step from f = 1/f mod 8).
            let limit = (*eta as u32 + 1).min(i);
            let m = (u64::MAX >> (64 - limit)) & 63;
            f.wrapping_mul(g)
                .wrapping_mul(f.wrapping_mul(f).wrapping_sub(2))
                & m
        } else {
            // Up to four bits: f + ((f + 1) & 4) * 2 is 1/f mod 16.
            let limit = (*eta as u32 + 1).min(i);
            let m = (u64::MAX >> (64 - limit)) & 15;
            let inv = f.wrapping_add((f.wrapping_add(1) & 4) << 1);
            inv.wrapping_neg().wrapping_mul(g) & m
        };
        // g += w f clears g's low `limit` bits.
        g = g.wrapping_add(f.wrapping_mul(w));
        q = q.wrapping_add(u.wrapping_mul(w));
        r = r.wrapping_add(v.wrapping_mul(w));
    }
    [u as i64, v as i64, q as i64, r as i64]
}

/// `(f, g) <- T (f, g) / 2^62`, exact by the construction of `T`.
fn update_fg(f: &mut Signed62, g: &mut Signed62, t: &[i64; 4]) {
    let [u, v, q, r] = t.map(i128::from);
    let mut cf = u * f[0] as i128 + v * g[0] as i128;
    let mut cg = q * f[0] as i128 + r * g[0] as i128;
    debug_assert!(cf as u64 & M62 == 0 && cg as u64 & M62 == 0);
    cf >>= 62;
    cg >>= 62;
    for j in 1..5 {
        cf += u * f[j] as i128 + v * g[j] as i128;
        cg += q * f[j] as i128 + r * g[j] as i128;
        f[j - 1] = (cf as u64 & M62) as i64;
        g[j - 1] = (cg as u64 & M62) as i64;
        cf >>= 62;
        cg >>= 62;
    }
    f[4] = cf as i64;
    g[4] = cg as i64;
}

/// `(d, e) <- (T (d, e) + (md, me) p) / 2^62`, with `md, me < 2^62` chosen
/// so that the division is exact: `T (d, e) / 2^62 mod p`.
///
/// Bound: `|u| + |v| <= 2^62`, so `|d'| < max(|d|, |e|) + p`. Starting
/// below `p`, after at most [`MAX_ROUNDS`] rounds `|d|, |e| < 17 p < 2^259`,
/// within the limbs' `2^309`.
fn update_de(d: &mut Signed62, e: &mut Signed62, t: &[i64; 4]) {
    let [u, v, q, r] = t.map(i128::from);
    let mut cd = u * d[0] as i128 + v * e[0] as i128;
    let mut ce = q * d[0] as i128 + r * e[0] as i128;
    let md = (cd as u64).wrapping_mul(P_INV62).wrapping_neg() & M62;
    let me = (ce as u64).wrapping_mul(P_INV62).wrapping_neg() & M62;
    let (md, me) = (i128::from(md), i128::from(me));
    cd += md * P62[0] as i128;
    ce += me * P62[0] as i128;
    debug_assert!(cd as u64 & M62 == 0 && ce as u64 & M62 == 0);
    cd >>= 62;
    ce >>= 62;
    for j in 1..5 {
        cd += u * d[j] as i128 + v * e[j] as i128 + md * P62[j] as i128;
        ce += q * d[j] as i128 + r * e[j] as i128 + me * P62[j] as i128;
        d[j - 1] = (cd as u64 & M62) as i64;
        e[j - 1] = (ce as u64 & M62) as i64;
        cd >>= 62;
        ce >>= 62;
    }
    d[4] = cd as i64;
    e[4] = ce as i64;
}

/// `+-d mod p` in `[0, p)`, as four 64-bit limbs.
fn normalize(d: Signed62, negate: bool) -> [u64; 4] {
    // Signed62 -> i128 pieces is awkward; go through a 5-limb two's
    // complement value in 64-bit words instead (d < 2^259 in magnitude).
    let mut w = to_words(&d);
    if negate {
        w = uint::neg(&w);
    }
    let p5 = [P[0], P[1], P[2], P[3], 0];
    // |d| < 17p: add or subtract p at most 17 times.
    while (w[4] as i64) < 0 {
        w = uint::add(&w, &p5);
    }
    while uint::geq(&w, &p5) {
        w = uint::sub(&w, &p5);
    }
    [w[0], w[1], w[2], w[3]]
}

/// Five signed 62-bit limbs to a five-word two's complement integer.
fn to_words(d: &Signed62) -> [u64; 5] {
    let mut out = [0u64; 5];
    let mut acc: i128 = 0;
    let mut bits = 0;
    let mut k = 0;
    for &limb in d {
        acc += (limb as i128) << bits;
        bits += 62;
        while bits >= 64 && k < 5 {
            out[k] = acc as u64;
            acc >>= 64;
            bits -= 64;
            k += 1;
        }
    }
    while k < 5 {
        out[k] = acc as u64;
        acc >>= 64;
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger, One, PrimeField, UniformRand};
    use ark_std::rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn check(a: &Fq) {
        assert_eq!(inverse(a), a.inverse(), "{a}");
    }

    #[test]
    fn equals_arkworks_on_edges() {
        let mut edges = vec![
            Fq::zero(),
            Fq::one(),
            -Fq::one(),
            Fq::from(2u64),
            -Fq::from(2u64),
        ];
        // Montgomery forms that are small or near p, and powers of two.
        for k in 0..254 {
            let two_k = Fq::from(2u64).pow([k]);
            edges.extend([two_k, -two_k, two_k + Fq::one(), two_k - Fq::one()]);
            let mut raw = BigInt([0u64; 4]);
            raw.0[k as usize / 64] = 1 << (k % 64);
            if raw < Fq::MODULUS {
                edges.push(Fq::new_unchecked(raw));
                let mut below = Fq::MODULUS;
                below.sub_with_borrow(&raw);
                edges.push(Fq::new_unchecked(below));
            }
        }
        for small in 1..64u64 {
            edges.push(Fq::new_unchecked(BigInt([small, 0, 0, 0])));
            edges.push(Fq::new_unchecked(BigInt([P[0] - small, P[1], P[2], P[3]])));
        }
        for a in &edges {
            check(a);
        }
    }

    #[test]
    fn equals_arkworks_on_random_elements() {
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        for _ in 0..100_000 {
            check(&Fq::rand(&mut rng));
        }
    }

    #[test]
    fn signed62_round_trips_and_bounds_hold() {
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        for _ in 0..1000 {
            let a = Fq::rand(&mut rng);
            let w = to_words(&to_signed62(&a.0.0));
            assert_eq!(&w[..4], &a.0.0[..]);
            assert_eq!(w[4], 0);
        }
        // Matrices from divsteps stay within the i64 bound the updates use.
        let mut eta = -1;
        for _ in 0..1000 {
            let a = Fq::rand(&mut rng);
            let t = divsteps_62(&mut eta, P[0] | 1, a.0.0[0]);
            assert!(t[0].unsigned_abs() + t[1].unsigned_abs() <= 1 << 62);
            assert!(t[2].unsigned_abs() + t[3].unsigned_abs() <= 1 << 62);
        }
    }
}
