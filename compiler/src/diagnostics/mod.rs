//! Diagnostics as data: a code, a severity, a message, a primary span, labels, help and a
//! suggested replacement.
//! Every phase turns its own error enum into `Diagnostic`s in one wording file; `render`
//! turns them into text for people or JSON for machines.

pub mod render;

use crate::source::FileId;
use crate::span::Span;

macro_rules! codes {
    ($($code:ident: $severity:ident, $summary:literal;)*) => {
        /// Every code the compiler can emit (spec section 7).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($code,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$code => Severity::$severity,)* }
            }

            /// One line: what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$code => $summary,)* }
            }
        }
    };
}

codes! {
    E0001: Error, "syntax error";
    E0002: Error, "invalid literal: unknown unit, malformed resolution or rate";
    E0101: Error, "unknown name (stream, model, const)";
    E0102: Error, "unknown stage";
    E0103: Error, "duplicate definition";
    E0104: Error, "unknown parameter";
    E0105: Error, "missing required argument";
    E0106: Error, "argument of the wrong type";
    E0107: Error, "argument value out of range";
    E0108: Error, "unknown module in `use`";
    E0109: Error, "file not found or unreadable";
    E0110: Error, "role misuse: a source as a stage, a sink mid-flow, a stage as a flow's head";
    E0201: Error, "stream type mismatch";
    E0202: Error, "container and codec do not fit, or unknown file extension for a sink";
    E0203: Error, "a flow statement that does not end in a sink";
    E0204: Error, "several streams reach a single-stream stage or sink";
    E0205: Error, "resolution constraint violated";
    E0206: Error, "tile grid too small for the number of streams";
    E0207: Error, "stage needs object metadata and none is produced upstream";
    E0208: Error, "invalid stream type in an ascription";
    E0209: Error, "two outputs at one address: the same `rtsp_out` port and path twice";
    E0210: Error, "an output overwrites a file the program reads or another output writes";
    E0211: Error, "a broker sink's `url` is not an address of its protocol";
    E0212: Error, "credentials written in a broker address";
    E0213: Error, "a broker sink's topic is one its broker refuses for publishing";
    E0214: Error, "a pool without its stream type: encoded H.264 or H.265 with a size and a rate";
    E0215: Error, "a pool's stream entry that cannot be admitted";
    E0216: Error, "a `replay` records file that cannot be replayed: not one stream's frame records";
    E0217: Error, "`replay` without one way to make its frames: `video:`, or `size:` and `rate:`";
    E0218: Error, "`replay` records that do not fit their frames: another size, or frames past the video's end";
    E0301: Error, "batch size incompatible with the model's fixed batch dimension";
    E0302: Error, "model input incompatible with the frames: rank, layout, or channel count";
    E0303: Error, "model input or output element type not supported";
    E0304: Error, "decoder incompatible with the model's output shape";
    E0305: Error, "number of labels differs from the number of classes the model outputs";
    E0306: Error, "model file is not a valid ONNX model";
    E0307: Error, "the declared `input:` tensor disagrees with the model file";
    E0308: Error, "the model leaves its input size open and no `input:` declaration fixes it";
    E0315: Error, "a CTC alphabet's length does not fit the recogniser's classes";
    E0316: Error, "a CTC recogniser with no alphabet: none given and none in the model's metadata";
    E0312: Error, "`yolov8_pose(skeleton: coco17)` on a model whose keypoints are not COCO's 17";
    E0313: Error, "a decoder that makes masks or keypoints runs on crops (`infer(on: ...)`)";
    E0309: Error, "the decoder's anchors are not as many as the model's output has";
    E0310: Error, "the decoder's anchors cannot be made: a bad anchors file or anchor parameters";
    E0311: Error, "the labels in the model's metadata are not as many as its classes";
    E0401: Error, "a zone or line that cannot be drawn: too few points, or not `[x, y]`";
    E0402: Error, "a zone whose edges cross";
    E0403: Error, "a zone or line point outside the frame it was drawn for";
    E0404: Error, "a zone or line used on a stream of another size than it was drawn for";
    E0405: Error, "line crossings or `entry`, `exit` and `crossing` events need tracks and none are made upstream";
    E0406: Error, "`events` needs analytics and no `analyze` runs upstream";
    E0407: Error, "the same zone or line twice in one `analyze`";
    E0408: Error, "`record(when: EVENT)` needs analytics and no `analyze` runs upstream";
    E0409: Error, "`record(at:)` names no zone or line of the `analyze` upstream that the event is about";
    E0601: Error, "a DeepStream setting `vplc import` cannot turn into vpl";
    E0602: Error, "a DeepStream config that cannot be read: a missing file or a line that is not `key=value`";
    E0501: Error, "a stage needs a GStreamer element that is not installed";
    E0502: Error, "an element property could not be set";
    E0503: Error, "two elements could not be linked at run time";
    E0504: Error, "an element failed while the pipeline ran";
    W0001: Warning, "unused `let` binding";
    W0101: Warning, "media type not known at compile time; dependent checks deferred to run time";
    W0201: Warning, "`overlay` with no object metadata upstream";
    W0202: Warning, "streams batched or tiled together have different frame rates";
    W0203: Warning, "a `track` parameter that the tracker kind given does not read";
    W0301: Warning, "batch size differs from the number of streams";
    W0302: Warning, "a dimension the decoder needs is open in the model: the fit is checked at run time";
    W0303: Warning, "the model's `names` metadata cannot be read: its classes are numbered";
    W0401: Warning, "zones analysed without tracks: counts only, no dwell times, entries or exits";
    W0601: Warning, "a DeepStream key vpl decides itself: not imported";
    W0602: Warning, "a DeepStream key with no equivalent in vpl: dropped";
    W0603: Warning, "a key or group DeepStream does not read";
}

impl Code {
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(file: FileId, span: Span, message: impl Into<String>) -> Label {
        Label {
            file,
            span,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the mistake is; its message may be empty.
    pub primary: Label,
    /// Secondary places that explain it ("first defined here").
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// What the code under the primary span should read, as data ("did you mean `x`?"):
    /// the language server offers it as a quick fix without reading `help`.
    pub suggestion: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary: Label::new(file, span, ""),
            labels: Vec::new(),
            help: None,
            suggestion: None,
        }
    }

    pub fn with_primary_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    pub fn with_label(
        mut self,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.labels.push(Label::new(file, span, message));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// "did you mean `replacement`?", as help for people and as data for editors.
    pub fn with_suggestion(mut self, replacement: impl Into<String>) -> Diagnostic {
        let replacement = replacement.into();
        self.help = Some(format!("did you mean `{replacement}`?"));
        self.suggestion = Some(replacement);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file and position so output does not depend on checking order.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.primary.file, a.primary.span.start, a.code).cmp(&(
            b.primary.file,
            b.primary.span.start,
            b.code,
        ))
    });
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::{MemoryHost, SourceMap, compile};

    /// Suggestions are data on the diagnostic, not only words in its help.
    #[test]
    fn did_you_mean_is_a_structured_suggestion() {
        let text = "pipeline p {\n    test(frames: 1) | scael(640x360) | discard;\n    test(frames: 1) | infer(m, batch_timeout: 40mz) | discard;\n}\n";
        let mut sources = SourceMap::default();
        let c = compile(
            &mut sources,
            "t.vpl",
            Path::new("t.vpl"),
            text,
            &MemoryHost::new(),
        );
        let suggestions: Vec<(&str, Option<&str>)> = c
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.suggestion.as_deref()))
            .collect();
        assert!(
            suggestions.contains(&("E0102", Some("scale"))),
            "{suggestions:?}"
        );
        assert!(
            suggestions.contains(&("E0002", Some("40ms"))),
            "{suggestions:?}"
        );
        for d in &c.diagnostics {
            if let Some(s) = &d.suggestion {
                assert_eq!(
                    d.help.as_deref(),
                    Some(format!("did you mean `{s}`?").as_str())
                );
            }
        }
    }
}
