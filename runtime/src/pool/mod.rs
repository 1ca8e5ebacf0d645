//! A running program's pools: streams bound to pre-built slots while the pipeline plays.
//!
//! Every slot of every pool ([`vpl_compiler::plan::PoolPlan`]) is a whole chain of elements
//! headed by a `vplslot`. An idle slot's elements are held in NULL (locked out of the
//! pipeline's state changes), so none of its outputs is opened. [`Pools::add`] takes the
//! lowest free slot, fills the slot's `{stream}` templates with the stream's id, lets its
//! elements follow the pipeline into PLAYING and binds the stream's feeder. When the stream
//! leaves (removed, its file ended, its camera lost for good) the slot's branch gets
//! end-of-stream; the slot is drained when that end-of-stream has reached every way out of
//! the slot (each of its sinks, each link into an element other slots share), where it is
//! kept: the pipeline never sees a slot's end. Then the records get a `stream_removed`
//! line, the slot's elements go back to NULL, locked, and the slot is free again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use vpl_compiler::plan::PoolPlan;
use vpl_compiler::pool::Entry;

use crate::elements::records::VplRecords;
use crate::elements::slot::{Ended, VplSlot};

/// How long [`Pools::remove`] waits for a slot to drain, without progress, before giving up
/// on it.
const DRAIN_WAIT: Duration = Duration::from_secs(60);

/// Why a stream was not added or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// No pool, or no stream, of that name.
    NotFound(String),
    /// The id is taken, or the pool is full.
    Conflict(String),
    /// The run is stopping, or the slot could not start.
    Unavailable(String),
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoolError::NotFound(s) | PoolError::Conflict(s) | PoolError::Unavailable(s) => {
                f.write_str(s)
            }
        }
    }
}

/// A stream bound to a slot, as [`Pools::list`] gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub pool: String,
    pub slot: usize,
    /// The program's stream index of the slot.
    pub stream: usize,
    pub id: String,
    pub url: String,
    /// `starting`, `playing`, `reconnecting` or `draining`.
    pub state: &'static str,
    pub frames: u64,
    pub fps: f64,
    pub last_error: Option<String>,
}

/// A stream that left its slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    pub pool: String,
    pub slot: usize,
    pub id: String,
    pub frames: u64,
    /// `removed`, `ended` or `failed`.
    pub reason: &'static str,
}

/// A stream admitted during the run, as [`Pools::admitted`] gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted {
    pub id: String,
    pub pool: String,
    pub slot: usize,
    /// Its frames: all of them once it left, so far while it is bound.
    pub frames: u64,
    /// Why it left (`removed`, `ended` or `failed`); `None` while it is bound.
    pub reason: Option<&'static str>,
}

/// One slot's elements, as the pipeline holds them.
struct Slot {
    head: VplSlot,
    /// The slot's own elements, the head first, in plan order.
    elements: Vec<gst::Element>,
    records: Vec<VplRecords>,
    /// Properties filled with the stream's id: element, property, text with `{stream}`.
    templates: Vec<(gst::Element, String, String)>,
    /// The ways out of the slot, whose end-of-stream says that part of it is drained.
    exits: usize,
    /// The sink pads of elements the slots share (a `tile`'s compositor) that the slot
    /// feeds: never ended by a stream leaving, flushed once the slot is drained (its cell
    /// of the tile goes back to the background), ended when the run ends.
    shared: Vec<gst::Pad>,
}

struct Pool {
    plan: PoolPlan,
    slots: Vec<Slot>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Starting,
    Playing,
    Draining,
}

/// A bound slot's stream.
struct Active {
    entry: Entry,
    phase: Phase,
    /// Why it left, once it did.
    ended: Option<Ended>,
    /// Exits that have seen the end-of-stream.
    drained: Vec<bool>,
    /// Frames at the last rate reading, and when.
    mark: (Instant, u64),
    fps: f64,
}

/// A stream's frames and why it left.
type Gone = (u64, &'static str);

#[derive(Default)]
struct State {
    /// By pool, then slot.
    active: Vec<Vec<Option<Active>>>,
    /// Streams that left, by id, until [`Pools::remove`] collects them.
    left: HashMap<String, Left>,
    /// Every stream admitted in the run, in the order they were bound: pool, slot, id,
    /// and once it left, its frames and why.
    admitted: Vec<(usize, usize, String, Option<Gone>)>,
    stopping: bool,
    /// End the run once no stream is bound (a run without the control API).
    end_when_empty: bool,
}

struct Inner {
    pipeline: gst::Pipeline,
    pools: Vec<Pool>,
    state: Mutex<State>,
    changed: Condvar,
    /// The run's end flag ([`crate::pipeline::Running::end_flag`]).
    end: Arc<AtomicBool>,
    /// Records files shared by slots, held open for the whole run: the file is created
    /// once, when the run starts, and a slot that starts again appends to it.
    _held: Vec<Arc<crate::elements::records::SharedWriter>>,
    /// The sinks no slot owns that slots feed (a `tile`'s file): finished when the run of
    /// pools ends, after every slot has left.
    shared_sinks: Vec<gst::Element>,
}

/// The pools of a running pipeline. Cloning gives another handle to the same pools.
#[derive(Clone)]
pub struct Pools {
    inner: Arc<Inner>,
}

fn element(pipeline: &gst::Pipeline, name: &str) -> Result<gst::Element, String> {
    pipeline
        .by_name(name)
        .ok_or_else(|| format!("the pipeline has no element `{name}`"))
}

impl Pools {
    /// Takes hold of the slots of `plans` in `pipeline`, before it starts: every slot's
    /// elements are locked in NULL. `end` is the run's end flag, set once the run of pools
    /// is over ([`Pools::finish`], or the last stream leaving after
    /// [`Pools::end_when_empty`]).
    pub fn new(
        pipeline: &gst::Pipeline,
        plans: &[PoolPlan],
        end: Arc<AtomicBool>,
    ) -> Result<Pools, String> {
        let mut pools = Vec::new();
        let mut held = Vec::new();
        for plan in plans {
            let mut slots = Vec::new();
            for slot in &plan.slots {
                let head = element(pipeline, &slot.head)?
                    .downcast::<VplSlot>()
                    .map_err(|_| format!("`{}` is not a vplslot", slot.head))?;
                let elements = slot
                    .elements
                    .iter()
                    .map(|name| element(pipeline, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let templates = slot
                    .templates
                    .iter()
                    .map(|t| {
                        let e = element(pipeline, &t.element)?;
                        if e.find_property(&t.property).is_none() {
                            return Err(format!(
                                "`{}` has no property `{}` to fill with the stream's id",
                                t.element, t.property
                            ));
                        }
                        Ok((e, t.property.clone(), t.text.clone()))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                let records: Vec<VplRecords> = elements
                    .iter()
                    .filter_map(|e| e.clone().downcast::<VplRecords>().ok())
                    .collect();
                for r in &records {
                    let location = r.property::<String>("location");
                    let templated = templates
                        .iter()
                        .any(|(e, p, _)| e == r.upcast_ref::<gst::Element>() && p == "location");
                    if !templated && crate::brokers::protocol_of(&location).is_none() {
                        held.push(
                            crate::elements::records::writer_for(&location)
                                .map_err(|e| format!("cannot create {location}: {e}"))?,
                        );
                    }
                }
                for e in &elements {
                    e.set_locked_state(true);
                    // A sink that waited for its first frame in PAUSED would take the
                    // playing pipeline back to PAUSED with it (its state lost), and with it
                    // the slot's live source, which places frames only while it plays.
                    if e.is::<gstreamer_base::BaseSink>() {
                        e.set_property("async", false);
                    }
                }
                slots.push(Slot {
                    head,
                    elements,
                    records,
                    templates,
                    exits: 0,
                    shared: Vec::new(),
                });
            }
            pools.push(Pool {
                plan: plan.clone(),
                slots,
            });
        }
        let state = State {
            active: pools
                .iter()
                .map(|p| p.slots.iter().map(|_| None).collect())
                .collect(),
            ..State::default()
        };
        let mut inner = Inner {
            pipeline: pipeline.clone(),
            pools,
            state: Mutex::new(state),
            changed: Condvar::new(),
            end,
            _held: held,
            shared_sinks: Vec::new(),
        };
        let exits = exits_of(&inner);
        for (p, s, pads) in &exits {
            let slot = &mut inner.pools[*p].slots[*s];
            slot.exits = pads.len();
            slot.shared = pads
                .iter()
                .filter(|pad| pad.direction() == gst::PadDirection::Src)
                .filter_map(|pad| pad.peer())
                .collect();
        }
        let sinks = shared_sinks(&inner);
        inner.shared_sinks = sinks;
        for pad in inner
            .pools
            .iter()
            .flat_map(|p| &p.slots)
            .flat_map(|s| &s.shared)
        {
            // A compositor's frames start at the first frame a slot brings, on the run's
            // clock as every slot's are, not at zero: the slots start while it plays.
            if let Some(e) = pad.parent_element()
                && e.find_property("start-time-selection").is_some()
            {
                e.set_property_from_str("start-time-selection", "first");
            }
        }
        let inner = Arc::new(inner);
        for (p, s, pads) in exits {
            for (i, pad) in pads.into_iter().enumerate() {
                watch_exit(&pad, Arc::downgrade(&inner), p, s, i);
            }
        }
        Ok(Pools { inner })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state()
    }

    /// The pools' plans, in the program's order.
    pub fn plans(&self) -> Vec<&PoolPlan> {
        self.inner.pools.iter().map(|p| &p.plan).collect()
    }

    /// Binds the admitted `entry` to the lowest free slot of `pool`; the slot's number.
    pub fn add(&self, pool: &str, entry: Entry) -> Result<usize, PoolError> {
        let inner = &self.inner;
        let p = inner
            .pools
            .iter()
            .position(|x| x.plan.name == pool)
            .ok_or_else(|| PoolError::NotFound(format!("no pool named `{pool}`")))?;
        let s = {
            let mut state = self.state();
            if state.stopping {
                return Err(PoolError::Unavailable("the run is stopping".into()));
            }
            if let Some((q, _)) = state.find(&entry.id) {
                return Err(PoolError::Conflict(format!(
                    "a stream `{}` is already in pool `{}`",
                    entry.id, inner.pools[q].plan.name
                )));
            }
            let Some(s) = state.active[p].iter().position(Option::is_none) else {
                return Err(PoolError::Conflict(format!(
                    "pool `{pool}` is full: its {} slots are taken",
                    inner.pools[p].slots.len()
                )));
            };
            state.left.remove(&entry.id);
            state.admitted.push((p, s, entry.id.clone(), None));
            state.active[p][s] = Some(Active {
                entry: entry.clone(),
                phase: Phase::Starting,
                ended: None,
                drained: vec![false; inner.pools[p].slots[s].exits],
                mark: (Instant::now(), 0),
                fps: 0.0,
            });
            s
        };
        if let Err(e) = self.start(p, s, &entry) {
            inner.reset(p, s);
            let mut state = self.state();
            state.active[p][s] = None;
            if let Some(i) = state
                .admitted
                .iter()
                .rposition(|a| a.0 == p && a.1 == s && a.3.is_none())
            {
                state.admitted.remove(i);
            }
            drop(state);
            inner.changed.notify_all();
            return Err(PoolError::Unavailable(e));
        }
        if let Some(active) = self.state().active[p][s].as_mut()
            && active.phase == Phase::Starting
        {
            active.phase = Phase::Playing;
        }
        Ok(s)
    }

    /// Fills the slot's templates, lets its elements play and binds the feeder.
    fn start(&self, p: usize, s: usize, entry: &Entry) -> Result<(), String> {
        let inner = &self.inner;
        let slot = &inner.pools[p].slots[s];
        for (e, property, text) in &slot.templates {
            let filled = text.replace("{stream}", &entry.id);
            // `hls("out/{stream}")`: the stream's directory is made when it is bound.
            if property == "playlist-location"
                && let Some(dir) = std::path::Path::new(&filled).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)
                    .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
            }
            e.set_property(property, filled);
        }
        let pipeline = &inner.pipeline;
        // Downstream first: each element is ready for frames before they come.
        for e in slot.elements.iter().rev() {
            e.set_locked_state(false);
            if let Some(clock) = pipeline.clock() {
                let _ = e.set_clock(Some(&clock));
            }
            e.set_base_time(pipeline.base_time().unwrap_or(gst::ClockTime::ZERO));
            e.set_start_time(pipeline.start_time());
            e.sync_state_with_parent()
                .map_err(|_| format!("`{}` of slot {s} cannot start", e.name()))?;
        }
        let weak = Arc::downgrade(inner);
        slot.head.bind(
            &entry.source,
            Box::new(move |ended| {
                if let Some(inner) = weak.upgrade() {
                    let mut state = inner.state();
                    if let Some(active) = state.active[p][s].as_mut() {
                        active.ended.get_or_insert(ended);
                        active.phase = Phase::Draining;
                    }
                }
            }),
        )
    }

    /// Ends the stream `id` and waits until its slot is drained (its outputs finished):
    /// the frames it had.
    pub fn remove(&self, id: &str) -> Result<u64, PoolError> {
        let (p, s) = {
            let mut state = self.state();
            let Some((p, s)) = state.find(id) else {
                return match state.left.remove(id) {
                    // It left by itself a moment ago: its frames are still news.
                    Some(left) => Ok(left.frames),
                    None => Err(PoolError::NotFound(format!("no stream `{id}`"))),
                };
            };
            if let Some(active) = state.active[p][s].as_mut() {
                active.ended.get_or_insert(Ended::Removed);
                active.phase = Phase::Draining;
            }
            (p, s)
        };
        self.inner.pools[p].slots[s].head.unbind();
        self.wait_left(id)
            .ok_or_else(|| PoolError::Unavailable(format!("stream `{id}` did not drain")))
    }

    /// Waits until stream `id` has left; its frames. Gives up after [`DRAIN_WAIT`] without
    /// progress: a model at work (or done since the last look,
    /// [`crate::engine::busy::snapshot`]) moves the deadline on, since the frames queued
    /// behind a slow model on a loaded machine drain as fast as it runs.
    fn wait_left(&self, id: &str) -> Option<u64> {
        let mut deadline = Instant::now() + DRAIN_WAIT;
        let mut models = crate::engine::busy::snapshot();
        let mut state = self.state();
        loop {
            if let Some(left) = state.left.remove(id) {
                return Some(left.frames);
            }
            // Still bound (draining): wait on.
            state.find(id)?;
            let now = crate::engine::busy::snapshot();
            if now.0 > 0 || now.1 != models.1 {
                models = now;
                deadline = Instant::now() + DRAIN_WAIT;
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return None;
            }
            state = self
                .inner
                .changed
                .wait_timeout(state, wait.min(Duration::from_secs(1)))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Every bound stream, by pool, then slot.
    pub fn list(&self) -> Vec<Bound> {
        let inner = &self.inner;
        let mut state = self.state();
        let mut out = Vec::new();
        for (p, pool) in inner.pools.iter().enumerate() {
            for (s, slot) in pool.slots.iter().enumerate() {
                let Some(active) = state.active[p][s].as_mut() else {
                    continue;
                };
                let frames = slot.head.frames();
                let elapsed = active.mark.0.elapsed();
                if elapsed >= Duration::from_secs(1) {
                    active.fps =
                        frames.saturating_sub(active.mark.1) as f64 / elapsed.as_secs_f64();
                    active.mark = (Instant::now(), frames);
                }
                let reconnecting = slot.head.reconnecting();
                out.push(Bound {
                    pool: pool.plan.name.clone(),
                    slot: s,
                    stream: pool.plan.slots[s].stream,
                    id: active.entry.id.clone(),
                    url: active.entry.url.clone(),
                    state: match active.phase {
                        Phase::Starting => "starting",
                        Phase::Draining => "draining",
                        Phase::Playing if reconnecting => "reconnecting",
                        Phase::Playing => "playing",
                    },
                    frames,
                    fps: active.fps,
                    last_error: match &active.ended {
                        Some(Ended::Failed(why)) => Some(why.clone()),
                        _ => slot.head.last_error(),
                    },
                });
            }
        }
        out
    }

    /// Ends the run once no stream is bound any more: a run with no control API ends
    /// when every stream of its `streams:` files has left.
    pub fn end_when_empty(&self) {
        let mut state = self.state();
        state.end_when_empty = true;
        if state.bound() == 0 {
            self.inner.end.store(true, Ordering::SeqCst);
        }
    }

    /// Ends the run as Ctrl-C does: no stream is added any more, every bound stream is
    /// removed and drained (its outputs finished), then the run's end flag is set. The
    /// streams that left, in the order they were bound.
    pub fn finish(&self) {
        let ids: Vec<String> = {
            let mut state = self.state();
            state.stopping = true;
            state
                .active
                .iter()
                .flatten()
                .flatten()
                .map(|a| a.entry.id.clone())
                .collect()
        };
        let removals: Vec<_> = ids
            .into_iter()
            .map(|id| {
                let pools = self.clone();
                std::thread::spawn(move || pools.remove(&id))
            })
            .collect();
        for r in removals {
            let _ = r.join();
        }
        self.inner.end_run();
    }

    /// Every stream admitted during the run, in the order they were bound, with its
    /// frames and why it left (for `--stats`).
    pub fn admitted(&self) -> Vec<Admitted> {
        let inner = &self.inner;
        let state = self.state();
        state
            .admitted
            .iter()
            .map(|(p, s, id, left)| Admitted {
                id: id.clone(),
                pool: inner.pools[*p].plan.name.clone(),
                slot: *s,
                frames: left.map_or_else(|| inner.pools[*p].slots[*s].head.frames(), |l| l.0),
                reason: left.map(|l| l.1),
            })
            .collect()
    }

    /// The run is stopping (no stream can be added).
    pub fn stopping(&self) -> bool {
        self.state().stopping
    }
}

impl State {
    fn find(&self, id: &str) -> Option<(usize, usize)> {
        self.active.iter().enumerate().find_map(|(p, slots)| {
            slots
                .iter()
                .position(|a| a.as_ref().is_some_and(|a| a.entry.id == id))
                .map(|s| (p, s))
        })
    }

    fn bound(&self) -> usize {
        self.active.iter().flatten().flatten().count()
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slot's elements back in NULL, locked.
    fn reset(&self, p: usize, s: usize) {
        let slot = &self.pools[p].slots[s];
        for e in &slot.elements {
            e.set_locked_state(true);
            let _ = e.set_state(gst::State::Null);
        }
    }

    /// End-of-stream reached exit `exit` of slot `s` of pool `p`: when it has reached all
    /// of them, the slot is finished, off the streaming thread.
    fn exit_drained(self: &Arc<Self>, p: usize, s: usize, exit: usize) {
        let all = {
            let mut state = self.state();
            let Some(active) = state.active[p][s].as_mut() else {
                return;
            };
            if let Some(d) = active.drained.get_mut(exit) {
                *d = true;
            }
            active.drained.iter().all(|d| *d)
        };
        if all {
            let inner = self.clone();
            std::thread::spawn(move || inner.finish_slot(p, s));
        }
    }

    /// The slot is drained: its records end, its elements stop, and it is free.
    fn finish_slot(&self, p: usize, s: usize) {
        let slot = &self.pools[p].slots[s];
        let frames = slot.head.frames();
        let ended = self.state().active[p][s]
            .as_ref()
            .and_then(|a| a.ended.clone())
            .unwrap_or(Ended::Ended);
        for r in &slot.records {
            if let Err(e) = r.stream_removed(frames, ended.reason()) {
                gst::warning!(gst::CAT_DEFAULT, "{e}");
            }
        }
        self.reset(p, s);
        // The shared element keeps the stream's last frame: a flush drops it (the cell of
        // a tile is the background again) and readies the pad for the next stream. Not
        // when the run is stopping: the grid's last frames still show every stream.
        let stopping = self.state().stopping;
        for pad in slot.shared.iter().filter(|_| !stopping) {
            pad.send_event(gst::event::FlushStart::new());
            pad.send_event(gst::event::FlushStop::new(true));
        }
        let mut state = self.state();
        if let Some(a) = state
            .admitted
            .iter_mut()
            .rev()
            .find(|a| a.0 == p && a.1 == s && a.3.is_none())
        {
            a.3 = Some((frames, ended.reason()));
        }
        if let Some(active) = state.active[p][s].take() {
            state.left.insert(
                active.entry.id.clone(),
                Left {
                    pool: self.pools[p].plan.name.clone(),
                    slot: s,
                    id: active.entry.id,
                    frames,
                    reason: ended.reason(),
                },
            );
        }
        let last = state.end_when_empty && !state.stopping && state.bound() == 0;
        drop(state);
        self.changed.notify_all();
        if last {
            self.end_run();
        }
    }

    /// The run of pools is over, every slot drained: the elements the slots share get
    /// their end-of-stream, the run ends once it has reached the sinks they feed (a
    /// `tile`'s MP4 is finished, playable), at most [`DRAIN_WAIT`] later.
    fn end_run(&self) {
        for pool in &self.pools {
            for slot in &pool.slots {
                for pad in &slot.shared {
                    pad.send_event(gst::event::Eos::new());
                }
            }
        }
        let deadline = Instant::now() + DRAIN_WAIT;
        let ended = |sink: &gst::Element| {
            sink.sink_pads()
                .iter()
                .all(|pad| pad.pad_flags().contains(gst::PadFlags::EOS))
        };
        while !self.shared_sinks.iter().all(ended) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.end.store(true, Ordering::SeqCst);
    }
}

/// The ways out of each slot: the sink pads of its sinks, and its source pads linked to an
/// element the slot does not own.
fn exits_of(inner: &Inner) -> Vec<(usize, usize, Vec<gst::Pad>)> {
    let mut out = Vec::new();
    for (p, pool) in inner.pools.iter().enumerate() {
        for (s, slot) in pool.slots.iter().enumerate() {
            let mut pads = Vec::new();
            for e in &slot.elements {
                if e.src_pads().is_empty() {
                    pads.extend(e.sink_pads());
                    continue;
                }
                for pad in e.src_pads() {
                    let outside = pad
                        .peer()
                        .and_then(|peer| peer.parent_element())
                        .is_some_and(|next| !slot.elements.contains(&next));
                    if outside {
                        pads.push(pad);
                    }
                }
            }
            out.push((p, s, pads));
        }
    }
    out
}

/// The sinks no slot owns downstream of the elements the slots share.
fn shared_sinks(inner: &Inner) -> Vec<gst::Element> {
    let owned: Vec<&gst::Element> = inner
        .pools
        .iter()
        .flat_map(|p| &p.slots)
        .flat_map(|s| &s.elements)
        .collect();
    let mut todo: Vec<gst::Element> = inner
        .pools
        .iter()
        .flat_map(|p| &p.slots)
        .flat_map(|s| &s.shared)
        .filter_map(|pad| pad.parent_element())
        .collect();
    let mut seen: Vec<gst::Element> = Vec::new();
    let mut sinks = Vec::new();
    while let Some(e) = todo.pop() {
        if seen.contains(&e) || owned.contains(&&e) {
            continue;
        }
        seen.push(e.clone());
        if e.src_pads().is_empty() {
            sinks.push(e);
            continue;
        }
        todo.extend(
            e.src_pads()
                .iter()
                .filter_map(|pad| pad.peer()?.parent_element()),
        );
    }
    sinks
}

/// Keeps the end-of-stream that reaches `pad` from the pipeline, and tells the pools. The
/// end-of-stream is replaced by an event nobody acts on (a dropped event makes GStreamer
/// unref it twice, a CRITICAL each time).
fn watch_exit(pad: &gst::Pad, inner: Weak<Inner>, p: usize, s: usize, exit: usize) {
    pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
        let is_eos = matches!(
            info.data,
            Some(gst::PadProbeData::Event(ref e)) if e.type_() == gst::EventType::Eos
        );
        if !is_eos {
            return gst::PadProbeReturn::Ok;
        }
        if let Some(inner) = inner.upgrade() {
            inner.exit_drained(p, s, exit);
        }
        let kept = gst::Structure::new_empty("vpl-slot-drained");
        info.data = Some(gst::PadProbeData::Event(gst::event::CustomDownstream::new(
            kept,
        )));
        gst::PadProbeReturn::Ok
    });
}
