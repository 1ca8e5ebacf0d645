//! `ctc`: a CTC text recogniser's scores `[N, T, C]` → the string a crop reads
//! (`check/model/text.rs` checks its alphabet against the classes).

use super::{DecoderSpec, Family, Makes, Reads, Rows, Rules, Six};
use crate::check::model::errors::ShapeProblem;
use crate::check::model::text::ctc_shape;
use crate::check::{ModelInfo, ModelKind};
use crate::hir::BoundCall;

pub struct Ctc;

impl Rules for Ctc {
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
        ctc_shape(dims)
    }

    fn fixed_classes(&self) -> &'static str {
        "expects [N, T, C] with `C` fixed"
    }

    fn looks_like(&self, _: &[Option<i64>]) -> bool {
        false
    }

    fn six(&self, _: Option<&BoundCall>) -> Six {
        Six::No
    }

    fn makes(&self) -> Makes {
        Makes::Recognizer
    }

    fn spec(&self, d: &BoundCall, model: &ModelInfo) -> DecoderSpec {
        DecoderSpec::Ctc {
            alphabet: match &model.kind {
                ModelKind::Recognizer {
                    alphabet_file: Some(file),
                    ..
                } => file.display().to_string(),
                _ => String::new(),
            },
            blank_last: d.string("blank") == Some("last"),
        }
    }
}
