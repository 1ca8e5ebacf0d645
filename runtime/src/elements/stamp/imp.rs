//! The `vplstamp` element: caps (byte-stream or length-prefixed), and the time it gives
//! each access unit.

use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;

use super::h264::{self, Pocs, Unsupported};
use crate::elements::transform::in_place_transform;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplstamp",
        gst::DebugColorFlags::empty(),
        Some("vpl H.264 presentation times"),
    )
});

#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    rate_num: u64,
    rate_den: u64,
}

#[derive(Default)]
struct State {
    pocs: Pocs,
    /// `None`: byte-stream (start codes); `Some(n)`: NAL units prefixed by n-byte lengths.
    length_size: Option<usize>,
    /// Access units seen, for a decoding time where the parser gave none.
    count: u64,
    /// The decoding time and order count of the last IDR picture.
    anchor: Option<(gst::ClockTime, i64)>,
    /// The depth of reordering, fixed at the first picture so times never go back.
    delay: Option<u64>,
}

#[derive(Default)]
pub struct VplStamp {
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

impl ObjectImpl for VplStamp {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecUInt64::builder("rate-num")
                    .nick("Rate numerator")
                    .blurb("Frames a second (numerator) where neither parser nor stream says (0: unknown)")
                    .build(),
                glib::ParamSpecUInt64::builder("rate-den")
                    .nick("Rate denominator")
                    .blurb("Frames a second (denominator)")
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let Ok(mut s) = self.settings.lock() else {
            return;
        };
        let v = value.get::<u64>().unwrap_or(0);
        match pspec.name() {
            "rate-num" => s.rate_num = v,
            _ => s.rate_den = v,
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().map(|s| *s).unwrap_or_default();
        match pspec.name() {
            "rate-num" => s.rate_num.to_value(),
            _ => s.rate_den.to_value(),
        }
    }
}

in_place_transform! {
    VplStamp: super::VplStamp,
    metadata: (
        "vpl H.264 presentation times",
        "Codec/Video",
        "Gives the access units of an H.264 elementary stream their presentation times"
    ),
    caps: gst::Caps::builder("video/x-h264")
        .field("alignment", "au")
        .build(),
    hands: [start, set_caps, transform_ip]
}

impl VplStamp {
    /// The frame duration: the parser's, else the stream's declared rate, else the probed
    /// rate vpl passed in.
    fn duration(&self, buffer: &gst::BufferRef, state: &State) -> Option<gst::ClockTime> {
        if let Some(d) = buffer.duration().filter(|d| !d.is_zero()) {
            return Some(d);
        }
        let s = self.settings.lock().map(|s| *s).unwrap_or_default();
        let (num, den) = state
            .pocs
            .rate()
            .map(|(n, d)| (u64::from(n), u64::from(d)))
            .or((s.rate_num > 0 && s.rate_den > 0).then_some((s.rate_num, s.rate_den)))?;
        gst::ClockTime::SECOND.mul_div_round(den, num)
    }

    fn on_start(&self) -> Result<(), gst::ErrorMessage> {
        if let Ok(mut state) = self.state.lock() {
            *state = State::default();
        }
        Ok(())
    }

    fn on_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let Ok(mut state) = self.state.lock() else {
            return Err(gst::loggable_error!(CAT, "state poisoned"));
        };
        let s = incaps
            .structure(0)
            .ok_or_else(|| gst::loggable_error!(CAT, "empty caps"))?;
        gst::debug!(CAT, imp = self, "caps {incaps}");
        state.length_size = None;
        if matches!(s.get::<&str>("stream-format"), Ok("avc" | "avc3"))
            && let Ok(config) = s.get::<gst::Buffer>("codec_data")
            && let Ok(map) = config.map_readable()
            && let Some((size, sets)) = h264::avc_config(&map)
        {
            state.length_size = Some(size);
            for nal in sets {
                state.pocs.nal(nal);
            }
        }
        Ok(())
    }

    fn on_buffer(&self, buffer: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let Ok(mut state) = self.state.lock() else {
            return Err(gst::FlowError::Error);
        };
        let index = state.count;
        state.count += 1;
        // A parser may guess the first frame's time (its segment's start): a guess that
        // is wrong wherever frames are reordered, so every time is set here.
        let picture = {
            let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
            let nals = match state.length_size {
                Some(size) => h264::length_prefixed_nals(&map, size),
                None => h264::byte_stream_nals(&map),
            };
            let mut picture = None;
            for nal in nals {
                if let Some(p) = state.pocs.nal(nal) {
                    picture = Some(p);
                    break;
                }
            }
            picture
        };
        let duration = self.duration(buffer, &state);
        let Some(duration) = duration else {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["the H.264 stream declares no frame rate and none was given"]
            );
            return Err(gst::FlowError::Error);
        };
        let dts = buffer.dts().unwrap_or(duration * index);
        buffer.set_dts(dts);
        if buffer.duration().is_none() {
            buffer.set_duration(duration);
        }
        let picture = match picture {
            Some(Ok(p)) => p,
            Some(Err(why)) => {
                let what = match why {
                    Unsupported::PocType1 => "picture order count type 1",
                    Unsupported::Fields => "pictures coded as separate fields (interlaced)",
                };
                gst::element_imp_error!(
                    self,
                    gst::StreamError::Format,
                    [
                        "this H.264 stream's presentation times cannot be read ({what}): \
                         decode and encode it (`| decode | encode(h264) |`) to write it to a file"
                    ]
                );
                return Err(gst::FlowError::Error);
            }
            // No slice with known parameter sets: nothing to reorder against.
            None => {
                gst::debug!(
                    CAT,
                    imp = self,
                    "no picture in {} bytes at {dts}",
                    buffer.size()
                );
                buffer.set_pts(dts);
                return Ok(gst::FlowSuccess::Ok);
            }
        };
        let delay = *state.delay.get_or_insert(if picture.in_order {
            0
        } else {
            u64::from(picture.reorder)
        });
        if picture.idr || state.anchor.is_none() {
            state.anchor = Some((dts, picture.poc));
        }
        let (anchor_dts, anchor_poc) = state.anchor.unwrap_or((dts, picture.poc));
        // Frames' order counts step by 2 (a frame is two fields).
        let steps = (picture.poc - anchor_poc).div_euclid(2) + delay as i64;
        let pts = if picture.in_order {
            dts
        } else if steps >= 0 {
            anchor_dts + duration * steps as u64
        } else {
            anchor_dts.saturating_sub(duration * steps.unsigned_abs())
        };
        gst::trace!(CAT, imp = self, "poc {} dts {dts} pts {pts}", picture.poc);
        buffer.set_pts(pts.max(dts));
        Ok(gst::FlowSuccess::Ok)
    }
}
