//! `vpltrack`: the `track(iou)` and `track(sort)` stages.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod imp;
pub mod matching;
pub mod sort;
pub mod tracker;

glib::wrapper! {
    /// Gives the objects of each frame's [`VplObjectsMeta`](crate::meta::VplObjectsMeta)
    /// stable track ids (`track_id`), by box overlap from frame to frame: with the previous
    /// boxes (`kind=iou`) or with the boxes a Kalman filter predicts (`kind=sort`, SORT).
    /// Frames pass through untouched.
    ///
    /// ```text
    /// … ! vplinfer spec=… ! vpltrack kind=sort max-age=30 iou=0.3 ! …
    /// ```
    pub struct VplTrack(ObjectSubclass<imp::VplTrack>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vpltrack` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vpltrack", gst::Rank::NONE, VplTrack::static_type())
}
