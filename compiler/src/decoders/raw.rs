//! `raw`: no decoding; the output tensors (every one, or the one `output:` names) ride on
//! the frame as they are.

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub struct Raw;

impl Rules for Raw {
    fn family(&self) -> Family {
        Family::Raw
    }

    fn reads(&self) -> Reads {
        Reads::Every
    }

    fn letterboxes(&self) -> bool {
        false
    }

    fn rows(&self) -> Option<Rows> {
        None
    }

    /// Any shape: nothing is read from it.
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
        Makes::Raw
    }

    fn spec(&self, _: &BoundCall, _: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Raw
    }
}
