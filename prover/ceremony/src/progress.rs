//! Progress of the long ceremony steps (minutes each at D = 20), for progress bars.
//!
//! Each long step is a sequence of phases; a phase announces how many units it has (points,
//! wires, bytes) and then reports them as chunks finish. The work is split into chunks for this
//! (and only this): a chunk is large enough (thousands of points) that reporting costs nothing
//! measurable, and small enough that a bar moves every second or so.
//!
//! Invariant: reporting never changes a result. [`Silent`] is what the plain functions
//! (`new_zkey`, `contribute`, ...) pass.

/// Receives the progress of a long step. Implementations must be cheap; units are reported
/// between chunks, from the thread that runs the step (the chunks themselves run in parallel),
/// and `Sync` lets a step share its reporter with the closures it hands to rayon.
pub trait Progress: Sync {
    /// A new phase begins: `name` says what it does, `total` how many units it has (0 when the
    /// phase cannot count its work: a spinner then fits).
    fn phase(&self, name: &str, total: u64);
    /// `n` more units of the current phase are done.
    fn advance(&self, n: u64);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn phase(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// Points per chunk for point-wise work (scaling, fixed-base multiplication, MSM pieces).
pub(crate) const POINT_CHUNK: usize = 1 << 14;

/// `f` over `items` in chunks of [`POINT_CHUNK`], concatenating the chunks' outputs in order
/// and reporting each chunk's length as it finishes.
pub(crate) fn map_chunks<T: Sync, U: Send>(
    items: &[T],
    progress: &dyn Progress,
    f: impl Fn(&[T]) -> Vec<U> + Sync,
) -> Vec<U> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(POINT_CHUNK) {
        out.extend(f(chunk));
        progress.advance(chunk.len() as u64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Record(Mutex<Vec<(String, u64, u64)>>);
    impl Progress for Record {
        fn phase(&self, name: &str, total: u64) {
            self.0.lock().unwrap().push((name.into(), total, 0));
        }
        fn advance(&self, n: u64) {
            self.0.lock().unwrap().last_mut().unwrap().2 += n;
        }
    }

    #[test]
    fn chunks_keep_order_and_report_every_item() {
        let items: Vec<u64> = (0..(2 * POINT_CHUNK as u64 + 5)).collect();
        let rec = Record::default();
        rec.phase("double", items.len() as u64);
        let out = map_chunks(&items, &rec, |c| c.iter().map(|x| 2 * x).collect());
        assert_eq!(out, items.iter().map(|x| 2 * x).collect::<Vec<_>>());
        let phases = rec.0.lock().unwrap();
        assert_eq!(phases.len(), 1);
        assert_eq!(phases[0].1, phases[0].2);
    }
}
