//! Segmentation outputs → masks in source-frame pixels.
//!
//! `yolov8_seg`: detections as YOLOv8's (`yolov8::detect`), then each object's mask is
//! the sum of the prototypes weighted by its coefficients, sampled bilinearly at each
//! source pixel's centre (mapped through the letterbox into the prototypes' grid), kept
//! where the sigmoid is above 0.5 (the sum above 0) and the centre inside the box.
//! `semantic`: a class map, each source pixel taking the best class of the map cell its
//! centre falls in; each class present is one object. `scripts/reference_segpose.py`
//! decodes the same outputs independently.

use super::yolov8::detect;
use super::{Detection, Yolov8Config};
use crate::engine::preprocess::Letterbox;
use crate::masks::{Mask, MaskFormat};

/// One image's prototypes `[masks, height, width]`, row-major.
pub struct Protos<'a> {
    pub data: &'a [f32],
    pub masks: usize,
    pub height: usize,
    pub width: usize,
}

/// Where a frame went into the model: the letterbox, the source frame's and the model
/// input's sizes (width, height).
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub letterbox: Letterbox,
    pub source: (u32, u32),
    pub input: (u32, u32),
}

impl Frame {
    /// A source point → the map's continuous coordinates for a `width x height` map
    /// spanning the model input (cell `i` covers `i..i + 1`).
    fn map_point(&self, x: f32, y: f32, width: usize, height: usize) -> (f32, f32) {
        let (mx, my) = self.letterbox.to_model(x, y);
        (
            mx * width as f32 / self.input.0.max(1) as f32,
            my * height as f32 / self.input.1.max(1) as f32,
        )
    }
}

/// The whole-pixel box `[x0, y0, x1, y1)` covering `d`, inside the frame.
fn pixel_box(d: &Detection, source: (u32, u32)) -> [u32; 4] {
    let x0 = (d.x.floor().max(0.0) as u32).min(source.0);
    let y0 = (d.y.floor().max(0.0) as u32).min(source.1);
    let x1 = ((d.x + d.w).ceil().max(0.0) as u32).min(source.0);
    let y1 = ((d.y + d.h).ceil().max(0.0) as u32).min(source.1);
    [x0, y0, x1.max(x0), y1.max(y0)]
}

/// Decodes one image's `yolov8_seg` output (`[4 + classes + masks, anchors]`, row-major)
/// with its prototypes: the detections, each with its mask. Nothing when the shapes do
/// not fit each other.
pub fn decode_yolov8_seg(
    output: &[f32],
    rows: usize,
    anchors: usize,
    protos: &Protos,
    config: &Yolov8Config,
    frame: &Frame,
    format: MaskFormat,
) -> Vec<(Detection, Mask)> {
    let m = protos.masks;
    let plane = protos.height * protos.width;
    if m == 0 || rows <= 4 + m || protos.data.len() < m * plane || plane == 0 {
        return Vec::new();
    }
    let classes = rows - 4 - m;
    detect(
        output,
        rows,
        anchors,
        classes,
        config,
        &frame.letterbox,
        frame.source,
    )
    .into_iter()
    .map(|(d, a)| {
        let coefs: Vec<f32> = (0..m)
            .map(|k| output[(4 + classes + k) * anchors + a])
            .collect();
        let mask = instance_mask(&coefs, protos, &d, frame, format);
        (d, mask)
    })
    .collect()
}

/// The mask of one detection: `coefs · protos` sampled bilinearly at each pixel centre
/// of its box, set where above 0 and the centre inside the (unrounded) box.
fn instance_mask(
    coefs: &[f32],
    protos: &Protos,
    d: &Detection,
    frame: &Frame,
    format: MaskFormat,
) -> Mask {
    let [x0, y0, x1, y1] = pixel_box(d, frame.source);
    let (pw, ph) = (protos.width, protos.height);
    let plane = pw * ph;
    // The prototype cells the box covers (centres at i + 0.5), one more on each side.
    let (u0, v0) = frame.map_point(x0 as f32, y0 as f32, pw, ph);
    let (u1, v1) = frame.map_point(x1 as f32, y1 as f32, pw, ph);
    let grid = |lo: f32, hi: f32, n: usize| {
        let a = ((lo - 0.5).floor().max(0.0) as usize).min(n - 1);
        let b = ((hi - 0.5).ceil().max(0.0) as usize).min(n - 1);
        (a, b.max(a))
    };
    let (gu0, gu1) = grid(u0, u1, pw);
    let (gv0, gv1) = grid(v0, v1, ph);
    let gw = gu1 - gu0 + 1;
    let mut logits = vec![0f32; gw * (gv1 - gv0 + 1)];
    for v in gv0..=gv1 {
        for u in gu0..=gu1 {
            let i = v * pw + u;
            logits[(v - gv0) * gw + (u - gu0)] = coefs
                .iter()
                .enumerate()
                .map(|(k, c)| c * protos.data[k * plane + i])
                .sum();
        }
    }
    let at = |u: usize, v: usize| logits[(v - gv0) * gw + (u - gu0)];
    let sample = |u: f32, v: f32| {
        // Cell centres are at i + 0.5; outside the grid the edge value holds.
        let u = (u - 0.5).clamp(gu0 as f32, gu1 as f32);
        let v = (v - 0.5).clamp(gv0 as f32, gv1 as f32);
        let (iu, iv) = (u.floor() as usize, v.floor() as usize);
        let (ju, jv) = ((iu + 1).min(gu1), (iv + 1).min(gv1));
        let (fu, fv) = (u - iu as f32, v - iv as f32);
        let top = at(iu, iv) * (1.0 - fu) + at(ju, iv) * fu;
        let bottom = at(iu, jv) * (1.0 - fu) + at(ju, jv) * fu;
        top * (1.0 - fv) + bottom * fv
    };
    let (width, height) = (x1 - x0, y1 - y0);
    let mut data = vec![0u8; (width * height) as usize];
    for row in 0..height {
        let cy = (y0 + row) as f32 + 0.5;
        if cy < d.y || cy >= d.y + d.h {
            continue;
        }
        for col in 0..width {
            let cx = (x0 + col) as f32 + 0.5;
            if cx < d.x || cx >= d.x + d.w {
                continue;
            }
            let (u, v) = frame.map_point(cx, cy, pw, ph);
            if sample(u, v) > 0.0 {
                data[(row * width + col) as usize] = 1;
            }
        }
    }
    Mask {
        x: x0,
        y: y0,
        width,
        height,
        data,
        format,
    }
}

/// One class found by `semantic`: its id, the mean probability of its map cells, and
/// its pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub class_id: usize,
    pub confidence: f32,
    pub mask: Mask,
}

/// Decodes one image's class map (`[classes, height, width]`, row-major): each class
/// that is the best of at least `min_area` cells and covers a source pixel. Scores are
/// probabilities when every cell's look like them (none negative, a sum within 1% of 1),
/// else logits: softmax is applied at each cell.
pub fn decode_semantic(
    map: &[f32],
    classes: usize,
    height: usize,
    width: usize,
    min_area: usize,
    frame: &Frame,
    format: MaskFormat,
) -> Vec<Region> {
    let plane = height * width;
    if classes == 0 || plane == 0 || map.len() < classes * plane {
        return Vec::new();
    }
    // Probabilities when every cell's scores are (none negative, summing to 1 within
    // 1%); else logits, softmaxed at each cell.
    let cell = |i: usize| (0..classes).map(move |c| map[c * plane + i]);
    let probabilities = (0..plane).all(|i| {
        let (total, negative) = cell(i).fold((0.0f32, false), |(t, n), s| (t + s, n || s < 0.0));
        !negative && (total - 1.0).abs() <= 0.01
    });
    let mut best = vec![0u16; plane];
    let mut cells = vec![0usize; classes];
    let mut sums = vec![0f64; classes];
    for (i, best) in best.iter_mut().enumerate() {
        let (mut top, mut top_score) = (0, f32::NEG_INFINITY);
        for (c, s) in cell(i).enumerate() {
            if s > top_score {
                (top, top_score) = (c, s);
            }
        }
        let probability = if probabilities {
            top_score
        } else {
            1.0 / cell(i).map(|s| (s - top_score).exp()).sum::<f32>()
        };
        *best = top as u16;
        cells[top] += 1;
        sums[top] += f64::from(probability);
    }
    // Each source pixel takes the class of the cell its centre falls in.
    let (sw, sh) = (frame.source.0 as usize, frame.source.1 as usize);
    let mut label = vec![u16::MAX; sw * sh];
    for y in 0..sh {
        for x in 0..sw {
            let (u, v) = frame.map_point(x as f32 + 0.5, y as f32 + 0.5, width, height);
            if u >= 0.0 && v >= 0.0 && (u as usize) < width && (v as usize) < height {
                label[y * sw + x] = best[v as usize * width + u as usize];
            }
        }
    }
    let mut regions = Vec::new();
    for class in 0..classes {
        if cells[class] < min_area.max(1) {
            continue;
        }
        let c = class as u16;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..sh {
            for x in 0..sw {
                if label[y * sw + x] == c {
                    (x0, y0) = (x0.min(x), y0.min(y));
                    (x1, y1) = (x1.max(x + 1), y1.max(y + 1));
                }
            }
        }
        if x0 >= x1 || y0 >= y1 {
            continue;
        }
        let (w, h) = (x1 - x0, y1 - y0);
        let mut data = vec![0u8; w * h];
        for row in 0..h {
            for col in 0..w {
                data[row * w + col] = u8::from(label[(y0 + row) * sw + x0 + col] == c);
            }
        }
        regions.push(Region {
            class_id: class,
            confidence: (sums[class] / cells[class] as f64) as f32,
            mask: Mask {
                x: x0 as u32,
                y: y0 as u32,
                width: w as u32,
                height: h as u32,
                data,
                format,
            },
        });
    }
    regions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::preprocess::Resize;

    fn frame(source: (u32, u32), input: (u32, u32), resize: Resize) -> Frame {
        Frame {
            letterbox: Letterbox::new(source, input, resize),
            source,
            input,
        }
    }

    #[test]
    fn a_prototype_square_becomes_the_mask_inside_the_box() {
        // 64x64 input, 16x16 prototypes; one prototype is +1 on cells 4..12 (input
        // 16..48), -1 elsewhere; the detection's box is input 8..40 (wider on the left).
        let (pw, ph) = (16, 16);
        let mut proto = vec![-1.0f32; pw * ph];
        for v in 4..12 {
            for u in 4..12 {
                proto[v * pw + u] = 1.0;
            }
        }
        let protos = Protos {
            data: &proto,
            masks: 1,
            height: ph,
            width: pw,
        };
        // rows: 4 box + 1 class + 1 coefficient; 8 anchors, one scoring.
        let anchors = 8;
        let mut out = vec![0.0f32; 6 * anchors];
        for (r, v) in [24.0, 24.0, 32.0, 32.0, 0.9, 2.0].iter().enumerate() {
            out[r * anchors + 3] = *v;
        }
        let config = Yolov8Config {
            confidence: 0.25,
            iou: 0.45,
            max: 10,
        };
        let f = frame((64, 64), (64, 64), Resize::Letterbox);
        let found = decode_yolov8_seg(&out, 6, anchors, &protos, &config, &f, MaskFormat::Rle);
        assert_eq!(found.len(), 1);
        let (d, m) = &found[0];
        assert_eq!((d.x, d.y, d.w, d.h), (8.0, 8.0, 32.0, 32.0));
        assert_eq!((m.x, m.y, m.width, m.height), (8, 8, 32, 32));
        // Inside the box, the square 16..40 (cut by the box at 40) is set: exactly along
        // a row and a column through it; bilinear sampling only rounds its corner.
        for i in 0..32 {
            let want = (16..40).contains(&(i + 8));
            assert_eq!(m.get(i, 16), want, "pixel {},24", i + 8);
            assert_eq!(m.get(16, i), want, "pixel 24,{}", i + 8);
        }
        let area = m.area();
        assert!(
            (570..=576).contains(&area),
            "{area} pixels of the 24x24 square"
        );
        assert!(!m.get(0, 0) && m.get(31, 31));
    }

    #[test]
    fn semantic_regions_map_back_through_the_letterbox() {
        // 2 classes on a 4x4 map of a 64x64 input; the source is 64x32, letterboxed with
        // 16 rows of padding above and below (map rows 1 and 2 are the image).
        let (mw, mh) = (4, 4);
        let mut map = vec![0.0f32; 2 * mw * mh];
        map[..mw * mh].fill(1.0); // class 0 everywhere...
        map[mw * mh + mw + 2] = 2.0; // ...but class 1 at row 1, column 2
        let f = frame((64, 32), (64, 64), Resize::Letterbox);
        let regions = decode_semantic(&map, 2, mh, mw, 1, &f, MaskFormat::Rle);
        assert_eq!(regions.len(), 2);
        let one = &regions[1];
        assert_eq!(one.class_id, 1);
        assert_eq!(
            (one.mask.x, one.mask.y, one.mask.width, one.mask.height),
            (32, 0, 16, 16)
        );
        assert_eq!(one.mask.area(), 256);
        let p = 1.0 / (1.0 + (-1.0f32).exp());
        assert!((one.confidence - p).abs() < 1e-6, "softmax of logits");
        assert_eq!(regions[0].mask.area(), 64 * 32 - 256);
        assert!(decode_semantic(&map, 2, mh, mw, 2, &f, MaskFormat::Rle).len() == 1);
    }
}
