//! The `detectnet_v2` decoder: NVIDIA TAO's DetectNet_v2 grid detectors (TrafficCamNet,
//! PeopleNet), a coverage grid `[1, classes, H, W]` and a boxes grid `[1, 4 × classes, H, W]`.
//!
//! As DeepStream's own DetectNet_v2 parsing (nvinfer's `parseBoundingBox`): the input is
//! cut into cells of `stride = ⌈input / grid⌉` pixels, cell centres `column × stride + 0.5`
//! divided by `bbox-norm` (35); a cell whose coverage for class `c` reaches `confidence` is
//! a box of that class, its corners the grid's four values for `c` at the cell:
//! `x1 = (out - centre_x) × -35`, `y1 = (out - centre_y) × -35`, `x2 = (out + centre_x) ×
//! 35`, `y2 = (out + centre_y) × 35`, clipped to `[0, input - 1]`, one pixel added to the
//! far corner (DeepStream's size is `x2 - left + 1`). Then `cluster-mode=2`: greedy
//! per-class NMS at `iou`. Boxes go back through the resize (a stretch by default) and are
//! clipped to the frame, at most `max`, best first.

use super::boxes::{Detection, finish};
use crate::elements::infer::decoders::{Decode, Found, Outputs, shape_error};
use crate::engine::OutputTensor;
use crate::engine::preprocess::Letterbox;

/// DeepStream's `bbox-norm` for DetectNet_v2, both axes.
const BBOX_NORM: f32 = 35.0;
/// DeepStream's offset of a cell's centre from its corner, in pixels.
const CENTRE_OFFSET: f32 = 0.5;

/// The `detectnet_v2(confidence:, iou:, max:)` decoder's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectnetV2Config {
    /// Keep cells whose coverage is at least this.
    pub confidence: f32,
    /// NMS drops a box overlapping a better box of its class by more than this IoU.
    pub iou: f32,
    /// At most this many detections per image.
    pub max: usize,
}

/// One image's grids: `coverage` `[classes, rows, columns]`, `boxes` `[4 × classes, rows,
/// columns]`, both row-major.
pub struct Grids<'a> {
    pub coverage: &'a [f32],
    pub boxes: &'a [f32],
    pub classes: usize,
    pub rows: usize,
    pub columns: usize,
}

/// Decodes one image's grids for a model input of `input` (width, height) → detections
/// in source pixels, by confidence, descending. Grids too short for their sizes decode to
/// nothing.
pub fn decode_detectnet_v2(
    grids: &Grids,
    config: &DetectnetV2Config,
    input: (u32, u32),
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Vec<Detection> {
    let cells = grids.rows * grids.columns;
    if grids.coverage.len() < grids.classes * cells || grids.boxes.len() < 4 * grids.classes * cells
    {
        return Vec::new();
    }
    let stride_x = input.0.div_ceil(grids.columns.max(1) as u32) as f32;
    let stride_y = input.1.div_ceil(grids.rows.max(1) as u32) as f32;
    let (last_x, last_y) = (input.0 as f32 - 1.0, input.1 as f32 - 1.0);
    let mut candidates = Vec::new();
    for c in 0..grids.classes {
        let corners = &grids.boxes[4 * c * cells..4 * (c + 1) * cells];
        for row in 0..grids.rows {
            let centre_y = (row as f32 * stride_y + CENTRE_OFFSET) / BBOX_NORM;
            for column in 0..grids.columns {
                let i = row * grids.columns + column;
                let coverage = grids.coverage[c * cells + i];
                // NaN coverage is never kept.
                if coverage.is_nan() || coverage < config.confidence {
                    continue;
                }
                let centre_x = (column as f32 * stride_x + CENTRE_OFFSET) / BBOX_NORM;
                let x1 = (corners[i] - centre_x) * -BBOX_NORM;
                let y1 = (corners[cells + i] - centre_y) * -BBOX_NORM;
                let x2 = (corners[2 * cells + i] + centre_x) * BBOX_NORM;
                let y2 = (corners[3 * cells + i] + centre_y) * BBOX_NORM;
                if [x1, y1, x2, y2].iter().any(|v| v.is_nan()) {
                    continue;
                }
                let left = x1.clamp(0.0, last_x);
                let top = y1.clamp(0.0, last_y);
                let right = x2.clamp(0.0, last_x) + 1.0;
                let bottom = y2.clamp(0.0, last_y) + 1.0;
                candidates.push(Detection::from_corners(
                    c,
                    coverage,
                    letterbox.to_source(left, top),
                    letterbox.to_source(right, bottom),
                ));
            }
        }
    }
    finish(candidates, Some(config.iou), config.max, source)
}

/// `detectnet_v2` in `vplinfer`: the coverage (the spec's `output`) and the boxes grid.
#[derive(Debug)]
pub struct DetectnetV2 {
    pub config: DetectnetV2Config,
    /// The boxes grid output.
    pub boxes: String,
}

impl DetectnetV2 {
    /// The spec's `detectnet_v2 { confidence, iou, max, boxes }` (`max` at least 1).
    pub fn new(confidence: f64, iou: f64, max: i64, boxes: &str) -> Result<DetectnetV2, String> {
        if boxes.is_empty() {
            return Err("detectnet_v2 reads a coverage grid and a boxes grid: the spec names no boxes output".into());
        }
        Ok(DetectnetV2 {
            config: DetectnetV2Config {
                confidence: confidence as f32,
                iou: iou as f32,
                max: usize::try_from(max).unwrap_or(0).max(1),
            },
            boxes: boxes.to_string(),
        })
    }
}

impl Decode for DetectnetV2 {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let coverage = image.output()?;
        let boxes: &OutputTensor = image
            .tensors
            .iter()
            .find(|t| t.name == self.boxes)
            .ok_or_else(|| format!("the model has no output `{}`", self.boxes))?;
        let [1, classes, rows, columns] = coverage.shape[..] else {
            return Err(shape_error(
                "detectnet_v2",
                "[batch, classes, H, W]",
                coverage,
            ));
        };
        if boxes.shape[..] != [1, 4 * classes, rows, columns] {
            return Err(shape_error(
                "detectnet_v2",
                &format!("[batch, {}, {rows}, {columns}]", 4 * classes),
                boxes,
            ));
        }
        let grids = Grids {
            coverage: &coverage.data,
            boxes: &boxes.data,
            classes,
            rows,
            columns,
        };
        let p = image.placement;
        let found =
            decode_detectnet_v2(&grids, &self.config, image.input(), &p.letterbox, p.source);
        Ok(Found {
            objects: found.iter().map(|d| image.object(d)).collect(),
            ..Found::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grids of `classes` over `rows` × `columns` cells, each cell given (class, row,
    /// column, coverage, box corners in input pixels) holding the values DeepStream
    /// decodes back to that box.
    fn grids(
        classes: usize,
        rows: usize,
        columns: usize,
        input: (u32, u32),
        cells: &[(usize, usize, usize, f32, [f32; 4])],
    ) -> (Vec<f32>, Vec<f32>) {
        let n = rows * columns;
        let mut coverage = vec![0.0; classes * n];
        let mut boxes = vec![0.0; 4 * classes * n];
        let stride = (
            input.0.div_ceil(columns as u32) as f32,
            input.1.div_ceil(rows as u32) as f32,
        );
        for (c, row, column, cov, [x1, y1, x2, y2]) in cells {
            let i = row * columns + column;
            let cx = (*column as f32 * stride.0 + 0.5) / 35.0;
            let cy = (*row as f32 * stride.1 + 0.5) / 35.0;
            coverage[c * n + i] = *cov;
            let at = 4 * c * n;
            boxes[at + i] = cx - x1 / 35.0;
            boxes[at + n + i] = cy - y1 / 35.0;
            boxes[at + 2 * n + i] = x2 / 35.0 - cx;
            boxes[at + 3 * n + i] = y2 / 35.0 - cy;
        }
        (coverage, boxes)
    }

    fn decode(coverage: &[f32], boxes: &[f32], max: usize) -> Vec<(usize, f32, [f32; 4])> {
        let grids = Grids {
            coverage,
            boxes,
            classes: 2,
            rows: 4,
            columns: 4,
        };
        let config = DetectnetV2Config {
            confidence: 0.2,
            iou: 0.5,
            max,
        };
        decode_detectnet_v2(&grids, &config, (64, 64), &Letterbox::IDENTITY, (64, 64))
            .iter()
            .map(|d| (d.class_id, d.confidence, [d.x, d.y, d.x + d.w, d.y + d.h]))
            .collect()
    }

    fn close(found: &[(usize, f32, [f32; 4])], want: &[(usize, f32, [f32; 4])]) {
        assert_eq!(found.len(), want.len(), "{found:?}");
        for ((c, s, b), (wc, ws, wb)) in found.iter().zip(want) {
            assert_eq!((c, s), (wc, ws), "{found:?}");
            for (v, w) in b.iter().zip(wb) {
                assert!((v - w).abs() < 1e-3, "{b:?} for {wb:?}");
            }
        }
    }

    #[test]
    fn cells_above_the_coverage_are_boxes_clipped_and_suppressed_per_class() {
        let (coverage, boxes) = grids(
            2,
            4,
            4,
            (64, 64),
            &[
                (0, 1, 1, 0.9, [10.0, 12.0, 30.0, 40.0]),
                // Overlaps the first, same class: suppressed.
                (0, 1, 2, 0.8, [11.0, 13.0, 31.0, 41.0]),
                // The same box, the other class: kept.
                (1, 1, 2, 0.7, [11.0, 13.0, 31.0, 41.0]),
                // Past the input: clipped to its last pixel, one pixel added.
                (1, 3, 3, 0.6, [50.0, 40.0, 90.0, 70.0]),
                // Below the coverage: dropped.
                (0, 0, 0, 0.1, [0.0, 0.0, 8.0, 8.0]),
            ],
        );
        close(
            &decode(&coverage, &boxes, 10),
            &[
                (0, 0.9, [10.0, 12.0, 31.0, 41.0]),
                (1, 0.7, [11.0, 13.0, 32.0, 42.0]),
                (1, 0.6, [50.0, 40.0, 64.0, 64.0]),
            ],
        );
        close(
            &decode(&coverage, &boxes, 1),
            &[(0, 0.9, [10.0, 12.0, 31.0, 41.0])],
        );
    }

    #[test]
    fn short_grids_decode_to_nothing() {
        assert_eq!(decode(&[0.9; 8], &[0.0; 8], 10), Vec::new());
    }
}
