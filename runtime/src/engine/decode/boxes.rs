//! What every box decoder shares (`yolov8`, `yolov5`, `detr`, `ssd`, and the boxes of
//! `yolov8_seg`, `yolov8_pose` and `text_boxes`): the detection, rows of an output tensor
//! read with a stride, how class scores are made from a row (sigmoid, softmax, as they
//! are), boxes in model-input pixels → detections in the source frame, and per-class NMS.
//!
//! The definitions match Ultralytics' `non_max_suppression` + `scale_boxes` and
//! `scripts/reference_detect.py`: greedy per-class NMS on the unclipped boxes, then boxes
//! are clipped to the frame.

use crate::engine::preprocess::Letterbox;

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

impl Detection {
    /// The box from its top-left corner `(x0, y0)` to its bottom-right corner `(x1, y1)`.
    pub fn from_corners(
        class_id: usize,
        confidence: f32,
        (x0, y0): (f32, f32),
        (x1, y1): (f32, f32),
    ) -> Detection {
        Detection {
            class_id,
            confidence,
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }
}

/// A detection and the output row (anchor, query) it was read from, so that a decoder
/// can read that row's other values (mask coefficients, keypoints).
pub type Anchored = (Detection, usize);

/// Row `i` of an output is `data[i * stride + offset..][..len]`: `[1, rows, stride]`
/// with the part a decoder reads at `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub data: &'a [f32],
    pub stride: usize,
    pub offset: usize,
    pub len: usize,
}

impl<'a> Rows<'a> {
    /// All of every row of a `[.., rows, stride]` output.
    pub fn whole(data: &'a [f32], stride: usize) -> Rows<'a> {
        Rows {
            data,
            stride,
            offset: 0,
            len: stride,
        }
    }

    /// How many whole rows the data holds.
    pub fn count(&self) -> usize {
        self.data.len().checked_div(self.stride).unwrap_or(0)
    }

    pub fn row(&self, i: usize) -> Option<&'a [f32]> {
        let start = i.checked_mul(self.stride)?.checked_add(self.offset)?;
        self.data.get(start..start.checked_add(self.len)?)
    }
}

/// How class scores are made from a model's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `1 / (1 + e^-x)` of each.
    Sigmoid,
    /// Over the row; with `no_object`, the last class is "no object" and is dropped after.
    Softmax { no_object: bool },
    /// The numbers are probabilities already.
    None,
}

/// The best class of a row and its score; `None` for an empty row.
pub fn best_class(row: &[f32], activation: Activation) -> Option<(usize, f32)> {
    let values: Vec<f32> = match activation {
        Activation::Sigmoid => row.iter().map(|v| sigmoid(*v)).collect(),
        Activation::None => row.to_vec(),
        Activation::Softmax { no_object } => {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
            let total: f32 = exp.iter().sum();
            let keep = if no_object {
                row.len().saturating_sub(1)
            } else {
                row.len()
            };
            exp[..keep].iter().map(|e| e / total).collect()
        }
    };
    values
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .fold(None, |best: Option<(usize, f32)>, (c, v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((c, v)),
        })
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// A box given by its centre and size in model-input pixels, in source-frame pixels.
pub fn to_source(
    class_id: usize,
    confidence: f32,
    (cx, cy, w, h): (f32, f32, f32, f32),
    letterbox: &Letterbox,
) -> Detection {
    let top_left = letterbox.to_source(cx - w / 2.0, cy - h / 2.0);
    let bottom_right = letterbox.to_source(cx + w / 2.0, cy + h / 2.0);
    Detection::from_corners(class_id, confidence, top_left, bottom_right)
}

/// The candidates of the rows of `scores` whose best class (by `activation`) scores at
/// least `confidence`, each with its row and the box `centre` gives for that row (centre
/// x, centre y, width, height in model-input pixels); the first row without one ends the
/// candidates.
pub fn scored_candidates(
    scores: Rows,
    activation: Activation,
    confidence: f32,
    letterbox: &Letterbox,
    centre: impl Fn(usize) -> Option<(f32, f32, f32, f32)>,
) -> Vec<Detection> {
    let mut candidates = Vec::new();
    for i in 0..scores.count() {
        let (Some(b), Some(s)) = (centre(i), scores.row(i)) else {
            break;
        };
        let Some((class_id, score)) = best_class(s, activation) else {
            continue;
        };
        if score < confidence {
            continue;
        }
        candidates.push(to_source(class_id, score, b, letterbox));
    }
    candidates
}

/// Candidates → per-class NMS (when `iou` is given), clipped to the frame, at most `max`,
/// by confidence descending.
pub fn finish(
    candidates: Vec<Detection>,
    iou: Option<f32>,
    max: usize,
    source: (u32, u32),
) -> Vec<Detection> {
    let anchored = candidates.into_iter().map(|d| (d, 0)).collect();
    finish_anchored(anchored, iou, max, source)
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

/// [`finish`] for candidates that keep their row.
pub fn finish_anchored(
    mut candidates: Vec<Anchored>,
    iou: Option<f32>,
    max: usize,
    source: (u32, u32),
) -> Vec<Anchored> {
    let kept = match iou {
        Some(iou) => nms_anchored(candidates, iou),
        None => {
            candidates.sort_by(|a, b| b.0.confidence.total_cmp(&a.0.confidence));
            candidates
        }
    };
    let (width, height) = (source.0 as f32, source.1 as f32);
    kept.into_iter()
        .filter_map(|(d, a)| Some((clamp(d, width, height)?, a)))
        .take(max)
        .collect()
}

/// `d` clipped to the `width` x `height` frame; `None` when nothing of it is inside.
pub(crate) fn clamp(d: Detection, width: f32, height: f32) -> Option<Detection> {
    let top_left = (d.x.clamp(0.0, width), d.y.clamp(0.0, height));
    let bottom_right = (
        (d.x + d.w).clamp(0.0, width),
        (d.y + d.h).clamp(0.0, height),
    );
    (bottom_right.0 > top_left.0 && bottom_right.1 > top_left.1)
        .then(|| Detection::from_corners(d.class_id, d.confidence, top_left, bottom_right))
}

/// Greedy non-maximum suppression within each class: the most confident box of a class
/// stays, every box of the same class overlapping it by IoU > `iou` goes; repeat.
/// Returns the kept boxes by confidence, descending (ties keep their input order).
pub fn nms(detections: Vec<Detection>, iou: f32) -> Vec<Detection> {
    let anchored = detections.into_iter().map(|d| (d, 0)).collect();
    nms_anchored(anchored, iou)
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

/// [`nms`] for candidates that keep their row.
fn nms_anchored(mut candidates: Vec<Anchored>, iou: f32) -> Vec<Anchored> {
    candidates.sort_by(|a, b| b.0.confidence.total_cmp(&a.0.confidence));
    let mut kept: Vec<Anchored> = Vec::new();
    for (d, a) in candidates {
        let suppressed = kept
            .iter()
            .any(|(k, _)| k.class_id == d.class_id && self::iou(k, &d) > iou);
        if !suppressed {
            kept.push((d, a));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_their_part_and_stop_at_the_end() {
        let data = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let rows = Rows {
            data: &data,
            stride: 3,
            offset: 1,
            len: 2,
        };
        assert_eq!(rows.row(0), Some(&[1.0, 2.0][..]));
        assert_eq!(rows.row(1), Some(&[4.0, 5.0][..]));
        assert_eq!(rows.row(2), None);
        assert_eq!(rows.count(), 2);
    }

    #[test]
    fn best_class_by_each_activation() {
        assert_eq!(best_class(&[0.2, 0.7], Activation::None), Some((1, 0.7)));
        let (c, s) = best_class(&[0.0, 2.0], Activation::Sigmoid).unwrap();
        assert_eq!(c, 1);
        assert!((s - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        // Softmax with "no object" last: [ln 1, ln 2, ln 5] → 1/8, 2/8, (5/8 dropped).
        let (c, s) = best_class(
            &[0.0, 2f32.ln(), 5f32.ln()],
            Activation::Softmax { no_object: true },
        )
        .unwrap();
        assert_eq!(c, 1);
        assert!((s - 0.25).abs() < 1e-6, "{s}");
        assert_eq!(best_class(&[], Activation::None), None);
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
}
