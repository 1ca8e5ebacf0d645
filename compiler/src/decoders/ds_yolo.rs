//! `ds_yolo`: DeepStream-Yolo's ONNX export (marcoslucianops/DeepStream-Yolo), one output
//! `[N, boxes, 6]` of boxes already decoded: x1, y1, x2, y2 in pixels of the model input,
//! the score and the class id. The classes are not in the shape: the labels name them.

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, float, int};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct DsYolo;

impl Rules for DsYolo {
    fn family(&self) -> Family {
        Family::Boxes
    }

    fn reads(&self) -> Reads {
        Reads::One
    }

    /// DeepStream-Yolo's configs: `maintain-aspect-ratio=1`, `symmetric-padding=1`.
    fn letterboxes(&self) -> bool {
        true
    }

    fn rows(&self) -> Option<Rows> {
        None
    }

    fn shape(&self, dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        match dims {
            [_, _, Some(6)] => Ok(None),
            _ => Err(ShapeProblem::Expects {
                expects: "expects [N, boxes, 6]",
                help: "ds_yolo reads one output of shape [N, boxes, 6]: x1, y1, x2, y2 in pixels of the model input, the score and the class id of each box (DeepStream-Yolo's ONNX export)",
            }),
        }
    }

    /// Never asked: the classes are not in the output.
    fn fixed_classes(&self) -> &'static str {
        "expects [N, boxes, 6] with its 6 values fixed"
    }

    /// Never suggested: six values a row are a one-class YOLOv5's too, and E0304 says
    /// both (`check/model/boxes.rs`, `unrecognised`).
    fn looks_like(&self, _: &[Option<i64>]) -> bool {
        false
    }

    fn six(&self, _: Option<&BoundCall>) -> Six {
        Six::Decoded
    }

    fn makes(&self) -> Makes {
        Makes::Detector
    }

    fn spec(&self, d: &BoundCall, _: &ModelInfo) -> DecoderSpec {
        DecoderSpec::DsYolo {
            confidence: float(d, "confidence"),
            iou: float(d, "iou"),
            max: int(d, "max"),
        }
    }
}
