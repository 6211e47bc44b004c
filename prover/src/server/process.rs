//! The serving process holds secrets in memory while it proves (a contributor's secret, its
//! openings, the witness), so it keeps them out of core files and away from other processes:
//! the core-file size limit is set to zero and, on Linux, the process is marked not dumpable,
//! which also refuses `ptrace` and `/proc/<pid>/mem` to other processes of the same user.
//!
//! Invariant: [`harden`] runs before any request is read. It never fails the start: where the
//! platform refuses, the reason is logged.

/// Disables core dumps and, on Linux, dumpability of this process.
pub fn harden() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{
            DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit,
        };
        let no_core = Rlimit {
            current: Some(0),
            maximum: Some(0),
        };
        if let Err(e) = setrlimit(Resource::Core, no_core) {
            tracing::warn!(error = %e, "could not disable core dumps");
        }
        if let Err(e) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
            tracing::warn!(error = %e, "could not mark the process not dumpable");
        }
        tracing::info!("core dumps off, process not dumpable");
    }
}
