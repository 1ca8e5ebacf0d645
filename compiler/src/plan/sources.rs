//! Lowering sources: files (demuxed or parsed), RTSP, test patterns and cameras.

use super::codecs::{decoder_chain, parser};
use super::{Ends, Lowerer, Prop, video_caps};
use crate::check::{Format, Ty};
use crate::facts::MediaFacts;
use crate::ir::{NodeId, SourceKind};
use crate::media;

/// Demuxer for a probed container.
fn demuxer(container: &str) -> Option<&'static str> {
    media::container_named(container).map(|c| c.demuxer)
}

impl Lowerer<'_> {
    pub(super) fn source(&mut self, id: NodeId, source: &SourceKind, ty: &Ty) -> Ends {
        let (format, size, rate) = match ty {
            Ty::Video(v) => (v.format.clone(), v.resolution, v.rate),
            _ => (Format::Unknown, None, None),
        };
        match source {
            SourceKind::File {
                path,
                looping: true,
                ..
            } => {
                // Played again from its start at each end, timestamps going on forward.
                let src = self.element(
                    id,
                    "",
                    "vplfileloop",
                    vec![("location", Prop::Str(path.clone()))],
                );
                Ends {
                    first: None,
                    last: src,
                    dynamic: false,
                }
            }
            SourceKind::File { path, media, .. } => {
                self.file_source(id, path, media.as_ref(), &format, rate)
            }
            SourceKind::Rtsp {
                url,
                latency_ns,
                tcp,
                reconnect_ns,
            } => {
                // The connection runs in a pipeline of its own inside `vplrtspsrc`, which
                // reconnects; this pipeline only sees its encoded frames.
                let src = self.element(
                    id,
                    "",
                    "vplrtspsrc",
                    vec![
                        ("location", Prop::Str(url.clone())),
                        (
                            "latency",
                            Prop::UInt((*latency_ns).max(0) as u64 / 1_000_000),
                        ),
                        (
                            "protocols",
                            Prop::Str(if *tcp { "tcp".into() } else { "udp".into() }),
                        ),
                        ("reconnect", Prop::UInt((*reconnect_ns).max(0) as u64)),
                        (
                            "codec",
                            Prop::Str(format.codec().unwrap_or_default().to_string()),
                        ),
                    ],
                );
                Ends {
                    first: None,
                    last: src,
                    dynamic: false,
                }
            }
            SourceKind::Slot { pool, slot, .. } => {
                // Streams are bound to the slot at run time, each fed from a pipeline of
                // its own (as `vplrtspsrc` feeds its frames): this pipeline sees encoded
                // frames of the pool's codec, size and rate, and nothing while unbound.
                let (width, height) = size.unwrap_or((0, 0));
                let (num, den) = rate.unwrap_or((0, 1));
                let src = self.element(
                    id,
                    "",
                    "vplslot",
                    vec![
                        ("pool", Prop::Str(pool.clone())),
                        ("slot", Prop::UInt(u64::from(*slot))),
                        (
                            "codec",
                            Prop::Str(format.codec().unwrap_or_default().to_string()),
                        ),
                        ("width", Prop::UInt(u64::from(width))),
                        ("height", Prop::UInt(u64::from(height))),
                        ("rate", Prop::Str(format!("{num}/{den}"))),
                    ],
                );
                Ends {
                    first: None,
                    last: src,
                    dynamic: false,
                }
            }
            SourceKind::Test { pattern, frames } => {
                let src = self.element(
                    id,
                    "",
                    "videotestsrc",
                    vec![
                        (
                            "pattern",
                            Prop::Enum(pattern.replace("checkers", "checkers-1")),
                        ),
                        (
                            "num-buffers",
                            Prop::Int(if *frames == 0 { -1 } else { *frames }),
                        ),
                    ],
                );
                let caps = self.element(
                    id,
                    "caps",
                    "capsfilter",
                    vec![("caps", Prop::Caps(video_caps(Some("i420"), size, rate)))],
                );
                self.link(&src, &caps, false);
                Ends {
                    first: None,
                    last: caps,
                    dynamic: false,
                }
            }
            SourceKind::Replay { .. } => self.replay_source(id, source, size, rate),
            SourceKind::Camera { device } => {
                let src = self.element(
                    id,
                    "",
                    "v4l2src",
                    vec![("device", Prop::Str(device.clone()))],
                );
                let raw = match &format {
                    Format::Raw(f) => Some(f.as_str()),
                    _ => None,
                };
                let caps = self.element(
                    id,
                    "caps",
                    "capsfilter",
                    vec![("caps", Prop::Caps(video_caps(raw, size, rate)))],
                );
                self.link(&src, &caps, false);
                Ends {
                    first: None,
                    last: caps,
                    dynamic: false,
                }
            }
        }
    }

    /// `replay`: the video's frames (demuxed, decoded on the CPU, as I420) or black ones of
    /// `size` and `rate`, `frames` of them, then `vplreplay`, which puts on each the
    /// objects of its record.
    fn replay_source(
        &mut self,
        id: NodeId,
        source: &SourceKind,
        size: Option<(u32, u32)>,
        rate: Option<(u64, u64)>,
    ) -> Ends {
        let SourceKind::Replay {
            records,
            video,
            frames,
            stream,
        } = source
        else {
            return Ends {
                first: None,
                last: String::new(),
                dynamic: false,
            };
        };
        let frames_start = match video {
            Some((path, media)) => {
                let v = media.as_ref().and_then(|m| m.video.as_ref());
                let format = v.map_or(Format::Unknown, |v| Format::from_name(&v.format, v.raw));
                let file = self.file_source(id, path, media.as_ref(), &format, rate);
                let mut names = Vec::new();
                let chain = match &format {
                    Format::Raw(_) => Some(Vec::new()),
                    f => f.codec().and_then(decoder_chain),
                };
                match &chain {
                    Some(chain) => {
                        for (i, factory) in chain.iter().enumerate() {
                            let suffix = if i + 1 == chain.len() {
                                "decode"
                            } else {
                                "decode_parse"
                            };
                            names.push(self.element(id, suffix, factory, vec![]));
                        }
                    }
                    None => names.push(self.element(id, "decode", "decodebin", vec![])),
                }
                names.push(self.element(id, "convert", "videoconvert", vec![]));
                let first = names[0].clone();
                self.link(&file.last, &first, file.dynamic);
                let (_, last) = self.chain_with_dynamic(names, chain.is_none());
                last
            }
            None => self.element(
                id,
                "",
                "videotestsrc",
                vec![
                    ("pattern", Prop::Enum("black".into())),
                    (
                        "num-buffers",
                        Prop::Int(frames.map_or(-1, |n| n.min(i32::MAX as u64) as i64)),
                    ),
                ],
            ),
        };
        let caps = self.element(
            id,
            "caps",
            "capsfilter",
            vec![("caps", Prop::Caps(video_caps(Some("i420"), size, rate)))],
        );
        self.link(&frames_start, &caps, false);
        let replay = self.element(
            id,
            "objects",
            "vplreplay",
            vec![
                ("location", Prop::Str(records.to_string())),
                ("stream", Prop::UInt(u64::from(*stream))),
            ],
        );
        self.link(&caps, &replay, false);
        Ends {
            first: None,
            last: replay,
            dynamic: false,
        }
    }

    /// A file: demuxed (its pads appear at run time), parsed where it is an elementary
    /// stream, or given to decodebin where its container is not known.
    fn file_source(
        &mut self,
        id: NodeId,
        path: &str,
        media: Option<&MediaFacts>,
        format: &Format,
        rate: Option<(u64, u64)>,
    ) -> Ends {
        let src = self.element(
            id,
            "",
            "filesrc",
            vec![("location", Prop::Str(path.to_string()))],
        );
        let container = media.and_then(|m| m.container.clone()).unwrap_or_default();
        // An elementary stream (`.h264`, `.265`) has no container: its parser
        // frames it for the decoder or a muxer.
        let elementary = media.is_some_and(|m| m.container.is_none());
        if let (true, Some(factory)) = (elementary, format.codec().and_then(parser)) {
            let parse = self.element(id, "parse", factory, vec![]);
            self.link(&src, &parse, false);
            if !matches!(format.codec(), Some("h264" | "h265")) {
                return Ends {
                    first: None,
                    last: parse,
                    dynamic: false,
                };
            }
            // The parser gives decoding times only: `vplstamp` reads each
            // picture's place in output order, so that a muxer can take the
            // stream copied as it is.
            let (num, den) = rate.unwrap_or((0, 0));
            let stamp = self.element(
                id,
                "stamp",
                "vplstamp",
                vec![("rate-num", Prop::UInt(num)), ("rate-den", Prop::UInt(den))],
            );
            self.link(&parse, &stamp, false);
            return Ends {
                first: None,
                last: stamp,
                dynamic: false,
            };
        }
        match demuxer(&container) {
            Some(factory) => {
                let demux = self.element(id, "demux", factory, vec![]);
                self.link(&src, &demux, false);
                Ends {
                    first: None,
                    last: demux,
                    dynamic: true,
                }
            }
            None => {
                let bin = self.element(id, "decodebin", "decodebin", vec![]);
                self.link(&src, &bin, false);
                Ends {
                    first: None,
                    last: bin,
                    dynamic: true,
                }
            }
        }
    }
}
