//! One clip being written: `appsrc ! h264parse ! MUXER ! filesink` in a pipeline of its
//! own, its timestamps moved to start at zero, finished (end of stream, the muxer's index
//! written) when the clip ends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

/// How long finishing a clip may take before it is given up.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Clip {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    /// Subtracted from every timestamp: the first frame's.
    offset: Option<u64>,
    pub path: PathBuf,
}

fn make(factory: &str) -> Result<gst::Element, String> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| format!("GStreamer has no element {factory}"))
}

impl Clip {
    /// Starts a clip at `path`, muxed by `muxer`, for frames of `caps`.
    pub fn open(path: &Path, muxer: &str, caps: &gst::Caps) -> Result<Clip, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let pipeline = gst::Pipeline::with_name("vplrecord-clip");
        let src = gst_app::AppSrc::builder()
            .caps(caps)
            .format(gst::Format::Time)
            .build();
        let parse = make("h264parse")?;
        let mux = make(muxer)?;
        let sink = make("filesink")?;
        sink.set_property("location", path.display().to_string());
        sink.set_property("async", false);
        pipeline
            .add_many([src.upcast_ref(), &parse, &mux, &sink])
            .map_err(|e| e.to_string())?;
        gst::Element::link_many([src.upcast_ref(), &parse, &mux, &sink])
            .map_err(|e| e.to_string())?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("cannot start writing {}: {e}", path.display()))?;
        Ok(Clip {
            pipeline,
            src,
            offset: None,
            path: path.to_path_buf(),
        })
    }

    /// Writes one frame.
    pub fn write(&mut self, buffer: &gst::Buffer) -> Result<(), String> {
        let first = |b: &gst::Buffer| {
            [b.dts(), b.pts()]
                .into_iter()
                .flatten()
                .map(gst::ClockTime::nseconds)
                .min()
        };
        let offset = *self
            .offset
            .get_or_insert_with(|| first(buffer).unwrap_or(0));
        let mut copy = buffer.copy();
        {
            let b = copy.make_mut();
            let shift = |t: Option<gst::ClockTime>| {
                t.map(|t| gst::ClockTime::from_nseconds(t.nseconds().saturating_sub(offset)))
            };
            b.set_pts(shift(buffer.pts()));
            b.set_dts(shift(buffer.dts()));
        }
        self.src
            .push_buffer(copy)
            .map(|_| ())
            .map_err(|e| format!("cannot write {}: {e:?}", self.path.display()))
    }

    /// Ends the clip and waits for its file to be complete.
    pub fn finish(self) -> Result<PathBuf, String> {
        let _ = self.src.end_of_stream();
        let outcome = match self.pipeline.bus() {
            Some(bus) => match bus.timed_pop_filtered(
                gst::ClockTime::from_nseconds(FINISH_TIMEOUT.as_nanos() as u64),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            ) {
                Some(msg) => match msg.view() {
                    gst::MessageView::Error(e) => Err(format!(
                        "cannot write {}: {}",
                        self.path.display(),
                        e.error()
                    )),
                    _ => Ok(()),
                },
                None => Err(format!(
                    "{} was not finished within {} s",
                    self.path.display(),
                    FINISH_TIMEOUT.as_secs()
                )),
            },
            None => Ok(()),
        };
        let _ = self.pipeline.set_state(gst::State::Null);
        outcome.map(|()| self.path)
    }
}
