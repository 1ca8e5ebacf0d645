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
