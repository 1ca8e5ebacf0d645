//! `text_boxes`: a DB text detector's probability map `[N, 1, H, W]` → boxes labelled
//! "text" (`check/model/text.rs` checks its channel).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six, float, int};
use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::check::model::text::text_map_shape;
use crate::hir::BoundCall;

pub struct TextBoxes;

impl Rules for TextBoxes {
    fn family(&self) -> Family {
        Family::Text
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
        text_map_shape(dims)
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

    fn spec(&self, d: &BoundCall, _: &ModelInfo) -> DecoderSpec {
        DecoderSpec::TextBoxes {
            thresh: float(d, "thresh"),
            box_thresh: float(d, "box_thresh"),
            unclip_ratio: float(d, "unclip_ratio"),
            max: int(d, "max"),
        }
    }
}
