//! `semantic`: a class map `[N, classes, H, W]` → one masked object a class present.

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, int, mask_format};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::check::model::segpose::semantic_shape;
use crate::hir::BoundCall;

pub struct Semantic;

impl Rules for Semantic {
    fn family(&self) -> Family {
        Family::MasksKeypoints
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
        semantic_shape(dims)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, classes, H, W] with `classes` fixed"
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
        DecoderSpec::Semantic {
            masks: mask_format(d),
            min_area: int(d, "min_area"),
        }
    }
}
