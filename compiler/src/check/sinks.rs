//! Sinks: records to `stdout` and `.jsonl`, video to containers (E0202: extension and
//! codec), `display` and `rtsp_out` (E0204: one stream); broker sinks in `brokers.rs`.

use std::path::Path;

use super::errors::{Fix, TypeError, Want};
use super::types::Format;
use super::{Checker, Ty};
use crate::hir::BoundCall;
use crate::media;
use crate::stage::{Sink, StageKind};

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
                    self.errors.push(TypeError::SeveralStreams {
                        span: call.span,
                        stage: call.name.clone(),
                        streams: items.len(),
                        file_sink: false,
                    });
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
            self.errors.push(TypeError::ContainerSize {
                span: call.span,
                ext: ext.to_string(),
                width,
                height,
                min,
            });
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
            self.errors.push(TypeError::UnknownExtension {
                span: call.span,
                path,
            });
            return;
        };
        let allowed = container.codecs;
        let one = |c: &mut Self, t: &Ty| match t {
            Ty::Video(v) => match &v.format {
                Format::Encoded(codec) => {
                    if !allowed.contains(&codec.as_str()) {
                        c.errors.push(TypeError::ContainerCodec {
                            span: call.span,
                            container: ext.clone(),
                            codec: codec.clone(),
                            allowed: allowed.to_vec(),
                        });
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
        match input {
            Ty::List(items) if path.contains("{stream}") => {
                for t in items {
                    one(self, t);
                }
            }
            Ty::List(items) => self.errors.push(TypeError::SeveralStreams {
                span: call.span,
                stage: call.name.clone(),
                streams: items.len(),
                file_sink: true,
            }),
            other => one(self, other),
        }
    }
}
