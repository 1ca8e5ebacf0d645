//! `hls(dir, segment, playlist)`: a live HLS playlist and its MPEG-TS segments. Encoded
//! H.264 in (raw video E0201 with `encode(h264)`; another codec E0202: browsers play
//! H.264 from MPEG-TS segments), one stream unless `dir` has `{stream}` (E0204), a
//! `segment` of whole seconds and at least one frame long (E0107). Where the directory
//! goes (a file the program reads, another output) is `outputs.rs`'s.

use super::errors::TypeError;
use super::stages::{Fix, Want};
use super::types::Format;
use super::{Checker, Ty};
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::BoundCall;
use crate::source::FileId;
use crate::span::Span;

const SECOND_NS: i64 = 1_000_000_000;

/// What is wrong with an `hls` sink and the streams it gets.
#[derive(Debug, Clone, PartialEq)]
pub enum HlsError {
    /// An encoded codec other than H.264 (E0202).
    Codec { span: Span, codec: String },
    /// A list reaches a `dir` without `{stream}` (E0204).
    SeveralStreams { span: Span, streams: usize },
    /// A `segment` that is not whole seconds (E0107): HLS lists target durations in
    /// seconds and `hlssink2` takes them so.
    FractionalSegment { span: Span, segment_ns: i64 },
    /// A `segment` shorter than one frame of the stream (E0107).
    SegmentUnderFrame {
        span: Span,
        segment_ns: i64,
        rate: (u64, u64),
    },
}

impl Checker<'_> {
    pub(super) fn hls_sink(&mut self, input: &Ty, call: &BoundCall) {
        let dir = call.string("dir").unwrap_or_default().to_string();
        let segment_ns = call.int("segment").unwrap_or(2 * SECOND_NS);
        let segment_span = call.bound("segment").map_or(call.span, |a| a.span);
        let whole = segment_ns % SECOND_NS == 0;
        if !whole {
            self.errors
                .push(TypeError::Hls(HlsError::FractionalSegment {
                    span: segment_span,
                    segment_ns,
                }));
        }
        let one = |c: &mut Self, t: &Ty| match t {
            Ty::Video(v) => match &v.format {
                Format::Encoded(codec) if codec == "h264" => {
                    // A segment holds at least one frame: its period at most `segment`.
                    if whole
                        && let Some((num, den)) = v.rate
                        && num > 0
                        && i128::from(segment_ns) * i128::from(num)
                            < i128::from(SECOND_NS) * i128::from(den)
                    {
                        c.errors.push(TypeError::Hls(HlsError::SegmentUnderFrame {
                            span: segment_span,
                            segment_ns,
                            rate: (num, den),
                        }));
                    }
                }
                Format::Encoded(codec) => {
                    c.errors.push(TypeError::Hls(HlsError::Codec {
                        span: call.span,
                        codec: codec.clone(),
                    }));
                }
                Format::Unknown => {}
                Format::Raw(_) | Format::AnyRaw => {
                    c.mismatch(
                        call,
                        Want::H264,
                        t,
                        Some(Fix::InsertBefore("encode(h264)".into())),
                    );
                }
            },
            Ty::Records | Ty::Batch { .. } => c.h264_not_video(call, t),
            Ty::List(_) | Ty::Error => {}
        };
        match input {
            Ty::List(items) if dir.contains("{stream}") => {
                for t in items {
                    one(self, t);
                }
            }
            Ty::List(items) => self.errors.push(TypeError::Hls(HlsError::SeveralStreams {
                span: call.span,
                streams: items.len(),
            })),
            other => one(self, other),
        }
    }
}

fn seconds(ns: i64) -> String {
    let s = ns as f64 / SECOND_NS as f64;
    format!("{s}s")
}

impl HlsError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            HlsError::Codec { span, codec } => Diagnostic::new(
                Code::E0202,
                file,
                *span,
                format!("`hls` writes H.264 segments for browsers and cannot carry {codec} video"),
            )
            .with_primary_label(format!("{codec} reaches `hls`"))
            .with_help(
                "decode the stream and encode it as H.264 first: `| decode | encode(h264) | hls(...)`",
            ),
            HlsError::SeveralStreams { span, streams } => {
                let (message, label) = if *streams == 1 {
                    (
                        "a list of 1 stream reaches `hls`, which writes one stream into its directory".to_string(),
                        "a list arrives here".to_string(),
                    )
                } else {
                    (
                        format!("{streams} streams reach `hls`, which writes one stream into its directory"),
                        format!("{streams} streams arrive here"),
                    )
                };
                Diagnostic::new(Code::E0204, file, *span, message)
                    .with_primary_label(label)
                    .with_help("put `{stream}` in the directory to write one playlist per stream, e.g. `hls(\"out/hls/cam_{stream}\")`, or `tile` the streams first")
            }
            HlsError::FractionalSegment { span, segment_ns } => {
                let down = (segment_ns / SECOND_NS).max(1);
                let up = segment_ns / SECOND_NS + 1;
                Diagnostic::new(
                    Code::E0107,
                    file,
                    *span,
                    format!(
                        "an HLS segment of {} is not a whole number of seconds",
                        seconds(*segment_ns)
                    ),
                )
                .with_primary_label("not whole seconds")
                .with_help(format!(
                    "HLS playlists give segment durations in whole seconds: use `segment: {down}s`{}",
                    if up != down {
                        format!(" or `segment: {up}s`")
                    } else {
                        String::new()
                    }
                ))
            }
            HlsError::SegmentUnderFrame {
                span,
                segment_ns,
                rate: (num, den),
            } => {
                let period = SECOND_NS as f64 * *den as f64 / *num as f64;
                let fit = (period / SECOND_NS as f64).ceil() as i64;
                let fps = if *den == 1 {
                    format!("{num}fps")
                } else {
                    format!("{num}/{den}fps")
                };
                Diagnostic::new(
                    Code::E0107,
                    file,
                    *span,
                    format!(
                        "an HLS segment of {} is shorter than one frame of a {fps} stream",
                        seconds(*segment_ns)
                    ),
                )
                .with_primary_label("shorter than a frame")
                .with_help(format!(
                    "each segment holds at least one frame: use `segment: {fit}s` or more, or `rate(...)` to a faster rate first"
                ))
            }
        }
    }
}
