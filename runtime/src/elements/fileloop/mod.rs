//! `vplfileloop`: a recorded file's encoded video, played again from its start each time it
//! ends (`file(path, loop: true)`), as one stream whose timestamps keep going forward.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

mod imp;

glib::wrapper! {
    /// The encoded video of the file at `location`, looped without end. The file is read in
    /// a pipeline of its own (`filesrc ! parsebin ! appsink`), sought back to its start at
    /// each end; its frames enter this bin's `appsrc` with their timestamps moved so that
    /// each pass starts where the last one ended: PTS strictly increase across passes, and
    /// the pipeline this element is in sees one endless stream. An error of the inner
    /// pipeline (an unreadable file) is this element's error.
    ///
    /// After [`crate::elements::register`]:
    /// ```text
    /// vplfileloop location=clip.mp4 ! h264parse ! avdec_h264 ! videoconvert ! autovideosink
    /// ```
    pub struct VplFileLoop(ObjectSubclass<imp::VplFileLoop>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(
        None,
        "vplfileloop",
        gst::Rank::NONE,
        VplFileLoop::static_type(),
    )
}
