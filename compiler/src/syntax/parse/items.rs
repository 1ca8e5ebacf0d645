//! Items: `use`, `const`, `model`, `builtin` declarations (their parameters and ranges),
//! and a pipeline, read statement by statement so that one broken statement does not hide
//! the next.

use pest::iterators::Pair;

use super::recovery::found_at;
use super::{Driver, Mode, Recovered, is_content};
use crate::span::Span;
use crate::syntax::ast::*;
use crate::syntax::comments;
use crate::syntax::errors::{Context, Expected, SyntaxError, Token};
use crate::syntax::grammar::Rule;

impl<'t> Driver<'t> {
    pub(super) fn pipeline(&mut self, start: usize) -> (Option<Pipeline>, usize) {
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
                self.errors.push(SyntaxError::Expected(Expected {
                    expected: vec![Token::RBrace],
                    found,
                    at: Span::empty(self.prev_token_end(pos)),
                    found_span: Span::new(pos, pos + len),
                    after_pipe: false,
                    found_on_later_line: true,
                    context: Context::Statement,
                }));
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

    pub(super) fn item(&mut self, entry: Pair<'t, Rule>, base: usize) -> Option<Item> {
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

    pub(super) fn param(&mut self, pair: Pair<'t, Rule>, base: usize) -> Param {
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

    pub(super) fn range(&mut self, pair: Pair<'t, Rule>, base: usize) -> RangeDecl {
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
}
