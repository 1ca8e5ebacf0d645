//! Source text → `ast::SourceFile` plus syntax errors. The driver parses one item or
//! statement at a time with the pest grammar and recovers at `;`, `}` or the next item,
//! so one mistake does not hide the next; it never panics. What each rule becomes is read
//! in the file named after it: `items.rs`, `flows.rs`, `exprs.rs`, `types.rs`; what the
//! parser does after an error, in `recovery.rs`.

mod exprs;
mod flows;
mod items;
mod recovery;
mod types;

use pest::Parser;
use pest::iterators::Pair;

use super::ast::*;
use super::comments;
use super::errors::{Context, SyntaxError};
use super::grammar::{Rule, VplGrammar};
use crate::span::Span;

/// Whether `builtin` declarations are allowed (only in stdlib/*.vpl).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Program,
    Stdlib,
}

#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub file: SourceFile,
    pub errors: Vec<SyntaxError>,
}

const ITEM_KEYWORDS: &[&str] = &["use", "const", "model", "pipeline", "builtin"];
const KEYWORDS: &[&str] = &["use", "const", "model", "pipeline", "let", "true", "false"];

/// Deeper nesting of brackets than this is refused before pest sees it, so that no
/// input can exhaust the stack of the recursive-descent parser.
pub const MAX_NESTING: usize = 64;

/// More stages than this in one flow are refused: the later phases follow a flow stage by
/// stage, and no pipeline needs so many (split a long flow with `let`).
pub const MAX_STAGES: usize = 1000;

/// The text as the parser reads it, byte for byte as long as the original so every span
/// stays valid in it: a leading byte-order mark is read as three spaces, and a carriage
/// return not followed by a line feed (old Mac line ends) as a line feed, so a `//`
/// comment ends at it.
pub fn plain_text(text: &str) -> std::borrow::Cow<'_, str> {
    let bom = text.starts_with('\u{feff}');
    let lone_cr = text
        .as_bytes()
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n'));
    if !bom && !lone_cr {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let rest = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            out.push_str("   ");
            rest
        }
        None => text,
    };
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out.into()
}

pub fn parse(text: &str, mode: Mode) -> Parsed {
    let plain = plain_text(text);
    let text: &str = &plain;
    let comments = comments::scan(text);
    if let Some(error) = too_deep_error(text) {
        return Parsed {
            file: SourceFile {
                items: Vec::new(),
                comments,
            },
            errors: vec![error],
        };
    }
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut pos = 0;
    while let Some(step) = step(text, &comments, mode, pos) {
        items.extend(step.item);
        errors.extend(step.errors);
        pos = step.next;
    }
    Parsed {
        file: SourceFile { items, comments },
        errors,
    }
}

/// E0001 for brackets nested deeper than `MAX_NESTING`, if any.
pub(crate) fn too_deep_error(text: &str) -> Option<SyntaxError> {
    too_deep(text).map(|at| SyntaxError::TooDeep {
        span: Span::new(at, at + 1),
        limit: MAX_NESTING,
    })
}

/// One turn of the driver's loop: from `pos` (the end of the previous turn), past trivia,
/// one item (or what recovery skipped). What a turn builds depends only on the text from
/// the start of the previous turn to the end of the next one (`incremental` relies on it).
pub(crate) struct Step {
    /// Where the item starts, after the trivia.
    pub start: usize,
    /// Where the next turn starts.
    pub next: usize,
    pub item: Option<Item>,
    pub errors: Vec<SyntaxError>,
}

/// The turn of the driver at `pos` of the plain text; `None` at the end of the text.
pub(crate) fn step(text: &str, comments: &[Comment], mode: Mode, pos: usize) -> Option<Step> {
    let mut p = Driver {
        text,
        comments,
        errors: Vec::new(),
        mode,
    };
    let start = p.skip_trivia(pos);
    if start >= text.len() {
        return None;
    }
    let (item, next) = if word_at(text, start) == Some("pipeline") {
        let (pipeline, next) = p.pipeline(start);
        (pipeline.map(Item::Pipeline), next)
    } else {
        match p.entry(Rule::item_one, start, Context::Item) {
            Ok((pair, end)) => (p.item(pair, start), end),
            Err(next) => {
                let item = match p.reparse_without_semi(Rule::item_one, start, next) {
                    Some(Recovered::Item(item)) => Some(item),
                    _ => None,
                };
                (item, next)
            }
        }
    };
    Some(Step {
        start,
        next,
        item,
        errors: p.errors,
    })
}

/// The offset of the first bracket nested deeper than `MAX_NESTING`, if any.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = comments::string_close(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' | b'<' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn word_at(text: &str, pos: usize) -> Option<&str> {
    let rest = &text[pos..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

enum Recovered {
    Item(Item),
    Statement(Statement),
}

struct Driver<'t> {
    text: &'t str,
    comments: &'t [Comment],
    errors: Vec<SyntaxError>,
    mode: Mode,
}

impl<'t> Driver<'t> {
    fn skip_trivia(&self, mut pos: usize) -> usize {
        let bytes = self.text.as_bytes();
        loop {
            while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if bytes.get(pos) == Some(&b'/') && bytes.get(pos + 1) == Some(&b'/') {
                pos = self.text[pos..]
                    .find('\n')
                    .map_or(self.text.len(), |n| pos + n);
            } else {
                return pos;
            }
        }
    }

    /// An item keyword followed by a name (`model det`, `use std`), not a misused keyword
    /// (`model | discard`).
    fn looks_like_item(&self, pos: usize) -> bool {
        let Some(w) = word_at(self.text, pos) else {
            return false;
        };
        if !ITEM_KEYWORDS.contains(&w) {
            return false;
        }
        let next = self.skip_trivia(pos + w.len());
        next < self.text.len() && word_at(self.text, next).is_some()
    }

    /// The end of the last token before `pos` (skipping whitespace and comments).
    fn prev_token_end(&self, pos: usize) -> usize {
        let mut end = pos.min(self.text.len());
        loop {
            let trimmed = self.text[..end].trim_end();
            end = trimmed.len();
            match self
                .comments
                .iter()
                .find(|c| c.span.end as usize == end && end > 0)
            {
                Some(c) => end = c.span.start as usize,
                None => return end,
            }
        }
    }

    /// Parses `rule` at `pos`. On success returns the entry pair (with offsets relative to
    /// `pos`) and the absolute end; on failure records the error and returns where to resume.
    fn entry(
        &mut self,
        rule: Rule,
        pos: usize,
        context: Context,
    ) -> Result<(Pair<'t, Rule>, usize), usize> {
        let input = &self.text[pos..];
        match VplGrammar::parse(rule, input) {
            Ok(mut pairs) => {
                let pair = pairs.next().expect("an entry rule yields one pair");
                let end = pos + pair.as_span().end();
                Ok((pair, end))
            }
            Err(error) => {
                let at = pos
                    + match error.location {
                        pest::error::InputLocation::Pos(p) => p,
                        pest::error::InputLocation::Span((s, _)) => s,
                    };
                let positives = match &error.variant {
                    pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
                    pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
                };
                let error = self.describe(at, &positives, context);
                let resume = self.resume_after(&error, pos, at, context);
                self.errors.push(error);
                Err(resume)
            }
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>, base: usize) -> Span {
        let s = pair.as_span();
        Span::new(base + s.start(), base + s.end())
    }

    fn ident(&mut self, pair: &Pair<'_, Rule>, base: usize) -> Ident {
        let ident = Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair, base),
        };
        if pair.as_rule() == Rule::name && KEYWORDS.contains(&ident.name.as_str()) {
            self.errors.push(SyntaxError::KeywordAsName {
                span: ident.span,
                keyword: ident.name.clone(),
            });
        }
        ident
    }
}

/// Rules that carry content (not punctuation or keywords).
fn is_content(rule: Rule) -> bool {
    !matches!(
        rule,
        Rule::semi
            | Rule::pipe
            | Rule::comma
            | Rule::colon
            | Rule::dot
            | Rule::eq
            | Rule::lt
            | Rule::gt
            | Rule::lparen
            | Rule::rparen
            | Rule::lbracket
            | Rule::rbracket
            | Rule::lbrace
            | Rule::rbrace
            | Rule::kw_use
            | Rule::kw_const
            | Rule::kw_model
            | Rule::kw_pipeline
            | Rule::kw_let
            | Rule::kw_builtin
            | Rule::kw_in
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!(
            "pipeline p {{ {}test(){} | discard; }}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let parsed = parse(&deep, Mode::Program);
        assert!(matches!(
            parsed.errors.as_slice(),
            [SyntaxError::TooDeep { .. }]
        ));
        let ok = format!(
            "pipeline p {{ {}test(){} | discard; }}",
            "(".repeat(60),
            ")".repeat(60)
        );
        assert!(parse(&ok, Mode::Program).errors.is_empty());
    }
}
