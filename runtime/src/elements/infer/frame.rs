//! A mapped GStreamer video frame → the engine's borrowed [`Frame`] (planes and strides),
//! so preprocessing reads the buffer in place, whatever its padding.

use gstreamer as gst;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;

use crate::engine::preprocess::{Frame, PixelFormat};

/// The caps formats `vplinfer` accepts, as GStreamer names them.
pub const FORMATS: [gst_video::VideoFormat; 7] = [
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Nv12,
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Bgr,
    gst_video::VideoFormat::Rgbx,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Gray8,
];

pub fn pixel_format(format: gst_video::VideoFormat) -> Option<PixelFormat> {
    Some(match format {
        gst_video::VideoFormat::I420 => PixelFormat::I420,
        gst_video::VideoFormat::Nv12 => PixelFormat::Nv12,
        gst_video::VideoFormat::Rgb => PixelFormat::Rgb,
        gst_video::VideoFormat::Bgr => PixelFormat::Bgr,
        gst_video::VideoFormat::Rgbx => PixelFormat::Rgbx,
        gst_video::VideoFormat::Bgrx => PixelFormat::Bgrx,
        gst_video::VideoFormat::Gray8 => PixelFormat::Gray8,
        _ => return None,
    })
}

/// Borrows the planes of a mapped frame; `None` for a format outside [`FORMATS`].
pub fn engine_frame<'a>(
    frame: &'a gst_video::VideoFrameRef<&gst::BufferRef>,
) -> Result<Frame<'a>, String> {
    let format = pixel_format(frame.format())
        .ok_or_else(|| format!("unsupported pixel format {:?}", frame.format()))?;
    let mut planes = Vec::with_capacity(frame.n_planes() as usize);
    let mut strides = Vec::with_capacity(frame.n_planes() as usize);
    for plane in 0..frame.n_planes() {
        planes.push(frame.plane_data(plane).map_err(|e| e.to_string())?);
        let stride = frame.plane_stride()[plane as usize];
        strides.push(usize::try_from(stride).map_err(|_| format!("negative stride {stride}"))?);
    }
    Ok(Frame {
        format,
        width: frame.width(),
        height: frame.height(),
        planes,
        strides,
    })
}

/// A rectangle of a frame in its pixels: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The pixels of a box (`x, y, w, h` in frame pixels) as a rectangle clamped to the frame,
/// with even corners and size for the subsampled formats; `None` when nothing is left.
pub fn crop_rect(frame: &Frame, x: f32, y: f32, w: f32, h: f32) -> Option<Rect> {
    if ![x, y, w, h].iter().all(|v| v.is_finite()) {
        return None;
    }
    let clamp = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let (mut x0, mut y0) = (
        clamp(x.floor(), frame.width),
        clamp(y.floor(), frame.height),
    );
    let (mut x1, mut y1) = (
        clamp((x + w).ceil(), frame.width),
        clamp((y + h).ceil(), frame.height),
    );
    if matches!(frame.format, PixelFormat::I420 | PixelFormat::Nv12) {
        x0 &= !1;
        y0 &= !1;
        x1 = x1.saturating_add(1).min(frame.width) & !1;
        y1 = y1.saturating_add(1).min(frame.height) & !1;
    }
    (x1 > x0 && y1 > y0).then(|| Rect {
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
    })
}

/// A view of `rect` of the frame, without copying: each plane starts at the rectangle's
/// first pixel and keeps its stride. `None` when the rectangle does not fit the planes.
pub fn crop<'a>(frame: &Frame<'a>, rect: Rect) -> Option<Frame<'a>> {
    let (x, y) = (rect.x as usize, rect.y as usize);
    if rect.x.checked_add(rect.w)? > frame.width || rect.y.checked_add(rect.h)? > frame.height {
        return None;
    }
    // (bytes per sample column, horizontal and vertical subsampling) of each plane.
    let layout: &[(usize, usize, usize)] = match frame.format {
        PixelFormat::I420 => &[(1, 1, 1), (1, 2, 2), (1, 2, 2)],
        PixelFormat::Nv12 => &[(1, 1, 1), (2, 2, 2)],
        PixelFormat::Rgb | PixelFormat::Bgr => &[(3, 1, 1)],
        PixelFormat::Rgbx | PixelFormat::Bgrx => &[(4, 1, 1)],
        PixelFormat::Gray8 => &[(1, 1, 1)],
    };
    if frame.planes.len() < layout.len() || frame.strides.len() < layout.len() {
        return None;
    }
    let mut planes = Vec::with_capacity(layout.len());
    for (i, (bytes, sx, sy)) in layout.iter().enumerate() {
        let offset = (y / sy)
            .checked_mul(frame.strides[i])?
            .checked_add((x / sx).checked_mul(*bytes)?)?;
        planes.push(frame.planes[i].get(offset..)?);
    }
    Some(Frame {
        format: frame.format,
        width: rect.w,
        height: rect.h,
        planes,
        strides: frame.strides[..layout.len()].to_vec(),
    })
}
