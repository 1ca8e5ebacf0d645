//! Signals during `vplc run`: the first SIGINT, SIGTERM or SIGHUP asks the run to end as
//! Ctrl-C does (end-of-stream, every output finished, exit 130); a second one while the
//! outputs are being finished stops at once, with the conventional status of that signal
//! (128 + its number) and a line naming the outputs left unfinished, after the statistics
//! are written (`last_words`). Once the outputs are finished, while the run waits for
//! brokers to acknowledge what they were sent, any signal only ends that wait.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// What a run shares with the thread that receives the signals.
#[derive(Clone, Default)]
pub struct Interrupt {
    /// Set by the first signal; the run polls it.
    pub requested: Arc<AtomicBool>,
    /// The outputs being written, named in the message of a second signal.
    pub outputs: Arc<Mutex<Vec<String>>>,
    /// Signals received so far.
    received: Arc<AtomicUsize>,
    /// Set once every output is finished: a signal then ends the wait for the brokers,
    /// never the process. Locked by a second signal for as long as it takes to stop the
    /// process (it never lets go), so the run cannot call its outputs finished, and exit as
    /// if one signal had come, while a second one is stopping it.
    finished: Arc<Mutex<bool>>,
    /// Said and written before a second signal ends the process (the statistics, what the
    /// brokers were still to get).
    #[allow(clippy::type_complexity)]
    last_words: Arc<Mutex<Option<Box<dyn Fn() + Send>>>>,
}

impl Interrupt {
    /// Starts listening. Without a handler (a failure to install one) the signals keep
    /// their default action, which ends the process.
    pub fn listen() -> Self {
        let interrupt = Self::default();
        if let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            let shared = interrupt.clone();
            std::thread::Builder::new()
                .name("vplc-signals".into())
                .spawn(move || {
                    for signal in signals.forever() {
                        shared.received.fetch_add(1, Ordering::SeqCst);
                        if shared.requested.swap(true, Ordering::SeqCst) {
                            let finished = lock(&shared.finished);
                            if !*finished {
                                shared.stop_now(signal, finished);
                            }
                        }
                    }
                })
                .ok();
        }
        interrupt
    }

    /// A second signal: the user does not want to wait for the outputs. `finished` is held
    /// until the process ends.
    fn stop_now(&self, signal: i32, finished: MutexGuard<'_, bool>) -> ! {
        let outputs = self.outputs.lock().map(|o| o.clone()).unwrap_or_default();
        let name = match signal {
            SIGINT => "interrupted (Ctrl-C)",
            SIGTERM => "terminated (SIGTERM)",
            SIGHUP => "hung up (SIGHUP)",
            _ => "signalled",
        };
        if let Ok(last) = self.last_words.lock()
            && let Some(last) = last.as_ref()
        {
            last();
        }
        if outputs.is_empty() {
            eprintln!("vplc: {name} again: stopped at once");
        } else {
            eprintln!(
                "vplc: {name} again: stopped at once; left unfinished (may not play or may end mid-record): {}",
                outputs.join(", ")
            );
        }
        // Kept locked to the end: the run, which may finish its outputs meanwhile, waits
        // in `outputs_finished` rather than exit with the status of one signal.
        std::mem::forget(finished);
        std::process::exit(128 + signal);
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// The number of signals received so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// Every output is finished: from now on a signal does not end the process. Where a
    /// second signal is stopping the process already, this waits for it to (it never
    /// returns then).
    pub fn outputs_finished(&self) {
        *lock(&self.finished) = true;
    }

    /// What a second signal does before the process ends.
    pub fn set_last_words(&self, last: impl Fn() + Send + 'static) {
        if let Ok(mut slot) = self.last_words.lock() {
            *slot = Some(Box::new(last));
        }
    }
}

/// A lock that a panic elsewhere does not poison for the signal thread.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
