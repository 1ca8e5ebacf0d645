//! Optimised pipeline graph → plan: plain data naming GStreamer elements, their properties
//! and links. No GStreamer types here; the runtime builds the pipeline from it. Also renders
//! the plan as a gst-launch-1.0 description and as a Graphviz graph.

use std::collections::HashMap;
use std::fmt::Write;

use crate::check::model::{Layout, PixelOrder, Resize};
use crate::check::{Format, Ty};
use crate::ir::{Decoder, Graph, InferNode, NodeId, NodeKind, SinkKind, SourceKind};
use crate::media;
use crate::syntax::Span;
use crate::target::{CUDA_DOWNLOAD, Target};

mod roles;
pub use roles::{Reader, Role};

#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Str(String),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    /// A GStreamer enum, by its nick.
    Enum(String),
    /// Caps, as text.
    Caps(String),
}

impl Prop {
    fn launch_text(&self) -> String {
        match self {
            Prop::Str(s) | Prop::Caps(s) => {
                if s.is_empty() || s.contains([' ', ',', '!', '"', '\n', '=', ';']) {
                    format!(
                        "\"{}\"",
                        s.replace('\\', "\\\\")
                            .replace('"', "\\\"")
                            .replace('\n', "\\n")
                    )
                } else {
                    s.clone()
                }
            }
            Prop::Int(i) => i.to_string(),
            Prop::UInt(u) => u.to_string(),
            Prop::Float(f) => format!("{f}"),
            Prop::Bool(b) => b.to_string(),
            Prop::Enum(e) => e.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Unique in the plan; named after the IR node that made it (`n3_decode`).
    pub name: String,
    pub factory: String,
    pub props: Vec<(String, Prop)>,
    /// Properties of the request pad this element's input is linked to on the next
    /// element (a compositor's `xpos`, ...), set by the runtime after linking.
    pub pad_props: Vec<(String, Prop)>,
    pub node: NodeId,
    /// The `.vpl` span of the stage that made the element, for run-time diagnostics.
    pub span: Span,
    /// What the element is to the command line that runs the plan, where it matters.
    pub role: Option<Role>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub from: String,
    pub to: String,
    /// The source pad appears at run time (demuxers, decodebin, rtspsrc).
    pub dynamic: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub pipeline: String,
    pub elements: Vec<Element>,
    pub links: Vec<Link>,
}

/// Where a node's chain of elements starts and ends.
#[derive(Debug, Clone)]
struct Ends {
    first: Option<String>,
    last: String,
    /// The last element's output pad appears at run time.
    dynamic: bool,
}

/// Lowers for the CPU (`--backend cpu`).
pub fn lower(g: &Graph) -> Plan {
    lower_for(g, &Target::cpu()).plan
}

/// A plan, and what lowering for its target decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lowered {
    pub plan: Plan,
    /// Lines for the pass log (`vplc build --emit plan`): which element each GPU-capable
    /// stage got and why. Empty for the CPU.
    pub log: Vec<String>,
    /// Why streams a GPU target was asked to decode are decoded on the CPU, one reason a
    /// line, for the one warning the command line prints.
    pub cpu_decoding: Vec<String>,
}

/// Lowers for `target`: with a GPU, `decode` becomes NVDEC's decoder and `encode` NVENC's
/// encoder where the machine has them, the CPU's otherwise.
pub fn lower_for(g: &Graph, target: &Target) -> Lowered {
    let mut l = Lowerer {
        g,
        target,
        plan: Plan {
            pipeline: g.pipeline.clone(),
            ..Plan::default()
        },
        ends: HashMap::new(),
        log: Vec::new(),
        cpu_decoding: Vec::new(),
    };
    for id in g.topological().unwrap_or_default() {
        l.node(id);
    }
    l.cpu_decoding.dedup();
    roles::assign(g, &l.ends, &mut l.plan);
    Lowered {
        plan: l.plan,
        log: l.log,
        cpu_decoding: l.cpu_decoding,
    }
}

struct Lowerer<'g> {
    g: &'g Graph,
    target: &'g Target,
    plan: Plan,
    ends: HashMap<NodeId, Ends>,
    log: Vec<String>,
    cpu_decoding: Vec<String>,
}

fn video_caps(format: Option<&str>, size: Option<(u32, u32)>, rate: Option<(u64, u64)>) -> String {
    let mut caps = String::from("video/x-raw");
    if let Some(f) = format {
        let _ = write!(caps, ",format={}", media::raw_caps_name(f));
    }
    if let Some((w, h)) = size {
        let _ = write!(caps, ",width={w},height={h}");
    }
    if let Some((n, d)) = rate {
        let _ = write!(caps, ",framerate={n}/{d}");
    }
    caps
}

/// Demuxer for a probed container.
fn demuxer(container: &str) -> Option<&'static str> {
    media::container_named(container).map(|c| c.demuxer)
}

/// Parser and decoder for a codec; `None` means decodebin must find them.
fn decoder_chain(codec: &str) -> Option<Vec<&'static str>> {
    let c = media::codec_named(codec)?;
    let decoder = c.decoder?;
    Some(c.parser.into_iter().chain([decoder]).collect())
}

/// Parser a stream needs before a muxer.
fn parser(codec: &str) -> Option<&'static str> {
    media::codec_named(codec).and_then(|c| c.parser)
}

/// The raw formats `vploverlay` and `vplinfer` take (their pad templates).
const OVERLAY_FORMATS: &[&str] = &["i420", "nv12"];
const INFER_FORMATS: &[&str] = &["i420", "nv12", "rgb", "bgr", "rgbx", "bgrx", "gray8"];

fn format_of(ty: &Ty) -> Option<&Format> {
    match ty {
        Ty::Video(v) => Some(&v.format),
        _ => None,
    }
}

impl Lowerer<'_> {
    fn element(
        &mut self,
        id: NodeId,
        suffix: &str,
        factory: &str,
        props: Vec<(&str, Prop)>,
    ) -> String {
        let kind = self.g.node(id).kind.name();
        let name = if suffix.is_empty() {
            format!("n{}_{kind}", id.0)
        } else {
            format!("n{}_{kind}_{suffix}", id.0)
        };
        self.plan.elements.push(Element {
            name: name.clone(),
            factory: factory.to_string(),
            props: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            pad_props: Vec::new(),
            node: id,
            span: self.g.spans[id.0 as usize],
            role: None,
        });
        name
    }

    fn link(&mut self, from: &str, to: &str, dynamic: bool) {
        self.plan.links.push(Link {
            from: from.to_string(),
            to: to.to_string(),
            dynamic,
        });
    }

    /// Links elements in a chain; returns the first and last names.
    fn chain(&mut self, names: Vec<String>) -> (String, String) {
        for pair in names.windows(2) {
            self.link(&pair[0], &pair[1], false);
        }
        (names[0].clone(), names[names.len() - 1].clone())
    }

    fn input_ty(&self, id: NodeId) -> Ty {
        self.g
            .node(id)
            .inputs
            .first()
            .map_or(Ty::Error, |i| self.g.node(*i).ty.clone())
    }

    fn node(&mut self, id: NodeId) {
        let node = self.g.node(id).clone();
        let ends = match &node.kind {
            NodeKind::Source(source) => self.source(id, source, &node.ty),
            NodeKind::Decode => {
                let codec =
                    format_of(&self.input_ty(id)).and_then(|f| f.codec().map(str::to_string));
                if let Some(decoder) = self.gpu_decoder(id, codec.as_deref()) {
                    self.gpu_decode(id, decoder)
                } else {
                    self.cpu_decode(id, codec.as_deref())
                }
            }
            NodeKind::Encode { codec, bitrate } => self.encode(id, codec, *bitrate),
            NodeKind::Convert { format } => {
                let names = vec![
                    self.element(id, "", "videoconvert", vec![]),
                    self.element(
                        id,
                        "caps",
                        "capsfilter",
                        vec![("caps", Prop::Caps(video_caps(Some(format), None, None)))],
                    ),
                ];
                self.ends_of(names)
            }
            NodeKind::Scale {
                width,
                height,
                letterbox,
            } => {
                let caps = if *letterbox {
                    format!(
                        "{},pixel-aspect-ratio=1/1",
                        video_caps(None, Some((*width, *height)), None)
                    )
                } else {
                    video_caps(None, Some((*width, *height)), None)
                };
                let names = vec![
                    self.element(
                        id,
                        "",
                        "videoscale",
                        vec![("add-borders", Prop::Bool(*letterbox))],
                    ),
                    self.element(id, "caps", "capsfilter", vec![("caps", Prop::Caps(caps))]),
                ];
                self.ends_of(names)
            }
            NodeKind::Rate { num, den } => {
                let names = vec![
                    self.element(id, "", "videorate", vec![]),
                    self.element(
                        id,
                        "caps",
                        "capsfilter",
                        vec![(
                            "caps",
                            Prop::Caps(video_caps(None, None, Some((*num, *den)))),
                        )],
                    ),
                ];
                self.ends_of(names)
            }
            NodeKind::Infer(infer) => {
                let props = infer_props(infer);
                self.in_formats(id, INFER_FORMATS, |l| l.element(id, "", "vplinfer", props))
            }
            NodeKind::Track { kind, max_age, iou } => {
                let name = self.element(
                    id,
                    "",
                    "vpltrack",
                    vec![
                        ("kind", Prop::Str(kind.clone())),
                        ("max-age", Prop::UInt(*max_age as u64)),
                        ("iou", Prop::Float(*iou)),
                    ],
                );
                self.ends_of(vec![name])
            }
            NodeKind::Filter {
                classes,
                min_confidence,
            } => {
                let name = self.element(
                    id,
                    "",
                    "vplfilter",
                    vec![
                        ("classes", Prop::Str(classes.join("\n"))),
                        ("min-confidence", Prop::Float(*min_confidence)),
                    ],
                );
                self.ends_of(vec![name])
            }
            NodeKind::Overlay { labels, tracks } => {
                let props = vec![
                    ("labels", Prop::Bool(*labels)),
                    ("tracks", Prop::Bool(*tracks)),
                ];
                self.in_formats(id, OVERLAY_FORMATS, |l| {
                    l.element(id, "", "vploverlay", props)
                })
            }
            NodeKind::Tile {
                cols,
                rows,
                width,
                height,
            } => {
                let comp = self.element(
                    id,
                    "",
                    "compositor",
                    vec![("background", Prop::Enum("black".into()))],
                );
                let caps = self.element(
                    id,
                    "caps",
                    "capsfilter",
                    vec![(
                        "caps",
                        Prop::Caps(video_caps(Some("i420"), Some((*width, *height)), None)),
                    )],
                );
                self.link(&comp, &caps, false);
                let (cw, ch) = (*width as i64 / cols.max(&1), *height as i64 / rows.max(&1));
                for (i, input) in node.inputs.iter().enumerate() {
                    let Some(ends) = self.ends.get(input).cloned() else {
                        continue;
                    };
                    let (col, row) = (i as i64 % cols.max(&1), i as i64 / cols.max(&1));
                    let pads = vec![
                        ("xpos".to_string(), Prop::Int(col * cw)),
                        ("ypos".to_string(), Prop::Int(row * ch)),
                        ("width".to_string(), Prop::Int(cw)),
                        ("height".to_string(), Prop::Int(ch)),
                    ];
                    if let Some(e) = self.plan.elements.iter_mut().find(|e| e.name == ends.last) {
                        e.pad_props = pads;
                    }
                    self.link(&ends.last, &comp, ends.dynamic);
                }
                self.ends.insert(
                    id,
                    Ends {
                        first: None,
                        last: caps,
                        dynamic: false,
                    },
                );
                return;
            }
            NodeKind::Analyze(config) => {
                let config = serde_json::to_string(config).unwrap_or_default();
                let name = self.element(id, "", "vplanalyze", vec![("config", Prop::Str(config))]);
                self.ends_of(vec![name])
            }
            NodeKind::Events(config) => {
                let config = serde_json::to_string(config).unwrap_or_default();
                let name = self.element(id, "", "vplevents", vec![("config", Prop::Str(config))]);
                self.ends_of(vec![name])
            }
            NodeKind::Json => {
                // Records are made by the sink from the metadata: no element.
                if let Some(input) = node.inputs.first().and_then(|i| self.ends.get(i).cloned()) {
                    self.ends.insert(
                        id,
                        Ends {
                            first: None,
                            ..input
                        },
                    );
                }
                return;
            }
            NodeKind::Tee => {
                let name = self.element(id, "", "tee", vec![]);
                self.ends_of(vec![name])
            }
            NodeKind::Queue { max_buffers, .. } => {
                let name = self.element(
                    id,
                    "",
                    "queue",
                    vec![
                        ("max-size-buffers", Prop::UInt(*max_buffers as u64)),
                        ("max-size-bytes", Prop::UInt(0)),
                        ("max-size-time", Prop::UInt(0)),
                    ],
                );
                self.ends_of(vec![name])
            }
            NodeKind::Sink(sink) => self.sink(id, sink),
        };
        if let (Some(first), Some(input)) = (&ends.first, node.inputs.first())
            && let Some(from) = self.ends.get(input).cloned()
        {
            self.link(&from.last, first, from.dynamic);
        }
        self.ends.insert(id, ends);
    }

    /// NVDEC's decoder for a stream of `codec`, where the target lowers for a GPU and has
    /// it (and `cudadownload`); otherwise `None`, with the reason in the pass log and, for
    /// the one warning, in `cpu_decoding`.
    fn gpu_decoder(&mut self, id: NodeId, codec: Option<&str>) -> Option<&'static str> {
        if !self.target.gpu {
            return None;
        }
        let n = id.0;
        let Some(codec) = codec.and_then(media::codec_named) else {
            self.log.push(format!(
                "gpu-decode: n{n} on the CPU (decodebin): the stream's codec is known only when it runs"
            ));
            return None;
        };
        let name = codec.name;
        let cpu = codec.decoder.unwrap_or("decodebin");
        let Some(decoder) = codec.gpu_decoder else {
            self.log.push(format!(
                "gpu-decode: n{n} {name} on the CPU ({cpu}): NVDEC does not decode {name}"
            ));
            self.cpu_decoding
                .push(format!("NVDEC does not decode {name}"));
            return None;
        };
        let missing: Vec<&str> = [decoder, CUDA_DOWNLOAD]
            .into_iter()
            .filter(|f| !self.target.has(f))
            .collect();
        if !missing.is_empty() {
            let what = missing.join(" and ");
            self.log.push(format!(
                "gpu-decode: n{n} {name} on the CPU ({cpu}): GStreamer has no {what} here"
            ));
            self.cpu_decoding.push(format!(
                "GStreamer has no {what} (the nvcodec plugin is missing, or found no GPU that decodes {name})"
            ));
            return None;
        }
        Some(decoder)
    }

    /// `parser ! nvXdec ! cudadownload ! videoconvert ! video/x-raw,format=NV12`: the frame
    /// crosses to the host once, as NV12 (1.5 bytes a pixel), for inference. Where something
    /// other than inference reads it, it is converted to the I420 the stream was checked as.
    fn gpu_decode(&mut self, id: NodeId, decoder: &'static str) -> Ends {
        let codec = format_of(&self.input_ty(id))
            .and_then(|f| f.codec())
            .and_then(media::codec_named);
        let mut names = Vec::new();
        if let Some(p) = codec.and_then(|c| c.parser) {
            names.push(self.element(id, "parse", p, vec![]));
        }
        names.push(self.element(id, "", decoder, vec![]));
        names.push(self.element(id, "download", CUDA_DOWNLOAD, vec![]));
        let for_inference = self.only_inference_reads(id);
        // NVDEC gives NV12 for 8-bit streams, so this converter passes frames through
        // untouched; it converts only what a decoder gives otherwise (10-bit P010, JPEG's
        // 4:2:2) and, where other stages read the frames, to the I420 they were checked as.
        names.push(self.element(id, "convert", "videoconvert", vec![]));
        let format = if for_inference { "nv12" } else { "i420" };
        names.push(self.element(
            id,
            "caps",
            "capsfilter",
            vec![("caps", Prop::Caps(video_caps(Some(format), None, None)))],
        ));
        let name = codec.map_or("", |c| c.name);
        self.log.push(format!(
            "gpu-decode: n{} {name} with {decoder} ! {CUDA_DOWNLOAD} (frames to the host once as NV12, 1.5 bytes a pixel{})",
            id.0,
            if for_inference {
                "; inference reads NV12"
            } else {
                "; converted to I420 for the stages that read it"
            }
        ));
        self.ends_of(names)
    }

    /// A parser and the CPU decoder of `media`'s table, or decodebin, then I420.
    fn cpu_decode(&mut self, id: NodeId, codec: Option<&str>) -> Ends {
        let mut names = Vec::new();
        let chain = codec.and_then(decoder_chain);
        match &chain {
            Some(chain) => {
                for (i, factory) in chain.iter().enumerate() {
                    let suffix = if i + 1 == chain.len() { "" } else { "parse" };
                    names.push(self.element(id, suffix, factory, vec![]));
                }
            }
            None => names.push(self.element(id, "", "decodebin", vec![])),
        }
        // Decoders may output another layout than I420; converting is free when not.
        names.push(self.element(id, "convert", "videoconvert", vec![]));
        names.push(self.element(
            id,
            "caps",
            "capsfilter",
            vec![("caps", Prop::Caps(video_caps(Some("i420"), None, None)))],
        ));
        let (first, last) = self.chain_with_dynamic(names, chain.is_none());
        Ends {
            first: Some(first),
            last,
            dynamic: false,
        }
    }

    /// Whether every stage reading the frames of `id` (through tees and queues) is `infer`,
    /// which takes NV12 as it is.
    fn only_inference_reads(&self, id: NodeId) -> bool {
        let consumers = self.g.consumers(id);
        !consumers.is_empty()
            && consumers.into_iter().all(|c| match &self.g.node(c).kind {
                NodeKind::Infer(_) => true,
                NodeKind::Tee | NodeKind::Queue { .. } => self.only_inference_reads(c),
                _ => false,
            })
    }

    /// NVENC's encoder where the target lowers for a GPU and has it, with its rate control;
    /// `None` for the CPU's, with the reason in the pass log.
    fn gpu_encoder(&mut self, id: NodeId, codec: &str, kbps: u64) -> Option<Encoder> {
        if !self.target.gpu {
            return None;
        }
        let cpu = media::codec_named(codec)
            .and_then(|c| c.encoder)
            .unwrap_or("jpegenc");
        let n = id.0;
        let Some(nvenc) = media::codec_named(codec).and_then(|c| c.gpu_encoder) else {
            self.log.push(format!(
                "gpu-encode: n{n} {codec} on the CPU ({cpu}): NVENC does not encode {codec}"
            ));
            return None;
        };
        if !self.target.has(nvenc) {
            self.log.push(format!(
                "gpu-encode: n{n} {codec} on the CPU ({cpu}): GStreamer has no {nvenc} here (the GPU has no NVENC, as the H100 and H200, or nvcodec is missing)"
            ));
            return None;
        }
        self.log
            .push(format!("gpu-encode: n{n} {codec} with {nvenc} (NVENC)"));
        let mut props = vec![("bitrate", Prop::UInt(kbps))];
        if self.feeds_rtsp_out(id) {
            // nvh264enc makes no B-frames by default; `zerolatency` drops its look-ahead.
            props.push(("zerolatency", Prop::Bool(true)));
        }
        if let Some(frames) = self.key_frames_every(id) {
            props.push(("gop-size", Prop::Int(frames as i64)));
        }
        Some(Encoder {
            factory: nvenc,
            props,
        })
    }

    fn encode(&mut self, id: NodeId, codec: &str, bitrate: i64) -> Ends {
        let kbps = (bitrate / 1000).max(1) as u64;
        let mut names = vec![
            self.element(id, "convert", "videoconvert", vec![]),
            self.element(
                id,
                "caps",
                "capsfilter",
                vec![("caps", Prop::Caps(video_caps(Some("i420"), None, None)))],
            ),
        ];
        let encoder = match self.gpu_encoder(id, codec, kbps) {
            Some(nvenc) => nvenc,
            None => self.cpu_encoder(id, codec, bitrate),
        };
        names.push(self.element(id, "", encoder.factory, encoder.props));
        if let Some(p) = parser(codec) {
            names.push(self.element(id, "parse", p, vec![]));
        }
        self.ends_of(names)
    }

    /// The encoder of `media`'s table (a test keeps every codec `encode` offers there), with
    /// its rate control set as each one names it.
    fn cpu_encoder(&self, id: NodeId, codec: &str, bitrate: i64) -> Encoder {
        let kbps = (bitrate / 1000).max(1) as u64;
        let factory = media::codec_named(codec)
            .and_then(|c| c.encoder)
            .unwrap_or("jpegenc");
        let mut props = match codec {
            "h264" => vec![
                ("bitrate", Prop::UInt(kbps)),
                ("speed-preset", Prop::Enum("veryfast".into())),
            ],
            // x265enc's maximum (stdlib/video.vpl documents the cap).
            "h265" => vec![
                ("bitrate", Prop::UInt(kbps.min(X265_MAX_KBPS))),
                ("speed-preset", Prop::Enum("veryfast".into())),
            ],
            "vp8" | "vp9" => vec![
                ("target-bitrate", Prop::Int(bitrate)),
                ("deadline", Prop::Int(1)),
            ],
            "av1" => vec![("target-bitrate", Prop::UInt(kbps))],
            _ => vec![],
        };
        if codec == "h264" && self.feeds_rtsp_out(id) {
            // No frame reordering or look-ahead for RTSP clients.
            props.push(("tune", Prop::Enum("zerolatency".into())));
        }
        if codec == "h264"
            && let Some(frames) = self.key_frames_every(id)
        {
            props.push(("key-int-max", Prop::UInt(frames)));
        }
        Encoder { factory, props }
    }

    /// The most frames between two key frames the encoder of `id` may make, where a sink
    /// it feeds needs them often; the smallest any of its sinks needs: `rtsp_out` one at
    /// least every 2 s, so that a client that connects, or reconnects, soon has a picture;
    /// `record` one a second, so a clip's pre-roll begins within a second of `before`
    /// (x264's default is one in 250 frames, NVENC's one in 75). `None`: the encoder's own.
    fn key_frames_every(&self, id: NodeId) -> Option<u64> {
        let two_seconds = key_interval(&self.g.node(id).ty);
        let rtsp = self.feeds_rtsp_out(id).then_some(two_seconds);
        let record = self
            .feeds(id, &|k| matches!(k, SinkKind::Record { .. }))
            .then_some(two_seconds.div_ceil(2));
        rtsp.into_iter().chain(record).min()
    }

    /// Whether the stream of `id` is served by `rtsp_out` (directly, or through tees and
    /// queues).
    fn feeds_rtsp_out(&self, id: NodeId) -> bool {
        self.feeds(id, &|k| matches!(k, SinkKind::RtspOut { .. }))
    }

    /// Whether `id`'s output reaches a sink `is` accepts, through tees and queues only.
    fn feeds(&self, id: NodeId, is: &dyn Fn(&SinkKind) -> bool) -> bool {
        self.g
            .consumers(id)
            .into_iter()
            .any(|c| match &self.g.node(c).kind {
                NodeKind::Sink(k) => is(k),
                NodeKind::Tee | NodeKind::Queue { .. } => self.feeds(c, is),
                _ => false,
            })
    }

    /// Whether the stream into `id` comes from an `rtsp` source as received (through tees
    /// and queues only): the depayloader's output, which a muxer needs parsed.
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

    fn received_from_rtsp(&self, id: NodeId) -> bool {
        self.g
            .node(id)
            .inputs
            .first()
            .is_some_and(|i| match &self.g.node(*i).kind {
                NodeKind::Source(SourceKind::Rtsp { .. }) => true,
                NodeKind::Tee | NodeKind::Queue { .. } => self.received_from_rtsp(*i),
                _ => false,
            })
    }

    /// The element `make` gives, for a stage whose element takes only the raw formats
    /// `accepts`: fed another checked format, it is wrapped as `videoconvert ! ELEMENT !
    /// videoconvert ! capsfilter`, so it gets a format it takes and the stream leaves in
    /// the format that was checked (`convert(bgra) | overlay` runs).
    fn in_formats(
        &mut self,
        id: NodeId,
        accepts: &[&str],
        make: impl FnOnce(&mut Self) -> String,
    ) -> Ends {
        let format = match format_of(&self.input_ty(id)) {
            Some(Format::Raw(f)) if !accepts.contains(&f.as_str()) => f.clone(),
            // Raw, but which format only the device knows (a camera): convert on the way
            // in (a pass-through where the format is already one the element takes); what
            // leaves is of an unknown raw format, as the checker typed it.
            Some(Format::AnyRaw | Format::Unknown) => {
                let names = vec![self.element(id, "in", "videoconvert", vec![]), make(self)];
                return self.ends_of(names);
            }
            _ => {
                let name = make(self);
                return self.ends_of(vec![name]);
            }
        };
        let names = vec![
            self.element(id, "in", "videoconvert", vec![]),
            make(self),
            self.element(id, "out", "videoconvert", vec![]),
            self.element(
                id,
                "out_caps",
                "capsfilter",
                vec![("caps", Prop::Caps(video_caps(Some(&format), None, None)))],
            ),
        ];
        self.ends_of(names)
    }

    fn ends_of(&mut self, names: Vec<String>) -> Ends {
        let (first, last) = self.chain(names);
        Ends {
            first: Some(first),
            last,
            dynamic: false,
        }
    }

    /// A chain whose first element (decodebin) has a dynamic output pad.
    fn chain_with_dynamic(&mut self, names: Vec<String>, first_dynamic: bool) -> (String, String) {
        for (i, pair) in names.windows(2).enumerate() {
            self.link(&pair[0], &pair[1], first_dynamic && i == 0);
        }
        (names[0].clone(), names[names.len() - 1].clone())
    }

    fn source(&mut self, id: NodeId, source: &SourceKind, ty: &Ty) -> Ends {
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
                let src = self.element(
                    id,
                    "",
                    "filesrc",
                    vec![("location", Prop::Str(path.clone()))],
                );
                let container = media
                    .as_ref()
                    .and_then(|m| m.container.clone())
                    .unwrap_or_default();
                // An elementary stream (`.h264`, `.265`) has no container: its parser
                // frames it for the decoder or a muxer.
                let elementary = media.as_ref().is_some_and(|m| m.container.is_none());
                if let (true, Some(factory)) = (elementary, format.codec().and_then(parser)) {
                    let parse = self.element(id, "parse", factory, vec![]);
                    self.link(&src, &parse, false);
                    if format.codec() != Some("h264") {
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

    /// Sinks that write files or drop frames do not wait for preroll (`async=false`): with
    /// a tee, a sink waiting in preroll would block the branch an encoder needs frames from.
    fn sink(&mut self, id: NodeId, sink: &SinkKind) -> Ends {
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
                ..
            } => vec![self.element(
                id,
                "",
                "vplrecords",
                vec![
                    ("location", Prop::Str(url.clone())),
                    ("topic", Prop::Str(topic.clone())),
                    ("buffer", Prop::UInt(*buffer)),
                    ("pipeline", Prop::Str(self.g.pipeline.clone())),
                    ("source", Prop::Str(source.clone())),
                    ("stream", Prop::UInt(*stream as u64)),
                    ("async", Prop::Bool(false)),
                ],
            )],
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
}

/// An encoder element and its properties.
struct Encoder {
    factory: &'static str,
    props: Vec<(&'static str, Prop)>,
}

/// The frames between key frames for a stream served over RTSP: one at least every 2 s, so
/// that a client that connects, or reconnects, soon has a picture.
fn key_interval(ty: &Ty) -> u64 {
    let rate = match ty {
        Ty::Video(v) => v.rate,
        _ => None,
    };
    rate.map_or(60, |(num, den)| (2 * num).div_ceil(den.max(1)).max(1))
}

/// The highest bitrate x265enc accepts, in kbit/s.
const X265_MAX_KBPS: u64 = 102_400;

/// What every box decoder is told: its name, the confidence threshold, the IoU of its
/// non-maximum suppression (none for decoders without it) and the most detections a frame.
fn box_decoder(
    props: &mut Vec<(&'static str, Prop)>,
    name: &str,
    confidence: f64,
    iou: Option<f64>,
    max: i64,
) {
    props.push(("decoder", Prop::Str(name.into())));
    props.push(("confidence", Prop::Float(confidence)));
    if let Some(iou) = iou {
        props.push(("iou", Prop::Float(iou)));
    }
    props.push(("max-detections", Prop::UInt(max as u64)));
}

fn infer_props(i: &InferNode) -> Vec<(&'static str, Prop)> {
    let p = &i.preprocess;
    let (w, h) = p.size.unwrap_or((0, 0));
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut props = vec![
        ("model", Prop::Str(i.model_path.clone())),
        ("group", Prop::Str(i.group.clone())),
        ("stream", Prop::UInt(i.stream as u64)),
        ("batch-size", Prop::UInt(i.batch as u64)),
        ("batch-timeout", Prop::UInt(i.timeout_ns.max(0) as u64)),
        ("every", Prop::UInt(i.every as u64)),
        ("input-width", Prop::UInt(w as u64)),
        ("input-height", Prop::UInt(h as u64)),
        (
            "layout",
            Prop::Str(
                match p.layout {
                    Layout::Nchw => "nchw",
                    Layout::Nhwc => "nhwc",
                }
                .into(),
            ),
        ),
        (
            "order",
            Prop::Str(
                match p.order {
                    PixelOrder::Rgb => "rgb",
                    PixelOrder::Bgr => "bgr",
                    PixelOrder::Gray => "gray",
                    PixelOrder::Rgbx => "rgbx",
                    PixelOrder::Bgrx => "bgrx",
                }
                .into(),
            ),
        ),
        (
            "resize",
            Prop::Str(
                match p.resize {
                    Resize::Letterbox => "letterbox",
                    Resize::Stretch => "stretch",
                    Resize::FixedHeight => "fixed_height",
                }
                .into(),
            ),
        ),
        ("dtype", Prop::Str(p.dtype.name())),
        ("scale", Prop::Float(p.scale)),
        ("mean", Prop::Str(list(&p.mean))),
        ("std", Prop::Str(list(&p.std))),
        ("labels", Prop::Str(i.labels.join("\n"))),
        ("model-name", Prop::Str(i.model_name.clone())),
        ("output", Prop::Str(i.output.clone())),
    ];
    // Crop mode: the model runs on the crops of the upstream objects with these labels.
    if !i.on.is_empty() {
        let (w, h) = i.min_size.unwrap_or((0, 0));
        props.push(("on-labels", Prop::Str(i.on.join("\n"))));
        props.push(("min-width", Prop::UInt(w as u64)));
        props.push(("min-height", Prop::UInt(h as u64)));
    }
    match &i.decoder {
        Decoder::Yolov8 {
            confidence,
            iou,
            max,
        } => {
            box_decoder(&mut props, "yolov8", *confidence, Some(*iou), *max);
        }
        Decoder::Yolov5 {
            confidence,
            iou,
            max,
            strides,
        } => {
            box_decoder(&mut props, "yolov5", *confidence, Some(*iou), *max);
            if !strides.is_empty() {
                props.push(("grid-strides", Prop::Str(join(strides))));
            }
        }
        Decoder::Detr {
            confidence,
            max,
            activation,
            boxes,
        } => {
            box_decoder(&mut props, "detr", *confidence, None, *max);
            props.push(("activation", Prop::Str(activation.clone())));
            props.push(("boxes-output", Prop::Str(boxes.clone())));
        }
        Decoder::Ssd {
            confidence,
            iou,
            max,
            activation,
            boxes,
            anchors,
            strides,
            per_cell,
        } => {
            box_decoder(&mut props, "ssd", *confidence, Some(*iou), *max);
            props.push(("activation", Prop::Str(activation.clone())));
            props.push(("boxes-output", Prop::Str(boxes.clone())));
            if anchors.is_empty() {
                props.push(("anchor-strides", Prop::Str(join(strides))));
                props.push(("anchor-per-cell", Prop::Str(join(per_cell))));
            } else {
                let lines: Vec<String> = anchors
                    .iter()
                    .map(|a| a.map(|v| v.to_string()).join(" "))
                    .collect();
                props.push(("anchors", Prop::Str(lines.join("\n"))));
            }
        }
        Decoder::Classify { top } => {
            props.push(("decoder", Prop::Str("classify".into())));
            props.push(("top", Prop::UInt(*top as u64)));
        }
        Decoder::TextBoxes {
            thresh,
            box_thresh,
            unclip_ratio,
            max,
        } => {
            props.push(("decoder", Prop::Str("text_boxes".into())));
            props.push(("thresh", Prop::Float(*thresh)));
            props.push(("box-thresh", Prop::Float(*box_thresh)));
            props.push(("unclip-ratio", Prop::Float(*unclip_ratio)));
            props.push(("max-detections", Prop::UInt(*max as u64)));
        }
        Decoder::Ctc {
            alphabet,
            blank_last,
        } => {
            props.push(("decoder", Prop::Str("ctc".into())));
            props.push(("alphabet", Prop::Str(alphabet.clone())));
            if *blank_last {
                props.push(("blank", Prop::Str("last".into())));
            }
        }
        Decoder::Raw => props.push(("decoder", Prop::Str("raw".into()))),
        Decoder::Yolov8Seg {
            confidence,
            iou,
            max,
            protos,
            masks,
        } => {
            box_decoder(&mut props, "yolov8_seg", *confidence, Some(*iou), *max);
            props.push(("protos", Prop::Str(protos.clone())));
            props.push(("masks", Prop::Str(masks.clone())));
        }
        Decoder::Yolov8Pose {
            confidence,
            iou,
            max,
            skeleton,
        } => {
            box_decoder(&mut props, "yolov8_pose", *confidence, Some(*iou), *max);
            props.push(("skeleton", Prop::Str(skeleton.clone())));
        }
        Decoder::Semantic { masks, min_area } => {
            props.push(("decoder", Prop::Str("semantic".into())));
            props.push(("masks", Prop::Str(masks.clone())));
            props.push(("min-area", Prop::UInt(*min_area as u64)));
        }
    }
    if !i.batch_axes.is_empty() {
        let lines: Vec<String> = i
            .batch_axes
            .iter()
            .map(|(name, axis)| format!("{name}={axis}"))
            .collect();
        props.push(("batch-axes", Prop::Str(lines.join("\n"))));
    }
    props
}

impl Plan {
    /// A gst-launch-1.0 description of the plan. vpl's own elements (`vplinfer`, ...) are
    /// registered inside `vplc`, so only `vplc run` can run a description that uses them.
    pub fn launch_text(&self) -> String {
        let outs = |name: &str| self.links.iter().filter(|l| l.from == name).count();
        let ins = |name: &str| self.links.iter().filter(|l| l.to == name).count();
        let by_name: HashMap<&str, &Element> =
            self.elements.iter().map(|e| (e.name.as_str(), e)).collect();
        // Request pads are named in the order their links are made (`sink_0`, `sink_1`,
        // ...), as the runtime links them: a link whose source carries pad properties (a
        // compositor's cell) names its pad, and the target sets them as `sink_N::key=value`.
        let request_pad = |l: &Link| -> Option<String> {
            let from = by_name.get(l.from.as_str())?;
            if from.pad_props.is_empty() {
                return None;
            }
            let index = self
                .links
                .iter()
                .filter(|o| o.to == l.to)
                .position(|o| std::ptr::eq(o, l))?;
            Some(format!("sink_{index}"))
        };
        let describe = |e: &Element| {
            let mut s = format!("{} name={}", e.factory, e.name);
            for (k, v) in &e.props {
                let _ = write!(s, " {k}={}", v.launch_text());
            }
            for l in self.links.iter().filter(|l| l.to == e.name) {
                let (Some(pad), Some(from)) = (request_pad(l), by_name.get(l.from.as_str())) else {
                    continue;
                };
                for (k, v) in &from.pad_props {
                    let _ = write!(s, " {pad}::{k}={}", v.launch_text());
                }
            }
            s
        };
        let mut segments = Vec::new();
        let mut printed = std::collections::HashSet::new();
        for e in &self.elements {
            let incoming: Vec<&Link> = self.links.iter().filter(|l| l.to == e.name).collect();
            let starts = incoming.is_empty()
                || incoming.len() > 1
                || incoming.iter().any(|l| outs(&l.from) > 1 || l.dynamic);
            if !starts || printed.contains(&e.name) {
                continue;
            }
            let mut seg = String::new();
            if incoming.len() == 1 {
                let _ = write!(seg, "{}. ! ", incoming[0].from);
            }
            let mut current: &Element = e;
            loop {
                printed.insert(current.name.clone());
                seg.push_str(&describe(current));
                let next: Vec<&Link> = self
                    .links
                    .iter()
                    .filter(|l| l.from == current.name)
                    .collect();
                if next.len() != 1 {
                    break;
                }
                let target = next[0].to.as_str();
                if ins(target) > 1 || next[0].dynamic {
                    if ins(target) > 1 {
                        let pad = request_pad(next[0]).unwrap_or_default();
                        let _ = write!(seg, " ! {target}.{pad}");
                    }
                    break;
                }
                match by_name.get(target) {
                    Some(t) => {
                        seg.push_str(" ! ");
                        current = t;
                    }
                    None => break,
                }
            }
            segments.push(seg);
        }
        segments.join("  ")
    }

    /// The plan as a Graphviz graph.
    pub fn dot(&self) -> String {
        let mut out = format!(
            "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=monospace];\n",
            self.pipeline
        );
        for e in &self.elements {
            let _ = writeln!(
                out,
                "  \"{}\" [label=\"{}\\n{}\"];",
                e.name, e.factory, e.name
            );
        }
        for l in &self.links {
            let style = if l.dynamic { " [style=dashed]" } else { "" };
            let _ = writeln!(out, "  \"{}\" -> \"{}\"{style};", l.from, l.to);
        }
        out.push_str("}\n");
        out
    }
}

/// "8,16,32": a list of integers as a property value.
fn join(values: &[i64]) -> String {
    values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
