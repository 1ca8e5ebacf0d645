//! `ssd`: SSD-style detectors, box offsets from anchors `[N, anchors, 4 + extra]` and
//! class scores `[N, anchors, classes]` apart (`check/model/boxes.rs` chooses them and
//! checks the anchors, `anchors.rs`).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, activation, float, int};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct Ssd;

impl Rules for Ssd {
    fn family(&self) -> Family {
        Family::Boxes
    }

    fn reads(&self) -> Reads {
        Reads::BoxesAndScores
    }

    fn letterboxes(&self) -> bool {
        false
    }

    fn rows(&self) -> Option<Rows> {
        Some(Rows::Ssd)
    }

    fn shape(&self, _: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        Ok(None)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, classes] with `classes` fixed"
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
        DecoderSpec::Ssd {
            confidence: float(d, "confidence"),
            iou: float(d, "iou"),
            max: int(d, "max"),
            activation: activation(d),
            boxes: model.fit.boxes.clone().unwrap_or_default(),
            anchors: model.fit.anchors.clone(),
            strides: d.ints("strides"),
            per_cell: d.ints("per_cell"),
        }
    }
}
