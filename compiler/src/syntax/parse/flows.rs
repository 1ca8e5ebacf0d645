//! Statements and flows: `let` and flow statements, the terms that start a flow, and the
//! calls that are its stages.

use pest::iterators::Pair;

use super::{Driver, MAX_STAGES, is_content};
use crate::syntax::ast::*;
use crate::syntax::errors::SyntaxError;
use crate::syntax::grammar::Rule;

/// A `call` rule read as what it turned out to be.
pub(super) enum Shape {
    Name(Ident),
    Call(Call),
    Type(TypeExpr),
}

impl<'t> Driver<'t> {
    pub(super) fn statement(&mut self, pair: Pair<'t, Rule>, base: usize) -> Statement {
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

    pub(super) fn flow(&mut self, pair: Pair<'t, Rule>, base: usize) -> Flow {
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

    pub(super) fn term(&mut self, pair: Pair<'t, Rule>, base: usize) -> Term {
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
    pub(super) fn shape(&mut self, pair: Pair<'t, Rule>, base: usize) -> Shape {
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
    pub(super) fn call(&mut self, pair: Pair<'t, Rule>, base: usize) -> Call {
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
}
