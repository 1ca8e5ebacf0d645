//! Types: unions, lists, named types with their arguments (`video<h264, 1280x720, _>`,
//! `tensor<f32, [1, 3, 640, 640]>`).

use pest::iterators::Pair;

use super::Driver;
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl<'t> Driver<'t> {
    pub(super) fn type_expr(&mut self, pair: Pair<'t, Rule>, base: usize) -> TypeExpr {
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

    pub(super) fn type_atom(&mut self, pair: Pair<'t, Rule>, base: usize) -> TypeExpr {
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

    pub(super) fn type_arg(&mut self, pair: Pair<'t, Rule>, base: usize) -> TypeArg {
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
