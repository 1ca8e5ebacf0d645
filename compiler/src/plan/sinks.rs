//! Lowering sinks: files, records, clips, brokers, RTSP out, HLS, the display and discard.

use super::codecs::parser;
use super::{Ends, Lowerer, Prop, format_of};
use crate::ir::{NodeId, NodeKind, SinkKind, SourceKind};
use crate::media;

impl Lowerer<'_> {
    /// Whether `id` reads a demuxer's pad, directly or through tees and queues (a file
    /// copied to two sinks): such a stream has not been parsed yet.
    fn received_from_demuxer(&self, id: NodeId) -> bool {
        self.g
            .node(id)
            .inputs
            .first()
            .is_some_and(|i| match &self.g.node(*i).kind {
                NodeKind::Tee | NodeKind::Queue { .. } => self.received_from_demuxer(*i),
                _ => self.ends.get(i).is_some_and(|e| e.dynamic),
            })
    }

    /// Whether the stream into `id` comes from an `rtsp` source or a pool's slot as
    /// received (through tees and queues only): encoded frames a muxer needs parsed.
    fn received_from_rtsp(&self, id: NodeId) -> bool {
        self.g
            .node(id)
            .inputs
            .first()
            .is_some_and(|i| match &self.g.node(*i).kind {
                NodeKind::Source(SourceKind::Rtsp { .. } | SourceKind::Slot { .. }) => true,
                NodeKind::Tee | NodeKind::Queue { .. } => self.received_from_rtsp(*i),
                _ => false,
            })
    }

    /// Sinks that write files or drop frames do not wait for preroll (`async=false`): with
    /// a tee, a sink waiting in preroll would block the branch an encoder needs frames from.
    pub(super) fn sink(&mut self, id: NodeId, sink: &SinkKind) -> Ends {
        let input_ty = self.input_ty(id);
        let names = match sink {
            SinkKind::Video { path, container } => {
                let mut names = Vec::new();
                // A stream copied from a file without re-encoding needs its parser.
                let codec = format_of(&input_ty).and_then(|f| f.codec().map(str::to_string));
                if (self.received_from_demuxer(id) || self.received_from_rtsp(id))
                    && let Some(p) = codec.as_deref().and_then(parser)
                {
                    names.push(self.element(id, "parse", p, vec![]));
                }
                let mux = media::container_for_extension(container)
                    .and_then(|c| c.muxer)
                    .unwrap_or("matroskamux");
                names.push(self.element(id, "mux", mux, vec![]));
                names.push(self.element(
                    id,
                    "",
                    "filesink",
                    vec![
                        ("location", Prop::Str(path.clone())),
                        ("async", Prop::Bool(false)),
                    ],
                ));
                names
            }
            SinkKind::Records {
                path,
                stream,
                source,
            } => vec![self.element(
                id,
                "",
                "vplrecords",
                vec![
                    (
                        "location",
                        Prop::Str(path.clone().unwrap_or_else(|| "-".into())),
                    ),
                    ("pipeline", Prop::Str(self.g.pipeline.clone())),
                    ("source", Prop::Str(source.clone())),
                    ("stream", Prop::UInt(*stream as u64)),
                    ("async", Prop::Bool(false)),
                ],
            )],
            SinkKind::Record {
                path,
                when,
                count,
                event,
                before_ns,
                after_ns,
                stream,
            } => {
                // A label and its count, or an analytics event and its zone or line.
                let trigger = match event {
                    None => vec![
                        ("when", Prop::Str(when.clone())),
                        ("count", Prop::UInt(u64::from(*count))),
                    ],
                    Some((kind, at)) => vec![
                        ("event", Prop::Str(kind.clone())),
                        ("at", Prop::Str(at.clone())),
                    ],
                };
                let mut props = vec![("location", Prop::Str(path.clone()))];
                props.extend(trigger);
                props.extend([
                    ("before", Prop::UInt(*before_ns)),
                    ("after", Prop::UInt(*after_ns)),
                    ("stream", Prop::UInt(u64::from(*stream))),
                    ("async", Prop::Bool(false)),
                ]);
                vec![
                    // Key frames carry their parameter sets, so a clip can start at any of them.
                    self.element(
                        id,
                        "parse",
                        "h264parse",
                        vec![("config-interval", Prop::Int(-1))],
                    ),
                    self.element(id, "", "vplrecord", props),
                ]
            }
            SinkKind::Broker {
                url,
                topic,
                buffer,
                stream,
                source,
                key,
                ..
            } => {
                let mut props = vec![
                    ("location", Prop::Str(url.clone())),
                    ("topic", Prop::Str(topic.clone())),
                    ("buffer", Prop::UInt(*buffer)),
                    ("pipeline", Prop::Str(self.g.pipeline.clone())),
                    ("source", Prop::Str(source.clone())),
                    ("stream", Prop::UInt(*stream as u64)),
                ];
                // A pool's slot keeps `{stream}`: its template fills the admitted id.
                if let Some(key) = key {
                    props.push(("key", Prop::Str(key.clone())));
                }
                props.push(("async", Prop::Bool(false)));
                vec![self.element(id, "", "vplrecords", props)]
            }
            SinkKind::Discard => vec![self.element(
                id,
                "",
                "fakesink",
                vec![("sync", Prop::Bool(false)), ("async", Prop::Bool(false))],
            )],
            SinkKind::Display => vec![
                self.element(id, "convert", "videoconvert", vec![]),
                self.element(id, "", "autovideosink", vec![]),
            ],
            SinkKind::Hls {
                dir,
                playlist,
                segment_s,
                length,
            } => self.hls(id, dir, playlist, *segment_s, *length),
            SinkKind::RtspOut { port, path } => vec![self.element(
                id,
                "",
                "vplrtspout",
                vec![
                    ("port", Prop::UInt(*port as u64)),
                    ("path", Prop::Str(path.clone())),
                ],
            )],
        };
        self.ends_of(names)
    }

    /// `hls`: `h264parse ! hlssink2`, segments `DIR/segment00000.ts`, … beside the playlist.
    fn hls(
        &mut self,
        id: NodeId,
        dir: &str,
        playlist: &str,
        segment_s: u64,
        length: u32,
    ) -> Vec<String> {
        let segments = std::path::Path::new(dir)
            .join("segment%05d.ts")
            .display()
            .to_string();
        vec![
            // Each segment's key frame carries its parameter sets, so a player can start at
            // any segment.
            self.element(
                id,
                "parse",
                "h264parse",
                vec![("config-interval", Prop::Int(-1))],
            ),
            // `hlssink2` asks upstream for a key frame at each segment's time
            // (`send-keyframe-requests`); the encoder's key-frame interval is a segment too
            // (`codecs.rs`).
            self.element(
                id,
                "",
                "hlssink2",
                vec![
                    ("location", Prop::Str(segments)),
                    ("playlist-location", Prop::Str(playlist.to_string())),
                    ("target-duration", Prop::UInt(segment_s)),
                    ("playlist-length", Prop::UInt(u64::from(length))),
                    // Two more than listed, for players still reading them.
                    ("max-files", Prop::UInt(u64::from(length) + 2)),
                    ("send-keyframe-requests", Prop::Bool(true)),
                ],
            ),
        ]
    }
}
