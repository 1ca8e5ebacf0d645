//! Moving results made for an earlier version of a file onto the current one. An edit
//! replaced the old bytes `start..old_end` by new ones ending at `new_end`; a result is only
//! reused when it lies outside the edit (and names only places outside it), so each of its
//! spans either stays (before the edit) or moves by the edit's change in length (after it).
//!
//! Every struct is taken apart field by field (no `..`), so a span added to one of these
//! types later does not compile until it is moved here too.

use crate::check::{InferSite, Site, Ty, TypedPipeline};
use crate::diagnostics::{Diagnostic, Label};
use crate::hir;
use crate::source::FileId;
use crate::span::Span;
use crate::syntax::ast;

/// One contiguous edit, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
}

impl Edit {
    /// The identity edit: nothing changed.
    pub fn none() -> Edit {
        Edit {
            start: usize::MAX,
            old_end: usize::MAX,
            new_end: usize::MAX,
        }
    }

    pub fn delta(&self) -> i64 {
        self.new_end as i64 - self.old_end as i64
    }

    /// Whether `start..end` of the old text lies wholly before or after the edit (text
    /// inserted right at its start or end leaves it whole).
    pub fn clear_of(&self, start: usize, end: usize) -> bool {
        end <= self.start || start >= self.old_end
    }

    fn start(&self, p: u32) -> u32 {
        if p as usize >= self.old_end {
            (p as i64 + self.delta()) as u32
        } else {
            p
        }
    }

    fn end(&self, p: u32) -> u32 {
        if p as usize > self.start && p as usize >= self.old_end {
            (p as i64 + self.delta()) as u32
        } else {
            p
        }
    }

    pub fn span(&self, s: Span) -> Span {
        Span {
            start: self.start(s.start),
            end: self.end(s.end),
        }
    }

    pub fn offset(&self, p: usize) -> usize {
        self.start(p as u32) as usize
    }
}

/// Moves every span of a value across an edit.
pub trait Rebase {
    fn rebase(&mut self, edit: &Edit);
}

impl Rebase for Span {
    fn rebase(&mut self, edit: &Edit) {
        *self = edit.span(*self);
    }
}

impl<T: Rebase> Rebase for Vec<T> {
    fn rebase(&mut self, edit: &Edit) {
        for x in self {
            x.rebase(edit);
        }
    }
}

impl<T: Rebase> Rebase for Option<T> {
    fn rebase(&mut self, edit: &Edit) {
        if let Some(x) = self {
            x.rebase(edit);
        }
    }
}

impl<T: Rebase> Rebase for Box<T> {
    fn rebase(&mut self, edit: &Edit) {
        (**self).rebase(edit);
    }
}

/// Diagnostics also move to the current version's file.
pub fn rebase_diagnostic(d: &mut Diagnostic, edit: &Edit, from: FileId, to: FileId) {
    let Diagnostic {
        code: _,
        severity: _,
        message: _,
        primary,
        labels,
        help: _,
        suggestion: _,
    } = d;
    for label in std::iter::once(primary).chain(labels.iter_mut()) {
        let Label {
            file,
            span,
            message: _,
        } = label;
        if *file == from {
            *file = to;
            span.rebase(edit);
        }
    }
}

// ---- the syntax tree ----

impl Rebase for ast::Ident {
    fn rebase(&mut self, edit: &Edit) {
        let ast::Ident { name: _, span } = self;
        span.rebase(edit);
    }
}

impl Rebase for ast::Item {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::Item::Use(ast::UseItem { path, span }) => {
                path.rebase(edit);
                span.rebase(edit);
            }
            ast::Item::Const(ast::ConstItem {
                name,
                value,
                doc: _,
                span,
            }) => {
                name.rebase(edit);
                value.rebase(edit);
                span.rebase(edit);
            }
            ast::Item::Model(ast::ModelItem {
                name,
                value,
                doc: _,
                span,
            }) => {
                name.rebase(edit);
                value.rebase(edit);
                span.rebase(edit);
            }
            ast::Item::Pipeline(p) => p.rebase(edit),
            ast::Item::Builtin(ast::BuiltinDecl {
                role: _,
                role_span,
                name,
                params,
                doc: _,
                span,
            }) => {
                role_span.rebase(edit);
                name.rebase(edit);
                params.rebase(edit);
                span.rebase(edit);
            }
        }
    }
}

impl Rebase for ast::Param {
    fn rebase(&mut self, edit: &Edit) {
        let ast::Param {
            name,
            ty,
            range,
            default,
            doc: _,
            span,
        } = self;
        name.rebase(edit);
        ty.rebase(edit);
        if let Some(ast::RangeDecl {
            min: _,
            max: _,
            inclusive: _,
            span,
        }) = range
        {
            span.rebase(edit);
        }
        default.rebase(edit);
        span.rebase(edit);
    }
}

impl Rebase for ast::Pipeline {
    fn rebase(&mut self, edit: &Edit) {
        let ast::Pipeline {
            name,
            body,
            doc: _,
            span,
        } = self;
        name.rebase(edit);
        body.rebase(edit);
        span.rebase(edit);
    }
}

impl Rebase for ast::Statement {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::Statement::Let(ast::LetStmt { name, flow, span }) => {
                name.rebase(edit);
                flow.rebase(edit);
                span.rebase(edit);
            }
            ast::Statement::Flow(ast::FlowStmt { flow, span }) => {
                flow.rebase(edit);
                span.rebase(edit);
            }
        }
    }
}

impl Rebase for ast::Flow {
    fn rebase(&mut self, edit: &Edit) {
        let ast::Flow { head, stages, span } = self;
        head.rebase(edit);
        stages.rebase(edit);
        span.rebase(edit);
    }
}

impl Rebase for ast::Term {
    fn rebase(&mut self, edit: &Edit) {
        let ast::Term {
            kind,
            ascription,
            span,
        } = self;
        match kind {
            ast::TermKind::Call(c) => c.rebase(edit),
            ast::TermKind::Name(n) => n.rebase(edit),
            ast::TermKind::List(flows) => flows.rebase(edit),
            ast::TermKind::Paren(flow) => flow.rebase(edit),
            ast::TermKind::Error => {}
        }
        ascription.rebase(edit);
        span.rebase(edit);
    }
}

impl Rebase for ast::Call {
    fn rebase(&mut self, edit: &Edit) {
        let ast::Call {
            name,
            args,
            bare: _,
            span,
        } = self;
        name.rebase(edit);
        for ast::Arg { name, value, span } in args {
            name.rebase(edit);
            value.rebase(edit);
            span.rebase(edit);
        }
        span.rebase(edit);
    }
}

impl Rebase for ast::Expr {
    fn rebase(&mut self, edit: &Edit) {
        let ast::Expr { kind, span } = self;
        match kind {
            ast::ExprKind::Number(_)
            | ast::ExprKind::String(_)
            | ast::ExprKind::Bool(_)
            | ast::ExprKind::Wildcard => {}
            ast::ExprKind::Name(n) => n.rebase(edit),
            ast::ExprKind::Call(c) => c.rebase(edit),
            ast::ExprKind::List(items) => items.rebase(edit),
            ast::ExprKind::Type(t) => t.rebase(edit),
        }
        span.rebase(edit);
    }
}

impl Rebase for ast::TypeExpr {
    fn rebase(&mut self, edit: &Edit) {
        let ast::TypeExpr { kind, span } = self;
        match kind {
            ast::TypeKind::Wildcard => {}
            ast::TypeKind::Named { name, args } => {
                name.rebase(edit);
                for arg in args {
                    match arg {
                        ast::TypeArg::Type(t) => t.rebase(edit),
                        ast::TypeArg::Number(_, s) => s.rebase(edit),
                        ast::TypeArg::Dims(dims, s) => {
                            for d in dims {
                                match d {
                                    ast::Dim::Number(_, s) | ast::Dim::Wildcard(s) => {
                                        s.rebase(edit)
                                    }
                                    ast::Dim::Name(n) => n.rebase(edit),
                                }
                            }
                            s.rebase(edit);
                        }
                    }
                }
            }
            ast::TypeKind::List(t) => t.rebase(edit),
            ast::TypeKind::Union(ts) => ts.rebase(edit),
        }
        span.rebase(edit);
    }
}

// ---- the resolved program ----

impl Rebase for hir::Pipeline {
    fn rebase(&mut self, edit: &Edit) {
        let hir::Pipeline {
            name,
            lets,
            flows,
            span,
        } = self;
        name.rebase(edit);
        for hir::Let {
            name,
            flow,
            uses,
            broken: _,
        } in lets
        {
            name.rebase(edit);
            flow.rebase(edit);
            uses.rebase(edit);
        }
        for hir::FlowStatement { flow, span } in flows {
            flow.rebase(edit);
            span.rebase(edit);
        }
        span.rebase(edit);
    }
}

impl Rebase for hir::Flow {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            hir::Flow::Source { call, ascription } => {
                call.rebase(edit);
                ascription.rebase(edit);
            }
            hir::Flow::Stream {
                id: _,
                span,
                ascription,
            } => {
                span.rebase(edit);
                ascription.rebase(edit);
            }
            hir::Flow::List {
                items,
                span,
                ascription,
            } => {
                items.rebase(edit);
                span.rebase(edit);
                ascription.rebase(edit);
            }
            hir::Flow::Ascribed {
                input,
                ascription,
                span,
            } => {
                input.rebase(edit);
                ascription.rebase(edit);
                span.rebase(edit);
            }
            hir::Flow::Apply { input, call } => {
                input.rebase(edit);
                call.rebase(edit);
            }
        }
    }
}

impl Rebase for hir::BoundCall {
    fn rebase(&mut self, edit: &Edit) {
        let hir::BoundCall {
            id: _,
            builtin: _,
            kind: _,
            name: _,
            role: _,
            span,
            name_span,
            args,
            resolved_path: _,
        } = self;
        span.rebase(edit);
        name_span.rebase(edit);
        for hir::BoundArg {
            value,
            span,
            given: _,
        } in args
        {
            value.rebase(edit);
            span.rebase(edit);
        }
    }
}

impl Rebase for hir::Value {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            hir::Value::Int(_)
            | hir::Value::Float(_)
            | hir::Value::Bool(_)
            | hir::Value::String(_)
            | hir::Value::Duration(_)
            | hir::Value::Bitrate(_)
            | hir::Value::Rate { .. }
            | hir::Value::Resolution { .. }
            | hir::Value::Symbol(_)
            | hir::Value::Model(_)
            | hir::Value::Unset => {}
            hir::Value::List(items) => items.rebase(edit),
            hir::Value::Decoder(call) => call.rebase(edit),
            hir::Value::Tensor(t) => t.rebase(edit),
            hir::Value::Shape { name: _, call } => call.rebase(edit),
        }
    }
}

// ---- the typed program ----

impl Rebase for TypedPipeline {
    fn rebase(&mut self, edit: &Edit) {
        let TypedPipeline {
            name: _,
            lets,
            sites,
        } = self;
        for (_, span, ty) in lets {
            span.rebase(edit);
            ty.rebase(edit);
        }
        for Site {
            call: _,
            input,
            output,
            media: _,
            infer,
        } in sites
        {
            input.rebase(edit);
            output.rebase(edit);
            if let Some(InferSite {
                model: _,
                batch: _,
                streams: _,
                reason: _,
            }) = infer
            {}
        }
    }
}

impl Rebase for Ty {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            Ty::Video(_) | Ty::Records | Ty::Error => {}
            Ty::Batch {
                size: _,
                streams: _,
                frame: _,
                site,
            } => site.rebase(edit),
            Ty::List(items) => items.rebase(edit),
        }
    }
}
