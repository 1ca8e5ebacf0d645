//! Signals during `vplc run`: the first SIGINT, SIGTERM or SIGHUP asks the run to end as
//! Ctrl-C does (end-of-stream, every output finished, exit 130); a second one while the
//! outputs are being finished stops at once, with the conventional status of that signal
//! (128 + its number) and a line naming the outputs left unfinished.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// What a run shares with the thread that receives the signals.
#[derive(Clone, Default)]
pub struct Interrupt {
    /// Set by the first signal; the run polls it.
    pub requested: Arc<AtomicBool>,
    /// The outputs being written, named in the message of a second signal.
    pub outputs: Arc<Mutex<Vec<String>>>,
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
                        if shared.requested.swap(true, Ordering::SeqCst) {
                            shared.stop_now(signal);
                        }
                    }
                })
                .ok();
        }
        interrupt
    }

    /// A second signal: the user does not want to wait for the outputs.
    fn stop_now(&self, signal: i32) -> ! {
        let outputs = self.outputs.lock().map(|o| o.clone()).unwrap_or_default();
        let name = match signal {
            SIGINT => "interrupted (Ctrl-C)",
            SIGTERM => "terminated (SIGTERM)",
            SIGHUP => "hung up (SIGHUP)",
            _ => "signalled",
        };
        if outputs.is_empty() {
            eprintln!("vplc: {name} again: stopped at once");
        } else {
            eprintln!(
                "vplc: {name} again: stopped at once; left unfinished (may not play or may end mid-record): {}",
                outputs.join(", ")
            );
        }
        std::process::exit(128 + signal);
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}
