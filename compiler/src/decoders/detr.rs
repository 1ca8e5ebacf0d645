//! `detr`: DETR-style detectors, one box a query and no NMS: one output `[N, queries, 4 +
//! classes]` or the boxes and the logits apart (`check/model/boxes.rs` chooses them).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, activation, float, int};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct Detr;

impl Rules for Detr {
    fn family(&self) -> Family {
        Family::Boxes
    }

    fn reads(&self) -> Reads {
        Reads::OneOrBoxesApart
    }

    fn letterboxes(&self) -> bool {
        false
    }

    fn rows(&self) -> Option<Rows> {
        Some(Rows::Detr)
    }

    fn shape(&self, _: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        Ok(None)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, classes] with `classes` fixed"
    }

    /// Few rows (queries), more than 6 values each.
    fn looks_like(&self, dims: &[Option<i64>]) -> bool {
        matches!(dims, [_, Some(q), Some(c)] if q > c && *c > 6 && *q <= 1000)
    }

    /// Two classes; one with `softmax`, whose last is "no object".
    fn six(&self, call: Option<&BoundCall>) -> Six {
        match call.and_then(|d| d.string("activation")) {
            Some("softmax") => Six::Classes(1),
            _ => Six::Classes(2),
        }
    }

    fn makes(&self) -> Makes {
        Makes::Detector
    }

    fn spec(&self, d: &BoundCall, model: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Detr {
            confidence: float(d, "confidence"),
            max: int(d, "max"),
            activation: activation(d),
            boxes: model.fit.boxes.clone().unwrap_or_default(),
        }
    }
}
