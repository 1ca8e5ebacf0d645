//! A model's output tensor → detections in source-frame pixels (YOLOv8) or the best
//! classes (classifiers).
//!
//! The definitions match Ultralytics' `non_max_suppression` + `scale_boxes` and
//! `scripts/reference_detect.py`: class = argmax of the class scores, greedy per-class NMS on
//! the unclipped boxes, then boxes are clipped to the frame.

use super::preprocess::Letterbox;

pub mod anchored;
pub mod boxes;
pub mod detr;
pub mod pose;
pub mod segment;
pub mod ssd;
pub mod text;
pub mod yolov5;

/// One detected object. Top-left corner and size, in pixels of the source frame,
/// clamped to the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub class_id: usize,
    pub confidence: f32,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

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
    let needed = rows.checked_mul(anchors);
    if rows < 5 || needed.is_none_or(|n| output.len() < n) {
        return Vec::new();
    }
    let row = |r: usize| &output[r * anchors..(r + 1) * anchors];
    let mut candidates = Vec::new();
    for a in 0..anchors {
        let (mut class_id, mut confidence) = (0, f32::NEG_INFINITY);
        for r in 4..rows {
            let score = output[r * anchors + a];
            if score > confidence {
                (class_id, confidence) = (r - 4, score);
            }
        }
        if confidence < config.confidence {
            continue;
        }
        let (cx, cy, w, h) = (row(0)[a], row(1)[a], row(2)[a], row(3)[a]);
        let (x0, y0) = letterbox.to_source(cx - w / 2.0, cy - h / 2.0);
        let (x1, y1) = letterbox.to_source(cx + w / 2.0, cy + h / 2.0);
        candidates.push(Detection {
            class_id,
            confidence,
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        });
    }
    let (width, height) = (source.0 as f32, source.1 as f32);
    nms(candidates, config.iou)
        .into_iter()
        .filter_map(|d| clamp(d, width, height))
        .take(config.max)
        .collect()
}

/// `d` clipped to the `width` x `height` frame; `None` when nothing of it is inside.
pub(crate) fn clamp(d: Detection, width: f32, height: f32) -> Option<Detection> {
    let x0 = d.x.clamp(0.0, width);
    let y0 = d.y.clamp(0.0, height);
    let x1 = (d.x + d.w).clamp(0.0, width);
    let y1 = (d.y + d.h).clamp(0.0, height);
    (x1 > x0 && y1 > y0).then_some(Detection {
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
        ..d
    })
}

/// Greedy non-maximum suppression within each class: the most confident box of a class
/// stays, every box of the same class overlapping it by IoU > `iou` goes; repeat.
/// Returns the kept boxes by confidence, descending (ties keep their input order).
pub fn nms(mut detections: Vec<Detection>, iou: f32) -> Vec<Detection> {
    detections.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut kept: Vec<Detection> = Vec::new();
    for d in detections {
        let suppressed = kept
            .iter()
            .any(|k| k.class_id == d.class_id && self::iou(k, &d) > iou);
        if !suppressed {
            kept.push(d);
        }
    }
    kept
}

/// Intersection over union of two boxes; 0 when they do not overlap or have no area.
pub fn iou(a: &Detection, b: &Detection) -> f32 {
    let w = ((a.x + a.w).min(b.x + b.w) - a.x.max(b.x)).max(0.0);
    let h = ((a.y + a.h).min(b.y + b.h) - a.y.max(b.y)).max(0.0);
    let inter = w * h;
    let union = a.w * a.h + b.w * b.h - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// The `top` best classes as (class id, probability), best first (ties: lower id first).
/// Scores that do not look like probabilities (a negative one, or a sum off 1 by more
/// than 1%) are logits: softmax is applied first.
pub fn classify(scores: &[f32], top: usize) -> Vec<(usize, f32)> {
    let sum: f32 = scores.iter().sum();
    let probabilities = scores.iter().all(|s| *s >= 0.0) && (sum - 1.0).abs() <= 0.01;
    let values: Vec<f32> = if probabilities {
        scores.to_vec()
    } else {
        softmax(scores)
    };
    let mut ranked: Vec<(usize, f32)> = values.into_iter().enumerate().collect();
    // NaN ranks last, whatever its sign.
    let key = |v: f32| if v.is_nan() { f32::NEG_INFINITY } else { v };
    ranked.sort_by(|a, b| key(b.1).total_cmp(&key(a.1)));
    ranked.truncate(top);
    ranked
}

fn softmax(scores: &[f32]) -> Vec<f32> {
    let max = scores
        .iter()
        .copied()
        .filter(|s| !s.is_nan())
        .fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f32 = exp.iter().filter(|e| !e.is_nan()).sum();
    exp.into_iter().map(|e| e / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LETTERBOX: Letterbox = Letterbox {
        scale_x: 1.0,
        scale_y: 1.0,
        pad_x: 0.0,
        pad_y: 0.0,
    };

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
            super::super::preprocess::Resize::Letterbox,
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
            super::super::preprocess::Resize::Letterbox,
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

    #[test]
    fn iou_of_known_boxes() {
        let a = Detection {
            class_id: 0,
            confidence: 1.0,
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        let b = Detection { x: 5.0, ..a };
        let far = Detection { x: 50.0, ..a };
        assert!((iou(&a, &b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(iou(&a, &far), 0.0);
        assert_eq!(iou(&a, &a), 1.0);
        let empty = Detection {
            w: 0.0,
            h: 0.0,
            ..a
        };
        assert_eq!(iou(&empty, &empty), 0.0);
    }

    #[test]
    fn classify_ranks_probabilities_and_softmaxes_logits() {
        assert_eq!(classify(&[0.1, 0.6, 0.3], 2), [(1, 0.6), (2, 0.3)]);
        let logits = classify(&[1.0, 3.0, -2.0, 2.0], 3);
        let ids: Vec<usize> = logits.iter().map(|c| c.0).collect();
        assert_eq!(ids, [1, 3, 0]);
        let total: f32 = [1.0f32, 3.0, -2.0, 2.0]
            .iter()
            .map(|s| (s - 3.0).exp())
            .sum();
        assert!((logits[0].1 - 1.0 / total).abs() < 1e-6);
        assert_eq!(classify(&[0.5, 0.5], 5).len(), 2);
        assert!(classify(&[], 3).is_empty());
        assert_eq!(classify(&[f32::NAN, 0.2, 0.1], 1)[0].0, 1);
    }
}
