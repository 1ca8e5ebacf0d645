//! The control API of a run without pools: nothing to add or remove, but health answers
//! and `POST /v1/stop` ends the run as Ctrl-C does, with exit status 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use vpl_compiler::pool::Request;

use super::api::{Added, Refused, StreamInfo, Streams};

/// A run of a fixed program: [`Streams`] with no pool.
pub struct StaticRun {
    /// The run's "stop as Ctrl-C does" flag (the signals' `Interrupt::requested`).
    interrupt: Arc<AtomicBool>,
    playing: AtomicBool,
    stopped: AtomicBool,
}

impl StaticRun {
    /// A run whose end is asked by setting `interrupt`.
    pub fn new(interrupt: Arc<AtomicBool>) -> StaticRun {
        StaticRun {
            interrupt,
            playing: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        }
    }

    /// The pipeline plays: ready from now on.
    pub fn playing(&self) {
        self.playing.store(true, Ordering::SeqCst);
    }

    /// Whether `POST /v1/stop` asked the run to end.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

impl Streams for StaticRun {
    fn pools(&self) -> Vec<String> {
        Vec::new()
    }

    fn list(&self) -> Vec<StreamInfo> {
        Vec::new()
    }

    fn add(&self, pool: &str, _request: Request) -> Result<Added, Refused> {
        Err(Refused::NotFound(format!(
            "no pool named `{}`: this program has no pool",
            pool.escape_debug()
        )))
    }

    fn remove(&self, id: &str) -> Result<u64, Refused> {
        Err(Refused::NotFound(format!(
            "no stream `{}`: this program has no pool, so no stream to remove",
            id.escape_debug()
        )))
    }

    fn ready(&self) -> bool {
        self.playing.load(Ordering::SeqCst) && !self.interrupt.load(Ordering::SeqCst)
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.interrupt.store(true, Ordering::SeqCst);
    }
}
