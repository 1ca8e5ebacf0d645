//! `classify`: a classifier's scores, `[N, classes]` (or `[N, classes, 1, 1]`) → the best
//! labels of the frame or crop.

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, int};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct Classify;

impl Rules for Classify {
    fn family(&self) -> Family {
        Family::Classify
    }

    fn reads(&self) -> Reads {
        Reads::One
    }

    fn letterboxes(&self) -> bool {
        false
    }

    fn rows(&self) -> Option<Rows> {
        None
    }

    fn shape(&self, dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
        match dims {
            [_, Some(k)] | [_, Some(k), Some(1), Some(1)] => Ok(Some(*k)),
            [_, None] | [_, None, Some(1), Some(1)] => Err(ShapeProblem::DynamicClasses),
            _ => Err(ShapeProblem::Expects {
                expects: "expects [N, classes]",
                help: "classify reads one output of shape [N, classes] (or [N, classes, 1, 1])",
            }),
        }
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, classes] with `classes` fixed"
    }

    fn looks_like(&self, dims: &[Option<i64>]) -> bool {
        matches!(dims, [_, Some(_)] | [_, Some(_), Some(1), Some(1)])
    }

    fn six(&self, _: Option<&BoundCall>) -> Six {
        Six::No
    }

    fn makes(&self) -> Makes {
        Makes::Classifier
    }

    fn spec(&self, d: &BoundCall, _: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Classify { top: int(d, "top") }
    }
}
