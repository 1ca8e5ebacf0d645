//! The `vplstamp` element: caps (H.264 or H.265, byte-stream or length-prefixed), and the
//! time it gives each access unit.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::prelude::*;
use gstreamer_base::subclass::base_transform::GenerateOutputSuccess;
use gstreamer_base::subclass::prelude::*;

use super::nal::{byte_stream_nals, length_prefixed_nals};
use super::{h264, h265};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplstamp",
        gst::DebugColorFlags::empty(),
        Some("vpl H.264/H.265 presentation times"),
    )
});

#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    rate_num: u64,
    rate_den: u64,
}

/// What is read of an H.264 stream, and where its times start.
#[derive(Default)]
struct H264 {
    pocs: h264::Pocs,
    /// The decoding time and order count of the last IDR picture.
    anchor: Option<(gst::ClockTime, i64)>,
    /// The depth of reordering, fixed at the first picture so times never go back.
    delay: Option<u64>,
}

/// What is read of an H.265 stream, and the access units waiting for their time.
#[derive(Default)]
struct H265 {
    pocs: h265::Pocs,
    timeline: h265::Timeline<gst::Buffer>,
}

/// The stream, by the codec of the sink caps.
enum Reader {
    H264(H264),
    H265(Box<H265>),
}

impl Default for Reader {
    fn default() -> Self {
        Reader::H264(H264::default())
    }
}

impl Reader {
    fn codec(&self) -> &'static str {
        match self {
            Reader::H264(_) => "H.264",
            Reader::H265(_) => "H.265",
        }
    }

    fn rate(&self) -> Option<(u32, u32)> {
        match self {
            Reader::H264(r) => r.pocs.rate(),
            Reader::H265(r) => r.pocs.rate(),
        }
    }
}

/// The first picture an access unit holds, read by its codec.
enum Picture {
    H264(Option<Result<h264::Picture, h264::Unsupported>>),
    H265(Option<Result<h265::Picture, h265::Unsupported>>),
}

#[derive(Default)]
struct State {
    reader: Reader,
    /// `None`: byte-stream (start codes); `Some(n)`: NAL units prefixed by n-byte lengths.
    length_size: Option<usize>,
    /// Access units seen, for a decoding time where the parser gave none.
    count: u64,
    /// Access units with their times, in decoding order, for `generate_output`.
    ready: VecDeque<gst::Buffer>,
}

#[derive(Default)]
pub struct VplStamp {
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

#[glib::object_subclass]
impl ObjectSubclass for VplStamp {
    const NAME: &'static str = "VplStamp";
    type Type = super::VplStamp;
    type ParentType = gst_base::BaseTransform;
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

impl GstObjectImpl for VplStamp {}

impl ElementImpl for VplStamp {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl H.264/H.265 presentation times",
                "Codec/Video",
                "Gives the access units of an H.264 or H.265 elementary stream their presentation times",
                "vpl",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = ["video/x-h264", "video/x-h265"]
                .into_iter()
                .map(|name| {
                    gst::Structure::builder(name)
                        .field("alignment", "au")
                        .build()
                })
                .collect::<gst::Caps>();
            crate::elements::passthrough_templates(&caps)
        });
        TEMPLATES.as_ref()
    }
}

impl VplStamp {
    /// The frame duration: the parser's, else the stream's declared rate, else the probed
    /// rate vpl passed in.
    fn duration(
        &self,
        buffer: &gst::BufferRef,
        rate: Option<(u32, u32)>,
    ) -> Option<gst::ClockTime> {
        if let Some(d) = buffer.duration().filter(|d| !d.is_zero()) {
            return Some(d);
        }
        let s = self.settings.lock().map(|s| *s).unwrap_or_default();
        let (num, den) = rate
            .map(|(n, d)| (u64::from(n), u64::from(d)))
            .or((s.rate_num > 0 && s.rate_den > 0).then_some((s.rate_num, s.rate_den)))?;
        gst::ClockTime::SECOND.mul_div_round(den, num)
    }

    /// Posts why the stream's times cannot be read, and what to do instead.
    fn unsupported(&self, codec: &str, encode: &str, what: &str) -> gst::FlowError {
        gst::element_imp_error!(
            self,
            gst::StreamError::Format,
            [
                "this {codec} stream's presentation times cannot be read ({what}): \
                 decode and encode it (`| decode | encode({encode}) |`) to write it to a file"
            ]
        );
        gst::FlowError::Error
    }

    /// An H.264 access unit's presentation time: its decoding time moved by its order
    /// count from the last IDR picture's, plus the reorder depth.
    fn h264_pts(
        &self,
        r: &mut H264,
        picture: Option<Result<h264::Picture, h264::Unsupported>>,
        dts: gst::ClockTime,
        duration: gst::ClockTime,
    ) -> Result<gst::ClockTime, gst::FlowError> {
        let picture = match picture {
            Some(Ok(p)) => p,
            Some(Err(why)) => {
                let what = match why {
                    h264::Unsupported::PocType1 => "picture order count type 1",
                    h264::Unsupported::Fields => "pictures coded as separate fields (interlaced)",
                };
                return Err(self.unsupported("H.264", "h264", what));
            }
            // No slice with known parameter sets: nothing to reorder against.
            None => return Ok(dts),
        };
        let delay = *r.delay.get_or_insert(if picture.in_order {
            0
        } else {
            u64::from(picture.reorder)
        });
        if picture.idr || r.anchor.is_none() {
            r.anchor = Some((dts, picture.poc));
        }
        let (anchor_dts, anchor_poc) = r.anchor.unwrap_or((dts, picture.poc));
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
        Ok(pts.max(dts))
    }

    /// Pushes the access units still held (the end of the stream or of its segment).
    fn drain(&self) {
        let rest: Vec<gst::Buffer> = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let state = &mut *state;
            if let Reader::H265(r) = &mut state.reader {
                for (mut buffer, pts) in r.timeline.finish() {
                    buffer
                        .make_mut()
                        .set_pts(gst::ClockTime::from_nseconds(pts));
                    state.ready.push_back(buffer);
                }
            }
            state.ready.drain(..).collect()
        };
        for buffer in rest {
            if let Err(e) = self.obj().src_pad().push(buffer) {
                gst::debug!(CAT, imp = self, "held access units not pushed: {e:?}");
                break;
            }
        }
    }
}

impl BaseTransformImpl for VplStamp {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        if let Ok(mut state) = self.state.lock() {
            *state = State::default();
        }
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        if let Ok(mut state) = self.state.lock() {
            *state = State::default();
        }
        Ok(())
    }

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let Ok(mut state) = self.state.lock() else {
            return Err(gst::loggable_error!(CAT, "state poisoned"));
        };
        let s = incaps
            .structure(0)
            .ok_or_else(|| gst::loggable_error!(CAT, "empty caps"))?;
        gst::debug!(CAT, imp = self, "caps {incaps}");
        // The codec chosen by the caps; new caps of the same codec keep what was read.
        match (&state.reader, s.name().as_str()) {
            (Reader::H264(_), "video/x-h265") => state.reader = Reader::H265(Box::default()),
            (Reader::H265(_), "video/x-h264") => state.reader = Reader::H264(H264::default()),
            _ => {}
        }
        state.length_size = None;
        let format = s.get::<&str>("stream-format").unwrap_or_default();
        let Ok(config) = s.get::<gst::Buffer>("codec_data") else {
            return Ok(());
        };
        let Ok(map) = config.map_readable() else {
            return Ok(());
        };
        match &mut state.reader {
            Reader::H264(r) if matches!(format, "avc" | "avc3") => {
                if let Some((size, sets)) = h264::avc_config(&map) {
                    for nal in sets {
                        r.pocs.nal(nal);
                    }
                    state.length_size = Some(size);
                }
            }
            Reader::H265(r) if matches!(format, "hvc1" | "hev1") => {
                if let Some((size, sets)) = h265::hvc_config(&map) {
                    for nal in sets {
                        r.pocs.nal(nal);
                    }
                    state.length_size = Some(size);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::Eos(_) | gst::EventView::Segment(_) => self.drain(),
            gst::EventView::FlushStop(_) => {
                if let Ok(mut state) = self.state.lock() {
                    state.ready.clear();
                    if let Reader::H265(r) = &mut state.reader {
                        r.timeline.reset();
                    }
                }
            }
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn submit_input_buffer(
        &self,
        is_discont: bool,
        inbuf: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        // The base class negotiates and keeps the buffer; it is taken back at once.
        self.parent_submit_input_buffer(is_discont, inbuf)?;
        let Some(mut buffer) = self.take_queued_buffer() else {
            return Ok(gst::FlowSuccess::Ok);
        };
        let Ok(mut state) = self.state.lock() else {
            return Err(gst::FlowError::Error);
        };
        let state = &mut *state;
        let index = state.count;
        state.count += 1;
        let picture = {
            let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
            let nals = match state.length_size {
                Some(size) => length_prefixed_nals(&map, size),
                None => byte_stream_nals(&map),
            };
            match &mut state.reader {
                Reader::H264(r) => Picture::H264(nals.into_iter().find_map(|nal| r.pocs.nal(nal))),
                Reader::H265(r) => Picture::H265(nals.into_iter().find_map(|nal| r.pocs.nal(nal))),
            }
        };
        let codec = state.reader.codec();
        let Some(duration) = self.duration(&buffer, state.reader.rate()) else {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["the {codec} stream declares no frame rate and none was given"]
            );
            return Err(gst::FlowError::Error);
        };
        // A parser may guess the first frame's time (its segment's start): a guess that
        // is wrong wherever frames are reordered, so every time is set here.
        let dts = buffer.dts().unwrap_or(duration * index);
        {
            let b = buffer.make_mut();
            b.set_dts(dts);
            if b.duration().is_none() {
                b.set_duration(duration);
            }
        }
        match (&mut state.reader, picture) {
            (Reader::H264(r), Picture::H264(picture)) => {
                if picture.is_none() {
                    gst::debug!(
                        CAT,
                        imp = self,
                        "no picture in {} bytes at {dts}",
                        buffer.size()
                    );
                }
                let pts = self.h264_pts(r, picture, dts, duration)?;
                buffer.make_mut().set_pts(pts);
                state.ready.push_back(buffer);
            }
            (Reader::H265(r), Picture::H265(picture)) => {
                let picture = match picture {
                    Some(Err(h265::Unsupported::Fields)) => {
                        let what = "pictures coded as separate fields (interlaced)";
                        return Err(self.unsupported("H.265", "h265", what));
                    }
                    Some(Ok(p)) => {
                        gst::trace!(CAT, imp = self, "poc {} dts {dts}", p.poc);
                        Some(p)
                    }
                    None => None,
                };
                let unit = h265::Unit {
                    item: buffer,
                    dts: dts.nseconds(),
                    duration: duration.nseconds(),
                    picture,
                };
                for (mut buffer, pts) in r.timeline.push(unit) {
                    buffer
                        .make_mut()
                        .set_pts(gst::ClockTime::from_nseconds(pts));
                    state.ready.push_back(buffer);
                }
            }
            // The reader was chosen with the picture, under the same lock.
            _ => return Err(gst::FlowError::Error),
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn generate_output(&self) -> Result<GenerateOutputSuccess, gst::FlowError> {
        let next = self
            .state
            .lock()
            .map_err(|_| gst::FlowError::Error)?
            .ready
            .pop_front();
        Ok(next.map_or(
            GenerateOutputSuccess::NoOutput,
            GenerateOutputSuccess::Buffer,
        ))
    }
}
