//! How a run ends: what it is waiting for once its streams were told to end, and the
//! watchdog that gives a pipeline up when nothing has moved for [`FINISH_STALL`].

use std::time::{Duration, Instant};

use super::Ending;

/// Where a run stands on its way to its end.
pub(super) struct Finishing {
    /// How it ends once the pipeline's end-of-stream comes.
    pub(super) ending: Ending,
    /// When the streams were ended (`--max-frames`, Ctrl-C).
    pub(super) eos_sent: Option<Instant>,
    /// When the interruption was first seen, while waiting for every stream's first frame.
    pub(super) interrupted_at: Option<Instant>,
    /// Frames delivered to the sinks, and model runs finished, at the last look; when
    /// either last went up or a model was at work.
    pub(super) last_delivered: u64,
    pub(super) last_models_finished: u64,
    pub(super) last_progress: Instant,
}

impl Finishing {
    pub(super) fn new() -> Finishing {
        Finishing {
            ending: Ending::Eos,
            eos_sent: None,
            interrupted_at: None,
            last_delivered: 0,
            last_models_finished: 0,
            last_progress: Instant::now(),
        }
    }

    /// Takes a look: frames delivered so far and the models' work
    /// ([`crate::engine::busy::snapshot`]). Progress is a frame more at an output, a model
    /// at work now, or a model run finished since the last look: a batch that takes longer
    /// than [`FINISH_STALL`] on a loaded machine is slow, not stuck.
    pub(super) fn look(&mut self, delivered: u64, (models_running, models_finished): (usize, u64)) {
        if delivered != self.last_delivered
            || models_finished != self.last_models_finished
            || models_running > 0
        {
            self.last_delivered = delivered;
            self.last_models_finished = models_finished;
            self.last_progress = Instant::now();
        }
    }
}

/// After end-of-stream, how long the pipeline may go without progress (a frame delivered to
/// a sink, a model at work: [`Finishing::look`]) before the run is given up as stuck.
pub(super) const FINISH_STALL: Duration = Duration::from_secs(20);
/// How long an interrupted run waits for a stream's first frame before ending it.
pub(super) const FIRST_FRAME_WAIT: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;

    /// A state whose last progress was `ago` before now, having seen `delivered` frames
    /// and `finished` model runs.
    fn stalled_for(ago: Duration, delivered: u64, finished: u64) -> Finishing {
        let mut state = Finishing::new();
        state.last_delivered = delivered;
        state.last_models_finished = finished;
        state.last_progress = Instant::now() - ago;
        state
    }

    #[test]
    fn a_model_at_work_or_done_since_the_last_look_is_progress() {
        let long = FINISH_STALL * 2;
        // Nothing moved: the stall goes on.
        let mut state = stalled_for(long, 5, 7);
        state.look(5, (0, 7));
        assert!(state.last_progress.elapsed() > FINISH_STALL);
        // A model still running a slow batch (no frame out for longer than the limit).
        let mut state = stalled_for(long, 5, 7);
        state.look(5, (1, 7));
        assert!(state.last_progress.elapsed() < FINISH_STALL);
        // A batch finished between two looks.
        let mut state = stalled_for(long, 5, 7);
        state.look(5, (0, 8));
        assert!(state.last_progress.elapsed() < FINISH_STALL);
        assert_eq!(state.last_models_finished, 8);
        // A frame reached an output.
        let mut state = stalled_for(long, 5, 7);
        state.look(6, (0, 7));
        assert!(state.last_progress.elapsed() < FINISH_STALL);
        assert_eq!(state.last_delivered, 6);
    }
}
