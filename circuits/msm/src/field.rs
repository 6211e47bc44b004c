//! BN254 base-field (`Fq`) multiplication for the MSM's hot loops, and the
//! `Fq2` products built on it.
//!
//! # Invariant
//!
//! Every function here returns exactly what ark-ff's operators return on the
//! same operands: canonical Montgomery form in (`< p`), canonical out. The
//! tests compare them on random operands and on the edges (0, 1, `p - 1`,
//! Montgomery forms near `p` and near powers of two).
//!
//! # Why by hand
//!
//! Field multiplications are about three quarters of the MSM's instructions,
//! and ark-ff 0.6 multiplies with portable `u128` code unless its `asm`
//! feature is on *and* the whole build targets BMI2 + ADX. That switch is
//! global: it would need `-C target-feature` for every crate of the
//! workspace, and a binary so built dies on a CPU without those
//! instructions. No maintained crate offers a runtime-dispatched
//! Montgomery multiplication for arkworks' `Fq`. So this module carries four
//! routines of its own, chosen at run time when the CPU has BMI2 and ADX,
//! with ark-ff's operators as the fallback everywhere else:
//! * a multiplication (the textbook CIOS with two carry chains, as
//!   gnark-crypto's write-ups describe it) and a squaring;
//! * an unreduced 512-bit product and a Montgomery reduction, with which
//!   an `Fq2` product reduces twice instead of three times ([`mul2`]).
//!
//! With `ifma`'s, this is the crate's only `unsafe` code; [`backend`] says which of the
//! two paths runs.

#![allow(unsafe_code)]

use ark_bn254::{Fq, Fq2};
use ark_ff::{AdditiveGroup, Field};

/// `a * b` in `Fq`.
#[inline(always)]
pub(crate) fn mul(a: &Fq, b: &Fq) -> Fq {
    #[cfg(target_arch = "x86_64")]
    if adx::available() {
        // SAFETY: the CPU has BMI2 and ADX (just checked).
        return unsafe { adx::mul(a, b) };
    }
    *a * b
}

/// `a^2` in `Fq`.
#[inline(always)]
pub(crate) fn square(a: &Fq) -> Fq {
    #[cfg(target_arch = "x86_64")]
    if adx::available() {
        // SAFETY: the CPU has BMI2 and ADX (just checked).
        return unsafe { adx::square(a) };
    }
    a.square()
}

/// `a * b` in `Fq2 = Fq[u] / (u^2 + 1)`, by Karatsuba: three `Fq`
/// products. With the assembly, the three are unreduced 512-bit products
/// and only the two results are reduced ("lazy reduction"): `c0 = REDC(a0
/// b0 - a1 b1 + p^2)` and `c1 = REDC((a0 + a1)(b0 + b1) - a0 b0 - a1 b1)`,
/// both below `2 p^2 < p 2^256`, as [`adx::redc`] requires. That is two
/// Montgomery reductions instead of three.
#[inline(always)]
pub(crate) fn mul2(a: &Fq2, b: &Fq2) -> Fq2 {
    #[cfg(target_arch = "x86_64")]
    if adx::available() {
        // Integer sums of canonical operands: below 2p < 2^255, no carry out.
        let sa = wide::add4(&a.c0.0.0, &a.c1.0.0);
        let sb = wide::add4(&b.c0.0.0, &b.c1.0.0);
        // SAFETY: the CPU has BMI2 and ADX (just checked); the REDC inputs
        // are below p 2^256 (see above).
        return unsafe {
            let v0 = adx::mul_wide(&a.c0.0.0, &b.c0.0.0);
            let v1 = adx::mul_wide(&a.c1.0.0, &b.c1.0.0);
            let cross = adx::mul_wide(&sa, &sb);
            let c0 = wide::sub8(&wide::add8(&v0, &wide::P_SQUARED), &v1);
            let c1 = wide::sub8(&wide::sub8(&cross, &v0), &v1);
            Fq2::new(adx::redc(&c0), adx::redc(&c1))
        };
    }
    let v0 = mul(&a.c0, &b.c0);
    let v1 = mul(&a.c1, &b.c1);
    let cross = mul(&(a.c0 + a.c1), &(b.c0 + b.c1));
    Fq2::new(v0 - v1, cross - v0 - v1)
}

/// `a^2` in `Fq2`: `(c0 + c1)(c0 - c1) + 2 c0 c1 u`, two multiplications.
#[inline(always)]
pub(crate) fn square2(a: &Fq2) -> Fq2 {
    let c0 = mul(&(a.c0 + a.c1), &(a.c0 - a.c1));
    let c1 = mul(&a.c0, &a.c1).double();
    Fq2::new(c0, c1)
}

/// `c0^2 + c1^2`, the norm of `c0 + c1 u` in `Fq2` (as `u^2 = -1`).
#[inline(always)]
pub(crate) fn norm2(a: &Fq2) -> Fq {
    square(&a.c0) + square(&a.c1)
}

/// Which base-field multiplication the MSM runs on this CPU, for reports:
/// `"bmi2-adx"` (this module's assembly) or `"ark-ff"` (the fallback).
pub fn backend() -> &'static str {
    if uses_adx() { "bmi2-adx" } else { "ark-ff" }
}

/// Whether the BMI2 + ADX path is the one [`mul`] takes on this CPU.
fn uses_adx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        adx::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Plain multi-limb integer arithmetic for the lazy-reduction path (no
/// modular reduction; the callers' bounds rule out every overflow), on
/// `crate::uint`'s helpers.
#[cfg(target_arch = "x86_64")]
mod wide {
    use crate::uint;
    use ark_bn254::FqConfig;
    use ark_ff::MontConfig;

    /// `p^2` as a 512-bit integer.
    pub(super) const P_SQUARED: [u64; 8] = {
        let p = <FqConfig as MontConfig<4>>::MODULUS.0;
        uint::mul_wide(&p, &p)
    };

    /// `a + b` for `a, b < 2^255`.
    #[inline(always)]
    pub(super) fn add4(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        let (out, carry) = uint::add_carry(a, b);
        debug_assert!(!carry);
        out
    }

    /// `a + b` for `a + b < 2^512`.
    #[inline(always)]
    pub(super) fn add8(a: &[u64; 8], b: &[u64; 8]) -> [u64; 8] {
        let (out, carry) = uint::add_carry(a, b);
        debug_assert!(!carry);
        out
    }

    /// `a - b` for `a >= b`.
    #[inline(always)]
    pub(super) fn sub8(a: &[u64; 8], b: &[u64; 8]) -> [u64; 8] {
        let (out, borrow) = uint::sub_borrow(a, b);
        debug_assert!(!borrow);
        out
    }
}

#[cfg(target_arch = "x86_64")]
mod adx {
    use ark_bn254::{Fq, FqConfig};
    use ark_ff::{BigInt, MontConfig};
    use core::arch::asm;

    /// The modulus' limbs (least significant first), then `-p^-1 mod 2^64`.
    static P_INV: [u64; 5] = {
        let p = <FqConfig as MontConfig<4>>::MODULUS.0;
        [p[0], p[1], p[2], p[3], <FqConfig as MontConfig<4>>::INV]
    };

    // The routine below keeps each row's sum in four limbs, which needs
    // 2p < 2^256 with room for the carries: true for BN254's 254-bit p.
    const _: () = assert!(<FqConfig as MontConfig<4>>::MODULUS.0[3] < u64::MAX / 4);

    /// Whether the CPU has MULX (BMI2) and ADCX/ADOX (ADX). std caches the
    /// answer, so this is a load and a test.
    #[inline(always)]
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx")
    }

    /// Montgomery product `a * b / 2^256 mod p` of canonical Montgomery
    /// forms, i.e. `a * b` in `Fq`.
    ///
    /// Row `i` adds `a * b[i]` to a five-limb accumulator, then `m * p` with
    /// `m` chosen to zero its low limb, and drops that limb. MULX leaves the
    /// flags alone, so the low halves of the products run on the carry flag
    /// (ADCX) and the high halves on the overflow flag (ADOX) at once. After
    /// each row the accumulator is below `2p` (it is `(a * b_low + M * p) /
    /// 2^(64 (i+1))` with `b_low, M < 2^(64 (i+1))`), so it fits four limbs
    /// and the last carry of each chain lands in the fifth limb without
    /// overflowing it. One conditional subtraction of `p` ends the product
    /// below `p`.
    ///
    /// # Safety
    ///
    /// The CPU must support BMI2 and ADX ([`available`]).
    #[inline(always)]
    pub(super) unsafe fn mul(a: &Fq, b: &Fq) -> Fq {
        let (s0, s1, s2, s3): (u64, u64, u64, u64);
        // SAFETY: reads 32 bytes through `a` and `b` and 40 through `P_INV`,
        // all valid; writes only the named registers and the flags; no
        // stack use. The caller guarantees MULX, ADCX and ADOX exist.
        unsafe {
            asm!(
            "xor {r0}, {r0}",
            "xor {r1}, {r1}",
            "xor {r2}, {r2}",
            "xor {r3}, {r3}",
            "xor {r4}, {r4}",
            "xor {z}, {z}",
            // Row 0: (r0..r4) += a * b[0] (all zero so far).
            "mov rdx, qword ptr [{b} + 0]",
            "mulx {hi}, {lo}, qword ptr [{a} + 0]",
            "adcx {r0}, {lo}",
            "adox {r1}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 8]",
            "adcx {r1}, {lo}",
            "adox {r2}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 16]",
            "adcx {r2}, {lo}",
            "adox {r3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 24]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "adcx {r4}, {z}",
            // m = r0 * -p^-1 mod 2^64; (r0..r4) += m * p, which zeroes r0:
            // the row's result is (r1..r4) < 2p.
            "mov rdx, {r0}",
            "imul rdx, qword ptr [{p} + 32]",
            "xor {hi}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 0]",
            "adcx {r0}, {lo}",
            "adox {r1}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 8]",
            "adcx {r1}, {lo}",
            "adox {r2}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 16]",
            "adcx {r2}, {lo}",
            "adox {r3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 24]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "adcx {r4}, {z}",
            // Row 1: (r1..r0) += a * b[1].
            "xor {r0}, {r0}",
            "mov rdx, qword ptr [{b} + 8]",
            "mulx {hi}, {lo}, qword ptr [{a} + 0]",
            "adcx {r1}, {lo}",
            "adox {r2}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 8]",
            "adcx {r2}, {lo}",
            "adox {r3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 16]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 24]",
            "adcx {r4}, {lo}",
            "adox {r0}, {hi}",
            "adcx {r0}, {z}",
            // m = r1 * -p^-1 mod 2^64; (r1..r0) += m * p, which zeroes r1:
            // the row's result is (r2..r0) < 2p.
            "mov rdx, {r1}",
            "imul rdx, qword ptr [{p} + 32]",
            "xor {hi}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 0]",
            "adcx {r1}, {lo}",
            "adox {r2}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 8]",
            "adcx {r2}, {lo}",
            "adox {r3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 16]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 24]",
            "adcx {r4}, {lo}",
            "adox {r0}, {hi}",
            "adcx {r0}, {z}",
            // Row 2: (r2..r1) += a * b[2].
            "xor {r1}, {r1}",
            "mov rdx, qword ptr [{b} + 16]",
            "mulx {hi}, {lo}, qword ptr [{a} + 0]",
            "adcx {r2}, {lo}",
            "adox {r3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 8]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 16]",
            "adcx {r4}, {lo}",
            "adox {r0}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 24]",
            "adcx {r0}, {lo}",
            "adox {r1}, {hi}",
            "adcx {r1}, {z}",
            // m = r2 * -p^-1 mod 2^64; (r2..r1) += m * p, which zeroes r2:
            // the row's result is (r3..r1) < 2p.
            "mov rdx, {r2}",
            "imul rdx, qword ptr [{p} + 32]",
            "xor {hi}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 0]",
            "adcx {r2}, {lo}",
            "adox {r3}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 8]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 16]",
            "adcx {r4}, {lo}",
            "adox {r0}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 24]",
            "adcx {r0}, {lo}",
            "adox {r1}, {hi}",
            "adcx {r1}, {z}",
            // Row 3: (r3..r2) += a * b[3].
            "xor {r2}, {r2}",
            "mov rdx, qword ptr [{b} + 24]",
            "mulx {hi}, {lo}, qword ptr [{a} + 0]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 8]",
            "adcx {r4}, {lo}",
            "adox {r0}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 16]",
            "adcx {r0}, {lo}",
            "adox {r1}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{a} + 24]",
            "adcx {r1}, {lo}",
            "adox {r2}, {hi}",
            "adcx {r2}, {z}",
            // m = r3 * -p^-1 mod 2^64; (r3..r2) += m * p, which zeroes r3:
            // the row's result is (r4..r2) < 2p.
            "mov rdx, {r3}",
            "imul rdx, qword ptr [{p} + 32]",
            "xor {hi}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 0]",
            "adcx {r3}, {lo}",
            "adox {r4}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 8]",
            "adcx {r4}, {lo}",
            "adox {r0}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 16]",
            "adcx {r0}, {lo}",
            "adox {r1}, {hi}",
            "mulx {hi}, {lo}, qword ptr [{p} + 24]",
            "adcx {r1}, {lo}",
            "adox {r2}, {hi}",
            "adcx {r2}, {z}",
            // t = (r4, r0, r1, r2) < 2p. s = t - p into (hi, lo, z, r3); keep t on a borrow.
            "mov {hi}, {r4}",
            "sub {hi}, qword ptr [{p} + 0]",
            "mov {lo}, {r0}",
            "sbb {lo}, qword ptr [{p} + 8]",
            "mov {z}, {r1}",
            "sbb {z}, qword ptr [{p} + 16]",
            "mov {r3}, {r2}",
            "sbb {r3}, qword ptr [{p} + 24]",
            "cmovc {hi}, {r4}",
            "cmovc {lo}, {r0}",
            "cmovc {z}, {r1}",
            "cmovc {r3}, {r2}",
                a = in(reg) a.0.0.as_ptr(),
                b = in(reg) b.0.0.as_ptr(),
                p = in(reg) P_INV.as_ptr(),
                r0 = out(reg) _,
                r1 = out(reg) _,
                r2 = out(reg) _,
                r3 = out(reg) s3,
                r4 = out(reg) _,
                hi = out(reg) s0,
                lo = out(reg) s1,
                z = out(reg) s2,
                out("rdx") _,
                options(pure, readonly, nostack),
            );
        }
        Fq::new_unchecked(BigInt([s0, s1, s2, s3]))
    }

    /// Montgomery square of a canonical Montgomery form, i.e. `a^2` in `Fq`,
    /// with 10 products for `a^2` instead of [`mul`]'s 16.
    ///
    /// First the whole 512-bit `t = a^2` (the six cross products once,
    /// doubled, plus the four squares), then Montgomery's reduction of its
    /// low half alone: `u = (t_low + M p) / 2^256` with `M < 2^256` chosen
    /// limb by limb to clear `t_low`, so `u <= p`. The result is `t_high +
    /// u`, which is `(t + M p) / 2^256 < p^2 / 2^256 + p < 2p`; one
    /// conditional subtraction of `p` ends it below `p`.
    ///
    /// # Safety
    ///
    /// The CPU must support BMI2 and ADX ([`available`]).
    #[inline(always)]
    pub(super) unsafe fn square(a: &Fq) -> Fq {
        let (s0, s1, s2, s3): (u64, u64, u64, u64);
        // SAFETY: reads 32 bytes through `a` and 40 through `P_INV`, all
        // valid; writes only the named registers (the one that held `a` too)
        // and the flags; no stack use. The caller guarantees MULX, ADCX and
        // ADOX exist.
        unsafe {
            asm!(
                // t = a^2: the cross products a_i a_j (i < j) into t1..t6, one row per a_i.
                "mov rdx, qword ptr [{a}]",
                "mulx {t2}, {t1}, qword ptr [{a} + 8]",
                "mulx {t3}, {lo}, qword ptr [{a} + 16]",
                "add {t2}, {lo}",
                "mulx {t4}, {hi}, qword ptr [{a} + 24]",
                "adc {t3}, {hi}",
                "adc {t4}, 0",
                "mov rdx, qword ptr [{a} + 8]",
                "xor {t5}, {t5}",
                "mulx {hi}, {lo}, qword ptr [{a} + 16]",
                "adcx {t3}, {lo}",
                "adox {t4}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 24]",
                "adcx {t4}, {lo}",
                "adox {t5}, {hi}",
                "adc {t5}, 0",
                "mov rdx, qword ptr [{a} + 16]",
                "xor {t6}, {t6}",
                "mulx {hi}, {lo}, qword ptr [{a} + 24]",
                "add {t5}, {lo}",
                "adc {t6}, {hi}",
                // Doubled, into t1..t7.
                "xor {t7}, {t7}",
                "add {t1}, {t1}",
                "adc {t2}, {t2}",
                "adc {t3}, {t3}",
                "adc {t4}, {t4}",
                "adc {t5}, {t5}",
                "adc {t6}, {t6}",
                "adc {t7}, 0",
                // Plus the squares a_i^2 on the diagonal.
                "mov rdx, qword ptr [{a}]",
                "mulx {hi}, {t0}, rdx",
                "add {t1}, {hi}",
                "mov rdx, qword ptr [{a} + 8]",
                "mulx {hi}, {lo}, rdx",
                "adc {t2}, {lo}",
                "adc {t3}, {hi}",
                "mov rdx, qword ptr [{a} + 16]",
                "mulx {hi}, {lo}, rdx",
                "adc {t4}, {lo}",
                "adc {t5}, {hi}",
                "mov rdx, qword ptr [{a} + 24]",
                "mulx {hi}, {lo}, rdx",
                "adc {t6}, {lo}",
                "adc {t7}, {hi}",
                // u = (t0..t3 + M p) / 2^256 < p + 1, one row per limb of M; each row's new
                // top limb starts at zero (the register that held `a`, then each freed limb).
                "mov rdx, {t0}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {a}, {a}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t0}, {lo}",
                "adox {t1}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {t1}, {lo}",
                "adox {t2}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {t3}, {lo}",
                "adox {a}, {hi}",
                "adc {a}, 0",
                "mov rdx, {t1}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {t0}, {t0}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t1}, {lo}",
                "adox {t2}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {t3}, {lo}",
                "adox {a}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {a}, {lo}",
                "adox {t0}, {hi}",
                "adc {t0}, 0",
                "mov rdx, {t2}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {t1}, {t1}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {t3}, {lo}",
                "adox {a}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {a}, {lo}",
                "adox {t0}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {t0}, {lo}",
                "adox {t1}, {hi}",
                "adc {t1}, 0",
                "mov rdx, {t3}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {t2}, {t2}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t3}, {lo}",
                "adox {a}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {a}, {lo}",
                "adox {t0}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {t0}, {lo}",
                "adox {t1}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {t1}, {lo}",
                "adox {t2}, {hi}",
                "adc {t2}, 0",
                // r = u + (t4..t7) < 2p; s = r - p; keep r on a borrow.
                "add {a}, {t4}",
                "adc {t0}, {t5}",
                "adc {t1}, {t6}",
                "adc {t2}, {t7}",
                "mov {t4}, {a}",
                "sub {t4}, qword ptr [{p} + 0]",
                "mov {t5}, {t0}",
                "sbb {t5}, qword ptr [{p} + 8]",
                "mov {t6}, {t1}",
                "sbb {t6}, qword ptr [{p} + 16]",
                "mov {t7}, {t2}",
                "sbb {t7}, qword ptr [{p} + 24]",
                "cmovc {t4}, {a}",
                "cmovc {t5}, {t0}",
                "cmovc {t6}, {t1}",
                "cmovc {t7}, {t2}",
                a = inout(reg) a.0.0.as_ptr() => _,
                p = in(reg) P_INV.as_ptr(),
                t0 = out(reg) _,
                t1 = out(reg) _,
                t2 = out(reg) _,
                t3 = out(reg) _,
                t4 = out(reg) s0,
                t5 = out(reg) s1,
                t6 = out(reg) s2,
                t7 = out(reg) s3,
                hi = out(reg) _,
                lo = out(reg) _,
                out("rdx") _,
                options(pure, readonly, nostack),
            );
        }
        Fq::new_unchecked(BigInt([s0, s1, s2, s3]))
    }

    /// The whole 512-bit product `a * b` of any two 256-bit integers, no
    /// reduction: one row per limb of `b`, the low halves of the products
    /// on the carry flag (ADCX) and the high halves on the overflow flag
    /// (ADOX). Each row's new top limb starts at zero (the XOR that also
    /// clears both flags), and can take both chains' last carries without
    /// overflowing: the running sum is below `2^(64 (i + 5))` after row `i`.
    ///
    /// # Safety
    ///
    /// The CPU must support BMI2 and ADX ([`available`]).
    #[inline(always)]
    pub(super) unsafe fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
        let (t0, t1, t2, t3, t4, t5, t6, t7): (u64, u64, u64, u64, u64, u64, u64, u64);
        // SAFETY: reads 32 bytes through `a` and `b`, both valid; writes
        // only the named registers and the flags; no stack use. The caller
        // guarantees MULX, ADCX and ADOX exist.
        unsafe {
            asm!(
                // Row 0: (t0..t4) = a * b[0].
                "mov rdx, qword ptr [{b}]",
                "mulx {t1}, {t0}, qword ptr [{a}]",
                "mulx {t2}, {lo}, qword ptr [{a} + 8]",
                "add {t1}, {lo}",
                "mulx {t3}, {lo}, qword ptr [{a} + 16]",
                "adc {t2}, {lo}",
                "mulx {t4}, {lo}, qword ptr [{a} + 24]",
                "adc {t3}, {lo}",
                "adc {t4}, 0",
                // Row 1: (t1..t5) += a * b[1].
                "mov rdx, qword ptr [{b} + 8]",
                "xor {t5}, {t5}",
                "mulx {hi}, {lo}, qword ptr [{a}]",
                "adcx {t1}, {lo}",
                "adox {t2}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 8]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 16]",
                "adcx {t3}, {lo}",
                "adox {t4}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 24]",
                "adcx {t4}, {lo}",
                "adox {t5}, {hi}",
                "adc {t5}, 0",
                // Row 2: (t2..t6) += a * b[2].
                "mov rdx, qword ptr [{b} + 16]",
                "xor {t6}, {t6}",
                "mulx {hi}, {lo}, qword ptr [{a}]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 8]",
                "adcx {t3}, {lo}",
                "adox {t4}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 16]",
                "adcx {t4}, {lo}",
                "adox {t5}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 24]",
                "adcx {t5}, {lo}",
                "adox {t6}, {hi}",
                "adc {t6}, 0",
                // Row 3: (t3..t7) += a * b[3].
                "mov rdx, qword ptr [{b} + 24]",
                "xor {t7}, {t7}",
                "mulx {hi}, {lo}, qword ptr [{a}]",
                "adcx {t3}, {lo}",
                "adox {t4}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 8]",
                "adcx {t4}, {lo}",
                "adox {t5}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 16]",
                "adcx {t5}, {lo}",
                "adox {t6}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{a} + 24]",
                "adcx {t6}, {lo}",
                "adox {t7}, {hi}",
                "adc {t7}, 0",
                a = in(reg) a.as_ptr(),
                b = in(reg) b.as_ptr(),
                t0 = out(reg) t0,
                t1 = out(reg) t1,
                t2 = out(reg) t2,
                t3 = out(reg) t3,
                t4 = out(reg) t4,
                t5 = out(reg) t5,
                t6 = out(reg) t6,
                t7 = out(reg) t7,
                hi = out(reg) _,
                lo = out(reg) _,
                out("rdx") _,
                options(pure, readonly, nostack),
            );
        }
        [t0, t1, t2, t3, t4, t5, t6, t7]
    }

    /// Montgomery reduction `t / 2^256 mod p`, canonical, of any `t < p
    /// 2^256`: `u = (t_low + M p) / 2^256 <= p` clears the low half limb by
    /// limb (as in [`square`]), then `t_high + u < 2p` (as `t_high < p`),
    /// and one conditional subtraction of `p`.
    ///
    /// # Safety
    ///
    /// The CPU must support BMI2 and ADX ([`available`]), and `t < p 2^256`
    /// (a larger `t` gives a wrong result, not undefined behaviour).
    #[inline(always)]
    pub(super) unsafe fn redc(t: &[u64; 8]) -> Fq {
        let (s0, s1, s2, s3): (u64, u64, u64, u64);
        // SAFETY: reads 40 bytes through `P_INV`, valid; writes only the
        // named registers and the flags; no stack use. The caller
        // guarantees MULX, ADCX and ADOX exist.
        unsafe {
            asm!(
                "mov rdx, {t0}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {x}, {x}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t0}, {lo}",
                "adox {t1}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {t1}, {lo}",
                "adox {t2}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {t3}, {lo}",
                "adox {x}, {hi}",
                "adc {x}, 0",
                "mov rdx, {t1}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {t0}, {t0}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t1}, {lo}",
                "adox {t2}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {t3}, {lo}",
                "adox {x}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {x}, {lo}",
                "adox {t0}, {hi}",
                "adc {t0}, 0",
                "mov rdx, {t2}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {t1}, {t1}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t2}, {lo}",
                "adox {t3}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {t3}, {lo}",
                "adox {x}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {x}, {lo}",
                "adox {t0}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {t0}, {lo}",
                "adox {t1}, {hi}",
                "adc {t1}, 0",
                "mov rdx, {t3}",
                "imul rdx, qword ptr [{p} + 32]",
                "xor {t2}, {t2}",
                "mulx {hi}, {lo}, qword ptr [{p} + 0]",
                "adcx {t3}, {lo}",
                "adox {x}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 8]",
                "adcx {x}, {lo}",
                "adox {t0}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 16]",
                "adcx {t0}, {lo}",
                "adox {t1}, {hi}",
                "mulx {hi}, {lo}, qword ptr [{p} + 24]",
                "adcx {t1}, {lo}",
                "adox {t2}, {hi}",
                "adc {t2}, 0",
                // r = u + (t4..t7) < 2p; s = r - p; keep r on a borrow.
                "add {x}, {t4}",
                "adc {t0}, {t5}",
                "adc {t1}, {t6}",
                "adc {t2}, {t7}",
                "mov {t4}, {x}",
                "sub {t4}, qword ptr [{p} + 0]",
                "mov {t5}, {t0}",
                "sbb {t5}, qword ptr [{p} + 8]",
                "mov {t6}, {t1}",
                "sbb {t6}, qword ptr [{p} + 16]",
                "mov {t7}, {t2}",
                "sbb {t7}, qword ptr [{p} + 24]",
                "cmovc {t4}, {x}",
                "cmovc {t5}, {t0}",
                "cmovc {t6}, {t1}",
                "cmovc {t7}, {t2}",
                p = in(reg) P_INV.as_ptr(),
                t0 = inout(reg) t[0] => _,
                t1 = inout(reg) t[1] => _,
                t2 = inout(reg) t[2] => _,
                t3 = inout(reg) t[3] => _,
                t4 = inout(reg) t[4] => s0,
                t5 = inout(reg) t[5] => s1,
                t6 = inout(reg) t[6] => s2,
                t7 = inout(reg) t[7] => s3,
                x = out(reg) _,
                hi = out(reg) _,
                lo = out(reg) _,
                out("rdx") _,
                options(pure, readonly, nostack),
            );
        }
        Fq::new_unchecked(BigInt([s0, s1, s2, s3]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::FqConfig;
    use ark_ff::{BigInt, Field, MontConfig, UniformRand};
    use ark_std::rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Raw Montgomery forms (not values) at the edges of the routine's
    /// carries: 0, small, `p - small`, every power of two below `p`, `p`
    /// minus each power of two, and runs of all-ones limbs.
    fn edges() -> Vec<Fq> {
        let p = <FqConfig as MontConfig<4>>::MODULUS;
        let sub = |k: u64| {
            let mut v = p;
            let mut borrow = k;
            for limb in v.0.iter_mut() {
                let (d, b) = limb.overflowing_sub(borrow);
                *limb = d;
                borrow = u64::from(b);
            }
            v
        };
        let mut raw: Vec<BigInt<4>> = (0..4u64).map(BigInt::from).collect();
        raw.extend((1..4u64).map(sub));
        for k in 0..254u32 {
            let mut v = BigInt::<4>::zero();
            v.0[(k / 64) as usize] = 1 << (k % 64);
            raw.push(v);
            let mut w = p;
            w.sub_with_borrow(&v);
            raw.push(w);
        }
        for limbs in 1..4 {
            let mut v = BigInt::<4>::zero();
            v.0[..limbs].fill(u64::MAX);
            raw.push(v);
        }
        raw.into_iter().map(Fq::new_unchecked).collect()
    }

    use ark_ff::BigInteger;

    #[test]
    fn fq_products_equal_arkworks_on_the_edges() {
        let e = edges();
        assert!(e.iter().all(|x| x.0 < <FqConfig as MontConfig<4>>::MODULUS));
        for a in &e {
            for b in &e {
                assert_eq!(mul(a, b), *a * b, "{:?} * {:?}", a.0, b.0);
                // Sums and differences of edges reach more carry patterns.
                for x in [*a + b, *a - b] {
                    assert_eq!(square(&x), x.square(), "{:?}^2", x.0);
                }
            }
            assert_eq!(square(a), a.square());
        }
    }

    #[test]
    fn fq_products_equal_arkworks_on_random_operands() {
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        for _ in 0..200_000 {
            let (a, b) = (Fq::rand(&mut rng), Fq::rand(&mut rng));
            assert_eq!(mul(&a, &b), a * b);
            assert_eq!(square(&a), a.square());
        }
    }

    #[test]
    fn fq2_products_and_norms_equal_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        let e = edges();
        let mut xs: Vec<Fq2> = e.windows(2).map(|w| Fq2::new(w[0], w[1])).collect();
        xs.extend((0..20_000).map(|_| Fq2::rand(&mut rng)));
        for w in xs.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert_eq!(mul2(&a, &b), a * b);
            assert_eq!(square2(&a), a.square());
            assert_eq!(norm2(&a), Fq::sum_of_products(&[a.c0, a.c1], &[a.c0, a.c1]));
        }
    }

    /// Every pair of edges as `Fq2` operands in three arrangements, so that
    /// the lazy reduction's sums and differences reach their extremes (`a0
    /// b0 - a1 b1` near `-p^2` and `+p^2`, cross sums near `2p`).
    #[test]
    fn fq2_products_equal_arkworks_on_all_edge_pairs() {
        let e = edges();
        for x in &e {
            for y in &e {
                for (a, b) in [
                    (Fq2::new(*x, *y), Fq2::new(*y, *x)),
                    (Fq2::new(*x, *x), Fq2::new(*y, *y)),
                    (Fq2::new(*x, -*y), Fq2::new(-*x, *y)),
                ] {
                    assert_eq!(mul2(&a, &b), a * b, "{a} * {b}");
                    assert_eq!(norm2(&a), a.c0.square() + a.c1.square(), "{a}");
                }
            }
        }
    }

    /// `mul_wide` is the integer product and `redc` divides by `2^256` mod
    /// `p`, on edges and up to the largest `t` it accepts.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn wide_product_and_reduction_are_exact() {
        if !adx::available() {
            return;
        }
        let p = <FqConfig as MontConfig<4>>::MODULUS;
        let e = edges();
        let mut rng = ChaCha20Rng::seed_from_u64(19);
        let mut highs: Vec<BigInt<4>> = e.iter().map(|x| x.0).collect();
        highs.extend((0..2000).map(|_| Fq::rand(&mut rng).0));
        // 2^256 - 1 and other all-ones low halves.
        let mut lows = highs.clone();
        lows.extend([BigInt([u64::MAX; 4]), BigInt([u64::MAX, 0, u64::MAX, 0])]);
        for (k, a) in highs.iter().enumerate() {
            let b = &lows[(k * 7 + 3) % lows.len()];
            // SAFETY: BMI2 and ADX checked above.
            let t = unsafe { adx::mul_wide(&a.0, &b.0) };
            let (lo, hi) = a.mul(b);
            assert_eq!(t[..4], lo.0[..], "{a:?} * {b:?}");
            assert_eq!(t[4..], hi.0[..], "{a:?} * {b:?}");
        }
        // t = hi 2^256 + lo with hi < p: REDC(t) = hi + lo / 2^256 mod p.
        let one_over_r = Fq::new_unchecked(BigInt([1, 0, 0, 0]));
        for (k, hi) in highs.iter().enumerate() {
            let lo = lows[(k * 5 + 1) % lows.len()];
            let mut lo_mod_p = lo;
            while lo_mod_p >= p {
                lo_mod_p.sub_with_borrow(&p);
            }
            let expected = Fq::new_unchecked(*hi) + Fq::new_unchecked(lo_mod_p) * one_over_r;
            let t: [u64; 8] = core::array::from_fn(|i| if i < 4 { lo.0[i] } else { hi.0[i - 4] });
            // SAFETY: BMI2 and ADX checked above; t < p 2^256 as hi < p.
            assert_eq!(unsafe { adx::redc(&t) }, expected, "{hi:?} {lo:?}");
        }
        assert_eq!(wide::P_SQUARED[..4], p.mul(&p).0.0[..]);
        assert_eq!(wide::P_SQUARED[4..], p.mul(&p).1.0[..]);
    }

    /// The tests above go through the dispatch. CI's machines (x86-64, BMI2
    /// and ADX) must take the assembly routine there, or these tests would
    /// have checked ark-ff against itself.
    #[test]
    fn ci_checks_the_assembly_routine() {
        if std::env::var_os("CI").is_some() && cfg!(target_arch = "x86_64") {
            assert!(uses_adx(), "CI's CPU lacks BMI2/ADX");
        }
    }
}
