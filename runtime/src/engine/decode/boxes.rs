//! What the box decoders `yolov5`, `detr` and `ssd` share: rows of an output tensor read
//! with a stride, how class scores are made from a row (sigmoid, softmax, as they are),
//! and boxes in model-input pixels → detections in the source frame.

use super::{Detection, clamp, nms};
use crate::engine::preprocess::Letterbox;

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
    let (x0, y0) = letterbox.to_source(cx - w / 2.0, cy - h / 2.0);
    let (x1, y1) = letterbox.to_source(cx + w / 2.0, cy + h / 2.0);
    Detection {
        class_id,
        confidence,
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
    }
}

/// Candidates → per-class NMS (when `iou` is given), clipped to the frame, at most `max`,
/// by confidence descending.
pub fn finish(
    mut candidates: Vec<Detection>,
    iou: Option<f32>,
    max: usize,
    source: (u32, u32),
) -> Vec<Detection> {
    let kept = match iou {
        Some(iou) => nms(candidates, iou),
        None => {
            candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
            candidates
        }
    };
    let (width, height) = (source.0 as f32, source.1 as f32);
    kept.into_iter()
        .filter_map(|d| clamp(d, width, height))
        .take(max)
        .collect()
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
}
