//! Per-stream stages: `decode`, `encode`, `convert`, `scale`, `rate`, `overlay`, `track`,
//! `filter`, `json`, `unbatch` and `tile`: E0201 (with the fix to insert), E0205, E0206,
//! E0207, W0201, W0203.

use super::errors::TypeError;
use super::types::{self, Format, Meta, Video};
use super::{Checker, Ty};
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::BoundCall;
use crate::media;
use crate::source::FileId;
use crate::stage::{Stage, StageKind};
use crate::suggest::did_you_mean;
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

/// What is wrong with a stage and the streams it gets (E0201, E0205–E0207, W0201, W0203).
#[derive(Debug, Clone, PartialEq)]
pub enum StageError {
    Mismatch {
        span: Span,
        stage: String,
        want: Want,
        found: String,
        fix: Option<Fix>,
    },
    ZeroSize {
        span: Span,
        stage: String,
    },
    /// `scale` to a side larger than videoscale makes (`media::SCALE_MAX_SIDE`).
    ScaleSize {
        span: Span,
        width: u32,
        height: u32,
        max: u32,
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
    UnknownObjectLabel {
        span: Span,
        label: String,
        available: Vec<String>,
        suggestion: Option<String>,
    },
    OverlayWithoutObjects {
        span: Span,
    },
    /// A `track` parameter given that its kind does not read (`iou` to `byte`, ByteTrack's
    /// thresholds to `iou` or `sort`).
    TrackParamUnread {
        span: Span,
        param: String,
        kind: String,
    },
}

/// The `track` parameters each kind reads besides `kind` and `max_age`.
const TRACK_PARAMS: [(&str, &[&str]); 3] = [
    ("iou", &["iou"]),
    ("sort", &["iou"]),
    ("byte", &["high", "low", "new_track", "match"]),
];

impl Checker<'_> {
    /// W0203 for each parameter given to `track` that its kind does not read.
    fn track_params(&mut self, call: &BoundCall) {
        let Some(kind) = call.string("kind") else {
            return;
        };
        let Some((_, reads)) = TRACK_PARAMS.iter().find(|(k, _)| *k == kind) else {
            return;
        };
        let others = TRACK_PARAMS.iter().flat_map(|(_, p)| p.iter());
        let mut unread: Vec<&str> = others.filter(|p| !reads.contains(p)).copied().collect();
        unread.dedup();
        for param in unread {
            if let Some(arg) = call.bound(param).filter(|a| a.given) {
                self.errors
                    .push(TypeError::Stage(StageError::TrackParamUnread {
                        span: arg.span,
                        param: param.to_string(),
                        kind: kind.to_string(),
                    }));
            }
        }
    }

    pub(super) fn mismatch(
        &mut self,
        call: &BoundCall,
        want: Want,
        found: &Ty,
        fix: Option<Fix>,
    ) -> Ty {
        self.errors.push(TypeError::Stage(StageError::Mismatch {
            span: call.span,
            stage: call.name.clone(),
            want,
            found: found.to_string(),
            fix,
        }));
        Ty::Error
    }

    /// A sink of H.264 (`record`, `hls`) fed records or a batch: E0201, with the fix for a
    /// batch.
    pub(super) fn h264_not_video(&mut self, call: &BoundCall, found: &Ty) {
        let fix = matches!(found, Ty::Batch { .. })
            .then(|| Fix::InsertBefore("unbatch | encode(h264)".into()));
        self.mismatch(call, Want::H264, found, fix);
    }

    /// Applies a per-stream rule to one stream or to each stream of a list.
    pub(super) fn per_stream(
        &mut self,
        input: &Ty,
        call: &BoundCall,
        rule: &mut dyn FnMut(&mut Self, &Video) -> Ty,
    ) -> Ty {
        match input {
            Ty::Video(v) => rule(self, v),
            Ty::List(items) => Ty::List(
                items
                    .iter()
                    .map(|t| self.per_stream(t, call, rule))
                    .collect(),
            ),
            Ty::Batch { .. } => self.mismatch(
                call,
                Want::Video,
                input,
                Some(Fix::InsertBefore("unbatch".into())),
            ),
            Ty::Records => self.mismatch(call, Want::Video, input, None),
            Ty::Error => Ty::Error,
        }
    }

    /// Raw video is needed: encoded video is a mismatch with "insert `decode`".
    pub(super) fn need_raw(&mut self, call: &BoundCall, v: &Video) -> bool {
        if v.format.is_raw() == Some(false) {
            self.mismatch(
                call,
                Want::Raw,
                &Ty::Video(v.clone()),
                Some(Fix::InsertBefore("decode".into())),
            );
            return false;
        }
        true
    }

    pub(super) fn check_size(&mut self, call: &BoundCall, size: Option<(u32, u32)>) {
        if let Some((w, h)) = size
            && (w == 0 || h == 0)
        {
            self.errors.push(TypeError::Stage(StageError::ZeroSize {
                span: call.span,
                stage: call.name.clone(),
            }));
        }
    }

    pub(super) fn stage(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let StageKind::Stage(stage) = call.kind else {
            return Ty::Error;
        };
        match stage {
            Stage::Decode => self.per_stream(input, call, &mut |c, v| match v.format.is_raw() {
                Some(true) => {
                    c.mismatch(
                        call,
                        Want::Encoded,
                        &Ty::Video(v.clone()),
                        Some(Fix::RemoveStage),
                    );
                    Ty::Error
                }
                _ => Ty::Video(Video {
                    format: Format::Raw("i420".into()),
                    ..v.clone()
                }),
            }),
            Stage::Encode => self.encode(input, call),
            Stage::Convert => {
                let format = call.string("format").map(str::to_string);
                self.per_stream(input, call, &mut |c, v| {
                    if !c.need_raw(call, v) {
                        return Ty::Error;
                    }
                    Ty::Video(Video {
                        format: format.clone().map_or(Format::AnyRaw, Format::Raw),
                        ..v.clone()
                    })
                })
            }
            Stage::Scale => self.scale(input, call),
            Stage::Rate => {
                let rate = call.rate("fps");
                self.per_stream(input, call, &mut |c, v| {
                    if !c.need_raw(call, v) {
                        return Ty::Error;
                    }
                    Ty::Video(Video {
                        rate: rate.or(v.rate),
                        ..v.clone()
                    })
                })
            }
            Stage::Overlay => self.per_stream(input, call, &mut |c, v| {
                if !c.need_raw(call, v) {
                    return Ty::Error;
                }
                if v.meta.objects.is_none() {
                    c.errors
                        .push(TypeError::Stage(StageError::OverlayWithoutObjects {
                            span: call.span,
                        }));
                }
                Ty::Video(v.clone())
            }),
            Stage::Track => {
                self.track_params(call);
                self.per_stream(input, call, &mut |c, v| {
                    if v.meta.objects.is_none() {
                        c.errors.push(TypeError::Stage(StageError::NeedsObjects {
                            span: call.span,
                            stage: call.name.clone(),
                        }));
                        return Ty::Error;
                    }
                    let mut v = v.clone();
                    v.meta.tracks = true;
                    Ty::Video(v)
                })
            }
            Stage::Filter => self.filter(input, call),
            Stage::Json => self.per_stream(input, call, &mut |_, _| Ty::Records),
            Stage::Analyze => self.analyze(input, call),
            Stage::Events => self.events(input, call),
            Stage::Infer => self.infer(input, call),
            Stage::Batch => self.batch(input, call),
            Stage::Unbatch => match input {
                Ty::Batch { streams, frame, .. } => {
                    Ty::List(vec![Ty::Video(frame.clone()); *streams])
                }
                Ty::Error => Ty::Error,
                other => self.mismatch(call, Want::Batch, other, None),
            },
            Stage::Tile => self.tile(input, call),
        }
    }

    /// `encode`: raw video in, of a size the codec's encoder takes (E0205); the frames'
    /// metadata goes along.
    fn encode(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let codec = call
            .string("codec")
            .map(str::to_string)
            .unwrap_or_else(|| "h264".into());
        self.per_stream(input, call, &mut |c, v| {
            if !c.need_raw(call, v) {
                return Ty::Error;
            }
            if let Some((w, h)) = v.resolution
                && media::codec_named(&codec).is_some_and(|c| c.chroma_420)
                && (w % 2 == 1 || h % 2 == 1)
            {
                c.errors.push(TypeError::Stage(StageError::OddSize {
                    span: call.span,
                    codec: codec.clone(),
                    width: w,
                    height: h,
                }));
            }
            let (min, max) = media::encoder_sides(&codec);
            if let Some((w, h)) = v.resolution
                && w > 0
                && h > 0
                && (w.min(h) < min || w.max(h) > max)
            {
                c.errors.push(TypeError::Stage(StageError::EncoderSize {
                    span: call.span,
                    codec: codec.clone(),
                    width: w,
                    height: h,
                    min,
                    max,
                }));
            }
            // The encoder copies the frames' metadata onto its output (the meta
            // has no tags): `record` reads the objects of encoded frames.
            Ty::Video(Video {
                format: Format::Encoded(codec.clone()),
                resolution: v.resolution,
                rate: v.rate,
                meta: v.meta.clone(),
            })
        })
    }

    /// `scale`: raw video in, to a size above zero that videoscale makes (E0205).
    fn scale(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let size = call.resolution("resolution");
        self.check_size(call, size);
        if let Some((width, height)) = size
            && width.max(height) > media::SCALE_MAX_SIDE
        {
            self.errors.push(TypeError::Stage(StageError::ScaleSize {
                span: call.bound("resolution").map_or(call.span, |a| a.span),
                width,
                height,
                max: media::SCALE_MAX_SIDE,
            }));
        }
        self.per_stream(input, call, &mut |c, v| {
            if !c.need_raw(call, v) {
                return Ty::Error;
            }
            Ty::Video(Video {
                resolution: size.or(v.resolution),
                ..v.clone()
            })
        })
    }

    /// `filter`: objects upstream (E0207), with the labels it keeps among theirs.
    fn filter(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let classes = call.strings("classes");
        let classes_span = call.bound("classes").map_or(call.span, |a| a.span);
        self.per_stream(input, call, &mut |c, v| {
            let Some(objects) = &v.meta.objects else {
                c.errors.push(TypeError::Stage(StageError::NeedsObjects {
                    span: call.span,
                    stage: call.name.clone(),
                }));
                return Ty::Error;
            };
            if !c.labels_known(&classes, objects, classes_span) {
                return Ty::Error;
            }
            let mut v = v.clone();
            if !classes.is_empty() {
                v.meta.objects = Some(types::Labels::from(classes.clone()));
            }
            Ty::Video(v)
        })
    }

    /// Checks that each of `wanted` is among the upstream objects' labels (E0207).
    pub(super) fn labels_known(
        &mut self,
        wanted: &[String],
        objects: &[String],
        span: Span,
    ) -> bool {
        for label in wanted {
            if !objects.contains(label) {
                self.errors
                    .push(TypeError::Stage(StageError::UnknownObjectLabel {
                        span,
                        label: label.clone(),
                        available: objects.to_vec(),
                        suggestion: did_you_mean(label, objects.iter().map(String::as_str))
                            .map(str::to_string),
                    }));
                return false;
            }
        }
        true
    }

    /// The raw video streams of a list (or one stream), reporting encoded ones.
    pub(super) fn raw_streams(&mut self, input: &Ty, call: &BoundCall) -> Option<Vec<Video>> {
        let items: Vec<&Ty> = match input {
            Ty::List(items) => items.iter().collect(),
            Ty::Video(_) => vec![input],
            Ty::Error => return None,
            other => {
                self.mismatch(call, Want::Video, other, None);
                return None;
            }
        };
        let mut videos = Vec::new();
        for t in items {
            match t {
                Ty::Video(v) => {
                    if !self.need_raw(call, v) {
                        return None;
                    }
                    videos.push(v.clone());
                }
                Ty::Error => return None,
                other => {
                    self.mismatch(call, Want::Video, other, None);
                    return None;
                }
            }
        }
        Some(videos)
    }

    pub(super) fn tile(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let videos = match input {
            Ty::Batch { streams, frame, .. } => vec![frame.clone(); *streams],
            other => match self.raw_streams(other, call) {
                Some(v) => v,
                None => return Ty::Error,
            },
        };
        let resolution = call.resolution("resolution");
        self.check_size(call, resolution);
        // A grid given out of range (`tile(0, 0)`) is E0107 already: no grid to compare.
        if let (Some(cols), Some(rows)) = (call.int("cols"), call.int("rows"))
            && cols.saturating_mul(rows) < videos.len() as i64
        {
            self.errors.push(TypeError::Stage(StageError::TileTooSmall {
                span: call.span,
                cols,
                rows,
                streams: videos.len(),
            }));
        }
        self.warn_rates(call, &videos);
        let metas: Vec<&Meta> = videos.iter().map(|v| &v.meta).collect();
        Ty::Video(Video {
            format: Format::Raw("i420".into()),
            resolution,
            rate: videos.iter().find_map(|v| v.rate),
            meta: Meta::union(&metas),
        })
    }
}

impl StageError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            StageError::Mismatch {
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
            StageError::ZeroSize { span, stage } => {
                Diagnostic::new(Code::E0205, file, *span, format!("`{stage}` is given a size of zero"))
                    .with_primary_label("width and height must be above zero")
            }
            StageError::ScaleSize {
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
            StageError::OddSize {
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
            StageError::EncoderSize {
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
            StageError::TileTooSmall {
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
            StageError::NeedsObjects { span, stage } => Diagnostic::new(
                Code::E0207,
                file,
                *span,
                format!("`{stage}` needs objects, but no detector runs upstream"),
            )
            .with_primary_label("no object metadata reaches this stage")
            .with_help("run a detector first, e.g. `infer(detector)` with `decoder: yolov8(...)`"),
            StageError::UnknownObjectLabel {
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
            StageError::TrackParamUnread { span, param, kind } => {
                let mut reads = vec!["`max_age`".to_string()];
                if let Some((_, params)) = TRACK_PARAMS.iter().find(|(k, _)| k == kind) {
                    reads.extend(params.iter().map(|p| format!("`{p}`")));
                }
                let last = reads.pop().unwrap_or_default();
                let reads = format!("{} and {last}", reads.join(", "));
                Diagnostic::new(
                    Code::W0203,
                    file,
                    *span,
                    format!("`track({kind})` does not read `{param}`"),
                )
                .with_primary_label("has no effect with this kind")
                .with_help(format!(
                    "`{kind}` reads {reads}; remove `{param}` or choose the kind that reads it"
                ))
            }
            StageError::OverlayWithoutObjects { span } => {
                Diagnostic::new(Code::W0201, file, *span, "`overlay` has nothing to draw: no objects reach it")
                    .with_primary_label("no detector runs upstream")
                    .with_help("run `infer` with a detector before `overlay`, or remove `overlay`")
            }
        }
    }
}
