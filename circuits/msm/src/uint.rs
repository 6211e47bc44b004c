//! Fixed-width integer helpers on little-endian `u64` limbs.
//!
//! The GLV split needs a handful of wide multiplications and wrapping
//! (two's complement, mod 2^256) sums; the inversion and the lazily reduced
//! `Fq2` products need the same sums on 5 and 8 limbs. Going through a
//! general big-integer crate would allocate per scalar; these helpers stay
//! on the stack.

pub(crate) type U256 = [u64; 4];

/// Full 256 x 256 -> 512-bit product (`const`, for constants such as `p^2`).
#[inline]
pub(crate) const fn mul_wide(a: &U256, b: &U256) -> [u64; 8] {
    let mut out = [0u64; 8];
    let mut i = 0;
    while i < 4 {
        let mut carry = 0u128;
        let mut j = 0;
        while j < 4 {
            let t = (a[i] as u128) * (b[j] as u128) + (out[i + j] as u128) + carry;
            out[i + j] = t as u64;
            carry = t >> 64;
            j += 1;
        }
        out[i + 4] = carry as u64;
        i += 1;
    }
    out
}

/// `floor(a * b / 2^256)`.
#[inline]
pub(crate) fn mul_hi(a: &U256, b: &U256) -> U256 {
    let w = mul_wide(a, b);
    [w[4], w[5], w[6], w[7]]
}

/// `a * b mod 2^256` (valid for two's-complement operands as well).
#[inline]
pub(crate) fn mul_lo(a: &U256, b: &U256) -> U256 {
    let mut out = [0u64; 4];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..(4 - i) {
            let t = u128::from(a[i]) * u128::from(b[j]) + u128::from(out[i + j]) + carry;
            out[i + j] = t as u64;
            carry = t >> 64;
        }
    }
    out
}

/// `a + b mod 2^(64 N)`, plus whether a carry left the top limb.
#[inline]
pub(crate) fn add_carry<const N: usize>(a: &[u64; N], b: &[u64; N]) -> ([u64; N], bool) {
    let mut out = [0u64; N];
    let mut carry = false;
    for i in 0..N {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        out[i] = s2;
        carry = c1 | c2;
    }
    (out, carry)
}

/// `a + b mod 2^(64 N)`.
#[inline]
pub(crate) fn add<const N: usize>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    add_carry(a, b).0
}

/// `a - b mod 2^(64 N)`, plus whether a borrow occurred (`a < b`).
#[inline]
pub(crate) fn sub_borrow<const N: usize>(a: &[u64; N], b: &[u64; N]) -> ([u64; N], bool) {
    let mut out = [0u64; N];
    let mut borrow = false;
    for i in 0..N {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        out[i] = d2;
        borrow = b1 | b2;
    }
    (out, borrow)
}

/// `a - b mod 2^(64 N)`.
#[inline]
pub(crate) fn sub<const N: usize>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    sub_borrow(a, b).0
}

/// `-a mod 2^(64 N)`.
#[inline]
pub(crate) fn neg<const N: usize>(a: &[u64; N]) -> [u64; N] {
    sub(&[0; N], a)
}

/// `a >= b` as unsigned integers.
#[inline]
pub(crate) fn geq<const N: usize>(a: &[u64; N], b: &[u64; N]) -> bool {
    !sub_borrow(a, b).1
}

/// Number of significant bits of `a` (0 for zero).
#[inline]
pub(crate) fn num_bits(a: &U256) -> u32 {
    for i in (0..4).rev() {
        if a[i] != 0 {
            return 64 * i as u32 + (64 - a[i].leading_zeros());
        }
    }
    0
}

/// `floor(a * 2^256 / m)` for `a < m`, so the quotient fits in 256 bits.
///
/// Plain shift-and-subtract long division: it runs once per MSM call, so
/// clarity beats speed here.
pub(crate) fn div_shifted(a: &U256, m: &U256) -> U256 {
    assert!(!geq(a, m), "div_shifted needs a < m");
    // Remainder kept in 5 limbs: before the conditional subtraction it can
    // reach 2m - 1 < 2^257.
    let mut rem = [0u64; 5];
    let mut q = [0u64; 4];
    let m5 = [m[0], m[1], m[2], m[3], 0];
    for bit in (0..512).rev() {
        // rem = rem * 2 + bit(a * 2^256, bit)
        let incoming = if bit >= 256 {
            (a[(bit - 256) / 64] >> ((bit - 256) % 64)) & 1
        } else {
            0
        };
        let mut carry = incoming;
        for limb in rem.iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        // if rem >= m: rem -= m, set quotient bit
        let (diff, borrow) = sub_borrow(&rem, &m5);
        if !borrow {
            rem = diff;
            // a < m guarantees no quotient bit at or above 2^256.
            debug_assert!(bit < 256);
            q[bit / 64] |= 1 << (bit % 64);
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_u128(a: &U256) -> u128 {
        assert!(a[2] == 0 && a[3] == 0);
        u128::from(a[0]) | (u128::from(a[1]) << 64)
    }

    #[test]
    fn small_values_agree_with_u128() {
        let vals: [u128; 6] = [0, 1, 7, u64::MAX as u128, 1 << 100, (1 << 120) + 12345];
        for &x in &vals {
            for &y in &vals {
                let a = [x as u64, (x >> 64) as u64, 0, 0];
                let b = [y as u64, (y >> 64) as u64, 0, 0];
                let s = add(&a, &b);
                assert_eq!(to_u128(&s), x + y);
                if x >= y {
                    assert_eq!(to_u128(&sub(&a, &b)), x - y);
                    assert!(geq(&a, &b));
                } else {
                    assert!(!geq(&a, &b));
                    assert_eq!(add(&sub(&a, &b), &b), a);
                }
                if let Some(p) = x.checked_mul(y) {
                    assert_eq!(to_u128(&mul_lo(&a, &b)), p);
                }
                assert_eq!(num_bits(&a), 128 - x.leading_zeros());
            }
        }
    }

    #[test]
    fn wide_product_splits_into_hi_and_lo() {
        let a = [u64::MAX; 4];
        let b = [3, 0, 0, 1 << 63];
        let w = mul_wide(&a, &b);
        assert_eq!([w[0], w[1], w[2], w[3]], mul_lo(&a, &b));
        assert_eq!([w[4], w[5], w[6], w[7]], mul_hi(&a, &b));
        // (2^256 - 1) * b = b * 2^256 - b
        let lo = neg(&b);
        assert_eq!([w[0], w[1], w[2], w[3]], lo);
        assert_eq!([w[4], w[5], w[6], w[7]], sub(&b, &[1, 0, 0, 0]));
    }

    #[test]
    fn shifted_division_matches_definition() {
        // m = 2^200 + 7, a = 2^150: q = floor(2^406 / m); check q*m <= a*2^256 < (q+1)*m
        let m = [7, 0, 0, 1 << 8];
        let a = [0, 0, 1 << 22, 0];
        let q = div_shifted(&a, &m);
        let qm = mul_wide(&q, &m);
        let target = [0, 0, 0, 0, a[0], a[1], a[2], a[3]];
        let le = |x: &[u64; 8], y: &[u64; 8]| {
            for i in (0..8).rev() {
                if x[i] != y[i] {
                    return x[i] < y[i];
                }
            }
            true
        };
        assert!(le(&qm, &target));
        let q1 = add(&q, &[1, 0, 0, 0]);
        let q1m = mul_wide(&q1, &m);
        assert!(!le(&q1m, &target), "(q + 1) * m must exceed a * 2^256");
    }
}
