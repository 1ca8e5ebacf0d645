//! Sinks: records to `stdout` and `.jsonl`, video to containers (E0202: extension and
//! codec), `display` and `rtsp_out` (E0204: one stream); broker sinks in `brokers.rs`.

use std::path::Path;

use super::errors::TypeError;
use super::stages::{Fix, Want};
use super::types::Format;
use super::{Checker, Ty};
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::BoundCall;
use crate::media;
use crate::source::FileId;
use crate::stage::{Sink, StageKind};
use crate::syntax::Span;

/// What is wrong with a sink and the streams it gets (E0202, E0204, E0205).
#[derive(Debug, Clone, PartialEq)]
pub enum SinkError {
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
    /// Frames smaller than a container's muxer takes (`media::container_min_side`).
    ContainerSize {
        span: Span,
        /// The file's extension: `mp4`, `mov`, `webm`.
        ext: String,
        width: u32,
        height: u32,
        min: u32,
    },
}

impl Checker<'_> {
    pub(super) fn sink(&mut self, input: &Ty, call: &BoundCall) {
        let StageKind::Sink(sink) = call.kind else {
            return;
        };
        match sink {
            Sink::Discard => {}
            Sink::Stdout => {
                self.per_stream_records(input, call);
            }
            Sink::Display | Sink::RtspOut => {
                if let Ty::List(items) = input {
                    self.errors.push(TypeError::Sink(SinkError::SeveralStreams {
                        span: call.span,
                        stage: call.name.clone(),
                        streams: items.len(),
                        file_sink: false,
                    }));
                    return;
                }
                let Ty::Video(v) = input else {
                    if !matches!(input, Ty::Error) {
                        let fix = matches!(input, Ty::Batch { .. })
                            .then(|| Fix::InsertBefore("unbatch".into()));
                        self.mismatch(call, Want::Video, input, fix);
                    }
                    return;
                };
                if sink == Sink::Display {
                    self.need_raw(call, v);
                } else {
                    match &v.format {
                        Format::Encoded(c) if c == "h264" => {}
                        Format::Unknown => {}
                        _ => {
                            self.mismatch(
                                call,
                                Want::H264,
                                input,
                                Some(Fix::InsertBefore("encode(h264)".into())),
                            );
                        }
                    }
                }
            }
            Sink::File => self.file_sink(input, call),
            Sink::Mqtt => self.broker_sink(input, call, crate::brokers::Protocol::Mqtt),
            Sink::Redis => self.broker_sink(input, call, crate::brokers::Protocol::Redis),
            Sink::Kafka => self.kafka_sink(input, call),
            Sink::Record => self.record_sink(input, call),
            Sink::Hls => self.hls_sink(input, call),
        }
    }

    pub(super) fn per_stream_records(&mut self, input: &Ty, call: &BoundCall) {
        match input {
            Ty::Records | Ty::Error => {}
            Ty::List(items) => {
                for t in items {
                    self.per_stream_records(t, call);
                }
            }
            Ty::Video(_) => {
                self.mismatch(
                    call,
                    Want::Records,
                    input,
                    Some(Fix::InsertBefore("json".into())),
                );
            }
            Ty::Batch { .. } => {
                self.mismatch(
                    call,
                    Want::Records,
                    input,
                    Some(Fix::InsertBefore("unbatch | json".into())),
                );
            }
        }
    }

    /// Frames smaller than the container's muxer takes (`media::container_min_side`:
    /// `.mp4`, `.mov` and `.webm` from 16 pixels a side) fail to link at run time: E0205.
    pub(super) fn container_size(
        &mut self,
        call: &BoundCall,
        container: &media::Container,
        ext: &str,
        size: Option<(u32, u32)>,
    ) {
        let min = media::container_min_side(container);
        if let Some((width, height)) = size
            && width > 0
            && height > 0
            && width.min(height) < min
        {
            self.errors.push(TypeError::Sink(SinkError::ContainerSize {
                span: call.span,
                ext: ext.to_string(),
                width,
                height,
                min,
            }));
        }
    }

    /// A sink that writes a file: `one` on each stream of a list when its path has
    /// `{stream}` (a file each), E0204 for a list otherwise.
    pub(super) fn file_per_stream(
        &mut self,
        input: &Ty,
        call: &BoundCall,
        path: &str,
        one: impl Fn(&mut Self, &Ty),
    ) {
        match input {
            Ty::List(items) if path.contains("{stream}") => {
                for t in items {
                    one(self, t);
                }
            }
            Ty::List(items) => self.errors.push(TypeError::Sink(SinkError::SeveralStreams {
                span: call.span,
                stage: call.name.clone(),
                streams: items.len(),
                file_sink: true,
            })),
            other => one(self, other),
        }
    }

    pub(super) fn file_sink(&mut self, input: &Ty, call: &BoundCall) {
        let path = call.string("path").map(str::to_string).unwrap_or_default();
        let ext = Path::new(&path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if ext == "jsonl" {
            self.per_stream_records(input, call);
            return;
        }
        let Some(container) = media::container_for_extension(&ext) else {
            self.errors
                .push(TypeError::Sink(SinkError::UnknownExtension {
                    span: call.span,
                    path,
                }));
            return;
        };
        let allowed = container.codecs;
        let one = |c: &mut Self, t: &Ty| match t {
            Ty::Video(v) => match &v.format {
                Format::Encoded(codec) => {
                    if !allowed.contains(&codec.as_str()) {
                        c.errors.push(TypeError::Sink(SinkError::ContainerCodec {
                            span: call.span,
                            container: ext.clone(),
                            codec: codec.clone(),
                            allowed: allowed.to_vec(),
                        }));
                    } else {
                        c.container_size(call, container, &ext, v.resolution);
                    }
                }
                Format::Unknown => {}
                Format::Raw(_) | Format::AnyRaw => {
                    let codec = if ext == "webm" { "vp8" } else { "h264" };
                    c.mismatch(
                        call,
                        Want::Encoded,
                        t,
                        Some(Fix::InsertBefore(format!("encode({codec})"))),
                    );
                }
            },
            Ty::Records => {
                c.mismatch(call, Want::Video, t, Some(Fix::UseJsonl));
            }
            Ty::Batch { .. } => {
                c.mismatch(
                    call,
                    Want::Video,
                    t,
                    Some(Fix::InsertBefore("unbatch".into())),
                );
            }
            Ty::List(_) | Ty::Error => {}
        };
        self.file_per_stream(input, call, &path, one);
    }
}

impl SinkError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            SinkError::ContainerCodec {
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
                allowed
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            SinkError::UnknownExtension { span, path } => Diagnostic::new(
                Code::E0202,
                file,
                *span,
                format!("cannot tell what to write to `{path}` from its extension"),
            )
            .with_primary_label("unknown file extension")
            .with_help(
                "use `.mp4`, `.mov`, `.mkv`, `.webm` or `.ts` for video, `.jsonl` for records",
            ),
            SinkError::SeveralStreams {
                span,
                stage,
                streams,
                file_sink,
            } => {
                // A list of one (a pool of `max: 1`) is a list all the same: each stream
                // that comes through it needs an output of its own.
                let (message, label) = if *streams == 1 {
                    (
                        format!(
                            "a list of 1 stream reaches `{stage}`, which takes one stream, not a list"
                        ),
                        "a list arrives here".to_string(),
                    )
                } else {
                    (
                        format!("{streams} streams reach `{stage}`, which takes one stream"),
                        format!("{streams} streams arrive here"),
                    )
                };
                let d =
                    Diagnostic::new(Code::E0204, file, *span, message).with_primary_label(label);
                if *file_sink {
                    d.with_help("put `{stream}` in the path to write one file per stream, e.g. `file(\"out/cam_{stream}.mp4\")`, or `tile` the streams first")
                } else {
                    d.with_help(
                        "`tile` the streams into one picture first, or pick one stream of the list",
                    )
                }
            }
            SinkError::ContainerSize {
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
        }
    }
}
