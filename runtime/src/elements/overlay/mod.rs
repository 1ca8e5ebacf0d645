//! `vploverlay`: the `overlay` stage.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod draw;
mod imp;
mod shapes;
mod text;
mod zones;

glib::wrapper! {
    /// Draws the boxes of the objects in each frame's
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta) onto the frame, one colour per class,
    /// each with a label above it: `"{label} {confidence:.2}"` (property `labels`) and
    /// `"#{track_id}"` for tracked objects (property `tracks`), set in anti-aliased DejaVu Sans
    /// from Debian's `fonts-dejavu-core`. Without that font the boxes are drawn alone and a
    /// warning is logged. Boxes are in source-frame pixels and are scaled to the frame's size.
    ///
    /// ```text
    /// … ! vplinfer … ! vploverlay ! videoconvert ! autovideosink
    /// ```
    pub struct VplOverlay(ObjectSubclass<imp::VplOverlay>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vploverlay` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(
        None,
        "vploverlay",
        gst::Rank::NONE,
        VplOverlay::static_type(),
    )
}
