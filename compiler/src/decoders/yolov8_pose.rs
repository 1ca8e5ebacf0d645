//! `yolov8_pose`: Ultralytics pose, `[N, 4 + 1 + 3 × keypoints, anchors]` → boxes with
//! keypoints (`check/model/segpose.rs` counts them and checks the skeleton).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, Skeleton, float, int};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::check::model::segpose::pose_shape;
use crate::hir::BoundCall;

pub struct Yolov8Pose;

impl Rules for Yolov8Pose {
    fn family(&self) -> Family {
        Family::MasksKeypoints
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
        pose_shape(dims)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, 4 + 1 + 3 × keypoints, anchors] with its rows fixed"
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

    fn spec(&self, d: &BoundCall, _: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Yolov8Pose {
            confidence: float(d, "confidence"),
            iou: float(d, "iou"),
            max: int(d, "max"),
            skeleton: match d.string("skeleton") {
                Some("none") => Skeleton::None,
                _ => Skeleton::Coco17,
            },
        }
    }
}
