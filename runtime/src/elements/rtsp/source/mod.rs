//! `vplrtspsrc`: the `rtsp(url)` source, which survives its server going away.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

mod imp;

glib::wrapper! {
    /// The encoded video of an RTSP stream, from a pipeline of its own: `rtspsrc` (with
    /// `latency` in ms and `protocols` `tcp` or `udp`), the depayloader for the stream's
    /// encoding and an `appsink`, whose frames enter this bin's `appsrc` (live, in time) with
    /// their timestamps carried onto this pipeline's running time. When the connection fails,
    /// the server ends the stream, or no frame comes for `timeout` ns, the element posts a
    /// warning and connects again after `reconnect` ns, for as long as it plays: the pipeline
    /// it is in never sees the failure. With `reconnect=0` a lost stream is an error, and a
    /// stream the server ended is the end of this one. `codec` (`h264`, ...) is what the
    /// stream must carry; another is an error. Each connection starts at a key frame.
    ///
    /// After [`crate::elements::register`]:
    /// ```text
    /// vplrtspsrc location=rtsp://127.0.0.1:8554/live codec=h264 reconnect=2000000000
    ///   ! h264parse ! avdec_h264 ! videoconvert ! autovideosink
    /// ```
    pub struct VplRtspSrc(ObjectSubclass<imp::VplRtspSrc>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

/// Registers `vplrtspsrc` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(
        None,
        "vplrtspsrc",
        gst::Rank::NONE,
        VplRtspSrc::static_type(),
    )
}
