//! Zones, lines and their counts (from `analyze`) drawn by `vploverlay`: each zone's
//! outline (red while overcrowded) with `name: count`, each line with
//! `name: forward ↓ backward` counts.

use ab_glyph::FontVec;

use super::draw::{Colour, Mask, Plane, blend, colour, fill, place_label, text_luma};
use super::text::rasterise;
use crate::analytics::FrameAnalytics;

const ZONE: u32 = 3; // palette: amber
const CROWDED: u32 = 0; // palette: red
const LINE: u32 = 5; // palette: cyan
const PADDING: usize = 2;

/// One shape ready to draw, in frame pixels.
pub struct ShapeDrawing {
    /// Segments `[x0, y0, x1, y1]`.
    segments: Vec<[f32; 4]>,
    colour: Colour,
    label: Option<(Mask, [usize; 4])>,
}

/// The shapes of a frame's analytics, scaled from source pixels by `scale`.
pub fn shapes(
    analytics: &FrameAnalytics,
    scale: (f32, f32),
    frame: [usize; 2],
    font: Option<&FontVec>,
    px: f32,
) -> Vec<ShapeDrawing> {
    let at = |p: [f64; 2]| [p[0] as f32 * scale.0, p[1] as f32 * scale.1];
    let label = |text: String, anchor: [f32; 2]| {
        let font = font?;
        let mask = rasterise(font, &text, px);
        let size = [mask.width + 2 * PADDING, mask.height + 2 * PADDING];
        let (x, y) = (anchor[0].max(0.0) as usize, anchor[1].max(0.0) as usize);
        let rect = place_label([x, y, x, y], size, frame)?;
        Some((mask, rect))
    };
    let mut out = Vec::new();
    for z in &analytics.zones {
        let points: Vec<[f32; 2]> = z.points.iter().map(|p| at(*p)).collect();
        let segments = (0..points.len())
            .map(|i| {
                let (a, b) = (points[i], points[(i + 1) % points.len()]);
                [a[0], a[1], b[0], b[1]]
            })
            .collect();
        let top = points
            .iter()
            .copied()
            .min_by(|a, b| a[1].total_cmp(&b[1]))
            .unwrap_or([0.0, 0.0]);
        out.push(ShapeDrawing {
            segments,
            colour: colour(if z.overcrowded { CROWDED } else { ZONE }),
            label: label(format!("{}: {}", z.zone, z.count), top),
        });
    }
    for l in &analytics.lines {
        let (a, b) = (at(l.ends[0]), at(l.ends[1]));
        out.push(ShapeDrawing {
            segments: vec![[a[0], a[1], b[0], b[1]]],
            colour: colour(LINE),
            label: label(
                format!("{}: {} fwd, {} back", l.line, l.forward, l.backward),
                a,
            ),
        });
    }
    out
}

/// Draws `shapes` into one plane (`component` 0 luma, 1 and 2 chroma, subsampled by `sub`).
pub fn draw(plane: &mut Plane, shapes: &[ShapeDrawing], component: usize, sub: usize) {
    for s in shapes {
        let value = s.colour.yuv[component];
        for seg in &s.segments {
            segment(plane, seg, sub, value);
        }
        if let Some((mask, [x0, y0, x1, y1])) = &s.label {
            fill(
                plane,
                [x0 / sub, y0 / sub, x1.div_ceil(sub), y1.div_ceil(sub)],
                value,
            );
            if component == 0 {
                blend(plane, [x0 + PADDING, y0 + PADDING], mask, text_luma(value));
            }
        }
    }
}

/// A segment 3 pixels wide, stepped one sample at a time along its longer side.
fn segment(plane: &mut Plane, seg: &[f32; 4], sub: usize, value: u8) {
    let s = sub as f32;
    let [x0, y0, x1, y1] = [seg[0] / s, seg[1] / s, seg[2] / s, seg[3] / s];
    let steps = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as usize;
    let half = if sub > 1 { 0 } else { 1 };
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
        for dy in -half..=half {
            for dx in -half..=half {
                let (px, py) = (x.round() as i64 + dx, y.round() as i64 + dy);
                if px < 0 || py < 0 || px as usize >= plane.width || py as usize >= plane.height {
                    continue;
                }
                let i = py as usize * plane.stride + px as usize * plane.step + plane.offset;
                if let Some(p) = plane.data.get_mut(i) {
                    *p = value;
                }
            }
        }
    }
}
