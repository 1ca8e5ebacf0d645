//! `vplreplay`: the objects of a records file put back on frames (`replay(...)`).

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod frames;
mod imp;

pub use frames::{Recorded, read_records};

glib::wrapper! {
    /// Puts on each frame the objects of the record with its frame number (counted from 0
    /// as they pass), read from the records file `location` (docs/records.md) when the
    /// element starts: a [`VplObjectsMeta`](crate::meta::VplObjectsMeta) with the
    /// recorded labels, class ids, confidences, boxes, track ids, classifier labels, text
    /// and keypoints. A frame with no record gets none. Pixels pass through untouched.
    ///
    /// ```text
    /// videotestsrc pattern=black num-buffers=300 ! video/x-raw,width=640,height=480 ! vplreplay location=run.jsonl ! …
    /// ```
    pub struct VplReplay(ObjectSubclass<imp::VplReplay>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vplreplay` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplreplay", gst::Rank::NONE, VplReplay::static_type())
}
