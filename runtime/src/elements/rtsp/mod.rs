//! RTSP in and out: `vplrtspsrc` (the `rtsp(url)` source, which survives its server going
//! away) and `vplrtspout` (the `rtsp_out` sink, an RTSP server).

use gstreamer::glib;

mod server;
mod source;
pub mod timing;

pub use server::VplRtspOut;
pub use source::VplRtspSrc;

/// Registers `vplrtspsrc` and `vplrtspout` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    source::register()?;
    server::register()
}
