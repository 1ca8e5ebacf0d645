//! The `ssd` decoder: box offsets from anchors + class scores → detections, per-class
//! NMS. A box is relative to its anchor in pixels of the model input, as BlazeFace and
//! MediaPipe's `TensorsToDetectionsCalculator` (`reverse_output_order`, scales = the input
//! size) read it: `cx = anchor.cx + out[0] / width × anchor.w`,
//! `w = out[2] / width × anchor.w` (heights and y likewise), all fractions of the input.

use super::Detection;
use super::boxes::{Activation, Rows, finish, scored_candidates};
use crate::engine::preprocess::Letterbox;

/// The `ssd(...)` decoder's parameters, with its anchors made.
#[derive(Debug, Clone, PartialEq)]
pub struct SsdConfig {
    pub confidence: f32,
    pub iou: f32,
    pub max: usize,
    pub activation: Activation,
    /// Centre x, centre y, width, height: fractions of the input.
    pub anchors: Vec<[f32; 4]>,
}

/// Anchors of size 1 at the centre of each cell of one grid per stride, `per_cell` of
/// them a cell, cells row by row (MediaPipe's `SsdAnchorsCalculator` with
/// `fixed_anchor_size`, the BlazeFace settings). As many as the compiler's
/// `check::decoders::grid_anchors` counts.
pub fn generate_anchors(
    strides: &[u32],
    per_cell: &[u32],
    (width, height): (u32, u32),
) -> Vec<[f32; 4]> {
    let mut anchors = Vec::new();
    for (&s, &k) in strides.iter().zip(per_cell) {
        if s == 0 {
            continue;
        }
        let (gw, gh) = (width.div_ceil(s), height.div_ceil(s));
        for y in 0..gh {
            for x in 0..gw {
                let cx = (x as f32 + 0.5) / gw as f32;
                let cy = (y as f32 + 0.5) / gh as f32;
                for _ in 0..k {
                    anchors.push([cx, cy, 1.0, 1.0]);
                }
            }
        }
    }
    anchors
}

/// Decodes one image: `boxes` rows (4 values read) and `scores` rows, one per anchor.
pub fn decode_ssd(
    boxes: Rows,
    scores: Rows,
    config: &SsdConfig,
    input: (u32, u32),
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Result<Vec<Detection>, String> {
    let n = config.anchors.len();
    if boxes.count() != n || scores.count() != n {
        return Err(format!(
            "the ssd decoder has {n} anchors but the model gave {} boxes and {} rows of scores",
            boxes.count(),
            scores.count()
        ));
    }
    let (w, h) = (input.0 as f32, input.1 as f32);
    let centre = |i: usize| {
        let (b, a) = (boxes.row(i)?, config.anchors.get(i)?);
        let cx = a[0] + b[0] / w * a[2];
        let cy = a[1] + b[1] / h * a[3];
        let bw = b[2] / w * a[2];
        let bh = b[3] / h * a[3];
        Some((cx * w, cy * h, bw * w, bh * h))
    };
    let candidates = scored_candidates(
        scores,
        config.activation,
        config.confidence,
        letterbox,
        centre,
    );
    Ok(finish(candidates, Some(config.iou), config.max, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAME: Letterbox = Letterbox::IDENTITY;

    #[test]
    fn blazeface_anchors() {
        let anchors = generate_anchors(&[8, 16], &[2, 6], (128, 128));
        assert_eq!(anchors.len(), 896);
        assert_eq!(anchors[0], [0.5 / 16.0, 0.5 / 16.0, 1.0, 1.0]);
        assert_eq!(anchors[1], anchors[0]);
        assert_eq!(anchors[2][0], 1.5 / 16.0);
        assert_eq!(anchors[512], [0.5 / 8.0, 0.5 / 8.0, 1.0, 1.0]);
    }

    #[test]
    fn offsets_from_anchors_in_input_pixels() {
        let config = SsdConfig {
            confidence: 0.5,
            iou: 0.3,
            max: 10,
            activation: Activation::Sigmoid,
            anchors: vec![[0.25, 0.5, 1.0, 1.0], [0.75, 0.5, 0.5, 0.5]],
        };
        // 16 values a box (BlazeFace: 4 + 6 keypoints), the extra ignored.
        let mut boxes = vec![0.0f32; 32];
        boxes[..4].copy_from_slice(&[10.0, -20.0, 40.0, 30.0]);
        boxes[16..20].copy_from_slice(&[0.0, 0.0, 100.0, 100.0]);
        let scores = [2.0f32, 0.0];
        let found = decode_ssd(
            Rows {
                data: &boxes,
                stride: 16,
                offset: 0,
                len: 4,
            },
            Rows::whole(&scores, 1),
            &config,
            (200, 100),
            &SAME,
            (200, 100),
        )
        .unwrap();
        assert_eq!(found.len(), 2);
        let d = found[0];
        // Centre (50 + 10, 50 - 20), 40 x 30.
        let near = |a: f32, b: f32| (a - b).abs() < 1e-3;
        assert!(
            near(d.x, 40.0) && near(d.y, 15.0) && near(d.w, 40.0) && near(d.h, 30.0),
            "{d:?}"
        );
        assert!((d.confidence - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        // The second anchor is half the input: its offsets count half. Centre (150, 50),
        // 100 x 100 pixels of offsets → 50 x 50.
        let e = found[1];
        assert!(
            near(e.x, 125.0) && near(e.y, 25.0) && near(e.w, 50.0) && near(e.h, 50.0),
            "{e:?}"
        );
        let short = decode_ssd(
            Rows {
                data: &boxes[..16],
                stride: 16,
                offset: 0,
                len: 4,
            },
            Rows::whole(&scores, 1),
            &config,
            (200, 100),
            &SAME,
            (200, 100),
        );
        assert!(short.unwrap_err().contains("2 anchors"));
    }
}
