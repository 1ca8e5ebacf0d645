//! Frames from several streams → batches for one model run → each frame's own result.
//!
//! Every stream has its own streaming thread, and a model runs faster on a batch of N
//! frames than on N single frames. A [`Batcher`] lets those threads meet: each thread
//! [`submit`](Batcher::submit)s its item and blocks; the thread whose item completes a
//! batch (or that finds the oldest item waited `timeout`) runs the whole batch and hands
//! every other thread its result. No thread of its own is needed, so nothing outlives the
//! elements using it.
//!
//! A partial batch never starts while another batch runs, and its timeout counts from the
//! later of its oldest item's arrival and the end of the last batch: the streams of the
//! batch that just ended need a moment to come back with their next frames. Without this,
//! one stream late by more than the timeout split the batch in two (3 + 1 of 4 streams)
//! that then ran side by side, out of step, and stayed so: batches of 1 and 2 competing
//! for the model, slower than no batching at all (issue 15, measured in BENCHMARKS.md).

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// One submitted item as the batch function sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<T> {
    /// The stream index given to `submit`.
    pub stream: u32,
    pub value: T,
}

/// Why `submit` has no result for its item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// The batch function returned fewer results than items.
    MissingResult { got: usize, expected: usize },
    /// The batch function panicked; the message is the panic's, when it was a string.
    Panicked(String),
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            BatchError::MissingResult { got, expected } => {
                write!(f, "batch produced {got} results for {expected} frames")
            }
            BatchError::Panicked(why) => write!(f, "batch failed: {why}"),
        }
    }
}

impl std::error::Error for BatchError {}

type RunFn<I, O> = dyn Fn(Vec<Item<I>>) -> Vec<O> + Send + Sync;

/// Collects items from several threads into batches of at most `size`, in submission order.
pub struct Batcher<I, O> {
    size: usize,
    timeout: Duration,
    run: Box<RunFn<I, O>>,
    queue: Mutex<Queue<I, O>>,
    changed: Condvar,
    batches: AtomicU64,
    items: AtomicU64,
}

struct Queue<I, O> {
    next_ticket: u64,
    waiting: VecDeque<Waiting<I>>,
    done: HashMap<u64, Result<O, BatchError>>,
    /// Batches running now.
    running: usize,
    /// When the last batch ended (or the batcher was made).
    idle_since: Instant,
}

struct Waiting<I> {
    ticket: u64,
    since: Instant,
    item: Item<I>,
}

/// How many batches ran and how many items they held: lets tests and stats see batching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchStats {
    pub batches: u64,
    pub items: u64,
}

impl<I, O> Batcher<I, O> {
    /// `run` gets a batch in submission order and must return one result per item, in the
    /// same order. A `size` of 0 is taken as 1.
    pub fn new(
        size: usize,
        timeout: Duration,
        run: impl Fn(Vec<Item<I>>) -> Vec<O> + Send + Sync + 'static,
    ) -> Self {
        Batcher {
            size: size.max(1),
            timeout,
            run: Box::new(run),
            queue: Mutex::new(Queue {
                next_ticket: 0,
                waiting: VecDeque::new(),
                done: HashMap::new(),
                running: 0,
                idle_since: Instant::now(),
            }),
            changed: Condvar::new(),
            batches: AtomicU64::new(0),
            items: AtomicU64::new(0),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn stats(&self) -> BatchStats {
        BatchStats {
            batches: self.batches.load(Ordering::Relaxed),
            items: self.items.load(Ordering::Relaxed),
        }
    }

    /// Blocks until the batch holding `value` has run and returns its result.
    pub fn submit(&self, stream: u32, value: I) -> Result<O, BatchError> {
        let mut queue = self.lock();
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiting.push_back(Waiting {
            ticket,
            since: Instant::now(),
            item: Item { stream, value },
        });
        loop {
            if let Some(result) = queue.done.remove(&ticket) {
                return result;
            }
            let full = queue.waiting.len() >= self.size;
            // A partial batch waits for the running ones, then `timeout` from the later of
            // its oldest item's arrival and the last batch's end.
            let due = queue
                .waiting
                .front()
                .map(|w| w.since.max(queue.idle_since) + self.timeout);
            match due {
                Some(due) if full || (queue.running == 0 && Instant::now() >= due) => {
                    let n = queue.waiting.len().min(self.size);
                    let batch: Vec<Waiting<I>> = queue.waiting.drain(..n).collect();
                    queue.running += 1;
                    drop(queue);
                    self.run_batch(batch);
                    queue = self.lock();
                }
                // Our item waits for a partial batch's time: sleep until then or a change.
                Some(due) if queue.running == 0 => {
                    let left = due.saturating_duration_since(Instant::now());
                    queue = self.wait(queue, Some(left));
                }
                // Another thread is running a batch (ours, or one before ours): sleep until
                // a batch finishes.
                _ => queue = self.wait(queue, None),
            }
        }
    }

    fn run_batch(&self, batch: Vec<Waiting<I>>) {
        let tickets: Vec<u64> = batch.iter().map(|w| w.ticket).collect();
        let items: Vec<Item<I>> = batch.into_iter().map(|w| w.item).collect();
        let expected = items.len();
        let outcome = catch_unwind(AssertUnwindSafe(|| (self.run)(items)));
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(expected as u64, Ordering::Relaxed);
        let mut queue = self.lock();
        queue.running -= 1;
        queue.idle_since = Instant::now();
        match outcome {
            Ok(results) => {
                let got = results.len();
                let mut results = results.into_iter();
                for ticket in tickets {
                    let result = results
                        .next()
                        .ok_or(BatchError::MissingResult { got, expected });
                    queue.done.insert(ticket, result);
                }
            }
            Err(panic) => {
                let why = panic_message(panic.as_ref());
                for ticket in tickets {
                    queue
                        .done
                        .insert(ticket, Err(BatchError::Panicked(why.clone())));
                }
            }
        }
        drop(queue);
        self.changed.notify_all();
    }

    /// The queue stays usable after a panic elsewhere: its data is only ever left whole.
    fn lock(&self) -> MutexGuard<'_, Queue<I, O>> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wait<'a>(
        &self,
        queue: MutexGuard<'a, Queue<I, O>>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'a, Queue<I, O>> {
        match timeout {
            Some(t) => match self.changed.wait_timeout(queue, t) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            },
            None => self
                .changed
                .wait(queue)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

type Registry = Mutex<HashMap<String, Weak<dyn Any + Send + Sync>>>;

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The batcher of `group`, shared by every element naming that group while any of them
/// holds it; `make` builds it (loading the model, say) when none is alive. The registry
/// stays locked while `make` runs so that elements starting together load one model.
pub fn batcher_for<I, O, E>(
    group: &str,
    make: impl FnOnce() -> Result<Batcher<I, O>, E>,
) -> Result<Arc<Batcher<I, O>>, BatcherForError<E>>
where
    I: Send + 'static,
    O: Send + 'static,
{
    shared_for(group, make)
}

/// [`batcher_for`] for anything elements of a group share (a batcher with what it feeds).
pub fn shared_for<T, E>(
    group: &str,
    make: impl FnOnce() -> Result<T, E>,
) -> Result<Arc<T>, BatcherForError<E>>
where
    T: Send + Sync + 'static,
{
    let mut registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    registry.retain(|_, weak| weak.strong_count() > 0);
    if let Some(existing) = registry.get(group).and_then(Weak::upgrade) {
        return existing
            .downcast::<T>()
            .map_err(|_| BatcherForError::WrongKind);
    }
    let shared = Arc::new(make().map_err(BatcherForError::Make)?);
    let any: Arc<dyn Any + Send + Sync> = shared.clone();
    registry.insert(group.to_string(), Arc::downgrade(&any));
    Ok(shared)
}

/// Why [`batcher_for`] gave no batcher.
#[derive(Debug)]
pub enum BatcherForError<E> {
    /// `make` failed.
    Make(E),
    /// The group is in use by a batcher of other item or result types.
    WrongKind,
}

impl<E: fmt::Display> fmt::Display for BatcherForError<E> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            BatcherForError::Make(e) => e.fmt(f),
            BatcherForError::WrongKind => {
                f.write_str("the group is used by another kind of element")
            }
        }
    }
}
