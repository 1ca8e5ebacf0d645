//! `vplfilter`: the `filter(classes, min_confidence)` stage.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod imp;

glib::wrapper! {
    /// Drops from each frame's [`VplObjectsMeta`](crate::meta::VplObjectsMeta) the objects
    /// later stages should not see: those whose label is not one of `classes` (a list of
    /// labels separated by newlines; empty keeps every label) and those less confident than
    /// `min-confidence`. Frames pass through untouched.
    ///
    /// ```text
    /// … ! vplinfer spec=… ! vplfilter classes="person\ncar" min-confidence=0.5 ! …
    /// ```
    pub struct VplFilter(ObjectSubclass<imp::VplFilter>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vplfilter` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplfilter", gst::Rank::NONE, VplFilter::static_type())
}
