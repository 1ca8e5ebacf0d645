//! Typed program → pipeline IR: one graph per pipeline, an arena of nodes addressed by
//! `NodeId`, one node per stream (lists are expanded), spans kept in a table beside the
//! nodes. `passes` optimise it; `validate` checks its invariants after every pass.

mod build;
pub mod passes;

use std::fmt::Write;

use serde::{Deserialize, Serialize};

pub use build::build;

use crate::check::{Preprocess, Ty};
use crate::facts::MediaFacts;
use crate::hir::ModelId;
use crate::syntax::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    File {
        path: String,
        media: Option<MediaFacts>,
        looping: bool,
    },
    Rtsp {
        url: String,
        latency_ns: i64,
        tcp: bool,
        /// How long to wait before connecting again after the stream is lost; 0: never.
        reconnect_ns: i64,
    },
    Test {
        pattern: String,
        frames: i64,
    },
    Camera {
        device: String,
    },
    /// `replay(records, ...)`: raw frames carrying the objects of a records file, decoded
    /// from `video` or black (`videotestsrc`) of the node's type, `frames` of them.
    Replay {
        /// The records file, resolved.
        records: String,
        /// The video, resolved, with what probing it found; `None`: black frames.
        video: Option<(String, Option<MediaFacts>)>,
        /// The records' last frame number plus one, where the checker read the file.
        frames: Option<u64>,
        /// The stream's id, written into the frames' metadata (as `infer`'s).
        stream: u32,
    },
    /// One slot of a pool (`pool(max: N) : video<…>`): streams are bound to it at run time.
    /// Its type is the pool's (encoded H.264 or H.265, size and rate known), in the node's
    /// `ty`.
    Slot {
        /// The pool's name: the `let` it is bound to.
        pool: String,
        /// The slot's place in the pool, from 0.
        slot: u32,
        max: u32,
        /// The `streams:` file, resolved; `None` without one.
        streams_file: Option<String>,
    },
}

/// How `infer` reads a model's outputs: the decoder with every one of its parameters,
/// as the registry of `crate::decoders` declares them.
pub use crate::decoders::DecoderSpec as Decoder;

/// How `detr` and `ssd` make class scores from the output (`activation:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Sigmoid,
    /// Over the classes; for `detr`, the last class is "no object".
    Softmax,
    /// The output holds probabilities already.
    None,
}

/// How records write a mask (`masks:` of `yolov8_seg` and `semantic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskFormat {
    /// COCO's run lengths, column by column, on the object's box.
    Rle,
    /// The outlines of the mask's regions, in frame pixels.
    Polygons,
}

/// The bones `overlay` draws between a pose's keypoints (`skeleton:` of `yolov8_pose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skeleton {
    /// COCO's 17 keypoints and 19 bones.
    Coco17,
    /// The keypoints only.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InferNode {
    pub model: ModelId,
    pub model_name: String,
    pub model_path: String,
    /// Streams that share one engine and form batches together.
    pub group: String,
    pub stream: u32,
    pub batch: u32,
    /// How long a partial batch waits for more frames.
    pub timeout_ns: i64,
    pub reason: String,
    pub every: i64,
    pub preprocess: Preprocess,
    pub decoder: Decoder,
    /// The output the decoder reads; empty: every output (`raw`).
    pub output: String,
    pub labels: Vec<String>,
    pub on: Vec<String>,
    /// With `on`: crops smaller than this (source pixels) are not classified.
    pub min_size: Option<(u32, u32)>,
    /// The outputs whose batch is another axis than the first (a CRNN's `[T, N, C]`: 1).
    pub batch_axes: Vec<(String, usize)>,
    /// Set by the `fuse-preprocess` pass: conversion, scaling and normalisation happen in
    /// the inference element in one pass over the frame.
    pub fused: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SinkKind {
    /// Encoded video into a container chosen by the extension.
    Video {
        path: String,
        container: String,
    },
    /// Metadata records as JSON lines; `None` is standard output.
    Records {
        path: Option<String>,
        stream: u32,
        source: String,
    },
    Discard,
    Display,
    RtspOut {
        port: i64,
        path: String,
    },
    /// A live HLS playlist (`playlist`, `dir/playlist.m3u8`) listing the last `length`
    /// MPEG-TS segments of `segment_s` seconds each, written into `dir`.
    Hls {
        dir: String,
        playlist: String,
        segment_s: u64,
        length: u32,
    },
    /// Clips of encoded video around the frames with `count` objects labelled `when`;
    /// `path` may hold `{time}` and `{n}`, filled in at run time.
    Record {
        path: String,
        when: String,
        count: u32,
        /// `when: EVENT`: the event kind (`crossing`), and the zone or line it must be
        /// about (`""`: any). `None`: `when` is a label.
        event: Option<(String, String)>,
        before_ns: u64,
        after_ns: u64,
        stream: u32,
    },
    /// Records as messages to a broker: `topic` is the MQTT or Kafka topic or the Redis
    /// stream; for Kafka `url` is `kafka[s]://HOST:PORT,…` (`brokers::kafka::location`).
    Broker {
        protocol: crate::brokers::Protocol,
        url: String,
        topic: String,
        buffer: u64,
        stream: u32,
        source: String,
        /// Kafka's `key: stream`: every message's key, `{stream}` until the stream is known
        /// (its index as text, or a pool's admitted id filled in when a stream is bound).
        key: Option<String>,
    },
}

/// ByteTrack's thresholds, as `track(byte, ...)` gives them (`new_track` filled in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteTrack {
    pub high: f64,
    pub low: f64,
    pub new_track: f64,
    /// The largest cost `1 − IoU × confidence` of a first match (`match:`).
    pub matching: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Source(SourceKind),
    Decode,
    Encode {
        codec: String,
        bitrate: i64,
    },
    Convert {
        format: String,
    },
    Scale {
        width: u32,
        height: u32,
        letterbox: bool,
    },
    Rate {
        num: u64,
        den: u64,
    },
    Infer(Box<InferNode>),
    Track {
        kind: String,
        max_age: i64,
        iou: f64,
        /// `track(byte)`'s thresholds; `None` for the other kinds.
        byte: Option<ByteTrack>,
    },
    Filter {
        classes: Vec<String>,
        min_confidence: f64,
    },
    Overlay {
        labels: bool,
        tracks: bool,
    },
    Tile {
        cols: i64,
        rows: i64,
        width: u32,
        height: u32,
    },
    /// `json`: records are made by the sink from the frames' metadata.
    Json,
    /// `analyze(...)`: zones and lines (`vplanalyze`).
    Analyze(Box<crate::analytics::AnalyzeConfig>),
    /// `events(...)`: analytics → event messages (`vplevents`), written by the records sink.
    Events(crate::analytics::EventsConfig),
    Sink(SinkKind),
    /// Several consumers of one stream.
    Tee,
    /// A thread boundary with a bounded buffer.
    Queue {
        max_buffers: u32,
        reason: &'static str,
    },
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Source(SourceKind::File { .. }) => "file",
            NodeKind::Source(SourceKind::Rtsp { .. }) => "rtsp",
            NodeKind::Source(SourceKind::Test { .. }) => "test",
            NodeKind::Source(SourceKind::Camera { .. }) => "camera",
            NodeKind::Source(SourceKind::Slot { .. }) => "pool",
            NodeKind::Source(SourceKind::Replay { .. }) => "replay",
            NodeKind::Decode => "decode",
            NodeKind::Encode { .. } => "encode",
            NodeKind::Convert { .. } => "convert",
            NodeKind::Scale { .. } => "scale",
            NodeKind::Rate { .. } => "rate",
            NodeKind::Infer(_) => "infer",
            NodeKind::Track { .. } => "track",
            NodeKind::Filter { .. } => "filter",
            NodeKind::Overlay { .. } => "overlay",
            NodeKind::Tile { .. } => "tile",
            NodeKind::Json => "json",
            NodeKind::Analyze(_) => "analyze",
            NodeKind::Events(_) => "events",
            NodeKind::Sink(SinkKind::Video { .. }) => "file",
            NodeKind::Sink(SinkKind::Records { path: Some(_), .. }) => "file",
            NodeKind::Sink(SinkKind::Records { path: None, .. }) => "stdout",
            NodeKind::Sink(SinkKind::Discard) => "discard",
            NodeKind::Sink(SinkKind::Display) => "display",
            NodeKind::Sink(SinkKind::RtspOut { .. }) => "rtsp_out",
            NodeKind::Sink(SinkKind::Hls { .. }) => "hls",
            NodeKind::Sink(SinkKind::Broker { protocol, .. }) => protocol.name(),
            NodeKind::Sink(SinkKind::Record { .. }) => "record",
            NodeKind::Tee => "tee",
            NodeKind::Queue { .. } => "queue",
        }
    }

    fn is_sink(&self) -> bool {
        matches!(self, NodeKind::Sink(_))
    }

    fn is_source(&self) -> bool {
        matches!(self, NodeKind::Source(_))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub inputs: Vec<NodeId>,
    /// The type of the one stream this node produces (`Ty::Error` for sinks).
    pub ty: Ty,
    /// Removed by a pass; kept in the arena so ids stay stable.
    pub dead: bool,
}

/// One pipeline's graph.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub pipeline: String,
    pub nodes: Vec<Node>,
    /// The `.vpl` span of the stage that made each node, by `NodeId`.
    pub spans: Vec<Span>,
    /// What each pass did, in order, for `--emit plan`.
    pub log: Vec<String>,
}

impl Graph {
    pub fn add(&mut self, kind: NodeKind, inputs: Vec<NodeId>, ty: Ty, span: Span) -> NodeId {
        self.nodes.push(Node {
            kind,
            inputs,
            ty,
            dead: false,
        });
        self.spans.push(span);
        NodeId(self.nodes.len() as u32 - 1)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    pub fn live(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.dead)
            .map(|(i, n)| (NodeId(i as u32), n))
    }

    /// The live nodes that read `id`'s stream.
    pub fn consumers(&self, id: NodeId) -> Vec<NodeId> {
        self.live()
            .filter(|(_, n)| n.inputs.contains(&id))
            .map(|(c, _)| c)
            .collect()
    }

    /// Checks the graph's invariants; the passes keep them and tests run it after each.
    pub fn validate(&self, tees_inserted: bool) -> Result<(), String> {
        self.topological()?;
        for (id, node) in self.live() {
            for input in &node.inputs {
                let source = self.node(*input);
                if source.dead {
                    return Err(format!("n{} reads n{}, which was removed", id.0, input.0));
                }
                if source.kind.is_sink() {
                    return Err(format!("n{} reads the sink n{}", id.0, input.0));
                }
            }
            let expected = match &node.kind {
                NodeKind::Source(_) => Some(0),
                NodeKind::Tile { .. } => None,
                _ => Some(1),
            };
            if let Some(n) = expected
                && node.inputs.len() != n
            {
                return Err(format!(
                    "n{} ({}) has {} inputs, expected {n}",
                    id.0,
                    node.kind.name(),
                    node.inputs.len()
                ));
            }
            if !node.kind.is_sink() && self.consumers(id).is_empty() {
                return Err(format!("n{} ({}) leads nowhere", id.0, node.kind.name()));
            }
            if tees_inserted && !matches!(node.kind, NodeKind::Tee) && self.consumers(id).len() > 1
            {
                return Err(format!(
                    "n{} ({}) feeds several nodes without a tee",
                    id.0,
                    node.kind.name()
                ));
            }
            if node.kind.is_source() != node.inputs.is_empty()
                && !matches!(node.kind, NodeKind::Tile { .. })
            {
                return Err(format!(
                    "n{} has inputs but is a source, or none and is not",
                    id.0
                ));
            }
        }
        Ok(())
    }

    /// The live nodes in an order where every node comes after its inputs; an error if
    /// the graph has a cycle.
    pub fn topological(&self) -> Result<Vec<NodeId>, String> {
        let mut state = vec![0u8; self.nodes.len()];
        let mut order = Vec::new();
        fn visit(
            g: &Graph,
            id: NodeId,
            state: &mut [u8],
            order: &mut Vec<NodeId>,
        ) -> Result<(), String> {
            match state[id.0 as usize] {
                2 => return Ok(()),
                1 => return Err(format!("the graph has a cycle through n{}", id.0)),
                _ => {}
            }
            state[id.0 as usize] = 1;
            for input in &g.node(id).inputs {
                visit(g, *input, state, order)?;
            }
            state[id.0 as usize] = 2;
            order.push(id);
            Ok(())
        }
        for (id, _) in self.live() {
            visit(self, id, &mut state, &mut order)?;
        }
        Ok(order)
    }

    /// The plan as people read it: `vplc build --emit plan`.
    pub fn describe(&self, sources: &crate::SourceMap, file: crate::FileId) -> String {
        let mut out = format!("pipeline {}\n", self.pipeline);
        let order = self.topological().unwrap_or_default();
        for id in order {
            let node = self.node(id);
            let inputs: Vec<String> = node.inputs.iter().map(|i| format!("n{}", i.0)).collect();
            let from = if inputs.is_empty() {
                String::new()
            } else {
                format!(" <- {}", inputs.join(", "))
            };
            let (line, column) = sources
                .get(file)
                .line_column(self.spans[id.0 as usize].start as usize);
            let _ = write!(out, "  n{:<3} {}{from}", id.0, detail(&node.kind));
            if !matches!(node.ty, Ty::Error) {
                let _ = write!(out, " : {}", node.ty);
            }
            let _ = writeln!(out, "  [{line}:{column}]");
        }
        if !self.log.is_empty() {
            out.push_str("passes:\n");
            for l in &self.log {
                let _ = writeln!(out, "  {l}");
            }
        }
        out
    }
}

fn detail(kind: &NodeKind) -> String {
    match kind {
        NodeKind::Source(SourceKind::File { path, .. }) => format!("file({path:?})"),
        NodeKind::Source(SourceKind::Rtsp { url, .. }) => format!("rtsp({url:?})"),
        NodeKind::Source(SourceKind::Test { pattern, frames }) => {
            format!("test({pattern}, {frames} frames)")
        }
        NodeKind::Source(SourceKind::Camera { device }) => format!("camera({device:?})"),
        NodeKind::Source(SourceKind::Replay { records, video, .. }) => match video {
            Some((video, _)) => format!("replay({records:?}, video: {video:?})"),
            None => format!("replay({records:?})"),
        },
        NodeKind::Source(SourceKind::Slot {
            pool, slot, max, ..
        }) => {
            format!("pool({pool}, slot {slot} of {max})")
        }
        NodeKind::Encode { codec, bitrate } => format!("encode({codec}, {bitrate} bps)"),
        NodeKind::Convert { format } => format!("convert({format})"),
        NodeKind::Scale {
            width,
            height,
            letterbox,
        } => {
            format!(
                "scale({width}x{height}{})",
                if *letterbox { ", letterbox" } else { "" }
            )
        }
        NodeKind::Rate { num, den } => {
            format!("rate({})", crate::check::types::rate_text(*num, *den))
        }
        NodeKind::Infer(i) => {
            let p = &i.preprocess;
            let size = p
                .size
                .map_or("frame size".to_string(), |(w, h)| format!("{w}x{h}"));
            let fused = if i.fused { "fused " } else { "" };
            let crops = if i.on.is_empty() {
                String::new()
            } else {
                let min = i
                    .min_size
                    .map_or("any size".to_string(), |(w, h)| format!("at least {w}x{h}"));
                format!(" on crops of {:?} {min},", i.on)
            };
            format!(
                "infer({}) stream {}{crops} group {:?}, batch {} ({}), every {}; {fused}preprocess {:?} {:?} {size} {:?} {} scale {:.6}",
                i.model_name,
                i.stream,
                i.group,
                i.batch,
                i.reason,
                i.every,
                p.layout,
                p.order,
                p.resize,
                p.dtype.name(),
                p.scale
            )
        }
        NodeKind::Track {
            kind,
            max_age,
            iou,
            byte: None,
        } => format!("track({kind}, max_age {max_age}, iou {iou})"),
        NodeKind::Track {
            kind,
            max_age,
            byte: Some(b),
            ..
        } => format!(
            "track({kind}, max_age {max_age}, high {}, low {}, new_track {}, match {})",
            b.high, b.low, b.new_track, b.matching
        ),
        NodeKind::Filter {
            classes,
            min_confidence,
        } => format!("filter({classes:?}, min {min_confidence})"),
        NodeKind::Overlay { labels, tracks } => {
            format!("overlay(labels {labels}, tracks {tracks})")
        }
        NodeKind::Tile {
            cols,
            rows,
            width,
            height,
        } => format!("tile({cols}x{rows}, {width}x{height})"),
        NodeKind::Sink(SinkKind::Video { path, container }) => {
            format!("sink file({path:?}) as {container}")
        }
        NodeKind::Sink(SinkKind::Records { path, stream, .. }) => match path {
            Some(p) => format!("sink records({p:?}) stream {stream}"),
            None => format!("sink records(stdout) stream {stream}"),
        },
        NodeKind::Sink(SinkKind::RtspOut { port, path }) => {
            format!("sink rtsp_out({port}, {path:?})")
        }
        NodeKind::Sink(SinkKind::Hls {
            dir,
            segment_s,
            length,
            ..
        }) => format!("sink hls({dir:?}, {segment_s} s segments, {length} listed)"),
        NodeKind::Sink(SinkKind::Broker {
            protocol,
            url,
            topic,
            stream,
            key,
            ..
        }) => format!(
            "sink {}({url:?}, {topic:?}) stream {stream}{}",
            protocol.name(),
            key.as_ref()
                .map(|k| format!(" key {k:?}"))
                .unwrap_or_default()
        ),
        NodeKind::Sink(SinkKind::Record {
            path,
            when,
            count,
            event,
            before_ns,
            after_ns,
            ..
        }) => format!(
            "sink record({path:?} when {}, {} ms before, {} ms after)",
            match event {
                None => format!("{count}× {when:?}"),
                Some((kind, at)) if at.is_empty() => kind.clone(),
                Some((kind, at)) => format!("{kind} at {at:?}"),
            },
            before_ns / 1_000_000,
            after_ns / 1_000_000
        ),
        NodeKind::Sink(s) => format!("sink {}", kind_name_of_sink(s)),
        NodeKind::Queue {
            max_buffers,
            reason,
        } => format!("queue(max {max_buffers} buffers: {reason})"),
        other => other.name().to_string(),
    }
}

fn kind_name_of_sink(s: &SinkKind) -> &'static str {
    match s {
        SinkKind::Discard => "discard",
        SinkKind::Display => "display",
        _ => "sink",
    }
}
