use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_app as gst_app;
use vpl_compiler::pool::StreamSource;

use super::feeder::{self, Counters, Ended, Feeder};
use crate::elements::{add_with_ghost_pad, bin_templates};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplslot",
        gst::DebugColorFlags::empty(),
        Some("vpl pool slot"),
    )
});

/// Frames waiting in the slot for a pipeline slower than the stream.
const MAX_QUEUED: u64 = 4;

/// What the slot's frames are, as the pool declares them.
#[derive(Debug, Clone)]
struct Settings {
    pool: String,
    slot: u32,
    codec: String,
    width: u32,
    height: u32,
    rate: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pool: String::new(),
            slot: 0,
            codec: "h264".into(),
            width: 0,
            height: 0,
            rate: "0/1".into(),
        }
    }
}

pub struct VplSlot {
    settings: Mutex<Settings>,
    appsrc: gst_app::AppSrc,
    feeder: Mutex<Option<Feeder>>,
    counters: Mutex<Arc<Counters>>,
}

impl VplSlot {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn feeder(&self) -> MutexGuard<'_, Option<Feeder>> {
        self.feeder.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn counters(&self) -> Arc<Counters> {
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn bind(
        &self,
        source: &StreamSource,
        on_end: Box<dyn FnOnce(Ended) + Send>,
    ) -> Result<(), String> {
        let mut feeder = self.feeder();
        if let Some(old) = feeder.take() {
            old.join();
        }
        let counters = Arc::new(Counters::default());
        *self.counters.lock().unwrap_or_else(|p| p.into_inner()) = counters.clone();
        let name = self.obj().name().to_string();
        *feeder = Some(feeder::start(
            &name,
            source,
            self.appsrc.clone(),
            counters,
            on_end,
        )?);
        gst::debug!(CAT, imp = self, "bound to {source:?}");
        Ok(())
    }

    pub(super) fn unbind(&self) {
        if let Some(feeder) = self.feeder().as_ref() {
            feeder.stop();
        }
    }

    pub(super) fn frames(&self) -> u64 {
        self.counters().frames.load(Ordering::Relaxed)
    }

    pub(super) fn last_error(&self) -> Option<String> {
        self.counters()
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn reconnecting(&self) -> bool {
        self.counters().reconnecting.load(Ordering::Relaxed)
    }

    /// The feeder's thread is gone (the slot stops).
    fn stop_feeder(&self) {
        let feeder = self.feeder().take();
        if let Some(feeder) = feeder {
            feeder.join();
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for VplSlot {
    const NAME: &'static str = "VplSlot";
    type Type = super::VplSlot;
    type ParentType = gst::Bin;

    fn new() -> Self {
        // Live, in time, as `vplrtspsrc`'s: the feeder places each frame on this
        // pipeline's running time. A file's feeder waits for room (no frame lost); a
        // camera's `vplrtspsrc` drops whole runs of frames when the pipeline falls behind.
        // Few frames wait here: a stream removed from a pipeline slower than it ends
        // after those, not after seconds of queued video.
        let appsrc = gst_app::AppSrc::builder()
            .name("src")
            .is_live(true)
            .format(gst::Format::Time)
            .do_timestamp(false)
            .block(true)
            .max_bytes(0)
            .build();
        if appsrc.find_property("max-buffers").is_some() {
            appsrc.set_property("max-buffers", MAX_QUEUED);
        }
        VplSlot {
            settings: Mutex::new(Settings::default()),
            appsrc,
            feeder: Mutex::new(None),
            counters: Mutex::new(Arc::new(Counters::default())),
        }
    }
}

impl ObjectImpl for VplSlot {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("pool")
                    .nick("Pool")
                    .blurb("The name of the pool the slot is in")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("slot")
                    .nick("Slot")
                    .blurb("The slot's place in its pool, from 0")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("codec")
                    .nick("Codec")
                    .blurb("The pool's codec: h264 or h265")
                    .default_value(Some("h264"))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("width")
                    .nick("Width")
                    .blurb("The pool's frame width")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("height")
                    .nick("Height")
                    .blurb("The pool's frame height")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("rate")
                    .nick("Rate")
                    .blurb("The pool's frame rate, N/D")
                    .default_value(Some("0/1"))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("frames")
                    .nick("Frames")
                    .blurb("Frames the bound stream pushed into the slot")
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings();
        let text = || {
            value
                .get::<Option<String>>()
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        match pspec.name() {
            "pool" => settings.pool = text(),
            "slot" => settings.slot = value.get().unwrap_or(0),
            "codec" => settings.codec = text().to_ascii_lowercase(),
            "width" => settings.width = value.get().unwrap_or(0),
            "height" => settings.height = value.get().unwrap_or(0),
            "rate" => settings.rate = text(),
            other => gst::warning!(CAT, imp = self, "no property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings();
        match pspec.name() {
            "pool" => settings.pool.to_value(),
            "slot" => settings.slot.to_value(),
            "codec" => settings.codec.to_value(),
            "width" => settings.width.to_value(),
            "height" => settings.height.to_value(),
            "rate" => settings.rate.to_value(),
            "frames" => self.frames().to_value(),
            _ => glib::Value::from_type(pspec.value_type()),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        if let Err(e) = add_with_ghost_pad(&*obj, &self.appsrc, "src") {
            gst::error!(CAT, imp = self, "{e}");
        }
        obj.set_element_flags(gst::ElementFlags::SOURCE);
    }

    fn dispose(&self) {
        self.stop_feeder();
    }
}

impl GstObjectImpl for VplSlot {}

impl ElementImpl for VplSlot {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl pool slot",
                "Source/Video/Bin",
                "One slot of a pool: the encoded frames of the stream bound to it, live",
                "vpl",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
            LazyLock::new(|| bin_templates(gst::PadDirection::Src, &gst::Caps::new_any()));
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::PausedToReady {
            self.stop_feeder();
        }
        let mut success = self.parent_change_state(transition)?;
        if transition == gst::StateChange::ReadyToPaused {
            success = gst::StateChangeSuccess::NoPreroll;
        }
        Ok(success)
    }
}

impl BinImpl for VplSlot {}
