//! Run-time figures for `vplc run --metrics`: how long frames take from their source to
//! each sink (latency) and through each `vplinfer` (inference, batching wait included),
//! and how full each queue is. Timings ride on the frames as `GstReferenceTimestampMeta`s
//! (queues, tees and converters keep them), so no table keyed on timestamps can confuse
//! two streams; a frame the compositor made (`tile`) starts without one and is not timed.
//! Nothing is attached unless asked for: a run without `--metrics` pays nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
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

/// The timings of a run.
#[derive(Debug, Default)]
pub struct Probes {
    /// One per sink element.
    pub latency: Vec<Arc<Timing>>,
    /// One per `vplinfer` element.
    pub inference: Vec<Arc<Timing>>,
    /// Per stream counter (as given to [`attach`]): set when end-of-stream passed it.
    pub ended: HashMap<String, Arc<AtomicBool>>,
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

/// Records, for each buffer reaching `pad`, the time since its stamp under `reference`.
fn measure(pad: &gst::Pad, reference: gst::Caps, timing: Arc<Timing>) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer() {
            let stamped = buffer
                .iter_meta::<gst::ReferenceTimestampMeta>()
                .filter(|m| m.reference().is_subset(&reference))
                .map(|m| m.timestamp().nseconds())
                .last();
            if let Some(t) = stamped {
                timing.record(now_ns().saturating_sub(t));
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

/// Attaches the timing probes: stamps where each stream's frames are counted (`counters`,
/// as given to [`Running::build`]; a demuxer's pad that appears at run time is stamped
/// when it appears), measures at every sink and around every `vplinfer`.
pub fn attach(running: &Running, counters: &[String]) -> Probes {
    LazyLock::force(&EPOCH);
    let entered = reference("timestamp/x-vpl-entered");
    let mut probes = Probes::default();
    for name in counters {
        let ended = probes.ended.entry(name.clone()).or_default().clone();
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
                    mark_end(pad, ended.clone());
                }
            });
        } else if let Some(pad) = element.static_pad("src") {
            stamp(&pad, entered.clone());
            mark_end(&pad, ended);
        }
    }
    for sink in running.pipeline.iterate_sinks().into_iter().flatten() {
        let Some(pad) = sink.static_pad("sink") else {
            continue;
        };
        let timing = Timing::new(&sink.name());
        measure(&pad, entered.clone(), timing.clone());
        probes.latency.push(timing);
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
        stamp(&sink, inferring.clone());
        measure(&src, inferring.clone(), timing.clone());
        probes.inference.push(timing);
    }
    probes.latency.sort_by(|a, b| a.element.cmp(&b.element));
    probes.inference.sort_by(|a, b| a.element.cmp(&b.element));
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
