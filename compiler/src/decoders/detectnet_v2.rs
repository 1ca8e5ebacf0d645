//! `detectnet_v2`: NVIDIA TAO's DetectNet_v2 grid detectors (TrafficCamNet, PeopleNet),
//! a coverage grid `[N, classes, H, W]` and beside it a boxes grid `[N, 4 × classes, H, W]`
//! (`check/model/boxes.rs`, `grids`, finds the pair; this reads the coverage).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, float, int};
use crate::check::ModelInfo;
use crate::check::model::boxes::grids;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct DetectnetV2;

impl Rules for DetectnetV2 {
    fn family(&self) -> Family {
        Family::Boxes
    }

    fn reads(&self) -> Reads {
        Reads::CoverageAndBoxes
    }

    /// DeepStream stretches frames to a DetectNet_v2's input (`maintain-aspect-ratio=0`).
    fn letterboxes(&self) -> bool {
        false
    }

    fn rows(&self) -> Option<Rows> {
        None
    }

    /// The coverage grid: its classes.
    fn shape(&self, dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        match dims {
            [_, Some(c), Some(_), Some(_)] => Ok(Some(*c)),
            [_, None, _, _] => Err(ShapeProblem::DynamicClasses),
            _ => Err(ShapeProblem::NoBoxesGrid),
        }
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, classes, H, W] with `classes` fixed"
    }

    /// The grids are told by the pair (`check/model/boxes.rs` suggests this decoder for
    /// them), not by one output's shape.
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
        DecoderSpec::DetectnetV2 {
            confidence: float(d, "confidence"),
            iou: float(d, "iou"),
            max: int(d, "max"),
            boxes: grids(&model.facts)
                .map(|(_, bbox)| bbox.name.clone())
                .unwrap_or_default(),
        }
    }
}
