//! Thin wrappers so the rest of the module reads the same with and without
//! the `parallel` feature. Without it every helper runs sequentially on the
//! calling thread; results are identical either way (only the schedule
//! changes), which the tests rely on.

#[cfg(feature = "parallel")]
use rayon::prelude::*;

/// Number of worker threads the current rayon pool offers (1 without `parallel`).
pub(crate) fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Runs `f(0..n)` (possibly concurrently) and returns the results in index order.
pub(crate) fn map_indices<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

/// Runs `f(0..n)` and returns the results in index order, like
/// [`map_indices`], but the workers (one per thread) take indices one at a
/// time from a shared counter, in order: a worker that is slowed down (by
/// a bigger task or by another process on its core) simply takes fewer.
pub(crate) fn map_dynamic<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use core::sync::atomic::{AtomicUsize, Ordering};
        let next = AtomicUsize::new(0);
        let workers = threads().min(n);
        let per_worker: Vec<Vec<(usize, T)>> = (0..workers)
            .into_par_iter()
            .map(|_| {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break out;
                    }
                    out.push((i, f(i)));
                }
            })
            .collect();
        let mut all: Vec<(usize, T)> = per_worker.into_iter().flatten().collect();
        all.sort_unstable_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, t)| t).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

/// Runs `f` on every element of `items` (possibly concurrently), consuming them.
pub(crate) fn for_each_owned<T, F>(items: Vec<T>, f: F)
where
    T: Send,
    F: Fn(T) + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        items.into_par_iter().for_each(f)
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.into_iter().for_each(f)
    }
}

/// Calls `f(i, &mut a[i], &mut b[i], &mut c[K * i..K * (i + 1)])` for every
/// `i` (possibly concurrently): fills several tables in one pass.
pub(crate) fn fill3<A, B, C, const K: usize, F>(a: &mut [A], b: &mut [B], c: &mut [C], f: F)
where
    A: Send,
    B: Send,
    C: Send,
    F: Fn(usize, &mut A, &mut B, &mut [C]) + Sync + Send,
{
    assert!(
        a.len() == b.len() && c.len() == K * a.len(),
        "table lengths"
    );
    #[cfg(feature = "parallel")]
    {
        a.par_iter_mut()
            .zip(b.par_iter_mut())
            .zip(c.par_chunks_mut(K.max(1)))
            .enumerate()
            .with_min_len(1024)
            .for_each(|(i, ((a, b), c))| f(i, a, b, c))
    }
    #[cfg(not(feature = "parallel"))]
    {
        a.iter_mut()
            .zip(b.iter_mut())
            .zip(c.chunks_mut(K.max(1)))
            .enumerate()
            .for_each(|(i, ((a, b), c))| f(i, a, b, c))
    }
}
