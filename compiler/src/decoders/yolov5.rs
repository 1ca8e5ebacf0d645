//! `yolov5`: YOLOv5/v7 and YOLOX, `[N, anchors, 5 + classes]`, a row a candidate box
//! (`check/model/boxes.rs` chooses and reads its output, and YOLOX's grids).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, float, int};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct Yolov5;

impl Rules for Yolov5 {
    fn family(&self) -> Family {
        Family::Boxes
    }

    fn reads(&self) -> Reads {
        Reads::One
    }

    fn letterboxes(&self) -> bool {
        true
    }

    fn rows(&self) -> Option<Rows> {
        Some(Rows::Yolov5)
    }

    fn shape(&self, _: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        Ok(None)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, classes] with `classes` fixed"
    }

    /// Many rows (more than a DETR's queries), more than 6 values each.
    fn looks_like(&self, dims: &[Option<i64>]) -> bool {
        matches!(dims, [_, Some(a), Some(c)] if a > c && *c > 6 && *a > 1000)
    }

    /// A one-class YOLOv5: centre x, centre y, width, height, objectness, score.
    fn six(&self, _: Option<&BoundCall>) -> Six {
        Six::Classes(1)
    }

    fn makes(&self) -> Makes {
        Makes::Detector
    }

    fn spec(&self, d: &BoundCall, _: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Yolov5 {
            confidence: float(d, "confidence"),
            iou: float(d, "iou"),
            max: int(d, "max"),
            strides: if d.boolean("grid") == Some(true) {
                d.ints("strides")
            } else {
                Vec::new()
            },
        }
    }
}
