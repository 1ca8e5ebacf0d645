//! The compiler's diagnostics → problems at editor positions, each with the quick fix its
//! `suggestion` offers (the misspelt text under the primary span becomes `x`); the help text
//! is for people and is never parsed.

use vpl_compiler::suggest::did_you_mean;
use vpl_compiler::{Code, Diagnostic, Severity, SourceFile};

use super::{Analysis, Range, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub range: Range,
    pub severity: Severity,
    pub code: Code,
    /// The message, then the help on a line of its own.
    pub message: String,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
}

/// A secondary place in the same document that explains a problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub range: Range,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub title: String,
    pub range: Range,
    pub new_text: String,
}

pub fn problems(file: &SourceFile, analysis: &Analysis) -> Vec<Problem> {
    let doc = analysis.compilation.file;
    let elsewhere = analysis
        .compilation
        .diagnostics
        .iter()
        .filter(|d| d.primary.file != doc)
        .filter_map(|d| elsewhere(file, analysis, d));
    analysis
        .compilation
        .diagnostics
        .iter()
        .filter(|d| d.primary.file == doc)
        .map(|d| {
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let related = d
                .labels
                .iter()
                .filter(|l| l.file == doc)
                .map(|l| Related {
                    range: text::range(file, l.span),
                    message: l.message.clone(),
                })
                .collect();
            Problem {
                range: text::range(file, d.primary.span),
                severity: d.severity,
                code: d.code,
                message,
                related,
                fix: fix(file, d),
            }
        })
        .chain(elsewhere)
        .collect()
}

/// A problem in another file the document names (a pool's `streams:` YAML), shown where
/// the document points at that file, with the file and line it is on.
fn elsewhere(file: &SourceFile, analysis: &Analysis, d: &Diagnostic) -> Option<Problem> {
    let doc = analysis.compilation.file;
    let here = d.labels.iter().find(|l| l.file == doc)?;
    let there = analysis.sources.get(d.primary.file);
    let (line, column) = there.line_column(d.primary.span.start as usize);
    let mut message = format!("{}:{line}:{column}: {}", there.name, d.message);
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    Some(Problem {
        range: text::range(file, here.span),
        severity: d.severity,
        code: d.code,
        message,
        related: Vec::new(),
        fix: None,
    })
}

/// The diagnostic's suggestion ("did you mean `x`?"), replacing what the primary span shows.
fn fix(file: &SourceFile, d: &Diagnostic) -> Option<Fix> {
    let suggestion = d.suggestion.as_deref()?;
    let span = d.primary.span;
    let written = file.slice(span);
    let start = span.start as usize;
    // A string where a word was expected (`track("iuo")`) becomes the word; a misspelt
    // string keeps its quotes; a list (`on: ["persn"]`) has the close string fixed.
    let (at, old, new) = if is_word(written) || d.code == Code::E0106 {
        (start, written, suggestion.to_string())
    } else if is_string(written) {
        (start, written, format!("\"{suggestion}\""))
    } else {
        let (offset, inner) = strings(written)
            .filter(|(_, s)| did_you_mean(s, [suggestion]).is_some())
            .min_by_key(|(_, s)| s.len().abs_diff(suggestion.len()))?;
        (start + offset, inner, suggestion.to_string())
    };
    if old.is_empty() || old == new {
        return None;
    }
    let end = at + old.len();
    Some(Fix {
        title: format!("Replace `{old}` with `{new}`"),
        range: text::range(file, vpl_compiler::syntax::Span::new(at, end)),
        new_text: new,
    })
}

/// One token: a name, a dotted path (`std.detct`) or a literal with its unit (`40mz`).
fn is_word(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
}

fn is_string(text: &str) -> bool {
    text.len() >= 2 && text.starts_with('"') && text.ends_with('"')
}

/// The contents of the string literals in `text`, with their byte offsets in it.
fn strings(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text.char_indices();
    std::iter::from_fn(move || {
        let (open, _) = rest.by_ref().find(|(_, c)| *c == '"')?;
        let mut escaped = false;
        for (i, c) in rest.by_ref() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return Some((open + 1, &text[open + 1..i])),
                _ => escaped = false,
            }
        }
        None
    })
}
