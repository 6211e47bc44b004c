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

/// The `K` outputs of `f(0)`, then those of `f(1)`, ... as one vector.
pub(crate) fn flat_map_indices<T, const K: usize, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> [T; K] + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        (0..n).into_par_iter().flat_map_iter(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).flat_map(f).collect()
    }
}
