//! `yolov8_seg`: Ultralytics segmentation, `[N, 4 + classes + masks, anchors]` and the
//! prototypes `[N, masks, H, W]` (`check/model/segpose.rs` finds them) → boxes with masks.

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, float, int, mask_format};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::check::model::segpose::seg_shape;
use crate::hir::BoundCall;

pub struct Yolov8Seg;

impl Rules for Yolov8Seg {
    fn family(&self) -> Family {
        Family::MasksKeypoints
    }

    fn reads(&self) -> Reads {
        Reads::DetectionsAndPrototypes
    }

    fn letterboxes(&self) -> bool {
        true
    }

    fn rows(&self) -> Option<Rows> {
        None
    }

    fn shape(&self, dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        seg_shape(dims)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, 4 + classes + masks, anchors] with its rows fixed"
    }

    fn looks_like(&self, _: &[Option<i64>]) -> bool {
        false
    }

    fn six(&self, _: Option<&BoundCall>) -> Six {
        Six::No
    }

    fn makes(&self) -> Makes {
        Makes::Detector
    }

    fn spec(&self, d: &BoundCall, model: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Yolov8Seg {
            confidence: float(d, "confidence"),
            iou: float(d, "iou"),
            max: int(d, "max"),
            protos: model
                .extras
                .as_ref()
                .and_then(|e| e.protos.clone())
                .unwrap_or_default(),
            masks: mask_format(d),
        }
    }
}
