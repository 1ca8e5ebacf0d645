//! The `ds_yolo` decoder: DeepStream-Yolo's ONNX export (marcoslucianops/DeepStream-Yolo),
//! one output `[1, boxes, 6]` of boxes already decoded, each row x1, y1, x2, y2 in pixels
//! of the model input, the score and the class id.
//!
//! As DeepStream-Yolo's `NvDsInferParseYolo` (`nvdsparsebbox_Yolo.cpp`): a row scoring
//! below `confidence` (`pre-cluster-threshold`) is dropped; its corners are clipped to the
//! input and the box dropped when under a pixel wide or high. nvinfer then clusters with
//! `cluster-mode=2`: greedy per-class NMS at `iou` (`nms-iou-threshold`). Boxes are mapped
//! back through the letterbox and clipped to the frame, at most `max`, best first.

use super::boxes::{Detection, finish};
use crate::elements::infer::decoders::{Decode, Found, Outputs, shape_error};
use crate::engine::preprocess::Letterbox;

/// The `ds_yolo(confidence:, iou:, max:)` decoder's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsYoloConfig {
    /// Keep rows scoring at least this.
    pub confidence: f32,
    /// NMS drops a box overlapping a better box of its class by more than this IoU.
    pub iou: f32,
    /// At most this many detections per image.
    pub max: usize,
}

/// Decodes one image's rows (`output`, 6 values each, row-major) for a model input of
/// `input` (width, height) → detections in source pixels, by confidence, descending.
pub fn decode_ds_yolo(
    output: &[f32],
    config: &DsYoloConfig,
    input: (u32, u32),
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Vec<Detection> {
    let (width, height) = (input.0 as f32, input.1 as f32);
    let mut candidates = Vec::new();
    for row in output.chunks_exact(6) {
        let (score, class) = (row[4], row[5]);
        // NaN scores are never kept; nor are class ids no class has.
        if score.is_nan() || score < config.confidence || !class.is_finite() || class < 0.0 {
            continue;
        }
        if row[..4].iter().any(|v| v.is_nan()) {
            continue;
        }
        let x1 = row[0].clamp(0.0, width);
        let y1 = row[1].clamp(0.0, height);
        let x2 = row[2].clamp(0.0, width);
        let y2 = row[3].clamp(0.0, height);
        if x2 - x1 < 1.0 || y2 - y1 < 1.0 {
            continue;
        }
        let top_left = letterbox.to_source(x1, y1);
        let bottom_right = letterbox.to_source(x2, y2);
        // The class id is a float in the output; DeepStream-Yolo truncates it.
        let class_id = class as usize;
        candidates.push(Detection::from_corners(
            class_id,
            score,
            top_left,
            bottom_right,
        ));
    }
    finish(candidates, Some(config.iou), config.max, source)
}

/// `ds_yolo` in `vplinfer`: the one output `[1, boxes, 6]`.
#[derive(Debug)]
pub struct DsYolo(pub DsYoloConfig);

impl DsYolo {
    /// The spec's `ds_yolo { confidence, iou, max }` (`max` kept in range by the checker;
    /// at least 1).
    pub fn new(confidence: f64, iou: f64, max: i64) -> DsYolo {
        DsYolo(DsYoloConfig {
            confidence: confidence as f32,
            iou: iou as f32,
            max: usize::try_from(max).unwrap_or(0).max(1),
        })
    }
}

impl Decode for DsYolo {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, _, 6] = output.shape[..] else {
            return Err(shape_error("ds_yolo", "[batch, boxes, 6]", output));
        };
        let p = image.placement;
        let found = decode_ds_yolo(&output.data, &self.0, image.input(), &p.letterbox, p.source);
        Ok(Found {
            objects: found.iter().map(|d| image.object(d)).collect(),
            ..Found::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(confidence: f32, max: usize) -> DsYoloConfig {
        DsYoloConfig {
            confidence,
            iou: 0.45,
            max,
        }
    }

    fn corners(d: &Detection) -> (usize, f32, [f32; 4]) {
        (d.class_id, d.confidence, [d.x, d.y, d.x + d.w, d.y + d.h])
    }

    #[test]
    fn rows_are_thresholded_clipped_and_suppressed_per_class() {
        let rows = [
            [100.0, 150.0, 300.0, 400.0, 0.9, 0.0],
            // Overlaps the first, same class: suppressed.
            [110.0, 160.0, 310.0, 410.0, 0.8, 0.0],
            // The same box, another class: kept.
            [110.0, 160.0, 310.0, 410.0, 0.7, 1.0],
            // Beyond the input's right edge: clipped to it.
            [500.0, 50.0, 700.0, 200.0, 0.6, 2.0],
            // Half a pixel wide once clipped: dropped.
            [300.0, 300.0, 300.5, 400.0, 0.95, 1.0],
            // Below the confidence: dropped.
            [50.0, 50.0, 150.0, 150.0, 0.1, 0.0],
            // A negative class id: dropped.
            [20.0, 20.0, 60.0, 60.0, 0.9, -1.0],
            // A corner that is no number: dropped.
            [f32::NAN, 20.0, 60.0, 60.0, 0.9, 0.0],
        ];
        let data: Vec<f32> = rows.iter().flatten().copied().collect();
        let found = decode_ds_yolo(
            &data,
            &config(0.25, 10),
            (640, 640),
            &Letterbox::IDENTITY,
            (640, 640),
        );
        let found: Vec<_> = found.iter().map(corners).collect();
        assert_eq!(
            found,
            vec![
                (0, 0.9, [100.0, 150.0, 300.0, 400.0]),
                (1, 0.7, [110.0, 160.0, 310.0, 410.0]),
                (2, 0.6, [500.0, 50.0, 640.0, 200.0]),
            ]
        );
    }

    #[test]
    fn boxes_go_back_through_the_letterbox_and_max_keeps_the_best() {
        // A 1280x720 frame letterboxed into 640x640: scale 0.5, 140 rows of padding above.
        let letterbox = Letterbox {
            scale_x: 0.5,
            scale_y: 0.5,
            pad_x: 0.0,
            pad_y: 140.0,
        };
        let data = [
            10.0, 150.0, 110.0, 250.0, 0.5, 3.0, //
            200.0, 300.0, 300.0, 400.0, 0.8, 3.0,
        ];
        let found = decode_ds_yolo(&data, &config(0.25, 1), (640, 640), &letterbox, (1280, 720));
        let found: Vec<_> = found.iter().map(corners).collect();
        assert_eq!(found, vec![(3, 0.8, [400.0, 320.0, 600.0, 520.0])]);
    }
}
