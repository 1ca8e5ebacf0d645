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

/// `Rebase` for structs: `Type { fields, with, spans; fields, without }` moves the spans
/// of the fields before the `;` and leaves those after it. Every field is named on one side
/// or the other, so a field added to one of these types later does not compile until it is
/// placed here too.
macro_rules! rebase_fields {
    ($($ty:path { $($moved:ident),* $(; $($kept:ident),*)? })*) => {
        $(
            impl Rebase for $ty {
                fn rebase(&mut self, edit: &Edit) {
                    let $ty { $($moved,)* $($($kept: _,)*)? } = self;
                    $($moved.rebase(edit);)*
                }
            }
        )*
    };
}

// ---- the syntax tree ----

rebase_fields! {
    ast::Ident { span; name }
    ast::UseItem { path, span }
    ast::ConstItem { name, value, span; doc }
    ast::ModelItem { name, value, span; doc }
    ast::BuiltinDecl { role_span, name, params, span; role, doc }
    ast::Param { name, ty, range, default, span; doc }
    ast::RangeDecl { span; min, max, inclusive }
    ast::Pipeline { name, body, span; doc }
    ast::LetStmt { name, flow, span }
    ast::FlowStmt { flow, span }
    ast::Flow { head, stages, span }
    ast::Term { kind, ascription, span }
    ast::Call { name, args, span; bare }
    ast::Arg { name, value, span }
    ast::Expr { kind, span }
    ast::TypeExpr { kind, span }
}

impl Rebase for ast::Item {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::Item::Use(u) => u.rebase(edit),
            ast::Item::Const(c) => c.rebase(edit),
            ast::Item::Model(m) => m.rebase(edit),
            ast::Item::Pipeline(p) => p.rebase(edit),
            ast::Item::Builtin(b) => b.rebase(edit),
        }
    }
}

impl Rebase for ast::Statement {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::Statement::Let(l) => l.rebase(edit),
            ast::Statement::Flow(f) => f.rebase(edit),
        }
    }
}

impl Rebase for ast::TermKind {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::TermKind::Call(c) => c.rebase(edit),
            ast::TermKind::Name(n) => n.rebase(edit),
            ast::TermKind::List(flows) => flows.rebase(edit),
            ast::TermKind::Paren(flow) => flow.rebase(edit),
            ast::TermKind::Error => {}
        }
    }
}

impl Rebase for ast::ExprKind {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::ExprKind::Number(_)
            | ast::ExprKind::String(_)
            | ast::ExprKind::Bool(_)
            | ast::ExprKind::Wildcard => {}
            ast::ExprKind::Name(n) => n.rebase(edit),
            ast::ExprKind::Call(c) => c.rebase(edit),
            ast::ExprKind::List(items) => items.rebase(edit),
            ast::ExprKind::Type(t) => t.rebase(edit),
        }
    }
}

impl Rebase for ast::TypeKind {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::TypeKind::Wildcard => {}
            ast::TypeKind::Named { name, args } => {
                name.rebase(edit);
                args.rebase(edit);
            }
            ast::TypeKind::List(t) => t.rebase(edit),
            ast::TypeKind::Union(ts) => ts.rebase(edit),
        }
    }
}

impl Rebase for ast::TypeArg {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::TypeArg::Type(t) => t.rebase(edit),
            ast::TypeArg::Number(_, s) => s.rebase(edit),
            ast::TypeArg::Dims(dims, s) => {
                dims.rebase(edit);
                s.rebase(edit);
            }
        }
    }
}

impl Rebase for ast::Dim {
    fn rebase(&mut self, edit: &Edit) {
        match self {
            ast::Dim::Number(_, s) | ast::Dim::Wildcard(s) => s.rebase(edit),
            ast::Dim::Name(n) => n.rebase(edit),
        }
    }
}

// ---- the resolved program ----

rebase_fields! {
    hir::Pipeline { name, lets, flows, span }
    hir::Let { name, flow, uses; broken }
    hir::FlowStatement { flow, span }
    hir::BoundCall { span, name_span, args; id, builtin, kind, name, role, resolved_path, resolved_video }
    hir::BoundArg { value, span; given }
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

rebase_fields! {
    Site { input, output, infer; call, media, replay_frames }
}

/// Holds no span, but names its fields all the same, so that one added later is seen here.
impl Rebase for InferSite {
    fn rebase(&mut self, _: &Edit) {
        let InferSite {
            model: _,
            batch: _,
            streams: _,
            reason: _,
        } = self;
    }
}

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
        sites.rebase(edit);
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
