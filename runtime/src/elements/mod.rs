//! vpl's own GStreamer elements, registered in-process: `vplinfer` (frames → frames with
//! object metadata), `vpltrack` (track ids), `vploverlay` (boxes drawn), `vplrecords`
//! (frames with metadata → JSON lines), `vplrtspsrc` (an RTSP stream that reconnects),
//! `vplrtspout` (an RTSP server), `vplfileloop` (a file played again and again),
//! `vplrecord` (clips around the frames that meet a condition), `vplanalyze` (zones and
//! lines), `vplevents` (analytics → event messages) and `vplstamp` (presentation times
//! for an H.264 elementary stream).

use std::sync::OnceLock;

use gstreamer as gst;
use gstreamer::glib;

pub mod analyze;
pub mod clips;
pub mod events;
pub mod fileloop;
pub mod filter;
pub mod infer;
pub mod overlay;
pub mod records;
pub mod rtsp;
pub mod stamp;
pub mod track;

/// Registers vpl's elements with this process's GStreamer registry, so that
/// `gst::ElementFactory::make("vplinfer")` and `gst::parse::launch` find them. Calling it
/// again does nothing and returns the first call's outcome.
pub fn register() -> Result<(), glib::BoolError> {
    static REGISTERED: OnceLock<Result<(), glib::BoolError>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            gst::init().map_err(|e| glib::bool_error!("GStreamer cannot start: {e}"))?;
            infer::register()?;
            track::register()?;
            filter::register()?;
            overlay::register()?;
            rtsp::register()?;
            fileloop::register()?;
            clips::register()?;
            stamp::register()?;
            analyze::register()?;
            events::register()?;
            records::register()
        })
        .clone()
}

/// The always-present `src` and `sink` pad templates of an element that passes frames
/// through with the same caps on both sides.
pub(crate) fn passthrough_templates(caps: &gst::Caps) -> Vec<gst::PadTemplate> {
    ["src", "sink"]
        .into_iter()
        .zip([gst::PadDirection::Src, gst::PadDirection::Sink])
        .filter_map(|(name, dir)| {
            gst::PadTemplate::new(name, dir, gst::PadPresence::Always, caps).ok()
        })
        .collect()
}
