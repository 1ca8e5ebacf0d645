//! Type errors as data, and the one place that words them (E0201–E0210, E0301–E0308,
//! W0101, W0201, W0202, W0301).

use crate::diagnostics::{Code, Diagnostic};
use crate::source::FileId;
use crate::syntax::Span;

/// What a stage or sink needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Raw,
    Encoded,
    H264,
    Video,
    Records,
    Batch,
}

impl Want {
    fn words(self) -> &'static str {
        match self {
            Want::Raw => "raw (decoded) video",
            Want::Encoded => "encoded video",
            Want::H264 => "H.264 video",
            Want::Video => "video",
            Want::Records => "records",
            Want::Batch => "a batch",
        }
    }
}

/// The fix to suggest for a mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    InsertBefore(String),
    RemoveStage,
    UseJsonl,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputProblem {
    Rank {
        shape: String,
    },
    Channels {
        shape: String,
    },
    Inputs {
        count: usize,
    },
    PerChannel {
        param: &'static str,
        given: usize,
        channels: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeProblem {
    NotYolov8,
    LooksLikeYolov5,
    NotClassifier,
    /// The dimension that holds the classes (`4 + classes` for yolov8) is dynamic.
    DynamicClasses,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeError {
    Mismatch {
        span: Span,
        stage: String,
        want: Want,
        found: String,
        fix: Option<Fix>,
    },
    AscriptionConflict {
        span: Span,
        ascribed: String,
        probed: String,
    },
    BadAscription {
        span: Span,
        reason: String,
    },
    MediaUnreadable {
        span: Span,
        path: String,
        reason: String,
    },
    /// `std:` with a zero in it (E0107): pixels are divided by it.
    ZeroStd {
        span: Span,
    },
    /// A model or labels file that opened when names were resolved but could not be read
    /// (E0109): `what` is "model" or "labels file".
    InputUnreadable {
        span: Span,
        path: String,
        what: &'static str,
        reason: String,
    },
    ContainerCodec {
        span: Span,
        container: String,
        codec: String,
        allowed: Vec<&'static str>,
    },
    UnknownExtension {
        span: Span,
        path: String,
    },
    SeveralStreams {
        span: Span,
        stage: String,
        streams: usize,
        file_sink: bool,
    },
    OddSize {
        span: Span,
        codec: String,
        width: u32,
        height: u32,
    },
    /// A size outside what the codec's encoder takes (`encoder_sides`).
    EncoderSize {
        span: Span,
        codec: String,
        width: u32,
        height: u32,
        min: u32,
        max: u32,
    },
    ZeroSize {
        span: Span,
        stage: String,
    },
    TileTooSmall {
        span: Span,
        cols: i64,
        rows: i64,
        streams: usize,
    },
    NeedsObjects {
        span: Span,
        stage: String,
    },
    /// Two `rtsp_out` of one pipeline at the same port and path.
    SameRtspAddress {
        span: Span,
        first: Span,
        port: i64,
        path: String,
    },
    /// A sink writes a file the program reads (a source, a model, labels) or another sink
    /// writes (E0210).
    OutputOverwrites {
        span: Span,
        other: Span,
        path: String,
        /// What the other use is: "read by this source", "written by this sink", …
        other_is: &'static str,
    },
    UnknownObjectLabel {
        span: Span,
        label: String,
        available: Vec<String>,
        suggestion: Option<String>,
    },
    BatchMismatch {
        site: Span,
        infer: Span,
        model: String,
        model_span: Span,
        batch: u32,
        model_batch: i64,
    },
    InputIncompatible {
        span: Span,
        model: String,
        model_span: Span,
        problem: InputProblem,
    },
    UnsupportedDType {
        span: Span,
        tensor: String,
        dtype: String,
        output: bool,
    },
    DecoderShape {
        span: Span,
        decoder: String,
        output: String,
        /// Every output with its shape, when the model has several.
        outputs: Option<String>,
        problem: ShapeProblem,
    },
    LabelCount {
        span: Span,
        labels: usize,
        classes: i64,
        output: String,
        /// Every output with its shape, when the model has several.
        outputs: Option<String>,
    },
    /// `output:` names no output of the file.
    UnknownOutput {
        span: Span,
        name: String,
        outputs: String,
    },
    /// Several outputs fit the decoder and nothing says which it reads.
    AmbiguousOutput {
        span: Span,
        decoder: String,
        candidates: Vec<String>,
        outputs: String,
    },
    /// The input's height or width is open in the file and not fixed by `input:`.
    OpenInputSize {
        span: Span,
        model: String,
        input: String,
        /// An `input:` is given but leaves the size open too.
        declared: bool,
        suggestion: String,
    },
    NotOnnx {
        span: Span,
        path: String,
        reason: String,
    },
    InputDeclared {
        span: Span,
        declared: String,
        actual: String,
    },
    Unknown {
        span: Span,
        source: String,
        missing: Vec<&'static str>,
    },
    OverlayWithoutObjects {
        span: Span,
    },
    RatesDiffer {
        span: Span,
        stage: String,
        rates: Vec<String>,
    },
    BatchSizeStreams {
        span: Span,
        size: u32,
        streams: usize,
    },
    /// Zones, lines, `analyze` and `events` (worded in `check/zones.rs`).
    Zones(super::zones::ZoneError),
}

impl TypeError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            TypeError::Zones(e) => e.to_diagnostic(file),
            TypeError::Mismatch {
                span,
                stage,
                want,
                found,
                fix,
            } => {
                let d = Diagnostic::new(
                    Code::E0201,
                    file,
                    *span,
                    format!("`{stage}` needs {}, but receives {found}", want.words()),
                )
                .with_primary_label(format!("expects {}", want.words()));
                match fix {
                    Some(Fix::InsertBefore(stage_text)) => {
                        d.with_help(format!("insert `{stage_text}` before `{stage}`"))
                    }
                    Some(Fix::RemoveStage) => d.with_help(format!("the stream is already raw: remove `{stage}`")),
                    Some(Fix::UseJsonl) => d.with_help("records are written to a `.jsonl` file, `stdout` or `discard`"),
                    None => d,
                }
            }
            TypeError::AscriptionConflict {
                span,
                ascribed,
                probed,
            } => Diagnostic::new(
                Code::E0201,
                file,
                *span,
                format!("the ascribed type {ascribed} disagrees with the file, which holds {probed}"),
            )
            .with_primary_label(format!("the file holds {probed}"))
            .with_help("correct the ascription, or write `_` for the parts you do not want to fix"),
            TypeError::BadAscription { span, reason } => {
                Diagnostic::new(Code::E0208, file, *span, format!("invalid stream type: {reason}"))
                    .with_primary_label("not a stream type")
                    .with_help("write `video<FORMAT, WIDTHxHEIGHT, RATE>`, with `_` for unknown parts, e.g. `video<h264, 1280x720, 25fps>`")
            }
            TypeError::MediaUnreadable { span, path, reason } => Diagnostic::new(
                Code::E0109,
                file,
                *span,
                format!("`{path}` cannot be read as video: {reason}"),
            )
            .with_primary_label("not a video file GStreamer can read"),
            TypeError::ZeroStd { span } => Diagnostic::new(
                Code::E0107,
                file,
                *span,
                "`std` of `onnx` is out of range: a channel's std is 0",
            )
            .with_primary_label("frames are divided by these values")
            .with_help("every `std` value must be non-zero (1.0 leaves a channel unscaled)"),
            TypeError::InputUnreadable {
                span,
                path,
                what,
                reason,
            } => Diagnostic::new(
                Code::E0109,
                file,
                *span,
                format!("the {what} `{path}` cannot be read: {reason}"),
            )
            .with_primary_label(format!("this {what} is needed to check and run the program")),
            TypeError::ContainerCodec {
                span,
                container,
                codec,
                allowed,
            } => Diagnostic::new(
                Code::E0202,
                file,
                *span,
                format!("a `.{container}` file cannot hold {codec} video"),
            )
            .with_primary_label(format!("{codec} does not fit in .{container}"))
            .with_help(format!(
                "encode as {} for .{container}, or write a `.mkv` file, which holds any codec",
                allowed.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            )),
            TypeError::UnknownExtension { span, path } => Diagnostic::new(
                Code::E0202,
                file,
                *span,
                format!("cannot tell what to write to `{path}` from its extension"),
            )
            .with_primary_label("unknown file extension")
            .with_help("use `.mp4`, `.mkv`, `.webm` or `.ts` for video, `.jsonl` for records"),
            TypeError::SeveralStreams {
                span,
                stage,
                streams,
                file_sink,
            } => {
                let d = Diagnostic::new(
                    Code::E0204,
                    file,
                    *span,
                    format!("{streams} streams reach `{stage}`, which takes one stream"),
                )
                .with_primary_label(format!("{streams} streams arrive here"));
                if *file_sink {
                    d.with_help("put `{stream}` in the path to write one file per stream, e.g. `file(\"out/cam_{stream}.mp4\")`, or `tile` the streams first")
                } else {
                    d.with_help("`tile` the streams into one picture first, or pick one stream of the list")
                }
            }
            TypeError::OddSize {
                span,
                codec,
                width,
                height,
            } => Diagnostic::new(
                Code::E0205,
                file,
                *span,
                format!("{codec} cannot encode frames of {width}x{height}: width and height must be even"),
            )
            .with_primary_label(format!("{width}x{height} has an odd side"))
            .with_help(format!(
                "insert `scale({}x{})` before `encode`",
                width + width % 2,
                height + height % 2
            )),
            TypeError::EncoderSize {
                span,
                codec,
                width,
                height,
                min,
                max,
            } => {
                let (limit, fit) = if width.min(height) < min {
                    (format!("at least {min} pixels"), format!("{}x{}", (*width).max(*min), (*height).max(*min)))
                } else {
                    (format!("at most {max} pixels"), format!("{}x{}", (*width).min(*max), (*height).min(*max)))
                };
                Diagnostic::new(
                    Code::E0205,
                    file,
                    *span,
                    format!("{codec} cannot encode frames of {width}x{height}: each side must be {limit}"),
                )
                .with_primary_label(format!("{width}x{height} reaches the {codec} encoder"))
                .with_help(format!("insert `scale({fit})` before `encode`, or pick another codec"))
            }
            TypeError::ZeroSize { span, stage } => {
                Diagnostic::new(Code::E0205, file, *span, format!("`{stage}` is given a size of zero"))
                    .with_primary_label("width and height must be above zero")
            }
            TypeError::TileTooSmall {
                span,
                cols,
                rows,
                streams,
            } => Diagnostic::new(
                Code::E0206,
                file,
                *span,
                format!("a {cols}x{rows} grid has {} cells for {streams} streams", cols * rows),
            )
            .with_primary_label("too few cells")
            .with_help(format!("use a grid with at least {streams} cells, e.g. `tile({}, {})`", streams.div_ceil(*rows as usize).max(1), rows)),
            TypeError::NeedsObjects { span, stage } => Diagnostic::new(
                Code::E0207,
                file,
                *span,
                format!("`{stage}` needs objects, but no detector runs upstream"),
            )
            .with_primary_label("no object metadata reaches this stage")
            .with_help("run a detector first, e.g. `infer(detector)` with `decoder: yolov8(...)`"),
            TypeError::SameRtspAddress {
                span,
                first,
                port,
                path,
            } => Diagnostic::new(
                Code::E0209,
                file,
                *span,
                format!("a second stream is served at port {port}, path `{path}`"),
            )
            .with_primary_label("served here again")
            .with_label(file, *first, "the first stream served there")
            .with_help("give each `rtsp_out` its own `path` (several paths share one port) or its own `port`"),
            TypeError::OutputOverwrites {
                span,
                other,
                path,
                other_is,
            } => Diagnostic::new(
                Code::E0210,
                file,
                *span,
                if *other_is == "written by this sink" {
                    format!("two outputs write `{path}`: one would be lost or both mixed")
                } else {
                    format!("this output overwrites `{path}`, which the program reads")
                },
            )
            .with_primary_label(format!("writes `{path}`"))
            .with_label(file, *other, *other_is)
            .with_help("give this output a path of its own"),
            TypeError::UnknownObjectLabel {
                span,
                label,
                available,
                suggestion,
            } => {
                let d = Diagnostic::new(
                    Code::E0207,
                    file,
                    *span,
                    format!("no object upstream is labelled `{label}`"),
                )
                .with_primary_label(format!("the objects here are {}", available.join(", ")));
                match suggestion {
                    Some(s) => d.with_suggestion(s.to_string()),
                    None => d,
                }
            }
            TypeError::BatchMismatch {
                site,
                infer,
                model,
                model_span,
                batch,
                model_batch,
            } => Diagnostic::new(
                Code::E0301,
                file,
                *site,
                format!("batches of {batch} frames reach `{model}`, whose batch dimension is fixed at {model_batch}"),
            )
            .with_primary_label(format!("batches of {batch}"))
            .with_label(file, *infer, format!("`{model}` runs here"))
            .with_label(file, *model_span, format!("the model takes exactly {model_batch} frame(s) at a time"))
            .with_help(format!(
                "the model's batch dimension is fixed at {model_batch}: use `batch(size: {model_batch})` or export the model with a dynamic batch axis"
            )),
            TypeError::InputIncompatible {
                span,
                model,
                model_span,
                problem,
            } => {
                let (message, help) = match problem {
                    InputProblem::Rank { shape } => (
                        format!("`{model}` takes an input of shape {shape}, not an image batch"),
                        "vpl feeds images as [N, C, H, W] (NCHW) or [N, H, W, C] (NHWC) tensors".to_string(),
                    ),
                    InputProblem::Channels { shape } => (
                        format!("`{model}` takes {shape}: no dimension holds 1 or 3 colour channels"),
                        "vpl feeds 3 channels (rgb or bgr) or 1 (gray) in NCHW or NHWC layout".to_string(),
                    ),
                    InputProblem::Inputs { count } => (
                        format!("`{model}` has {count} inputs; vpl feeds one image tensor"),
                        "export the model with a single image input".to_string(),
                    ),
                    InputProblem::PerChannel { param, given, channels } => (
                        format!("`{param}` of `{model}` has {given} values for {channels} channel(s)"),
                        format!("give one `{param}` value per channel"),
                    ),
                };
                Diagnostic::new(Code::E0302, file, *span, message)
                    .with_primary_label("frames cannot be fed to this model")
                    .with_label(file, *model_span, "model declared here")
                    .with_help(help)
            }
            TypeError::UnsupportedDType {
                span,
                tensor,
                dtype,
                output,
            } => {
                let (role, supported) = if *output {
                    ("output", "f32 or f16")
                } else {
                    ("input", "f32, f16 or u8")
                };
                Diagnostic::new(
                    Code::E0303,
                    file,
                    *span,
                    format!("the model's {role} `{tensor}` has element type {dtype}, which vpl cannot {}", if *output { "decode" } else { "feed" }),
                )
                .with_primary_label(format!("{role} `{tensor}`: {dtype}"))
                .with_help(format!("vpl supports {supported} {role}s; convert the model (or use `decoder: raw` to keep the output undecoded)"))
            }
            TypeError::DecoderShape {
                span,
                decoder,
                output,
                outputs,
                problem,
            } => {
                let d = Diagnostic::new(
                    Code::E0304,
                    file,
                    *span,
                    format!("decoder `{decoder}` cannot read the model's output {output}"),
                );
                let d = match problem {
                    ShapeProblem::LooksLikeYolov5 => d
                        .with_primary_label("expects [N, 4 + classes, anchors]")
                        .with_help(format!("this output looks like YOLOv5 ({output}: anchors × (5 + classes)); export the model as YOLOv8, or use `decoder: raw`")),
                    ShapeProblem::NotYolov8 => d
                        .with_primary_label("expects [N, 4 + classes, anchors]")
                        .with_help("yolov8 reads one output of shape [N, 4 + classes, anchors]: 4 box coordinates then one score per class for each anchor"),
                    ShapeProblem::NotClassifier => d
                        .with_primary_label("expects [N, classes]")
                        .with_help("classify reads one output of shape [N, classes] (or [N, classes, 1, 1])"),
                    ShapeProblem::DynamicClasses => d
                        .with_primary_label(if decoder == "yolov8" {
                            "expects [N, 4 + classes, anchors] with `4 + classes` fixed"
                        } else {
                            "expects [N, classes] with `classes` fixed"
                        })
                        .with_help(format!("a dynamic dimension cannot stand for the classes: `{decoder}` needs their number fixed in the file; a model with an output like this (a sequence, a CTC recogniser) needs `decoder: raw`")),
                };
                match outputs {
                    Some(all) => {
                        let help = d.help.clone().unwrap_or_default();
                        d.with_help(format!("{help} (the model's outputs: {all}; choose one with `output: \"NAME\"`)"))
                    }
                    None => d,
                }
            }
            TypeError::LabelCount {
                span,
                labels,
                classes,
                output,
                outputs,
            } => {
                let d = Diagnostic::new(
                    Code::E0305,
                    file,
                    *span,
                    format!("{labels} labels for a model that outputs {classes} classes"),
                )
                .with_primary_label(format!("{labels} labels"));
                match outputs {
                    None => d.with_help(format!("the output {output} has {classes} classes: give exactly {classes} labels, in class order")),
                    Some(all) => d.with_help(format!("the decoder reads the output {output}, which has {classes} classes: give exactly {classes} labels, in class order, or choose another output with `output: \"NAME\"` (the model's outputs: {all})")),
                }
            }
            TypeError::UnknownOutput { span, name, outputs } => Diagnostic::new(
                Code::E0304,
                file,
                *span,
                format!("the model has no output `{name}`"),
            )
            .with_primary_label("not an output of the file")
            .with_help(format!("the model's outputs: {outputs}")),
            TypeError::AmbiguousOutput {
                span,
                decoder,
                candidates,
                outputs,
            } => Diagnostic::new(
                Code::E0304,
                file,
                *span,
                format!("decoder `{decoder}` could read {} of the model's outputs: {outputs}", candidates.len()),
            )
            .with_primary_label("which output does it read?")
            .with_help(format!(
                "name the output the decoder reads, e.g. `output: \"{}\"`{}",
                candidates.last().map_or("", String::as_str),
                if decoder == "classify" { ", or give as many labels as it has classes" } else { "" }
            )),
            TypeError::OpenInputSize {
                span,
                model,
                input,
                declared,
                suggestion,
            } => Diagnostic::new(
                Code::E0308,
                file,
                *span,
                format!("`{model}` leaves the height and width of its input {input} open, so vpl does not know what size to prepare frames at"),
            )
            .with_primary_label(if *declared {
                "this `input:` leaves the size open too"
            } else {
                "the input size is open in this file"
            })
            .with_help(format!("declare the size the model runs at, e.g. `{suggestion}` (use the size it was trained at)")),
            TypeError::NotOnnx { span, path, reason } => {
                Diagnostic::new(Code::E0306, file, *span, format!("`{path}` is not a valid ONNX model"))
                    .with_primary_label(reason.clone())
                    .with_help("export the model to ONNX (e.g. `yolo export format=onnx`), and check the file was copied whole")
            }
            TypeError::InputDeclared {
                span,
                declared,
                actual,
            } => Diagnostic::new(
                Code::E0307,
                file,
                *span,
                format!("the declared input {declared} disagrees with the model file's {actual}"),
            )
            .with_primary_label(format!("the file says {actual}"))
            .with_help("correct `input:`, or remove it to take the file's signature"),
            TypeError::Unknown {
                span,
                source,
                missing,
            } => {
                let parts = match missing.as_slice() {
                    [one] => one.to_string(),
                    [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
                    [] => "type".to_string(),
                };
                let verb = if missing.len() > 1 { "are" } else { "is" };
                Diagnostic::new(
                    Code::W0101,
                    file,
                    *span,
                    format!("the {parts} of this {source} {verb} not known until it runs"),
                )
            .with_primary_label("checks that depend on it are deferred to run time")
            .with_help("ascribe its type to check it now, e.g. `rtsp(url) : video<h264, 1280x720, 25fps>`")
            }
            TypeError::OverlayWithoutObjects { span } => {
                Diagnostic::new(Code::W0201, file, *span, "`overlay` has nothing to draw: no objects reach it")
                    .with_primary_label("no detector runs upstream")
                    .with_help("run `infer` with a detector before `overlay`, or remove `overlay`")
            }
            TypeError::RatesDiffer { span, stage, rates } => Diagnostic::new(
                Code::W0202,
                file,
                *span,
                format!("streams of different frame rates ({}) meet in `{stage}`", rates.join(", ")),
            )
            .with_primary_label("the slower streams will repeat frames or hold batches back")
            .with_help("insert `rate(...)` on the streams to give them one frame rate"),
            TypeError::BatchSizeStreams { span, size, streams } => Diagnostic::new(
                Code::W0301,
                file,
                *span,
                format!("batches of {size} frames from {streams} stream(s)"),
            )
            .with_primary_label(format!("size {size}, {streams} stream(s)"))
            .with_help(if *size as usize > *streams {
                "batches will wait for frames from the same streams (or the timeout); a size equal to the number of streams is usual"
            } else {
                "some streams' frames will wait for the next batch; a size equal to the number of streams is usual"
            }),
        }
    }
}
