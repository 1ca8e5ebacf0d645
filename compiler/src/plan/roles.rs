//! What a planned element is to the command line that runs the plan (`vplc run`), where
//! that matters to it: the element whose frames are a stream's progress, the sinks and
//! what they write or serve, the inferences and the queues its metrics name. Given after
//! lowering, from the graph and where each node's chain of elements ends, so that the
//! command line reads the plan instead of rebuilding element names or walking the graph.

use std::collections::HashMap;

use super::{Ends, Plan};
use crate::ir::{Graph, NodeId, NodeKind, SinkKind, SourceKind};

/// An element's role. Streams are named by their ids: the order of the source calls, as
/// `--stats` counts them; a source the optimiser merged into another (the same file read
/// twice) still has its id, carried by the source it was merged into.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// The frames leaving this element are the progress of `streams`: what `--max-frames`
    /// ends, the progress line and `vpl_frames_total` count. It is the stream's decoder (its
    /// caps filter), the caps of a raw source, or for a stream never decoded (a relay, a
    /// copy) the element where its frames leave the source's own elements.
    Progress {
        streams: Vec<usize>,
        /// The frames leave by a video pad the element adds at run time (a demuxer's).
        dynamic: bool,
        /// The streams are read from a file (`file(…)`), which the progress line can
        /// give a share of.
        from_file: bool,
        /// That file's duration, where the probe found one.
        duration_ns: Option<u64>,
    },
    /// `vplinfer`, running the program's model `model` on the frames of `streams`.
    Inference { model: String, streams: Vec<usize> },
    /// The element of a sink stage that takes its frames, with what the program wrote.
    Sink { sink: SinkKind, streams: Vec<usize> },
    /// A queue in front of the stage `into`, on the frames of `streams`.
    Queue { into: Reader, streams: Vec<usize> },
}

/// The stage reading a queue's frames, as much of it as the command line names.
#[derive(Debug, Clone, PartialEq)]
pub enum Reader {
    Sink(SinkKind),
    Infer {
        model: String,
    },
    /// Any other stage, by the name of its kind (`overlay`, `track`).
    Stage(&'static str),
}

impl Role {
    /// The file this element writes, where it writes one file: a video file or a file of
    /// records, or `hls`'s playlist (its segments come and go beside it; `record`'s clips
    /// are files made as it goes).
    pub fn output(&self) -> Option<&str> {
        match self {
            Role::Sink {
                sink:
                    SinkKind::Video { path, .. }
                    | SinkKind::Records {
                        path: Some(path), ..
                    }
                    | SinkKind::Hls { playlist: path, .. },
                ..
            } => Some(path),
            _ => None,
        }
    }
}

/// Gives each element of `plan` that has one its role; `ends` are where each node's chain
/// of elements starts and ends, as lowering made them.
pub(super) fn assign(g: &Graph, ends: &HashMap<NodeId, Ends>, plan: &mut Plan) {
    let streams = Streams::of(g);
    let last = |id: NodeId| ends.get(&id).map(|e| (e.last.clone(), e.dynamic));
    let mut roles: HashMap<String, Role> = HashMap::new();
    for (id, node) in g.live() {
        let role = match &node.kind {
            NodeKind::Source(source) => {
                let at = decoder_of(g, id).unwrap_or(id);
                let Some((element, dynamic)) = last(at) else {
                    continue;
                };
                let (from_file, duration_ns) = match source {
                    SourceKind::File { media, .. }
                    | SourceKind::Replay {
                        video: Some((_, media)),
                        ..
                    } => (true, media.as_ref().and_then(|m| m.duration_ns)),
                    _ => (false, None),
                };
                let role = Role::Progress {
                    streams: streams.from(id),
                    dynamic,
                    from_file,
                    duration_ns,
                };
                roles.insert(element, role);
                continue;
            }
            NodeKind::Sink(sink) => Role::Sink {
                sink: sink.clone(),
                streams: streams.reaching(g, id),
            },
            NodeKind::Queue { .. } => Role::Queue {
                into: reader(g, id),
                streams: streams.reaching(g, id),
            },
            NodeKind::Infer(infer) => {
                // `vplinfer` itself, inside the converters a format it does not take needs.
                let infer_role = Role::Inference {
                    model: infer.model_name.clone(),
                    streams: streams.reaching(g, id),
                };
                if let Some(e) = plan
                    .elements
                    .iter_mut()
                    .find(|e| e.node == id && e.factory == "vplinfer")
                {
                    e.role = Some(infer_role);
                }
                continue;
            }
            _ => continue,
        };
        if let Some((element, _)) = last(id) {
            roles.insert(element, role);
        }
    }
    for e in &mut plan.elements {
        if let Some(role) = roles.remove(&e.name) {
            e.role = Some(role);
        }
    }
}

/// The decoder reading `id`'s stream, directly or through tees and queues.
fn decoder_of(g: &Graph, id: NodeId) -> Option<NodeId> {
    g.consumers(id)
        .into_iter()
        .find_map(|c| match g.node(c).kind {
            NodeKind::Decode => Some(c),
            NodeKind::Tee | NodeKind::Queue { .. } => decoder_of(g, c),
            _ => None,
        })
}

/// The first stage reading `id`'s frames.
fn reader(g: &Graph, id: NodeId) -> Reader {
    match g.consumers(id).first().map(|c| &g.node(*c).kind) {
        Some(NodeKind::Sink(sink)) => Reader::Sink(sink.clone()),
        Some(NodeKind::Infer(infer)) => Reader::Infer {
            model: infer.model_name.clone(),
        },
        Some(other) => Reader::Stage(other.name()),
        None => Reader::Stage("?"),
    }
}

/// Each stream id's live source.
struct Streams(Vec<NodeId>);

impl Streams {
    /// The sources in the order of their calls; a removed one stands for the live source
    /// of the same kind it was merged into, and one without such a source has no id.
    fn of(g: &Graph) -> Streams {
        Streams(
            g.nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| match &n.kind {
                    NodeKind::Source(_) if !n.dead => Some(NodeId(i as u32)),
                    NodeKind::Source(_) => g.live().find(|(_, l)| l.kind == n.kind).map(|l| l.0),
                    _ => None,
                })
                .collect(),
        )
    }

    /// The streams the live source `source` reads.
    fn from(&self, source: NodeId) -> Vec<usize> {
        self.ids(|s| s == source)
    }

    /// The streams whose frames reach `id`: those of every source upstream.
    fn reaching(&self, g: &Graph, id: NodeId) -> Vec<usize> {
        let mut upstream = std::collections::HashSet::new();
        let mut todo = vec![id];
        while let Some(n) = todo.pop() {
            if upstream.insert(n) {
                todo.extend(g.node(n).inputs.iter().copied());
            }
        }
        self.ids(|s| upstream.contains(&s))
    }

    fn ids(&self, of: impl Fn(NodeId) -> bool) -> Vec<usize> {
        (0..self.0.len()).filter(|i| of(self.0[*i])).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Reader, Role};
    use crate::facts::{DType, Dim, MediaFacts, ModelFacts, TensorFacts, VideoFacts};
    use crate::ir::SinkKind;
    use crate::onnx::model_bytes;
    use crate::{MemoryHost, SourceMap, compile};

    fn detector() -> Vec<u8> {
        let tensor = |name: &str, shape: &[i64]| TensorFacts {
            name: name.into(),
            dtype: DType::F32,
            shape: shape.iter().map(|d| Dim::Fixed(*d)).collect(),
        };
        model_bytes(&ModelFacts {
            inputs: vec![tensor("images", &[1, 3, 640, 640])],
            outputs: vec![tensor("output0", &[1, 6, 8400])],
            ..ModelFacts::default()
        })
    }

    fn h264(duration_s: u64) -> MediaFacts {
        MediaFacts {
            container: Some("mp4".into()),
            video: Some(VideoFacts {
                format: "h264".into(),
                raw: false,
                width: Some(640),
                height: Some(360),
                rate: Some((25, 1)),
                caps: "video/x-h264".into(),
                ..VideoFacts::default()
            }),
            duration_ns: Some(duration_s * 1_000_000_000),
        }
    }

    /// Two streams through one `infer` into a file each, a tee and queues between: the
    /// decoders' caps are the streams' progress, `vplinfer` the inference, the file sinks
    /// the outputs, and the queues name the stage they feed.
    #[test]
    fn roles_of_two_streams_an_inference_and_file_sinks() {
        let host = MemoryHost::new()
            .with_file("/m/det.onnx", detector())
            .with_media("/v/a.mp4", h264(10))
            .with_media("/v/b.mp4", h264(20));
        let text = "model det = onnx(\"/m/det.onnx\", labels: [\"person\", \"fallen\"], decoder: yolov8());\n\
                    pipeline p {\n    let cams = [file(\"/v/a.mp4\"), file(\"/v/b.mp4\")];\n    \
                    cams | decode | infer(det) | overlay | encode(h264) | file(\"/o/cam_{stream}.mp4\");\n}\n";
        let mut sources = SourceMap::default();
        let c = compile(&mut sources, "p.vpl", Path::new("/p/p.vpl"), text, &host);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let (_, plan) = c.lower(0).expect("lowers");
        let roles: Vec<(&str, &str, &Role)> = plan
            .elements
            .iter()
            .filter_map(|e| Some((e.name.as_str(), e.factory.as_str(), e.role.as_ref()?)))
            .collect();
        let progress: Vec<(&str, &[usize], Option<u64>)> = roles
            .iter()
            .filter_map(|(name, _, role)| match role {
                Role::Progress {
                    streams,
                    dynamic: false,
                    from_file: true,
                    duration_ns,
                } => Some((*name, streams.as_slice(), *duration_ns)),
                _ => None,
            })
            .collect();
        let caps: Vec<&str> = plan
            .elements
            .iter()
            .filter(|e| e.name.ends_with("_decode_caps"))
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            progress,
            [
                (caps[0], &[0][..], Some(10_000_000_000)),
                (caps[1], &[1][..], Some(20_000_000_000))
            ],
            "{roles:#?}"
        );
        let inferences: Vec<(&str, &Role)> = roles
            .iter()
            .filter(|(_, _, r)| matches!(r, Role::Inference { .. }))
            .map(|(_, factory, role)| (*factory, *role))
            .collect();
        let inference = |stream: usize| Role::Inference {
            model: "det".into(),
            streams: vec![stream],
        };
        assert_eq!(
            inferences,
            [("vplinfer", &inference(0)), ("vplinfer", &inference(1))]
        );
        let outputs: Vec<(&str, Option<&str>)> = roles
            .iter()
            .filter(|(_, _, r)| matches!(r, Role::Sink { .. }))
            .map(|(_, factory, role)| (*factory, role.output()))
            .collect();
        assert_eq!(
            outputs,
            [
                ("filesink", Some("/o/cam_0.mp4")),
                ("filesink", Some("/o/cam_1.mp4"))
            ]
        );
        // Every queue names the stage it feeds: inference, or the overlay after it.
        let queues: Vec<&Reader> = roles
            .iter()
            .filter_map(|(_, factory, role)| match role {
                Role::Queue { into, .. } => {
                    assert_eq!(*factory, "queue");
                    Some(into)
                }
                _ => None,
            })
            .collect();
        assert!(!queues.is_empty(), "{roles:#?}");
        assert!(
            queues.iter().all(|q| matches!(q,
                Reader::Infer { model } if model == "det")
                || matches!(q, Reader::Stage(_) | Reader::Sink(SinkKind::Video { .. }))),
            "{queues:?}"
        );
        // Nothing else has a role.
        assert_eq!(
            roles.len(),
            progress.len() + inferences.len() + outputs.len() + queues.len()
        );
    }
}
