//! `vplstamp`: presentation times for an H.264 or H.265 elementary stream (a `.h264` or
//! `.265` file has none, and a muxer refuses frames without them).

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

pub mod h264;
pub mod h265;
mod imp;
pub mod nal;

glib::wrapper! {
    /// Gives each access unit of a parsed H.264 or H.265 elementary stream its
    /// presentation time: its decoding time (from the parser, or counted at
    /// `rate-num/rate-den`) moved to its place in output order, read from the picture
    /// order count, plus the stream's reorder depth so no frame is presented before it is
    /// decoded. Any time the parser guessed is replaced: the stream has none of its own.
    /// The codec is the sink caps' (`video/x-h264` or `video/x-h265`). An H.265 picture
    /// that starts a coded video sequence and may have leading pictures is held back until
    /// the next picture that is not one of them.
    ///
    /// ```text
    /// filesrc location=cam.h264 ! h264parse ! vplstamp rate-num=25 rate-den=1 ! mp4mux ! …
    /// filesrc location=cam.265 ! h265parse ! vplstamp ! qtmux ! …
    /// ```
    pub struct VplStamp(ObjectSubclass<imp::VplStamp>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vplstamp` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplstamp", gst::Rank::NONE, VplStamp::static_type())
}
