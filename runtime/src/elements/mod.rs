//! vpl's own GStreamer elements, registered in-process: `vplinfer` (frames → frames with
//! object metadata), `vpltrack` (track ids), `vploverlay` (boxes drawn), `vplrecords`
//! (frames with metadata → JSON lines), `vplrtspsrc` (an RTSP stream that reconnects),
//! `vplrtspout` (an RTSP server), `vplfileloop` (a file played again and again),
//! `vplrecord` (clips around the frames that meet a condition), `vplanalyze` (zones and
//! lines), `vplevents` (analytics → event messages), `vplstamp` (presentation times
//! for an H.264 elementary stream), `vplslot` (one slot of a pool of streams) and
//! `vplreplay` (a records file's objects put back on frames).

use std::sync::OnceLock;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

pub mod analyze;
pub mod clips;
pub mod events;
pub mod fileloop;
pub mod filter;
pub mod infer;
pub mod overlay;
pub mod records;
pub mod replay;
pub mod rtsp;
pub mod slot;
pub mod stamp;
pub mod track;
mod transform;

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
            slot::register()?;
            replay::register()?;
            records::register()
        })
        .clone()
}

/// The always-present `src` and `sink` pad templates of an element that passes frames
/// through with the same caps on both sides.
pub(crate) fn passthrough_templates(caps: &gst::Caps) -> Vec<gst::PadTemplate> {
    [
        ("src", gst::PadDirection::Src),
        ("sink", gst::PadDirection::Sink),
    ]
    .into_iter()
    .filter_map(|(name, dir)| always_template(name, dir, caps))
    .collect()
}

/// The one always-present pad template, `src` or `sink`, of a bin whose work runs in a
/// pipeline of its own (`vplfileloop`, `vplrtspsrc`, `vplrtspout`).
pub(crate) fn bin_templates(
    direction: gst::PadDirection,
    caps: &gst::Caps,
) -> Vec<gst::PadTemplate> {
    let name = match direction {
        gst::PadDirection::Sink => "sink",
        _ => "src",
    };
    always_template(name, direction, caps).into_iter().collect()
}

fn always_template(
    name: &str,
    direction: gst::PadDirection,
    caps: &gst::Caps,
) -> Option<gst::PadTemplate> {
    gst::PadTemplate::new(name, direction, gst::PadPresence::Always, caps).ok()
}

/// Adds `child` to `bin` and exposes the child's pad `pad` (`src` or `sink`) as the bin's
/// own pad of that name, made from the bin's template of that name: how the bins of
/// [`bin_templates`] show the `appsrc` or `appsink` that joins them to their pipeline.
pub(crate) fn add_with_ghost_pad(
    bin: &impl IsA<gst::Bin>,
    child: &impl IsA<gst::Element>,
    pad: &str,
) -> Result<(), String> {
    let (bin, child) = (
        bin.upcast_ref::<gst::Bin>(),
        child.upcast_ref::<gst::Element>(),
    );
    bin.add(child)
        .map_err(|e| format!("cannot add {}: {e}", child.name()))?;
    let template = bin
        .pad_template(pad)
        .ok_or_else(|| format!("no {pad} pad template"))?;
    let ghost = child
        .static_pad(pad)
        .and_then(|target| {
            gst::GhostPad::builder_from_template_with_target(&template, &target)
                .ok()
                .map(|b| b.name(pad).build())
        })
        .ok_or_else(|| format!("cannot make the {pad} pad"))?;
    bin.add_pad(&ghost)
        .map_err(|e| format!("cannot add the {pad} pad: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bin_shows_its_inner_app_element_through_one_ghost_pad() {
        register().expect("vpl's elements register");
        for (factory, pad, inner) in [
            ("vplfileloop", "src", "GstAppSrc"),
            ("vplrtspsrc", "src", "GstAppSrc"),
            ("vplrtspout", "sink", "GstAppSink"),
            ("vplslot", "src", "GstAppSrc"),
        ] {
            let element = gst::ElementFactory::make(factory).build().expect(factory);
            let pads = element.pads();
            assert_eq!(pads.len(), 1, "{factory}");
            assert_eq!(pads[0].name(), pad, "{factory}");
            let ghost = pads[0]
                .downcast_ref::<gst::GhostPad>()
                .expect("a ghost pad");
            let target = ghost.target().expect("the ghost pad has a target");
            let owner = target.parent_element().expect("the target's element");
            assert_eq!(owner.type_().name(), inner, "{factory}");
            assert_eq!(
                owner.parent().as_ref(),
                Some(element.upcast_ref()),
                "{factory}"
            );
        }
    }
}
