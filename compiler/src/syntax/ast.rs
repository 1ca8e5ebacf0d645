//! Syntax tree of one `.vpl` file: what was written, with a span on every node.
//! Produced by `parse`, read by `resolve` and `fmt`. It knows nothing of meaning.

use super::literal::Literal;
use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFile {
    pub items: Vec<Item>,
    /// Every `//` and `///` comment, in source order. Doc comments are also
    /// attached to the item, parameter or statement they precede.
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub span: Span,
    /// The whole comment as written, from `//` to the end of the line.
    pub text: String,
    pub doc: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Use(UseItem),
    Const(ConstItem),
    Model(ModelItem),
    Pipeline(Pipeline),
    Builtin(BuiltinDecl),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Use(i) => i.span,
            Item::Const(i) => i.span,
            Item::Model(i) => i.span,
            Item::Pipeline(i) => i.span,
            Item::Builtin(i) => i.span,
        }
    }

    /// The name the item defines, if it defines one in the file's namespace.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Use(_) => None,
            Item::Const(i) => Some(&i.name),
            Item::Model(i) => Some(&i.name),
            Item::Pipeline(i) => Some(&i.name),
            Item::Builtin(i) => Some(&i.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UseItem {
    pub path: Vec<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstItem {
    pub name: Ident,
    pub value: Expr,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelItem {
    pub name: Ident,
    pub value: Call,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub name: Ident,
    pub body: Vec<Statement>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Let(LetStmt),
    Flow(FlowStmt),
}

impl Statement {
    pub fn span(&self) -> Span {
        match self {
            Statement::Let(s) => s.span,
            Statement::Flow(s) => s.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LetStmt {
    pub name: Ident,
    pub flow: Flow,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowStmt {
    pub flow: Flow,
    pub span: Span,
}

/// `TERM ("|" STAGE)*`
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub head: Term,
    pub stages: Vec<Call>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub kind: TermKind,
    pub ascription: Option<TypeExpr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TermKind {
    Call(Call),
    Name(Ident),
    List(Vec<Flow>),
    Paren(Box<Flow>),
    /// A flow with a syntax error (already reported); only in files that have errors.
    Error,
}

/// A call `name(args)`, or a bare stage name (`decode`), which means `decode()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Arg>,
    /// Written without parentheses.
    pub bare: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(Literal),
    /// The string's value, escapes already decoded.
    String(String),
    Bool(bool),
    /// `_`: not given, or not known.
    Wildcard,
    Name(Ident),
    Call(Call),
    List(Vec<Expr>),
    /// A type written as a value: `tensor<f32, [1, 3, 640, 640]>`.
    Type(TypeExpr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Wildcard,
    /// `video`, `h264`, `video<h264, 1280x720, 25fps>`
    Named {
        name: Ident,
        args: Vec<TypeArg>,
    },
    List(Box<TypeExpr>),
    Union(Vec<TypeExpr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeArg {
    Type(TypeExpr),
    Number(Literal, Span),
    Dims(Vec<Dim>, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dim {
    Number(Literal, Span),
    Name(Ident),
    Wildcard(Span),
}

/// `builtin ROLE NAME(PARAMS);`, the declarations of stdlib/*.vpl.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinDecl {
    pub role: Role,
    pub role_span: Span,
    pub name: Ident,
    pub params: Vec<Param>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Source,
    Stage,
    Sink,
    Model,
    Decoder,
    /// `zone(...)` and `line(...)`: shapes declared as constants, read by `analyze`.
    Geometry,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Stage => "stage",
            Role::Sink => "sink",
            Role::Model => "model",
            Role::Decoder => "decoder",
            Role::Geometry => "geometry",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub range: Option<RangeDecl>,
    pub default: Option<Expr>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RangeDecl {
    pub min: Option<Literal>,
    pub max: Option<Literal>,
    pub inclusive: bool,
    pub span: Span,
}
