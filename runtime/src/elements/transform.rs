//! What vpl's in-place transforms share (`vplanalyze`, `vplevents`, `vplfilter`,
//! `vpltrack`, `vplstamp`): the GObject boilerplate of a `BaseTransform` that works on
//! buffers in place ([`in_place_transform!`]), the state that `start()` makes and `stop()`
//! drops ([`start`], [`stop`], [`with_state`]), and the whole element of an analytics
//! stage configured by one JSON property ([`AnalyticsStage`], [`analytics_element!`]).

use std::sync::{Mutex, MutexGuard};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use serde::de::DeserializeOwned;

use crate::meta::{ObjectsData, VplObjectsMeta};

/// The `ObjectSubclass` (GType name: the struct's), `GstObjectImpl` and `ElementImpl`
/// (metadata, and `src`/`sink` pads of the same `caps`) of the in-place `BaseTransform`
/// `$imp`, the implementation of the `glib::wrapper!` type `$wrapper`; and its
/// `BaseTransformImpl`, always in place and never passthrough, whose `start`, `stop`,
/// `set_caps` and `transform_ip`, those listed in `hands`, call `$imp`'s own `on_start`,
/// `on_stop`, `on_caps` and `on_buffer` (the others are `BaseTransform`'s). The calling
/// module imports what every element's `imp.rs` does (`gst`, `glib`, `gst_base`,
/// `LazyLock` and the subclass preludes).
macro_rules! in_place_transform {
    (
        $imp:ident: $wrapper:ty,
        metadata: ($long:expr, $class:expr, $description:expr),
        caps: $caps:expr,
        hands: [$($method:ident),* $(,)?]
    ) => {
        #[glib::object_subclass]
        impl ObjectSubclass for $imp {
            const NAME: &'static str = stringify!($imp);
            type Type = $wrapper;
            type ParentType = gst_base::BaseTransform;
        }

        impl GstObjectImpl for $imp {}

        impl ElementImpl for $imp {
            fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
                static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
                    gst::subclass::ElementMetadata::new($long, $class, $description, "vpl")
                });
                Some(&*META)
            }

            fn pad_templates() -> &'static [gst::PadTemplate] {
                static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> =
                    LazyLock::new(|| $crate::elements::passthrough_templates(&$caps));
                TEMPLATES.as_ref()
            }
        }

        impl BaseTransformImpl for $imp {
            const MODE: gst_base::subclass::BaseTransformMode =
                gst_base::subclass::BaseTransformMode::AlwaysInPlace;
            const PASSTHROUGH_ON_SAME_CAPS: bool = false;
            const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

            $($crate::elements::transform::in_place_transform!(@hand $method);)*
        }
    };
    (@hand start) => {
        fn start(&self) -> Result<(), gst::ErrorMessage> {
            self.on_start()
        }
    };
    (@hand stop) => {
        fn stop(&self) -> Result<(), gst::ErrorMessage> {
            self.on_stop()
        }
    };
    (@hand set_caps) => {
        fn set_caps(
            &self,
            incaps: &gst::Caps,
            outcaps: &gst::Caps,
        ) -> Result<(), gst::LoggableError> {
            self.on_caps(incaps, outcaps)
        }
    };
    (@hand sink_event) => {
        fn sink_event(&self, event: gst::Event) -> bool {
            self.on_sink_event(event)
        }
    };
    (@hand transform_ip) => {
        fn transform_ip(
            &self,
            buffer: &mut gst::BufferRef,
        ) -> Result<gst::FlowSuccess, gst::FlowError> {
            self.on_buffer(buffer)
        }
    };
}
pub(crate) use in_place_transform;

/// The settings as they are now (the defaults if a panic poisoned them).
pub(crate) fn settings<T: Clone + Default>(settings: &Mutex<T>) -> T {
    settings.lock().map(|s| s.clone()).unwrap_or_default()
}

/// A string property's new value; `default` for none.
pub(crate) fn string_value(value: &glib::Value, default: &str) -> String {
    value
        .get::<Option<String>>()
        .ok()
        .flatten()
        .unwrap_or_else(|| default.into())
}

/// `start()`: the state the element runs with until `stop()`.
pub(crate) fn start<T>(state: &Mutex<Option<T>>, value: T) {
    if let Ok(mut slot) = state.lock() {
        *slot = Some(value);
    }
}

/// `stop()`: the state is dropped.
pub(crate) fn stop<T>(state: &Mutex<Option<T>>) -> Result<(), gst::ErrorMessage> {
    if let Ok(mut slot) = state.lock() {
        *slot = None;
    }
    Ok(())
}

/// `f` on the state `start()` made: `Flushing` when the element is stopped, `Error` when
/// a panic poisoned the state.
pub(crate) fn with_state<T, R>(
    state: &Mutex<Option<T>>,
    f: impl FnOnce(&mut T) -> R,
) -> Result<R, gst::FlowError> {
    let mut guard: MutexGuard<'_, Option<T>> = state.lock().map_err(|_| gst::FlowError::Error)?;
    let value = guard.as_mut().ok_or(gst::FlowError::Flushing)?;
    Ok(f(value))
}

/// An analytics stage (`vplanalyze`'s analyzer, `vplevents`' event maker): made at
/// `start()` from the JSON of its `config` property, then run on each frame's objects.
pub(crate) trait AnalyticsStage: Sized + Send + 'static {
    /// What `config` holds (from `vpl_compiler::analytics`).
    type Config: DeserializeOwned;
    /// `config` when it is not set.
    const DEFAULT_CONFIG: &'static str;
    /// The `config` property's description.
    const BLURB: &'static str;
    /// What a bad `config` is called in the error (`invalid {WHAT} config ...`).
    const WHAT: &'static str;

    fn new(config: Self::Config) -> Self;
    /// A line for the debug log of what `config` asks for.
    fn describe(config: &Self::Config) -> String;
    /// Runs on one frame's metadata, `pts_ns` its stream time.
    fn on_frame(&mut self, data: &mut ObjectsData, pts_ns: u64);
    /// The stream leaves its pool's slot ([`crate::elements::slot::STREAM_LEAVES`]) after
    /// the frame at `pts_ns`: what is still to say, as the metadata of one more (empty)
    /// buffer, and nothing of the stream is kept.
    fn on_leave(&mut self, _pts_ns: u64) -> Option<ObjectsData> {
        None
    }
}

/// What the element of an [`AnalyticsStage`] holds; [`analytics_element!`] makes the
/// element's GObject code call it.
pub(crate) struct AnalyticsElement<S> {
    config: Mutex<String>,
    state: Mutex<Option<Running<S>>>,
}

struct Running<S> {
    stage: S,
    /// Stream time of the last buffer, for buffers without a timestamp.
    last_pts: u64,
}

impl<S: AnalyticsStage> Default for AnalyticsElement<S> {
    fn default() -> Self {
        AnalyticsElement {
            config: Mutex::new(S::DEFAULT_CONFIG.into()),
            state: Mutex::new(None),
        }
    }
}

impl<S: AnalyticsStage> AnalyticsElement<S> {
    /// The one property, `config`.
    pub(crate) fn properties() -> Vec<glib::ParamSpec> {
        vec![
            glib::ParamSpecString::builder("config")
                .nick("Config")
                .blurb(S::BLURB)
                .default_value(Some(S::DEFAULT_CONFIG))
                .build(),
        ]
    }

    pub(crate) fn set_property(&self, value: &glib::Value, pspec: &glib::ParamSpec) {
        if pspec.name() == "config"
            && let Ok(mut config) = self.config.lock()
        {
            *config = string_value(value, S::DEFAULT_CONFIG);
        }
    }

    pub(crate) fn property(&self) -> glib::Value {
        settings(&self.config).to_value()
    }

    /// Reads `config` and makes the stage; returns [`AnalyticsStage::describe`]'s line.
    pub(crate) fn start(&self) -> Result<String, gst::ErrorMessage> {
        let text = settings(&self.config);
        let config: S::Config = serde_json::from_str(&text).map_err(|e| {
            gst::error_msg!(
                gst::LibraryError::Settings,
                ["invalid {} config {:?}: {}", S::WHAT, text, e]
            )
        })?;
        let description = S::describe(&config);
        start(
            &self.state,
            Running {
                stage: S::new(config),
                last_pts: 0,
            },
        );
        Ok(description)
    }

    pub(crate) fn stop(&self) -> Result<(), gst::ErrorMessage> {
        stop(&self.state)
    }

    /// The stream leaves: the buffer holding what the stage still says, if anything.
    pub(crate) fn leave(&self) -> Option<gst::Buffer> {
        let data = with_state(&self.state, |running| {
            running.stage.on_leave(running.last_pts)
        })
        .ok()
        .flatten()?;
        let pts = with_state(&self.state, |running| running.last_pts).ok()?;
        let mut buffer = gst::Buffer::new();
        {
            let buffer = buffer.get_mut()?;
            buffer.set_pts(gst::ClockTime::from_nseconds(pts));
            VplObjectsMeta::set(buffer, data);
        }
        Some(buffer)
    }

    /// The stage on the buffer's metadata (made when there is none).
    pub(crate) fn transform_ip(
        &self,
        buffer: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        with_state(&self.state, |running| {
            let pts = buffer
                .pts()
                .map_or(running.last_pts, gst::ClockTime::nseconds);
            running.last_pts = pts;
            VplObjectsMeta::update(buffer, ObjectsData::default, |data| {
                running.stage.on_frame(data, pts)
            });
            gst::FlowSuccess::Ok
        })
    }
}

/// The whole GObject code of the element `$imp` (a tuple struct around an
/// [`AnalyticsElement`] of `$stage`): its debug category `$name` (`$category` its
/// description), the `config` property, and `start`, `stop` and `transform_ip` handed to
/// the `AnalyticsElement`, through [`in_place_transform!`] with any caps.
macro_rules! analytics_element {
    (
        $imp:ident: $wrapper:ty, $stage:ty,
        category: ($name:literal, $category:literal),
        metadata: ($long:expr, $class:expr, $description:expr)
    ) => {
        static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
            gst::DebugCategory::new($name, gst::DebugColorFlags::empty(), Some($category))
        });

        #[derive(Default)]
        pub struct $imp($crate::elements::transform::AnalyticsElement<$stage>);

        impl ObjectImpl for $imp {
            fn properties() -> &'static [glib::ParamSpec] {
                static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(
                    $crate::elements::transform::AnalyticsElement::<$stage>::properties,
                );
                PROPERTIES.as_ref()
            }

            fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
                self.0.set_property(value, pspec);
            }

            fn property(&self, _id: usize, _pspec: &glib::ParamSpec) -> glib::Value {
                self.0.property()
            }
        }

        impl $imp {
            fn on_start(&self) -> Result<(), gst::ErrorMessage> {
                let description = self.0.start()?;
                gst::debug!(CAT, imp = self, "{description}");
                Ok(())
            }

            fn on_stop(&self) -> Result<(), gst::ErrorMessage> {
                self.0.stop()
            }

            fn on_buffer(
                &self,
                buffer: &mut gst::BufferRef,
            ) -> Result<gst::FlowSuccess, gst::FlowError> {
                self.0.transform_ip(buffer)
            }

            /// A pool's stream leaving its slot: what the stage still says goes out
            /// first, in one more buffer, before the event.
            fn on_sink_event(&self, event: gst::Event) -> bool {
                let leaves = event.type_() == gst::EventType::CustomDownstream
                    && event
                        .structure()
                        .is_some_and(|s| s.name() == $crate::elements::slot::STREAM_LEAVES);
                if leaves
                    && let Some(buffer) = self.0.leave()
                    && let Some(src) = gst::prelude::ElementExt::static_pad(&*self.obj(), "src")
                {
                    let _ = <gst::Pad as gst::prelude::PadExt>::push(&src, buffer);
                }
                self.parent_sink_event(event)
            }
        }

        $crate::elements::transform::in_place_transform! {
            $imp: $wrapper,
            metadata: ($long, $class, $description),
            caps: gst::Caps::new_any(),
            hands: [start, stop, sink_event, transform_ip]
        }
    };
}
pub(crate) use analytics_element;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::{Analyzer, EventMaker};

    #[test]
    fn a_stage_starts_from_its_default_config_and_refuses_a_bad_one() {
        let element = AnalyticsElement::<Analyzer>::default();
        assert_eq!(element.start().as_deref(), Ok("0 zones, 0 lines"));
        let spec = &AnalyticsElement::<Analyzer>::properties()[0];
        element.set_property(&"{\"zones\": 1}".to_value(), spec);
        let error = element.start().expect_err("a bad config");
        assert!(
            error.to_string().contains("invalid analytics config"),
            "{error}"
        );
        element.set_property(&None::<String>.to_value(), spec);
        assert_eq!(
            element.property().get::<String>().ok().as_deref(),
            Some(<Analyzer as AnalyticsStage>::DEFAULT_CONFIG)
        );
    }

    #[test]
    fn buffers_before_start_and_after_stop_are_flushing() {
        gst::init().expect("GStreamer");
        let element = AnalyticsElement::<EventMaker>::default();
        let mut buffer = gst::Buffer::new();
        let buffer = buffer.make_mut();
        assert_eq!(element.transform_ip(buffer), Err(gst::FlowError::Flushing));
        element.start().expect("the default config");
        buffer.set_pts(gst::ClockTime::from_mseconds(40));
        assert_eq!(element.transform_ip(buffer), Ok(gst::FlowSuccess::Ok));
        let meta = buffer
            .meta::<VplObjectsMeta>()
            .expect("the stage made a meta");
        assert_eq!(meta.data().events.as_deref(), Some(&[][..]));
        element.stop().expect("stops");
        assert_eq!(element.transform_ip(buffer), Err(gst::FlowError::Flushing));
    }
}
