//! `vplslot`: the head of one pre-built slot of a pool (`pool(max: N) : video<…>`). While
//! no stream is bound it pushes nothing; [`VplSlot::bind`] starts a feeder (a pipeline of
//! its own reading a file or an RTSP stream) whose frames enter the slot's live `appsrc`
//! on this pipeline's running time, and [`VplSlot::unbind`] (or the feeder's own end) ends
//! the slot's branch with end-of-stream.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use vpl_compiler::pool::StreamSource;

mod feeder;
mod imp;

pub use feeder::Ended;

/// The name of the custom downstream event a slot sends after a stream's last frame,
/// before its end-of-stream: the stages that keep a stream's state (`events`) say what
/// they still have to (exits of the zones its tracks are in).
pub const STREAM_LEAVES: &str = "vpl-stream-leaves";

glib::wrapper! {
    /// One slot of a pool: a bin showing a live `appsrc` (format time) whose caps are the
    /// pool's codec (`codec` `h264` or `h265`) at `width`x`height` and `rate` (`N/D`), as
    /// `vplrtspsrc`'s are, fed by the stream bound to the slot. A file is read by
    /// `filesrc ! parsebin ! appsink` paced at its frame rate (`vplfileloop` when it loops),
    /// an RTSP stream by a `vplrtspsrc` of its own (it reconnects inside the slot).
    ///
    /// After [`crate::elements::register`], bound from Rust:
    /// ```text
    /// vplslot pool=cams slot=0 codec=h264 width=320 height=240 rate=25/1
    ///   ! h264parse ! avdec_h264 ! fakesink
    /// ```
    pub struct VplSlot(ObjectSubclass<imp::VplSlot>)
        @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

impl VplSlot {
    /// Starts feeding the slot from `source`: frames flow once this element plays. `on_end`
    /// is called once, from the feeder's thread, when the feeder ends (the file ended, the
    /// stream failed, or [`VplSlot::unbind`]), just before its end-of-stream is pushed into
    /// the slot after the last frame. It must not wait for the slot.
    pub fn bind(
        &self,
        source: &StreamSource,
        on_end: Box<dyn FnOnce(Ended) + Send>,
    ) -> Result<(), String> {
        self.imp().bind(source, on_end)
    }

    /// Ends the bound stream: its feeder stops and end-of-stream follows its last frame.
    /// Returns at once; the slot's `on_end` says when the feeder has gone.
    pub fn unbind(&self) {
        self.imp().unbind();
    }

    /// Frames the bound stream (or the last one) pushed into the slot.
    pub fn frames(&self) -> u64 {
        self.imp().frames()
    }

    /// The latest trouble of the bound stream (a camera that went away), if any.
    pub fn last_error(&self) -> Option<String> {
        self.imp().last_error()
    }

    /// The bound stream is between two connections (an RTSP camera away).
    pub fn reconnecting(&self) -> bool {
        self.imp().reconnecting()
    }
}

/// Registers `vplslot` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplslot", gst::Rank::NONE, VplSlot::static_type())
}
