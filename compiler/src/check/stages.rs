//! Per-stream stages: `decode`, `encode`, `convert`, `scale`, `rate`, `overlay`, `track`,
//! `filter`, `json`, `unbatch` and `tile`: E0201 (with the fix to insert), E0205, E0206,
//! E0207, W0201.

use super::errors::{Fix, TypeError, Want};
use super::types::{self, Format, Meta, Video};
use super::{Checker, Ty};
use crate::hir::BoundCall;
use crate::media;
use crate::stage::{Stage, StageKind};
use crate::suggest::did_you_mean;
use crate::syntax::Span;

impl Checker<'_> {
    pub(super) fn mismatch(
        &mut self,
        call: &BoundCall,
        want: Want,
        found: &Ty,
        fix: Option<Fix>,
    ) -> Ty {
        self.errors.push(TypeError::Mismatch {
            span: call.span,
            stage: call.name.clone(),
            want,
            found: found.to_string(),
            fix,
        });
        Ty::Error
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
            self.errors.push(TypeError::ZeroSize {
                span: call.span,
                stage: call.name.clone(),
            });
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
            Stage::Encode => {
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
                        c.errors.push(TypeError::OddSize {
                            span: call.span,
                            codec: codec.clone(),
                            width: w,
                            height: h,
                        });
                    }
                    let (min, max) = media::encoder_sides(&codec);
                    if let Some((w, h)) = v.resolution
                        && w > 0
                        && h > 0
                        && (w.min(h) < min || w.max(h) > max)
                    {
                        c.errors.push(TypeError::EncoderSize {
                            span: call.span,
                            codec: codec.clone(),
                            width: w,
                            height: h,
                            min,
                            max,
                        });
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
            Stage::Scale => {
                let size = call.resolution("resolution");
                self.check_size(call, size);
                if let Some((width, height)) = size
                    && width.max(height) > media::SCALE_MAX_SIDE
                {
                    self.errors.push(TypeError::ScaleSize {
                        span: call.bound("resolution").map_or(call.span, |a| a.span),
                        width,
                        height,
                        max: media::SCALE_MAX_SIDE,
                    });
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
                        .push(TypeError::OverlayWithoutObjects { span: call.span });
                }
                Ty::Video(v.clone())
            }),
            Stage::Track => self.per_stream(input, call, &mut |c, v| {
                if v.meta.objects.is_none() {
                    c.errors.push(TypeError::NeedsObjects {
                        span: call.span,
                        stage: call.name.clone(),
                    });
                    return Ty::Error;
                }
                let mut v = v.clone();
                v.meta.tracks = true;
                Ty::Video(v)
            }),
            Stage::Filter => {
                let classes = call.strings("classes");
                let classes_span = call.bound("classes").map_or(call.span, |a| a.span);
                self.per_stream(input, call, &mut |c, v| {
                    let Some(objects) = &v.meta.objects else {
                        c.errors.push(TypeError::NeedsObjects {
                            span: call.span,
                            stage: call.name.clone(),
                        });
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

    /// Checks that each of `wanted` is among the upstream objects' labels (E0207).
    pub(super) fn labels_known(
        &mut self,
        wanted: &[String],
        objects: &[String],
        span: Span,
    ) -> bool {
        for label in wanted {
            if !objects.contains(label) {
                self.errors.push(TypeError::UnknownObjectLabel {
                    span,
                    label: label.clone(),
                    available: objects.to_vec(),
                    suggestion: did_you_mean(label, objects.iter().map(String::as_str))
                        .map(str::to_string),
                });
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
            self.errors.push(TypeError::TileTooSmall {
                span: call.span,
                cols,
                rows,
                streams: videos.len(),
            });
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
