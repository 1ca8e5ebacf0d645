//! `vplrtspout`: the `rtsp_out` sink, an RTSP server.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

mod imp;

glib::wrapper! {
    /// Serves the H.264 frames it receives at `rtsp://address:port/path` with
    /// gst-rtsp-server, one shared media for every client, in real time (the sink syncs to
    /// the clock; it does not preroll). A client that starts playing gets a key frame soon:
    /// the element asks upstream for one. Listening starts in `READY → PAUSED`, where a port
    /// in use is an error, and ends in `PAUSED → READY`, which closes every connection and
    /// frees the port. End-of-stream ends every client's stream.
    ///
    /// After [`crate::elements::register`]:
    /// ```text
    /// videotestsrc is-live=true ! x264enc tune=zerolatency key-int-max=30
    ///   ! vplrtspout port=8554 path=/live address=127.0.0.1
    /// ```
    pub struct VplRtspOut(ObjectSubclass<imp::VplRtspOut>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

/// Registers `vplrtspout` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(
        None,
        "vplrtspout",
        gst::Rank::NONE,
        VplRtspOut::static_type(),
    )
}
