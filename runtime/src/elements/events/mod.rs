//! `vplevents`: the `events(on: [...], every: ...)` stage.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod imp;

glib::wrapper! {
    /// Turns the analytics `vplanalyze` left on each frame's
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta) into events
    /// ([`crate::analytics::EventMaker`]), stored in the meta's `events`; a records sink
    /// downstream writes them, one message a line. `config` is the JSON of
    /// [`vpl_compiler::analytics::EventsConfig`]. Frames pass through untouched.
    ///
    /// ```text
    /// … ! vplanalyze config=… ! vplevents config='{"on":["entry","exit"],"every_ns":0}' ! vplrecords location=events.jsonl
    /// ```
    pub struct VplEvents(ObjectSubclass<imp::VplEvents>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vplevents` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplevents", gst::Rank::NONE, VplEvents::static_type())
}
