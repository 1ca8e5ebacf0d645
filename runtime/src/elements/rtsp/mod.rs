//! RTSP in and out: `vplrtspsrc` (the `rtsp(url)` source, which survives its server going
//! away) and `vplrtspout` (the `rtsp_out` sink, an RTSP server).

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

mod out;
mod src;
pub mod timing;

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
    pub struct VplRtspSrc(ObjectSubclass<src::VplRtspSrc>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

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
    pub struct VplRtspOut(ObjectSubclass<out::VplRtspOut>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

/// Registers `vplrtspsrc` and `vplrtspout` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(
        None,
        "vplrtspsrc",
        gst::Rank::NONE,
        VplRtspSrc::static_type(),
    )?;
    gst::Element::register(
        None,
        "vplrtspout",
        gst::Rank::NONE,
        VplRtspOut::static_type(),
    )
}
