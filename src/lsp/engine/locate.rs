//! Syntax tree + byte offset → the named thing under the cursor (a stream, a stage, a
//! parameter, a model or a constant), read from the tree alone so that it works in files
//! with errors too. Hover and go-to-definition both start here.

use vpl_compiler::stdlib::{Builtin, stdlib};
use vpl_compiler::syntax::ast::{
    Call, ConstItem, Expr, ExprKind, Flow, Ident, Item, LetStmt, ModelItem, Pipeline, Role,
    SourceFile, Statement, TermKind,
};

/// What the cursor is on.
pub enum Found<'a> {
    /// The name of a `let`.
    LetName {
        pipeline: &'a Pipeline,
        stmt: &'a LetStmt,
    },
    /// A stream name used in a flow.
    StreamUse {
        pipeline: &'a Pipeline,
        ident: &'a Ident,
    },
    /// The name of a call: a stage, source, sink, model format or decoder.
    CallName {
        call: &'a Call,
        role: Role,
    },
    /// The name of a named argument.
    ArgName {
        call: &'a Call,
        role: Role,
        ident: &'a Ident,
    },
    /// A name written as a value: a model, a constant, or a word such as `letterbox`.
    ValueName {
        ident: &'a Ident,
    },
    ModelName(&'a ModelItem),
    ConstName(&'a ConstItem),
}

/// The built-in a call refers to, given the role its place in the program gives it
/// (`file` at the head of a flow is the source, at the end the sink).
pub fn builtin(call: &Call, role: Role) -> Option<&'static Builtin> {
    builtin_named(&call.name.name, role)
}

pub fn builtin_named(name: &str, role: Role) -> Option<&'static Builtin> {
    let lib = stdlib();
    lib.lookup_role(name, role)
        .or_else(|| match role {
            Role::Stage => lib.lookup_role(name, Role::Sink),
            _ => None,
        })
        .or_else(|| lib.lookup(name).next())
        .map(|(_, b)| b)
}

pub fn find(file: &SourceFile, offset: usize) -> Option<Found<'_>> {
    for item in &file.items {
        if !item.span().contains(offset) {
            continue;
        }
        let found = match item {
            Item::Const(c) if c.name.span.contains(offset) => Some(Found::ConstName(c)),
            Item::Const(c) => expr(&c.value, offset),
            Item::Model(m) if m.name.span.contains(offset) => Some(Found::ModelName(m)),
            Item::Model(m) => call(&m.value, Role::Model, offset),
            Item::Pipeline(p) => pipeline(p, offset),
            Item::Use(_) | Item::Builtin(_) => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn pipeline(p: &Pipeline, offset: usize) -> Option<Found<'_>> {
    for statement in &p.body {
        if !statement.span().contains(offset) {
            continue;
        }
        let found = match statement {
            Statement::Let(stmt) if stmt.name.span.contains(offset) => {
                Some(Found::LetName { pipeline: p, stmt })
            }
            Statement::Let(stmt) => flow(p, &stmt.flow, offset),
            Statement::Flow(stmt) => flow(p, &stmt.flow, offset),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn flow<'a>(p: &'a Pipeline, f: &'a Flow, offset: usize) -> Option<Found<'a>> {
    let head = match &f.head.kind {
        TermKind::Call(c) => call(c, Role::Source, offset),
        TermKind::Name(ident) if ident.span.contains(offset) => {
            Some(Found::StreamUse { pipeline: p, ident })
        }
        TermKind::List(flows) => flows.iter().find_map(|f| flow(p, f, offset)),
        TermKind::Paren(inner) => flow(p, inner, offset),
        TermKind::Name(_) | TermKind::Error => None,
    };
    head.or_else(|| {
        f.stages
            .iter()
            .find_map(|stage| call(stage, Role::Stage, offset))
    })
}

fn call(c: &Call, role: Role, offset: usize) -> Option<Found<'_>> {
    if !c.span.contains(offset) {
        return None;
    }
    if c.name.span.contains(offset) {
        return Some(Found::CallName { call: c, role });
    }
    for arg in &c.args {
        if let Some(ident) = &arg.name
            && ident.span.contains(offset)
        {
            return Some(Found::ArgName {
                call: c,
                role,
                ident,
            });
        }
        if let Some(found) = expr(&arg.value, offset) {
            return Some(found);
        }
    }
    None
}

fn expr(e: &Expr, offset: usize) -> Option<Found<'_>> {
    if !e.span.contains(offset) {
        return None;
    }
    match &e.kind {
        ExprKind::Name(ident) => Some(Found::ValueName { ident }),
        ExprKind::Call(c) => call(c, Role::Decoder, offset),
        ExprKind::List(items) => items.iter().find_map(|e| expr(e, offset)),
        _ => None,
    }
}

/// The `let` of `name` that a use at `offset` in pipeline `p` refers to: the last one
/// before the use (names must be defined before use), else any (the error says so).
pub fn let_of<'a>(p: &'a Pipeline, name: &str, offset: usize) -> Option<&'a LetStmt> {
    let lets = p.body.iter().filter_map(|s| match s {
        Statement::Let(l) if l.name.name == name => Some(l),
        _ => None,
    });
    let before = lets.clone().rfind(|l| (l.span.end as usize) <= offset);
    before.or_else(|| lets.clone().next())
}

pub fn model<'a>(file: &'a SourceFile, name: &str) -> Option<&'a ModelItem> {
    file.items.iter().find_map(|i| match i {
        Item::Model(m) if m.name.name == name => Some(m),
        _ => None,
    })
}

pub fn constant<'a>(file: &'a SourceFile, name: &str) -> Option<&'a ConstItem> {
    file.items.iter().find_map(|i| match i {
        Item::Const(c) if c.name.name == name => Some(c),
        _ => None,
    })
}
