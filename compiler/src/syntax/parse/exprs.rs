//! Expressions and arguments: lists, numbers with their units, strings with their
//! escapes, names, calls and types written as values.

use pest::iterators::Pair;

use super::Driver;
use super::flows::Shape;
use crate::span::Span;
use crate::syntax::ast::*;
use crate::syntax::errors::SyntaxError;
use crate::syntax::grammar::Rule;
use crate::syntax::literal::{LitValue, Literal, parse_number};

impl<'t> Driver<'t> {
    pub(super) fn arg(&mut self, pair: Pair<'t, Rule>, base: usize) -> Arg {
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

    pub(super) fn expr(&mut self, pair: Pair<'t, Rule>, base: usize) -> Expr {
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

    pub(super) fn literal(&mut self, pair: &Pair<'_, Rule>, base: usize) -> Literal {
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

    pub(super) fn string(&mut self, pair: &Pair<'_, Rule>, base: usize) -> String {
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
}
