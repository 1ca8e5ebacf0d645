//! The `vpltrack` element: properties, and the tracker run on each buffer's metadata.

use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;

use super::byte::{BYTETRACK, ByteParams, ByteTracker};
use super::sort::SortTracker;
use super::tracker::IouTracker;
use crate::elements::transform::{
    in_place_transform, settings, start, stop, string_value, with_state,
};
use crate::meta::VplObjectsMeta;

const DEFAULT_KIND: &str = "iou";
const DEFAULT_MAX_AGE: u32 = 30;
const DEFAULT_IOU: f64 = 0.3;
const DEFAULT_BYTE: ByteParams = BYTETRACK;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vpltrack",
        gst::DebugColorFlags::empty(),
        Some("vpl object tracker"),
    )
});

#[derive(Debug, Clone)]
struct Settings {
    kind: String,
    max_age: u32,
    iou: f64,
    /// `kind=byte`'s thresholds (its `max_age` is the one above).
    byte: ByteParams,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kind: DEFAULT_KIND.into(),
            max_age: DEFAULT_MAX_AGE,
            iou: DEFAULT_IOU,
            byte: ByteParams::default(),
        }
    }
}

/// A threshold property between 0 and 1.
fn fraction(name: &str, nick: &str, blurb: &str, default: f64) -> glib::ParamSpec {
    glib::ParamSpecDouble::builder(name)
        .nick(nick)
        .blurb(blurb)
        .minimum(0.0)
        .maximum(1.0)
        .default_value(default)
        .build()
}

/// The tracker `kind` chose, made in `start()`.
enum State {
    Iou(IouTracker),
    Sort(SortTracker),
    Byte(ByteTracker),
}

#[derive(Default)]
pub struct VplTrack {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

impl ObjectImpl for VplTrack {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("kind")
                    .nick("Kind")
                    .blurb(
                        "Tracker: iou (box overlap), sort (Kalman-predicted boxes) or byte \
                         (ByteTrack: confident boxes first, then weak ones)",
                    )
                    .default_value(Some(DEFAULT_KIND))
                    .build(),
                glib::ParamSpecUInt::builder("max-age")
                    .nick("Max age")
                    .blurb("Frames a track may go unmatched before it ends")
                    .minimum(1)
                    .default_value(DEFAULT_MAX_AGE)
                    .build(),
                glib::ParamSpecDouble::builder("iou")
                    .nick("IoU")
                    .blurb("The least overlap for a box to continue a track")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_IOU)
                    .build(),
                fraction(
                    "high",
                    "High",
                    "byte: detections above this are matched first and may start tracks",
                    DEFAULT_BYTE.high,
                ),
                fraction(
                    "low",
                    "Low",
                    "byte: detections above this and below high only continue tracks",
                    DEFAULT_BYTE.low,
                ),
                fraction(
                    "new-track",
                    "New track",
                    "byte: the least confidence for a detection to start a track",
                    DEFAULT_BYTE.new_track,
                ),
                fraction(
                    "match",
                    "Match",
                    "byte: the largest cost 1 - IoU x confidence of a first match",
                    DEFAULT_BYTE.matching,
                ),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let Ok(mut s) = self.settings.lock() else {
            return;
        };
        match pspec.name() {
            "kind" => s.kind = string_value(value, DEFAULT_KIND),
            "max-age" => s.max_age = value.get().unwrap_or(DEFAULT_MAX_AGE),
            "iou" => s.iou = value.get().unwrap_or(DEFAULT_IOU),
            "high" => s.byte.high = value.get().unwrap_or(DEFAULT_BYTE.high),
            "low" => s.byte.low = value.get().unwrap_or(DEFAULT_BYTE.low),
            "new-track" => s.byte.new_track = value.get().unwrap_or(DEFAULT_BYTE.new_track),
            "match" => s.byte.matching = value.get().unwrap_or(DEFAULT_BYTE.matching),
            _ => {}
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = settings(&self.settings);
        match pspec.name() {
            "kind" => s.kind.to_value(),
            "max-age" => s.max_age.to_value(),
            "high" => s.byte.high.to_value(),
            "low" => s.byte.low.to_value(),
            "new-track" => s.byte.new_track.to_value(),
            "match" => s.byte.matching.to_value(),
            _ => s.iou.to_value(),
        }
    }
}

in_place_transform! {
    VplTrack: super::VplTrack,
    metadata: (
        "vpl tracker",
        "Filter/Analyzer/Video",
        "Gives the objects found upstream stable track ids"
    ),
    caps: gst::Caps::new_any(),
    hands: [start, stop, transform_ip]
}

impl VplTrack {
    fn on_start(&self) -> Result<(), gst::ErrorMessage> {
        let s = settings(&self.settings);
        let state = match s.kind.as_str() {
            "iou" => State::Iou(IouTracker::new(s.max_age, s.iou as f32)),
            "sort" => State::Sort(SortTracker::new(s.max_age, s.iou as f32)),
            "byte" => State::Byte(ByteTracker::new(ByteParams {
                max_age: s.max_age,
                ..s.byte
            })),
            other => {
                return Err(gst::error_msg!(
                    gst::LibraryError::Settings,
                    ["unknown tracker kind {:?}: use iou, sort or byte", other]
                ));
            }
        };
        start(&self.state, state);
        gst::debug!(
            CAT,
            imp = self,
            "tracking by {} with IoU {} and max age {}",
            s.kind,
            s.iou,
            s.max_age
        );
        Ok(())
    }

    fn on_stop(&self) -> Result<(), gst::ErrorMessage> {
        stop(&self.state)
    }

    fn on_buffer(&self, buffer: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        with_state(&self.state, |tracker| {
            let mut meta = buffer.meta_mut::<VplObjectsMeta>();
            match meta.as_mut().map(|m| m.data_mut()) {
                // `infer(every: N)` skipped this frame: predicted boxes replace the repeated ones.
                Some(data) if data.repeated => {
                    data.objects = match tracker {
                        State::Iou(t) => t.predict(),
                        State::Sort(t) => t.predict(),
                        State::Byte(t) => t.predict(),
                    };
                    data.repeated = false;
                }
                data => {
                    let mut none = Vec::new();
                    let objects = match data {
                        Some(data) => &mut data.objects,
                        None => &mut none,
                    };
                    match tracker {
                        State::Iou(t) => t.update(objects),
                        State::Sort(t) => t.update(objects),
                        State::Byte(t) => t.update(objects),
                    }
                }
            }
            gst::FlowSuccess::Ok
        })
    }
}
