//! Source text → `ast::SourceFile` plus syntax errors. The driver parses one item or
//! statement at a time with the pest grammar and recovers at `;`, `}` or the next item,
//! so one mistake does not hide the next; it never panics.

use pest::Parser;
use pest::iterators::Pair;

use super::ast::*;
use super::comments;
use super::errors::{Context, Found, SyntaxError, Token};
use super::grammar::{Rule, VplGrammar};
use super::literal::{LitValue, Literal, parse_number};
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

/// A `call` rule read as what it turned out to be.
enum Shape {
    Name(Ident),
    Call(Call),
    Type(TypeExpr),
}

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

    fn describe(&self, at: usize, positives: &[Rule], context: Context) -> SyntaxError {
        let text = self.text;
        if text[at..].starts_with('"') {
            let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            if !text[at + 1..line_end].contains('"') {
                return SyntaxError::UnterminatedString {
                    span: Span::new(at, line_end),
                };
            }
        }
        let mut expected: Vec<Token> = positives.iter().filter_map(|r| token_of(*r)).collect();
        if expected.is_empty() {
            expected.push(match context {
                Context::Statement => Token::Statement,
                Context::Item | Context::PipelineHeader => Token::Item,
            });
        }
        expected.sort();
        expected.dedup();
        if expected.contains(&Token::Item) {
            expected.retain(|t| !matches!(t, Token::Keyword(_)));
        }
        let prev_end = self.prev_token_end(at);
        let (found, found_len) = found_at(text, at);
        let after_pipe = text[..prev_end].ends_with('|');
        let found_on_later_line = text[prev_end..at].contains('\n');
        SyntaxError::Expected {
            expected,
            found,
            at: Span::empty(prev_end),
            found_span: Span::new(at, at + found_len),
            after_pipe,
            found_on_later_line,
            context,
        }
    }

    /// Where to go on after an error at `at` in an entry that started at `start`.
    fn resume_after(
        &self,
        error: &SyntaxError,
        start: usize,
        at: usize,
        context: Context,
    ) -> usize {
        let missing_semi = is_missing_semi(error);
        match context {
            Context::Statement => {
                if missing_semi && at > start {
                    return at;
                }
                self.skip_statement(at.max(start + 1))
            }
            Context::Item | Context::PipelineHeader => {
                if missing_semi && at > start && context == Context::Item {
                    return at;
                }
                self.skip_to_next_item(at.max(start + 1))
            }
        }
    }

    /// Skips past the next `;` at nesting depth 0, stopping before a `}` that closes the
    /// pipeline, or at a line that starts a new `let` or item.
    fn skip_statement(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut depth = 0i32;
        let mut i = from;
        let mut line_start = false;
        while i < bytes.len() {
            let c = bytes[i];
            if line_start && !c.is_ascii_whitespace() {
                if word_at(self.text, i) == Some("let") || self.looks_like_item(i) {
                    return i;
                }
                line_start = false;
            }
            match c {
                b'\n' => line_start = true,
                b'"' => i = comments::string_close(bytes, i),
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    i = self.text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                    continue;
                }
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth = (depth - 1).max(0),
                b';' if depth == 0 => return i + 1,
                b'}' if depth == 0 => return i,
                _ => {}
            }
            i += 1;
        }
        bytes.len().min(i)
    }

    /// Skips to the next line that starts with an item keyword.
    fn skip_to_next_item(&self, from: usize) -> usize {
        let mut i = from.min(self.text.len());
        while !self.text.is_char_boundary(i) {
            i += 1;
        }
        while let Some(n) = self.text[i..].find('\n') {
            i += n + 1;
            let line = &self.text[i..];
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            if self.looks_like_item(i + indent) {
                return i + indent;
            }
        }
        self.text.len()
    }

    fn pipeline(&mut self, start: usize) -> (Option<Pipeline>, usize) {
        let (open, mut pos) = match self.entry(Rule::pipeline_open, start, Context::PipelineHeader)
        {
            Ok(ok) => ok,
            Err(next) => return (None, next),
        };
        let name_pair = open
            .into_inner()
            .find(|p| p.as_rule() == Rule::name)
            .expect("pipeline_open has a name");
        let name = self.ident(&name_pair, start);
        let open_brace = Span::new(pos - 1, pos);
        let mut body = Vec::new();
        loop {
            pos = self.skip_trivia(pos);
            if pos >= self.text.len() {
                self.errors.push(SyntaxError::UnclosedPipeline {
                    name: name.name.clone(),
                    open: open_brace,
                    at: Span::empty(self.text.len()),
                });
                break;
            }
            if self.text[pos..].starts_with('}') {
                pos += 1;
                break;
            }
            if self.looks_like_item(pos) {
                let (found, len) = found_at(self.text, pos);
                self.errors.push(SyntaxError::Expected {
                    expected: vec![Token::RBrace],
                    found,
                    at: Span::empty(self.prev_token_end(pos)),
                    found_span: Span::new(pos, pos + len),
                    after_pipe: false,
                    found_on_later_line: true,
                    context: Context::Statement,
                });
                break;
            }
            match self.entry(Rule::statement_one, pos, Context::Statement) {
                Ok((pair, end)) => {
                    if let Some(stmt) = pair.into_inner().next() {
                        body.push(self.statement(stmt, pos));
                    }
                    pos = end;
                }
                Err(next) => {
                    match self.reparse_without_semi(Rule::statement_one, pos, next) {
                        Some(Recovered::Statement(stmt)) => body.push(stmt),
                        _ => body.extend(self.broken_let(pos, next)),
                    }
                    pos = next;
                }
            }
        }
        let span = Span::new(start, pos);
        let doc = comments::doc_before(self.text, self.comments, start);
        (
            Some(Pipeline {
                name,
                body,
                doc,
                span,
            }),
            pos,
        )
    }

    /// After "expected `;`" at `at`, builds `start..at` as if the `;` were there, so a
    /// declaration or statement that only lacks its `;` keeps its name defined.
    fn reparse_without_semi(&mut self, rule: Rule, start: usize, at: usize) -> Option<Recovered> {
        if !self.errors.last().is_some_and(is_missing_semi) || at <= start {
            return None;
        }
        let end = self.prev_token_end(at);
        // Offsets stay valid: the patched text is the original from `start` to `end`.
        let patched = format!("{};", &self.text[start..end]);
        let mut sub = Driver {
            text: &patched,
            comments: self.comments,
            errors: Vec::new(),
            mode: self.mode,
        };
        let entry = VplGrammar::parse(rule, &patched).ok()?.next()?;
        let built = match rule {
            Rule::statement_one => {
                Recovered::Statement(sub.statement(entry.into_inner().next()?, start))
            }
            _ => Recovered::Item(sub.item(entry, start)?),
        };
        let errors = sub.errors;
        self.errors.extend(errors);
        Some(built)
    }

    /// A `let NAME = ...` whose flow has a syntax error still defines `NAME`, so its
    /// uses are not reported as unknown too.
    fn broken_let(&self, start: usize, end: usize) -> Option<Statement> {
        if word_at(self.text, start) != Some("let") {
            return None;
        }
        let name_start = self.skip_trivia(start + 3);
        let name = word_at(self.text, name_start)?;
        let after = self.skip_trivia(name_start + name.len());
        if !self.text[after..].starts_with('=') {
            return None;
        }
        let span = Span::new(start, end.max(after));
        let flow_span = Span::new(after + 1, span.end as usize);
        Some(Statement::Let(LetStmt {
            name: Ident {
                name: name.to_string(),
                span: Span::new(name_start, name_start + name.len()),
            },
            flow: Flow {
                head: Term {
                    kind: TermKind::Error,
                    ascription: None,
                    span: flow_span,
                },
                stages: Vec::new(),
                span: flow_span,
            },
            span,
        }))
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

    fn item(&mut self, entry: Pair<'t, Rule>, base: usize) -> Option<Item> {
        let item = entry.into_inner().next()?;
        let span = self.span(&item, base);
        let doc = comments::doc_before(self.text, self.comments, span.start as usize);
        let rule = item.as_rule();
        let mut inner = item.into_inner().filter(|p| is_content(p.as_rule()));
        Some(match rule {
            Rule::use_item => {
                let path = inner.next()?;
                Item::Use(UseItem {
                    path: path
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::name)
                        .map(|p| self.ident(&p, base))
                        .collect(),
                    span,
                })
            }
            Rule::const_item => {
                let name = self.ident(&inner.next()?, base);
                let value = self.expr(inner.next()?, base);
                Item::Const(ConstItem {
                    name,
                    value,
                    doc,
                    span,
                })
            }
            Rule::model_item => {
                let name = self.ident(&inner.next()?, base);
                let value = self.call(inner.next()?, base);
                Item::Model(ModelItem {
                    name,
                    value,
                    doc,
                    span,
                })
            }
            Rule::builtin_item => {
                if self.mode == Mode::Program {
                    self.errors.push(SyntaxError::BuiltinOutsideStdlib { span });
                }
                let role_pair = inner.next()?;
                let role = match role_pair.as_str() {
                    "source" => Role::Source,
                    "stage" => Role::Stage,
                    "sink" => Role::Sink,
                    "model" => Role::Model,
                    "geometry" => Role::Geometry,
                    _ => Role::Decoder,
                };
                let role_span = self.span(&role_pair, base);
                let name = self.ident(&inner.next()?, base);
                let params = match inner.next() {
                    Some(params) => params
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::param)
                        .map(|p| self.param(p, base))
                        .collect(),
                    None => Vec::new(),
                };
                Item::Builtin(BuiltinDecl {
                    role,
                    role_span,
                    name,
                    params,
                    doc,
                    span,
                })
            }
            _ => return None,
        })
    }

    fn param(&mut self, pair: Pair<'t, Rule>, base: usize) -> Param {
        let span = self.span(&pair, base);
        let doc = comments::doc_before(self.text, self.comments, span.start as usize);
        let mut name = None;
        let mut ty = None;
        let mut range = None;
        let mut default = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::label => name = Some(self.ident(&p, base)),
                Rule::type_expr => ty = Some(self.type_expr(p, base)),
                Rule::range => range = Some(self.range(p, base)),
                Rule::expr => default = Some(self.expr(p, base)),
                _ => {}
            }
        }
        Param {
            name: name.unwrap_or_else(|| Ident {
                name: String::new(),
                span,
            }),
            ty: ty.unwrap_or(TypeExpr {
                kind: TypeKind::Wildcard,
                span,
            }),
            range,
            default,
            doc,
            span,
        }
    }

    fn range(&mut self, pair: Pair<'t, Rule>, base: usize) -> RangeDecl {
        let span = self.span(&pair, base);
        let mut min = None;
        let mut max = None;
        let mut inclusive = false;
        let mut seen_dots = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::range_dots => {
                    seen_dots = true;
                    inclusive = p.as_str() == "..=";
                }
                Rule::number => {
                    let lit = self.literal(&p, base);
                    if seen_dots {
                        max = Some(lit);
                    } else {
                        min = Some(lit);
                    }
                }
                _ => {}
            }
        }
        RangeDecl {
            min,
            max,
            inclusive,
            span,
        }
    }

    fn statement(&mut self, pair: Pair<'t, Rule>, base: usize) -> Statement {
        let span = self.span(&pair, base);
        match pair.as_rule() {
            Rule::let_stmt => {
                let mut inner = pair.into_inner().filter(|p| is_content(p.as_rule()));
                let name = self.ident(&inner.next().expect("let has a name"), base);
                let flow = self.flow(inner.next().expect("let has a flow"), base);
                Statement::Let(LetStmt { name, flow, span })
            }
            _ => {
                let flow = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::flow)
                    .expect("a flow statement has a flow");
                Statement::Flow(FlowStmt {
                    flow: self.flow(flow, base),
                    span,
                })
            }
        }
    }

    fn flow(&mut self, pair: Pair<'t, Rule>, base: usize) -> Flow {
        let span = self.span(&pair, base);
        let mut head = None;
        let mut stages = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::term => head = Some(self.term(p, base)),
                Rule::stage if stages.len() == MAX_STAGES => {
                    self.errors.push(SyntaxError::TooManyStages {
                        span: self.span(&p, base),
                        limit: MAX_STAGES,
                    });
                    break;
                }
                Rule::stage => {
                    let inner = p.into_inner().next().expect("a stage is a call");
                    let call = self.call(inner, base);
                    stages.push(call);
                }
                _ => {}
            }
        }
        Flow {
            head: head.expect("a flow has a head"),
            stages,
            span,
        }
    }

    fn term(&mut self, pair: Pair<'t, Rule>, base: usize) -> Term {
        let span = self.span(&pair, base);
        let mut kind = None;
        let mut ascription = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::call => {
                    kind = Some(match self.shape(p, base) {
                        Shape::Name(n) => TermKind::Name(n),
                        Shape::Call(c) => TermKind::Call(c),
                        Shape::Type(t) => {
                            self.errors.push(SyntaxError::TypeAsStage { span: t.span });
                            TermKind::Error
                        }
                    })
                }
                Rule::list_flow => {
                    let flows = p
                        .into_inner()
                        .filter(|q| q.as_rule() == Rule::flow)
                        .map(|q| self.flow(q, base))
                        .collect();
                    kind = Some(TermKind::List(flows));
                }
                Rule::paren_flow => {
                    let inner = p
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::flow)
                        .expect("parentheses hold a flow");
                    kind = Some(TermKind::Paren(Box::new(self.flow(inner, base))));
                }
                Rule::ascription => {
                    let ty = p
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::type_atom)
                        .expect("an ascription has a type");
                    ascription = Some(self.type_atom(ty, base));
                }
                _ => {}
            }
        }
        Term {
            kind: kind.expect("a term has a head"),
            ascription,
            span,
        }
    }

    /// Reads a `call` rule: a bare name, a call with arguments, or a type with arguments.
    fn shape(&mut self, pair: Pair<'t, Rule>, base: usize) -> Shape {
        let span = self.span(&pair, base);
        let mut inner = pair.into_inner();
        let name_pair = inner.next().expect("a call starts with a name");
        match inner.next() {
            None => Shape::Name(self.ident(&name_pair, base)),
            Some(suffix) if suffix.as_rule() == Rule::call_args => {
                let name = self.ident(&name_pair, base);
                let mut args = Vec::new();
                for p in suffix.into_inner() {
                    if p.as_rule() == Rule::args {
                        for a in p.into_inner().filter(|a| a.as_rule() == Rule::arg) {
                            args.push(self.arg(a, base));
                        }
                    }
                }
                Shape::Call(Call {
                    name,
                    args,
                    bare: false,
                    span,
                })
            }
            Some(type_args) => {
                let name = Ident {
                    name: name_pair.as_str().to_string(),
                    span: self.span(&name_pair, base),
                };
                let args = type_args
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::type_arg)
                    .map(|p| self.type_arg(p, base))
                    .collect();
                Shape::Type(TypeExpr {
                    kind: TypeKind::Named { name, args },
                    span,
                })
            }
        }
    }

    /// A call where a stage or a model constructor is expected; a bare name is a call
    /// without arguments (`decode` means `decode()`).
    fn call(&mut self, pair: Pair<'t, Rule>, base: usize) -> Call {
        match self.shape(pair, base) {
            Shape::Call(c) => c,
            Shape::Name(name) => Call {
                span: name.span,
                name,
                args: Vec::new(),
                bare: true,
            },
            Shape::Type(t) => {
                self.errors.push(SyntaxError::TypeAsStage { span: t.span });
                let name = match t.kind {
                    TypeKind::Named { name, .. } => name,
                    _ => Ident {
                        name: String::new(),
                        span: t.span,
                    },
                };
                Call {
                    span: t.span,
                    name,
                    args: Vec::new(),
                    bare: true,
                }
            }
        }
    }

    fn arg(&mut self, pair: Pair<'t, Rule>, base: usize) -> Arg {
        let span = self.span(&pair, base);
        let mut name = None;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::label => name = Some(self.ident(&p, base)),
                Rule::expr => value = Some(self.expr(p, base)),
                _ => {}
            }
        }
        Arg {
            name,
            value: value.expect("an argument has a value"),
            span,
        }
    }

    fn expr(&mut self, pair: Pair<'t, Rule>, base: usize) -> Expr {
        let span = self.span(&pair, base);
        let inner = pair.into_inner().next().expect("an expression has content");
        let kind = match inner.as_rule() {
            Rule::list => ExprKind::List(
                inner
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p, base))
                    .collect(),
            ),
            Rule::number => ExprKind::Number(self.literal(&inner, base)),
            Rule::string => ExprKind::String(self.string(&inner, base)),
            Rule::wildcard => ExprKind::Wildcard,
            _ => match inner.as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                _ => match self.shape(inner, base) {
                    Shape::Name(n) => ExprKind::Name(n),
                    Shape::Call(c) => ExprKind::Call(c),
                    Shape::Type(t) => ExprKind::Type(t),
                },
            },
        };
        Expr { kind, span }
    }

    fn literal(&mut self, pair: &Pair<'_, Rule>, base: usize) -> Literal {
        let text = pair.as_str().to_string();
        let value = match parse_number(&text) {
            Ok(v) => v,
            Err(error) => {
                self.errors.push(SyntaxError::InvalidLiteral {
                    span: self.span(pair, base),
                    text: text.clone(),
                    error,
                });
                LitValue::Invalid
            }
        };
        Literal { text, value }
    }

    fn string(&mut self, pair: &Pair<'_, Rule>, base: usize) -> String {
        let raw = pair.as_str();
        let start = base + pair.as_span().start();
        let body = &raw[1..raw.len() - 1];
        let mut out = String::with_capacity(body.len());
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, other)) => {
                    let at = start + 1 + i;
                    self.errors.push(SyntaxError::InvalidEscape {
                        span: Span::new(at, at + 1 + other.len_utf8()),
                        escape: other,
                    });
                }
                None => {}
            }
        }
        out
    }

    fn type_expr(&mut self, pair: Pair<'t, Rule>, base: usize) -> TypeExpr {
        let span = self.span(&pair, base);
        let mut atoms: Vec<TypeExpr> = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::type_atom)
            .map(|p| self.type_atom(p, base))
            .collect();
        if atoms.len() == 1 {
            return atoms.pop().expect("one atom");
        }
        TypeExpr {
            kind: TypeKind::Union(atoms),
            span,
        }
    }

    fn type_atom(&mut self, pair: Pair<'t, Rule>, base: usize) -> TypeExpr {
        let span = self.span(&pair, base);
        let inner = pair.into_inner().next().expect("a type atom has content");
        let kind = match inner.as_rule() {
            Rule::wildcard => TypeKind::Wildcard,
            Rule::list_type => {
                let inner = inner
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::type_expr)
                    .expect("a list type has an element type");
                TypeKind::List(Box::new(self.type_expr(inner, base)))
            }
            _ => {
                let mut name = None;
                let mut args = Vec::new();
                for p in inner.into_inner() {
                    match p.as_rule() {
                        Rule::name | Rule::label => name = Some(self.ident(&p, base)),
                        Rule::type_args => {
                            for a in p.into_inner().filter(|a| a.as_rule() == Rule::type_arg) {
                                args.push(self.type_arg(a, base));
                            }
                        }
                        _ => {}
                    }
                }
                TypeKind::Named {
                    name: name.expect("a named type has a name"),
                    args,
                }
            }
        };
        TypeExpr { kind, span }
    }

    fn type_arg(&mut self, pair: Pair<'t, Rule>, base: usize) -> TypeArg {
        let inner = pair
            .into_inner()
            .next()
            .expect("a type argument has content");
        let span = self.span(&inner, base);
        match inner.as_rule() {
            Rule::number => TypeArg::Number(self.literal(&inner, base), span),
            Rule::dims => {
                let dims = inner
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::dim)
                    .map(|d| {
                        let d = d.into_inner().next().expect("a dimension has content");
                        let dspan = self.span(&d, base);
                        match d.as_rule() {
                            Rule::number => Dim::Number(self.literal(&d, base), dspan),
                            Rule::wildcard => Dim::Wildcard(dspan),
                            _ => Dim::Name(self.ident(&d, base)),
                        }
                    })
                    .collect();
                TypeArg::Dims(dims, span)
            }
            _ => TypeArg::Type(self.type_atom(inner, base)),
        }
    }
}

/// "expected `;`" where the next token is on a later line: the statement or declaration
/// is complete but for its `;`.
fn is_missing_semi(error: &SyntaxError) -> bool {
    matches!(error, SyntaxError::Expected { expected, found, found_on_later_line, .. }
        if expected.contains(&Token::Semi) && (*found_on_later_line || *found == Found::EndOfFile))
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

fn token_of(rule: Rule) -> Option<Token> {
    Some(match rule {
        Rule::semi => Token::Semi,
        Rule::pipe => Token::Pipe,
        Rule::comma => Token::Comma,
        Rule::colon => Token::Colon,
        Rule::dot => Token::Dot,
        Rule::eq => Token::Eq,
        Rule::lt => Token::Lt,
        Rule::gt => Token::Gt,
        Rule::lparen => Token::LParen,
        Rule::rparen => Token::RParen,
        Rule::lbracket => Token::LBracket,
        Rule::rbracket => Token::RBracket,
        Rule::lbrace => Token::LBrace,
        Rule::rbrace | Rule::pipeline_close => Token::RBrace,
        Rule::name | Rule::label | Rule::module_path => Token::Name,
        Rule::number => Token::Number,
        Rule::string => Token::String,
        Rule::expr | Rule::list | Rule::call | Rule::call_args => Token::Value,
        Rule::args | Rule::arg => Token::Argument,
        Rule::flow | Rule::term | Rule::list_flow | Rule::paren_flow => Token::Flow,
        Rule::stage => Token::Stage,
        Rule::type_expr
        | Rule::type_atom
        | Rule::generic_type
        | Rule::list_type
        | Rule::type_arg
        | Rule::dims
        | Rule::dim => Token::Type,
        Rule::ascription => Token::Ascription,
        Rule::use_item | Rule::const_item | Rule::model_item | Rule::builtin_item => Token::Item,
        Rule::let_stmt | Rule::flow_stmt => Token::Statement,
        Rule::params | Rule::param => Token::Parameter,
        Rule::role => Token::Role,
        Rule::range | Rule::kw_in | Rule::range_dots => Token::Range,
        Rule::kw_use => Token::Keyword("use"),
        Rule::kw_const => Token::Keyword("const"),
        Rule::kw_model => Token::Keyword("model"),
        Rule::kw_pipeline => Token::Keyword("pipeline"),
        Rule::kw_let => Token::Keyword("let"),
        Rule::kw_true => Token::Keyword("true"),
        Rule::kw_false => Token::Keyword("false"),
        Rule::kw_builtin => Token::Keyword("builtin"),
        Rule::wildcard => Token::Value,
        _ => return None,
    })
}

/// Describes the token at `at` and its length in bytes.
fn found_at(text: &str, at: usize) -> (Found, usize) {
    let rest = &text[at.min(text.len())..];
    let Some(c) = rest.chars().next() else {
        return (Found::EndOfFile, 0);
    };
    if c == '"' {
        let len = rest[1..].find('"').map_or(rest.len(), |n| n + 2);
        return (Found::String, len);
    }
    if c.is_ascii_digit() || (c == '-' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
        let len = 1 + rest[1..]
            .find(|d: char| !(d.is_ascii_alphanumeric() || d == '.' || d == '/' || d == '_'))
            .unwrap_or(rest.len() - 1);
        return (Found::Number(rest[..len].to_string()), len);
    }
    if c.is_ascii_alphabetic() || c == '_' {
        let word = word_at(text, at).unwrap_or("");
        let keyword = matches!(
            word,
            "use" | "const" | "model" | "pipeline" | "let" | "true" | "false"
        );
        let found = if keyword {
            Found::Keyword(word.to_string())
        } else {
            Found::Name(word.to_string())
        };
        return (found, word.len());
    }
    (Found::Punct(c), c.len_utf8())
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
