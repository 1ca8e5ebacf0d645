//! The `vplfilter` element: properties, and the objects it keeps on each buffer.

use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;

use crate::elements::transform::{
    in_place_transform, settings, start, stop, string_value, with_state,
};
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
            "classes" => s.classes = string_value(value, DEFAULT_CLASSES),
            "min-confidence" => s.min_confidence = value.get().unwrap_or(DEFAULT_MIN_CONFIDENCE),
            _ => {}
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = settings(&self.settings);
        match pspec.name() {
            "classes" => s.classes.to_value(),
            _ => s.min_confidence.to_value(),
        }
    }
}

in_place_transform! {
    VplFilter: super::VplFilter,
    metadata: (
        "vpl object filter",
        "Filter/Analyzer/Video",
        "Keeps the objects found upstream of some classes and confidence"
    ),
    caps: gst::Caps::new_any(),
    hands: [start, stop, transform_ip]
}

impl VplFilter {
    fn on_start(&self) -> Result<(), gst::ErrorMessage> {
        let state = State::new(&settings(&self.settings));
        gst::debug!(
            CAT,
            imp = self,
            "keeping labels {:?} (empty: all) with confidence at least {}",
            state.classes,
            state.min_confidence
        );
        start(&self.state, state);
        Ok(())
    }

    fn on_stop(&self) -> Result<(), gst::ErrorMessage> {
        stop(&self.state)
    }

    fn on_buffer(&self, buffer: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        with_state(&self.state, |state| {
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
            gst::FlowSuccess::Ok
        })
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
