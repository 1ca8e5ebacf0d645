//! `vplrecord`: encoded H.264 frames with `VplObjectsMeta` → clips around the frames that
//! meet the condition (`trigger.rs` decides; `clip.rs` writes).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::prelude::*;
use gstreamer_base::subclass::prelude::*;
use vpl_compiler::analytics::EventKind;

use super::clip::Clip;
use super::event_trigger::EventTrigger;
use super::trigger::{Action, Frame, Recorder, Timing};
use crate::meta::{ObjectsData, VplObjectsMeta};
use crate::utc::UtcTime;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplrecord",
        gst::DebugColorFlags::empty(),
        Some("vpl triggered recording"),
    )
});

const DEFAULT_LOCATION: &str = "clips/{stream}_{time}.mp4";
const DEFAULT_COUNT: u32 = 1;
const DEFAULT_BEFORE: u64 = 5_000_000_000;
const DEFAULT_AFTER: u64 = 10_000_000_000;

#[derive(Debug, Clone)]
struct Settings {
    location: String,
    when: String,
    count: u32,
    /// An analytics event (`crossing`) instead of a label; empty: `when` is a label.
    event: String,
    /// The zone or line the event must be about; empty: any.
    at: String,
    before: u64,
    after: u64,
    stream: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            location: DEFAULT_LOCATION.into(),
            when: String::new(),
            count: DEFAULT_COUNT,
            event: String::new(),
            at: String::new(),
            before: DEFAULT_BEFORE,
            after: DEFAULT_AFTER,
            stream: 0,
        }
    }
}

struct State {
    settings: Settings,
    caps: Option<gst::Caps>,
    recorder: Recorder,
    /// `event` set: the events maker that decides each frame.
    events: Option<EventTrigger>,
    ring: VecDeque<gst::Buffer>,
    clip: Option<Clip>,
    clips: u32,
}

#[derive(Default)]
pub struct VplRecord {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The muxer for a clip's extension (the checker allowed only containers of H.264).
fn muxer_for(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    vpl_compiler::media::container_for_extension(&ext)
        .and_then(|c| c.muxer)
        .unwrap_or("mp4mux")
}

impl State {
    /// The path of the next clip: placeholders filled, and `_2`, `_3`… after a name that
    /// exists. The file is created here, exclusively (`create_new`), so two recorders that
    /// start a clip at the same moment under the same name never share it: the second
    /// takes the next name.
    fn next_path(&mut self) -> Result<PathBuf, String> {
        self.clips += 1;
        let s = &self.settings;
        let base = s
            .location
            .replace("{stream}", &s.stream.to_string())
            .replace("{time}", &UtcTime::now().compact())
            .replace("{n}", &self.clips.to_string());
        let base = PathBuf::from(base);
        if let Some(dir) = base.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let stem = base
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut path = base.clone();
        for k in 2u64.. {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
            let name = match base.extension() {
                Some(ext) => format!("{stem}_{k}.{}", ext.to_string_lossy()),
                None => format!("{stem}_{k}"),
            };
            path = base.with_file_name(name);
        }
        Err(format!("no free name for a clip like {}", base.display()))
    }
}

impl VplRecord {
    fn finish_clip(&self, clip: Clip) -> Result<(), gst::ErrorMessage> {
        let path = clip
            .finish()
            .map_err(|e| gst::error_msg!(gst::ResourceError::Write, ("{}", e)))?;
        gst::info!(CAT, imp = self, "clip {} written", path.display());
        Ok(())
    }
}

#[glib::object_subclass]
impl ObjectSubclass for VplRecord {
    const NAME: &'static str = "VplRecord";
    type Type = super::VplRecord;
    type ParentType = gst_base::BaseSink;
}

impl ObjectImpl for VplRecord {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb("Path of each clip: {stream}, {time} (UTC) and {n} are filled in")
                    .default_value(Some(DEFAULT_LOCATION))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("when")
                    .nick("When")
                    .blurb("Label of the objects that trigger a clip")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("count")
                    .nick("Count")
                    .blurb("Objects with the label a frame needs to trigger")
                    .minimum(1)
                    .default_value(DEFAULT_COUNT)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("event")
                    .nick("Event")
                    .blurb("Analytics event that triggers a clip (entry, exit, crossing, overcrowding, appeared) instead of a label")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("at")
                    .nick("At")
                    .blurb("Zone or line the event must be about; empty: any")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("before")
                    .nick("Before")
                    .blurb("Nanoseconds of video kept before a trigger")
                    .default_value(DEFAULT_BEFORE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("after")
                    .nick("After")
                    .blurb("Nanoseconds of video kept after the last triggering frame")
                    .default_value(DEFAULT_AFTER)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("stream")
                    .nick("Stream")
                    .blurb("Stream index, for {stream} in the location")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = lock(&self.settings);
        let text = || {
            value
                .get::<Option<String>>()
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        match pspec.name() {
            "location" => s.location = text(),
            "when" => s.when = text(),
            "count" => s.count = value.get().unwrap_or(DEFAULT_COUNT),
            "event" => s.event = text(),
            "at" => s.at = text(),
            "before" => s.before = value.get().unwrap_or(DEFAULT_BEFORE),
            "after" => s.after = value.get().unwrap_or(DEFAULT_AFTER),
            "stream" => s.stream = value.get().unwrap_or(0),
            other => gst::warning!(CAT, imp = self, "no property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = lock(&self.settings);
        match pspec.name() {
            "location" => s.location.to_value(),
            "when" => s.when.to_value(),
            "count" => s.count.to_value(),
            "event" => s.event.to_value(),
            "at" => s.at.to_value(),
            "before" => s.before.to_value(),
            "after" => s.after.to_value(),
            "stream" => s.stream.to_value(),
            _ => glib::Value::from_type(pspec.value_type()),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        self.obj().set_sync(false);
    }
}

impl GstObjectImpl for VplRecord {}

impl ElementImpl for VplRecord {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl triggered recording",
                "Sink/Video",
                "Writes clips of H.264 video around the frames whose objects meet a condition",
                "vpl",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst::Caps::builder("video/x-h264")
                .field("alignment", "au")
                .build();
            gst::PadTemplate::new(
                "sink",
                gst::PadDirection::Sink,
                gst::PadPresence::Always,
                &caps,
            )
            .into_iter()
            .collect()
        });
        TEMPLATES.as_ref()
    }
}

impl BaseSinkImpl for VplRecord {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = lock(&self.settings).clone();
        let events = if settings.event.is_empty() {
            None
        } else {
            let kind = EventKind::from_word(&settings.event).ok_or_else(|| {
                gst::error_msg!(
                    gst::LibraryError::Settings,
                    ("no analytics event `{}`", settings.event)
                )
            })?;
            Some(EventTrigger::new(kind, &settings.at))
        };
        *lock(&self.state) = Some(State {
            settings,
            caps: None,
            recorder: Recorder::default(),
            events,
            ring: VecDeque::new(),
            clip: None,
            clips: 0,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        let clip = lock(&self.state).take().and_then(|mut s| s.clip.take());
        match clip {
            Some(clip) => self.finish_clip(clip),
            None => Ok(()),
        }
    }

    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        if let Some(state) = lock(&self.state).as_mut() {
            state.caps = Some(caps.clone());
        }
        Ok(())
    }

    fn render(&self, buffer: &gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut guard = lock(&self.state);
        let Some(state) = guard.as_mut() else {
            return Err(gst::FlowError::Flushing);
        };
        let Some(time) = buffer.pts().or(buffer.dts()) else {
            return Ok(gst::FlowSuccess::Ok);
        };
        let meta = VplObjectsMeta::get(buffer);
        let hit = match state.events.as_mut() {
            // Every frame goes to the events maker, as `events` sees every frame: a track
            // unseen for a while leaves its zones even on frames with no objects.
            Some(events) => {
                let empty = ObjectsData::default();
                events.hit(meta.unwrap_or(&empty), time.nseconds())
            }
            None => meta.is_some_and(|data| {
                let n = data
                    .objects
                    .iter()
                    .filter(|o| o.label == state.settings.when)
                    .count();
                n >= state.settings.count as usize
            }),
        };
        let frame = Frame {
            time_ns: time.nseconds(),
            key: !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT),
            hit,
        };
        let timing = Timing {
            before_ns: state.settings.before,
            after_ns: state.settings.after,
        };
        state.ring.push_back(buffer.clone());
        let (dropped, action) = state.recorder.push(timing, frame);
        state.ring.drain(..dropped.min(state.ring.len()));
        let fail = |e: String| {
            gst::element_imp_error!(self, gst::ResourceError::Write, ("{}", e));
            gst::FlowError::Error
        };
        match action {
            Action::Keep => {}
            Action::Start { .. } => {
                let caps = state.caps.clone().ok_or(gst::FlowError::NotNegotiated)?;
                let path = state.next_path().map_err(fail)?;
                let mut clip = Clip::open(&path, muxer_for(&path), &caps)
                    .inspect_err(|_| {
                        let _ = std::fs::remove_file(&path);
                    })
                    .map_err(fail)?;
                for b in &state.ring {
                    clip.write(b).map_err(fail)?;
                }
                gst::info!(CAT, imp = self, "clip {} started", path.display());
                state.clip = Some(clip);
            }
            Action::Write | Action::WriteAndFinish => {
                if let Some(clip) = state.clip.as_mut() {
                    clip.write(buffer).map_err(fail)?;
                }
                if action == Action::WriteAndFinish
                    && let Some(clip) = state.clip.take()
                {
                    drop(guard);
                    self.finish_clip(clip).map_err(|e| {
                        self.post_error_message(e);
                        gst::FlowError::Error
                    })?;
                }
            }
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn event(&self, event: gst::Event) -> bool {
        if let gst::EventView::Eos(_) = event.view() {
            let clip = lock(&self.state).as_mut().and_then(|s| s.clip.take());
            if let Some(clip) = clip
                && let Err(e) = self.finish_clip(clip)
            {
                self.post_error_message(e);
                return false;
            }
        }
        self.parent_event(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(location: &str) -> State {
        State {
            settings: Settings {
                location: location.into(),
                ..Settings::default()
            },
            caps: None,
            recorder: Recorder::default(),
            events: None,
            ring: VecDeque::new(),
            clip: None,
            clips: 0,
        }
    }

    /// Found by a hostile test (issue 19): two recorders that started a clip at the same
    /// moment both found the name free and one clip overwrote the other. The name is taken
    /// by creating the file, so the second recorder gets the next one.
    #[test]
    fn two_recorders_starting_at_once_never_share_a_clip_name() {
        let dir = std::env::temp_dir().join(format!("vpl-record-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for location in ["{stream}_{n}.mp4", "{stream}_{time}.mp4"] {
            let location = dir.join(location).display().to_string();
            let (mut a, mut b) = (state(&location), state(&location));
            let paths: Vec<PathBuf> = [a.next_path(), b.next_path(), a.next_path(), b.next_path()]
                .into_iter()
                .map(|p| p.expect("a name"))
                .collect();
            for (i, p) in paths.iter().enumerate() {
                assert!(p.exists(), "{} is taken", p.display());
                assert!(!paths[..i].contains(p), "{} twice: {paths:?}", p.display());
            }
        }
        let names: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("0_") && !n.contains('T'))
            .collect();
        let mut names = names;
        names.sort();
        assert_eq!(names, ["0_1.mp4", "0_1_2.mp4", "0_2.mp4", "0_2_2.mp4"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
