//! YOLOv8 heads with more rows per anchor than boxes and class scores (`yolov8_seg`'s mask
//! coefficients, `yolov8_pose`'s keypoints): the detections as `decode::decode_yolov8`
//! finds them (argmax class, per-class greedy NMS on unclipped boxes, clipped to the
//! frame), each with the anchor it came from, so the decoder reads that anchor's extra rows.

use super::{Detection, Yolov8Config, iou};
use crate::engine::preprocess::Letterbox;

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
) -> Vec<(Detection, usize)> {
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
        let (cx, cy, w, h) = (at(0, a), at(1, a), at(2, a), at(3, a));
        let (x0, y0) = letterbox.to_source(cx - w / 2.0, cy - h / 2.0);
        let (x1, y1) = letterbox.to_source(cx + w / 2.0, cy + h / 2.0);
        let d = Detection {
            class_id,
            confidence,
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        };
        candidates.push((d, a));
    }
    candidates.sort_by(|a, b| b.0.confidence.total_cmp(&a.0.confidence));
    let mut kept: Vec<(Detection, usize)> = Vec::new();
    for (d, a) in candidates {
        let suppressed = kept
            .iter()
            .any(|(k, _)| k.class_id == d.class_id && iou(k, &d) > config.iou);
        if !suppressed {
            kept.push((d, a));
        }
    }
    let (width, height) = (source.0 as f32, source.1 as f32);
    kept.into_iter()
        .filter_map(|(d, a)| {
            let x0 = d.x.clamp(0.0, width);
            let y0 = d.y.clamp(0.0, height);
            let x1 = (d.x + d.w).clamp(0.0, width);
            let y1 = (d.y + d.h).clamp(0.0, height);
            (x1 > x0 && y1 > y0).then_some((
                Detection {
                    x: x0,
                    y: y0,
                    w: x1 - x0,
                    h: y1 - y0,
                    ..d
                },
                a,
            ))
        })
        .take(config.max)
        .collect()
}
