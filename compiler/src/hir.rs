//! The resolved program: every name bound to its definition, every call bound to a
//! built-in with its arguments checked and in parameter order. Produced by `resolve`,
//! read by the type checker and lowering. Spans point into the user's file.

use std::path::PathBuf;

use crate::stage::StageKind;
use crate::stdlib::BuiltinId;
use crate::syntax::Span;
use crate::syntax::ast::{Ident, Role, TypeExpr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LetId(pub u32);

/// A call's number among the calls of its pipeline, in the order name resolution binds
/// them (the file's constants and models number theirs apart). What the checker finds at
/// each call of a pipeline is keyed by it (`check::TypedPipeline::sites`): a pipeline
/// moved across an edit by the incremental checker keeps its numbers, as it keeps its
/// resolved and typed forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    String(String),
    Duration(i64),
    Bitrate(i64),
    Rate {
        num: u64,
        den: u64,
    },
    Resolution {
        width: u32,
        height: u32,
    },
    /// A word of an enumerated parameter: `iou`, `letterbox`, `h264`.
    Symbol(String),
    List(Vec<Value>),
    Model(ModelId),
    Decoder(Box<BoundCall>),
    Tensor(TypeExpr),
    /// A `zone(...)` or `line(...)`; `name` is the constant's that holds it (`None` when
    /// written in place).
    Shape {
        name: Option<String>,
        call: Box<BoundCall>,
    },
    /// `_`, or a parameter whose default is "chosen later".
    Unset,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoundArg {
    pub value: Value,
    /// The value as written, or the call when the default was taken.
    pub span: Span,
    /// Written by the user (not a default).
    pub given: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoundCall {
    pub id: CallId,
    pub builtin: BuiltinId,
    /// What the built-in is; behaviour matches on this, never on `name`.
    pub kind: StageKind,
    pub name: String,
    pub role: Role,
    pub span: Span,
    pub name_span: Span,
    /// One per parameter of the built-in, in declaration order.
    pub args: Vec<BoundArg>,
    /// Paths named by the call, resolved against the `.vpl` file's directory.
    pub resolved_path: Option<PathBuf>,
    /// `replay(video:)`: the video, resolved against the `.vpl` file's directory.
    pub resolved_video: Option<PathBuf>,
}

impl BoundCall {
    pub fn arg(&self, index: usize) -> &Value {
        &self.args[index].value
    }

    /// The argument bound to parameter `name`.
    pub fn bound(&self, name: &str) -> Option<&BoundArg> {
        let (index, _) = crate::stdlib::stdlib().get(self.builtin).param(name)?;
        self.args.get(index)
    }

    pub fn value(&self, name: &str) -> Option<&Value> {
        self.bound(name).map(|a| &a.value)
    }

    /// A string or an enum word.
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.value(name)? {
            Value::String(s) | Value::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// An integer; durations in nanoseconds and bitrates in bits per second.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.value(name)? {
            Value::Int(i) | Value::Duration(i) | Value::Bitrate(i) => Some(*i),
            _ => None,
        }
    }

    pub fn float(&self, name: &str) -> Option<f64> {
        match self.value(name)? {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.value(name)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn resolution(&self, name: &str) -> Option<(u32, u32)> {
        match self.value(name)? {
            Value::Resolution { width, height } => Some((*width, *height)),
            _ => None,
        }
    }

    pub fn rate(&self, name: &str) -> Option<(u64, u64)> {
        match self.value(name)? {
            Value::Rate { num, den } => Some((*num, *den)),
            _ => None,
        }
    }

    /// A list of integers (empty when not given): `strides: [8, 16, 32]`.
    pub fn ints(&self, name: &str) -> Vec<i64> {
        match self.value(name) {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A list of strings (empty when not given).
    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.value(name) {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    pub name: Ident,
    pub call: BoundCall,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Const {
    pub name: Ident,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Program {
    pub consts: Vec<Const>,
    pub models: Vec<Model>,
    pub pipelines: Vec<Pipeline>,
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: Ident,
    pub lets: Vec<Let>,
    /// The flow statements, each ending in a sink.
    pub flows: Vec<FlowStatement>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Let {
    pub name: Ident,
    pub flow: Flow,
    pub uses: Vec<Span>,
    /// Its flow had errors of its own (already reported): the name is defined, so later
    /// uses raise nothing more, and its type is unknown (`Ty::Error`), not an empty list.
    pub broken: bool,
}

#[derive(Debug, Clone)]
pub struct FlowStatement {
    pub flow: Flow,
    pub span: Span,
}

/// A flow as a tree: the innermost node is where the stream starts.
#[derive(Debug, Clone)]
pub enum Flow {
    Source {
        call: BoundCall,
        ascription: Option<TypeExpr>,
    },
    Stream {
        id: LetId,
        span: Span,
        ascription: Option<TypeExpr>,
    },
    List {
        items: Vec<Flow>,
        span: Span,
        ascription: Option<TypeExpr>,
    },
    /// A parenthesised flow with a type ascription: `(cam | decode) : video<i420, _, _>`.
    Ascribed {
        input: Box<Flow>,
        ascription: TypeExpr,
        span: Span,
    },
    /// A stage or a sink applied to the flow before it.
    Apply { input: Box<Flow>, call: BoundCall },
}

impl Flow {
    pub fn span(&self) -> Span {
        match self {
            Flow::Source { call, .. } => call.span,
            Flow::Stream { span, .. } | Flow::List { span, .. } | Flow::Ascribed { span, .. } => {
                *span
            }
            Flow::Apply { input, call } => input.span().to(call.span),
        }
    }
}
