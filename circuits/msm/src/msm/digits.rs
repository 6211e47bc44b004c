//! Signed-digit recoding of scalar magnitudes into windows.
//!
//! A magnitude `m < 2^bits` is written as `m = sum_w d_w * 2^(offset_w)`
//! with `|d_w| <= 2^(width_w - 1)`. Negative digits let a window use
//! `2^(width - 1)` buckets instead of `2^width - 1`, because `-d * P` is
//! `d * (-P)` and negating an affine point is free.
//!
//! The windows together cover `bits + 1` positions: the extra position
//! absorbs the final carry, so the top digit is never re-centred and always
//! lies in `[0, 2^(width_top - 1)]`. Windows may have different widths
//! (`WindowPlan::new` spreads the positions evenly), which avoids a narrow
//! top window with only a handful of buckets: batch-affine accumulation
//! needs many buckets per window to keep conflicts rare.

use crate::uint::{self, U256};

/// Widest window we ever plan: `2^(MAX_WIDTH - 1)` buckets per window.
pub(crate) const MAX_WIDTH: u32 = 22;

/// How the digit positions of a magnitude are cut into windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WindowPlan {
    widths: Vec<u32>,
    offsets: Vec<u32>,
}

impl WindowPlan {
    /// Splits the `bits + 1` positions of `bits`-bit magnitudes into `windows`
    /// windows whose widths differ by at most one (wider ones at the bottom).
    pub(crate) fn new(bits: u32, windows: usize) -> Self {
        let total = bits as usize + 1;
        assert!(windows >= 1 && windows <= total, "bad window count");
        let base = total / windows;
        let extra = total % windows;
        let widths: Vec<u32> = (0..windows)
            .map(|w| (base + usize::from(w < extra)) as u32)
            .collect();
        assert!(widths[0] <= MAX_WIDTH, "window too wide");
        let offsets = widths
            .iter()
            .scan(0u32, |acc, &wd| {
                let o = *acc;
                *acc += wd;
                Some(o)
            })
            .collect();
        Self { widths, offsets }
    }

    pub(crate) fn len(&self) -> usize {
        self.widths.len()
    }

    pub(crate) fn width(&self, w: usize) -> u32 {
        self.widths[w]
    }

    /// Number of buckets window `w` needs: digit magnitudes `1..=2^(width-1)`.
    pub(crate) fn buckets(&self, w: usize) -> usize {
        1usize << (self.widths[w] - 1)
    }
}

/// A non-negative scalar magnitude we can cut into windows.
pub(crate) trait Magnitude: Copy + Send + Sync {
    /// Bits `offset .. offset + width` (width <= 32), zero past the top.
    fn bits_at(&self, offset: u32, width: u32) -> u32;
    /// `self mod 2^offset`.
    fn low_bits(&self, offset: u32) -> Self;
    /// `self >= other`.
    fn geq(&self, other: &Self) -> bool;
    /// `v`, if it fits in this type.
    fn from_u256(v: &U256) -> Option<Self>;
}

#[inline]
fn mask(width: u32) -> u64 {
    (1u64 << width) - 1
}

impl Magnitude for u64 {
    #[inline]
    fn bits_at(&self, offset: u32, width: u32) -> u32 {
        if offset >= 64 {
            0
        } else {
            ((self >> offset) & mask(width)) as u32
        }
    }

    #[inline]
    fn low_bits(&self, offset: u32) -> Self {
        if offset >= 64 {
            *self
        } else {
            self & ((1u64 << offset) - 1)
        }
    }

    #[inline]
    fn geq(&self, other: &Self) -> bool {
        self >= other
    }

    fn from_u256(v: &U256) -> Option<Self> {
        (v[1] | v[2] | v[3] == 0).then_some(v[0])
    }
}

impl Magnitude for u128 {
    #[inline]
    fn bits_at(&self, offset: u32, width: u32) -> u32 {
        if offset >= 128 {
            0
        } else {
            ((self >> offset) as u64 & mask(width)) as u32
        }
    }

    #[inline]
    fn low_bits(&self, offset: u32) -> Self {
        if offset >= 128 {
            *self
        } else {
            self & ((1u128 << offset) - 1)
        }
    }

    #[inline]
    fn geq(&self, other: &Self) -> bool {
        self >= other
    }

    fn from_u256(v: &U256) -> Option<Self> {
        (v[2] | v[3] == 0).then_some(u128::from(v[0]) | u128::from(v[1]) << 64)
    }
}

impl Magnitude for U256 {
    #[inline]
    fn bits_at(&self, offset: u32, width: u32) -> u32 {
        if offset >= 256 {
            return 0;
        }
        let limb = (offset / 64) as usize;
        let shift = offset % 64;
        let mut v = self[limb] >> shift;
        if shift != 0 && limb + 1 < 4 {
            v |= self[limb + 1] << (64 - shift);
        }
        (v & mask(width)) as u32
    }

    #[inline]
    fn low_bits(&self, offset: u32) -> Self {
        let mut v = *self;
        for (i, limb) in v.iter_mut().enumerate() {
            let lo = 64 * i as u32;
            if offset <= lo {
                *limb = 0;
            } else if offset < lo + 64 {
                *limb &= (1u64 << (offset - lo)) - 1;
            }
        }
        v
    }

    #[inline]
    fn geq(&self, other: &Self) -> bool {
        uint::geq(self, other)
    }

    fn from_u256(v: &U256) -> Option<Self> {
        Some(*v)
    }
}

/// Writes the signed digits of `m` (one per window of `plan`) through `out`,
/// window by window with an explicit carry (the reference for
/// [`WindowDigits`]).
///
/// Requires `m < 2^bits` for the `bits` the plan was built with.
#[cfg(test)]
pub(crate) fn recode<M: Magnitude>(m: &M, plan: &WindowPlan, mut out: impl FnMut(usize, i32)) {
    let last = plan.len() - 1;
    let mut carry = 0u32;
    for w in 0..=last {
        let width = plan.widths[w];
        let v = m.bits_at(plan.offsets[w], width) + carry;
        let half = 1u32 << (width - 1);
        if w < last && v >= half {
            // v in [2^(c-1), 2^c]: use v - 2^c in [-2^(c-1), 0] and carry one up.
            out(w, v as i32 - (1i32 << width));
            carry = 1;
        } else {
            debug_assert!(v <= half, "magnitude exceeds the planned bit width");
            out(w, v as i32);
            carry = 0;
        }
    }
}

/// Computes one window's signed digit of any magnitude directly, without
/// the digits of the windows below it.
///
/// The carry the recoding brings into window `w` (at offset `o_w`) is 1
/// exactly when `(m mod 2^o_w) + H_w >= 2^o_w`, where
/// `H_w = sum_{v < w} 2^(o_v + c_v - 1)` adds half a window to every window
/// below (induction on `w`: the carry out of window `v` is
/// `bits_v + carry_v >= 2^(c_v - 1)`). So the carry is one comparison of the
/// low bits with the threshold `2^o_w - H_w`, and each window's pass over
/// the points needs only the magnitudes: no digit table is stored.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowDigits<M> {
    offset: u32,
    width: u32,
    top: bool,
    /// `2^offset - H_w`; `None` when no magnitude of this type reaches it.
    threshold: Option<M>,
}

impl<M: Magnitude> WindowDigits<M> {
    pub(crate) fn new(plan: &WindowPlan, w: usize) -> Self {
        let offset = plan.offsets[w];
        assert!(offset < 256, "offsets stay below 256");
        // 2^offset, minus each lower window's half.
        let mut t: U256 = [0; 4];
        t[(offset / 64) as usize] = 1u64 << (offset % 64);
        for v in 0..w {
            let h = plan.offsets[v] + plan.widths[v] - 1;
            let mut hv: U256 = [0; 4];
            hv[(h / 64) as usize] = 1u64 << (h % 64);
            t = uint::sub(&t, &hv);
        }
        Self {
            offset,
            width: plan.widths[w],
            top: w + 1 == plan.len(),
            threshold: M::from_u256(&t),
        }
    }

    /// The digit of `m` in this window; `m < 2^bits` for the plan's `bits`.
    #[inline(always)]
    pub(crate) fn digit(&self, m: &M) -> i32 {
        let carry = match &self.threshold {
            Some(t) => u32::from(m.low_bits(self.offset).geq(t)),
            None => 0,
        };
        let v = m.bits_at(self.offset, self.width) + carry;
        if !self.top && v >= 1 << (self.width - 1) {
            v as i32 - (1i32 << self.width)
        } else {
            v as i32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recoded value modulo 2^128: at 127 bits the top digit sits at
    /// offset 127, where `i128` arithmetic would overflow (a debug build
    /// panics), so the sum wraps. Every digit is range-checked, so the true
    /// sum lies within (-2^128, 2^128) and agreeing modulo 2^128 with `m`
    /// leaves only `m - 2^128`, which needs a negative top digit; that is
    /// checked too.
    fn value(plan: &WindowPlan, m: u128) -> i128 {
        let mut acc = 0i128;
        let top = plan.widths.len() - 1;
        recode(&m, plan, |w, d| {
            let half = 1i64 << (plan.width(w) - 1);
            assert!(i64::from(d).abs() <= half, "digit out of range");
            if w == top {
                assert!(d >= 0, "negative top digit");
            }
            acc = acc.wrapping_add(i128::from(d).wrapping_shl(plan.offsets[w]));
        });
        acc
    }

    #[test]
    fn recoding_reconstructs_every_plan() {
        let samples: [u128; 8] = [
            0,
            1,
            2,
            0x7f,
            0xff,
            (1u128 << 100) - 1,
            0xdead_beef_0123_4567_89ab_cdef_1234_5678,
            (1u128 << 126) + 12345,
        ];
        for bits in [8u32, 16, 64, 127] {
            for windows in 1..=(bits as usize + 1) {
                if (bits as usize + 1).div_ceil(windows) > MAX_WIDTH as usize {
                    continue;
                }
                let plan = WindowPlan::new(bits, windows);
                let total: u32 = plan.widths.iter().sum();
                assert_eq!(total, bits + 1);
                for &s in &samples {
                    let m = if bits >= 128 {
                        s
                    } else {
                        s & ((1u128 << bits) - 1)
                    };
                    assert_eq!(value(&plan, m) as u128, m, "bits {bits} windows {windows}");
                }
            }
        }
    }

    #[test]
    fn all_ones_at_full_width_uses_top_carry() {
        // 2^128 - 1 forces a carry into the extra top position.
        let plan = WindowPlan::new(128, 10);
        let m = u128::MAX;
        let mut acc = 0i128;
        let mut top = 0;
        recode(&m, &plan, |w, d| {
            if w == 9 {
                top = d;
            }
            acc = acc.wrapping_add(i128::from(d).wrapping_shl(plan.offsets[w]));
        });
        assert!(top > 0);
        assert_eq!(acc as u128, m);
    }

    #[test]
    fn u256_bits_match_u128_bits() {
        let m: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        let wide: U256 = [m as u64, (m >> 64) as u64, 0x55, 0];
        for offset in 0..120 {
            for width in [1u32, 5, 13, 22] {
                if offset + width > 128 {
                    // the wide value has extra bits above 2^128
                    continue;
                }
                assert_eq!(wide.bits_at(offset, width), m.bits_at(offset, width));
            }
        }
        assert_eq!(wide.bits_at(128, 8), 0x55);
        assert_eq!(wide.bits_at(250, 8), 0);
    }

    #[test]
    fn direct_digits_match_recode() {
        fn check<M: Magnitude + core::fmt::Debug>(bits: u32, mags: &[M]) {
            for windows in 1..=(bits as usize + 1) {
                if (bits as usize + 1).div_ceil(windows) > MAX_WIDTH as usize {
                    continue;
                }
                let plan = WindowPlan::new(bits, windows);
                let wd: Vec<WindowDigits<M>> = (0..plan.len())
                    .map(|w| WindowDigits::new(&plan, w))
                    .collect();
                for m in mags {
                    recode(m, &plan, |w, d| {
                        assert_eq!(
                            wd[w].digit(m),
                            d,
                            "{m:?} bits {bits} windows {windows} w {w}"
                        )
                    });
                }
            }
        }
        let mut x = 0x0123_4567_89ab_cdefu64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut m64: Vec<u64> = vec![0, 1, 2, 3, u64::MAX, u64::MAX >> 1, 1 << 63, (1 << 63) - 1];
        m64.extend((0..200).map(|_| next()));
        m64.extend((0..200).map(|_| next() | 0xffff_0000_0000_ffff));
        for bits in [8u32, 16, 32] {
            let small: Vec<u64> = m64.iter().map(|m| m & ((1 << bits) - 1)).collect();
            check(bits, &small);
        }
        check(64, &m64);
        let m128: Vec<u128> = m64
            .chunks(2)
            .map(|c| u128::from(c[0]) | u128::from(c[1]) << 64)
            .chain([u128::MAX, u128::MAX >> 1, 1 << 127, 0])
            .collect();
        check(128, &m128);
        let m256: Vec<U256> = m64
            .chunks(4)
            .map(|c| [c[0], c[1], c[2], c[3] >> 2])
            .chain([[u64::MAX, u64::MAX, u64::MAX, u64::MAX >> 2], [0; 4]])
            .collect();
        check(254, &m256);
    }
}
