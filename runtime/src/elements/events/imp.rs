//! The `vplevents` element: its `config` property and the event maker run on each buffer.

use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;
use vpl_compiler::analytics::EventsConfig;

use crate::analytics::EventMaker;
use crate::meta::{ObjectsData, VplObjectsMeta};

const DEFAULT_CONFIG: &str = r#"{"on":[],"every_ns":0}"#;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplevents",
        gst::DebugColorFlags::empty(),
        Some("vpl analytics events"),
    )
});

#[derive(Debug, Clone)]
struct Settings {
    config: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            config: DEFAULT_CONFIG.into(),
        }
    }
}

struct State {
    events: EventMaker,
    /// Stream time of the last buffer, for buffers without a timestamp.
    last_pts: u64,
}

#[derive(Default)]
pub struct VplEvents {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for VplEvents {
    const NAME: &'static str = "VplEvents";
    type Type = super::VplEvents;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for VplEvents {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("config")
                    .nick("Config")
                    .blurb("Events sent and rate limit, as JSON (vpl_compiler::analytics::EventsConfig)")
                    .default_value(Some(DEFAULT_CONFIG))
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let Ok(mut s) = self.settings.lock() else {
            return;
        };
        if pspec.name() == "config" {
            s.config = value
                .get::<Option<String>>()
                .ok()
                .flatten()
                .unwrap_or_else(|| DEFAULT_CONFIG.into());
        }
    }

    fn property(&self, _id: usize, _pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().map(|s| s.clone()).unwrap_or_default();
        s.config.to_value()
    }
}

impl GstObjectImpl for VplEvents {}

impl ElementImpl for VplEvents {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl events",
                "Filter/Analyzer/Video",
                "Turns zone and line analytics into event messages",
                "vpl",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
            LazyLock::new(|| crate::elements::passthrough_templates(&gst::Caps::new_any()));
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for VplEvents {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let s = self.settings.lock().map(|s| s.clone()).unwrap_or_default();
        let config: EventsConfig = serde_json::from_str(&s.config).map_err(|e| {
            gst::error_msg!(
                gst::LibraryError::Settings,
                ["invalid events config {:?}: {}", s.config, e]
            )
        })?;
        gst::debug!(
            CAT,
            imp = self,
            "events {:?}, at most one every {} ns",
            config.on,
            config.every_ns
        );
        if let Ok(mut slot) = self.state.lock() {
            *slot = Some(State {
                events: EventMaker::new(config.clone())
                    .numbered_by(crate::analytics::stream_counter(config.stream)),
                last_pts: 0,
            });
        }
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        if let Ok(mut state) = self.state.lock() {
            *state = None;
        }
        Ok(())
    }

    fn transform_ip(
        &self,
        buffer: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let Ok(mut state) = self.state.lock() else {
            return Err(gst::FlowError::Error);
        };
        let Some(state) = state.as_mut() else {
            return Err(gst::FlowError::Flushing);
        };
        let pts = buffer
            .pts()
            .map_or(state.last_pts, gst::ClockTime::nseconds);
        state.last_pts = pts;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        VplObjectsMeta::update(buffer, ObjectsData::default, |data| {
            data.events = Some(state.events.process(data, pts, now_ms));
        });
        Ok(gst::FlowSuccess::Ok)
    }
}
