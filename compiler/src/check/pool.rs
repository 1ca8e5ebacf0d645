//! `pool(max: N, streams: FILE) : video<…>`: the pool's declared type (E0214) and its type
//! as the rest of the program sees it, a list of `max` streams of that type, so E0301,
//! W0301, `tile` cells (E0206) and single-stream sinks (E0204) follow from the list rules.

use super::errors::TypeError;
use super::types::{Format, Video};
use super::{Checker, Ty};
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::BoundCall;
use crate::source::FileId;
use crate::syntax::Span;
use crate::syntax::ast;

/// The codecs a pool's streams may have: those a slot's parser frames.
pub const POOL_CODECS: &[&str] = &["h264", "h265"];

/// What is wrong with a pool's declaration (E0214).
#[derive(Debug, Clone, PartialEq)]
pub enum PoolError {
    /// No ascription, or one that leaves out the codec, the size or the rate, or names a
    /// raw format or another codec.
    Untyped {
        span: Span,
        /// What is missing or wrong, e.g. "no stream type", "the size is `_`".
        problems: Vec<String>,
    },
}

impl Checker<'_> {
    /// A pool's type: `max` streams of its declared type; `Ty::Error` (after E0214) when the
    /// declared type is missing or incomplete.
    pub(super) fn pool(&mut self, call: &BoundCall, ascription: Option<&ast::TypeExpr>) -> Ty {
        let max = call.int("max").unwrap_or(1).max(1) as usize;
        let Some(ascription) = ascription else {
            self.errors.push(TypeError::Pool(PoolError::Untyped {
                span: call.span,
                problems: vec!["it has no stream type".into()],
            }));
            return self.source_site(call, Ty::Error, None);
        };
        // A malformed ascription is E0208 from `parse_ascription`.
        let Some(video) = self.parse_ascription(ascription) else {
            return self.source_site(call, Ty::Error, None);
        };
        let problems = pool_type_problems(&video);
        if !problems.is_empty() {
            self.errors.push(TypeError::Pool(PoolError::Untyped {
                span: ascription.span,
                problems,
            }));
            return self.source_site(call, Ty::Error, None);
        }
        self.source_site(call, Ty::List(vec![Ty::Video(video); max]), None)
    }
}

/// Why `video` cannot be a pool's type: every admitted stream is checked against it, and
/// each slot is built for it before any stream arrives.
pub fn pool_type_problems(video: &Video) -> Vec<String> {
    let mut problems = Vec::new();
    match &video.format {
        Format::Encoded(c) if POOL_CODECS.contains(&c.as_str()) => {}
        Format::Unknown => problems.push("the codec is `_`".to_string()),
        other => problems.push(format!("`{other}` is not H.264 or H.265")),
    }
    if video.resolution.is_none() {
        problems.push("the size is `_`".into());
    }
    if video.rate.is_none() {
        problems.push("the frame rate is `_`".into());
    }
    problems
}

impl PoolError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            PoolError::Untyped { span, problems } => Diagnostic::new(
                Code::E0214,
                file,
                *span,
                format!(
                    "a pool needs the type of its streams, encoded H.264 or H.265 with a size and a rate: {}",
                    problems.join(", ")
                ),
            )
            .with_primary_label("every stream admitted into the pool is checked against this type")
            .with_help("add `: video<h264, 1280x720, 25fps>` after `pool(...)`, with the codec, size and rate of your cameras"),
        }
    }
}
