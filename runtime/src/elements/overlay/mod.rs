//! `vploverlay`: the `overlay` stage.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod draw;
mod imp;

glib::wrapper! {
    /// Draws the boxes of the objects in each frame's
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta) onto the frame, one colour per class.
    /// Boxes are in source-frame pixels and are scaled to the frame's size.
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
