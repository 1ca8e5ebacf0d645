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
    /// `{"event": "stream_removed", "pipeline", "stream", "stream_id", ["shard",] "frames",
    /// "reason"}`, to the same place as the stream's records (with a Kafka key, keyed as
    /// they are), while the element is started.
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

#[cfg(test)]
mod tests {
    use gstreamer as gst;
    use gstreamer::prelude::*;

    /// `shard=1` (what `vplc run --shard 1/N` sets): every record says `"shard": 1`.
    #[test]
    fn the_shard_property_is_in_every_record() {
        crate::elements::register().expect("vpl's elements");
        let file =
            std::env::temp_dir().join(format!("vpl-records-shard-{}.jsonl", std::process::id()));
        let pipeline = gst::parse::launch(&format!(
            "videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! vplrecords \
             location={} pipeline=p stream=0 shard=1",
            file.display()
        ))
        .expect("the pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
        pipeline.set_state(gst::State::Playing).expect("plays");
        let bus = pipeline.bus().expect("a bus");
        let message = bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(30),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            )
            .expect("the end");
        assert_eq!(message.type_(), gst::MessageType::Eos, "{message:?}");
        pipeline.set_state(gst::State::Null).expect("stops");
        let text = std::fs::read_to_string(&file).expect("records written");
        let _ = std::fs::remove_file(&file);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        for line in lines {
            let record: serde_json::Value = serde_json::from_str(line).expect("JSON");
            assert_eq!(record["shard"], 1, "{line}");
        }
    }
}
