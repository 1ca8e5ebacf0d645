//! Syntax tree → a span-free text form, so two trees can be compared whatever their
//! layout (`vplc fmt` promises the formatted program parses to the same tree).

use std::fmt::Write;

use super::ast::*;

pub fn dump(file: &SourceFile) -> String {
    let mut out = String::new();
    for item in &file.items {
        item_to(&mut out, item);
        out.push('\n');
    }
    out
}

fn item_to(out: &mut String, item: &Item) {
    match item {
        Item::Use(u) => {
            let path: Vec<&str> = u.path.iter().map(|i| i.name.as_str()).collect();
            let _ = write!(out, "(use {})", path.join("."));
        }
        Item::Const(c) => {
            let _ = write!(out, "(const {} ", c.name.name);
            expr_to(out, &c.value);
            out.push(')');
            doc_to(out, &c.doc);
        }
        Item::Model(m) => {
            let _ = write!(out, "(model {} ", m.name.name);
            call_to(out, &m.value);
            out.push(')');
            doc_to(out, &m.doc);
        }
        Item::Pipeline(p) => {
            let _ = write!(out, "(pipeline {}", p.name.name);
            for s in &p.body {
                out.push_str("\n  ");
                match s {
                    Statement::Let(l) => {
                        let _ = write!(out, "(let {} ", l.name.name);
                        flow_to(out, &l.flow);
                        out.push(')');
                    }
                    Statement::Flow(f) => flow_to(out, &f.flow),
                }
            }
            out.push(')');
            doc_to(out, &p.doc);
        }
        Item::Builtin(b) => {
            let _ = write!(out, "(builtin {} {}", b.role.as_str(), b.name.name);
            for p in &b.params {
                let _ = write!(out, " ({} ", p.name.name);
                type_to(out, &p.ty);
                if let Some(r) = &p.range {
                    let lit = |l: &Option<super::literal::Literal>| {
                        l.as_ref().map(|l| l.text.clone()).unwrap_or_default()
                    };
                    let dots = if r.inclusive { "..=" } else { ".." };
                    let _ = write!(out, " in {}{dots}{}", lit(&r.min), lit(&r.max));
                }
                if let Some(d) = &p.default {
                    out.push_str(" = ");
                    expr_to(out, d);
                }
                out.push(')');
                doc_to(out, &p.doc);
            }
            out.push(')');
            doc_to(out, &b.doc);
        }
    }
}

fn doc_to(out: &mut String, doc: &Option<String>) {
    if let Some(d) = doc {
        let _ = write!(out, " #doc{d:?}");
    }
}

fn flow_to(out: &mut String, flow: &Flow) {
    out.push_str("(flow ");
    match &flow.head.kind {
        TermKind::Call(c) => call_to(out, c),
        TermKind::Name(n) => out.push_str(&n.name),
        TermKind::List(flows) => {
            out.push_str("[list");
            for f in flows {
                out.push(' ');
                flow_to(out, f);
            }
            out.push(']');
        }
        TermKind::Error => out.push_str("<error>"),
        TermKind::Paren(f) => {
            out.push_str("(paren ");
            flow_to(out, f);
            out.push(')');
        }
    }
    if let Some(t) = &flow.head.ascription {
        out.push_str(" : ");
        type_to(out, t);
    }
    for s in &flow.stages {
        out.push_str(" | ");
        call_to(out, s);
    }
    out.push(')');
}

fn call_to(out: &mut String, call: &Call) {
    out.push_str(&call.name.name);
    if call.bare {
        return;
    }
    out.push('(');
    for (i, a) in call.args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if let Some(n) = &a.name {
            let _ = write!(out, "{}: ", n.name);
        }
        expr_to(out, &a.value);
    }
    out.push(')');
}

fn expr_to(out: &mut String, expr: &Expr) {
    match &expr.kind {
        ExprKind::Number(l) => out.push_str(&l.text),
        ExprKind::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        ExprKind::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        ExprKind::Wildcard => out.push('_'),
        ExprKind::Name(n) => out.push_str(&n.name),
        ExprKind::Call(c) => call_to(out, c),
        ExprKind::Type(t) => type_to(out, t),
        ExprKind::List(items) => {
            out.push('[');
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                expr_to(out, e);
            }
            out.push(']');
        }
    }
}

pub(crate) fn type_to(out: &mut String, ty: &TypeExpr) {
    match &ty.kind {
        TypeKind::Wildcard => out.push('_'),
        TypeKind::Named { name, args } => {
            out.push_str(&name.name);
            if !args.is_empty() {
                out.push('<');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match a {
                        TypeArg::Type(t) => type_to(out, t),
                        TypeArg::Number(l, _) => out.push_str(&l.text),
                        TypeArg::Dims(dims, _) => {
                            out.push('[');
                            for (j, d) in dims.iter().enumerate() {
                                if j > 0 {
                                    out.push_str(", ");
                                }
                                match d {
                                    Dim::Number(l, _) => out.push_str(&l.text),
                                    Dim::Name(n) => out.push_str(&n.name),
                                    Dim::Wildcard(_) => out.push('_'),
                                }
                            }
                            out.push(']');
                        }
                    }
                }
                out.push('>');
            }
        }
        TypeKind::List(t) => {
            out.push('[');
            type_to(out, t);
            out.push(']');
        }
        TypeKind::Union(ts) => {
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    out.push_str(" | ");
                }
                type_to(out, t);
            }
        }
    }
}
