//! Models at work: how many model runs are in progress in this process, and how many have
//! finished. A run of a large model on a loaded machine can take longer than the time the
//! end-of-stream watchdog ([`crate::pipeline`]) allows between two frames reaching an
//! output (22 s a batch was seen with 16 processes on 2 cores); the watchdog counts a
//! model at work, or one that finished since its last look, as progress, so only a
//! pipeline where nothing moves at all is given up.
//!
//! Process-wide: a process runs one pipeline (tests that run several in one process only
//! make each one's watchdog more patient).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static FINISHED: AtomicU64 = AtomicU64::new(0);

/// Held for as long as a model runs (waiting for its session included).
#[must_use = "the run counts as in progress only while the guard lives"]
pub struct AtWork(());

impl AtWork {
    pub fn start() -> AtWork {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        AtWork(())
    }
}

impl Drop for AtWork {
    fn drop(&mut self) {
        FINISHED.fetch_add(1, Ordering::SeqCst);
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Model runs in progress now, and model runs finished so far.
pub fn snapshot() -> (usize, u64) {
    (
        RUNNING.load(Ordering::SeqCst),
        FINISHED.load(Ordering::SeqCst),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_counts_while_its_guard_lives_and_after_it_ends() {
        let (_, finished_before) = snapshot();
        let guard = AtWork::start();
        let (running, finished) = snapshot();
        assert!(running >= 1);
        assert!(finished >= finished_before);
        drop(guard);
        let (_, finished_after) = snapshot();
        assert!(finished_after > finished_before);
    }
}
