//! `vplrecords`: the sink of `json | file("….jsonl")` and `json | stdout`.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

mod imp;
pub mod line;
mod writer;

pub use writer::{SharedWriter, writer_for};

glib::wrapper! {
    /// Writes one JSON line per buffer (spec §8's records) from the buffer's
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta), to `location` ("-": stdout).
    /// Sinks with the same `location` share one file; lines never interleave; the file is
    /// flushed on EOS and when the element stops. Accepts any caps; `width`/`height` come
    /// from the caps' fields when they have them, else from the meta's source size.
    /// Does not sync to the clock.
    ///
    /// After [`crate::elements::register`], e.g. with `gst::parse::launch`:
    /// ```text
    /// videotestsrc num-buffers=30 ! video/x-raw,width=320,height=240
    ///   ! vplrecords location=out.jsonl pipeline=watch source=test stream=0
    /// ```
    pub struct VplRecords(ObjectSubclass<imp::VplRecords>)
        @extends gst_base::BaseSink, gst::Element, gst::Object;
}

impl VplRecords {
    /// Writes the last record of a pool's stream that left its slot:
    /// `{"event": "stream_removed", "pipeline", "stream", "stream_id", "frames", "reason"}`,
    /// to the same place as the stream's records, while the element is started.
    pub fn stream_removed(&self, frames: u64, reason: &str) -> Result<(), String> {
        use gstreamer::subclass::prelude::ObjectSubclassIsExt;
        self.imp().stream_removed(frames, reason)
    }
}

/// Registers `vplrecords` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(
        None,
        "vplrecords",
        gst::Rank::NONE,
        VplRecords::static_type(),
    )
}
