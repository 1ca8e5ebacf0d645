//! Resolved program → typed program: the type of every stream (spec section 5), checked
//! against every stage's rule (section 6), with facts about media files and models read
//! through the `Host`. Reports E02xx, E03xx and their warnings; never panics.

pub mod errors;
pub mod model;
pub mod types;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use errors::TypeError;
use errors::{Fix, Want};
pub use model::{ModelInfo, ModelKind, Preprocess};
use types::{CODECS, CODECS_420, RAW_FORMATS, encoder_sides};
pub use types::{Format, Meta, Ty, Video};

use crate::facts::{FactError, MediaFacts};
use crate::hir::{self, BoundCall, Flow, ModelId, Value};
use crate::host::Host;
use crate::suggest::did_you_mean;
use crate::syntax::Span;
use crate::syntax::ast::{self, Role, TypeArg, TypeKind};
use crate::syntax::literal::LitValue;

/// The typed program: what lowering needs beyond the resolved program.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// By `ModelId`; `None` where the model could not be read or has errors.
    pub models: Vec<Option<ModelInfo>>,
    pub pipelines: Vec<TypedPipeline>,
}

#[derive(Debug, Clone, Default)]
pub struct TypedPipeline {
    pub name: String,
    /// The type of each `let`, in order.
    pub lets: Vec<(String, Span, Ty)>,
    /// Every call of the pipeline, with the types around it.
    pub sites: Vec<Site>,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub span: Span,
    pub name: String,
    pub role: Role,
    pub input: Ty,
    pub output: Ty,
    /// For sources read from files: what the probe found.
    pub media: Option<MediaFacts>,
    pub infer: Option<InferSite>,
}

/// How an `infer` runs: its model and the batch size chosen, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct InferSite {
    pub model: ModelId,
    pub batch: u32,
    pub streams: usize,
    pub reason: String,
}

pub fn check(program: &hir::Program, host: &dyn Host, dir: &Path) -> (Typed, Vec<TypeError>) {
    let mut errors = Vec::new();
    let models = program
        .models
        .iter()
        .map(|m| model::analyse(m, host, dir, &mut errors))
        .collect();
    let mut c = Checker {
        host,
        program,
        models,
        errors,
        media: HashMap::new(),
        sites: Vec::new(),
        pending_infer: None,
    };
    let pipelines = program
        .pipelines
        .iter()
        .map(|p| {
            let mut lets: Vec<(String, Span, Ty)> = Vec::new();
            let mut let_types: Vec<Ty> = Vec::new();
            for l in &p.lets {
                let ty = c.flow(&l.flow, &let_types);
                let_types.push(ty.clone());
                lets.push((l.name.name.clone(), l.name.span, ty));
            }
            for f in &p.flows {
                c.flow(&f.flow, &let_types);
            }
            TypedPipeline {
                name: p.name.name.clone(),
                lets,
                sites: std::mem::take(&mut c.sites),
            }
        })
        .collect();
    (
        Typed {
            models: c.models,
            pipelines,
        },
        c.errors,
    )
}

struct Checker<'a> {
    host: &'a dyn Host,
    program: &'a hir::Program,
    models: Vec<Option<ModelInfo>>,
    errors: Vec<TypeError>,
    /// Probes by file: each distinct file is probed once per compilation.
    media: HashMap<PathBuf, Result<MediaFacts, FactError>>,
    sites: Vec<Site>,
    /// The batch decision of the `infer` being typed, recorded with its site.
    pending_infer: Option<InferSite>,
}

/// Which codecs each container extension holds.
fn container_codecs(ext: &str) -> Option<&'static [&'static str]> {
    Some(match ext {
        // Both are written by mp4mux, which takes no JPEG.
        "mp4" | "mov" => &["h264", "h265", "av1", "mpeg4"],
        "mkv" => CODECS,
        "webm" => &["vp8", "vp9", "av1"],
        "ts" => &["h264", "h265", "mpeg2", "mpeg4"],
        _ => return None,
    })
}

fn rates_of(videos: &[&Video]) -> Option<Vec<String>> {
    let rates: Vec<(u64, u64)> = videos.iter().filter_map(|v| v.rate).collect();
    let differ = rates.windows(2).any(|w| w[0].0 * w[1].1 != w[1].0 * w[0].1);
    differ.then(|| {
        rates
            .iter()
            .map(|(n, d)| types::rate_text(*n, *d))
            .collect()
    })
}

impl Checker<'_> {
    fn flow(&mut self, flow: &Flow, lets: &[Ty]) -> Ty {
        match flow {
            Flow::Source { call, ascription } => self.source(call, ascription.as_ref()),
            Flow::Stream {
                id,
                ascription,
                span,
            } => {
                let ty = lets.get(id.0 as usize).cloned().unwrap_or(Ty::Error);
                match (ascription, ty) {
                    (Some(a), Ty::Video(v)) => Ty::Video(self.ascribe(a, v, *span)),
                    (_, ty) => ty,
                }
            }
            Flow::List {
                items,
                ascription,
                span,
            } => {
                let items: Vec<Ty> = items.iter().map(|f| self.flow(f, lets)).collect();
                let items = match ascription {
                    Some(a) => items
                        .into_iter()
                        .map(|t| match t {
                            Ty::Video(v) => Ty::Video(self.ascribe(a, v, *span)),
                            other => other,
                        })
                        .collect(),
                    None => items,
                };
                Ty::List(items)
            }
            Flow::Ascribed {
                input,
                ascription,
                span,
            } => match self.flow(input, lets) {
                Ty::Video(v) => Ty::Video(self.ascribe(ascription, v, *span)),
                Ty::Error => Ty::Error,
                other => {
                    self.errors.push(TypeError::BadAscription {
                        span: *span,
                        reason: format!("this flow carries {other}, not one video stream"),
                    });
                    Ty::Error
                }
            },
            Flow::Apply { input, call } => {
                let input = self.flow(input, lets);
                let output = match call.role {
                    Role::Sink => {
                        self.sink(&input, call);
                        Ty::Error
                    }
                    _ => self.stage(&input, call),
                };
                if !matches!(call.role, Role::Source) {
                    let infer = self.pending_infer.take();
                    self.sites.push(Site {
                        span: call.span,
                        name: call.name.clone(),
                        role: call.role,
                        input,
                        output: output.clone(),
                        media: None,
                        infer,
                    });
                }
                output
            }
        }
    }
}

impl Checker<'_> {
    fn site(&mut self, call: &BoundCall, input: Ty, output: Ty, media: Option<MediaFacts>) {
        self.sites.push(Site {
            span: call.span,
            name: call.name.clone(),
            role: call.role,
            input,
            output,
            media,
            infer: None,
        });
    }

    fn source(&mut self, call: &BoundCall, ascription: Option<&ast::TypeExpr>) -> Ty {
        let (video, media, unknown_source) = match call.name.as_str() {
            "test" => (
                Video {
                    format: Format::Raw("i420".into()),
                    resolution: call.resolution("resolution"),
                    rate: call.rate("rate"),
                    meta: Meta::default(),
                },
                None,
                None,
            ),
            "camera" => (
                Video {
                    format: Format::AnyRaw,
                    ..Video::unknown()
                },
                None,
                Some("camera"),
            ),
            "rtsp" => (Video::unknown(), None, Some("RTSP stream")),
            _ => match self.probe(call) {
                Some(Ok(facts)) => match &facts.video {
                    Some(v) => (
                        Video {
                            format: Format::from_name(&v.format, v.raw),
                            resolution: v.width.zip(v.height),
                            rate: v.rate,
                            meta: Meta::default(),
                        },
                        Some(facts.clone()),
                        None,
                    ),
                    None => {
                        self.media_unreadable(call, "it has no video stream".into());
                        return self.source_site(call, Ty::Error, None);
                    }
                },
                Some(Err(FactError::Invalid(reason))) => {
                    self.media_unreadable(call, reason);
                    return self.source_site(call, Ty::Error, None);
                }
                Some(Err(FactError::Unavailable(_))) => (Video::unknown(), None, Some("file")),
                // Missing or unreadable: E0109 was reported by name resolution.
                Some(Err(_)) => return self.source_site(call, Ty::Error, None),
                None => (Video::unknown(), None, Some("file")),
            },
        };
        let video = match ascription {
            Some(a) => self.ascribe(a, video, call.span),
            None => {
                if let Some(source) = unknown_source {
                    let mut missing = Vec::new();
                    if video.format == Format::Unknown {
                        missing.push("format");
                    }
                    if video.resolution.is_none() {
                        missing.push("size");
                    }
                    if video.rate.is_none() {
                        missing.push("frame rate");
                    }
                    if !missing.is_empty() {
                        self.errors.push(TypeError::Unknown {
                            span: call.span,
                            source: source.to_string(),
                            missing,
                        });
                    }
                }
                video
            }
        };
        self.source_site(call, Ty::Video(video), media)
    }

    fn source_site(&mut self, call: &BoundCall, ty: Ty, media: Option<MediaFacts>) -> Ty {
        self.site(call, Ty::Error, ty.clone(), media);
        ty
    }

    fn media_unreadable(&mut self, call: &BoundCall, reason: String) {
        let span = call.bound("path").map_or(call.span, |a| a.span);
        self.errors.push(TypeError::MediaUnreadable {
            span,
            path: call.string("path").map(str::to_string).unwrap_or_default(),
            reason,
        });
    }

    fn probe(&mut self, call: &BoundCall) -> Option<Result<MediaFacts, FactError>> {
        let path = call.resolved_path.clone()?;
        if let Some(found) = self.media.get(&path) {
            return Some(found.clone());
        }
        let found = self.host.probe_media(&path);
        self.media.insert(path, found.clone());
        Some(found)
    }

    /// Applies an ascription to a probed (or unknown) type: known parts must agree.
    fn ascribe(&mut self, ascription: &ast::TypeExpr, probed: Video, span: Span) -> Video {
        let Some(ascribed) = self.parse_ascription(ascription) else {
            return probed;
        };
        let conflict = !ascribed.format.agrees_with(&probed.format)
            || matches!((ascribed.resolution, probed.resolution), (Some(a), Some(p)) if a != p)
            || matches!((ascribed.rate, probed.rate), (Some(a), Some(p)) if a.0 * p.1 != p.0 * a.1);
        if conflict {
            self.errors.push(TypeError::AscriptionConflict {
                span: ascription.span,
                ascribed: ascribed.caps(),
                probed: probed.caps(),
            });
            let _ = span;
            return probed;
        }
        Video {
            format: match ascribed.format {
                Format::Unknown => probed.format,
                Format::AnyRaw if probed.is_raw_known() => probed.format,
                f => f,
            },
            resolution: ascribed.resolution.or(probed.resolution),
            rate: ascribed.rate.or(probed.rate),
            meta: probed.meta,
        }
    }

    fn parse_ascription(&mut self, ty: &ast::TypeExpr) -> Option<Video> {
        let bad = |reason: String| TypeError::BadAscription {
            span: ty.span,
            reason,
        };
        let TypeKind::Named { name, args } = &ty.kind else {
            self.errors.push(bad("expected `video<...>`".into()));
            return None;
        };
        if name.name != "video" {
            self.errors.push(bad(format!(
                "`{}` is not the type of a video stream",
                name.name
            )));
            return None;
        }
        if args.len() != 3 {
            self.errors.push(bad(format!(
                "`video` takes 3 parts (format, size, rate), found {}",
                args.len()
            )));
            return None;
        }
        let format = match &args[0] {
            TypeArg::Type(ast::TypeExpr {
                kind: TypeKind::Wildcard,
                ..
            }) => Format::Unknown,
            TypeArg::Type(ast::TypeExpr {
                kind: TypeKind::Named { name, args },
                ..
            }) if args.is_empty() => {
                let n = name.name.as_str();
                if n == "raw" {
                    Format::AnyRaw
                } else if RAW_FORMATS.contains(&n) {
                    Format::Raw(n.to_string())
                } else if CODECS.contains(&n) {
                    Format::Encoded(n.to_string())
                } else {
                    let all = CODECS.iter().chain(RAW_FORMATS).copied();
                    let hint = did_you_mean(n, all)
                        .map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
                    self.errors.push(bad(format!("unknown format `{n}`{hint}")));
                    return None;
                }
            }
            _ => {
                self.errors.push(bad(
                    "the first part is a codec or pixel format, or `_`".into()
                ));
                return None;
            }
        };
        let resolution = match &args[1] {
            TypeArg::Type(ast::TypeExpr {
                kind: TypeKind::Wildcard,
                ..
            }) => None,
            TypeArg::Number(lit, _) => match lit.value {
                LitValue::Resolution { width, height } => Some((width, height)),
                LitValue::Invalid => return None,
                _ => {
                    self.errors.push(bad(format!(
                        "the second part is a size such as `1280x720`, found `{}`",
                        lit.text
                    )));
                    return None;
                }
            },
            _ => {
                self.errors.push(bad(
                    "the second part is a size such as `1280x720`, or `_`".into()
                ));
                return None;
            }
        };
        let rate = match &args[2] {
            TypeArg::Type(ast::TypeExpr {
                kind: TypeKind::Wildcard,
                ..
            }) => None,
            TypeArg::Number(lit, _) => match lit.value {
                LitValue::Rate { num, den } => Some((num, den)),
                LitValue::Invalid => return None,
                _ => {
                    self.errors.push(bad(format!(
                        "the third part is a frame rate such as `25fps`, found `{}`",
                        lit.text
                    )));
                    return None;
                }
            },
            _ => {
                self.errors.push(bad(
                    "the third part is a frame rate such as `25fps`, or `_`".into(),
                ));
                return None;
            }
        };
        Some(Video {
            format,
            resolution,
            rate,
            meta: Meta::default(),
        })
    }

    fn mismatch(&mut self, call: &BoundCall, want: Want, found: &Ty, fix: Option<Fix>) -> Ty {
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
    fn per_stream(
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
    fn need_raw(&mut self, call: &BoundCall, v: &Video) -> bool {
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

    fn check_size(&mut self, call: &BoundCall, size: Option<(u32, u32)>) {
        if let Some((w, h)) = size
            && (w == 0 || h == 0)
        {
            self.errors.push(TypeError::ZeroSize {
                span: call.span,
                stage: call.name.clone(),
            });
        }
    }

    fn stage(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        match call.name.as_str() {
            "decode" => self.per_stream(input, call, &mut |c, v| match v.format.is_raw() {
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
            "encode" => {
                let codec = call
                    .string("codec")
                    .map(str::to_string)
                    .unwrap_or_else(|| "h264".into());
                self.per_stream(input, call, &mut |c, v| {
                    if !c.need_raw(call, v) {
                        return Ty::Error;
                    }
                    if let Some((w, h)) = v.resolution
                        && CODECS_420.contains(&codec.as_str())
                        && (w % 2 == 1 || h % 2 == 1)
                    {
                        c.errors.push(TypeError::OddSize {
                            span: call.span,
                            codec: codec.clone(),
                            width: w,
                            height: h,
                        });
                    }
                    let (min, max) = encoder_sides(&codec);
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
                    Ty::Video(Video {
                        format: Format::Encoded(codec.clone()),
                        resolution: v.resolution,
                        rate: v.rate,
                        meta: Meta::default(),
                    })
                })
            }
            "convert" => {
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
            "scale" => {
                let size = call.resolution("resolution");
                self.check_size(call, size);
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
            "rate" => {
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
            "overlay" => self.per_stream(input, call, &mut |c, v| {
                if !c.need_raw(call, v) {
                    return Ty::Error;
                }
                if v.meta.objects.is_none() {
                    c.errors
                        .push(TypeError::OverlayWithoutObjects { span: call.span });
                }
                Ty::Video(v.clone())
            }),
            "track" => self.per_stream(input, call, &mut |c, v| {
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
            "filter" => {
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
            "json" => self.per_stream(input, call, &mut |_, _| Ty::Records),
            "infer" => self.infer(input, call),
            "batch" => self.batch(input, call),
            "unbatch" => match input {
                Ty::Batch { streams, frame, .. } => {
                    Ty::List(vec![Ty::Video(frame.clone()); *streams])
                }
                Ty::Error => Ty::Error,
                other => self.mismatch(call, Want::Batch, other, None),
            },
            "tile" => self.tile(input, call),
            _ => Ty::Error,
        }
    }

    /// Checks that each of `wanted` is among the upstream objects' labels (E0207).
    fn labels_known(&mut self, wanted: &[String], objects: &[String], span: Span) -> bool {
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
    fn raw_streams(&mut self, input: &Ty, call: &BoundCall) -> Option<Vec<Video>> {
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

    fn warn_rates(&mut self, call: &BoundCall, videos: &[Video]) {
        let refs: Vec<&Video> = videos.iter().collect();
        if let Some(rates) = rates_of(&refs) {
            self.errors.push(TypeError::RatesDiffer {
                span: call.span,
                stage: call.name.clone(),
                rates,
            });
        }
    }

    fn batch(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let Some(videos) = self.raw_streams(input, call) else {
            return Ty::Error;
        };
        let given = call.int("size").and_then(|s| u32::try_from(s).ok());
        let size = given.unwrap_or(1);
        let resolution = call.resolution("resolution");
        self.check_size(call, resolution);
        self.warn_rates(call, &videos);
        // An invalid size was reported already (E0107): no warning about it.
        if given.is_some() && size as usize != videos.len() {
            self.errors.push(TypeError::BatchSizeStreams {
                span: call.span,
                size,
                streams: videos.len(),
            });
        }
        Ty::Batch {
            size,
            streams: videos.len(),
            frame: common_frame(&videos, resolution),
            site: call.span,
        }
    }

    fn tile(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let videos = match input {
            Ty::Batch { streams, frame, .. } => vec![frame.clone(); *streams],
            other => match self.raw_streams(other, call) {
                Some(v) => v,
                None => return Ty::Error,
            },
        };
        let cols = call.int("cols").unwrap_or(1);
        let rows = call.int("rows").unwrap_or(1);
        let resolution = call.resolution("resolution");
        self.check_size(call, resolution);
        if cols.saturating_mul(rows) < videos.len() as i64 {
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

    fn infer(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let Some(Value::Model(id)) = call.bound("model").map(|a| &a.value) else {
            return Ty::Error;
        };
        let id = *id;
        let Some(Some(info)) = self.models.get(id.0 as usize).cloned() else {
            // The model has errors of its own or cannot be read: pass the frames through.
            return input.clone();
        };
        let model_span = self.program.models[id.0 as usize].name.span;
        if let Some(problem) = &info.input_problem {
            self.errors.push(TypeError::InputIncompatible {
                span: call.span,
                model: info.name.clone(),
                model_span,
                problem: problem.clone(),
            });
            return Ty::Error;
        }
        let on = call.strings("on");
        let on_span = call.bound("on").map_or(call.span, |a| a.span);
        let (videos, batch_in) = match input {
            Ty::Batch {
                size,
                frame,
                site,
                streams,
            } => {
                if let Some(b) = info.batch
                    && b != *size as i64
                {
                    self.errors.push(TypeError::BatchMismatch {
                        site: *site,
                        infer: call.span,
                        model: info.name.clone(),
                        model_span,
                        batch: *size,
                        model_batch: b,
                    });
                    return Ty::Error;
                }
                (vec![frame.clone()], Some((*size, *streams, *site)))
            }
            other => match self.raw_streams(other, call) {
                Some(v) => (v, None),
                None => return Ty::Error,
            },
        };
        let streams = batch_in.map_or(videos.len(), |(_, s, _)| s);
        let (batch, reason) = match (batch_in, info.batch) {
            (Some((size, _, _)), _) => (size, format!("batch({size}) upstream")),
            (None, Some(b)) => (
                b.max(1) as u32,
                format!("the model's batch dimension is fixed at {b}"),
            ),
            (None, None) => (
                streams.max(1) as u32,
                format!(
                    "the model's batch dimension is dynamic: one frame from each of the {streams} stream(s)"
                ),
            ),
        };
        if batch_in.is_none() && videos.len() > 1 {
            self.warn_rates(call, &videos);
        }
        let mut outputs = Vec::new();
        for v in &videos {
            let mut v = v.clone();
            if !on.is_empty() {
                let Some(objects) = &v.meta.objects else {
                    self.errors.push(TypeError::NeedsObjects {
                        span: call.span,
                        stage: "infer(..., on: ...)".into(),
                    });
                    return Ty::Error;
                };
                if !self.labels_known(&on, objects, on_span) {
                    return Ty::Error;
                }
            }
            match (&info.kind, on.is_empty()) {
                (ModelKind::Detector { .. }, true) => v.meta.objects = Some(info.labels.clone()),
                (ModelKind::Detector { .. }, false) => {
                    let mut objects: Vec<String> =
                        v.meta.objects.as_deref().unwrap_or_default().to_vec();
                    objects.extend(
                        info.labels
                            .iter()
                            .filter(|l| !objects.contains(l))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                    v.meta.objects = Some(types::Labels::from(objects));
                }
                (ModelKind::Classifier { .. }, true) => v.meta.labels = Some(info.labels.clone()),
                (ModelKind::Classifier { .. }, false) => {
                    v.meta.object_labels = Some(info.labels.clone())
                }
                (ModelKind::Raw, _) => v.meta.tensors = true,
            }
            outputs.push(Ty::Video(v));
        }
        self.pending_infer = Some(InferSite {
            model: id,
            batch,
            streams,
            reason,
        });
        match (input, batch_in) {
            (_, Some((size, streams, site))) => match outputs.pop() {
                Some(Ty::Video(frame)) => Ty::Batch {
                    size,
                    streams,
                    frame,
                    site,
                },
                _ => Ty::Error,
            },
            (Ty::List(_), None) => Ty::List(outputs),
            _ => outputs.pop().unwrap_or(Ty::Error),
        }
    }

    fn sink(&mut self, input: &Ty, call: &BoundCall) {
        match call.name.as_str() {
            "discard" => {}
            "stdout" => {
                self.per_stream_records(input, call);
            }
            "display" | "rtsp_out" => {
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
                if call.name == "display" {
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
            _ => self.file_sink(input, call),
        }
    }

    fn per_stream_records(&mut self, input: &Ty, call: &BoundCall) {
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

    fn file_sink(&mut self, input: &Ty, call: &BoundCall) {
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
        let Some(allowed) = container_codecs(&ext) else {
            self.errors.push(TypeError::UnknownExtension {
                span: call.span,
                path,
            });
            return;
        };
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

/// The frame type of a batch: the common format and size of its streams.
fn common_frame(videos: &[Video], resolution: Option<(u32, u32)>) -> Video {
    let first = videos.first().cloned().unwrap_or_else(Video::unknown);
    let same_format = videos.iter().all(|v| v.format == first.format);
    let same_size = videos.iter().all(|v| v.resolution == first.resolution);
    let metas: Vec<&Meta> = videos.iter().map(|v| &v.meta).collect();
    Video {
        format: if same_format {
            first.format.clone()
        } else {
            Format::AnyRaw
        },
        resolution: resolution.or(if same_size { first.resolution } else { None }),
        rate: first.rate,
        meta: Meta::union(&metas),
    }
}

impl Video {
    fn is_raw_known(&self) -> bool {
        matches!(self.format, Format::Raw(_))
    }
}
