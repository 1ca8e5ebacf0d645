//! Plan (plain data from the compiler) → a running `gst::Pipeline`: elements made and
//! named after the plan, properties set from their text, static and dynamic links made,
//! bus messages turned into `RunEvent`s whose element names map back to `.vpl` spans.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use vpl_compiler::plan::{Element, Plan, Prop};
use vpl_compiler::syntax::Span;

/// Why a plan could not become a pipeline, or a pipeline failed while running.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// GStreamer itself cannot start.
    Init(String),
    /// No element of this kind exists here (a plugin is not installed).
    MissingElement {
        element: String,
        factory: String,
        span: Span,
    },
    /// A property could not be set (a bug of lowering, or an old plugin).
    Property {
        element: String,
        span: Span,
        property: String,
        reason: String,
    },
    /// Two elements could not be linked.
    Link {
        from: String,
        to: String,
        span: Span,
        reason: String,
    },
    /// An element reported an error while running.
    Element {
        element: String,
        span: Option<Span>,
        message: String,
        debug: String,
    },
    /// The pipeline refused to start.
    Start(String),
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Every source reached its end.
    Eos,
    /// `--max-frames` was reached on every stream.
    MaxFrames,
    /// Ctrl-C: end-of-stream was sent and every output finalised.
    Interrupted,
}

/// A counter of frames for one stream, shared with the pad probe that counts them.
#[derive(Debug)]
pub struct StreamCounter {
    pub name: String,
    pub frames: AtomicU64,
    /// End-of-stream was pushed after this stream's last frame.
    pub ended: AtomicBool,
}

/// What the inference elements found during a run.
#[derive(Debug, Default)]
pub struct Found {
    /// Objects found, summed over frames (repeated ones included).
    pub objects: AtomicU64,
    /// Frames a model ran on: `infer(every: N)` runs on one frame in N.
    pub inferred: AtomicU64,
    /// `objects` by label.
    pub by_label: std::sync::Mutex<HashMap<String, u64>>,
}

pub struct Running {
    /// Things the user should know before the run starts (a display replaced, ...).
    pub warnings: Vec<String>,
    pub pipeline: gst::Pipeline,
    spans: HashMap<String, Span>,
    pub streams: Vec<Arc<StreamCounter>>,
    max_frames: Option<u64>,
    /// Set to end every stream at its next frame (Ctrl-C).
    stop: Arc<AtomicBool>,
    wall: std::sync::Mutex<Duration>,
    /// Frames that reached a sink: after end-of-stream the run waits while these go up
    /// (frames queued behind a slow model on a loaded machine), not a fixed time.
    delivered: Arc<AtomicU64>,
    /// Set by whoever drives a run of pools ([`crate::pool::Pools`]): every stream has
    /// left and every output is finished; the run ends at its next look, as interrupted
    /// when it was, else as at the end of its streams.
    ended: Arc<AtomicBool>,
    /// The end flag was taken: the run's end (an interruption's included) is its owner's.
    owned: AtomicBool,
}

/// What a run tells the user as it goes, as data: the runtime hands these to the callback
/// the command line gives [`Running::run`] (and [`crate::brokers::finish`]), which says
/// them; the runtime itself prints nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// The pipeline plays: said once, just before the first [`RunEvent::Tick`] (the RTSP
    /// servers listen now).
    Playing,
    /// About ten times a second while the pipeline plays: the time since it started.
    Tick(Duration),
    /// An element warned (a live source fell behind, a broker is away, ...).
    Warning { element: String, text: String },
    /// A note of one of vpl's stages (a lost stream that came back).
    Note { element: String, text: String },
    /// A broker sink whose streams have stopped says something while its messages are
    /// still being delivered (no element's warning reaches the user then).
    Broker(String),
    /// The run waits for the brokers to acknowledge this many messages.
    WaitingForBrokers(u64),
}

mod finishing;
use finishing::{FINISH_STALL, FIRST_FRAME_WAIT, Finishing};

fn init() -> Result<(), RunError> {
    gst::init().map_err(|e| RunError::Init(e.to_string()))?;
    crate::elements::register().map_err(|e| RunError::Init(e.to_string()))
}

fn prop_text(p: &Prop) -> String {
    match p {
        Prop::Str(s) | Prop::Caps(s) | Prop::Enum(s) => s.clone(),
        Prop::Int(i) => i.to_string(),
        Prop::UInt(u) => u.to_string(),
        Prop::Float(f) => f.to_string(),
        Prop::Bool(b) => b.to_string(),
    }
}

/// The value of property `key` of `object` (made by `factory`), typed and range-checked
/// against the property's own specification: a value the element would refuse is an
/// error here, not a panic inside GStreamer's bindings.
pub fn checked_value(
    object: &impl IsA<glib::Object>,
    factory: &str,
    key: &str,
    value: &Prop,
) -> Result<glib::Value, String> {
    let pspec = object
        .find_property(key)
        .ok_or_else(|| format!("`{factory}` has no property `{key}`"))?;
    if !pspec.flags().contains(glib::ParamFlags::WRITABLE) {
        return Err(format!("`{factory}`'s property `{key}` cannot be set"));
    }
    let text = prop_text(value);
    let out_of_range = |min: &dyn std::fmt::Display, max: &dyn std::fmt::Display| {
        format!("{text} is out of the range {min}..={max} that `{factory}` accepts for `{key}`")
    };
    // Whole numbers: the value must be one, and in the property's range.
    macro_rules! whole {
        ($spec:ty, $t:ty) => {
            if let Some(spec) = pspec.downcast_ref::<$spec>() {
                let n: i128 = match value {
                    Prop::Int(i) => i128::from(*i),
                    Prop::UInt(u) => i128::from(*u),
                    _ => text.trim().parse().map_err(|_| {
                        format!("`{key}` of `{factory}` needs a whole number, not `{text}`")
                    })?,
                };
                let (min, max) = (spec.minimum(), spec.maximum());
                if n < i128::from(min) || n > i128::from(max) {
                    return Err(out_of_range(&min, &max));
                }
                return Ok((n as $t).to_value());
            }
        };
    }
    whole!(glib::ParamSpecInt, i32);
    whole!(glib::ParamSpecUInt, u32);
    whole!(glib::ParamSpecInt64, i64);
    whole!(glib::ParamSpecUInt64, u64);
    whole!(glib::ParamSpecLong, std::ffi::c_long);
    whole!(glib::ParamSpecULong, std::ffi::c_ulong);
    whole!(glib::ParamSpecChar, i8);
    whole!(glib::ParamSpecUChar, u8);
    macro_rules! real {
        ($spec:ty, $t:ty) => {
            if let Some(spec) = pspec.downcast_ref::<$spec>() {
                let x: f64 = match value {
                    Prop::Float(f) => *f,
                    Prop::Int(i) => *i as f64,
                    Prop::UInt(u) => *u as f64,
                    _ => text.trim().parse().map_err(|_| {
                        format!("`{key}` of `{factory}` needs a number, not `{text}`")
                    })?,
                };
                let (min, max) = (spec.minimum(), spec.maximum());
                if !(f64::from(min)..=f64::from(max)).contains(&x) {
                    return Err(out_of_range(&min, &max));
                }
                return Ok((x as $t).to_value());
            }
        };
    }
    real!(glib::ParamSpecDouble, f64);
    real!(glib::ParamSpecFloat, f32);
    // Everything else (strings, booleans, enums by nick, caps) as GStreamer reads it from text.
    let parsed = glib::Value::deserialize(&text, pspec.value_type()).map_err(|_| {
        format!(
            "`{text}` is not a value of `{factory}`'s `{key}` (a {})",
            pspec.value_type().name()
        )
    })?;
    Ok(parsed)
}

/// A video sink for a screen cannot work without one: on a headless machine GStreamer's
/// `autovideosink` probes its candidates and some crash the process. It is replaced by a
/// `fakesink` that keeps the display's real-time pace.
fn headless_substitute(factory: &str) -> Option<&'static str> {
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    (factory == "autovideosink" && !has_display).then_some("fakesink")
}

/// Links a pad that appeared at run time to the first compatible free sink pad of `to`.
fn link_dynamic(pad: &gst::Pad, to: &gst::Element) {
    if pad.is_linked() {
        return;
    }
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let is_video = caps.structure(0).is_some_and(|s| {
        s.name().starts_with("video/")
            || s.name().starts_with("image/")
            || s.name() == "application/x-rtp"
    });
    if !is_video {
        return;
    }
    if let Some(sink) = to.static_pad("sink")
        && !sink.is_linked()
    {
        let _ = pad.link(&sink);
    }
}

/// Counts the frames leaving `pad` as a stream's progress; past `--max-frames` (or once
/// the run is stopped) the stream is ended here, in its own streaming thread: an
/// end-of-stream event sent to the pipeline never reaches a demuxer that pulls from its
/// source.
///
/// The end-of-stream goes to the element downstream of `pad`, not out of `pad` itself:
/// upstream goes on until it is refused, and an event it sends meanwhile (a parser's
/// bitrate tags) would be refused by an ended `pad` as an error of the element forwarding
/// it, failing a run that was ending well ("Internal data stream error"). Downstream,
/// such an event is only too late; the frames after the limit are refused there with
/// end-of-stream, which stops upstream as a source's own end does.
fn count_frames(
    pad: &gst::Pad,
    c: Arc<StreamCounter>,
    stop: Arc<AtomicBool>,
    max_frames: Option<u64>,
) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
        let past_limit = max_frames.is_some_and(|max| c.frames.load(Ordering::Relaxed) >= max);
        if past_limit || stop.load(Ordering::Relaxed) {
            if !c.ended.swap(true, Ordering::SeqCst) {
                match pad.peer() {
                    Some(peer) => {
                        peer.send_event(gst::event::Eos::new());
                    }
                    None => {
                        pad.push_event(gst::event::Eos::new());
                    }
                }
            }
            // An ended peer refuses the frame with end-of-stream, which upstream obeys (a
            // demuxer stops reading); otherwise the frame is dropped here.
            let refused = pad
                .peer()
                .is_some_and(|peer| peer.pad_flags().contains(gst::PadFlags::EOS));
            return if refused {
                gst::PadProbeReturn::Ok
            } else {
                gst::PadProbeReturn::Drop
            };
        }
        c.frames.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
}

/// The element `e` of the plan, its properties set. A display without a screen is made a
/// `fakesink` that keeps real time, and `warnings` says so.
fn make_element(e: &Element, warnings: &mut Vec<String>) -> Result<gst::Element, RunError> {
    let factory = match headless_substitute(&e.factory) {
        Some(substitute) => {
            warnings.push(format!(
                "no display here (neither DISPLAY nor WAYLAND_DISPLAY is set): the \
                 frames `display` would show are dropped ({})",
                e.name
            ));
            substitute
        }
        None => e.factory.as_str(),
    };
    let element = gst::ElementFactory::make(factory)
        .name(&e.name)
        .build()
        .map_err(|_| RunError::MissingElement {
            element: e.name.clone(),
            factory: e.factory.clone(),
            span: e.span,
        })?;
    // A display keeps real time but does not hold the pipeline in preroll: with a tee, a
    // sink waiting for its first frame (an encoder's look-ahead in front of it) while
    // another branch's sink blocks in PAUSED would never get it.
    if factory != e.factory {
        element.set_property("sync", true);
        element.set_property("async", false);
    } else if factory == "autovideosink"
        && let Some(bin) = element.downcast_ref::<gst::Bin>()
    {
        bin.connect_deep_element_added(|_, _, child| {
            if child.is::<gstreamer_base::BaseSink>() {
                child.set_property("async", false);
            }
        });
    }
    for (key, value) in &e.props {
        let value =
            checked_value(&element, factory, key, value).map_err(|reason| RunError::Property {
                element: e.name.clone(),
                span: e.span,
                property: key.clone(),
                reason,
            })?;
        element.set_property_from_value(key, &value);
    }
    Ok(element)
}

/// Makes the plan's links: static ones now (with the properties of the request pads they
/// take), dynamic ones when their pad appears.
fn link_all(
    plan: &Plan,
    elements: &HashMap<&str, gst::Element>,
    spans: &HashMap<String, Span>,
) -> Result<(), RunError> {
    for l in &plan.links {
        let (Some(from), Some(to)) = (elements.get(l.from.as_str()), elements.get(l.to.as_str()))
        else {
            continue;
        };
        let span = spans.get(&l.to).copied().unwrap_or_default();
        if l.dynamic {
            let to = to.clone();
            from.connect_pad_added(move |_, pad| link_dynamic(pad, &to));
            continue;
        }
        from.link(to).map_err(|err| RunError::Link {
            from: l.from.clone(),
            to: l.to.clone(),
            span,
            reason: err.to_string(),
        })?;
        let pad_props = plan
            .elements
            .iter()
            .find(|e| e.name == l.from)
            .map(|e| e.pad_props.as_slice())
            .unwrap_or_default();
        if !pad_props.is_empty()
            && let Some(peer) = from.static_pad("src").and_then(|p| p.peer())
        {
            set_pad_props(&peer, pad_props, &l.to, span)?;
        }
    }
    Ok(())
}

/// Sets the properties the plan gives the request pad `peer` of element `to` (a
/// compositor's cell); those the pad does not have are left.
fn set_pad_props(
    peer: &gst::Pad,
    pad_props: &[(String, Prop)],
    to: &str,
    span: Span,
) -> Result<(), RunError> {
    for (key, value) in pad_props {
        if peer.find_property(key).is_none() {
            continue;
        }
        let value = checked_value(peer, "its input pad", key, value).map_err(|reason| {
            RunError::Property {
                element: to.to_string(),
                span,
                property: key.clone(),
                reason,
            }
        })?;
        peer.set_property_from_value(key, &value);
    }
    Ok(())
}

/// The name [`Running::build`] is given to count the frames leaving `element`: its own,
/// or with `dynamic`, `element.dynamic` for the video pad it adds at run time (a
/// demuxer's).
pub fn counter(element: &str, dynamic: bool) -> String {
    if dynamic {
        format!("{element}.dynamic")
    } else {
        element.to_string()
    }
}

/// A counter for each element of `counting` (named as [`counter`] names them), counting
/// the frames that leave it.
fn count_streams(
    counting: &[String],
    elements: &HashMap<&str, gst::Element>,
    stop: &Arc<AtomicBool>,
    max_frames: Option<u64>,
) -> Vec<Arc<StreamCounter>> {
    let mut streams = Vec::new();
    for name in counting {
        let (element, dynamic) = match name.strip_suffix(".dynamic") {
            Some(element) => (element, true),
            None => (name.as_str(), false),
        };
        let Some(element) = elements.get(element) else {
            continue;
        };
        let counter = Arc::new(StreamCounter {
            name: name.clone(),
            frames: AtomicU64::new(0),
            ended: AtomicBool::new(false),
        });
        if dynamic {
            let (c, stop) = (counter.clone(), stop.clone());
            element.connect_pad_added(move |_, pad| {
                if pad.direction() == gst::PadDirection::Src && pad.name().starts_with("video") {
                    count_frames(pad, c.clone(), stop.clone(), max_frames);
                }
            });
        } else {
            let Some(pad) = element.static_pad("src") else {
                continue;
            };
            count_frames(&pad, counter.clone(), stop.clone(), max_frames);
        }
        streams.push(counter);
    }
    streams
}

/// Counts the frames reaching any sink: progress while the pipeline finishes.
fn count_delivered(pipeline: &gst::Pipeline) -> Arc<AtomicU64> {
    let delivered = Arc::new(AtomicU64::new(0));
    for sink in pipeline
        .iterate_sinks()
        .into_iter()
        .flatten()
        .filter_map(|e| e.static_pad("sink"))
    {
        let delivered = delivered.clone();
        sink.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            delivered.fetch_add(1, Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        });
    }
    delivered
}

impl Running {
    /// Builds the pipeline of a plan. `counting` names the elements whose output frames
    /// count as a stream's progress (decoders, raw sources), as [`counter`] names them.
    pub fn build(
        plan: &Plan,
        counting: &[String],
        max_frames: Option<u64>,
    ) -> Result<Running, RunError> {
        init()?;
        let pipeline = gst::Pipeline::with_name(&plan.pipeline);
        let mut elements: HashMap<&str, gst::Element> = HashMap::new();
        let mut warnings = Vec::new();
        for e in &plan.elements {
            let element = make_element(e, &mut warnings)?;
            pipeline
                .add(&element)
                .map_err(|err| RunError::Start(err.to_string()))?;
            elements.insert(e.name.as_str(), element);
        }
        let spans: HashMap<String, Span> = plan
            .elements
            .iter()
            .map(|e| (e.name.clone(), e.span))
            .collect();
        link_all(plan, &elements, &spans)?;
        for e in plan.elements.iter().filter(|e| e.factory == "compositor") {
            if let Some(compositor) = elements.get(e.name.as_str()) {
                crate::tile::carry_objects(compositor);
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        Ok(Running {
            warnings,
            streams: count_streams(counting, &elements, &stop, max_frames),
            delivered: count_delivered(&pipeline),
            pipeline,
            spans,
            max_frames,
            stop,
            wall: std::sync::Mutex::new(Duration::ZERO),
            ended: Arc::new(AtomicBool::new(false)),
            owned: AtomicBool::new(false),
        })
    }

    fn span_of(&self, object: Option<&gst::Object>) -> (String, Option<Span>) {
        // The element itself, or the nearest ancestor vpl named (errors of decodebin's
        // children carry the child's name).
        let mut current = object.cloned();
        while let Some(o) = current {
            let name = o.name().to_string();
            if let Some(span) = self.spans.get(&name) {
                return (name, Some(*span));
            }
            current = o.parent();
        }
        (
            object.map(|o| o.name().to_string()).unwrap_or_default(),
            None,
        )
    }

    /// Runs to the end. `interrupted` is polled; when it turns true, end-of-stream is sent
    /// and the run waits for every output to be finalised. `on_event` is told what the
    /// user should know as it happens, and ticks about ten times a second, for progress.
    pub fn run(
        &self,
        interrupted: &AtomicBool,
        mut on_event: impl FnMut(RunEvent),
    ) -> Result<Ending, RunError> {
        let bus = self
            .pipeline
            .bus()
            .ok_or_else(|| RunError::Start("the pipeline has no bus".into()))?;
        self.play(&bus)?;
        let start = Instant::now();
        let mut state = Finishing::new();
        let mut playing = false;
        let result = loop {
            if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100))
                && let Some(end) = self.on_message(&msg, &state, &mut on_event)
            {
                break end;
            }
            for text in crate::brokers::said() {
                on_event(RunEvent::Broker(text));
            }
            if !playing {
                playing = true;
                on_event(RunEvent::Playing);
            }
            on_event(RunEvent::Tick(start.elapsed()));
            if self.ended.load(Ordering::SeqCst) {
                break Ok(if interrupted.load(Ordering::Relaxed) {
                    Ending::Interrupted
                } else {
                    Ending::Eos
                });
            }
            if let Err(e) = self.step(interrupted, &mut state) {
                break Err(e);
            }
        };
        if let Ok(mut wall) = self.wall.lock() {
            *wall = start.elapsed();
        }
        let _ = self.pipeline.set_state(gst::State::Null);
        result
    }

    /// Sets the pipeline playing; where it refuses, the error it put on the bus.
    fn play(&self, bus: &gst::Bus) -> Result<(), RunError> {
        let Err(err) = self.pipeline.set_state(gst::State::Playing) else {
            return Ok(());
        };
        // The reason is on the bus as an error message; prefer it.
        let reason = bus
            .timed_pop_filtered(
                gst::ClockTime::from_mseconds(500),
                &[gst::MessageType::Error],
            )
            .map(|m| self.error_of(&m));
        let _ = self.pipeline.set_state(gst::State::Null);
        Err(reason.unwrap_or_else(|| RunError::Start(err.to_string())))
    }

    /// A message of the bus: the run's end (`Some`), or something to tell the user.
    fn on_message(
        &self,
        msg: &gst::Message,
        state: &Finishing,
        on_event: &mut impl FnMut(RunEvent),
    ) -> Option<Result<Ending, RunError>> {
        use gst::MessageView;
        match msg.view() {
            // The last stream may reach the limit, and end, between two looks at the
            // counters (a live stream's frames come every few ms).
            MessageView::Eos(_) if state.ending == Ending::Eos && self.limit_reached() => {
                Some(Ok(Ending::MaxFrames))
            }
            MessageView::Eos(_) => Some(Ok(state.ending)),
            // Ended (Ctrl-C, --max-frames) before a stream of unknown type sent any data:
            // its type finder has nothing to find. That is the end asked for, not a failure.
            MessageView::Error(e)
                if state.eos_sent.is_some()
                    && e.error().matches(gst::StreamError::TypeNotFound) =>
            {
                self.finish_outputs();
                Some(Ok(state.ending))
            }
            MessageView::Error(_) => {
                let error = self.error_of(msg);
                self.finish_outputs();
                Some(Err(error))
            }
            MessageView::Warning(w) => {
                let (element, _) = self.span_of(msg.src());
                on_event(RunEvent::Warning {
                    element,
                    text: w.error().to_string(),
                });
                None
            }
            // Notes from the stages (a lost stream that came back).
            MessageView::Info(i) => {
                if let (element, Some(_)) = self.span_of(msg.src()) {
                    on_event(RunEvent::Note {
                        element,
                        text: i.error().to_string(),
                    });
                }
                None
            }
            _ => None,
        }
    }

    /// Between two looks at the bus: ends the streams at `--max-frames` or once
    /// interrupted; after that, gives the run up when no frame reaches an output for
    /// [`FINISH_STALL`].
    fn step(&self, interrupted: &AtomicBool, state: &mut Finishing) -> Result<(), RunError> {
        if self.owned.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Some(eos_sent) = state.eos_sent else {
            if self.limit_reached() {
                state.ending = Ending::MaxFrames;
                state.eos_sent = Some(Instant::now());
            } else if interrupted.load(Ordering::Relaxed)
                && (self
                    .streams
                    .iter()
                    .all(|s| s.frames.load(Ordering::Relaxed) > 0)
                    || state
                        .interrupted_at
                        .get_or_insert_with(Instant::now)
                        .elapsed()
                        > FIRST_FRAME_WAIT)
            {
                // Not before every stream's first frame (waiting at most FIRST_FRAME_WAIT):
                // a signal just after the start still leaves outputs that play, not a file
                // with no frame (an MP4 of a header alone).
                state.ending = Ending::Interrupted;
                self.stop.store(true, Ordering::SeqCst);
                // Live and push sources end on this; pulled files end in the probes.
                self.pipeline.send_event(gst::event::Eos::new());
                state.eos_sent = Some(Instant::now());
            }
            return Ok(());
        };
        state.look(
            self.delivered.load(Ordering::Relaxed),
            crate::engine::busy::snapshot(),
        );
        if eos_sent.elapsed() > FINISH_STALL && state.last_progress.elapsed() > FINISH_STALL {
            return Err(RunError::Start(format!(
                "the pipeline did not finish: no frame reached an output for {} s after end-of-stream",
                FINISH_STALL.as_secs()
            )));
        }
        Ok(())
    }

    /// The flag that ends a run of pools once its streams have left and their outputs are
    /// finished ([`crate::pool::Pools`] sets it): the pipeline's own end-of-stream never
    /// comes then, since a slot's sinks keep theirs to themselves. Whoever takes it owns
    /// the run's end: an interruption is theirs to carry out (the run only ends as
    /// interrupted), and `--max-frames` is not watched.
    pub fn end_flag(&self) -> Arc<AtomicBool> {
        self.owned.store(true, Ordering::SeqCst);
        self.ended.clone()
    }

    /// The frames counted so far on the output of element `name` (0 when it counts none).
    pub fn frames_of(&self, name: &str) -> u64 {
        self.streams
            .iter()
            .find(|s| s.name == name)
            .map_or(0, |s| s.frames.load(Ordering::Relaxed))
    }

    /// Whether every stream has reached `--max-frames`.
    fn limit_reached(&self) -> bool {
        self.max_frames.is_some_and(|max| {
            !self.streams.is_empty()
                && self
                    .streams
                    .iter()
                    .all(|s| s.frames.load(Ordering::Relaxed) >= max)
        })
    }

    /// After an error: ends the streams into every muxer so the files they write are
    /// completed (an MP4 without its index cannot be played), waiting at most 3 s.
    fn finish_outputs(&self) {
        let muxers: Vec<gst::Element> = self
            .pipeline
            .iterate_elements()
            .into_iter()
            .flatten()
            .filter(|e| e.factory().is_some_and(|f| f.name().ends_with("mux")))
            .collect();
        for mux in &muxers {
            for pad in mux.sink_pads() {
                pad.send_event(gst::event::Eos::new());
            }
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            let done = muxers.iter().all(|m| {
                m.static_pad("src")
                    .is_none_or(|p| p.pad_flags().contains(gst::PadFlags::EOS))
            });
            if done {
                // Let the file sink write what the muxer pushed with its end-of-stream.
                std::thread::sleep(Duration::from_millis(100));
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Frames the live sources dropped because the pipeline fell behind them (each drop
    /// is also a warning on the bus).
    pub fn dropped_frames(&self) -> u64 {
        self.pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| e.factory().is_some_and(|f| f.name() == "vplrtspsrc"))
            .map(|e| e.property::<u64>("dropped"))
            .sum()
    }

    /// The playing position, in nanoseconds.
    pub fn position_ns(&self) -> Option<u64> {
        self.pipeline
            .query_position::<gst::ClockTime>()
            .map(|p| p.nseconds())
    }

    /// Makes every sink wait for each frame's time on the clock, so recorded files play at
    /// their frame rate like live sources (`vplc run --realtime`).
    pub fn pace_sinks(&self) {
        for element in self.pipeline.iterate_sinks().into_iter().flatten() {
            if element.find_property("sync").is_some() {
                element.set_property("sync", true);
            }
        }
    }

    /// Counts the objects found and the frames a model ran on, on the output of every
    /// detector or whole-frame classifier (secondary inference on crops is not counted),
    /// and the objects a `replay` puts back on its frames (no model ran on those).
    pub fn count_objects(&self) -> Arc<Found> {
        let found = Arc::new(Found::default());
        for element in self.pipeline.iterate_elements().into_iter().flatten() {
            let factory = element.factory().map(|f| f.name());
            let replay = factory.as_deref() == Some("vplreplay");
            if !replay
                && (factory.as_deref() != Some("vplinfer")
                    || crate::elements::infer::runs_on_crops(&element))
            {
                continue;
            }
            let Some(pad) = element.static_pad("src") else {
                continue;
            };
            let found = found.clone();
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
                if let Some(buffer) = info.buffer()
                    && let Some(data) = crate::meta::VplObjectsMeta::get(buffer)
                {
                    found
                        .objects
                        .fetch_add(data.objects.len() as u64, Ordering::Relaxed);
                    if !data.objects.is_empty() {
                        let mut by_label = found.by_label.lock().unwrap_or_else(|p| p.into_inner());
                        for o in &data.objects {
                            match by_label.get_mut(&o.label) {
                                Some(n) => *n += 1,
                                None => {
                                    by_label.insert(o.label.clone(), 1);
                                }
                            }
                        }
                    }
                    if !data.repeated && !replay {
                        found.inferred.fetch_add(1, Ordering::Relaxed);
                    }
                }
                gst::PadProbeReturn::Ok
            });
        }
        found
    }

    /// How long the last run took, from Playing to its end.
    pub fn wall(&self) -> Duration {
        self.wall.lock().map(|w| *w).unwrap_or_default()
    }

    fn error_of(&self, msg: &gst::Message) -> RunError {
        let (element, span) = self.span_of(msg.src());
        match msg.view() {
            gst::MessageView::Error(e) => RunError::Element {
                element,
                span,
                message: e.error().to_string(),
                debug: e.debug().map(|d| d.to_string()).unwrap_or_default(),
            },
            _ => RunError::Start("unexpected message".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpl_compiler::ir::NodeId;

    /// A plan of one element with these properties.
    fn one(factory: &str, props: Vec<(&str, Prop)>) -> Plan {
        Plan {
            pipeline: "p".into(),
            elements: vec![Element {
                name: "n1_stage".into(),
                factory: factory.into(),
                props: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                pad_props: Vec::new(),
                node: NodeId(1),
                span: Span::new(10, 20),
                role: None,
            }],
            ..Plan::default()
        }
    }

    fn refused(plan: &Plan) -> (String, Span, String) {
        match Running::build(plan, &[], None) {
            Err(RunError::Property {
                property,
                span,
                reason,
                ..
            }) => (property, span, reason),
            Err(other) => panic!("another error: {other:?}"),
            Ok(_) => panic!("the value was taken"),
        }
    }

    #[test]
    fn values_beyond_an_elements_range_are_errors_at_the_stage_not_panics() {
        // encode(h264, bitrate: 3Gbps) before the stdlib declared the encoders' range.
        let (property, span, reason) =
            refused(&one("x264enc", vec![("bitrate", Prop::UInt(3_000_000))]));
        assert_eq!((property.as_str(), span), ("bitrate", Span::new(10, 20)));
        assert!(reason.contains("1..=2048000"), "{reason}");
        // test(frames: 3000000000): num-buffers is a 32-bit integer.
        let (property, _, reason) = refused(&one(
            "videotestsrc",
            vec![("num-buffers", Prop::Int(3_000_000_000))],
        ));
        assert_eq!(property, "num-buffers");
        assert!(reason.contains("-1..=2147483647"), "{reason}");
        // vplinfer runs at most 64 sessions of a model.
        let (property, _, reason) = refused(&one("vplinfer", vec![("sessions", Prop::UInt(200))]));
        assert_eq!(property, "sessions");
        assert!(reason.contains("0..=64"), "{reason}");
        // A float where a whole number is needed, an unknown enum nick, a negative unsigned.
        refused(&one("x264enc", vec![("bitrate", Prop::Float(1.5))]));
        refused(&one(
            "x264enc",
            vec![("speed-preset", Prop::Enum("warp".into()))],
        ));
        refused(&one("queue", vec![("max-size-buffers", Prop::Int(-1))]));
        refused(&one("x264enc", vec![("no-such-thing", Prop::Int(1))]));
    }

    #[test]
    fn values_in_range_are_set_typed() {
        let plan = one(
            "x264enc",
            vec![
                ("bitrate", Prop::UInt(2_048_000)),
                ("speed-preset", Prop::Enum("veryfast".into())),
            ],
        );
        let running = Running::build(&plan, &[], None).expect("builds");
        let encoder = running
            .pipeline
            .by_name("n1_stage")
            .expect("the element is in the pipeline");
        assert_eq!(encoder.property::<u32>("bitrate"), 2_048_000);
        let plan = one(
            "capsfilter",
            vec![("caps", Prop::Caps("video/x-raw,format=I420".into()))],
        );
        Running::build(&plan, &[], None).expect("caps from text");
    }
}
