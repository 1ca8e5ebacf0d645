//! `replay(records, video: | size:, rate:)`: a records file read back as a source, checked
//! as a model is: its labels, frame size and frame count come through the `Host`
//! (`Host::read_records`, `crate::records`), so downstream label names are checked against
//! them and a file that cannot be replayed on the frames given is an error here (E0216,
//! E0217, E0218), not at run time.

use super::errors::TypeError;
use super::types::{Format, Labels, Meta, Video};
use super::{Checker, Ty};
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{FactError, MediaFacts};
use crate::hir::BoundCall;
use crate::records::{RecordsFacts, RecordsProblem};
use crate::source::FileId;
use crate::syntax::Span;

/// What is wrong with a `replay` (E0216, E0217, E0218).
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayError {
    /// E0216: the file cannot be read as one stream's records.
    NotRecords {
        span: Span,
        path: String,
        problem: RecordsProblem,
    },
    /// E0216: the file exists but cannot be read.
    Unreadable {
        span: Span,
        path: String,
        reason: String,
    },
    /// E0217: neither or both of `video:` and `size:`, or `size:` without `rate:`.
    Frames { span: Span, problem: FramesProblem },
    /// E0218: the records' frames are of another size than the frames they are put on.
    Size {
        span: Span,
        records: (u32, u32),
        frames: (u32, u32),
        what: &'static str,
    },
    /// E0218: the records go on past the video's last frame.
    PastTheEnd { span: Span, last: u64, frames: u64 },
}

/// How `replay`'s frames are given wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramesProblem {
    Neither,
    Both,
    NoRate,
}

impl Checker<'_> {
    /// The type of a `replay`: raw I420 frames of the video's size and rate (or `size` and
    /// `rate`), carrying objects with the records' labels.
    pub(super) fn replay(&mut self, call: &BoundCall) -> Ty {
        let video_given = call.bound("video").is_some_and(|a| a.given);
        let size = call.resolution("size");
        let rate = call.rate("rate");
        let problem = match (video_given, size.is_some(), rate.is_some()) {
            (true, true, _) | (true, false, true) => Some(FramesProblem::Both),
            (false, false, _) => Some(FramesProblem::Neither),
            (false, true, false) => Some(FramesProblem::NoRate),
            _ => None,
        };
        if let Some(problem) = problem {
            self.errors.push(TypeError::Replay(ReplayError::Frames {
                span: call.span,
                problem,
            }));
        }
        let records = self.records(call);
        if problem.is_some() {
            return self.source_site(call, Ty::Error, None);
        }
        let (resolution, rate, media) = if video_given {
            match self.replay_video(call) {
                Some(Ok(facts)) => {
                    let v = facts.video.clone().unwrap_or_default();
                    (v.width.zip(v.height), v.rate, Some(facts))
                }
                Some(Err(())) => return self.source_site(call, Ty::Error, None),
                None => (None, None, None),
            }
        } else {
            if let Some(size) = size {
                self.check_size(call, Some(size));
            }
            (size, rate, None)
        };
        let Some(records) = records else {
            return self.source_site(call, Ty::Error, media);
        };
        if !self.fits(call, &records, resolution, rate, media.as_ref()) {
            return self.source_site(call, Ty::Error, media);
        }
        let labels = |l: &[String]| (!l.is_empty()).then(|| Labels::from(l.to_vec()));
        let video = Video {
            format: Format::Raw("i420".into()),
            resolution: resolution.or(records.size),
            rate,
            meta: Meta {
                objects: Some(Labels::from(records.labels.clone())),
                tracks: records.tracks,
                labels: labels(&records.frame_labels),
                object_labels: labels(&records.object_labels),
                ..Meta::default()
            },
        };
        self.site(call, Ty::Error, Ty::Video(video.clone()), media);
        if let Some(site) = self.sites.last_mut() {
            site.replay_frames = Some(records.frames);
        }
        Ty::Video(video)
    }

    /// The records file's facts; `None` after its error (or where the host cannot read it).
    fn records(&mut self, call: &BoundCall) -> Option<RecordsFacts> {
        let path = call.resolved_path.clone()?;
        let span = call.bound("path").map_or(call.span, |a| a.span);
        let shown = call.string("path").unwrap_or_default().to_string();
        if path.as_os_str().as_encoded_bytes().contains(&0) {
            return None;
        }
        match self.host.read_records(&path) {
            Ok(Ok(facts)) => Some(facts),
            Ok(Err(problem)) => {
                self.errors.push(TypeError::Replay(ReplayError::NotRecords {
                    span,
                    path: shown,
                    problem,
                }));
                None
            }
            // Missing: E0109 from name resolution.
            Err(FactError::NotFound) | Err(FactError::Unavailable(_)) => None,
            Err(_) if self.host.check_file(&path).is_err() => None,
            Err(FactError::Unreadable(reason) | FactError::Invalid(reason)) => {
                self.errors.push(TypeError::Replay(ReplayError::Unreadable {
                    span,
                    path: shown,
                    reason,
                }));
                None
            }
        }
    }

    /// The probed `video:`; `Err` after its error, `None` where it cannot be probed here.
    fn replay_video(&mut self, call: &BoundCall) -> Option<Result<MediaFacts, ()>> {
        let path = call.resolved_video.clone()?;
        if path.as_os_str().as_encoded_bytes().contains(&0) {
            return Some(Err(()));
        }
        let found = match self.media.get(&path) {
            Some(found) => found.clone(),
            None => {
                let found = self.host.probe_media(&path);
                self.media.insert(path, found.clone());
                found
            }
        };
        let span = call.bound("video").map_or(call.span, |a| a.span);
        let shown = call.string("video").unwrap_or_default().to_string();
        let unreadable = |reason: String| {
            TypeError::Source(super::sources::SourceError::MediaUnreadable {
                span,
                path: shown.clone(),
                reason,
            })
        };
        match found {
            Ok(facts) if facts.video.is_some() => Some(Ok(facts)),
            Ok(_) => {
                self.errors
                    .push(unreadable("it has no video stream".into()));
                Some(Err(()))
            }
            Err(FactError::Invalid(reason)) => {
                self.errors.push(unreadable(reason));
                Some(Err(()))
            }
            Err(FactError::Unavailable(_)) => None,
            // Missing or unreadable: E0109 from name resolution.
            Err(_) => Some(Err(())),
        }
    }

    /// Whether the records fit the frames they are put on (E0218).
    fn fits(
        &mut self,
        call: &BoundCall,
        records: &RecordsFacts,
        size: Option<(u32, u32)>,
        rate: Option<(u64, u64)>,
        media: Option<&MediaFacts>,
    ) -> bool {
        let what = if media.is_some() {
            "the video"
        } else {
            "`size:`"
        };
        let span = if media.is_some() {
            call.bound("video")
        } else {
            call.bound("size")
        }
        .map_or(call.span, |a| a.span);
        if let (Some(records), Some(frames)) = (records.size, size)
            && records != frames
        {
            self.errors.push(TypeError::Replay(ReplayError::Size {
                span,
                records,
                frames,
                what,
            }));
            return false;
        }
        let frames = media
            .and_then(|m| m.duration_ns)
            .zip(rate)
            .map(|(ns, (num, den))| {
                (u128::from(ns) * u128::from(num) + u128::from(den) * 500_000_000)
                    / (u128::from(den.max(1)) * 1_000_000_000)
            });
        if let Some(frames) = frames
            && u128::from(records.frames) > frames
        {
            self.errors.push(TypeError::Replay(ReplayError::PastTheEnd {
                span,
                last: records.frames - 1,
                frames: frames as u64,
            }));
            return false;
        }
        true
    }
}

impl ReplayError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            ReplayError::NotRecords {
                span,
                path,
                problem,
            } => {
                let (message, label, help) = match problem {
                    RecordsProblem::Line { line, reason } => (
                        format!("`{path}` cannot be replayed: line {line}: {reason}"),
                        format!("line {line} of this file"),
                        "a records file holds one JSON object a frame, as `json | file(\"run.jsonl\")` writes them (docs/records.md)".to_string(),
                    ),
                    RecordsProblem::Empty => (
                        format!("`{path}` holds no frame record"),
                        "an empty records file".to_string(),
                        "replay the records of a run that wrote at least one frame".to_string(),
                    ),
                    RecordsProblem::Streams { first, other, line } => (
                        format!("`{path}` holds the records of several streams: {first} and, from line {line}, {other}"),
                        "one replay yields one stream".to_string(),
                        format!("split the file by stream, one `replay` each, e.g. `jq -c 'select(.stream == {first})' {path} > stream{first}.jsonl`, or write one records file a stream with `file(\"out/{{stream}}.jsonl\")`"),
                    ),
                };
                Diagnostic::new(Code::E0216, file, *span, message)
                    .with_primary_label(label)
                    .with_help(help)
            }
            ReplayError::Unreadable { span, path, reason } => Diagnostic::new(
                Code::E0216,
                file,
                *span,
                format!("`{path}` cannot be read as records: {reason}"),
            )
            .with_primary_label("not a records file that can be read"),
            ReplayError::Frames { span, problem } => {
                let (message, help) = match problem {
                    FramesProblem::Neither => (
                        "`replay` needs the frames to put the records on: `video:` or `size:` and `rate:`",
                        "name the video the records were made from, `replay(\"run.jsonl\", video: \"cam.mp4\")`, or replay them on black frames, `replay(\"run.jsonl\", size: 1280x720, rate: 25fps)`",
                    ),
                    FramesProblem::Both => (
                        "`replay` takes its frames from `video:` or from `size:` and `rate:`, not both",
                        "keep `video:` to see the video under the records (its size and rate are the video's), or `size:` and `rate:` for black frames",
                    ),
                    FramesProblem::NoRate => (
                        "`replay(size:)` needs the frames' rate too: `rate:`",
                        "give the frame rate of the run that wrote the records, e.g. `rate: 25fps`, so times (dwell, events, clips) are those of the run",
                    ),
                };
                Diagnostic::new(Code::E0217, file, *span, message)
                    .with_primary_label("no single way to make the frames")
                    .with_help(help)
            }
            ReplayError::Size {
                span,
                records,
                frames,
                what,
            } => Diagnostic::new(
                Code::E0218,
                file,
                *span,
                format!(
                    "the records were made on {}x{} frames, but {what} gives {}x{}",
                    records.0, records.1, frames.0, frames.1
                ),
            )
            .with_primary_label(format!("{}x{} frames", frames.0, frames.1))
            .with_help(
                "replay the records on the video they were made from, or on black frames of their size",
            ),
            ReplayError::PastTheEnd { span, last, frames } => Diagnostic::new(
                Code::E0218,
                file,
                *span,
                format!(
                    "the records go on to frame {last}, but the video has {frames} frames (0 to {})",
                    frames.saturating_sub(1)
                ),
            )
            .with_primary_label(format!("{frames} frames"))
            .with_help("replay the records on the video they were made from"),
        }
    }
}
