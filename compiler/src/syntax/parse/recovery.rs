//! Recovery from syntax errors: what the parser expected and found at an error (worded
//! in `errors.rs`), where it goes on, and what it keeps of an item or statement that only
//! lacks its `;` or a `let` whose flow is broken.

use pest::Parser;

use super::{Driver, KEYWORDS, Recovered, word_at};
use crate::span::Span;
use crate::syntax::ast::*;
use crate::syntax::comments;
use crate::syntax::errors::{Context, Expected, Found, SyntaxError, Token};
use crate::syntax::grammar::{Rule, VplGrammar};

impl<'t> Driver<'t> {
    pub(super) fn describe(&self, at: usize, positives: &[Rule], context: Context) -> SyntaxError {
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
        SyntaxError::Expected(Expected {
            expected,
            found,
            at: Span::empty(prev_end),
            found_span: Span::new(at, at + found_len),
            after_pipe,
            found_on_later_line,
            context,
        })
    }

    /// Where to go on after an error at `at` in an entry that started at `start`.
    pub(super) fn resume_after(
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
    pub(super) fn skip_statement(&self, from: usize) -> usize {
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
    pub(super) fn skip_to_next_item(&self, from: usize) -> usize {
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

    /// After "expected `;`" at `at`, builds `start..at` as if the `;` were there, so a
    /// declaration or statement that only lacks its `;` keeps its name defined.
    pub(super) fn reparse_without_semi(
        &mut self,
        rule: Rule,
        start: usize,
        at: usize,
    ) -> Option<Recovered> {
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
    pub(super) fn broken_let(&self, start: usize, end: usize) -> Option<Statement> {
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
}

/// "expected `;`" where the statement or declaration is complete but for its `;`.
pub(super) fn is_missing_semi(error: &SyntaxError) -> bool {
    matches!(error, SyntaxError::Expected(e) if e.lacks_semi())
}

pub(super) fn token_of(rule: Rule) -> Option<Token> {
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
pub(super) fn found_at(text: &str, at: usize) -> (Found, usize) {
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
        let found = if KEYWORDS.contains(&word) {
            Found::Keyword(word.to_string())
        } else {
            Found::Name(word.to_string())
        };
        return (found, word.len());
    }
    (Found::Punct(c), c.len_utf8())
}
