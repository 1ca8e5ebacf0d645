//! `vplrtspout`: encoded H.264 frames → an RTSP server (gst-rtsp-server) at
//! `rtsp://address:port/path`. The element is a bin holding an `appsink`; each client's
//! media is a small pipeline `appsrc ! h264parse ! rtph264pay` fed from it. The server runs
//! on a main loop of its own thread; it binds its port at `READY → PAUSED` (a port in use is
//! an error there) and is shut down, its port freed, at `PAUSED → READY`. Elements of this
//! process on the same address and port share one server, each mounting its own path; the
//! server ends with the last of them.
//!
//! The server answers nobody before `PAUSED → PLAYING`: a pipeline brings every element to
//! `PAUSED` before any goes on to `PLAYING`, so by then every `rtsp_out` of the pipeline has
//! mounted its path. A client that connects as soon as the port is open waits in the
//! port's queue until then, and is answered with every path there (never a 404 for a path
//! about to be mounted), and its media is fed from a playing pipeline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_rtsp_server as rtsp_server;
use gstreamer_rtsp_server::prelude::*;
use gstreamer_video as gst_video;

use crate::elements::rtsp::timing::Rebase;
use crate::elements::{add_with_ghost_pad, bin_templates};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplrtspout",
        gst::DebugColorFlags::empty(),
        Some("vpl RTSP server sink"),
    )
});

const DEFAULT_PORT: u32 = 8554;
const DEFAULT_PATH: &str = "/live";
/// While a client's media waits for its first key frame, one is asked for at most this often.
const ASK_KEY_AGAIN: Duration = Duration::from_millis(500);
const DEFAULT_ADDRESS: &str = "0.0.0.0";
/// Each client's media. The payloader sends the parameter sets with every key frame, so a
/// client joining mid-stream can decode from the next one.
const MEDIA_LAUNCH: &str = "( appsrc name=vplsrc is-live=true format=time do-timestamp=false \
                            ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )";

#[derive(Debug, Clone)]
struct Settings {
    port: u32,
    path: String,
    address: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            port: DEFAULT_PORT,
            path: DEFAULT_PATH.into(),
            address: DEFAULT_ADDRESS.into(),
        }
    }
}

/// One media's input.
struct Output {
    appsrc: gst_app::AppSrc,
    rebase: Rebase,
    /// A media starts at a key frame.
    need_key: bool,
    /// When a key frame was last asked for on this media's behalf.
    asked_key: Option<Instant>,
    caps: Option<gst::Caps>,
}

impl Output {
    /// Feeds one frame; true when the media still waits for a key frame and one should be
    /// asked for again: the one asked for when the client said PLAY can come before the
    /// media plays and be dropped, and the next regular one may be seconds away.
    fn push(
        &mut self,
        buffer: &gst::BufferRef,
        caps: Option<&gst::Caps>,
        running: (Option<u64>, Option<u64>),
    ) -> bool {
        let mut ask = || {
            let again = self
                .asked_key
                .is_none_or(|at| at.elapsed() >= ASK_KEY_AGAIN);
            if again {
                self.asked_key = Some(Instant::now());
            }
            again
        };
        if self.need_key && buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) {
            return ask();
        }
        // Before the media plays there is no clock to place the frame on, nor while it starts
        // to: its elements are given the clock before their base time, and the running time
        // read then is the clock's own time (hours since boot). The first frame placed there,
        // and every later one (they keep its offset), would be so far ahead of the media's
        // running time that its sink, in step with the clock, would never send them: the
        // client's first frame never came (a loaded machine, a frame arriving at that moment).
        let playing = self.appsrc.current_state() == gst::State::Playing;
        let Some(now) = self.appsrc.current_running_time().filter(|_| playing) else {
            return self.need_key && ask();
        };
        let (pts, dts) = self.rebase.map(now.nseconds(), running.0, running.1);
        let mut out = buffer.copy();
        {
            let out = out.make_mut();
            out.set_pts(pts.map(gst::ClockTime::from_nseconds));
            out.set_dts(dts.map(gst::ClockTime::from_nseconds));
            if self.need_key {
                out.set_flags(gst::BufferFlags::DISCONT);
            }
        }
        if let Some(caps) = caps
            && self.caps.as_ref() != Some(caps)
        {
            self.appsrc.set_caps(Some(caps));
            self.caps = Some(caps.clone());
        }
        self.need_key = false;
        if let Err(err) = self.appsrc.push_buffer(out) {
            gst::debug!(CAT, obj = self.appsrc, "frame not taken: {err:?}");
        }
        false
    }
}

/// The medias of the connected clients, fed with every frame that reaches the element.
#[derive(Default)]
struct Outputs {
    medias: Mutex<Vec<Output>>,
    /// End of stream reached: new medias end at once.
    ended: AtomicBool,
}

impl Outputs {
    fn medias(&self) -> MutexGuard<'_, Vec<Output>> {
        self.medias.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Feeds a frame to every media; true when one of them asks for a key frame.
    fn push(&self, sample: &gst::Sample) -> bool {
        let Some(buffer) = sample.buffer() else {
            return false;
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
        let times = (running(buffer.pts()), running(buffer.dts()));
        let caps = sample.caps_owned();
        let mut wants_key = false;
        for output in self.medias().iter_mut() {
            wants_key |= output.push(buffer, caps.as_ref(), times);
        }
        wants_key
    }

    fn add(&self, appsrc: gst_app::AppSrc) {
        if self.ended.load(Ordering::SeqCst) {
            let _ = appsrc.end_of_stream();
        }
        self.medias().push(Output {
            appsrc,
            rebase: Rebase::default(),
            need_key: true,
            asked_key: None,
            caps: None,
        });
    }

    fn remove(&self, appsrc: &gst_app::AppSrc) {
        self.medias().retain(|o| &o.appsrc != appsrc);
    }

    fn end(&self) {
        self.ended.store(true, Ordering::SeqCst);
        for output in self.medias().iter() {
            let _ = output.appsrc.end_of_stream();
        }
    }
}

/// Asks the encoder upstream of `pad` for a key frame with its headers, so that a new
/// client need not wait for the next regular one.
fn request_key_frame(pad: &glib::WeakRef<gst::GhostPad>) {
    if let Some(pad) = pad.upgrade() {
        let event = gst_video::UpstreamForceKeyUnitEvent::builder()
            .all_headers(true)
            .build();
        if !pad.push_event(event) {
            gst::debug!(
                CAT,
                obj = pad,
                "nobody upstream makes key frames on request"
            );
        }
    }
}

/// A server bound to its port, and, once it serves, the thread running its main loop.
struct Server {
    server: rtsp_server::RTSPServer,
    context: glib::MainContext,
    listening: glib::Source,
    main_loop: glib::MainLoop,
    /// `None` until the server answers clients ([`Server::serve`]).
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts answering clients, on a thread of its own named `name`; those that connected
    /// since the port was bound are answered first. Does nothing when already serving.
    fn serve(&mut self, name: &str) -> std::io::Result<()> {
        if self.thread.is_some() {
            return Ok(());
        }
        self.listening.attach(Some(&self.context));
        let (running, thread_context) = (self.main_loop.clone(), self.context.clone());
        let thread = std::thread::Builder::new()
            .name(format!("{name}-server"))
            .spawn(move || {
                // Clients are attached to the thread-default context of this thread.
                if thread_context
                    .with_thread_default(|| running.run())
                    .is_err()
                {
                    gst::error!(CAT, "the RTSP server's main context is in use");
                }
            });
        match thread {
            Ok(thread) => {
                self.thread = Some(thread);
                Ok(())
            }
            Err(e) => {
                self.listening.destroy();
                Err(e)
            }
        }
    }

    /// Closes every client's connection, stops listening (the port is free when this
    /// returns) and ends the loop, all on the server's own thread.
    fn shut_down(self) {
        let Server {
            server,
            context,
            listening,
            main_loop,
            thread,
        } = self;
        let Some(thread) = thread else {
            // Never served: dropping the source closes its socket.
            drop(listening);
            return;
        };
        context.invoke(move || {
            server.client_filter(Some(&mut |_, _| rtsp_server::RTSPFilterResult::Remove));
            listening.destroy();
            main_loop.quit();
        });
        if thread.join().is_err() {
            gst::error!(CAT, "the RTSP server thread panicked");
        }
    }
}

/// A server shared by the elements that serve on its address and port.
struct Shared {
    server: Server,
    /// The mounted paths, each with the input pad of the element serving it (asked for a
    /// key frame when a client starts playing).
    paths: Arc<Mutex<HashMap<String, glib::WeakRef<gst::GhostPad>>>>,
}

/// The servers of this process, by address and port.
static SERVERS: LazyLock<Mutex<HashMap<(String, u32), Shared>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn servers() -> MutexGuard<'static, HashMap<(String, u32), Shared>> {
    SERVERS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where an element serves: the key of its shared server and its mount path.
type Mounted = ((String, u32), String);

pub struct VplRtspOut {
    settings: Mutex<Settings>,
    appsink: gst_app::AppSink,
    outputs: Arc<Outputs>,
    server: Mutex<Option<Mounted>>,
}

impl VplRtspOut {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn server(&self) -> MutexGuard<'_, Option<Mounted>> {
        self.server.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn mount_path(settings: &Settings) -> String {
        if settings.path.starts_with('/') {
            settings.path.clone()
        } else {
            format!("/{}", settings.path)
        }
    }

    fn start(&self) -> Result<(), gst::StateChangeError> {
        let settings = self.settings().clone();
        let path = Self::mount_path(&settings);
        self.outputs.ended.store(false, Ordering::SeqCst);

        let factory = rtsp_server::RTSPMediaFactory::new();
        factory.set_launch(MEDIA_LAUNCH);
        factory.set_shared(true);
        let pad = self
            .obj()
            .static_pad("sink")
            .and_then(|p| p.downcast::<gst::GhostPad>().ok())
            .map(|p| p.downgrade())
            .unwrap_or_default();
        let outputs = self.outputs.clone();
        let key_pad = pad.clone();
        factory.connect_media_configure(move |_, media| {
            let appsrc = media
                .element()
                .downcast::<gst::Bin>()
                .ok()
                .and_then(|bin| bin.by_name("vplsrc"))
                .and_then(|e| e.downcast::<gst_app::AppSrc>().ok());
            let Some(appsrc) = appsrc else {
                gst::error!(CAT, "the RTSP media has no appsrc");
                return;
            };
            outputs.add(appsrc.clone());
            let gone = outputs.clone();
            media.connect_unprepared(move |_| gone.remove(&appsrc));
            request_key_frame(&key_pad);
        });

        let key = (settings.address.clone(), settings.port);
        let mut servers = servers();
        if let Some(shared) = servers.get(&key) {
            // Another stream of this process serves on this port: mount this one beside it.
            let mut paths = shared.paths.lock().unwrap_or_else(|p| p.into_inner());
            if paths.contains_key(&path) {
                gst::element_imp_error!(
                    self,
                    gst::ResourceError::Busy,
                    (
                        "Another stream is already served at rtsp://{}:{}{}",
                        settings.address,
                        settings.port,
                        path
                    ),
                    ["choose another `path` or `port` for one of them"]
                );
                return Err(gst::StateChangeError);
            }
            if let Some(mounts) = shared.server.server.mount_points() {
                mounts.add_factory(&path, factory);
            }
            paths.insert(path.clone(), pad);
        } else {
            let paths = Arc::new(Mutex::new(HashMap::from([(path.clone(), pad)])));
            let server = self.listen(&settings, &path, factory, paths.clone())?;
            servers.insert(key.clone(), Shared { server, paths });
        }
        drop(servers);
        gst::info!(
            CAT,
            imp = self,
            "serving rtsp://{}:{}{}",
            settings.address,
            settings.port,
            path
        );
        *self.server() = Some((key, path));
        Ok(())
    }

    /// A new server on the settings' address and port, bound but not yet answering, with
    /// `factory` at `path`.
    fn listen(
        &self,
        settings: &Settings,
        path: &str,
        factory: rtsp_server::RTSPMediaFactory,
        paths: Arc<Mutex<HashMap<String, glib::WeakRef<gst::GhostPad>>>>,
    ) -> Result<Server, gst::StateChangeError> {
        let server = rtsp_server::RTSPServer::new();
        server.set_address(&settings.address);
        server.set_service(&settings.port.to_string());
        if let Some(mounts) = server.mount_points() {
            mounts.add_factory(path, factory);
        }
        server.connect_client_connected(move |_, client| {
            let paths = paths.clone();
            client.connect_play_request(move |_, _| {
                let pads: Vec<_> = paths
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .values()
                    .cloned()
                    .collect();
                for pad in &pads {
                    request_key_frame(pad);
                }
            });
        });
        let context = glib::MainContext::new();
        // Binds the port now, so that a port in use fails the start with the reason.
        let listening = server
            .create_source(None::<&rtsp_server::gio::Cancellable>)
            .map_err(|e| {
                let hint = match e.kind::<rtsp_server::gio::IOErrorEnum>() {
                    Some(rtsp_server::gio::IOErrorEnum::AddressInUse) => format!(
                        "another program listens on port {}: stop it, or choose another `port`",
                        settings.port
                    ),
                    Some(rtsp_server::gio::IOErrorEnum::PermissionDenied) => {
                        "ports below 1024 need privileges: choose a `port` from 1024".to_string()
                    }
                    _ => format!("check `port` and the address {}", settings.address),
                };
                gst::element_imp_error!(
                    self,
                    gst::ResourceError::OpenReadWrite,
                    ("Cannot serve RTSP on port {}: {}", settings.port, e),
                    ["{}", hint]
                );
                gst::StateChangeError
            })?;
        let main_loop = glib::MainLoop::new(Some(&context), false);
        Ok(Server {
            server,
            context,
            listening,
            main_loop,
            thread: None,
        })
    }

    /// Makes the server of this element answer clients (every element of the pipeline has
    /// mounted its path by now).
    fn serve(&self) -> Result<(), gst::StateChangeError> {
        let Some((key, _)) = self.server().clone() else {
            return Ok(());
        };
        let name = self.obj().name();
        let mut servers = servers();
        let Some(shared) = servers.get_mut(&key) else {
            return Ok(());
        };
        shared.server.serve(&name).map_err(|e| {
            gst::element_imp_error!(
                self,
                gst::CoreError::Failed,
                ("Cannot start the RTSP server thread: {}", e)
            );
            gst::StateChangeError
        })
    }

    fn stop(&self) {
        let mounted = self.server().take();
        if let Some((key, path)) = mounted {
            let mut servers = servers();
            let last = servers.get(&key).is_some_and(|shared| {
                if let Some(mounts) = shared.server.server.mount_points() {
                    mounts.remove_factory(&path);
                }
                let mut paths = shared.paths.lock().unwrap_or_else(|p| p.into_inner());
                paths.remove(&path);
                paths.is_empty()
            });
            let ended = if last { servers.remove(&key) } else { None };
            drop(servers);
            if let Some(shared) = ended {
                shared.server.shut_down();
            }
        }
        self.outputs.medias().clear();
    }
}

#[glib::object_subclass]
impl ObjectSubclass for VplRtspOut {
    const NAME: &'static str = "VplRtspOut";
    type Type = super::VplRtspOut;
    type ParentType = gst::Bin;

    fn new() -> Self {
        // In real time, so a file is served at its own pace; no preroll, as vpl's other sinks.
        let appsink = gst_app::AppSink::builder().name("sink").sync(true).build();
        appsink.set_async(false);
        let outputs = Arc::new(Outputs::default());
        let (samples, ends) = (outputs.clone(), outputs.clone());
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    if let Ok(sample) = sink.pull_sample()
                        && samples.push(&sample)
                        && let Some(pad) = sink.static_pad("sink")
                    {
                        let event = gst_video::UpstreamForceKeyUnitEvent::builder()
                            .all_headers(true)
                            .build();
                        let _ = pad.push_event(event);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .eos(move |_| ends.end())
                .build(),
        );
        VplRtspOut {
            settings: Mutex::new(Settings::default()),
            appsink,
            outputs,
            server: Mutex::new(None),
        }
    }
}

impl ObjectImpl for VplRtspOut {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecUInt::builder("port")
                    .nick("Port")
                    .blurb("The TCP port to listen on")
                    .minimum(1)
                    .maximum(65535)
                    .default_value(DEFAULT_PORT)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("path")
                    .nick("Path")
                    .blurb("The mount path of the stream")
                    .default_value(Some(DEFAULT_PATH))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("address")
                    .nick("Address")
                    .blurb("The address to listen on")
                    .default_value(Some(DEFAULT_ADDRESS))
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings();
        let text = |default: &str| {
            value
                .get::<Option<String>>()
                .ok()
                .flatten()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        match pspec.name() {
            "port" => settings.port = value.get().unwrap_or(DEFAULT_PORT),
            "path" => settings.path = text(DEFAULT_PATH),
            "address" => settings.address = text(DEFAULT_ADDRESS),
            other => gst::warning!(CAT, imp = self, "no property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings();
        match pspec.name() {
            "port" => settings.port.to_value(),
            "path" => settings.path.to_value(),
            "address" => settings.address.to_value(),
            // GLib only asks for properties listed above.
            _ => glib::Value::from_type(pspec.value_type()),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        if let Err(e) = add_with_ghost_pad(&*obj, &self.appsink, "sink") {
            gst::error!(CAT, imp = self, "{e}");
        }
    }

    fn dispose(&self) {
        self.stop();
    }
}

impl GstObjectImpl for VplRtspOut {}

impl ElementImpl for VplRtspOut {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl RTSP server sink",
                "Sink/Network/Bin",
                "Serves an H.264 stream over RTSP with gst-rtsp-server",
                "vpl",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            bin_templates(
                gst::PadDirection::Sink,
                &gst::Caps::builder("video/x-h264").build(),
            )
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToPaused {
            self.start()?;
        }
        if transition == gst::StateChange::PausedToPlaying {
            self.serve()?;
        }
        let result = self.parent_change_state(transition);
        if transition == gst::StateChange::PausedToReady
            || (transition == gst::StateChange::ReadyToPaused && result.is_err())
        {
            self.stop();
        }
        result
    }
}

impl BinImpl for VplRtspOut {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `appsrc ! appsink` paused, its appsrc given the clock but not yet a base time: a
    /// pipeline on its way to `PLAYING` hands its elements the clock first and each its base
    /// time as it changes state. A frame can come in between.
    fn starting_to_play() -> (gst::Pipeline, gst_app::AppSrc, gst_app::AppSink) {
        gst::init().expect("GStreamer starts");
        let appsrc = gst_app::AppSrc::builder()
            .is_live(true)
            .format(gst::Format::Time)
            .build();
        let appsink = gst_app::AppSink::builder().sync(false).build();
        // Playing without a frame to preroll on.
        appsink.set_async(false);
        let pipeline = gst::Pipeline::new();
        pipeline
            .add_many([appsrc.upcast_ref(), appsink.upcast_ref::<gst::Element>()])
            .expect("added");
        appsrc.link(&appsink).expect("linked");
        pipeline.set_state(gst::State::Paused).expect("paused");
        appsrc
            .set_clock(Some(&gst::SystemClock::obtain()))
            .expect("the clock is taken");
        (pipeline, appsrc, appsink)
    }

    fn frame(pts_ms: u64, key: bool) -> gst::Buffer {
        let mut buffer = gst::Buffer::with_size(8).expect("a buffer");
        let b = buffer.get_mut().expect("writable");
        b.set_pts(gst::ClockTime::from_mseconds(pts_ms));
        b.set_dts(gst::ClockTime::from_mseconds(pts_ms));
        if !key {
            b.set_flags(gst::BufferFlags::DELTA_UNIT);
        }
        buffer
    }

    fn ms(ms: u64) -> (Option<u64>, Option<u64>) {
        let ns = ms * 1_000_000;
        (Some(ns), Some(ns))
    }

    /// A key frame that reaches a client's media while the media starts to play waits for
    /// the next (one is asked for): the frames the client gets are placed at the media's
    /// running time, not hours ahead where its sink would hold them.
    #[test]
    fn a_media_starting_to_play_places_no_frame_at_the_clocks_own_time() {
        let (pipeline, appsrc, appsink) = starting_to_play();
        let mut output = Output {
            appsrc: appsrc.clone(),
            rebase: Rebase::default(),
            need_key: true,
            asked_key: None,
            caps: None,
        };
        let asks = output.push(&frame(0, true), None, ms(0));
        assert!(output.need_key, "a frame was taken before the media plays");
        assert!(asks, "a key frame is asked for again");

        pipeline.set_state(gst::State::Playing).expect("playing");
        let (changed, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
        assert!(changed.is_ok() && state == gst::State::Playing);
        for (i, key) in [true, false, false].into_iter().enumerate() {
            let at = 33 * (i as u64 + 1);
            assert!(!output.push(&frame(at, key), None, ms(at)));
        }
        let pts: Vec<gst::ClockTime> = (0..3)
            .map(|_| {
                let sample = appsink
                    .try_pull_sample(gst::ClockTime::from_seconds(10))
                    .expect("a frame reaches the client");
                sample.buffer().and_then(|b| b.pts()).expect("a timestamp")
            })
            .collect();
        // The first at the running time it came at (not later than now), the others as far
        // from it as the sender spaced them.
        let now = appsrc.current_running_time().expect("a running time");
        assert!(
            pts[0] <= now,
            "placed at {}, the running time is {now}",
            pts[0]
        );
        let spacing: Vec<u64> = pts.iter().map(|t| (*t - pts[0]).mseconds()).collect();
        assert_eq!(spacing, [0, 33, 66]);
        pipeline.set_state(gst::State::Null).expect("stopped");
    }
}
