//! A slot's feeder: the bound stream read in a pipeline of its own, ending in an `appsink`
//! whose frames a thread pushes into the slot's `appsrc`, their timestamps carried onto the
//! slot's pipeline's running time (as `vplrtspsrc` carries a connection's).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use vpl_compiler::pool::StreamSource;

use crate::elements::rtsp::timing::Rebase;

/// How a bound stream left its slot: the `reason` of its `stream_removed` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It was removed (`DELETE /v1/streams/{id}`, or the run stopping).
    Removed,
    /// Its file ended (or its server ended the stream).
    Ended,
    /// It failed, and reconnecting could not help (or `reconnect: 0s`): why.
    Failed(String),
}

impl Ended {
    /// `removed`, `ended` or `failed`.
    pub fn reason(&self) -> &'static str {
        match self {
            Ended::Removed => "removed",
            Ended::Ended => "ended",
            Ended::Failed(_) => "failed",
        }
    }
}

/// What the feeder tells about itself while it runs.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub frames: AtomicU64,
    pub reconnecting: AtomicBool,
    pub last_error: Mutex<Option<String>>,
}

/// A running feeder; dropping it does not stop it: [`Feeder::stop`] does.
pub(super) struct Feeder {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Feeder {
    /// Tells the feeder to end its stream; its thread pushes end-of-stream after the last
    /// frame and calls the slot's `on_end`.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Stops the feeder and waits for its thread (the slot is stopping).
    pub fn join(mut self) {
        self.stop();
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// How often the feeder looks at its stop flag and its pipeline's bus.
const POLL: Duration = Duration::from_millis(50);

/// Starts a feeder of `appsrc` from `source`.
pub(super) fn start(
    name: &str,
    source: &StreamSource,
    appsrc: gst_app::AppSrc,
    counters: Arc<Counters>,
    on_end: Box<dyn FnOnce(Ended) + Send>,
) -> Result<Feeder, String> {
    let (inner, appsink) = inner(source)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name(format!("{name}-feed"))
        .spawn(move || {
            let ended = feed(&inner, &appsink, &appsrc, &flag, &counters);
            let _ = inner.set_state(gst::State::Null);
            // Said before the end-of-stream, which may reach the slot's sinks at once.
            on_end(ended);
            // After the last frame, in order with it (appsrc queues serialized events).
            let leaves = gst::Structure::new_empty(super::STREAM_LEAVES);
            appsrc.send_event(gst::event::CustomDownstream::new(leaves));
            let _ = appsrc.end_of_stream();
        })
        .map_err(|e| format!("cannot start the feeder's thread: {e}"))?;
    Ok(Feeder {
        stop,
        thread: Some(thread),
    })
}

fn make(factory: &str) -> Result<gst::Element, String> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| format!("GStreamer has no `{factory}` here"))
}

/// The feeder's pipeline for `source`, and the appsink at its end.
fn inner(source: &StreamSource) -> Result<(gst::Pipeline, gst_app::AppSink), String> {
    let pipeline = gst::Pipeline::new();
    // A file is paced at its frame rate; a live stream comes at its own.
    let file = matches!(source, StreamSource::File { .. });
    let appsink = gst_app::AppSink::builder()
        .sync(file)
        .max_buffers(2)
        .build();
    pipeline
        .add(&appsink)
        .map_err(|e| format!("cannot add the feeder's appsink: {e}"))?;
    match source {
        StreamSource::File {
            path,
            looping: true,
        } => {
            let looped = make("vplfileloop")?;
            looped.set_property("location", path.to_string_lossy().as_ref());
            pipeline.add(&looped).map_err(|e| e.to_string())?;
            looped.link(&appsink).map_err(|e| e.to_string())?;
        }
        StreamSource::File {
            path,
            looping: false,
        } => {
            let filesrc = make("filesrc")?;
            filesrc.set_property("location", path.to_string_lossy().as_ref());
            let parse = make("parsebin")?;
            pipeline
                .add_many([&filesrc, &parse])
                .map_err(|e| e.to_string())?;
            filesrc.link(&parse).map_err(|e| e.to_string())?;
            let sink = appsink.clone();
            parse.connect_pad_added(move |_, pad| {
                let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
                let video = caps
                    .structure(0)
                    .is_some_and(|s| s.name().starts_with("video/"));
                if let Some(sinkpad) = sink.static_pad("sink")
                    && video
                    && !sinkpad.is_linked()
                {
                    let _ = pad.link(&sinkpad);
                }
            });
        }
        StreamSource::Rtsp {
            url,
            latency_ns,
            tcp,
            reconnect_ns,
        } => {
            let rtsp = make("vplrtspsrc")?;
            rtsp.set_property("location", url.as_str());
            let latency_ms = u32::try_from(latency_ns.max(&0) / 1_000_000).unwrap_or(u32::MAX);
            rtsp.set_property("latency", latency_ms);
            rtsp.set_property("protocols", if *tcp { "tcp" } else { "udp" });
            rtsp.set_property("reconnect", u64::try_from(*reconnect_ns).unwrap_or(0));
            pipeline.add(&rtsp).map_err(|e| e.to_string())?;
            rtsp.link(&appsink).map_err(|e| e.to_string())?;
        }
    }
    Ok((pipeline, appsink))
}

/// The error on `bus`, in one line, if there is one.
fn error_on(bus: &gst::Bus, wait: gst::ClockTime) -> Option<String> {
    let msg = bus.timed_pop_filtered(wait, &[gst::MessageType::Error])?;
    match msg.view() {
        gst::MessageView::Error(e) => Some(match e.debug() {
            Some(debug) if !debug.is_empty() => format!(
                "{} ({})",
                e.error(),
                debug.lines().last().unwrap_or_default().trim()
            ),
            _ => e.error().to_string(),
        }),
        _ => None,
    }
}

/// Feeds `appsrc` until the stream ends, fails, or `stop` is set.
fn feed(
    inner: &gst::Pipeline,
    appsink: &gst_app::AppSink,
    appsrc: &gst_app::AppSrc,
    stop: &AtomicBool,
    counters: &Counters,
) -> Ended {
    // Frames are placed on the slot's running time, which exists once it plays: the
    // feeder starts then, so the stream's first frame (a key frame) is not lost.
    while appsrc.current_state() != gst::State::Playing {
        if stop.load(Ordering::SeqCst) {
            return Ended::Removed;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let Some(bus) = inner.bus() else {
        return Ended::Failed("the feeder's pipeline has no bus".into());
    };
    if inner.set_state(gst::State::Playing).is_err() {
        let reason = error_on(&bus, gst::ClockTime::from_mseconds(100))
            .unwrap_or_else(|| "the stream cannot start".into());
        return Ended::Failed(reason);
    }
    let mut rebase = Rebase::default();
    let mut caps: Option<gst::Caps> = None;
    let mut first = true;
    let poll = gst::ClockTime::from_nseconds(POLL.as_nanos() as u64);
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ended::Removed;
        }
        while let Some(msg) = bus.pop() {
            match msg.view() {
                gst::MessageView::Error(e) => return Ended::Failed(e.error().to_string()),
                // `vplrtspsrc` warns when its server goes away, and says when it is back.
                gst::MessageView::Warning(w) => {
                    counters.reconnecting.store(true, Ordering::SeqCst);
                    *counters
                        .last_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(w.error().to_string());
                }
                _ => {}
            }
        }
        let Some(sample) = appsink.try_pull_sample(poll) else {
            if appsink.is_eos() {
                return Ended::Ended;
            }
            continue;
        };
        let Some(buffer) = sample.buffer() else {
            continue;
        };
        counters.reconnecting.store(false, Ordering::SeqCst);
        if let Some(c) = sample.caps_owned()
            && caps.as_ref() != Some(&c)
        {
            appsrc.set_caps(Some(&c));
            caps = Some(c);
        }
        let Some(now) = appsrc.current_running_time() else {
            continue;
        };
        let segment = sample
            .segment()
            .and_then(|s| s.downcast_ref::<gst::ClockTime>().cloned());
        let running = |t: Option<gst::ClockTime>| {
            t.and_then(|t| match &segment {
                Some(s) => s.to_running_time(t),
                None => Some(t),
            })
            .map(gst::ClockTime::nseconds)
        };
        let (pts, dts) = rebase.map(now.nseconds(), running(buffer.pts()), running(buffer.dts()));
        let mut out = buffer.copy();
        {
            let out = out.make_mut();
            out.set_pts(pts.map(gst::ClockTime::from_nseconds));
            out.set_dts(dts.map(gst::ClockTime::from_nseconds));
            if first {
                out.set_flags(gst::BufferFlags::DISCONT);
            }
        }
        first = false;
        if appsrc.push_buffer(out).is_err() {
            // The slot's pipeline is stopping or flushing: nobody takes frames any more.
            return Ended::Removed;
        }
        counters.frames.fetch_add(1, Ordering::Relaxed);
    }
}
