//! Run-time figures for `vplc run --metrics`: how long frames take from their source to
//! each sink (latency) and through each `vplinfer` (inference, batching wait included),
//! and how full each queue is. Timings ride on the frames as `GstReferenceTimestampMeta`s
//! (queues, tees and converters keep them), so no table keyed on timestamps can confuse
//! two streams; a frame the compositor made (`tile`) starts without one and is not timed.
//! The same durations are also kept per stream and stage ([`StageTimings`]), by the id the
//! stream has when each frame is measured ([`StreamId`]: a pool's slot takes the id of the
//! stream bound to it). `vplc run --latency` stamps the frames too ([`stamp_sources`]), for
//! the records' `latency_ms` ([`since_entered`]).
//! Nothing is attached unless asked for: a run without `--metrics` or `--latency` pays
//! nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Instant;

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::pipeline::Running;

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ns() -> u64 {
    EPOCH.elapsed().as_nanos() as u64
}

/// The upper bounds, in seconds, of the buckets durations are counted in (Prometheus
/// histograms): from a millisecond to ten seconds; longer ones fall in the last, unbounded one.
pub const BUCKETS_S: [f64; 14] = [
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];

/// Durations measured at one place: how many, their sum, the last one, and how many fell
/// in each of [`BUCKETS_S`] (not cumulative: each duration counts in one bucket).
#[derive(Debug, Default)]
pub struct Timing {
    /// The sink or inference element measured.
    pub element: String,
    pub count: AtomicU64,
    pub sum_ns: AtomicU64,
    pub last_ns: AtomicU64,
    pub buckets: [AtomicU64; BUCKETS_S.len()],
}

impl Timing {
    fn new(element: &str) -> Arc<Timing> {
        Arc::new(Timing {
            element: element.to_string(),
            ..Timing::default()
        })
    }

    fn record(&self, ns: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.last_ns.store(ns, Ordering::Relaxed);
        let s = ns as f64 / 1e9;
        let i = BUCKETS_S
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS_S.len() - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// The id a stream's figures are labelled with (`stream_id`). The program's own streams
/// keep theirs, the stream's index as text (`"0"`, `"1"`); a pool's slot has the id of the
/// stream bound to it: set when the stream is bound, cleared when it leaves. While it is
/// empty no frame of the stream is counted.
#[derive(Debug, Clone, Default)]
pub struct StreamId(Arc<Mutex<String>>);

impl StreamId {
    pub fn new(id: &str) -> StreamId {
        StreamId(Arc::new(Mutex::new(id.to_string())))
    }

    fn lock(&self) -> MutexGuard<'_, String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stream bound now is `id`: the frames measured from now on count under it.
    pub fn set(&self, id: &str) {
        *self.lock() = id.to_string();
    }

    /// No stream is bound: frames measured from now on are not counted.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The id now; empty while no stream is bound.
    pub fn get(&self) -> String {
        self.lock().clone()
    }
}

/// Durations measured at one stage (a sink, an inference) on the frames of one stream, by
/// the stream's id when each was measured: a slot bound to one stream after another keeps
/// a [`Timing`] for each of them.
#[derive(Debug)]
pub struct StageTimings {
    /// The sink or inference element measured.
    pub element: String,
    /// The program's index of the stream the element serves.
    pub stream: usize,
    id: StreamId,
    /// Each id's durations, in the order of their first frame (the id the stream had when
    /// measuring began, from the start, even before any frame).
    by_id: Mutex<Vec<(String, Arc<Timing>)>>,
}

impl StageTimings {
    fn new(element: &str, stream: usize, id: StreamId) -> Arc<StageTimings> {
        let now = id.get();
        let by_id = if now.is_empty() {
            Vec::new()
        } else {
            vec![(now, Timing::new(element))]
        };
        Arc::new(StageTimings {
            element: element.to_string(),
            stream,
            id,
            by_id: Mutex::new(by_id),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(String, Arc<Timing>)>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, ns: u64) {
        // Compared in place, not copied: this runs for every frame. The id's lock is
        // always taken before the series', never the other way round.
        let id = self.id.lock();
        if id.is_empty() {
            return;
        }
        let mut by_id = self.lock();
        match by_id.iter().find(|(i, _)| *i == *id) {
            Some((_, t)) => t.record(ns),
            None => {
                let t = Timing::new(&self.element);
                t.record(ns);
                by_id.push((id.clone(), t));
            }
        }
    }

    /// Each id's durations, in the order of their first frame.
    pub fn series(&self) -> Vec<(String, Arc<Timing>)> {
        self.lock().clone()
    }
}

/// The timings of a run.
#[derive(Debug, Default)]
pub struct Probes {
    /// One per sink element.
    pub latency: Vec<Arc<Timing>>,
    /// One per `vplinfer` element.
    pub inference: Vec<Arc<Timing>>,
    /// The same as `latency`, per stream: one per sink element whose stream is known.
    pub stream_latency: Vec<Arc<StageTimings>>,
    /// The same as `inference`, per stream: one per `vplinfer` whose stream is known.
    pub stream_inference: Vec<Arc<StageTimings>>,
    /// Per stream counter (as given to [`attach`]): set when end-of-stream passed it.
    pub ended: HashMap<String, Arc<AtomicBool>>,
}

/// Which stream each element serves, and each stream's id, for the per-stream timings.
#[derive(Debug, Default)]
pub struct StreamsOf {
    /// An element → the index of the stream whose frames it takes. An element serving
    /// several (after `tile`) is given the first of them.
    pub elements: HashMap<String, usize>,
    /// By stream index.
    pub ids: Vec<StreamId>,
}

impl StreamsOf {
    fn timings(&self, element: &str) -> Option<Arc<StageTimings>> {
        let stream = *self.elements.get(element)?;
        let id = self.ids.get(stream)?.clone();
        Some(StageTimings::new(element, stream, id))
    }
}

/// A queue's fill: buffers held and the most it holds (0: no limit in buffers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFill {
    pub element: String,
    pub buffers: u32,
    pub max_buffers: u32,
}

fn reference(name: &str) -> gst::Caps {
    gst::Caps::new_empty_simple(name)
}

/// Stamps each buffer passing `pad` with the time now, under `reference`.
fn stamp(pad: &gst::Pad, reference: gst::Caps) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer_mut() {
            let buffer = buffer.make_mut();
            gst::ReferenceTimestampMeta::add(
                buffer,
                &reference,
                gst::ClockTime::from_nseconds(now_ns()),
                gst::ClockTime::NONE,
            );
        }
        gst::PadProbeReturn::Ok
    });
}

/// The time `buffer` was stamped with under `reference`, the latest stamp if several.
fn stamped(buffer: &gst::BufferRef, reference: &gst::Caps) -> Option<u64> {
    buffer
        .iter_meta::<gst::ReferenceTimestampMeta>()
        .filter(|m| m.reference().is_subset(reference))
        .map(|m| m.timestamp().nseconds())
        .last()
}

/// The reference of the stamp a frame gets when it leaves its source.
fn entered() -> gst::Caps {
    reference("timestamp/x-vpl-entered")
}

/// The time since `buffer` left its source, in nanoseconds, when it was stamped there
/// ([`attach`], [`stamp_sources`]): `None` for a frame the compositor made (`tile`), or
/// when nothing stamps.
pub fn since_entered(buffer: &gst::BufferRef) -> Option<u64> {
    static ENTERED: LazyLock<gst::Caps> = LazyLock::new(entered);
    stamped(buffer, &ENTERED).map(|t| now_ns().saturating_sub(t))
}

/// Records, for each buffer reaching `pad`, the time since its stamp under `reference`,
/// in `timing` and, if given, in `per_stream`.
fn measure(
    pad: &gst::Pad,
    reference: gst::Caps,
    timing: Arc<Timing>,
    per_stream: Option<Arc<StageTimings>>,
) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(t) = info.buffer().and_then(|b| stamped(b, &reference)) {
            let ns = now_ns().saturating_sub(t);
            timing.record(ns);
            if let Some(s) = &per_stream {
                s.record(ns);
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// Sets `ended` when end-of-stream passes `pad`.
fn mark_end(pad: &gst::Pad, ended: Arc<AtomicBool>) {
    pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
        if let Some(event) = info.event()
            && event.type_() == gst::EventType::Eos
        {
            ended.store(true, Ordering::Relaxed);
        }
        gst::PadProbeReturn::Ok
    });
}

/// Stamps each stream's frames where they are counted (`counters`, as given to
/// [`Running::build`]; a demuxer's pad that appears at run time is stamped when it
/// appears), each stamping element once, so that [`since_entered`] can tell their age:
/// what `--latency` needs without `--metrics` ([`attach`] does it with the rest).
/// Returns, per counter, a flag set when end-of-stream passed it.
pub fn stamp_sources(running: &Running, counters: &[String]) -> HashMap<String, Arc<AtomicBool>> {
    LazyLock::force(&EPOCH);
    let entered = entered();
    let mut ended: HashMap<String, Arc<AtomicBool>> = HashMap::new();
    for name in counters {
        if ended.contains_key(name) {
            // Streams merged into one source share its element: stamped once.
            continue;
        }
        let flag = ended.entry(name.clone()).or_default().clone();
        let (element, dynamic) = match name.strip_suffix(".dynamic") {
            Some(element) => (element, true),
            None => (name.as_str(), false),
        };
        let Some(element) = running.pipeline.by_name(element) else {
            continue;
        };
        if dynamic {
            let entered = entered.clone();
            element.connect_pad_added(move |_, pad| {
                if pad.direction() == gst::PadDirection::Src && pad.name().starts_with("video") {
                    stamp(pad, entered.clone());
                    mark_end(pad, flag.clone());
                }
            });
        } else if let Some(pad) = element.static_pad("src") {
            stamp(&pad, entered.clone());
            mark_end(&pad, flag);
        }
    }
    ended
}

/// Attaches the timing probes: stamps where each stream's frames are counted
/// ([`stamp_sources`]), measures at every sink and around every `vplinfer`, for each as a
/// whole and, where `streams` knows the element's stream, for that stream.
pub fn attach(running: &Running, counters: &[String], streams: &StreamsOf) -> Probes {
    let mut probes = Probes {
        ended: stamp_sources(running, counters),
        ..Probes::default()
    };
    let entered = entered();
    for sink in running.pipeline.iterate_sinks().into_iter().flatten() {
        // A sink bin with a request pad (`hlssink2`'s `video`) is measured there.
        let Some(pad) = sink
            .static_pad("sink")
            .or_else(|| sink.sink_pads().into_iter().next())
        else {
            continue;
        };
        let timing = Timing::new(&sink.name());
        let per_stream = streams.timings(&sink.name());
        measure(&pad, entered.clone(), timing.clone(), per_stream.clone());
        probes.latency.push(timing);
        probes.stream_latency.extend(per_stream);
    }
    let inferring = reference("timestamp/x-vpl-inferring");
    for infer in running
        .pipeline
        .iterate_recurse()
        .into_iter()
        .flatten()
        .filter(|e| e.factory().is_some_and(|f| f.name() == "vplinfer"))
    {
        let (Some(sink), Some(src)) = (infer.static_pad("sink"), infer.static_pad("src")) else {
            continue;
        };
        let timing = Timing::new(&infer.name());
        let per_stream = streams.timings(&infer.name());
        stamp(&sink, inferring.clone());
        measure(&src, inferring.clone(), timing.clone(), per_stream.clone());
        probes.inference.push(timing);
        probes.stream_inference.extend(per_stream);
    }
    probes.latency.sort_by(|a, b| a.element.cmp(&b.element));
    probes.inference.sort_by(|a, b| a.element.cmp(&b.element));
    for timings in [&mut probes.stream_latency, &mut probes.stream_inference] {
        timings.sort_by(|a, b| (a.stream, &a.element).cmp(&(b.stream, &b.element)));
    }
    probes
}

/// How full each `queue` of the pipeline is now.
pub fn queue_fill(running: &Running) -> Vec<QueueFill> {
    let mut fill: Vec<QueueFill> = running
        .pipeline
        .iterate_recurse()
        .into_iter()
        .flatten()
        .filter(|e| e.factory().is_some_and(|f| f.name() == "queue"))
        .map(|q| QueueFill {
            element: q.name().to_string(),
            buffers: q.property::<u32>("current-level-buffers"),
            max_buffers: q.property::<u32>("max-size-buffers"),
        })
        .collect();
    fill.sort_by(|a, b| a.element.cmp(&b.element));
    fill
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::{BUCKETS_S, StageTimings, StreamId};

    fn counts(t: &StageTimings) -> Vec<(String, u64)> {
        t.series()
            .into_iter()
            .map(|(id, t)| (id, t.count.load(Ordering::Relaxed)))
            .collect()
    }

    /// A slot's frames count under the id of the stream bound when each is measured; none
    /// while no stream is bound; the series of an id that left stays.
    #[test]
    fn stage_timings_follow_the_stream_bound() {
        let id = StreamId::default();
        let t = StageTimings::new("n3_records", 2, id.clone());
        assert_eq!(counts(&t), [], "no series before a stream is bound");
        t.record(1_000);
        assert_eq!(counts(&t), []);
        id.set("cam-a");
        t.record(2_000_000);
        t.record(3_000_000);
        id.clear();
        t.record(4_000);
        id.set("cam-b");
        t.record(20_000_000);
        assert_eq!(
            counts(&t),
            [("cam-a".to_string(), 2), ("cam-b".to_string(), 1)]
        );
        let series = t.series();
        let a = &series[0].1;
        assert_eq!(a.sum_ns.load(Ordering::Relaxed), 5_000_000);
        // Each in its own bucket: 2 ms up to 2.5 ms, 3 ms up to 5 ms.
        let n = |bound: f64| {
            let at = BUCKETS_S.iter().position(|b| *b == bound).expect("a bound");
            a.buckets[at].load(Ordering::Relaxed)
        };
        assert_eq!((n(0.001), n(0.0025), n(0.005), n(0.01)), (0, 1, 1, 0));
    }

    /// An ordinary stream's series is there from the start, before any frame.
    #[test]
    fn a_known_stream_has_its_series_from_the_start() {
        let t = StageTimings::new("n5_filesink", 0, StreamId::new("0"));
        assert_eq!(counts(&t), [("0".to_string(), 0)]);
    }
}
