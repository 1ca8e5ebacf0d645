//! Sources and ascriptions: the type of `file` (from the media probe), `rtsp`, `test` and
//! `camera`, W0101 for what is not known, E0208 and ascription conflicts.

use super::errors::TypeError;
use super::types::{Format, Meta, Video};
use super::{Checker, Ty};
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{FactError, MediaFacts};
use crate::hir::BoundCall;
use crate::media;
use crate::source::FileId;
use crate::stage::{Source, StageKind};
use crate::suggest::did_you_mean;
use crate::syntax::Span;
use crate::syntax::ast::{self, TypeArg, TypeKind};
use crate::syntax::literal::LitValue;

/// What is wrong with a source or an ascription (E0109, E0201, E0208, W0101).
#[derive(Debug, Clone, PartialEq)]
pub enum SourceError {
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
    /// An elementary H.264/H.265 stream coded as separate fields: its times cannot be read.
    FieldCoded {
        span: Span,
        path: String,
        codec: String,
    },
    Unknown {
        span: Span,
        source: String,
        missing: Vec<&'static str>,
    },
}

impl Checker<'_> {
    pub(super) fn source(&mut self, call: &BoundCall, ascription: Option<&ast::TypeExpr>) -> Ty {
        let StageKind::Source(source) = call.kind else {
            // Name resolution binds a flow's head to a source only.
            return self.source_site(call, Ty::Error, None);
        };
        let (video, media, unknown_source) = match source {
            Source::Pool => return self.pool(call, ascription),
            Source::Replay => {
                let ty = self.replay(call);
                return match (ascription, ty) {
                    (Some(a), Ty::Video(v)) => {
                        let v = self.ascribe(a, v, call.span);
                        if let Some(site) = self.sites.iter_mut().rev().find(|s| s.call == call.id)
                        {
                            site.output = Ty::Video(v.clone());
                        }
                        Ty::Video(v)
                    }
                    (_, ty) => ty,
                };
            }
            Source::Test => (
                Video {
                    resolution: {
                        let size = call.resolution("resolution");
                        self.check_size(call, size);
                        size
                    },
                    format: Format::Raw("i420".into()),
                    rate: call.rate("rate"),
                    meta: Meta::default(),
                },
                None,
                None,
            ),
            Source::Camera => (
                Video {
                    format: Format::AnyRaw,
                    ..Video::unknown()
                },
                None,
                Some("camera"),
            ),
            Source::Rtsp => (Video::unknown(), None, Some("RTSP stream")),
            Source::File => match self.probe(call) {
                Some(Ok(facts)) => match &facts.video {
                    Some(v) => {
                        if v.field_coded && facts.container.is_none() {
                            self.field_coded(call, &v.format);
                        }
                        (
                            Video {
                                format: Format::from_name(&v.format, v.raw),
                                resolution: v.width.zip(v.height),
                                rate: v.rate,
                                meta: Meta::default(),
                            },
                            Some(facts.clone()),
                            None,
                        )
                    }
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
                        self.errors.push(TypeError::Source(SourceError::Unknown {
                            span: call.span,
                            source: source.to_string(),
                            missing,
                        }));
                    }
                }
                video
            }
        };
        self.source_site(call, Ty::Video(video), media)
    }

    pub(super) fn source_site(
        &mut self,
        call: &BoundCall,
        ty: Ty,
        media: Option<MediaFacts>,
    ) -> Ty {
        self.site(call, Ty::Error, ty.clone(), media);
        ty
    }

    pub(super) fn media_unreadable(&mut self, call: &BoundCall, reason: String) {
        let span = call.bound("path").map_or(call.span, |a| a.span);
        self.errors
            .push(TypeError::Source(SourceError::MediaUnreadable {
                span,
                path: call.string("path").map(str::to_string).unwrap_or_default(),
                reason,
            }));
    }

    /// A field-coded elementary stream: the run stops at its first picture, whatever the
    /// program does with it (`vplstamp` reads every elementary stream's picture order).
    fn field_coded(&mut self, call: &BoundCall, codec: &str) {
        let span = call.bound("path").map_or(call.span, |a| a.span);
        self.errors.push(TypeError::Source(SourceError::FieldCoded {
            span,
            path: call.string("path").map(str::to_string).unwrap_or_default(),
            codec: codec.to_string(),
        }));
    }

    pub(super) fn probe(&mut self, call: &BoundCall) -> Option<Result<MediaFacts, FactError>> {
        let path = call.resolved_path.clone()?;
        if path.as_os_str().as_encoded_bytes().contains(&0) {
            // A NUL byte in the path: E0107 from name resolution; nothing is opened.
            return Some(Err(FactError::NotFound));
        }
        if let Some(found) = self.media.get(&path) {
            return Some(found.clone());
        }
        let found = self.host.probe_media(&path);
        self.media.insert(path, found.clone());
        Some(found)
    }

    /// Applies an ascription to a probed (or unknown) type: known parts must agree.
    pub(super) fn ascribe(
        &mut self,
        ascription: &ast::TypeExpr,
        probed: Video,
        span: Span,
    ) -> Video {
        let Some(ascribed) = self.parse_ascription(ascription) else {
            return probed;
        };
        let conflict = !ascribed.format.agrees_with(&probed.format)
            || matches!((ascribed.resolution, probed.resolution), (Some(a), Some(p)) if a != p)
            || matches!((ascribed.rate, probed.rate), (Some(a), Some(p)) if a.0 * p.1 != p.0 * a.1);
        if conflict {
            self.errors
                .push(TypeError::Source(SourceError::AscriptionConflict {
                    span: ascription.span,
                    ascribed: ascribed.caps(),
                    probed: probed.caps(),
                }));
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

    pub(super) fn parse_ascription(&mut self, ty: &ast::TypeExpr) -> Option<Video> {
        let bad = |reason: String| {
            TypeError::Source(SourceError::BadAscription {
                span: ty.span,
                reason,
            })
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
                } else if media::is_raw_format(n) {
                    Format::Raw(n.to_string())
                } else if media::codec_named(n).is_some() {
                    Format::Encoded(n.to_string())
                } else {
                    let all = media::codec_names().chain(media::raw_format_names());
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
}

impl Video {
    pub(super) fn is_raw_known(&self) -> bool {
        matches!(self.format, Format::Raw(_))
    }
}

impl SourceError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            SourceError::AscriptionConflict {
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
            SourceError::BadAscription { span, reason } => {
                Diagnostic::new(Code::E0208, file, *span, format!("invalid stream type: {reason}"))
                    .with_primary_label("not a stream type")
                    .with_help("write `video<FORMAT, WIDTHxHEIGHT, RATE>`, with `_` for unknown parts, e.g. `video<h264, 1280x720, 25fps>`")
            }
            SourceError::MediaUnreadable { span, path, reason } => Diagnostic::new(
                Code::E0109,
                file,
                *span,
                format!("`{path}` cannot be read as video: {reason}"),
            )
            .with_primary_label("not a video file GStreamer can read"),
            SourceError::FieldCoded { span, path, codec } => {
                let name = if codec == "h265" { "H.265" } else { "H.264" };
                Diagnostic::new(
                    Code::E0109,
                    file,
                    *span,
                    format!("`{path}` is field-coded (interlaced) {name}: the times of its pictures cannot be read"),
                )
                .with_primary_label("an elementary stream of pictures coded as separate fields")
                .with_help(format!(
                    "the run would stop at its first picture, decoded or copied; decode and re-encode it as progressive video with another tool first (e.g. `ffmpeg -i {path} -vf yadif progressive.mp4`) and read that"
                ))
            }
            SourceError::Unknown {
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
        }
    }
}
