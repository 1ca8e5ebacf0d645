//! Diagnostics → text: for people (codespan-reporting: source excerpt, labels, help) and
//! for machines (the JSON object of spec section 7).

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, Config, termcolor::WriteColor};
use serde::Serialize;

use super::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceMap};

impl<'a> Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.get(id).name)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.get(id).text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self.get(id).line_index(byte_index))
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        let file = self.get(id);
        let starts = file.line_starts();
        let start = *starts.get(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: starts.len() - 1,
        })?;
        let end = starts
            .get(line_index + 1)
            .copied()
            .unwrap_or(file.text.len());
        Ok(start..end)
    }
}

fn to_codespan(d: &Diagnostic) -> CsDiagnostic<FileId> {
    let severity = match d.severity {
        Severity::Error => codespan_reporting::diagnostic::Severity::Error,
        Severity::Warning => codespan_reporting::diagnostic::Severity::Warning,
    };
    let mut labels = vec![
        CsLabel::primary(d.primary.file, d.primary.span.range()).with_message(&d.primary.message),
    ];
    labels.extend(
        d.labels
            .iter()
            .map(|l| CsLabel::secondary(l.file, l.span.range()).with_message(&l.message)),
    );
    CsDiagnostic::new(severity)
        .with_code(d.code.as_str())
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(d.help.iter().map(|h| format!("help: {h}")).collect())
}

/// Renders for a terminal or a log. Colour is the writer's business: pass a
/// `StandardStream` with `ColorChoice::Auto` on a terminal, `NoColor` elsewhere.
pub fn human(
    out: &mut dyn WriteColor,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
) -> std::io::Result<()> {
    let config = Config::default();
    // Rendered into memory, then written at once: the renderer writes a character at a
    // time, and on an unbuffered stderr a 5 MB line took a system call for each.
    let mut buffer = if out.supports_color() {
        term::termcolor::Buffer::ansi()
    } else {
        term::termcolor::Buffer::no_color()
    };
    for d in diagnostics {
        term::emit_to_write_style(&mut buffer, &config, sources, &to_codespan(d))
            .map_err(std::io::Error::other)?;
    }
    out.write_all(buffer.as_slice())?;
    out.flush()
}

/// Renders without colour into a string (tests, snapshots, the language server's hover).
pub fn human_string(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let config = Config::default();
    let mut out = String::new();
    for d in diagnostics {
        if let Ok(text) = term::emit_into_string(&config, sources, &to_codespan(d)) {
            out.push_str(&text);
        }
    }
    out
}

#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub diagnostics: Vec<JsonDiagnostic<'a>>,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: &'a str,
    #[serde(flatten)]
    pub position: JsonSpan<'a>,
    pub labels: Vec<JsonLabel<'a>>,
    pub help: Option<&'a str>,
}

#[derive(Serialize)]
pub struct JsonLabel<'a> {
    #[serde(flatten)]
    pub position: JsonSpan<'a>,
    pub message: &'a str,
}

/// 1-based lines and columns; columns count Unicode scalar values; the end is exclusive
/// (the column just after the last character of the span).
#[derive(Serialize)]
pub struct JsonSpan<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

fn json_span<'a>(sources: &'a SourceMap, label: &Label) -> JsonSpan<'a> {
    let file = sources.get(label.file);
    let (line, column) = file.line_column(label.span.start as usize);
    let (end_line, end_column) = file.line_column(label.span.end as usize);
    JsonSpan {
        file: &file.name,
        line,
        column,
        end_line,
        end_column,
    }
}

pub fn json_report<'a>(sources: &'a SourceMap, diagnostics: &'a [Diagnostic]) -> JsonReport<'a> {
    JsonReport {
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code.as_str(),
                severity: d.severity.as_str(),
                message: &d.message,
                position: json_span(sources, &d.primary),
                labels: d
                    .labels
                    .iter()
                    .map(|l| JsonLabel {
                        position: json_span(sources, l),
                        message: &l.message,
                    })
                    .collect(),
                help: d.help.as_deref(),
            })
            .collect(),
        errors: diagnostics.iter().filter(|d| d.is_error()).count(),
        warnings: diagnostics.iter().filter(|d| !d.is_error()).count(),
    }
}

pub fn json(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    serde_json::to_string(&json_report(sources, diagnostics)).unwrap_or_default()
}
