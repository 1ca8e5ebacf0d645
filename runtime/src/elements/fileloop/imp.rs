use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::thread::JoinHandle;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_app as gst_app;

use crate::elements::{add_with_ghost_pad, bin_templates};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplfileloop",
        gst::DebugColorFlags::empty(),
        Some("vpl looping file source"),
    )
});

/// Moves the timestamps of each pass over the file so that it starts where the last ended.
#[derive(Debug, Default)]
pub(super) struct Passes {
    /// Added to the timestamps of the current pass, in ns; fixed at its first frame.
    offset: Option<i64>,
    /// Where the next pass starts: the end of the latest frame given out, in ns.
    next_start: u64,
    /// The gap between the last two frames, for a frame without a duration.
    last_gap: u64,
    last_pts: Option<u64>,
}

impl Passes {
    /// The file starts again.
    pub(super) fn restart(&mut self) {
        self.offset = None;
        self.last_pts = None;
    }

    /// A frame's new `pts` and `dts` (ns) given its own and its duration.
    pub(super) fn map(
        &mut self,
        pts: Option<u64>,
        dts: Option<u64>,
        duration: Option<u64>,
    ) -> (Option<u64>, Option<u64>) {
        // The first frame of a pass (a key frame) shows first: its PTS is where the pass
        // starts. DTS keep their distance to the PTS.
        let reference = pts.or(dts).unwrap_or(0);
        let offset = *self
            .offset
            .get_or_insert(self.next_start as i64 - reference as i64);
        let shift = |t: Option<u64>| t.map(|t| (t as i64 + offset).max(0) as u64);
        let (new_pts, new_dts) = (shift(pts), shift(dts));
        if let (Some(now), Some(last)) = (pts, self.last_pts)
            && now > last
        {
            self.last_gap = now - last;
        }
        if pts.is_some() {
            self.last_pts = pts;
        }
        let end = new_pts
            .or(new_dts)
            .map(|t| t + duration.unwrap_or(self.last_gap).max(1));
        if let Some(end) = end {
            self.next_start = self.next_start.max(end);
        }
        (new_pts, new_dts)
    }
}

#[derive(Debug, Clone, Default)]
struct Settings {
    location: String,
}

struct Running {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

pub struct VplFileLoop {
    settings: Mutex<Settings>,
    appsrc: gst_app::AppSrc,
    running: Mutex<Option<Running>>,
}

impl VplFileLoop {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The inner pipeline: the file, parsed, its video into an appsink.
    fn inner(location: &str) -> Result<(gst::Pipeline, gst_app::AppSink), String> {
        let pipeline = gst::Pipeline::new();
        let filesrc = gst::ElementFactory::make("filesrc")
            .property("location", location)
            .build()
            .map_err(|e| e.to_string())?;
        let parse = gst::ElementFactory::make("parsebin")
            .build()
            .map_err(|_| "GStreamer has no `parsebin` (install gst-plugins-base)".to_string())?;
        let appsink = gst_app::AppSink::builder()
            .sync(false)
            .max_buffers(4)
            .build();
        pipeline
            .add_many([&filesrc, &parse, appsink.upcast_ref()])
            .map_err(|e| e.to_string())?;
        filesrc.link(&parse).map_err(|e| e.to_string())?;
        let sink = appsink.clone();
        parse.connect_pad_added(move |_, pad| {
            let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
            let video = caps
                .structure(0)
                .is_some_and(|s| s.name().starts_with("video/") || s.name().starts_with("image/"));
            if let Some(sinkpad) = sink.static_pad("sink")
                && video
                && !sinkpad.is_linked()
            {
                let _ = pad.link(&sinkpad);
            }
        });
        Ok((pipeline, appsink))
    }

    fn start(&self) -> Result<(), gst::StateChangeError> {
        let location = self.settings().location.clone();
        let (inner, appsink) = Self::inner(&location).map_err(|e| {
            gst::element_imp_error!(self, gst::CoreError::Failed, ("{}", e));
            gst::StateChangeError
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let (appsrc, flag, element) = (self.appsrc.clone(), stop.clone(), self.obj().clone());
        let thread = std::thread::Builder::new()
            .name(format!("{}-loop", self.obj().name()))
            .spawn(move || feed(&element, &inner, &appsink, &appsrc, &flag))
            .map_err(|e| {
                gst::element_imp_error!(self, gst::CoreError::Failed, ("{}", e));
                gst::StateChangeError
            })?;
        *self.running() = Some(Running { stop, thread });
        Ok(())
    }

    fn stop(&self) {
        if let Some(running) = self.running().take() {
            running.stop.store(true, Ordering::SeqCst);
            if running.thread.join().is_err() {
                gst::error!(CAT, imp = self, "the loop thread panicked");
            }
        }
    }
}

/// Plays the file again and again into `appsrc` until `stop` is set or `appsrc` refuses
/// frames (its pipeline stopped, or ended the stream).
fn feed(
    element: &super::VplFileLoop,
    inner: &gst::Pipeline,
    appsink: &gst_app::AppSink,
    appsrc: &gst_app::AppSrc,
    stop: &AtomicBool,
) {
    let fail = |message: String, debug: String| {
        gst::element_error!(
            element,
            gst::ResourceError::Read,
            ("{}", message),
            ["{}", debug]
        );
    };
    if inner.set_state(gst::State::Playing).is_err() {
        if let Some(msg) = inner
            .bus()
            .and_then(|b| b.pop_filtered(&[gst::MessageType::Error]))
            && let gst::MessageView::Error(e) = msg.view()
        {
            fail(
                e.error().to_string(),
                e.debug().map(|d| d.to_string()).unwrap_or_default(),
            );
        } else {
            fail("the file cannot be read".into(), String::new());
        }
        let _ = inner.set_state(gst::State::Null);
        return;
    }
    let mut passes = Passes::default();
    let mut caps: Option<gst::Caps> = None;
    let mut frames_this_pass = 0u64;
    while !stop.load(Ordering::SeqCst) {
        if let Some(msg) = inner
            .bus()
            .and_then(|b| b.pop_filtered(&[gst::MessageType::Error]))
            && let gst::MessageView::Error(e) = msg.view()
        {
            fail(
                e.error().to_string(),
                e.debug().map(|d| d.to_string()).unwrap_or_default(),
            );
            break;
        }
        match appsink.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
            Some(sample) => {
                let Some(buffer) = sample.buffer() else {
                    continue;
                };
                if let Some(c) = sample.caps_owned()
                    && caps.as_ref() != Some(&c)
                {
                    appsrc.set_caps(Some(&c));
                    caps = Some(c);
                }
                let (pts, dts) = passes.map(
                    buffer.pts().map(gst::ClockTime::nseconds),
                    buffer.dts().map(gst::ClockTime::nseconds),
                    buffer.duration().map(gst::ClockTime::nseconds),
                );
                let mut out = buffer.copy();
                {
                    let out = out.make_mut();
                    out.set_pts(pts.map(gst::ClockTime::from_nseconds));
                    out.set_dts(dts.map(gst::ClockTime::from_nseconds));
                    if frames_this_pass == 0 {
                        out.set_flags(gst::BufferFlags::DISCONT);
                    }
                }
                frames_this_pass += 1;
                if appsrc.push_buffer(out).is_err() {
                    break;
                }
            }
            None if appsink.is_eos() => {
                if frames_this_pass == 0 {
                    // A file with no video frame would loop forever on nothing.
                    let _ = appsrc.end_of_stream();
                    break;
                }
                frames_this_pass = 0;
                passes.restart();
                let sought = inner.seek_simple(
                    gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT,
                    gst::ClockTime::ZERO,
                );
                if let Err(e) = sought {
                    fail(
                        "the file cannot be played again from its start".into(),
                        e.to_string(),
                    );
                    break;
                }
            }
            None => {}
        }
    }
    let _ = inner.set_state(gst::State::Null);
}

#[glib::object_subclass]
impl ObjectSubclass for VplFileLoop {
    const NAME: &'static str = "VplFileLoop";
    type Type = super::VplFileLoop;
    type ParentType = gst::Bin;

    fn new() -> Self {
        let appsrc = gst_app::AppSrc::builder()
            .name("src")
            .format(gst::Format::Time)
            .is_live(false)
            .block(true)
            .build();
        VplFileLoop {
            settings: Mutex::new(Settings::default()),
            appsrc,
            running: Mutex::new(None),
        }
    }
}

impl ObjectImpl for VplFileLoop {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb("The file to play in a loop")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        if pspec.name() == "location" {
            self.settings().location = value
                .get::<Option<String>>()
                .ok()
                .flatten()
                .unwrap_or_default();
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "location" => self.settings().location.to_value(),
            _ => glib::Value::from_type(pspec.value_type()),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        if let Err(e) = add_with_ghost_pad(&*obj, &self.appsrc, "src") {
            gst::error!(CAT, imp = self, "{e}");
        }
    }

    fn dispose(&self) {
        self.stop();
    }
}

impl GstObjectImpl for VplFileLoop {}

impl ElementImpl for VplFileLoop {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl looping file source",
                "Source/File/Bin",
                "Plays a file's encoded video again from its start each time it ends",
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
        if transition == gst::StateChange::ReadyToPaused {
            self.start()?;
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

impl BinImpl for VplFileLoop {}

#[cfg(test)]
mod tests {
    use super::Passes;

    #[test]
    fn each_pass_starts_where_the_last_ended() {
        let mut p = Passes::default();
        let frame = 40_000_000;
        let mut out = Vec::new();
        for _ in 0..3 {
            p.restart();
            for i in 0..3u64 {
                out.push(
                    p.map(Some(i * frame), Some(i * frame), Some(frame))
                        .0
                        .unwrap(),
                );
            }
        }
        let expected: Vec<u64> = (0..9u64).map(|i| i * frame).collect();
        assert_eq!(out, expected);
    }
}
