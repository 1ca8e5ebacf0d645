//! The `yolov8` decoder (`[4 + classes, anchors]` → detections in source-frame pixels), and
//! the detections of the YOLOv8 heads with more rows per anchor than boxes and class
//! scores (`yolov8_seg`'s mask coefficients, `yolov8_pose`'s keypoints), each with the
//! anchor it came from, so those decoders read that anchor's extra rows.
//!
//! Class = argmax of the class scores, greedy per-class NMS on the unclipped boxes, then
//! boxes are clipped to the frame (Ultralytics' `non_max_suppression` + `scale_boxes`,
//! `scripts/reference_detect.py`).

use super::boxes::{Anchored, Detection, finish_anchored, to_source};
use crate::engine::preprocess::Letterbox;

/// The `yolov8(confidence:, iou:, max:)` decoder's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Yolov8Config {
    /// Keep anchors whose best class score is at least this.
    pub confidence: f32,
    /// NMS drops a box overlapping a better box of its class by more than this IoU.
    pub iou: f32,
    /// At most this many detections per image.
    pub max: usize,
}

/// Decodes one image's YOLOv8 output: `output` is its `[4 + classes, anchors]` slice
/// (row `r`, anchor `a` at `r * anchors + a`); rows 0..4 are centre x, centre y, width,
/// height in model-input pixels.
///
/// Returns at most `config.max` detections, by confidence, descending. A slice too short
/// for `rows x anchors`, or with no class rows, decodes to nothing.
pub fn decode_yolov8(
    output: &[f32],
    rows: usize,
    anchors: usize,
    config: &Yolov8Config,
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Vec<Detection> {
    if rows < 5 {
        return Vec::new();
    }
    detect(output, rows, anchors, rows - 4, config, letterbox, source)
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

/// Detections in source pixels of `output` (`[rows, anchors]`, row-major), whose class
/// scores are rows `4..4 + classes`, by confidence, descending, at most `config.max`;
/// with each its anchor. Too short an output, or no class rows, decodes to nothing.
pub fn detect(
    output: &[f32],
    rows: usize,
    anchors: usize,
    classes: usize,
    config: &Yolov8Config,
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Vec<Anchored> {
    let needed = rows.checked_mul(anchors);
    if classes == 0 || rows < 4 + classes || needed.is_none_or(|n| output.len() < n) {
        return Vec::new();
    }
    let at = |r: usize, a: usize| output[r * anchors + a];
    let mut candidates = Vec::new();
    for a in 0..anchors {
        let (mut class_id, mut confidence) = (0, f32::NEG_INFINITY);
        for c in 0..classes {
            let score = at(4 + c, a);
            if score > confidence {
                (class_id, confidence) = (c, score);
            }
        }
        // NaN scores are never kept.
        if confidence.is_nan() || confidence < config.confidence {
            continue;
        }
        let centre = (at(0, a), at(1, a), at(2, a), at(3, a));
        candidates.push((to_source(class_id, confidence, centre, letterbox), a));
    }
    finish_anchored(candidates, Some(config.iou), config.max, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LETTERBOX: Letterbox = Letterbox::IDENTITY;

    /// A `[4 + classes, anchors]` output from (cx, cy, w, h, class scores) per anchor.
    fn output(anchors: &[(f32, f32, f32, f32, &[f32])]) -> (Vec<f32>, usize) {
        let rows = 4 + anchors[0].4.len();
        let n = anchors.len();
        let mut data = vec![0.0; rows * n];
        for (a, (cx, cy, w, h, scores)) in anchors.iter().enumerate() {
            for (r, v) in [*cx, *cy, *w, *h].iter().chain(scores.iter()).enumerate() {
                data[r * n + a] = *v;
            }
        }
        (data, rows)
    }

    fn config(confidence: f32, max: usize) -> Yolov8Config {
        Yolov8Config {
            confidence,
            iou: 0.5,
            max,
        }
    }

    #[test]
    fn overlapping_boxes_of_one_class_keep_the_best() {
        let (data, rows) = output(&[
            (100.0, 100.0, 50.0, 50.0, &[0.8, 0.1]),
            (104.0, 102.0, 50.0, 50.0, &[0.9, 0.1]),
        ]);
        let found = decode_yolov8(&data, rows, 2, &config(0.25, 10), &NO_LETTERBOX, (640, 640));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].confidence, 0.9);
        assert_eq!(
            (found[0].x, found[0].y, found[0].w, found[0].h),
            (79.0, 77.0, 50.0, 50.0)
        );
    }

    #[test]
    fn overlapping_boxes_of_two_classes_are_both_kept() {
        let (data, rows) = output(&[
            (100.0, 100.0, 50.0, 50.0, &[0.8, 0.1]),
            (104.0, 102.0, 50.0, 50.0, &[0.1, 0.7]),
        ]);
        let found = decode_yolov8(&data, rows, 2, &config(0.25, 10), &NO_LETTERBOX, (640, 640));
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].class_id, found[1].class_id), (0, 1));
    }

    #[test]
    fn confidence_threshold_and_max() {
        let boxes: Vec<(f32, f32, f32, f32, &[f32])> = vec![
            (50.0, 50.0, 20.0, 20.0, &[0.3]),
            (150.0, 50.0, 20.0, 20.0, &[0.6]),
            (250.0, 50.0, 20.0, 20.0, &[0.5]),
            (350.0, 50.0, 20.0, 20.0, &[0.9]),
        ];
        let (data, rows) = output(&boxes);
        let found = decode_yolov8(&data, rows, 4, &config(0.5, 10), &NO_LETTERBOX, (640, 640));
        let confidences: Vec<f32> = found.iter().map(|d| d.confidence).collect();
        assert_eq!(confidences, [0.9, 0.6, 0.5], "0.5 is kept, 0.3 is not");
        let found = decode_yolov8(&data, rows, 4, &config(0.5, 2), &NO_LETTERBOX, (640, 640));
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].confidence, 0.6);
    }

    #[test]
    fn boxes_map_back_through_the_letterbox_and_are_clamped() {
        // 768x576 letterboxed into 640x640: scale 5/6, 80 rows of padding on top.
        let letterbox = Letterbox::new(
            (768, 576),
            (640, 640),
            crate::engine::preprocess::Resize::Letterbox,
        );
        let (data, rows) = output(&[
            (320.0, 320.0, 100.0, 50.0, &[0.9]),
            (10.0, 100.0, 40.0, 30.0, &[0.8]),
        ]);
        let found = decode_yolov8(&data, rows, 2, &config(0.25, 10), &letterbox, (768, 576));
        let d = found[0];
        let near = |a: f32, b: f32| (a - b).abs() < 1e-3;
        assert!(near(d.x, 270.0 * 1.2) && near(d.y, 215.0 * 1.2), "{d:?}");
        assert!(near(d.w, 120.0) && near(d.h, 60.0), "{d:?}");
        // The second box starts left of the frame: clipped at x = 0.
        let e = found[1];
        assert!(
            near(e.x, 0.0) && near(e.w, 30.0 * 1.2) && near(e.y, 5.0 * 1.2),
            "{e:?}"
        );
    }

    #[test]
    fn boxes_in_the_padding_only_are_dropped_and_short_outputs_decode_to_nothing() {
        let letterbox = Letterbox::new(
            (768, 576),
            (640, 640),
            crate::engine::preprocess::Resize::Letterbox,
        );
        let (data, rows) = output(&[(320.0, 20.0, 100.0, 20.0, &[0.9])]);
        assert!(
            decode_yolov8(&data, rows, 1, &config(0.25, 10), &letterbox, (768, 576)).is_empty()
        );
        assert!(
            decode_yolov8(
                &data[..3],
                rows,
                1,
                &config(0.25, 10),
                &letterbox,
                (768, 576)
            )
            .is_empty()
        );
        assert!(decode_yolov8(&data, 4, 1, &config(0.25, 10), &letterbox, (768, 576)).is_empty());
        assert!(
            decode_yolov8(
                &data,
                usize::MAX,
                2,
                &config(0.25, 10),
                &letterbox,
                (768, 576)
            )
            .is_empty()
        );
    }
}
