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

use super::draw::{Mask, Plane, blend, colour, fill, outline, place_label, text_luma};
use super::shapes;
use super::text::{FONT_DIR, caption, load_font, pixel_height, rasterise};
use crate::meta::{Object, VplObjectsMeta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vploverlay",
        gst::DebugColorFlags::empty(),
        Some("vpl boxes and labels drawn onto frames"),
    )
});

/// Space between a label's text and the edges of its background, in luma pixels.
const LABEL_PADDING: usize = 2;

const DEFAULT_LABELS: bool = true;
const DEFAULT_TRACKS: bool = true;

#[derive(Debug, Clone, Copy)]
struct Settings {
    labels: bool,
    tracks: bool,
}

/// What lives between `start()` and `stop()`.
struct State {
    /// `None` when no font could be loaded: boxes are drawn, labels are not.
    font: Option<ab_glyph::FontVec>,
}

#[derive(Default)]
pub struct VplOverlay {
    settings: Mutex<Option<Settings>>,
    info: Mutex<Option<gst_video::VideoInfo>>,
    state: Mutex<Option<State>>,
}

/// One object as drawn: its box and, when it has one, its label (luma pixels, box end
/// included, label end excluded).
struct Drawing {
    rect: [usize; 4],
    class_id: u32,
    label: Option<Label>,
}

struct Label {
    rect: [usize; 4],
    text: Mask,
}

/// The box of `object` scaled by `(sx, sy)` and clipped to a `width x height` frame;
/// `None` when nothing of it is in the frame.
fn frame_rect(
    object: &Object,
    (sx, sy): (f32, f32),
    width: usize,
    height: usize,
) -> Option<[usize; 4]> {
    let (x0, y0) = (object.x * sx, object.y * sy);
    let (x1, y1) = ((object.x + object.w) * sx, (object.y + object.h) * sy);
    let finite = [x0, y0, x1, y1].iter().all(|v| v.is_finite());
    if !finite
        || width == 0
        || height == 0
        || x1 < 0.0
        || y1 < 0.0
        || x0 >= width as f32
        || y0 >= height as f32
    {
        return None;
    }
    let clamp = |v: f32, max: usize| (v.max(0.0) as usize).min(max - 1);
    Some([
        clamp(x0, width),
        clamp(y0, height),
        clamp(x1, width),
        clamp(y1, height),
    ])
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

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let font = match load_font(std::path::Path::new(FONT_DIR)) {
            Ok((path, font)) => {
                gst::debug!(CAT, imp = self, "labels set in {}", path.display());
                Some(font)
            }
            Err(e) => {
                gst::warning!(
                    CAT,
                    imp = self,
                    "no font for labels ({e}); drawing boxes only (install fonts-dejavu-core)"
                );
                None
            }
        };
        if let Ok(mut slot) = self.state.lock() {
            *slot = Some(State { font });
        }
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        if let Ok(mut slot) = self.state.lock() {
            *slot = None;
        }
        Ok(())
    }

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
        let (fw, fh) = (info.width() as usize, info.height() as usize);
        let settings = self.settings();
        let state = self.state.lock().map_err(|_| gst::FlowError::Error)?;
        let font = state.as_ref().and_then(|s| s.font.as_ref());
        let px = pixel_height(fh);
        let drawings: Vec<Drawing> = data
            .objects
            .iter()
            .filter_map(|object| {
                let rect = frame_rect(object, (sx, sy), fw, fh)?;
                let label = font
                    .zip(caption(object, settings.labels, settings.tracks))
                    .and_then(|(font, text)| {
                        let text = rasterise(font, &text, px);
                        let size = [
                            text.width + 2 * LABEL_PADDING,
                            text.height + 2 * LABEL_PADDING,
                        ];
                        let rect = place_label(rect, size, [fw, fh])?;
                        Some(Label { rect, text })
                    });
                Some(Drawing {
                    rect,
                    class_id: object.class_id,
                    label,
                })
            })
            .collect();
        // The frame's own analytics, and after `tile` those of each cell.
        let zone_drawings: Vec<_> = data
            .analytics
            .iter()
            .chain(&data.cells)
            .flat_map(|a| super::zones::shapes(a, (sx, sy), [fw, fh], font, px))
            .collect();
        drop(state);

        let objects = &data.objects;
        let nv12 = info.format() == gst_video::VideoFormat::Nv12;
        // (plane, bytes per pixel, sample offset, colour component, subsampling)
        let planes: &[(u32, usize, usize, usize, usize)] = if nv12 {
            &[(0, 1, 0, 0, 1), (1, 2, 0, 1, 2), (1, 2, 1, 2, 2)]
        } else {
            &[(0, 1, 0, 0, 1), (1, 1, 0, 1, 2), (2, 1, 0, 2, 2)]
        };
        let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &info)
            .map_err(|_| gst::FlowError::Error)?;
        for &(index, step, offset, component, sub) in planes {
            let stride = frame.info().stride()[index as usize] as usize;
            let Ok(data) = frame.plane_data_mut(index) else {
                continue;
            };
            let mut plane = Plane {
                data,
                stride,
                width: fw.div_ceil(sub),
                height: fh.div_ceil(sub),
                step,
                offset,
            };
            shapes::masks(&mut plane, objects, (sx, sy), sub, component);
            super::zones::draw(&mut plane, &zone_drawings, component, sub);
            for drawing in &drawings {
                let c = colour(drawing.class_id);
                let value = c.yuv[component];
                let [x0, y0, x1, y1] = drawing.rect;
                outline(
                    &mut plane,
                    [x0 / sub, y0 / sub, x1 / sub, y1 / sub],
                    (4 / sub).max(1),
                    value,
                );
                let Some(label) = &drawing.label else {
                    continue;
                };
                let [lx0, ly0, lx1, ly1] = label.rect;
                fill(
                    &mut plane,
                    [lx0 / sub, ly0 / sub, lx1.div_ceil(sub), ly1.div_ceil(sub)],
                    value,
                );
                if component == 0 {
                    blend(
                        &mut plane,
                        [lx0 + LABEL_PADDING, ly0 + LABEL_PADDING],
                        &label.text,
                        text_luma(value),
                    );
                }
            }
            shapes::skeletons(&mut plane, objects, (sx, sy), sub, component);
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
