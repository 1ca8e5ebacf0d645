//! `record(when, …, path)`: triggered clips. H.264 in (E0201 with `encode(h264)`), objects
//! upstream whose labels include `when` (E0207), a container that holds H.264 (E0202), one
//! stream unless the path has `{stream}` (E0204). `when: EVENT` is checked in
//! `record_event.rs` (E0408, E0409, E0405).

use std::path::Path;

use super::errors::TypeError;
use super::sinks::SinkError;
use super::stages::{Fix, StageError, Want};
use super::types::Format;
use super::{Checker, Ty};
use crate::analytics::EventKind;
use crate::hir::{BoundCall, Value};
use crate::media;

impl Checker<'_> {
    pub(super) fn record_sink(&mut self, input: &Ty, call: &BoundCall) {
        let path = call.string("path").unwrap_or_default().to_string();
        let ext = Path::new(&path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let container = media::container_for_extension(&ext);
        match container.map(|c| c.codecs) {
            None => {
                self.errors
                    .push(TypeError::Sink(SinkError::UnknownExtension {
                        span: call.span,
                        path: path.clone(),
                    }));
                return;
            }
            Some(codecs) if !codecs.contains(&"h264") => {
                self.errors.push(TypeError::Sink(SinkError::ContainerCodec {
                    span: call.span,
                    container: ext,
                    codec: "h264".into(),
                    allowed: codecs.to_vec(),
                }));
                return;
            }
            Some(_) => {}
        }
        let when = call.string("when").unwrap_or_default().to_string();
        let when_span = call.bound("when").map_or(call.span, |a| a.span);
        // A bare word is an analytics event (`when: crossing`); a string is a label.
        let event = match call.value("when") {
            Some(Value::Symbol(word)) => EventKind::from_word(word),
            _ => None,
        };
        let one = |c: &mut Self, t: &Ty| match t {
            Ty::Video(v) => {
                match &v.format {
                    Format::Encoded(codec) if codec == "h264" => {
                        if let Some(container) = container {
                            c.container_size(call, container, &ext, v.resolution);
                        }
                    }
                    Format::Unknown => {}
                    _ => {
                        c.mismatch(
                            call,
                            Want::H264,
                            t,
                            Some(Fix::InsertBefore("encode(h264)".into())),
                        );
                        return;
                    }
                }
                if let Some(kind) = event {
                    c.record_event(call, v, kind, when_span);
                    return;
                }
                let Some(objects) = &v.meta.objects else {
                    c.errors.push(TypeError::Stage(StageError::NeedsObjects {
                        span: call.span,
                        stage: call.name.clone(),
                    }));
                    return;
                };
                c.labels_known(std::slice::from_ref(&when), objects, when_span);
            }
            Ty::Records | Ty::Batch { .. } => c.h264_not_video(call, t),
            Ty::List(_) | Ty::Error => {}
        };
        self.file_per_stream(input, call, &path, one);
    }
}
