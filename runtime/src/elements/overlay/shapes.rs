//! Masks blended into the frame and skeletons drawn over it, for objects from
//! `yolov8_seg`, `semantic` and `yolov8_pose`.
//!
//! A mask is blended half-and-half with its class's colour (the box's); keypoints whose
//! visibility is at least [`VISIBLE`] are dots, and each bone between two of them a line,
//! in the colour after the class's in the palette, so they stand out from the box.

use super::draw::{Plane, colour};
use crate::meta::Object;

/// How much of the class colour a masked pixel gets.
pub const MASK_ALPHA: f32 = 0.5;
/// Keypoints less visible than this are not drawn, nor their bones (Ultralytics' 0.5).
pub const VISIBLE: f32 = 0.5;
/// Half the side of a keypoint's dot, and half a bone's thickness, in luma pixels.
const DOT: f32 = 3.0;
const BONE: f32 = 1.0;

/// The colour skeletons of objects of `class_id` are drawn in.
pub fn skeleton_colour(class_id: u32) -> super::draw::Colour {
    colour(class_id.wrapping_add(1))
}

/// Blends each object's mask into `plane` (a plane subsampled by `sub`, whose
/// `component` of the YUV colour it holds); `(sx, sy)` scales source pixels to frame pixels.
pub fn masks(
    plane: &mut Plane,
    objects: &[Object],
    (sx, sy): (f32, f32),
    sub: usize,
    component: usize,
) {
    for object in objects {
        let Some(mask) = &object.mask else {
            continue;
        };
        if mask.width == 0 || mask.height == 0 || sx <= 0.0 || sy <= 0.0 {
            continue;
        }
        let value = f32::from(colour(object.class_id).yuv[component]);
        let s = sub as f32;
        let px0 = ((mask.x as f32 * sx) / s).floor().max(0.0) as usize;
        let py0 = ((mask.y as f32 * sy) / s).floor().max(0.0) as usize;
        let px1 = ((((mask.x + mask.width) as f32) * sx / s).ceil() as usize).min(plane.width);
        let py1 = ((((mask.y + mask.height) as f32) * sy / s).ceil() as usize).min(plane.height);
        for py in py0..py1 {
            // The source pixel under the sample's centre.
            let src_y = ((py as f32 + 0.5) * s / sy).floor();
            if src_y < mask.y as f32 {
                continue;
            }
            let row = src_y as u32 - mask.y;
            for px in px0..px1 {
                let src_x = ((px as f32 + 0.5) * s / sx).floor();
                if src_x < mask.x as f32 || !mask.get(src_x as u32 - mask.x, row) {
                    continue;
                }
                let i = py * plane.stride + px * plane.step + plane.offset;
                if let Some(p) = plane.data.get_mut(i) {
                    let mixed = f32::from(*p) * (1.0 - MASK_ALPHA) + value * MASK_ALPHA;
                    *p = mixed.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// Sets the samples within `radius` (plane samples, square) of `(x, y)`.
fn dot(plane: &mut Plane, (x, y): (f32, f32), radius: f32, value: u8) {
    let x0 = (x - radius).round().max(0.0) as usize;
    let y0 = (y - radius).round().max(0.0) as usize;
    let x1 = ((x + radius).round().max(0.0) as usize).min(plane.width);
    let y1 = ((y + radius).round().max(0.0) as usize).min(plane.height);
    for py in y0..y1 {
        for px in x0..x1 {
            let i = py * plane.stride + px * plane.step + plane.offset;
            if let Some(p) = plane.data.get_mut(i) {
                *p = value;
            }
        }
    }
}

/// Draws each object's bones (its `skeleton`'s pairs of visible keypoints) and visible
/// keypoints into `plane`.
pub fn skeletons(
    plane: &mut Plane,
    objects: &[Object],
    (sx, sy): (f32, f32),
    sub: usize,
    component: usize,
) {
    let s = sub as f32;
    for object in objects {
        if object.keypoints.is_empty() {
            continue;
        }
        let value = skeleton_colour(object.class_id).yuv[component];
        let at = |k: usize| {
            object
                .keypoints
                .get(k)
                .filter(|p| p.confidence >= VISIBLE && p.x.is_finite() && p.y.is_finite())
                .map(|p| (p.x * sx / s, p.y * sy / s))
        };
        let bone = (BONE / s).max(0.5);
        for [a, b] in &object.skeleton {
            let (Some(p), Some(q)) = (at(*a as usize), at(*b as usize)) else {
                continue;
            };
            let steps = (q.0 - p.0)
                .abs()
                .max((q.1 - p.1).abs())
                .ceil()
                .min(100_000.0) as usize;
            for i in 0..=steps {
                let t = if steps == 0 {
                    0.0
                } else {
                    i as f32 / steps as f32
                };
                dot(
                    plane,
                    (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t),
                    bone,
                    value,
                );
            }
        }
        for k in 0..object.keypoints.len() {
            if let Some(p) = at(k) {
                dot(plane, p, (DOT / s).max(1.0), value);
            }
        }
    }
}
