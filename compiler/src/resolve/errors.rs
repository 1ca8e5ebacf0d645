//! Name and argument errors as data, and the one place that words them (E0101–E0110,
//! E0203, W0001).

use std::path::{Path, PathBuf};

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
            Self::UnknownName {
                span,
                name,
                kind,
                suggestion,
                defined_later,
            } => unknown_name(
                file,
                *span,
                name,
                *kind,
                suggestion.as_deref(),
                *defined_later,
            ),
            Self::UnknownStage {
                span,
                name,
                role,
                suggestion,
            } => unknown_stage(file, *span, name, *role, suggestion.as_deref()),
            Self::Duplicate {
                span,
                name,
                first,
                what,
            } => duplicate(file, *span, name, *first, what),
            Self::UnknownModule {
                span,
                path,
                suggestion,
                modules,
            } => unknown_module(file, *span, path, suggestion.as_deref(), modules),
            Self::UnknownParam {
                span,
                name,
                callee,
                suggestion,
                params,
            } => unknown_param(file, *span, name, callee, suggestion.as_deref(), params),
            Self::TooManyArgs {
                span,
                callee,
                max,
                signature,
            } => too_many_args(file, *span, callee, *max, signature),
            Self::PositionalAfterNamed { span, named } => {
                positional_after_named(file, *span, *named)
            }
            Self::MissingArg {
                span,
                callee,
                param,
                expected,
                signature,
            } => missing_arg(file, *span, callee, param, expected, signature),
            Self::WrongType {
                span,
                callee,
                param,
                expected,
                found,
                suggestion,
            } => wrong_type(
                file,
                *span,
                callee,
                param,
                expected,
                found,
                suggestion.as_deref(),
            ),
            Self::OutOfRange {
                span,
                callee,
                param,
                value,
                range,
            } => out_of_range(file, *span, callee, param, value, range),
            Self::NulInPath {
                span,
                callee,
                param,
            } => nul_in_path(file, *span, callee, param),
            Self::FileProblem {
                span,
                path,
                resolved,
                problem,
                what,
            } => file_problem(file, *span, path, resolved, problem, what),
            Self::RoleMisuse {
                span,
                name,
                roles,
                place,
            } => role_misuse(file, *span, name, roles, *place),
            Self::NotAStream { span, name, is } => not_a_stream(file, *span, name, is),
            Self::NoSink { span, last } => no_sink(file, *span, last),
            Self::Unused { span, name } => unused(file, *span, name),
        }
    }
}

// ---- names: E0101, E0102, E0103, E0108 ----

fn unknown_name(
    file: FileId,
    span: Span,
    name: &str,
    kind: NameKind,
    suggestion: Option<&str>,
    defined_later: Option<Span>,
) -> Diagnostic {
    let what = match kind {
        NameKind::Stream => "stream",
        NameKind::Model => "model",
        NameKind::Value => "name",
    };
    let d = Diagnostic::new(Code::E0101, file, span, format!("unknown {what} `{name}`"))
        .with_primary_label(format!(
            "no {what} named `{name}` is defined before this point"
        ));
    if let Some(later) = defined_later {
        d.with_label(
            file,
            later,
            format!("`{name}` is defined here, after its use"),
        )
        .with_help("streams must be defined before they are used: move this `let` up")
    } else if let Some(s) = suggestion {
        d.with_suggestion(s)
    } else if kind == NameKind::Model {
        d.with_help(format!(
            "declare it with `model {name} = onnx(\"path/to/model.onnx\");`"
        ))
    } else {
        d
    }
}

fn unknown_stage(
    file: FileId,
    span: Span,
    name: &str,
    role: Role,
    suggestion: Option<&str>,
) -> Diagnostic {
    let what = match role {
        Role::Source => "source",
        Role::Sink => "sink",
        Role::Model => "model format",
        Role::Decoder => "decoder",
        Role::Geometry => "shape",
        Role::Stage => "stage",
    };
    let d = Diagnostic::new(Code::E0102, file, span, format!("unknown {what} `{name}`"))
        .with_primary_label(format!("not a built-in {what}"));
    match suggestion {
        Some(s) => d.with_suggestion(s),
        None => d.with_help("`vplc explain E0102` lists where the built-in stages are documented"),
    }
}

fn duplicate(file: FileId, span: Span, name: &str, first: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0103,
        file,
        span,
        format!("`{name}` is defined more than once"),
    )
    .with_primary_label(format!("{what} `{name}` defined again here"))
    .with_label(file, first, format!("`{name}` first defined here"))
    .with_help("give each definition its own name")
}

fn unknown_module(
    file: FileId,
    span: Span,
    path: &str,
    suggestion: Option<&str>,
    modules: &[String],
) -> Diagnostic {
    let d = Diagnostic::new(Code::E0108, file, span, format!("unknown module `{path}`"))
        .with_primary_label("no such module in the standard library");
    match suggestion {
        Some(s) => d.with_suggestion(s),
        None => d.with_help(format!("the modules are {}", quoted_list(modules))),
    }
}

// ---- arguments: E0104–E0107, and E0001 for their order ----

fn unknown_param(
    file: FileId,
    span: Span,
    name: &str,
    callee: &str,
    suggestion: Option<&str>,
    params: &[String],
) -> Diagnostic {
    let d = Diagnostic::new(
        Code::E0104,
        file,
        span,
        format!("`{callee}` has no parameter `{name}`"),
    )
    .with_primary_label("unknown parameter");
    // Kafka's `key: stream` written on another broker sink.
    if name == "key" && matches!(callee, "mqtt" | "redis") {
        return d.with_help(format!(
            "{} messages have no key: only `kafka(brokers, topic, key: stream)` keys its \
             messages by stream (one partition a stream); the parameters of `{callee}` are {}",
            if callee == "mqtt" {
                "MQTT"
            } else {
                "Redis stream"
            },
            quoted_list(params)
        ));
    }
    match (suggestion, params.is_empty()) {
        (Some(s), _) => d.with_suggestion(s),
        (None, true) => d.with_help(format!("`{callee}` takes no arguments")),
        (None, false) => d.with_help(format!(
            "the parameters of `{callee}` are {}",
            quoted_list(params)
        )),
    }
}

fn too_many_args(
    file: FileId,
    span: Span,
    callee: &str,
    max: usize,
    signature: &str,
) -> Diagnostic {
    let count = match max {
        0 => "no arguments".to_string(),
        1 => "one argument".to_string(),
        n => format!("{n} arguments"),
    };
    Diagnostic::new(Code::E0104, file, span, format!("`{callee}` takes {count}"))
        .with_primary_label("unexpected argument")
        .with_help(format!("the declaration is `{signature}`"))
}

fn positional_after_named(file: FileId, span: Span, named: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0001,
        file,
        span,
        "positional argument after a named argument",
    )
    .with_primary_label("positional argument")
    .with_label(file, named, "named argument")
    .with_help("put positional arguments first, or name this one too")
}

fn missing_arg(
    file: FileId,
    span: Span,
    callee: &str,
    param: &str,
    expected: &str,
    signature: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::E0105,
        file,
        span,
        format!("`{callee}` needs the argument `{param}`"),
    )
    .with_primary_label(format!("`{param}` is missing: {expected}"))
    .with_help(format!("the declaration is `{signature}`"))
}

fn wrong_type(
    file: FileId,
    span: Span,
    callee: &str,
    param: &str,
    expected: &str,
    found: &str,
    suggestion: Option<&str>,
) -> Diagnostic {
    let d = Diagnostic::new(
        Code::E0106,
        file,
        span,
        format!("`{param}` of `{callee}` expects {expected}, found {found}"),
    )
    .with_primary_label(format!("expected {expected}"));
    match suggestion {
        Some(s) => d.with_suggestion(s),
        None => d,
    }
}

fn out_of_range(
    file: FileId,
    span: Span,
    callee: &str,
    param: &str,
    value: &str,
    range: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::E0107,
        file,
        span,
        format!("`{param}` of `{callee}` is out of range: {value}"),
    )
    .with_primary_label(format!("allowed: {range}"))
    .with_help(format!("`{param}` must be {range}"))
}

fn nul_in_path(file: FileId, span: Span, callee: &str, param: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0107,
        file,
        span,
        format!("`{param}` of `{callee}` holds a NUL byte"),
    )
    .with_primary_label("a file name cannot hold a NUL byte")
    .with_help("the system would cut the name at the NUL and use another file: remove the NUL byte from the string")
}

// ---- files: E0109 ----

fn file_problem(
    file: FileId,
    span: Span,
    path: &str,
    resolved: &Path,
    problem: &FileProblem,
    what: &str,
) -> Diagnostic {
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
    Diagnostic::new(Code::E0109, file, span, message)
        .with_primary_label(label)
        .with_help("relative paths are resolved against the directory of the .vpl file")
}

// ---- flows: E0110, E0203, W0001 ----

fn role_misuse(file: FileId, span: Span, name: &str, roles: &[Role], place: Place) -> Diagnostic {
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
    Diagnostic::new(Code::E0110, file, span, message)
        .with_primary_label(format!("{is} here"))
        .with_help(help)
}

fn not_a_stream(file: FileId, span: Span, name: &str, is: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0110,
        file,
        span,
        format!("`{name}` is {is}, not a stream"),
    )
    .with_primary_label("expected a stream")
    .with_help(if is == "a model" {
        format!("run the model on a stream: `cam | decode | infer({name})`")
    } else {
        "a flow starts with a source or a stream defined with `let`".to_string()
    })
}

fn no_sink(file: FileId, span: Span, last: &Option<(String, Span)>) -> Diagnostic {
    let d = Diagnostic::new(Code::E0203, file, span, "this flow does not end in a sink")
        .with_primary_label("the stream produced here goes nowhere");
    let d = match last {
        Some((name, s)) => d.with_label(file, *s, format!("`{name}` is a stage, not a sink")),
        None => d,
    };
    d.with_help("end the flow with a sink such as `file(\"out.mp4\")`, `stdout`, `display` or `discard`, or name it with `let`")
}

fn unused(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::W0001,
        file,
        span,
        format!("the stream `{name}` is never used"),
    )
    .with_primary_label("defined here, used by no flow")
    .with_help(format!(
        "use it in a flow, remove it, or name it `_{name}` to keep it quiet"
    ))
}

/// `a`, `b`, `c`
fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
