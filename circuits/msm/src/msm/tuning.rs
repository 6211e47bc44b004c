//! Per-group cost figures and the window planner.
//!
//! The planner picks the number of windows (and, when there are fewer
//! windows than threads, how many chunks of points each window is split
//! into) by minimising a simple cost model of the slowest thread:
//!
//! `(windows * (points * cost_per_add + buckets * reduce_cost) + cuts *
//! buckets * reduce_cost) / threads`
//!
//! as the work is dealt out evenly, the last window being cut into
//! `threads` pieces (`buckets::pieces`, `cuts = threads - 1`); windows of
//! each width are costed separately. The figures in
//! [`Tuning`] were measured on the development machine (see the benchmark
//! example); only their ratios matter.

use super::digits::{MAX_WIDTH, WindowPlan};

use super::buckets::MIN_PIECE as MIN_SPLIT;

/// Cost figures for one group, in units of one batched affine addition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    /// One bucket of the running-sum reduction (two XYZZ additions).
    pub reduce_cost: f64,
    /// One mixed XYZZ addition (used when a task is too small to batch).
    pub xyzz_cost: f64,
    /// One field inversion.
    pub inversion_cost: f64,
    /// Largest number of additions sharing one inversion.
    pub max_batch: usize,
    /// Buckets per batch slot: batch size is `buckets / bucket_ratio`, so
    /// that a new point rarely hits a bucket already in the batch.
    pub bucket_ratio: usize,
    /// Below this many points per task, accumulate in XYZZ instead.
    pub min_batch_points: usize,
    /// Bucket slots that stay cache-resident (about the L2 share of one
    /// thread divided by the affine point size).
    pub cache_buckets: usize,
    /// Extra cost per addition for every doubling of the bucket slots past
    /// `cache_buckets` (random bucket accesses then miss the cache).
    pub miss_cost: f64,
    /// Windows with fewer buckets than this get every bucket replicated
    /// (up to this many slots in total), so that batches rarely conflict.
    pub replicate_below: usize,
    /// One bucket of the lane-batched affine reduction.
    pub affine_reduce_cost: f64,
    /// Buckets per lane in the affine reduction.
    pub lane_len: usize,
    /// Fewer lanes than this do not amortise an inversion per step: use the
    /// XYZZ reduction instead.
    pub min_lanes: usize,
    /// Run batch-affine flushes through [`MsmCurve::Lanes`](super::MsmCurve::Lanes)
    /// (several additions per instruction stream) where the CPU has them.
    pub lanes: bool,
}

/// The L2 cache per core of the machine the figures in `curve.rs` were
/// measured on (AMD Zen 3: 512 KiB), which `cache_buckets` is relative to.
const TUNED_L2_BYTES: usize = 512 << 10;

/// A window layout and how many point chunks each window is split into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) windows: WindowPlan,
    pub(crate) chunks: usize,
}

impl Tuning {
    /// These figures with `cache_buckets` scaled to this machine's L2 cache
    /// per core (read once, from Linux's sysfs; unchanged where it cannot be
    /// read). Measured on a 2 MiB-L2 Intel Xeon: 4x the slots (so G1 2^18
    /// random gets 9 windows instead of 10) took 7-9% less CPU time on G1
    /// and G2 at 2^18 points, the same at 2^16.
    #[doc(hidden)]
    pub fn for_this_machine(self) -> Self {
        match l2::per_core_bytes() {
            Some(bytes) => self.with_l2(bytes),
            None => self,
        }
    }

    /// `cache_buckets` scaled from [`TUNED_L2_BYTES`] to `l2_bytes`, within
    /// a factor of 8 either way (a misread size cannot run away).
    fn with_l2(mut self, l2_bytes: usize) -> Self {
        let tuned = self.cache_buckets.max(1);
        let scaled = (tuned as u128 * l2_bytes as u128 / TUNED_L2_BYTES as u128) as usize;
        self.cache_buckets = scaled.clamp(tuned.div_ceil(8), tuned * 8);
        self
    }

    /// Batch capacity for a window with `buckets` buckets.
    pub(crate) fn batch_size(&self, buckets: usize) -> usize {
        (buckets / self.bucket_ratio.max(1)).clamp(1, self.max_batch.max(1))
    }

    /// Whether a task of `points` points into `buckets` buckets should batch.
    pub(crate) fn use_batch_affine(&self, points: usize, buckets: usize) -> bool {
        let slots = buckets * self.replicas(points, buckets);
        points >= self.min_batch_points && self.batch_size(slots) >= 8
    }

    /// Lanes for reducing `buckets` affine buckets (1: XYZZ walk).
    pub(crate) fn reduce_lanes(&self, buckets: usize) -> usize {
        let lanes = buckets / self.lane_len.max(1);
        if lanes >= self.min_lanes.max(2) {
            lanes
        } else {
            1
        }
    }

    fn cost_per_bucket(&self, points: usize, buckets: usize) -> f64 {
        if self.use_batch_affine(points, buckets) && self.reduce_lanes(buckets) > 1 {
            self.affine_reduce_cost
        } else {
            self.reduce_cost
        }
    }

    /// Replicas per bucket for a task of `points` points into `buckets`
    /// buckets: a power of two bringing the slot count to about
    /// `replicate_below`, but never more than one slot per four points.
    pub(crate) fn replicas(&self, points: usize, buckets: usize) -> usize {
        let mut r = 1;
        while buckets * r * 2 <= self.replicate_below && buckets * r * 2 * 4 <= points {
            r *= 2;
        }
        r
    }

    fn cost_per_add(&self, points: usize, buckets: usize) -> f64 {
        if self.use_batch_affine(points, buckets) {
            let slots = buckets * self.replicas(points, buckets);
            // Combining the replicas costs one addition per extra slot.
            1.0 + self.inversion_cost / self.batch_size(slots) as f64
                + (slots - buckets) as f64 / points.max(1) as f64
                + self.miss_cost
                    * (slots as f64 / self.cache_buckets.max(1) as f64)
                        .log2()
                        .max(0.0)
        } else {
            self.xyzz_cost
        }
    }

    /// Chooses windows and chunking for `n` magnitudes below `2^bits`.
    pub(crate) fn plan(&self, n: usize, bits: u32, threads: usize) -> Plan {
        let threads = threads.max(1);
        let positions = bits as usize + 1;
        let mut best: Option<(f64, usize, usize)> = None;
        for windows in 1..=positions {
            if positions.div_ceil(windows) > MAX_WIDTH as usize {
                continue;
            }
            // Windows differ in width by at most one (see `WindowPlan::new`):
            // cost each kind separately, so that an uneven plan is not
            // charged as if every window were the widest.
            let narrow = positions / windows;
            let wide_count = positions % windows;
            // The work is spread evenly over the threads by cutting the last
            // window into `threads` pieces (see `buckets::pieces`); each
            // extra piece costs one more bucket reduction.
            let add = |width: usize| n as f64 * self.cost_per_add(n, 1usize << (width - 1));
            let reduce = |width: usize| {
                let buckets = 1usize << (width - 1);
                buckets as f64 * self.cost_per_bucket(n, buckets)
            };
            let mean = |f: &dyn Fn(usize) -> f64| {
                (wide_count as f64 * f(narrow + 1) + (windows - wide_count) as f64 * f(narrow))
                    / windows as f64
            };
            let cuts = (threads - 1).min(n / MIN_SPLIT);
            let work = windows as f64 * (mean(&add) + mean(&reduce)) + cuts as f64 * mean(&reduce);
            // Tie-break towards less total work (other jobs share the cores).
            let cost = work / threads as f64 + 1e-3 * work;
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, windows, 1));
            }
        }
        let (_, windows, chunks) = best.expect("at least one window count fits");
        Plan {
            windows: WindowPlan::new(bits, windows),
            chunks,
        }
    }
}

/// This machine's L2 cache per core, from
/// `/sys/devices/system/cpu/cpu0/cache/index*/` (Linux).
mod l2 {
    use std::sync::OnceLock;

    pub(super) fn per_core_bytes() -> Option<usize> {
        static L2: OnceLock<Option<usize>> = OnceLock::new();
        *L2.get_or_init(|| read("/sys/devices/system/cpu/cpu0/cache"))
    }

    fn read(dir: &str) -> Option<usize> {
        for index in 0..8 {
            let file = |name: &str| std::fs::read_to_string(format!("{dir}/index{index}/{name}"));
            let Ok(level) = file("level") else { continue };
            let kind = file("type").unwrap_or_default();
            if level.trim() != "2" || kind.trim() == "Instruction" {
                continue;
            }
            let size = parse_size(file("size").ok()?.trim())?;
            let sharers = file("shared_cpu_list")
                .ok()
                .and_then(|l| count_cpus(l.trim()))
                .unwrap_or(1);
            return Some(size / sharers.max(1));
        }
        None
    }

    /// `"2048K"`, `"1M"` or `"524288"` to bytes.
    pub(super) fn parse_size(s: &str) -> Option<usize> {
        let (digits, unit) = match s.as_bytes().last()? {
            b'K' => (&s[..s.len() - 1], 1 << 10),
            b'M' => (&s[..s.len() - 1], 1 << 20),
            b'G' => (&s[..s.len() - 1], 1 << 30),
            _ => (s, 1),
        };
        digits.parse::<usize>().ok()?.checked_mul(unit)
    }

    /// How many CPUs a list like `"0-3,8"` names.
    pub(super) fn count_cpus(list: &str) -> Option<usize> {
        let mut n = 0usize;
        for part in list.split(',').filter(|p| !p.is_empty()) {
            n += match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                    b.checked_sub(a)? + 1
                }
                None => {
                    part.parse::<usize>().ok()?;
                    1
                }
            };
        }
        (n > 0).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sizes_and_cpu_lists_parse() {
        assert_eq!(l2::parse_size("2048K"), Some(2 << 20));
        assert_eq!(l2::parse_size("1M"), Some(1 << 20));
        assert_eq!(l2::parse_size("524288"), Some(512 << 10));
        for bad in ["", "K", "12Q", "-1K", "99999999999999999999G"] {
            assert_eq!(l2::parse_size(bad), None, "{bad}");
        }
        assert_eq!(l2::count_cpus("0"), Some(1));
        assert_eq!(l2::count_cpus("0-3,8"), Some(5));
        assert_eq!(l2::count_cpus("0,4"), Some(2));
        for bad in ["", "3-1", "a", "0-x"] {
            assert_eq!(l2::count_cpus(bad), None, "{bad}");
        }
    }

    /// CI runs on Linux, where the L2 size must be read, or the scaling
    /// above would go untested there.
    #[test]
    fn ci_reads_the_l2_size() {
        if std::env::var_os("CI").is_some() && cfg!(target_os = "linux") {
            let bytes = l2::per_core_bytes().expect("CI's sysfs names an L2 cache");
            assert!(bytes >= 64 << 10, "{bytes}");
        }
    }

    #[test]
    fn cache_buckets_follow_the_l2_within_bounds() {
        assert_eq!(T.with_l2(512 << 10).cache_buckets, T.cache_buckets);
        assert_eq!(T.with_l2(2 << 20).cache_buckets, 4 * T.cache_buckets);
        assert_eq!(T.with_l2(256 << 10).cache_buckets, T.cache_buckets / 2);
        assert_eq!(T.with_l2(1 << 40).cache_buckets, 8 * T.cache_buckets);
        assert_eq!(T.with_l2(0).cache_buckets, T.cache_buckets / 8);
        // A larger cache never plans more windows (narrower ones).
        let small = T.with_l2(512 << 10).plan(1 << 19, 128, 2);
        let large = T.with_l2(2 << 20).plan(1 << 19, 128, 2);
        assert!(
            large.windows.len() <= small.windows.len(),
            "{small:?} {large:?}"
        );
    }

    const T: Tuning = <ark_bn254::g1::Config as crate::msm::MsmCurve>::TUNING;

    #[test]
    fn more_points_means_wider_windows() {
        let small = T.plan(1 << 10, 128, 2);
        let large = T.plan(1 << 20, 128, 2);
        assert!(small.windows.width(0) < large.windows.width(0));
        assert!(large.windows.width(0) <= MAX_WIDTH);
    }

    #[test]
    fn cache_penalty_keeps_buckets_moderate() {
        // 2^19 GLV halves (a 2^18 MSM): measured best at 9-10 windows
        // (2^13 to 2^14 buckets), not the 7-8 the bare add count favours.
        let p = T.plan(1 << 19, 128, 2);
        assert!((9..=12).contains(&p.windows.len()), "{p:?}");
    }

    #[test]
    fn one_point_plans_are_valid() {
        for bits in [1u32, 8, 64, 128, 254] {
            let p = T.plan(1, bits, 2);
            assert!(p.windows.len() >= 1 && p.chunks >= 1);
        }
    }
}
