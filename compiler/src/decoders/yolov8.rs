//! `yolov8`: Ultralytics YOLOv8/v11 detectors, `[N, 4 + classes, anchors]`, a column a
//! candidate box (centre x, centre y, width, height, then a score per class).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, float, int};
use crate::check::ModelInfo;
use crate::check::model::boxes::yolov8_shape;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct Yolov8;

impl Rules for Yolov8 {
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
        None
    }

    fn shape(&self, dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        yolov8_shape(dims)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, 4 + classes, anchors] with `4 + classes` fixed"
    }

    fn looks_like(&self, dims: &[Option<i64>]) -> bool {
        matches!(dims, [_, Some(c), Some(a)] if *c > 4 && a > c)
    }

    fn six(&self, _: Option<&BoundCall>) -> Six {
        Six::No
    }

    fn makes(&self) -> Makes {
        Makes::Detector
    }

    fn spec(&self, d: &BoundCall, _: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Yolov8 {
            confidence: float(d, "confidence"),
            iou: float(d, "iou"),
            max: int(d, "max"),
        }
    }
}
