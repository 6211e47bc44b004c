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

use super::parallel;
use super::uint::U256;

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
}

/// Writes the signed digits of `m` (one per window of `plan`) through `out`.
///
/// Requires `m < 2^bits` for the `bits` the plan was built with.
#[inline]
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

/// Signed digits of every magnitude, window-major: digit `w` of item `i` is
/// at `w * n + i`, so one window's pass over the points reads its digits
/// sequentially.
pub(crate) fn window_major<M: Magnitude>(mags: &[M], plan: &WindowPlan) -> Vec<i32> {
    let n = mags.len();
    let windows = plan.len();
    let mut digits = vec![0i32; n * windows];
    if n == 0 {
        return digits;
    }
    // Give each thread a contiguous run of items; it writes that run's slice
    // of every window row. Split the rows so the borrows stay disjoint.
    let chunk = n.div_ceil(parallel::threads() * 4).max(1024);
    let mut per_chunk: Vec<Vec<&mut [i32]>> = (0..n.div_ceil(chunk)).map(|_| Vec::new()).collect();
    for row in digits.chunks_mut(n) {
        for (c, part) in row.chunks_mut(chunk).enumerate() {
            per_chunk[c].push(part);
        }
    }
    let jobs: Vec<(usize, Vec<&mut [i32]>)> = per_chunk.into_iter().enumerate().collect();
    parallel::for_each_owned(jobs, |(c, mut rows)| {
        let start = c * chunk;
        let len = rows[0].len();
        for (j, m) in mags[start..start + len].iter().enumerate() {
            recode(m, plan, |w, d| rows[w][j] = d);
        }
    });
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(plan: &WindowPlan, m: u128) -> i128 {
        let mut acc = 0i128;
        recode(&m, plan, |w, d| {
            let half = 1i64 << (plan.width(w) - 1);
            assert!(i64::from(d).abs() <= half, "digit out of range");
            acc += i128::from(d) << plan.offsets[w];
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
    fn window_major_layout_matches_recode() {
        let mags: Vec<u64> = (0..5000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let plan = WindowPlan::new(64, 5);
        let d = window_major(&mags, &plan);
        for (i, m) in mags.iter().enumerate() {
            recode(m, &plan, |w, digit| {
                assert_eq!(d[w * mags.len() + i], digit)
            });
        }
    }
}
