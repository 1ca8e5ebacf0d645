//! Offset → completions: stage names with their required parameters as a snippet after
//! `|`; sources and the streams in scope at the head of a flow; parameter names (with type
//! and default) and their values inside a call's parentheses, model names in `infer(`.

use vpl_compiler::SourceFile;
use vpl_compiler::stdlib::{Builtin, ParamSpec, ParamType, literal_type, stdlib};
use vpl_compiler::syntax::ast::{self, ExprKind, Item, Role, Statement};

use super::Analysis;
use super::locate;
use super::scan::{self, Context, Frame};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Stage,
    Source,
    Sink,
    Parameter,
    Model,
    Constant,
    Stream,
    /// A word a parameter accepts: `letterbox`, `h264`, `true`.
    Value,
    Keyword,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    /// One line shown beside the label: a signature, a declaration or a type.
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    pub insert_text: String,
    /// `insert_text` uses snippet syntax (`${1:path}`).
    pub snippet: bool,
}

pub fn complete(
    file: &SourceFile,
    analysis: &Analysis,
    offset: usize,
    snippets: bool,
) -> Vec<Completion> {
    let cx = scan::context(&file.text, offset);
    if cx.quiet {
        return Vec::new();
    }
    let ast = &analysis.compilation.ast;
    match cx.frames.last() {
        Some(f) if f.open == '(' && f.callee.is_some() => arguments(ast, &cx, f),
        Some(_) if in_call(&cx) => Vec::new(),
        Some(_) => match cx.before {
            Some('|') => stages(snippets),
            Some('{' | ';' | '}' | '=' | '[' | ',' | '(') => {
                let mut items = heads(analysis, cx.word_start, snippets);
                if matches!(cx.before, Some('{' | ';' | '}')) {
                    items.push(keyword("let"));
                }
                items
            }
            _ => Vec::new(),
        },
        None => match cx.before {
            None | Some(';' | '}') => ["model", "pipeline", "const", "use"]
                .into_iter()
                .map(keyword)
                .collect(),
            Some('=') => builtins(Role::Model, snippets),
            _ => Vec::new(),
        },
    }
}

/// Inside the parentheses of a call (say, in a list argument): not a flow position.
fn in_call(cx: &Context) -> bool {
    cx.frames
        .iter()
        .any(|f| f.open == '(' && f.callee.is_some())
}

/// The role of the call whose parentheses `frame` is: its place decides (`file` after
/// `|` is the sink).
fn role_of(cx: &Context, frame: &Frame) -> Role {
    let outer = cx.frames.iter().rev().nth(1);
    if frame.after_pipe {
        Role::Stage
    } else if outer.is_some_and(|f| f.open == '(' && f.callee.is_some()) {
        Role::Decoder
    } else if cx.frames.iter().any(|f| f.open == '{') {
        Role::Source
    } else {
        Role::Model
    }
}

fn arguments(ast: &ast::SourceFile, cx: &Context, frame: &Frame) -> Vec<Completion> {
    let Some(callee) = &frame.callee else {
        return Vec::new();
    };
    let Some(b) = locate::builtin_named(callee, role_of(cx, frame)) else {
        return Vec::new();
    };
    if let Some(name) = &frame.name {
        return b.param(name).map_or_else(Vec::new, |(_, p)| values(ast, p));
    }
    let mut items = Vec::new();
    let positional = frame.named.is_empty();
    if positional && let Some(p) = b.params.get(frame.index) {
        items.extend(values(ast, p));
    }
    let first_free = if positional { frame.index } else { 0 };
    items.extend(
        b.params
            .iter()
            .enumerate()
            .filter(|(i, p)| *i >= first_free && !frame.named.contains(&p.name))
            .map(|(_, p)| Completion {
                label: p.name.clone(),
                kind: CompletionKind::Parameter,
                detail: Some(p.text.clone()),
                documentation: p.doc.clone(),
                insert_text: format!("{}: ", p.name),
                snippet: false,
            }),
    );
    items
}

/// What may be written for parameter `p`: model names, the words it accepts, booleans,
/// constants.
fn values(ast: &ast::SourceFile, p: &ParamSpec) -> Vec<Completion> {
    let value = |label: &str, detail: String| Completion {
        label: label.to_string(),
        kind: CompletionKind::Value,
        detail: Some(detail),
        documentation: None,
        insert_text: label.to_string(),
        snippet: false,
    };
    match &p.ty {
        ParamType::Model => ast
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Model(m) => Some(Completion {
                    label: m.name.name.clone(),
                    kind: CompletionKind::Model,
                    detail: Some("model".to_string()),
                    documentation: m.doc.clone(),
                    insert_text: m.name.name.clone(),
                    snippet: false,
                }),
                _ => None,
            })
            .collect(),
        ParamType::Bool => ["true", "false"]
            .into_iter()
            .map(|w| value(w, p.text.clone()))
            .collect(),
        ty => {
            let mut items: Vec<Completion> = ty
                .words()
                .into_iter()
                .map(|w| value(w, p.text.clone()))
                .collect();
            items.extend(ast.items.iter().filter_map(|i| match i {
                Item::Const(c) if fits(ty, &c.value) => Some(Completion {
                    label: c.name.name.clone(),
                    kind: CompletionKind::Constant,
                    detail: Some("const".to_string()),
                    documentation: c.doc.clone(),
                    insert_text: c.name.name.clone(),
                    snippet: false,
                }),
                _ => None,
            }));
            items
        }
    }
}

/// Whether a constant's value may be given to a parameter of type `ty`.
fn fits(ty: &ParamType, value: &ast::Expr) -> bool {
    let kind = match &value.kind {
        ExprKind::Number(lit) => literal_type(&lit.value),
        ExprKind::String(_) => Some(ParamType::String),
        ExprKind::Bool(_) => Some(ParamType::Bool),
        ExprKind::List(_) => return ty.list_element().is_some(),
        _ => None,
    };
    kind.is_some_and(|k| ty.accepts(&k))
}

/// After `|`: the stages and the sinks.
fn stages(snippets: bool) -> Vec<Completion> {
    let mut items = builtins(Role::Stage, snippets);
    for sink in builtins(Role::Sink, snippets) {
        if !items.iter().any(|i| i.label == sink.label) {
            items.push(sink);
        }
    }
    items
}

/// At the head of a flow: the sources, and the streams defined before `offset`.
fn heads(analysis: &Analysis, offset: usize, snippets: bool) -> Vec<Completion> {
    let mut items = builtins(Role::Source, snippets);
    let ast = &analysis.compilation.ast;
    let pipeline = ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Pipeline(p) if (p.span.start as usize) <= offset => Some(p),
            _ => None,
        })
        .next_back();
    let Some(pipeline) = pipeline else {
        return items;
    };
    let typed = analysis
        .compilation
        .typed
        .pipelines
        .iter()
        .find(|p| p.name == pipeline.name.name);
    for statement in &pipeline.body {
        let Statement::Let(l) = statement else {
            continue;
        };
        if (l.span.end as usize) > offset {
            continue;
        }
        let ty = typed
            .and_then(|t| t.lets.iter().find(|(_, span, _)| *span == l.name.span))
            .map(|(_, _, ty)| ty.to_string());
        items.push(Completion {
            label: l.name.name.clone(),
            kind: CompletionKind::Stream,
            detail: ty,
            documentation: None,
            insert_text: l.name.name.clone(),
            snippet: false,
        });
    }
    items
}

fn builtins(role: Role, snippets: bool) -> Vec<Completion> {
    stdlib()
        .builtins
        .iter()
        .filter(|b| b.role == role)
        .map(|b| Completion {
            label: b.name.clone(),
            kind: match role {
                Role::Source => CompletionKind::Source,
                Role::Sink => CompletionKind::Sink,
                _ => CompletionKind::Stage,
            },
            detail: Some(b.signature()),
            documentation: b.doc.clone(),
            insert_text: call_text(b, snippets),
            snippet: snippets && b.params.iter().any(ParamSpec::required),
        })
        .collect()
}

/// `scale(${1:resolution})`: the required parameters as placeholders. A stage with none
/// is written bare (`decode`); a source or model format with none gets `()`.
fn call_text(b: &Builtin, snippets: bool) -> String {
    let required: Vec<&ParamSpec> = b.params.iter().filter(|p| p.required()).collect();
    if required.is_empty() || !snippets {
        return match b.role {
            Role::Stage | Role::Sink if required.is_empty() => b.name.clone(),
            _ if required.is_empty() => format!("{}()", b.name),
            _ => b.name.clone(),
        };
    }
    let holes: Vec<String> = required
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                format!("${{{}:{}}}", i + 1, p.name)
            } else {
                format!("{}: ${{{}:{}}}", p.name, i + 1, p.name)
            }
        })
        .collect();
    format!("{}({})", b.name, holes.join(", "))
}

fn keyword(word: &str) -> Completion {
    Completion {
        label: word.to_string(),
        kind: CompletionKind::Keyword,
        detail: None,
        documentation: None,
        insert_text: word.to_string(),
        snippet: false,
    }
}
