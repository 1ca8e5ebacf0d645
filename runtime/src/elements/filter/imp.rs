//! The `vplfilter` element: properties, and the objects it keeps on each buffer.

use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;

use crate::meta::{Object, VplObjectsMeta};

const DEFAULT_CLASSES: &str = "";
const DEFAULT_MIN_CONFIDENCE: f64 = 0.0;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplfilter",
        gst::DebugColorFlags::empty(),
        Some("vpl object filter"),
    )
});

#[derive(Debug, Clone)]
struct Settings {
    /// Labels separated by newlines, as the `classes` property holds them.
    classes: String,
    min_confidence: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            classes: DEFAULT_CLASSES.into(),
            min_confidence: DEFAULT_MIN_CONFIDENCE,
        }
    }
}

/// What `start()` makes of the settings, so buffers do not re-split the label list.
#[derive(Debug, Clone)]
struct State {
    /// The labels kept; empty keeps every label.
    classes: Vec<String>,
    min_confidence: f32,
}

impl State {
    fn new(settings: &Settings) -> State {
        State {
            classes: settings
                .classes
                .split('\n')
                .map(str::trim)
                .filter(|label| !label.is_empty())
                .map(String::from)
                .collect(),
            min_confidence: settings.min_confidence as f32,
        }
    }

    fn keeps(&self, object: &Object) -> bool {
        object.confidence >= self.min_confidence
            && (self.classes.is_empty() || self.classes.contains(&object.label))
    }
}

#[derive(Default)]
pub struct VplFilter {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for VplFilter {
    const NAME: &'static str = "VplFilter";
    type Type = super::VplFilter;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for VplFilter {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("classes")
                    .nick("Classes")
                    .blurb("Labels to keep, separated by newlines (empty keeps every label)")
                    .default_value(Some(DEFAULT_CLASSES))
                    .build(),
                glib::ParamSpecDouble::builder("min-confidence")
                    .nick("Minimum confidence")
                    .blurb("Objects less confident than this are dropped")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_MIN_CONFIDENCE)
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
            "classes" => {
                s.classes = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| DEFAULT_CLASSES.into())
            }
            "min-confidence" => s.min_confidence = value.get().unwrap_or(DEFAULT_MIN_CONFIDENCE),
            _ => {}
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().map(|s| s.clone()).unwrap_or_default();
        match pspec.name() {
            "classes" => s.classes.to_value(),
            _ => s.min_confidence.to_value(),
        }
    }
}

impl GstObjectImpl for VplFilter {}

impl ElementImpl for VplFilter {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl object filter",
                "Filter/Analyzer/Video",
                "Keeps the objects found upstream of some classes and confidence",
                "vpl",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst::Caps::new_any();
            crate::elements::passthrough_templates(&caps)
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for VplFilter {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let s = self.settings.lock().map(|s| s.clone()).unwrap_or_default();
        let state = State::new(&s);
        gst::debug!(
            CAT,
            imp = self,
            "keeping labels {:?} (empty: all) with confidence at least {}",
            state.classes,
            state.min_confidence
        );
        if let Ok(mut slot) = self.state.lock() {
            *slot = Some(state);
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
        let Ok(state) = self.state.lock() else {
            return Err(gst::FlowError::Error);
        };
        let Some(state) = state.as_ref() else {
            return Err(gst::FlowError::Flushing);
        };
        if let Some(mut meta) = buffer.meta_mut::<VplObjectsMeta>() {
            let objects = &mut meta.data_mut().objects;
            let before = objects.len();
            objects.retain(|o| state.keeps(o));
            gst::trace!(
                CAT,
                imp = self,
                "kept {} of {} objects",
                objects.len(),
                before
            );
        }
        Ok(gst::FlowSuccess::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(label: &str, confidence: f32) -> Object {
        Object {
            label: label.into(),
            confidence,
            ..Object::default()
        }
    }

    #[test]
    fn classes_and_confidence_both_decide() {
        let state = State::new(&Settings {
            classes: "person\n car \n\n".into(),
            min_confidence: 0.5,
        });
        assert_eq!(state.classes, ["person", "car"]);
        assert!(state.keeps(&object("person", 0.5)));
        assert!(state.keeps(&object("car", 0.9)));
        assert!(!state.keeps(&object("person", 0.49)));
        assert!(!state.keeps(&object("dog", 0.9)));
    }

    #[test]
    fn empty_classes_keep_every_label() {
        let state = State::new(&Settings::default());
        assert!(state.classes.is_empty());
        assert!(state.keeps(&object("anything", 0.0)));
    }
}
