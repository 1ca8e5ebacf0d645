//! `record(when: EVENT, at: NAME)`: a clip triggered by an analytics event. The event needs
//! `analyze` upstream (E0408), entries, exits and crossings need tracks (E0405), and `at:`
//! must name a zone (entry, exit, overcrowding) or a line (crossing) of that `analyze`
//! (E0409, with the names it has). Wording is at the end of this file.

use super::Checker;
use super::errors::TypeError;
use super::types::Video;
use super::zones::ZoneError;
use crate::analytics::EventKind;
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::BoundCall;
use crate::source::FileId;
use crate::stage::Geometry;
use crate::syntax::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum RecordEventError {
    /// E0408: `record(when: EVENT)` with no `analyze` upstream.
    NeedsAnalytics { span: Span, event: &'static str },
    /// E0409: `at:` names no zone or line of the `analyze` upstream that the event is about.
    UnknownPlace {
        span: Span,
        event: &'static str,
        at: String,
        /// "zone", "line" or "" (an event about no zone or line).
        what: &'static str,
        names: Vec<String>,
    },
}

/// What an event kind is about: the zones, the lines, or neither.
fn place_of(kind: EventKind) -> Option<Geometry> {
    match kind {
        EventKind::Entry | EventKind::Exit | EventKind::Overcrowding | EventKind::Count => {
            Some(Geometry::Zone)
        }
        EventKind::Crossing => Some(Geometry::Line),
        EventKind::Appeared => None,
    }
}

impl Checker<'_> {
    /// The checks of `record(when: EVENT)` on one stream (already known to be H.264).
    pub(super) fn record_event(
        &mut self,
        call: &BoundCall,
        v: &Video,
        kind: EventKind,
        when_span: Span,
    ) {
        if !v.meta.analytics {
            self.errors
                .push(TypeError::RecordEvent(RecordEventError::NeedsAnalytics {
                    span: when_span,
                    event: kind.as_str(),
                }));
            return;
        }
        if matches!(
            kind,
            EventKind::Entry | EventKind::Exit | EventKind::Crossing
        ) && !v.meta.tracks
        {
            self.errors.push(TypeError::Zones(ZoneError::NeedsTracks {
                span: call.span,
                stage: call.name.clone(),
                what: "entry, exit and crossing events",
                warning: false,
            }));
            return;
        }
        let at = call.string("at").unwrap_or_default();
        if at.is_empty() {
            return;
        }
        let at_span = call.bound("at").map_or(call.span, |a| a.span);
        let place = place_of(kind);
        let names: Vec<String> = v
            .meta
            .shapes
            .iter()
            .filter(|(g, _)| Some(*g) == place)
            .map(|(_, n)| n.clone())
            .collect();
        if !names.iter().any(|n| n == at) {
            self.errors
                .push(TypeError::RecordEvent(RecordEventError::UnknownPlace {
                    span: at_span,
                    event: kind.as_str(),
                    at: at.to_string(),
                    what: match place {
                        Some(Geometry::Zone) => "zone",
                        Some(Geometry::Line) => "line",
                        None => "",
                    },
                    names,
                }));
        }
    }
}

impl RecordEventError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            RecordEventError::NeedsAnalytics { span, event } => Diagnostic::new(
                Code::E0408,
                file,
                *span,
                format!("`record(when: {event})` needs analytics, but no `analyze` runs upstream"),
            )
            .with_primary_label("an analytics event")
            .with_help(
                "insert `analyze(zones: [...], lines: [...])` before `encode`, or trigger on a label: `when: \"person\"`",
            ),
            RecordEventError::UnknownPlace {
                span,
                event,
                at,
                what,
                names,
            } => {
                if what.is_empty() {
                    return Diagnostic::new(
                        Code::E0409,
                        file,
                        *span,
                        format!("`{event}` events are about labels, not a zone or line: `at: \"{at}\"` names nothing they have"),
                    )
                    .with_primary_label("no zone or line here")
                    .with_help("remove `at:`");
                }
                let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                let listed = if quoted.is_empty() {
                    format!("it has no {what}s")
                } else {
                    format!("its {what}s: {}", quoted.join(", "))
                };
                let d = Diagnostic::new(
                    Code::E0409,
                    file,
                    *span,
                    format!("`at: \"{at}\"` names no {what} of the `analyze` upstream ({listed}); `{event}` events are about {what}s"),
                )
                .with_primary_label(format!("no {what} `{at}`"));
                match crate::suggest::did_you_mean(at, names.iter().map(String::as_str)) {
                    Some(s) => d.with_suggestion(format!("\"{s}\"")),
                    None if names.is_empty() => d.with_help(format!(
                        "give `analyze` a {what} (`{what}s: [...]`) and name it here, or remove `at:`"
                    )),
                    None => d.with_help(format!("name one of {}, or remove `at:`", quoted.join(", "))),
                }
            }
        }
    }
}
