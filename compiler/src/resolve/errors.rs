//! Name and argument errors as data, and the one place that words them (E0101–E0110,
//! E0203, W0001).

use std::path::PathBuf;

use crate::diagnostics::{Code, Diagnostic};
use crate::host::FileProblem;
use crate::source::FileId;
use crate::syntax::Span;
use crate::syntax::ast::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Stream,
    Model,
    Value,
}

/// Where in a flow a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Head,
    Middle,
    /// The end of a `let`: the stream must go on.
    LetEnd,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResolveError {
    UnknownName {
        span: Span,
        name: String,
        kind: NameKind,
        suggestion: Option<String>,
        defined_later: Option<Span>,
    },
    UnknownStage {
        span: Span,
        name: String,
        role: Role,
        suggestion: Option<String>,
    },
    Duplicate {
        span: Span,
        name: String,
        first: Span,
        what: &'static str,
    },
    UnknownParam {
        span: Span,
        name: String,
        callee: String,
        suggestion: Option<String>,
        params: Vec<String>,
    },
    TooManyArgs {
        span: Span,
        callee: String,
        max: usize,
        signature: String,
    },
    PositionalAfterNamed {
        span: Span,
        named: Span,
    },
    MissingArg {
        span: Span,
        callee: String,
        param: String,
        expected: String,
        signature: String,
    },
    WrongType {
        span: Span,
        callee: String,
        param: String,
        expected: String,
        found: String,
        suggestion: Option<String>,
    },
    OutOfRange {
        span: Span,
        callee: String,
        param: String,
        value: String,
        range: String,
    },
    /// A NUL byte in a path (E0107).
    NulInPath {
        span: Span,
        callee: String,
        param: String,
    },
    UnknownModule {
        span: Span,
        path: String,
        suggestion: Option<String>,
        modules: Vec<String>,
    },
    FileProblem {
        span: Span,
        path: String,
        resolved: PathBuf,
        problem: FileProblem,
        what: &'static str,
    },
    RoleMisuse {
        span: Span,
        name: String,
        roles: Vec<Role>,
        place: Place,
    },
    NotAStream {
        span: Span,
        name: String,
        is: &'static str,
    },
    NoSink {
        span: Span,
        last: Option<(String, Span)>,
    },
    Unused {
        span: Span,
        name: String,
    },
}

fn roles_words(roles: &[Role]) -> String {
    let words: Vec<&str> = roles
        .iter()
        .map(|r| match r {
            Role::Source => "a source",
            Role::Stage => "a stage",
            Role::Sink => "a sink",
            Role::Model => "a model format",
            Role::Decoder => "a decoder",
            Role::Geometry => "a shape",
        })
        .collect();
    words.join(" and ")
}

impl ResolveError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            ResolveError::UnknownName {
                span,
                name,
                kind,
                suggestion,
                defined_later,
            } => {
                let what = match kind {
                    NameKind::Stream => "stream",
                    NameKind::Model => "model",
                    NameKind::Value => "name",
                };
                let mut d =
                    Diagnostic::new(Code::E0101, file, *span, format!("unknown {what} `{name}`"))
                        .with_primary_label(format!(
                            "no {what} named `{name}` is defined before this point"
                        ));
                if let Some(later) = defined_later {
                    d = d
                        .with_label(
                            file,
                            *later,
                            format!("`{name}` is defined here, after its use"),
                        )
                        .with_help(
                            "streams must be defined before they are used: move this `let` up",
                        );
                } else if let Some(s) = suggestion {
                    d = d.with_suggestion(s.to_string());
                } else if *kind == NameKind::Model {
                    d = d.with_help(format!(
                        "declare it with `model {name} = onnx(\"path/to/model.onnx\");`"
                    ));
                }
                d
            }
            ResolveError::UnknownStage {
                span,
                name,
                role,
                suggestion,
            } => {
                let what = match role {
                    Role::Source => "source",
                    Role::Sink => "sink",
                    Role::Model => "model format",
                    Role::Decoder => "decoder",
                    Role::Geometry => "shape",
                    Role::Stage => "stage",
                };
                let d =
                    Diagnostic::new(Code::E0102, file, *span, format!("unknown {what} `{name}`"))
                        .with_primary_label(format!("not a built-in {what}"));
                match suggestion {
                    Some(s) => d.with_suggestion(s.to_string()),
                    None => d.with_help(
                        "`vplc explain E0102` lists where the built-in stages are documented",
                    ),
                }
            }
            ResolveError::Duplicate {
                span,
                name,
                first,
                what,
            } => Diagnostic::new(
                Code::E0103,
                file,
                *span,
                format!("`{name}` is defined more than once"),
            )
            .with_primary_label(format!("{what} `{name}` defined again here"))
            .with_label(file, *first, format!("`{name}` first defined here"))
            .with_help("give each definition its own name"),
            ResolveError::UnknownParam {
                span,
                name,
                callee,
                suggestion,
                params,
            } => {
                let d = Diagnostic::new(
                    Code::E0104,
                    file,
                    *span,
                    format!("`{callee}` has no parameter `{name}`"),
                )
                .with_primary_label("unknown parameter");
                match (suggestion, params.is_empty()) {
                    (Some(s), _) => d.with_suggestion(s.to_string()),
                    (None, true) => d.with_help(format!("`{callee}` takes no arguments")),
                    (None, false) => d.with_help(format!(
                        "the parameters of `{callee}` are {}",
                        params
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
            ResolveError::TooManyArgs {
                span,
                callee,
                max,
                signature,
            } => {
                let count = match max {
                    0 => "no arguments".to_string(),
                    1 => "one argument".to_string(),
                    n => format!("{n} arguments"),
                };
                Diagnostic::new(
                    Code::E0104,
                    file,
                    *span,
                    format!("`{callee}` takes {count}"),
                )
                .with_primary_label("unexpected argument")
                .with_help(format!("the declaration is `{signature}`"))
            }
            ResolveError::PositionalAfterNamed { span, named } => Diagnostic::new(
                Code::E0001,
                file,
                *span,
                "positional argument after a named argument",
            )
            .with_primary_label("positional argument")
            .with_label(file, *named, "named argument")
            .with_help("put positional arguments first, or name this one too"),
            ResolveError::MissingArg {
                span,
                callee,
                param,
                expected,
                signature,
            } => Diagnostic::new(
                Code::E0105,
                file,
                *span,
                format!("`{callee}` needs the argument `{param}`"),
            )
            .with_primary_label(format!("`{param}` is missing: {expected}"))
            .with_help(format!("the declaration is `{signature}`")),
            ResolveError::WrongType {
                span,
                callee,
                param,
                expected,
                found,
                suggestion,
            } => {
                let d = Diagnostic::new(
                    Code::E0106,
                    file,
                    *span,
                    format!("`{param}` of `{callee}` expects {expected}, found {found}"),
                )
                .with_primary_label(format!("expected {expected}"));
                match suggestion {
                    Some(s) => d.with_suggestion(s.to_string()),
                    None => d,
                }
            }
            ResolveError::OutOfRange {
                span,
                callee,
                param,
                value,
                range,
            } => Diagnostic::new(
                Code::E0107,
                file,
                *span,
                format!("`{param}` of `{callee}` is out of range: {value}"),
            )
            .with_primary_label(format!("allowed: {range}"))
            .with_help(format!("`{param}` must be {range}")),
            ResolveError::NulInPath {
                span,
                callee,
                param,
            } => Diagnostic::new(
                Code::E0107,
                file,
                *span,
                format!("`{param}` of `{callee}` holds a NUL byte"),
            )
            .with_primary_label("a file name cannot hold a NUL byte")
            .with_help("the system would cut the name at the NUL and use another file: remove the NUL byte from the string"),
            ResolveError::UnknownModule {
                span,
                path,
                suggestion,
                modules,
            } => {
                let d =
                    Diagnostic::new(Code::E0108, file, *span, format!("unknown module `{path}`"))
                        .with_primary_label("no such module in the standard library");
                match suggestion {
                    Some(s) => d.with_suggestion(s.to_string()),
                    None => d.with_help(format!(
                        "the modules are {}",
                        modules
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
            ResolveError::FileProblem {
                span,
                path,
                resolved,
                problem,
                what,
            } => {
                let (message, label) = match problem {
                    FileProblem::NotFound => (
                        format!("{what} `{path}` not found"),
                        format!("looked for {}", resolved.display()),
                    ),
                    FileProblem::Unreadable(reason) => (
                        format!("{what} `{path}` cannot be read"),
                        format!("{}: {reason}", resolved.display()),
                    ),
                };
                Diagnostic::new(Code::E0109, file, *span, message)
                    .with_primary_label(label)
                    .with_help("relative paths are resolved against the directory of the .vpl file")
            }
            ResolveError::RoleMisuse {
                span,
                name,
                roles,
                place,
            } => {
                let is = roles_words(roles);
                let (message, help) = match place {
                    Place::Head => (
                        format!("`{name}` is {is}; it cannot start a flow"),
                        "a flow starts with a source (`file(...)`, `rtsp(...)`, `test()`, `camera()`) or a stream name".to_string(),
                    ),
                    Place::Middle => (
                        format!("`{name}` is {is}; it cannot be used in the middle of a flow"),
                        if roles.contains(&Role::Sink) {
                            "a sink ends a flow: move it to the end, or name the stream with `let` and add a second flow".to_string()
                        } else {
                            "a source starts a flow: use it at the head of a flow or in a `let`".to_string()
                        },
                    ),
                    Place::LetEnd => (
                        format!("`{name}` is {is}; a `let` cannot end in it"),
                        "a `let` names a stream that later flows use: end the flow with a stage, or drop the `let`".to_string(),
                    ),
                };
                Diagnostic::new(Code::E0110, file, *span, message)
                    .with_primary_label(format!("{is} here"))
                    .with_help(help)
            }
            ResolveError::NotAStream { span, name, is } => Diagnostic::new(
                Code::E0110,
                file,
                *span,
                format!("`{name}` is {is}, not a stream"),
            )
            .with_primary_label("expected a stream")
            .with_help(if *is == "a model" {
                format!("run the model on a stream: `cam | decode | infer({name})`")
            } else {
                "a flow starts with a source or a stream defined with `let`".to_string()
            }),
            ResolveError::NoSink { span, last } => {
                let d =
                    Diagnostic::new(Code::E0203, file, *span, "this flow does not end in a sink")
                        .with_primary_label("the stream produced here goes nowhere");
                let d = match last {
                    Some((name, s)) => {
                        d.with_label(file, *s, format!("`{name}` is a stage, not a sink"))
                    }
                    None => d,
                };
                d.with_help("end the flow with a sink such as `file(\"out.mp4\")`, `stdout`, `display` or `discard`, or name it with `let`")
            }
            ResolveError::Unused { span, name } => Diagnostic::new(
                Code::W0001,
                file,
                *span,
                format!("the stream `{name}` is never used"),
            )
            .with_primary_label("defined here, used by no flow")
            .with_help(format!(
                "use it in a flow, remove it, or name it `_{name}` to keep it quiet"
            )),
        }
    }
}
