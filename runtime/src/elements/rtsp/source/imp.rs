//! `vplrtspsrc`: an RTSP stream → encoded frames, surviving its server going away. The network
//! lives in an inner pipeline of its own (`rtspsrc ! depayloader ! appsink`), run by a
//! supervisor thread that rebuilds it after an error, an end of stream or a silence; the
//! element itself is a bin holding only the `appsrc` the frames are pushed into, so a lost
//! connection is never an error of the pipeline the element is in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_rtsp as gst_rtsp;

use crate::elements::rtsp::timing::Rebase;
use crate::elements::{add_with_ghost_pad, bin_templates};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplrtspsrc",
        gst::DebugColorFlags::empty(),
        Some("vpl RTSP source that reconnects"),
    )
});

const DEFAULT_LATENCY_MS: u32 = 200;
const DEFAULT_PROTOCOLS: &str = "tcp";
/// The shortest wait between two connection attempts, whatever `reconnect` says (other
/// than 0): a camera that refuses at once would otherwise be asked again in a busy loop.
pub const MIN_RECONNECT_NS: u64 = 100_000_000;
const DEFAULT_RECONNECT_NS: u64 = 2_000_000_000;
const DEFAULT_TIMEOUT_NS: u64 = 5_000_000_000;
/// While a server stays away, the warning is repeated at most this often.
const WARN_AGAIN: Duration = Duration::from_secs(60);
/// How often the supervisor looks at the inner pipeline's bus and the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// Encoded video held for downstream when it falls behind a live stream; older frames are
/// dropped past it (memory stays bounded).
const MAX_QUEUED_NS: u64 = 2_000_000_000;
/// While frames are being dropped, the warning is repeated at most this often.
const BEHIND_REPORT_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
struct Settings {
    location: String,
    latency_ms: u32,
    protocols: String,
    reconnect_ns: u64,
    timeout_ns: u64,
    codec: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            location: String::new(),
            latency_ms: DEFAULT_LATENCY_MS,
            protocols: DEFAULT_PROTOCOLS.into(),
            reconnect_ns: DEFAULT_RECONNECT_NS,
            timeout_ns: DEFAULT_TIMEOUT_NS,
            codec: String::new(),
        }
    }
}

/// The appsrc and what the frames of the current connection need to enter it.
struct Feed {
    appsrc: gst_app::AppSrc,
    state: Mutex<FeedState>,
}

#[derive(Default)]
struct FeedState {
    rebase: Rebase,
    caps: Option<gst::Caps>,
    /// A connection starts at a key frame; frames before the first one are dropped.
    need_key: bool,
    /// The next frame follows a gap (a new connection).
    discont: bool,
    /// When the current connection last delivered a frame (or set its stream up).
    last_data: Option<Instant>,
    /// Frames the current connection delivered.
    frames: u64,
    /// A loss was reported and the stream has not come back since: its first frame says so.
    reported_loss: Option<String>,
    /// Frames dropped because the pipeline fell behind the stream (all connections).
    dropped: u64,
    /// Dropping until the next key frame.
    dropping: bool,
    /// The stream's address, for messages.
    url: String,
    /// When falling behind was last reported.
    behind_reported: Option<Instant>,
}

impl Feed {
    fn state(&self) -> MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new start of the element: nothing of an earlier run carries over (this pipeline's
    /// running time starts again too).
    fn reset(&self) {
        *self.state() = FeedState::default();
    }

    /// A new connection: its clock and its first key frame are new.
    fn begin_connection(&self, url: &str) {
        let mut st = self.state();
        st.url = url.to_string();
        st.rebase.restart();
        st.need_key = true;
        st.discont = true;
        st.last_data = None;
        st.frames = 0;
    }

    /// The connection's stream is set up: its silence is counted from now.
    fn stream_set_up(&self) {
        self.state().last_data = Some(Instant::now());
    }

    /// The user was told `url` is lost; its next frame tells them it is back.
    fn loss_reported(&self, url: &str) {
        self.state().reported_loss = Some(url.to_string());
    }

    fn last_data(&self) -> Option<Instant> {
        self.state().last_data
    }

    fn frames(&self) -> u64 {
        self.state().frames
    }

    /// Downstream ended this stream: the next element refused a frame with end-of-stream
    /// (`--max-frames` reached while the run goes on for other streams). Frames that come
    /// after are nobody's. A new start of the pipeline (a flush, a state change) clears it.
    fn ended_downstream(&self) -> bool {
        self.appsrc
            .static_pad("src")
            .is_some_and(|pad| pad.last_flow_result() == Err(gst::FlowError::Eos))
    }

    /// One frame from the inner pipeline's appsink, timestamped in this pipeline's running
    /// time. Frames before this pipeline plays, and before a connection's first key frame,
    /// are dropped. Never fails the inner pipeline because of the outer one's state.
    fn push(&self, sample: &gst::Sample) {
        let Some(buffer) = sample.buffer() else {
            return;
        };
        // Not queued (nothing would take them out again), and not counted as dropped for a
        // slow pipeline: the supervisor closes the connection.
        if self.ended_downstream() {
            return;
        }
        let mut st = self.state();
        st.last_data = Some(Instant::now());
        if st.need_key && buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) {
            return;
        }
        // This pipeline's running time once it plays. While it starts to, the appsrc has been
        // given the clock and not yet its base time: the running time read then is the
        // clock's own time (hours since boot), and the connection's frames, all placed from
        // the first one, would be that far ahead of the pipeline.
        let playing = self.appsrc.current_state() == gst::State::Playing;
        let Some(now) = self.appsrc.current_running_time().filter(|_| playing) else {
            return;
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
        let (pts, dts) =
            st.rebase
                .map(now.nseconds(), running(buffer.pts()), running(buffer.dts()));
        let mut out = buffer.copy();
        {
            let out = out.make_mut();
            out.set_pts(pts.map(gst::ClockTime::from_nseconds));
            out.set_dts(dts.map(gst::ClockTime::from_nseconds));
            if st.discont {
                out.set_flags(gst::BufferFlags::DISCONT);
            }
        }
        // The pipeline fell behind this live stream (inference slower than the camera):
        // drop frames, up to the next key frame so decoding stays whole, and say so.
        let queued: u64 = if self.appsrc.find_property("current-level-time").is_some() {
            self.appsrc.property("current-level-time")
        } else {
            0
        };
        if queued >= MAX_QUEUED_NS
            || (st.dropping && buffer.flags().contains(gst::BufferFlags::DELTA_UNIT))
        {
            st.dropping = true;
            st.dropped += 1;
            let report = st
                .behind_reported
                .is_none_or(|at| at.elapsed() >= BEHIND_REPORT_EVERY);
            if report {
                st.behind_reported = Some(Instant::now());
                let text = format!(
                    "the pipeline is slower than {}: {} frames dropped so far (up to the next key frame each time)",
                    st.url, st.dropped
                );
                let message = gst::message::Warning::builder(gst::CoreError::TooLazy, &text)
                    .src(&self.appsrc)
                    .build();
                let _ = self.appsrc.post_message(message);
            }
            return;
        }
        st.dropping = false;
        st.need_key = false;
        st.discont = false;
        st.frames += 1;
        if let Some(url) = st.reported_loss.take() {
            let text = format!("{url} is back; frames flow again");
            let message = gst::message::Info::builder(gst::ResourceError::Read, &text)
                .src(&self.appsrc)
                .build();
            let _ = self.appsrc.post_message(message);
        }
        if let Some(caps) = sample.caps_owned()
            && st.caps.as_ref() != Some(&caps)
        {
            self.appsrc.set_caps(Some(&caps));
            st.caps = Some(caps);
        }
        drop(st);
        // Flushing (this pipeline is stopping) and end-of-stream (it was ended) are not
        // the connection's business.
        if let Err(err) = self.appsrc.push_buffer(out) {
            gst::debug!(CAT, obj = self.appsrc, "frame not taken: {err:?}");
        }
    }
}

/// Tells the supervisor to stop, and wakes it from its waits.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.stopped.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_set(&self) -> bool {
        *self.lock()
    }

    fn set(&self) {
        *self.lock() = true;
        self.wake.notify_all();
    }

    /// Waits `duration` unless stopped; true when stopped.
    fn wait(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut stopped = self.lock();
        while !*stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            stopped = match self.wake.wait_timeout(stopped, left) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
        *stopped
    }
}

/// How one connection ended.
enum Ending {
    /// The element is stopping.
    Stopped,
    /// Lost (or never made); `ended` when the server ended the stream rather than failed.
    Lost { reason: String, ended: bool },
    /// Reconnecting cannot help (a missing plugin, a stream of another codec): what went
    /// wrong, and what to do about it.
    Fatal(String, String),
}

/// Set from the connection's streaming threads when reconnecting cannot help: the message
/// and a hint.
type Fatal = Arc<Mutex<Option<(String, String)>>>;

/// Runs connection after connection in its own thread until told to stop.
struct Supervisor {
    settings: Settings,
    feed: Arc<Feed>,
    stop: Arc<Stop>,
    element: glib::WeakRef<super::VplRtspSrc>,
}

/// `2 s`, `500 ms`, `1.5 s`.
fn human(ns: u64) -> String {
    let ms = ns / 1_000_000;
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// An error or warning of the inner pipeline in one line: the message, and the last line of
/// the debug text when it says more.
fn describe(error: &glib::Error, debug: Option<glib::GString>) -> String {
    let message = error.to_string();
    match debug
        .and_then(|d| d.lines().last().map(str::trim).map(str::to_string))
        .filter(|d| !d.is_empty() && !message.contains(d.as_str()))
    {
        Some(detail) => format!("{message} {detail}"),
        None => message,
    }
}

/// The vpl codec of an RTP encoding name, and the depayloader for it.
fn depayloader(encoding: &str) -> Option<(&'static str, &'static str)> {
    Some(match encoding {
        "H264" => ("h264", "rtph264depay"),
        "H265" => ("h265", "rtph265depay"),
        "VP8" => ("vp8", "rtpvp8depay"),
        "VP9" => ("vp9", "rtpvp9depay"),
        "JPEG" => ("jpeg", "rtpjpegdepay"),
        "MP4V-ES" => ("mpeg4", "rtpmp4vdepay"),
        "MPV" => ("mpeg2", "rtpmpvdepay"),
        "THEORA" => ("theora", "rtptheoradepay"),
        "AV1" => ("av1", "rtpav1depay"),
        _ => return None,
    })
}

/// A depayloader from the registry that accepts `caps`, for encodings vpl has no name for.
fn any_depayloader(caps: &gst::Caps) -> Option<gst::Element> {
    let mut factories: Vec<gst::ElementFactory> = gst::ElementFactory::factories_with_type(
        gst::ElementFactoryType::DEPAYLOADER,
        gst::Rank::MARGINAL,
    )
    .into_iter()
    .filter(|f| f.can_sink_all_caps(caps))
    .collect();
    factories.sort_by_key(|f| std::cmp::Reverse(f.rank()));
    factories.first().and_then(|f| f.create().build().ok())
}

impl Supervisor {
    fn run(self) {
        // When the current outage was last reported; `None` while frames flow.
        let mut warned: Option<Instant> = None;
        loop {
            let ending = self.connect_once();
            let had_data = self.feed.frames() > 0;
            let (reason, ended) = match ending {
                Ending::Stopped => return,
                Ending::Fatal(message, hint) => {
                    self.error(&message, &hint);
                    return;
                }
                Ending::Lost { reason, ended } => (reason, ended),
            };
            let url = &self.settings.location;
            if self.settings.reconnect_ns == 0 {
                if ended && had_data {
                    gst::info!(CAT, "{url} ended: {reason}");
                    let _ = self.feed.appsrc.end_of_stream();
                } else {
                    let what = if had_data { "lost" } else { "cannot reach" };
                    self.error(
                        &format!("{what} {url} ({reason})"),
                        "with `reconnect: 0s` a lost stream ends the run; give `reconnect` a duration to keep trying",
                    );
                }
                return;
            }
            // A floor: `reconnect: 1ns` would try again in a busy loop.
            let wait_ns = self.settings.reconnect_ns.max(MIN_RECONNECT_NS);
            let delay = human(wait_ns);
            let message = if had_data {
                warned = None;
                Some(format!("lost {url} ({reason}); reconnecting in {delay}"))
            } else {
                match warned {
                    None => Some(format!(
                        "cannot reach {url} ({reason}); retrying every {delay}"
                    )),
                    Some(at) if at.elapsed() >= WARN_AGAIN => Some(format!(
                        "still cannot reach {url} ({reason}); retrying every {delay}"
                    )),
                    Some(_) => None,
                }
            };
            match message {
                Some(message) => {
                    self.warning(&message);
                    self.feed.loss_reported(url);
                    warned = Some(Instant::now());
                }
                None => gst::debug!(CAT, "{url} still away: {reason}"),
            }
            if self.stop.wait(Duration::from_nanos(wait_ns)) {
                return;
            }
        }
    }

    fn warning(&self, message: &str) {
        match self.element.upgrade() {
            Some(element) => {
                gst::element_warning!(element, gst::ResourceError::Read, ("{}", message))
            }
            None => gst::warning!(CAT, "{message}"),
        }
    }

    fn error(&self, message: &str, hint: &str) {
        match self.element.upgrade() {
            Some(element) => {
                gst::element_error!(
                    element,
                    gst::ResourceError::Read,
                    ("{}", message),
                    ["{}", hint]
                )
            }
            None => gst::error!(CAT, "{message}"),
        }
    }

    /// Builds the inner pipeline, plays it until it fails, ends or falls silent (or the
    /// element stops), and takes it down.
    fn connect_once(&self) -> Ending {
        let fatal: Fatal = Arc::default();
        let inner = match self.build(&fatal) {
            Ok(inner) => inner,
            Err(message) => {
                return Ending::Fatal(message, "install the plugin and run again".into());
            }
        };
        self.feed.begin_connection(&self.settings.location);
        let ending = self.watch(&inner, &fatal);
        let _ = inner.set_state(gst::State::Null);
        ending
    }

    fn build(&self, fatal: &Fatal) -> Result<gst::Pipeline, String> {
        let s = &self.settings;
        let name = self
            .element
            .upgrade()
            .map_or_else(|| "vplrtspsrc".to_string(), |e| e.name().to_string());
        let inner = gst::Pipeline::with_name(&format!("{name}-connection"));
        let rtspsrc = gst::ElementFactory::make("rtspsrc")
            .build()
            .map_err(|_| "GStreamer has no `rtspsrc` (install gst-plugins-good)".to_string())?;
        rtspsrc.set_property("location", &s.location);
        rtspsrc.set_property("latency", s.latency_ms);
        rtspsrc.set_property_from_str("protocols", &s.protocols);
        let appsink = gst_app::AppSink::builder().sync(false).build();
        let feed = self.feed.clone();
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    if let Ok(sample) = sink.pull_sample() {
                        feed.push(&sample);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        inner
            .add_many([&rtspsrc, appsink.upcast_ref()])
            .map_err(|e| e.to_string())?;

        // Only the first video stream is set up; audio and the rest are never requested.
        let chosen = Arc::new(AtomicBool::new(false));
        rtspsrc.connect("select-stream", false, move |values| {
            let is_video = values
                .get(2)
                .and_then(|v| v.get::<gst::Caps>().ok())
                .and_then(|caps| {
                    caps.structure(0)
                        .map(|s| s.get::<&str>("media").is_ok_and(|m| m == "video"))
                })
                .unwrap_or(false);
            let take = is_video && !chosen.swap(true, Ordering::SeqCst);
            Some(take.to_value())
        });

        let expected = s.codec.clone();
        let url = s.location.clone();
        let fatal = fatal.clone();
        let sink = appsink.clone();
        let set_up = self.feed.clone();
        rtspsrc.connect_pad_added(move |src, pad| {
            let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
            let Some(structure) = caps.structure(0) else {
                return;
            };
            if !structure.get::<&str>("media").is_ok_and(|m| m == "video") {
                return;
            }
            let encoding = structure
                .get::<&str>("encoding-name")
                .unwrap_or_default()
                .to_ascii_uppercase();
            let known = depayloader(&encoding);
            if !expected.is_empty() && known.map(|(codec, _)| codec) != Some(expected.as_str()) {
                *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some((
                    format!("{url} sends {encoding} video, but the program says {expected}"),
                    "ascribe the codec the server sends, or `_` to accept any".into(),
                ));
                return;
            }
            let depay = match known {
                Some((_, factory)) => gst::ElementFactory::make(factory).build().ok(),
                None => any_depayloader(&caps),
            };
            let Some(depay) = depay else {
                *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some((
                    format!("no GStreamer depayloader for {encoding} video from {url}"),
                    "install the GStreamer plugin for this encoding".into(),
                ));
                return;
            };
            if depay.find_property("wait-for-keyframe").is_some() {
                depay.set_property("wait-for-keyframe", true);
            }
            let Some(bin) = src.parent().and_then(|p| p.downcast::<gst::Bin>().ok()) else {
                return;
            };
            let linked = bin.add(&depay).is_ok()
                && depay.link(&sink).is_ok()
                && depay.sync_state_with_parent().is_ok()
                && depay
                    .static_pad("sink")
                    .is_some_and(|sink_pad| pad.link(&sink_pad).is_ok());
            if !linked {
                gst::warning!(CAT, "cannot link {encoding} from {url}");
            }
            // The silence `timeout` counts from here: the time a loaded server (or machine)
            // takes to answer DESCRIBE and SETUP is not a stream that fell silent (rtspsrc's
            // own TCP timeout ends a server that never answers).
            set_up.stream_set_up();
        });
        Ok(inner)
    }

    fn watch(&self, inner: &gst::Pipeline, fatal: &Fatal) -> Ending {
        let take_fatal = || fatal.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(bus) = inner.bus() else {
            return Ending::Fatal(
                "the connection's pipeline has no bus".into(),
                "this is a bug of vpl; please report it".into(),
            );
        };
        let started = Instant::now();
        if inner.set_state(gst::State::Playing).is_err() {
            let reason = bus
                .timed_pop_filtered(gst::ClockTime::ZERO, &[gst::MessageType::Error])
                .and_then(|m| match m.view() {
                    gst::MessageView::Error(e) => Some(describe(&e.error(), e.debug())),
                    _ => None,
                })
                .unwrap_or_else(|| "the connection cannot start".into());
            return Ending::Lost {
                reason,
                ended: false,
            };
        }
        let timeout = Duration::from_nanos(self.settings.timeout_ns);
        let mut last_warning: Option<String> = None;
        loop {
            if self.stop.is_set() {
                return Ending::Stopped;
            }
            // Nothing downstream wants this stream any more: the connection is closed and
            // not made again (the next start of the element starts a new supervisor).
            if self.feed.ended_downstream() {
                gst::debug!(CAT, "{}: ended downstream", self.settings.location);
                return Ending::Stopped;
            }
            if let Some((message, hint)) = take_fatal() {
                return Ending::Fatal(message, hint);
            }
            let poll = gst::ClockTime::from_nseconds(POLL.as_nanos() as u64);
            if let Some(msg) = bus.timed_pop(poll) {
                match msg.view() {
                    gst::MessageView::Error(e) => {
                        if let Some((message, hint)) = take_fatal() {
                            return Ending::Fatal(message, hint);
                        }
                        return Ending::Lost {
                            reason: describe(&e.error(), e.debug()),
                            ended: false,
                        };
                    }
                    // An end after a warning (the connection closed, a read failed) is
                    // a server that went away, not one that ended its stream.
                    gst::MessageView::Eos(_) => {
                        return Ending::Lost {
                            ended: last_warning.is_none(),
                            reason: last_warning
                                .unwrap_or_else(|| "the server ended the stream".into()),
                        };
                    }
                    gst::MessageView::Warning(w) => {
                        let text = describe(&w.error(), w.debug());
                        gst::debug!(CAT, "{}: {text}", self.settings.location);
                        last_warning = Some(text);
                    }
                    _ => {}
                }
            }
            let since = self.feed.last_data().unwrap_or(started);
            if !timeout.is_zero() && since.elapsed() > timeout {
                return Ending::Lost {
                    reason: format!("no video for {}", human(self.settings.timeout_ns)),
                    ended: false,
                };
            }
        }
    }
}

/// The supervisor of a started element.
struct Running {
    stop: Arc<Stop>,
    thread: JoinHandle<()>,
}

pub struct VplRtspSrc {
    settings: Mutex<Settings>,
    feed: Arc<Feed>,
    running: Mutex<Option<Running>>,
}

impl VplRtspSrc {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn start(&self) -> Result<(), gst::StateChangeError> {
        let settings = self.settings().clone();
        let (parsed, url) = gst_rtsp::RTSPUrl::parse(&settings.location);
        if parsed != gst_rtsp::RTSPResult::Ok || url.is_none() {
            gst::element_imp_error!(
                self,
                gst::ResourceError::NotFound,
                (
                    "`{}` is not an RTSP address (rtsp://host[:port]/path)",
                    settings.location
                )
            );
            return Err(gst::StateChangeError);
        }
        self.feed.reset();
        let latency = gst::ClockTime::from_mseconds(settings.latency_ms.into());
        self.feed
            .appsrc
            .set_min_latency(i64::try_from(latency.nseconds()).unwrap_or(i64::MAX));
        let stop = Arc::new(Stop::default());
        let supervisor = Supervisor {
            settings,
            feed: self.feed.clone(),
            stop: stop.clone(),
            element: self.obj().downgrade(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("{}-rtsp", self.obj().name()))
            .spawn(move || supervisor.run())
            .map_err(|e| {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Failed,
                    ("Cannot start the RTSP connection thread: {}", e)
                );
                gst::StateChangeError
            })?;
        *self.running() = Some(Running { stop, thread });
        Ok(())
    }

    /// Stops the supervisor and its connection; returns when both are gone.
    fn stop(&self) {
        let running = self.running().take();
        if let Some(running) = running {
            running.stop.set();
            // The thread may hold the last reference for a moment (to post a message), and
            // dispose then runs on it: it ends by itself, it must not wait for itself.
            if running.thread.thread().id() == std::thread::current().id() {
                return;
            }
            if running.thread.join().is_err() {
                gst::error!(CAT, imp = self, "the connection thread panicked");
            }
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for VplRtspSrc {
    const NAME: &'static str = "VplRtspSrc";
    type Type = super::VplRtspSrc;
    type ParentType = gst::Bin;

    fn new() -> Self {
        let appsrc = gst_app::AppSrc::builder()
            .name("src")
            .is_live(true)
            .format(gst::Format::Time)
            .do_timestamp(false)
            .build();
        // Unbounded here: `Feed::push` drops whole runs of frames up to a key frame once
        // MAX_QUEUED_NS are waiting, and counts them (a leaky queue would drop silently).
        appsrc.set_max_bytes(0);
        VplRtspSrc {
            settings: Mutex::new(Settings::default()),
            feed: Arc::new(Feed {
                appsrc,
                state: Mutex::new(FeedState::default()),
            }),
            running: Mutex::new(None),
        }
    }
}

impl ObjectImpl for VplRtspSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb("The stream's address, rtsp://host[:port]/path")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("latency")
                    .nick("Latency")
                    .blurb("How long to buffer against network jitter, in milliseconds")
                    .default_value(DEFAULT_LATENCY_MS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("protocols")
                    .nick("Protocols")
                    .blurb("Lower transport: tcp, udp (rtspsrc's protocols flags)")
                    .default_value(Some(DEFAULT_PROTOCOLS))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("reconnect")
                    .nick("Reconnect")
                    .blurb(
                        "Nanoseconds to wait before connecting again after the stream is lost; \
                         0: a lost stream is an error (or its end, if the server ended it)",
                    )
                    .default_value(DEFAULT_RECONNECT_NS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("timeout")
                    .nick("Timeout")
                    .blurb("Nanoseconds without a frame after which the stream counts as lost (0: never)")
                    .default_value(DEFAULT_TIMEOUT_NS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("codec")
                    .nick("Codec")
                    .blurb("The vpl codec the stream must have (h264, h265, ...); empty: any")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("dropped")
                    .nick("Dropped")
                    .blurb("Frames dropped because the pipeline fell behind the live stream")
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings();
        let text = || {
            value
                .get::<Option<String>>()
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        match pspec.name() {
            "location" => settings.location = text(),
            "latency" => settings.latency_ms = value.get().unwrap_or(DEFAULT_LATENCY_MS),
            "protocols" => {
                let protocols = text();
                settings.protocols = if protocols.is_empty() {
                    DEFAULT_PROTOCOLS.into()
                } else {
                    protocols
                };
            }
            "reconnect" => settings.reconnect_ns = value.get().unwrap_or(DEFAULT_RECONNECT_NS),
            "timeout" => settings.timeout_ns = value.get().unwrap_or(DEFAULT_TIMEOUT_NS),
            "codec" => settings.codec = text().to_ascii_lowercase(),
            other => gst::warning!(CAT, imp = self, "no property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings();
        match pspec.name() {
            "location" => settings.location.to_value(),
            "latency" => settings.latency_ms.to_value(),
            "protocols" => settings.protocols.to_value(),
            "reconnect" => settings.reconnect_ns.to_value(),
            "timeout" => settings.timeout_ns.to_value(),
            "codec" => settings.codec.to_value(),
            "dropped" => self.feed.state().dropped.to_value(),
            // GLib only asks for properties listed above.
            _ => glib::Value::from_type(pspec.value_type()),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        if let Err(e) = add_with_ghost_pad(&*obj, &self.feed.appsrc, "src") {
            gst::error!(CAT, imp = self, "{e}");
        }
        obj.set_element_flags(gst::ElementFlags::SOURCE);
    }

    fn dispose(&self) {
        self.stop();
    }
}

impl GstObjectImpl for VplRtspSrc {}

impl ElementImpl for VplRtspSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl RTSP source",
                "Source/Network/Bin",
                "Receives an RTSP stream's encoded video in a pipeline of its own and reconnects when the server goes away",
                "vpl",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
            LazyLock::new(|| bin_templates(gst::PadDirection::Src, &gst::Caps::new_any()));
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::PausedToReady {
            self.stop();
        }
        let mut success = self.parent_change_state(transition)?;
        if transition == gst::StateChange::ReadyToPaused {
            self.start()?;
            success = gst::StateChangeSuccess::NoPreroll;
        }
        Ok(success)
    }
}

impl BinImpl for VplRtspSrc {}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
