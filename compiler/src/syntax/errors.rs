//! Syntax errors as data, and the one place that words them (E0001, E0002).

use super::literal::LiteralError;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::FileId;
use crate::span::Span;

/// Where the parser was when it stopped: decides how "expected `;`" is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Item,
    PipelineHeader,
    Statement,
}

/// What the parser would have accepted, in the user's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Token {
    Semi,
    Pipe,
    Comma,
    Colon,
    Dot,
    Eq,
    Lt,
    Gt,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Name,
    Number,
    String,
    Value,
    Argument,
    Flow,
    Stage,
    Type,
    Ascription,
    Item,
    Statement,
    Parameter,
    Role,
    Keyword(&'static str),
    Range,
}

impl Token {
    fn words(self) -> String {
        match self {
            Token::Semi => "`;`".into(),
            Token::Pipe => "`|`".into(),
            Token::Comma => "`,`".into(),
            Token::Colon => "`:`".into(),
            Token::Dot => "`.`".into(),
            Token::Eq => "`=`".into(),
            Token::Lt => "`<`".into(),
            Token::Gt => "`>`".into(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::LBrace => "`{`".into(),
            Token::RBrace => "`}`".into(),
            Token::Name => "a name".into(),
            Token::Number => "a number".into(),
            Token::String => "a string".into(),
            Token::Value => "a value".into(),
            Token::Argument => "an argument".into(),
            Token::Flow => "a source or a stream name".into(),
            Token::Stage => "a stage".into(),
            Token::Type => "a type".into(),
            Token::Ascription => "`:` and a type".into(),
            Token::Item => "`use`, `const`, `model` or `pipeline`".into(),
            Token::Statement => "a statement (`let NAME = ...;` or a flow ending in a sink)".into(),
            Token::Parameter => "a parameter".into(),
            Token::Role => "`source`, `stage`, `sink`, `model` or `decoder`".into(),
            Token::Keyword(k) => format!("`{k}`"),
            Token::Range => "`in` and a range".into(),
        }
    }
}

/// What stood where the parser stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    EndOfFile,
    Keyword(String),
    Name(String),
    Number(String),
    String,
    Punct(char),
}

impl Found {
    fn words(&self) -> String {
        match self {
            Found::EndOfFile => "the end of the file".into(),
            Found::Keyword(k) => format!("keyword `{k}`"),
            Found::Name(n) => format!("`{n}`"),
            Found::Number(n) => format!("`{n}`"),
            Found::String => "a string".into(),
            Found::Punct(c) => format!("`{c}`"),
        }
    }
}

/// "expected X, found Y": what the parser would have accepted where it stopped, and what
/// stood there instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub expected: Vec<Token>,
    pub found: Found,
    /// Where the missing token belongs: the end of the token before.
    pub at: Span,
    /// What stood where the parser stopped.
    pub found_span: Span,
    pub after_pipe: bool,
    pub found_on_later_line: bool,
    pub context: Context,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyntaxError {
    Expected(Expected),
    UnterminatedString {
        span: Span,
    },
    InvalidEscape {
        span: Span,
        escape: char,
    },
    InvalidLiteral {
        span: Span,
        text: String,
        error: LiteralError,
    },
    UnclosedPipeline {
        name: String,
        open: Span,
        at: Span,
    },
    BuiltinOutsideStdlib {
        span: Span,
    },
    KeywordAsName {
        span: Span,
        keyword: String,
    },
    TypeAsStage {
        span: Span,
    },
    /// A flow with more than `limit` stages.
    TooManyStages {
        span: Span,
        limit: usize,
    },
    TooDeep {
        span: Span,
        limit: usize,
    },
}

fn list(items: &[Token]) -> String {
    let words: Vec<String> = items.iter().map(|t| t.words()).collect();
    match words.len() {
        0 => "something else".into(),
        1 => words[0].clone(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

impl Expected {
    /// "expected `;`" where the next token is on a later line (or the file ends): the
    /// statement or declaration is complete but for its `;`.
    pub fn lacks_semi(&self) -> bool {
        self.expected.contains(&Token::Semi)
            && (self.found_on_later_line || self.found == Found::EndOfFile)
    }

    fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        if self.lacks_semi() {
            return self.missing_semi(file);
        }
        let Expected {
            expected,
            found,
            found_span,
            ..
        } = self;
        if self.after_pipe && expected.contains(&Token::Stage) {
            return Diagnostic::new(
                Code::E0001,
                file,
                *found_span,
                format!("expected a stage after `|`, found {}", found.words()),
            )
            .with_primary_label("expected a stage such as `decode`, `infer(model)` or a sink")
            .with_help("remove the `|`, or name the stage that comes next");
        }
        if self.context == Context::Statement
            && expected.contains(&Token::RBrace)
            && matches!(found, Found::Keyword(k) if matches!(k.as_str(), "model" | "const" | "use" | "pipeline"))
        {
            return Diagnostic::new(
                Code::E0001,
                file,
                *found_span,
                format!(
                    "expected `}}` to close the pipeline, found {}",
                    found.words()
                ),
            );
        }
        self.other(file)
    }

    fn missing_semi(&self, file: FileId) -> Diagnostic {
        let what = match self.context {
            Context::Statement => "the statement",
            _ => "the declaration",
        };
        Diagnostic::new(
            Code::E0001,
            file,
            self.at,
            format!("expected `;` after {what}"),
        )
        .with_primary_label("add `;` here")
        .with_help(format!(
            "every {} ends with `;`",
            match self.context {
                Context::Statement => "statement",
                _ => "`use`, `const` and `model` declaration",
            }
        ))
    }

    /// The general wording, with a hint where one applies.
    fn other(&self, file: FileId) -> Diagnostic {
        let Expected {
            expected,
            found,
            found_span,
            ..
        } = self;
        let mut d = Diagnostic::new(
            Code::E0001,
            file,
            *found_span,
            format!("expected {}, found {}", list(expected), found.words()),
        )
        .with_primary_label(format!("expected {}", list(expected)));
        if expected.contains(&Token::Pipe)
            && expected.contains(&Token::Semi)
            && matches!(found, Found::Name(_))
        {
            d = d.with_help("stages of a flow are joined with `|`");
        }
        if let Found::Keyword(k) = found
            && expected.contains(&Token::Name)
        {
            d = d.with_help(format!("`{k}` is a keyword: choose another name"));
        }
        if let Found::Name(n) = found
            && expected.contains(&Token::Item)
            && let Some(s) = crate::suggest::did_you_mean(n, ["use", "const", "model", "pipeline"])
        {
            d = d.with_suggestion(s.to_string());
        }
        d
    }
}

impl SyntaxError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            SyntaxError::Expected(e) => e.to_diagnostic(file),
            SyntaxError::UnterminatedString { span } => Diagnostic::new(
                Code::E0001,
                file,
                *span,
                "unterminated string",
            )
            .with_primary_label("this string has no closing `\"`")
            .with_help(
                "strings end on the line they start; write `\\\"` for a quote inside a string",
            ),
            SyntaxError::InvalidEscape { span, escape } => Diagnostic::new(
                Code::E0002,
                file,
                *span,
                format!("unknown escape `\\{escape}` in a string"),
            )
            .with_primary_label("unknown escape")
            .with_help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`"),
            SyntaxError::InvalidLiteral { span, text, error } => {
                literal_diagnostic(file, *span, text, error)
            }
            SyntaxError::UnclosedPipeline { name, open, at } => Diagnostic::new(
                Code::E0001,
                file,
                *at,
                format!("expected `}}` to close pipeline `{name}`"),
            )
            .with_primary_label("the file ends here")
            .with_label(file, *open, "the pipeline starts here"),
            SyntaxError::KeywordAsName { span, keyword } => Diagnostic::new(
                Code::E0001,
                file,
                *span,
                format!("expected a name, found keyword `{keyword}`"),
            )
            .with_primary_label("a keyword cannot be used as a name")
            .with_help(format!("`{keyword}` is a keyword: choose another name")),
            SyntaxError::TooManyStages { span, limit } => Diagnostic::new(
                Code::E0001,
                file,
                *span,
                format!("a flow of more than {limit} stages"),
            )
            .with_primary_label(format!("stage {} of this flow", limit + 1))
            .with_help("split the flow with `let`: `let a = …; a | …;`"),
            SyntaxError::TooDeep { span, limit } => Diagnostic::new(
                Code::E0001,
                file,
                *span,
                format!("brackets are nested more than {limit} levels deep"),
            )
            .with_primary_label("too deep")
            .with_help("split the expression with `let` or `const`"),
            SyntaxError::TypeAsStage { span } => Diagnostic::new(
                Code::E0001,
                file,
                *span,
                "expected a stage or a stream, found a type",
            )
            .with_primary_label(
                "a type is written after `:`, as in `rtsp(url) : video<h264, _, _>`",
            ),
            SyntaxError::BuiltinOutsideStdlib { span } => Diagnostic::new(
                Code::E0001,
                file,
                *span,
                "`builtin` declarations belong in the standard library",
            )
            .with_primary_label("only stdlib/*.vpl declares built-in stages")
            .with_help("a program uses the built-in stages directly, e.g. `cam | decode`"),
        }
    }
}

fn literal_diagnostic(file: FileId, span: Span, text: &str, error: &LiteralError) -> Diagnostic {
    let d = Diagnostic::new(Code::E0002, file, span, "");
    match error {
        LiteralError::UnknownUnit { unit, suggestion } => {
            let d = Diagnostic {
                message: format!("unknown unit `{unit}` in `{text}`"),
                ..d
            }
            .with_primary_label("unknown unit");
            match suggestion {
                Some(s) => d.with_suggestion(text.replacen(unit.as_str(), s, 1)),
                None => d.with_help(
                    "units are durations `ns us ms s`, bitrates `bps kbps Mbps Gbps`, frame rates `fps`, and resolutions `WxH`",
                ),
            }
        }
        LiteralError::MalformedResolution => Diagnostic {
            message: format!("malformed resolution `{text}`"),
            ..d
        }
        .with_primary_label("expected WIDTHxHEIGHT")
        .with_help("a resolution is two whole numbers joined by `x`, such as `1280x720`"),
        LiteralError::ZeroRate => Diagnostic {
            message: format!("invalid frame rate `{text}`"),
            ..d
        }
        .with_primary_label("a frame rate must be above zero")
        .with_help("write a positive rate such as `30fps`, `12.5fps` or `30000/1001fps`"),
        LiteralError::FractionWithoutFps => Diagnostic {
            message: format!("the fraction `{text}` needs the unit `fps`"),
            ..d
        }
        .with_primary_label("only frame rates are written as fractions")
        .with_help("write it as a frame rate, such as `30000/1001fps`"),
        LiteralError::OutOfRange => Diagnostic {
            message: format!("the number `{text}` cannot be represented"),
            ..d
        }
        .with_primary_label("too large, or finer than the unit allows")
        .with_help("integers fit in 64 bits; durations are whole nanoseconds and bitrates whole bits per second"),
    }
}
