//! Type errors as data, and the one place that words them (E0201–E0212, E0301–E0316,
//! W0101, W0201, W0202, W0301, W0302).

use crate::diagnostics::{Code, Diagnostic};
use crate::source::FileId;
use crate::stage::{Decoder, Family};
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
    /// `text_boxes` reads a `[N, 1, H, W]` probability map.
    NotTextMap,
    /// `ctc` reads `[N, T, C]` scores.
    NotCtc,
    /// `yolov8_seg` on an output that is not `[N, 4 + classes + masks, anchors]`.
    NotSeg,
    /// `yolov8_seg` on a model with no `[N, masks, H, W]` prototypes output.
    NoPrototypes,
    /// `yolov8_pose` on an output that is not `[N, rows, anchors]`.
    NotPose,
    /// `yolov8_pose` on `[N, rows, anchors]` whose `rows - 5` is not 3 × keypoints.
    PoseRows {
        rows: i64,
    },
    /// `semantic` on an output that is not `[N, classes, H, W]`.
    NotSemantic,
    /// The model's shapes (or metadata) say it needs another decoder.
    Suggest {
        decoder: Decoder,
        why: String,
    },
    /// The model's outputs have a layout no vpl decoder reads (`decoders::unrecognised`):
    /// what the model is.
    NoDecoderFits {
        what: String,
    },
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
    /// Frames smaller than a container's muxer takes (`media::container_min_side`).
    ContainerSize {
        span: Span,
        /// The file's extension: `mp4`, `mov`, `webm`.
        ext: String,
        width: u32,
        height: u32,
        min: u32,
    },
    /// `scale` to a side larger than videoscale makes (`media::SCALE_MAX_SIDE`).
    ScaleSize {
        span: Span,
        width: u32,
        height: u32,
        max: u32,
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
    /// A broker sink's `url` that is not an address of its protocol (E0211).
    BrokerAddress {
        span: Span,
        sink: String,
        url: String,
        problem: crate::brokers::AddressError,
        schemes: (&'static str, &'static str),
    },
    /// A topic the broker refuses for publishing (E0213).
    BrokerTopic {
        span: Span,
        sink: String,
        topic: String,
        problem: crate::brokers::TopicError,
    },
    /// `user:password@` in a broker address (E0212).
    BrokerCredentials {
        span: Span,
        without: String,
        env_prefix: &'static str,
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
        decoder: Decoder,
        output: String,
        /// Every output with its shape, when the model has several.
        outputs: Option<String>,
        problem: ShapeProblem,
        /// The decoder this output's shape looks like (`decoders::suggest`).
        suggest: Option<Decoder>,
    },
    LabelCount {
        span: Span,
        labels: usize,
        classes: i64,
        output: String,
        /// Every output with its shape, when the model has several.
        outputs: Option<String>,
    },
    /// `yolov8_pose(skeleton: coco17)` on a model whose keypoints are not COCO's 17 (E0312).
    SkeletonKeypoints {
        span: Span,
        keypoints: i64,
        output: String,
    },
    /// A decoder that makes masks or keypoints used on crops (`infer(on: ...)`, E0313).
    DecoderOnCrops {
        span: Span,
        decoder: Decoder,
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
        decoder: Decoder,
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
    /// The CTC alphabet has neither `C - 1` nor `C - 2` characters.
    AlphabetLength {
        span: Span,
        characters: usize,
        classes: i64,
        /// Where it came from: "the file `dict.txt`", "the model's `character` metadata".
        origin: String,
        output: String,
    },
    /// `ctc` without `alphabet:` on a model with no `character` metadata.
    NoAlphabet {
        span: Span,
        classes: i64,
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
    /// A box decoder (`yolov5`, `detr`, `ssd`) cannot read the output (`check/decoders.rs`).
    BoxDecoderShape {
        span: Span,
        decoder: Decoder,
        /// "`output0` [1, 6, 8400]"
        output: String,
        outputs: Option<String>,
        problem: super::model::boxes::BoxProblem,
        /// The decoder this shape looks like.
        suggest: Option<Decoder>,
    },
    /// The anchors the decoder makes or reads are not as many as the output's.
    AnchorCount {
        span: Span,
        decoder: Decoder,
        expected: i64,
        /// How `expected` is made: "80×80 + 40×40 + 20×20 for a 640×640 input".
        how: String,
        output: String,
        found: i64,
    },
    /// The decoder's anchor parameters or file cannot make anchors.
    BadAnchors {
        span: Span,
        reason: String,
    },
    /// Several outputs could be a box decoder's boxes and `boxes:` does not say which.
    AmbiguousBoxes {
        span: Span,
        decoder: Decoder,
        candidates: Vec<String>,
        outputs: String,
    },
    /// The model's `names` metadata does not name each of its classes once.
    MetadataLabelCount {
        span: Span,
        names: usize,
        classes: i64,
        output: String,
    },
    /// The model's `names` metadata does not parse as Ultralytics' dict of names (W0303).
    MetadataNamesUnread {
        span: Span,
        /// The entry as the file has it.
        text: String,
        classes: i64,
    },
    /// A dimension the decoder needs is open in the file: checked at run time.
    OpenDimension {
        span: Span,
        decoder: Decoder,
        output: String,
        /// "anchors", "queries"
        what: &'static str,
    },
    /// Zones, lines, `analyze` and `events` (worded in `check/zones.rs`).
    Zones(super::zones::ZoneError),
    /// `record(when: EVENT)` (worded in `check/record_event.rs`).
    RecordEvent(super::record_event::RecordEventError),
}

impl TypeError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            TypeError::Zones(e) => e.to_diagnostic(file),
            TypeError::RecordEvent(e) => e.to_diagnostic(file),
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
            .with_help("use `.mp4`, `.mov`, `.mkv`, `.webm` or `.ts` for video, `.jsonl` for records"),
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
            TypeError::ContainerSize {
                span,
                ext,
                width,
                height,
                min,
            } => {
                let fit = format!("{}x{}", (*width).max(*min), (*height).max(*min));
                Diagnostic::new(
                    Code::E0205,
                    file,
                    *span,
                    format!("a `.{ext}` file cannot hold frames of {width}x{height}: each side must be at least {min} pixels"),
                )
                .with_primary_label(format!("{width}x{height} reaches the `.{ext}` muxer"))
                .with_help(format!("insert `scale({fit})` before `encode`, or write a `.mkv` file (Matroska takes any size)"))
            }
            TypeError::ScaleSize {
                span,
                width,
                height,
                max,
            } => Diagnostic::new(
                Code::E0205,
                file,
                *span,
                format!("`scale` cannot make frames of {width}x{height}: each side must be at most {max} pixels"),
            )
            .with_primary_label(format!("{width}x{height} is larger than GStreamer scales to"))
            .with_help(format!(
                "scale to at most {}x{}",
                (*width).min(*max),
                (*height).min(*max)
            )),
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
            TypeError::BrokerAddress {
                span,
                sink,
                url,
                problem,
                schemes: (plain, secure),
            } => Diagnostic::new(
                Code::E0211,
                file,
                *span,
                format!("`{url}` is not an address `{sink}` can connect to: {problem}"),
            )
            .with_primary_label("not a broker address")
            .with_help(if *plain == "kafka" {
                "write `HOST:PORT[,HOST:PORT…]` (port 9092 when left out), or prefix it with `kafkas://` for TLS".to_string()
            } else {
                format!("write `{plain}://HOST[:PORT]`, or `{secure}://HOST[:PORT]` for TLS")
            }),
            TypeError::BrokerTopic {
                span,
                sink,
                topic,
                problem,
            } => {
                let shown: String = if topic.len() > 60 {
                    format!("{}…", topic.chars().take(40).collect::<String>())
                } else {
                    topic.clone()
                };
                Diagnostic::new(
                    Code::E0213,
                    file,
                    *span,
                    format!("`{sink}` cannot publish to topic {shown:?}: {problem}"),
                )
                .with_primary_label("refused by the broker")
                .with_help(if *sink == "kafka" {
                    "name the topic with letters, digits, `.`, `_` and `-` (at most 249), e.g. `vpl.events`; `{stream}` gives each stream its own".to_string()
                } else {
                    "name one topic, levels separated by `/`, e.g. `vpl/events`; `{stream}` puts each stream in a topic of its own (`cams/{stream}/events`)".to_string()
                })
            }
            TypeError::BrokerCredentials {
                span,
                without,
                env_prefix,
            } => Diagnostic::new(
                Code::E0212,
                file,
                *span,
                "credentials do not belong in the program text",
            )
            .with_primary_label("user name or password written here")
            .with_help(format!(
                "set {env_prefix}_USERNAME and {env_prefix}_PASSWORD in the environment of `vplc run`, and write `{without}`"
            )),
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
                        format!("`{model}` takes {shape}: no dimension holds 1, 3 or 4 colour channels"),
                        "vpl feeds 3 channels (rgb or bgr), 4 (rgb or bgr and an opaque 4th) or 1 (gray) in NCHW or NHWC layout".to_string(),
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
                suggest,
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
                        .with_suggestion("yolov5()")
                        .with_help(format!("this output looks like YOLOv5 ({output}: anchors × (5 + classes)): try `decoder: yolov5()`")),
                    ShapeProblem::NotYolov8 => d
                        .with_primary_label("expects [N, 4 + classes, anchors]")
                        .with_help("yolov8 reads one output of shape [N, 4 + classes, anchors]: 4 box coordinates then one score per class for each anchor"),
                    ShapeProblem::NotClassifier => d
                        .with_primary_label("expects [N, classes]")
                        .with_help("classify reads one output of shape [N, classes] (or [N, classes, 1, 1])"),
                    ShapeProblem::NotTextMap => d
                        .with_primary_label("expects [N, 1, H, W]")
                        .with_help("text_boxes reads one probability map of shape [N, 1, H, W] (a DB text detector such as PaddleOCR's det model)"),
                    ShapeProblem::NotCtc => d
                        .with_primary_label("expects [N, T, C]")
                        .with_help("ctc reads one output of shape [N, T, C]: for each of T steps, a score per class, class 0 the blank (a CTC recogniser such as PaddleOCR's rec model)"),
                    ShapeProblem::NotSeg => d
                        .with_primary_label("expects [N, 4 + classes + masks, anchors]")
                        .with_help("yolov8_seg reads an output [N, 4 + classes + masks, anchors] (4 box coordinates, one score per class, then the mask coefficients, for each anchor) and the prototypes [N, masks, H, W]"),
                    ShapeProblem::NoPrototypes => d
                        .with_primary_label("no mask prototypes beside this output")
                        .with_help(format!("yolov8_seg also reads the mask prototypes: another output of shape [N, masks, H, W] with `masks` fixed and less than {output}'s rows minus 4; this model has none (export the segmentation model with its two outputs, or use `decoder: yolov8` for the boxes only)")),
                    ShapeProblem::NotPose => d
                        .with_primary_label("expects [N, 4 + 1 + 3 × keypoints, anchors]")
                        .with_help("yolov8_pose reads one output of shape [N, 4 + 1 + 3 × keypoints, anchors]: 4 box coordinates, the person score, then x, y and visibility of each keypoint, for each anchor"),
                    ShapeProblem::PoseRows { rows } => d
                        .with_primary_label(format!("{rows} rows: {rows} − 5 is not a multiple of 3"))
                        .with_help("yolov8_pose reads [N, 4 + 1 + 3 × keypoints, anchors]: after the box and the score, each keypoint is 3 rows (x, y, visibility); 56 rows are COCO's 17 keypoints"),
                    ShapeProblem::NotSemantic => d
                        .with_primary_label("expects [N, classes, H, W]")
                        .with_help("semantic reads one output of shape [N, classes, H, W]: a score for each class at each position of the map"),
                    ShapeProblem::NoDecoderFits { what } => d
                        .with_primary_label("no vpl decoder reads this model's outputs")
                        .with_help(format!("{what}. vpl cannot decode this layout as it is, and another decoder would read garbage from it: use `decoder: raw` to keep the outputs as tensors, or export the model in a layout a vpl decoder reads (docs/decoders.md)")),
                    ShapeProblem::Suggest { decoder: better, why } => d
                        .with_primary_label(format!("this model needs `{better}`"))
                        .with_suggestion(better.to_string())
                        .with_help(format!("{why}; use `decoder: {better}(...)`")),
                    ShapeProblem::DynamicClasses => d
                        .with_primary_label(match decoder {
                            Decoder::Yolov8 => "expects [N, 4 + classes, anchors] with `4 + classes` fixed",
                            Decoder::Yolov8Seg => "expects [N, 4 + classes + masks, anchors] with its rows fixed",
                            Decoder::Yolov8Pose => "expects [N, 4 + 1 + 3 × keypoints, anchors] with its rows fixed",
                            Decoder::Semantic => "expects [N, classes, H, W] with `classes` fixed",
                            Decoder::Ctc => "expects [N, T, C] with `C` fixed",
                            Decoder::Classify
                            | Decoder::TextBoxes
                            | Decoder::Yolov5
                            | Decoder::Detr
                            | Decoder::Ssd
                            | Decoder::Raw => "expects [N, classes] with `classes` fixed",
                        })
                        .with_help(if *decoder == Decoder::Ctc {
                            "a dynamic dimension cannot stand for the classes: `ctc` needs their number (blank, characters, and a space if the model has one) fixed in the file".to_string()
                        } else {
                            format!("a dynamic dimension cannot stand for the classes: `{decoder}` needs their number fixed in the file; a model with an output like this (a sequence, a CTC recogniser) needs `decoder: ctc(...)` or `decoder: raw`")
                        }),
                };
                let d = match outputs {
                    // Another output would not help: the model needs another decoder.
                    Some(_) if matches!(problem, ShapeProblem::Suggest { .. } | ShapeProblem::NoDecoderFits { .. }) => d,
                    Some(all) => {
                        let help = d.help.clone().unwrap_or_default();
                        d.with_help(format!("{help} (the model's outputs: {all}; choose one with `output: \"NAME\"`)"))
                    }
                    None => d,
                };
                match suggest {
                    Some(other) if d.suggestion.is_none() => {
                        let help = d.help.clone().unwrap_or_default();
                        d.with_suggestion(format!("{other}()"))
                            .with_help(format!("{help}; this shape looks like `{other}`: try `decoder: {other}()`"))
                    }
                    _ => d,
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
            TypeError::SkeletonKeypoints {
                span,
                keypoints,
                output,
            } => Diagnostic::new(
                Code::E0312,
                file,
                *span,
                format!("skeleton `coco17` joins COCO's 17 keypoints, but the model has {keypoints}"),
            )
            .with_primary_label("17 keypoints expected")
            .with_help(format!("the output {output} holds 4 + 1 + 3 × {keypoints} rows: {keypoints} keypoints; use `skeleton: none` to draw the keypoints without bones")),
            TypeError::DecoderOnCrops { span, decoder } => Diagnostic::new(
                Code::E0313,
                file,
                *span,
                format!("`{decoder}` cannot run on crops"),
            )
            .with_primary_label("runs on the objects' crops")
            .with_help(format!("the masks and keypoints of `{decoder}` are found on whole frames: remove `on:` and run the model on the frames")),
            TypeError::UnknownOutput { span, name, outputs } => Diagnostic::new(
                Code::E0304,
                file,
                *span,
                format!("the model has no output `{name}`"),
            )
            .with_primary_label("not an output of the file")
            .with_help(format!("the model's outputs: {outputs}")),
            TypeError::BoxDecoderShape {
                span,
                decoder,
                output,
                outputs,
                problem,
                suggest,
            } => {
                use super::model::boxes::BoxProblem;
                let (label, help) = match problem {
                    BoxProblem::NotYolov5 => ("expects [N, anchors, 5 + classes]".to_string(), "yolov5 reads one output of shape [N, anchors, 5 + classes]: centre x, centre y, width, height, objectness, then one score per class for each anchor".to_string()),
                    BoxProblem::NotDetr => ("expects [N, queries, 4 + classes], or boxes [N, queries, 4] and logits [N, queries, classes]".to_string(), "detr reads one output [N, queries, 4 + classes], or two: boxes [N, queries, 4] (centre x, centre y, width, height, fractions of the input) and class logits [N, queries, classes]".to_string()),
                    BoxProblem::NoObjectClassOnly => ("one logit is only the \"no object\" class".to_string(), "with `activation: softmax` the last logit is \"no object\" and is dropped: the model must output at least two; use `activation: sigmoid` if it has no such class".to_string()),
                    BoxProblem::NotSsd => ("expects boxes [N, anchors, 4 + extra] and scores [N, anchors, classes]".to_string(), "ssd reads two outputs: box offsets [N, anchors, 4 + extra] and class scores [N, anchors, classes]; name them with `boxes: \"NAME\"` and the model's `output: \"NAME\"` if vpl cannot tell them apart".to_string()),
                    BoxProblem::DynamicClasses => ("the classes' dimension is open".to_string(), format!("a dynamic dimension cannot stand for the classes: `{decoder}` needs their number fixed in the file")),
                    BoxProblem::CountsDiffer { boxes, scores } => (format!("boxes {boxes}, scores {scores}"), format!("the boxes {boxes} and the scores {scores} must be for the same number of anchors (queries): are these the outputs of one head?")),
                };
                let d = Diagnostic::new(
                    Code::E0304,
                    file,
                    *span,
                    format!("decoder `{decoder}` cannot read the model's output {output}"),
                )
                .with_primary_label(label);
                let help = match outputs {
                    Some(all) => format!("{help} (the model's outputs: {all})"),
                    None => help,
                };
                match suggest {
                    Some(other) => d
                        .with_suggestion(format!("{other}()"))
                        .with_help(format!("{help}; this looks like what `{other}` reads: try `decoder: {other}()`")),
                    None => d.with_help(help),
                }
            }
            TypeError::AnchorCount {
                span,
                decoder,
                expected,
                how,
                output,
                found,
            } => Diagnostic::new(
                Code::E0309,
                file,
                *span,
                format!("decoder `{decoder}` makes {expected} anchors but the model's output {output} has {found}"),
            )
            .with_primary_label(format!("{expected} anchors: {how}"))
            .with_help(format!("the decoder needs one anchor for each of the output's {found} rows, in the order the model makes them: check the strides (and anchors per cell) against the model's heads, or the model's input size")),
            TypeError::BadAnchors { span, reason } => Diagnostic::new(
                Code::E0310,
                file,
                *span,
                format!("the decoder's anchors cannot be made: {reason}"),
            )
            .with_primary_label("no anchors from this")
            .with_help("give an anchors file of lines `centre_x centre_y width height` (fractions of the input), or `strides` and `per_cell` with one positive value per grid"),
            TypeError::AmbiguousBoxes {
                span,
                decoder,
                candidates,
                outputs,
            } => Diagnostic::new(
                Code::E0304,
                file,
                *span,
                format!("decoder `{decoder}` could read its boxes from {} of the model's outputs: {outputs}", candidates.len()),
            )
            .with_primary_label("which output holds the boxes?")
            .with_help(format!(
                "name the boxes output in the decoder, e.g. `{decoder}(boxes: \"{}\")`, and the scores with the model's `output:` if needed",
                candidates.first().map_or("", String::as_str)
            )),
            TypeError::MetadataLabelCount {
                span,
                names,
                classes,
                output,
            } => Diagnostic::new(
                Code::E0311,
                file,
                *span,
                format!("the model's `names` metadata has {names} labels but its output {output} has {classes} classes"),
            )
            .with_primary_label(format!("{names} names in the file's metadata"))
            .with_help(format!("vpl takes a model's labels from its metadata when `labels:` is not given, but these do not fit; give the {classes} labels with `labels:`, in class order")),
            TypeError::MetadataNamesUnread { span, text, classes } => Diagnostic::new(
                Code::W0303,
                file,
                *span,
                format!("the model's `names` metadata cannot be read as class names: {}", metadata_excerpt(text)),
            )
            .with_primary_label(format!("its {classes} classes are named `class0` to `class{}`", classes - 1))
            .with_help("vpl reads `names` as Ultralytics writes it, a dict of the classes 0 to n - 1 in order to quoted names (`{0: 'person', 1: 'car'}`); give the labels with `labels:`, in class order, or fix the metadata"),
            TypeError::OpenDimension {
                span,
                decoder,
                output,
                what,
            } => Diagnostic::new(
                Code::W0302,
                file,
                *span,
                format!("the model's output {output} leaves its {what} open: decoder `{decoder}` can only be fitted to it at run time"),
            )
            .with_primary_label(format!("{what} checked at run time"))
            .with_help(format!("the file does not fix how many {what} the output has; if it is not what `{decoder}` expects, the run stops with an error at this model. Fix the dimension in the model (export with static shapes) to have it checked now")),
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
                if decoder.family() == Family::Classify { ", or give as many labels as it has classes" } else { "" }
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
            TypeError::AlphabetLength {
                span,
                characters,
                classes,
                origin,
                output,
            } => Diagnostic::new(
                Code::E0315,
                file,
                *span,
                format!("an alphabet of {characters} characters cannot read a recogniser with {classes} classes"),
            )
            .with_primary_label(format!("{characters} characters, from {origin}"))
            .with_help(format!(
                "the output {output} has {classes} classes: class 0 is the blank, then one class a character, and PaddleOCR models add a space as the last class; give an alphabet of {} characters (or {} with the space), in class order",
                classes - 2,
                classes - 1
            )),
            TypeError::NoAlphabet { span, classes } => Diagnostic::new(
                Code::E0316,
                file,
                *span,
                "`ctc` needs an alphabet, and the model carries none",
            )
            .with_primary_label("no `alphabet:`, and no `character` in the model's metadata")
            .with_help(format!(
                "give the characters the recogniser's {classes} classes stand for: `ctc(alphabet: \"dict.txt\")`, a file with one character a line in class order (class 0, the blank, is not listed)"
            )),
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

/// A metadata entry as it is shown in a message: quoted, on one line, at most 120
/// characters (an entry may be long, or hold line ends).
fn metadata_excerpt(text: &str) -> String {
    const MOST: usize = 120;
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut shown: String = one_line.chars().take(MOST).collect();
    if one_line.chars().count() > MOST {
        shown.push('…');
    }
    format!("`{shown}`")
}
