//! Optimised pipeline graph → plan: plain data naming GStreamer elements, their properties
//! and links. No GStreamer types here; the runtime builds the pipeline from it. Also renders
//! the plan as a gst-launch-1.0 description and as a Graphviz graph.

mod codecs;
mod dot;
mod inference;
mod launch;
mod pools;
mod roles;
mod sinks;
mod sources;

use std::collections::HashMap;
use std::fmt::Write;

pub use inference::{
    Activation, CropSpec, DType, Decoder, InferenceSpec, Layout, MaskFormat, PixelOrder,
    PreprocessSpec, Resize, Skeleton,
};

use crate::check::{Format, Ty};
use crate::ir::{Graph, NodeId, NodeKind};
use crate::media;
use crate::syntax::Span;
use crate::target::Target;

pub use pools::{PoolPlan, PoolType, SlotPlan, Template};
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
    /// The pipeline's pools, each lowered to its slots (empty without `pool`).
    pub pools: Vec<PoolPlan>,
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
    pools::fill(g, &mut l.plan);
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
            } => self.scale(id, (*width, *height), *letterbox),
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
                let props = inference::props(infer);
                self.in_formats(id, INFER_FORMATS, |l| l.element(id, "", "vplinfer", props))
            }
            NodeKind::Track {
                kind,
                max_age,
                iou,
                byte,
            } => {
                let mut props = vec![
                    ("kind", Prop::Str(kind.clone())),
                    ("max-age", Prop::UInt(*max_age as u64)),
                ];
                match byte {
                    None => props.push(("iou", Prop::Float(*iou))),
                    Some(b) => props.extend([
                        ("high", Prop::Float(b.high)),
                        ("low", Prop::Float(b.low)),
                        ("new-track", Prop::Float(b.new_track)),
                        ("match", Prop::Float(b.matching)),
                    ]),
                }
                let name = self.element(id, "", "vpltrack", props);
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
            } => self.tile(id, &node.inputs, (*cols, *rows), (*width, *height)),
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

    /// `videoscale` to `size`; with `letterbox`, the picture keeps its aspect and the rest
    /// is filled with borders.
    fn scale(&mut self, id: NodeId, (width, height): (u32, u32), letterbox: bool) -> Ends {
        let caps = if letterbox {
            format!(
                "{},pixel-aspect-ratio=1/1",
                video_caps(None, Some((width, height)), None)
            )
        } else {
            video_caps(None, Some((width, height)), None)
        };
        let names = vec![
            self.element(
                id,
                "",
                "videoscale",
                vec![("add-borders", Prop::Bool(letterbox))],
            ),
            self.element(id, "caps", "capsfilter", vec![("caps", Prop::Caps(caps))]),
        ];
        self.ends_of(names)
    }

    /// A compositor whose request pads each place one input in its cell of the grid.
    fn tile(
        &mut self,
        id: NodeId,
        inputs: &[NodeId],
        (cols, rows): (i64, i64),
        (width, height): (u32, u32),
    ) -> Ends {
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
                Prop::Caps(video_caps(Some("i420"), Some((width, height)), None)),
            )],
        );
        self.link(&comp, &caps, false);
        let (cw, ch) = (width as i64 / cols.max(1), height as i64 / rows.max(1));
        for (i, input) in inputs.iter().enumerate() {
            let Some(ends) = self.ends.get(input).cloned() else {
                continue;
            };
            let (col, row) = (i as i64 % cols.max(1), i as i64 / cols.max(1));
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
        // The inputs are linked here: the compositor is no chain's first element.
        Ends {
            first: None,
            last: caps,
            dynamic: false,
        }
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
}
