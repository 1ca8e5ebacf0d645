//! `vplrecord`: the sink of `record(when, before, after, path)`.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod clip;
pub mod event_trigger;
mod imp;
pub mod trigger;

glib::wrapper! {
    /// Keeps a pre-roll ring of the last `before` of encoded H.264 frames (from a key frame
    /// on) and, when a frame carries at least `count` objects labelled `when` in its
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta), writes a clip: the ring, then every
    /// frame until `after` past the last frame that met the condition (a trigger meanwhile
    /// extends the clip). Each clip is its own `appsrc ! h264parse ! MUXER ! filesink`
    /// pipeline, finished when the clip ends, at end of stream or when the element stops.
    ///
    /// After [`crate::elements::register`], e.g. with `gst::parse::launch`:
    /// ```text
    /// videotestsrc num-buffers=300 ! x264enc key-int-max=30 ! h264parse config-interval=-1
    ///   ! vplrecord location=clips/{n}.mp4 when=person before=2000000000 after=3000000000
    /// ```
    pub struct VplRecord(ObjectSubclass<imp::VplRecord>)
        @extends gst_base::BaseSink, gst::Element, gst::Object;
}

/// Registers `vplrecord` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplrecord", gst::Rank::NONE, VplRecord::static_type())
}
