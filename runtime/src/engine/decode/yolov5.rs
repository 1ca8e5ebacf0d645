//! The `yolov5` decoder: `[anchors, 5 + classes]` rows (YOLOv5, YOLOv7, YOLOX) →
//! detections in source-frame pixels. A row is centre x, centre y, width, height,
//! objectness, then one score per class; its confidence is objectness × the best class
//! score (Ultralytics YOLOv5's `non_max_suppression`, `multi_label=False`), then per-class
//! NMS as for yolov8. With grid strides (YOLOX exported with `decode_in_inference=False`)
//! the box is in grid cells: `x = (out + column) × stride`, `w = exp(out) × stride`.

use super::Detection;
use super::boxes::{Rows, finish, to_source};
use crate::engine::preprocess::Letterbox;

/// The `yolov5(confidence:, iou:, max:, grid:, strides:)` decoder's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Yolov5Config {
    pub confidence: f32,
    pub iou: f32,
    pub max: usize,
    /// YOLOX raw output: the grids' strides, in the order of the anchors; empty: decoded.
    pub grid: Vec<u32>,
}

/// The cell of anchor `index` on grids of `strides` over a `width` x `height` input:
/// (column, row, stride), rows of each grid in order (YOLOX's `meshgrid` order).
pub fn grid_cells(strides: &[u32], (width, height): (u32, u32)) -> Vec<(f32, f32, f32)> {
    let mut cells = Vec::new();
    for &s in strides.iter().filter(|s| **s > 0) {
        let (gw, gh) = (width.div_ceil(s), height.div_ceil(s));
        for y in 0..gh {
            for x in 0..gw {
                cells.push((x as f32, y as f32, s as f32));
            }
        }
    }
    cells
}

/// Decodes one image's output: `rows` of `5 + classes` values. `input` is the model's
/// input size (for the grid). Errors when a grid is asked for and the rows are not one
/// per cell.
pub fn decode_yolov5(
    rows: Rows,
    config: &Yolov5Config,
    input: (u32, u32),
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Result<Vec<Detection>, String> {
    let count = rows.count();
    let cells = if config.grid.is_empty() {
        None
    } else {
        let cells = grid_cells(&config.grid, input);
        if cells.len() != count {
            return Err(format!(
                "the yolov5 decoder's grids (strides {:?} over {}x{}) have {} cells but the output has {count} anchors",
                config.grid,
                input.0,
                input.1,
                cells.len()
            ));
        }
        Some(cells)
    };
    if rows.len < 6 {
        return Ok(Vec::new());
    }
    let mut candidates = Vec::new();
    for i in 0..count {
        let Some(row) = rows.row(i) else { break };
        let objectness = row[4];
        let Some((class_id, best)) =
            row[5..]
                .iter()
                .enumerate()
                .fold(None, |b: Option<(usize, f32)>, (c, v)| match b {
                    Some((_, s)) if s >= *v => b,
                    _ => Some((c, *v)),
                })
        else {
            continue;
        };
        let confidence = objectness * best;
        if confidence.is_nan() || confidence < config.confidence {
            continue;
        }
        let b = match &cells {
            Some(cells) => {
                let (gx, gy, s) = cells[i];
                (
                    (row[0] + gx) * s,
                    (row[1] + gy) * s,
                    row[2].exp() * s,
                    row[3].exp() * s,
                )
            }
            None => (row[0], row[1], row[2], row[3]),
        };
        candidates.push(to_source(class_id, confidence, b, letterbox));
    }
    Ok(finish(candidates, Some(config.iou), config.max, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAME: Letterbox = Letterbox::IDENTITY;

    fn config(grid: Vec<u32>) -> Yolov5Config {
        Yolov5Config {
            confidence: 0.25,
            iou: 0.45,
            max: 10,
            grid,
        }
    }

    #[test]
    fn confidence_is_objectness_times_class_score() {
        #[rustfmt::skip]
        let data = [
            100.0, 100.0, 40.0, 20.0, 0.8, 0.1, 0.9, // 0.72, class 1
            300.0, 300.0, 40.0, 20.0, 0.3, 0.9, 0.1, // 0.27, class 0
            500.0, 500.0, 40.0, 20.0, 0.9, 0.2, 0.2, // 0.18: dropped
        ];
        let found = decode_yolov5(
            Rows::whole(&data, 7),
            &config(vec![]),
            (640, 640),
            &SAME,
            (640, 640),
        )
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].class_id, 1);
        assert!((found[0].confidence - 0.72).abs() < 1e-6);
        assert_eq!(
            (found[0].x, found[0].y, found[0].w, found[0].h),
            (80.0, 90.0, 40.0, 20.0)
        );
        assert_eq!(found[1].class_id, 0);
        assert!((found[1].confidence - 0.27).abs() < 1e-6);
    }

    #[test]
    fn yolox_grid_offsets_are_cells_and_sizes_logs() {
        // 64x32 input, strides 32 then 64: a 2x1 grid then a 1x1 grid: 3 anchors.
        assert_eq!(grid_cells(&[32, 64], (64, 32)).len(), 3);
        let ln2 = 2f32.ln();
        #[rustfmt::skip]
        let data = [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.5, 0.25, ln2, 0.0, 1.0, 0.5, // cell (1, 0) stride 32: centre (48, 8), 64x32
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ];
        let found = decode_yolov5(
            Rows::whole(&data, 6),
            &config(vec![32, 64]),
            (64, 32),
            &SAME,
            (640, 640),
        )
        .unwrap();
        assert_eq!(found.len(), 1);
        let d = found[0];
        assert!((d.confidence - 0.5).abs() < 1e-6);
        let near = |a: f32, b: f32| (a - b).abs() < 1e-4;
        // Its top edge (-8) is clipped to the frame.
        assert!(
            near(d.x, 16.0) && near(d.y, 0.0) && near(d.w, 64.0) && near(d.h, 24.0),
            "{d:?}"
        );
        // Three cells, two rows: an error naming both counts.
        let err = decode_yolov5(
            Rows::whole(&data[..12], 6),
            &config(vec![32, 64]),
            (64, 32),
            &SAME,
            (640, 640),
        )
        .unwrap_err();
        assert!(
            err.contains("3 cells") && err.contains("2 anchors"),
            "{err}"
        );
    }
}
