//! The `vplreplay` element: properties, the records read at `start()`, and the objects put
//! on each buffer.

use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;

use super::frames::{Recorded, read_records};
use crate::elements::transform::{
    in_place_transform, settings, start, stop, string_value, with_state,
};
use crate::meta::VplObjectsMeta;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplreplay",
        gst::DebugColorFlags::empty(),
        Some("vpl records replay"),
    )
});

#[derive(Debug, Clone, Default)]
struct Settings {
    location: String,
    stream: u32,
}

struct State {
    recorded: Recorded,
    /// The number of the next frame, from 0.
    next: u64,
    stream: u32,
}

#[derive(Default)]
pub struct VplReplay {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

impl ObjectImpl for VplReplay {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb("The records file (JSON lines) whose objects go on the frames")
                    .build(),
                glib::ParamSpecUInt::builder("stream")
                    .nick("Stream")
                    .blurb("The stream id written into the frames' metadata")
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let Ok(mut s) = self.settings.lock() else {
            return;
        };
        match pspec.name() {
            "location" => s.location = string_value(value, ""),
            "stream" => s.stream = value.get().unwrap_or(0),
            _ => {}
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = settings(&self.settings);
        match pspec.name() {
            "location" => s.location.to_value(),
            _ => s.stream.to_value(),
        }
    }
}

in_place_transform! {
    VplReplay: super::VplReplay,
    metadata: (
        "vpl records replay",
        "Filter/Analyzer/Video",
        "Puts the objects of a records file on the frames with their frame numbers"
    ),
    caps: gst::Caps::new_any(),
    hands: [start, stop, transform_ip]
}

impl VplReplay {
    fn on_start(&self) -> Result<(), gst::ErrorMessage> {
        let s = settings(&self.settings);
        let recorded = read_records(std::path::Path::new(&s.location))
            .map_err(|e| gst::error_msg!(gst::ResourceError::Read, ["{}", e]))?;
        gst::debug!(
            CAT,
            imp = self,
            "{} recorded frames from {}",
            recorded.len(),
            s.location
        );
        start(
            &self.state,
            State {
                recorded,
                next: 0,
                stream: s.stream,
            },
        );
        Ok(())
    }

    fn on_stop(&self) -> Result<(), gst::ErrorMessage> {
        stop(&self.state)
    }

    fn on_buffer(&self, buffer: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        with_state(&self.state, |state| {
            let data = state.recorded.take(state.next, state.stream);
            state.next += 1;
            VplObjectsMeta::set(buffer, data);
            gst::FlowSuccess::Ok
        })
    }
}
