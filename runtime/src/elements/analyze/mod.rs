//! `vplanalyze`: the `analyze(zones: [...], lines: [...])` stage.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod imp;

glib::wrapper! {
    /// Measures zones and lines on each frame's
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta) ([`crate::analytics::Analyzer`]):
    /// objects per zone, crossings per line, dwell times and headings, written back into the
    /// meta. `config` is the JSON of [`vpl_compiler::analytics::AnalyzeConfig`]. Frames pass
    /// through untouched.
    ///
    /// ```text
    /// … ! vpltrack ! vplanalyze config='{"zones":[{"name":"door","points":[[0,0],[0.5,0],[0.5,1]],"size":null,"crowd":0}],"lines":[]}' ! …
    /// ```
    pub struct VplAnalyze(ObjectSubclass<imp::VplAnalyze>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vplanalyze` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(
        None,
        "vplanalyze",
        gst::Rank::NONE,
        VplAnalyze::static_type(),
    )
}
