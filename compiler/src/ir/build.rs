//! Resolved + typed program → one `Graph` per pipeline, a node per stream.

use std::collections::HashMap;

use super::{ByteTrack, Decoder, Graph, InferNode, NodeId, NodeKind, SinkKind, SourceKind};
use crate::check::{Site, Ty, Typed, TypedPipeline};
use crate::hir::{self, BoundCall, CallId, Flow, Value};
use crate::stage::{Sink, Source, Stage, StageKind};
use crate::syntax::ast::Role;

/// Builds the graph of pipeline `index`. The program must have checked without errors.
pub fn build(program: &hir::Program, typed: &Typed, index: usize) -> Graph {
    let pipeline = &program.pipelines[index];
    let tp: &TypedPipeline = &typed.pipelines[index];
    let mut b = Builder {
        g: Graph {
            pipeline: pipeline.name.name.clone(),
            ..Graph::default()
        },
        program,
        typed,
        sites: tp.sites.iter().map(|s| (s.call, s)).collect(),
        lets: Vec::new(),
        batch: HashMap::new(),
        naming: None,
        pools: 0,
    };
    for l in &pipeline.lets {
        b.naming = Some(l.name.name.clone());
        let streams = b.flow(&l.flow);
        b.lets.push(streams);
    }
    b.naming = None;
    for f in &pipeline.flows {
        b.flow(&f.flow);
    }
    drop_unused(&mut b.g);
    number_streams(&mut b.g);
    b.g
}

/// Gives every node that names its stream (inference, events, records and broker sinks)
/// the id of the stream it carries: its source's place among the pipeline's sources, in
/// the order `--stats` counts them, whichever list the stream later travels in. `{stream}`
/// in a broker's topic (or Redis stream) becomes that id, so each stream of a list has a
/// topic of its own, named as its records name their stream.
fn number_streams(g: &mut Graph) {
    let ids: HashMap<NodeId, u32> = g
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.dead && matches!(n.kind, NodeKind::Source(_)))
        .enumerate()
        .map(|(k, (i, _))| (NodeId(i as u32), k as u32))
        .collect();
    for i in 0..g.nodes.len() {
        if g.nodes[i].dead {
            continue;
        }
        // The source upstream: through the first input of each node (a tiled picture is
        // counted as the stream of its first cell).
        let mut at = NodeId(i as u32);
        let mut from_slot = false;
        let stream = loop {
            let node = g.node(at);
            match (&node.kind, node.inputs.first()) {
                (NodeKind::Source(source), _) => {
                    from_slot = matches!(source, SourceKind::Slot { .. });
                    break ids.get(&at).copied();
                }
                (_, Some(input)) => at = *input,
                (_, None) => break None,
            }
        };
        let Some(stream) = stream else {
            continue;
        };
        match &mut g.nodes[i].kind {
            NodeKind::Infer(infer) => infer.stream = stream,
            NodeKind::Source(SourceKind::Replay { stream: s, .. }) => *s = stream,
            NodeKind::Events(config) => config.stream = stream,
            NodeKind::Sink(SinkKind::Records { stream: s, .. }) => *s = stream,
            NodeKind::Sink(SinkKind::Broker {
                stream: s,
                topic,
                key,
                ..
            }) => {
                *s = stream;
                // A slot's stream is named by its id, filled in when a stream is bound.
                if !from_slot {
                    *topic = topic.replace("{stream}", &stream.to_string());
                    if let Some(key) = key {
                        *key = key.replace("{stream}", &stream.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Removes the nodes whose stream reaches no sink: a `let` no flow reads (W0001 at
/// check time) is not run. Nodes are built after their inputs, so one pass from the
/// last node back sees each node's readers settled.
fn drop_unused(g: &mut Graph) {
    for i in (0..g.nodes.len()).rev() {
        let id = NodeId(i as u32);
        if !g.nodes[i].dead && !g.nodes[i].kind.is_sink() && g.consumers(id).is_empty() {
            g.nodes[i].dead = true;
        }
    }
}

struct Builder<'a> {
    g: Graph,
    program: &'a hir::Program,
    typed: &'a Typed,
    /// What the checker found at each call, by the call's id.
    sites: HashMap<CallId, &'a Site>,
    lets: Vec<Vec<NodeId>>,
    /// Streams bundled by `batch(size, timeout)`: the batch's settings.
    batch: HashMap<NodeId, (u32, i64)>,
    /// The name of the `let` being built: a pool's name.
    naming: Option<String>,
    /// Pools built so far, to name those bound to no `let`.
    pools: usize,
}

/// The type of stream `i` of a (possibly list) type.
fn ty_at(ty: &Ty, i: usize) -> Ty {
    match ty {
        Ty::List(items) => items.get(i).cloned().unwrap_or(Ty::Error),
        Ty::Batch { frame, .. } => Ty::Video(frame.clone()),
        other => other.clone(),
    }
}

impl Builder<'_> {
    fn site(&self, call: &BoundCall) -> Option<&Site> {
        self.sites.get(&call.id).copied()
    }

    fn flow(&mut self, flow: &Flow) -> Vec<NodeId> {
        match flow {
            Flow::Source { call, .. } => {
                let ty = self.site(call).map_or(Ty::Error, |s| s.output.clone());
                let media = self.site(call).and_then(|s| s.media.clone());
                let StageKind::Source(source) = call.kind else {
                    return Vec::new();
                };
                let kind = match source {
                    Source::File => SourceKind::File {
                        path: call.resolved_path.as_ref().map_or_else(
                            || call.string("path").unwrap_or_default().to_string(),
                            |p| p.display().to_string(),
                        ),
                        media,
                        looping: call.boolean("loop").unwrap_or(false),
                    },
                    Source::Rtsp => SourceKind::Rtsp {
                        url: call.string("url").unwrap_or_default().to_string(),
                        latency_ns: call.int("latency").unwrap_or(0),
                        tcp: call.boolean("tcp").unwrap_or(false),
                        reconnect_ns: call.int("reconnect").unwrap_or(0),
                    },
                    Source::Camera => SourceKind::Camera {
                        device: call.string("device").unwrap_or_default().to_string(),
                    },
                    Source::Test => SourceKind::Test {
                        pattern: call.string("pattern").unwrap_or_default().to_string(),
                        frames: call.int("frames").unwrap_or(0),
                    },
                    Source::Pool => return self.pool(call, &ty),
                    Source::Replay => SourceKind::Replay {
                        records: call.resolved_path.as_ref().map_or_else(
                            || call.string("path").unwrap_or_default().to_string(),
                            |p| p.display().to_string(),
                        ),
                        video: call
                            .resolved_video
                            .as_ref()
                            .map(|p| (p.display().to_string(), media)),
                        frames: self.site(call).and_then(|s| s.replay_frames),
                        stream: 0,
                    },
                };
                vec![
                    self.g
                        .add(NodeKind::Source(kind), Vec::new(), ty, call.span),
                ]
            }
            Flow::Stream { id, .. } => self.lets.get(id.0 as usize).cloned().unwrap_or_default(),
            Flow::List { items, .. } => items.iter().flat_map(|f| self.flow(f)).collect(),
            Flow::Ascribed { input, .. } => self.flow(input),
            Flow::Apply { input, call } => {
                let inputs = self.flow(input);
                match call.role {
                    Role::Sink => {
                        self.sink(call, &inputs);
                        Vec::new()
                    }
                    _ => self.stage(call, &inputs),
                }
            }
        }
    }

    /// A pool: one source node a slot, each of the pool's type.
    fn pool(&mut self, call: &BoundCall, ty: &Ty) -> Vec<NodeId> {
        self.pools += 1;
        let pool = match self.naming.take() {
            Some(name) => name,
            None if self.pools == 1 => "pool".to_string(),
            None => format!("pool_{}", self.pools),
        };
        let max = call.int("max").unwrap_or(1).max(1) as u32;
        let streams_file = call.resolved_path.as_ref().map(|p| p.display().to_string());
        (0..max)
            .map(|slot| {
                let kind = SourceKind::Slot {
                    pool: pool.clone(),
                    slot,
                    max,
                    streams_file: streams_file.clone(),
                };
                self.g.add(
                    NodeKind::Source(kind),
                    Vec::new(),
                    ty_at(ty, slot as usize),
                    call.span,
                )
            })
            .collect()
    }

    /// Whether the stream `id` comes from a pool's slot: its `{stream}` stays in paths and
    /// topics, filled in with the id of the stream bound to the slot.
    fn comes_from_slot(&self, mut id: NodeId) -> bool {
        loop {
            let node = self.g.node(id);
            match (&node.kind, node.inputs.first()) {
                (NodeKind::Source(source), _) => return matches!(source, SourceKind::Slot { .. }),
                (_, Some(input)) => id = *input,
                (_, None) => return false,
            }
        }
    }

    fn per_stream(
        &mut self,
        call: &BoundCall,
        inputs: &[NodeId],
        kind: impl Fn(usize) -> NodeKind,
    ) -> Vec<NodeId> {
        let out = self.site(call).map_or(Ty::Error, |s| s.output.clone());
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let id = self.g.add(kind(i), vec![*input], ty_at(&out, i), call.span);
                if let Some(b) = self.batch.get(input).copied() {
                    self.batch.insert(id, b);
                }
                id
            })
            .collect()
    }

    fn stage(&mut self, call: &BoundCall, inputs: &[NodeId]) -> Vec<NodeId> {
        let StageKind::Stage(stage) = call.kind else {
            return inputs.to_vec();
        };
        match stage {
            Stage::Decode => self.per_stream(call, inputs, |_| NodeKind::Decode),
            Stage::Encode => {
                let codec = call.string("codec").unwrap_or_default().to_string();
                let bitrate = call.int("bitrate").unwrap_or(0);
                self.per_stream(call, inputs, |_| NodeKind::Encode {
                    codec: codec.clone(),
                    bitrate,
                })
            }
            Stage::Convert => {
                let format = call.string("format").unwrap_or_default().to_string();
                self.per_stream(call, inputs, |_| NodeKind::Convert {
                    format: format.clone(),
                })
            }
            Stage::Scale => {
                let (width, height) = call.resolution("resolution").unwrap_or((0, 0));
                let letterbox = call.string("mode") == Some("letterbox");
                self.per_stream(call, inputs, |_| NodeKind::Scale {
                    width,
                    height,
                    letterbox,
                })
            }
            Stage::Rate => {
                let (num, den) = match call.value("fps") {
                    Some(Value::Rate { num, den }) => (*num, *den),
                    _ => (0, 1),
                };
                self.per_stream(call, inputs, |_| NodeKind::Rate { num, den })
            }
            Stage::Track => {
                let kind = call.string("kind").unwrap_or_default().to_string();
                let (max_age, iou) = (
                    call.int("max_age").unwrap_or(0),
                    call.float("iou").unwrap_or(0.0),
                );
                let byte = (kind == "byte").then(|| {
                    let high = call.float("high").unwrap_or(0.0);
                    ByteTrack {
                        high,
                        low: call.float("low").unwrap_or(0.0),
                        // Unset: ByteTrack's det_thresh, track_thresh + 0.1.
                        new_track: call.float("new_track").unwrap_or((high + 0.1).min(1.0)),
                        matching: call.float("match").unwrap_or(0.0),
                    }
                });
                self.per_stream(call, inputs, |_| NodeKind::Track {
                    kind: kind.clone(),
                    max_age,
                    iou,
                    byte,
                })
            }
            Stage::Filter => {
                let classes = call.strings("classes");
                let min_confidence = call.float("min_confidence").unwrap_or(0.0);
                self.per_stream(call, inputs, |_| NodeKind::Filter {
                    classes: classes.clone(),
                    min_confidence,
                })
            }
            Stage::Overlay => {
                let (labels, tracks) = (
                    call.boolean("labels").unwrap_or(false),
                    call.boolean("tracks").unwrap_or(false),
                );
                self.per_stream(call, inputs, |_| NodeKind::Overlay { labels, tracks })
            }
            Stage::Json => self.per_stream(call, inputs, |_| NodeKind::Json),
            Stage::Analyze => {
                let config = crate::analytics::analyze_config(call);
                self.per_stream(call, inputs, |_| {
                    NodeKind::Analyze(Box::new(config.clone()))
                })
            }
            Stage::Events => {
                let config = crate::analytics::events_config(call);
                self.per_stream(call, inputs, |_| NodeKind::Events(config.clone()))
            }
            Stage::Batch => {
                let size = call.int("size").unwrap_or(0).max(1) as u32;
                let timeout = call.int("timeout").unwrap_or(0);
                let scaled = match call.resolution("resolution") {
                    Some((width, height)) => self.per_stream(call, inputs, |_| NodeKind::Scale {
                        width,
                        height,
                        letterbox: false,
                    }),
                    None => inputs.to_vec(),
                };
                for id in &scaled {
                    self.batch.insert(*id, (size, timeout));
                }
                scaled
            }
            Stage::Unbatch => inputs.to_vec(),
            Stage::Tile => {
                let ty = self.site(call).map_or(Ty::Error, |s| s.output.clone());
                let (width, height) = call.resolution("resolution").unwrap_or((1280, 720));
                let kind = NodeKind::Tile {
                    cols: call.int("cols").unwrap_or(0),
                    rows: call.int("rows").unwrap_or(0),
                    width,
                    height,
                };
                vec![self.g.add(kind, inputs.to_vec(), ty, call.span)]
            }
            Stage::Infer => self.infer(call, inputs),
        }
    }

    fn infer(&mut self, call: &BoundCall, inputs: &[NodeId]) -> Vec<NodeId> {
        let site = self.site(call);
        let Some(plan) = site.and_then(|s| s.infer.clone()) else {
            return inputs.to_vec();
        };
        let Some(Some(info)) = self.typed.models.get(plan.model.0 as usize) else {
            return inputs.to_vec();
        };
        let model = &self.program.models[plan.model.0 as usize];
        let decoder = match model.call.value("decoder") {
            // A `decoder:` argument binds to a decoder only.
            Some(Value::Decoder(d)) => match d.kind.decoder() {
                Some(kind) => kind.rules().spec(d, info),
                None => Decoder::Raw,
            },
            _ => Decoder::Raw,
        };
        let path = model
            .call
            .resolved_path
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string());
        let group = format!("{}@{}", model.name.name, call.span.start);
        let every = call.int("every").unwrap_or(0).max(1);
        let on = call.strings("on");
        let min_size = call.resolution("min_size");
        let labels = info.labels.to_vec();
        let preprocess = info.preprocess.clone();
        let output = info.output.clone().unwrap_or_default();
        // Only the outputs whose batch is not their first axis.
        let batch_axes: Vec<(String, usize)> = info
            .batch_axes
            .iter()
            .filter(|(_, axis)| *axis != 0)
            .cloned()
            .collect();
        let name = model.name.name.clone();
        let timeouts: Vec<i64> = inputs
            .iter()
            .map(|i| self.batch.get(i).map_or(40_000_000, |b| b.1))
            .collect();
        self.per_stream(call, inputs, |i| {
            NodeKind::Infer(Box::new(InferNode {
                model: plan.model,
                model_name: name.clone(),
                model_path: path.clone(),
                group: group.clone(),
                stream: i as u32,
                batch: plan.batch,
                timeout_ns: timeouts[i],
                reason: plan.reason.clone(),
                every,
                preprocess: preprocess.clone(),
                decoder: decoder.clone(),
                output: output.clone(),
                labels: labels.clone(),
                on: on.clone(),
                min_size,
                batch_axes: batch_axes.clone(),
                fused: false,
            }))
        })
    }

    /// The name of the source a stream comes from, for records.
    fn source_name(&self, mut id: NodeId) -> String {
        loop {
            let node = self.g.node(id);
            match (&node.kind, node.inputs.first()) {
                (NodeKind::Source(SourceKind::File { path, .. }), _) => {
                    return std::path::Path::new(path)
                        .file_name()
                        .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
                }
                (NodeKind::Source(SourceKind::Replay { records, video, .. }), _) => {
                    let path = video.as_ref().map_or(records, |(v, _)| v);
                    return std::path::Path::new(path)
                        .file_name()
                        .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
                }
                (NodeKind::Source(SourceKind::Rtsp { url, .. }), _) => return url.clone(),
                (NodeKind::Source(SourceKind::Camera { device }), _) => return device.clone(),
                (NodeKind::Source(SourceKind::Test { pattern, .. }), _) => {
                    return format!("test:{pattern}");
                }
                (NodeKind::Source(SourceKind::Slot { pool, .. }), _) => {
                    return format!("pool:{pool}");
                }
                (_, Some(input)) => id = *input,
                (_, None) => return String::new(),
            }
        }
    }

    fn sink(&mut self, call: &BoundCall, inputs: &[NodeId]) {
        // `hls` names its directory `dir`.
        let path = call
            .string("path")
            .or_else(|| call.string("dir"))
            .unwrap_or_default()
            .to_string();
        let resolved = call
            .resolved_path
            .as_ref()
            .map_or_else(|| path.clone(), |p| p.display().to_string());
        for (i, input) in inputs.iter().enumerate() {
            let StageKind::Sink(sink) = call.kind else {
                return;
            };
            // `{stream}`: the stream's place in the list, or, for a slot, kept to be filled
            // in with the id of the stream bound to it.
            let stream_text = if self.comes_from_slot(*input) {
                "{stream}".to_string()
            } else {
                i.to_string()
            };
            let kind = match sink {
                Sink::Stdout => SinkKind::Records {
                    path: None,
                    stream: i as u32,
                    source: self.source_name(*input),
                },
                Sink::Discard => SinkKind::Discard,
                Sink::Record => SinkKind::Record {
                    path: resolved.replace("{stream}", &stream_text),
                    when: call.string("when").unwrap_or_default().to_string(),
                    count: call.int("count").unwrap_or(1).max(1) as u32,
                    event: match call.value("when") {
                        Some(crate::hir::Value::Symbol(kind)) => Some((
                            kind.clone(),
                            call.string("at").unwrap_or_default().to_string(),
                        )),
                        _ => None,
                    },
                    before_ns: call.int("before").unwrap_or(0).max(0) as u64,
                    after_ns: call.int("after").unwrap_or(0).max(0) as u64,
                    stream: i as u32,
                },
                Sink::Mqtt | Sink::Redis => SinkKind::Broker {
                    protocol: if sink == Sink::Mqtt {
                        crate::brokers::Protocol::Mqtt
                    } else {
                        crate::brokers::Protocol::Redis
                    },
                    url: call.string("url").unwrap_or_default().to_string(),
                    topic: call
                        .string(if sink == Sink::Mqtt {
                            "topic"
                        } else {
                            "stream"
                        })
                        .unwrap_or_default()
                        .to_string(),
                    buffer: call.int("buffer").unwrap_or(1).max(1) as u64,
                    stream: i as u32,
                    source: self.source_name(*input),
                    key: None,
                },
                Sink::Kafka => SinkKind::Broker {
                    protocol: crate::brokers::Protocol::Kafka,
                    url: crate::brokers::kafka::location(
                        call.string("brokers").unwrap_or_default(),
                    ),
                    topic: call.string("topic").unwrap_or_default().to_string(),
                    buffer: call.int("buffer").unwrap_or(1).max(1) as u64,
                    stream: i as u32,
                    source: self.source_name(*input),
                    key: (call.string("key") == Some("stream")).then(|| "{stream}".to_string()),
                },
                Sink::Display => SinkKind::Display,
                Sink::RtspOut => SinkKind::RtspOut {
                    port: call.int("port").unwrap_or(0),
                    path: call.string("path").unwrap_or_default().to_string(),
                },
                Sink::Hls => {
                    let dir = resolved.replace("{stream}", &stream_text);
                    SinkKind::Hls {
                        playlist: std::path::Path::new(&dir)
                            .join("playlist.m3u8")
                            .display()
                            .to_string(),
                        dir,
                        segment_s: (call.int("segment").unwrap_or(0) / 1_000_000_000).max(1) as u64,
                        length: call
                            .int("playlist")
                            .unwrap_or(1)
                            .clamp(1, i64::from(u32::MAX)) as u32,
                    }
                }
                Sink::File => {
                    let target = resolved.replace("{stream}", &stream_text);
                    let ext = std::path::Path::new(&target)
                        .extension()
                        .and_then(|e| e.to_str())
                        .map(str::to_ascii_lowercase)
                        .unwrap_or_default();
                    if ext == "jsonl" {
                        SinkKind::Records {
                            path: Some(target),
                            stream: i as u32,
                            source: self.source_name(*input),
                        }
                    } else {
                        SinkKind::Video {
                            path: target,
                            container: ext,
                        }
                    }
                }
            };
            self.g
                .add(NodeKind::Sink(kind), vec![*input], Ty::Error, call.span);
        }
    }
}
