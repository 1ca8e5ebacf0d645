//! `vpltrack`: the `track(iou)`, `track(sort)` and `track(byte)` stages.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

pub mod assign;
pub mod byte;
mod imp;
pub mod matching;
pub mod sort;
pub mod tracker;
pub mod xyah;

glib::wrapper! {
    /// Gives the objects of each frame's [`VplObjectsMeta`](crate::meta::VplObjectsMeta)
    /// stable track ids (`track_id`), by box overlap from frame to frame: with the previous
    /// boxes (`kind=iou`), with the boxes a Kalman filter predicts (`kind=sort`, SORT), or
    /// by ByteTrack's two associations, confident boxes first, then weak ones (`kind=byte`,
    /// which leaves out the objects it does not track). Pixels pass through untouched.
    ///
    /// ```text
    /// … ! vplinfer spec=… ! vpltrack kind=sort max-age=30 iou=0.3 ! …
    /// … ! vplinfer spec=… ! vpltrack kind=byte max-age=30 high=0.5 low=0.1 new-track=0.6 match=0.8 ! …
    /// ```
    pub struct VplTrack(ObjectSubclass<imp::VplTrack>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vpltrack` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vpltrack", gst::Rank::NONE, VplTrack::static_type())
}
