//! The `vploverlay` element: draws each object's box into the frame, in place.

use std::sync::{LazyLock, Mutex};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;

use super::draw::{Plane, colour, outline};
use crate::meta::VplObjectsMeta;

const DEFAULT_LABELS: bool = true;
const DEFAULT_TRACKS: bool = true;

#[derive(Debug, Clone, Copy)]
struct Settings {
    labels: bool,
    tracks: bool,
}

#[derive(Default)]
pub struct VplOverlay {
    settings: Mutex<Option<Settings>>,
    info: Mutex<Option<gst_video::VideoInfo>>,
}

#[glib::object_subclass]
impl ObjectSubclass for VplOverlay {
    const NAME: &'static str = "VplOverlay";
    type Type = super::VplOverlay;
    type ParentType = gst_base::BaseTransform;
}

impl VplOverlay {
    fn settings(&self) -> Settings {
        self.settings
            .lock()
            .ok()
            .and_then(|s| *s)
            .unwrap_or(Settings {
                labels: DEFAULT_LABELS,
                tracks: DEFAULT_TRACKS,
            })
    }
}

impl ObjectImpl for VplOverlay {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecBoolean::builder("labels")
                    .nick("Labels")
                    .blurb("Draw each object's label and confidence")
                    .default_value(DEFAULT_LABELS)
                    .build(),
                glib::ParamSpecBoolean::builder("tracks")
                    .nick("Tracks")
                    .blurb("Draw each object's track id")
                    .default_value(DEFAULT_TRACKS)
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings();
        match pspec.name() {
            "labels" => s.labels = value.get().unwrap_or(DEFAULT_LABELS),
            _ => s.tracks = value.get().unwrap_or(DEFAULT_TRACKS),
        }
        if let Ok(mut settings) = self.settings.lock() {
            *settings = Some(s);
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "labels" => s.labels.to_value(),
            _ => s.tracks.to_value(),
        }
    }
}

impl GstObjectImpl for VplOverlay {}

impl ElementImpl for VplOverlay {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl overlay",
                "Filter/Effect/Video",
                "Draws the objects found upstream onto the frames",
                "vpl",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_video::VideoCapsBuilder::new()
                .format_list([gst_video::VideoFormat::I420, gst_video::VideoFormat::Nv12])
                .build();
            crate::elements::passthrough_templates(&caps)
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for VplOverlay {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(gst::CAT_RUST, "not video caps"))?;
        if let Ok(mut slot) = self.info.lock() {
            *slot = Some(info);
        }
        Ok(())
    }

    fn transform_ip(
        &self,
        buffer: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let Some(data) = VplObjectsMeta::get(buffer).cloned() else {
            return Ok(gst::FlowSuccess::Ok);
        };
        let Some(info) = self.info.lock().ok().and_then(|i| i.clone()) else {
            return Err(gst::FlowError::NotNegotiated);
        };
        let (width, height) = (info.width() as f32, info.height() as f32);
        let sx = if data.source_width > 0 {
            width / data.source_width as f32
        } else {
            1.0
        };
        let sy = if data.source_height > 0 {
            height / data.source_height as f32
        } else {
            1.0
        };
        let nv12 = info.format() == gst_video::VideoFormat::Nv12;
        let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &info)
            .map_err(|_| gst::FlowError::Error)?;
        for object in &data.objects {
            let c = colour(object.class_id);
            let x0 = (object.x * sx).max(0.0) as usize;
            let y0 = (object.y * sy).max(0.0) as usize;
            let x1 = ((object.x + object.w) * sx).max(0.0) as usize;
            let y1 = ((object.y + object.h) * sy).max(0.0) as usize;
            let planes: &[(u32, usize, usize, u8, usize)] = if nv12 {
                &[
                    (0, 1, 0, c.yuv[0], 1),
                    (1, 2, 0, c.yuv[1], 2),
                    (1, 2, 1, c.yuv[2], 2),
                ]
            } else {
                &[
                    (0, 1, 0, c.yuv[0], 1),
                    (1, 1, 0, c.yuv[1], 2),
                    (2, 1, 0, c.yuv[2], 2),
                ]
            };
            for &(index, step, offset, value, sub) in planes {
                let stride = frame.info().stride()[index as usize] as usize;
                let (pw, ph) = (info.width() as usize / sub, info.height() as usize / sub);
                let Ok(data) = frame.plane_data_mut(index) else {
                    continue;
                };
                let mut plane = Plane {
                    data,
                    stride,
                    width: pw,
                    height: ph,
                    step,
                    offset,
                };
                outline(
                    &mut plane,
                    [x0 / sub, y0 / sub, x1 / sub, y1 / sub],
                    4 / sub,
                    value,
                );
            }
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
