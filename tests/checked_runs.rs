//! "Checked means it runs", as a property: random programs built from the stdlib's own
//! declarations (every source, stage, sink and decoder, each parameter with values across its
//! declared range, the extremes included) on test pictures, the fixture media and the fixture
//! models. Every program that `vplc check` passes must end `vplc run --max-frames 3` with
//! exit 0; a hang (60 s) is a failure too.
//!
//! `VPL_GEN_CASES` (default 120) sets the number of programs, `VPL_GEN_SEED` (default fixed)
//! the seed; `VPL_GEN_KEEP=1` keeps every program under the temporary directory. The longer
//! run and its timing are in BENCHMARKS.md.
//!
//! What the stdlib does not say is written here, keyed by name: which inputs a stage takes
//! (`STAGES`), which streams a sink takes (`SINKS`), and where paths, models and labels come
//! from. A stage or parameter added to the stdlib is generated without editing this file (a
//! stage this file does not know is tried on raw video, and its arguments come from its
//! declaration).

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{asset, root, temp_dir};
use vpl_compiler::stdlib::{Builtin, ParamSpec, ParamType, stdlib};
use vpl_compiler::syntax::ast::Role;

const DEFAULT_CASES: usize = 120;
const DEFAULT_SEED: u64 = 0x5eed_7a1c;
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Known defects the generator avoids (each entry names its issue and goes with its fix).
/// None today: the ones found while this test was written are fixed.
const KNOWN_MAX: &[(&str, &str, f64)] = &[];
const KNOWN_MODELS: &[&str] = &[];
const KNOWN_DECODERS: &[&str] = &[];

/// The fixture models, and how many classes each outputs (what labels fit it).
const MODELS: &[(&str, usize)] = &[
    ("tests/fixtures/models/det_dynamic.onnx", 2),
    ("tests/fixtures/models/det_fixed1.onnx", 2),
    ("tests/fixtures/models/det_fixed4.onnx", 3),
    ("tests/fixtures/models/det_coco.onnx", 80),
    ("tests/fixtures/models/det_nhwc.onnx", 2),
    ("tests/fixtures/models/det_gray.onnx", 2),
    ("tests/fixtures/models/det_4ch.onnx", 2),
    ("tests/fixtures/models/det_rank3.onnx", 2),
    ("tests/fixtures/models/det_f16.onnx", 2),
    ("tests/fixtures/models/det_u8.onnx", 2),
    ("tests/fixtures/models/det_i64.onnx", 2),
    ("tests/fixtures/models/det_f64_out.onnx", 2),
    ("tests/fixtures/models/yolov5_like.onnx", 80),
    ("tests/fixtures/models/det_dynamic_hw.onnx", 2),
    ("tests/fixtures/models/cls_dynamic.onnx", 10),
    ("tests/fixtures/models/cls_fixed.onnx", 3),
    ("tests/fixtures/models/cls_4d.onnx", 5),
    ("tests/fixtures/models/two_inputs.onnx", 2),
    ("tests/fixtures/models/not_onnx.onnx", 2),
    ("assets/models/colour_classifier.onnx", 3),
    ("tests/fixtures/models/box_yolov5.onnx", 2),
    ("tests/fixtures/models/box_detr.onnx", 2),
    ("tests/fixtures/models/box_detr2.onnx", 3),
    ("tests/fixtures/models/seg_fixture.onnx", 2),
    ("tests/fixtures/models/pose_fixture.onnx", 1),
    ("tests/fixtures/models/sem_fixture.onnx", 3),
];

/// Label files and how many labels each holds.
const LABEL_FILES: &[(&str, usize)] = &[
    ("tests/fixtures/models/labels3.txt", 3),
    ("tests/fixtures/models/labels2_blank_lines.txt", 2),
    ("tests/fixtures/models/cls_dynamic.labels", 10),
    ("assets/models/colour_classifier.labels", 3),
];

const MEDIA: &[&str] = &[
    "tests/fixtures/media/h264_320x240_30fps.mkv",
    "tests/fixtures/media/h264_640x360_25fps.mp4",
    "tests/fixtures/media/mjpeg_320x240_15fps.avi",
    "tests/fixtures/media/mjpeg_odd_321x241_25fps.mkv",
    "tests/fixtures/media/raw_i420_160x120_10fps.mkv",
    "tests/fixtures/media/vp8_320x240_30fps.webm",
    "tests/fixtures/media/audio_only.ogg",
    "tests/fixtures/media/not_media.mp4",
];

/// Sources that need the world outside (a camera, a server, streams added through the
/// control API) are not generated; `tests/live.rs` runs pools.
const WORLD_SOURCES: &[&str] = &["rtsp", "camera", "pool"];

/// What reaches a stage or a sink.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Raw,
    Encoded(&'static str),
    Batch,
    Records,
}

#[derive(Debug, Clone, Copy)]
struct Stream {
    kind: Kind,
    /// `Some(n)`: a list of n streams.
    list: Option<usize>,
    objects: bool,
}

/// What a stage needs and gives, for the stages this file knows.
fn stage_fits(name: &str, s: Stream) -> bool {
    let raw = s.kind == Kind::Raw;
    match name {
        "decode" => matches!(s.kind, Kind::Encoded(_)),
        "encode" | "convert" | "scale" | "rate" | "overlay" | "infer" => raw,
        "track" | "filter" => raw && s.objects,
        "batch" => raw && s.list.is_some(),
        "unbatch" => s.kind == Kind::Batch,
        "tile" => (raw && s.list.is_some()) || s.kind == Kind::Batch,
        "json" => raw || matches!(s.kind, Kind::Encoded(_)),
        "analyze" => raw && s.objects,
        // Needs `analyze` and, for its default events, `track` upstream: only by chance.
        "events" => false,
        _ => raw,
    }
}

fn sink_fits(name: &str, s: Stream) -> bool {
    match name {
        "stdout" => s.kind == Kind::Records,
        "discard" => true,
        "display" => s.kind == Kind::Raw && s.list.is_none(),
        "rtsp_out" => s.kind == Kind::Encoded("h264") && s.list.is_none(),
        "file" => matches!(s.kind, Kind::Records | Kind::Encoded(_)),
        // They need a broker to run against, and wait for it at the end of a run:
        // tests/brokers.rs runs them against real servers, tests/kafka.rs against
        // librdkafka's mock cluster.
        "mqtt" | "redis" | "kafka" => false,
        "record" => s.kind == Kind::Encoded("h264") && s.objects,
        // Its directory has `{stream}`: a list too.
        "hls" => s.kind == Kind::Encoded("h264"),
        _ => true,
    }
}

/// splitmix64: small, seeded, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One program being written.
struct Gen<'r> {
    rng: &'r mut Rng,
    /// Declared models: name and the labels they were given.
    models: Vec<(String, Vec<String>)>,
    /// Counter for output file names.
    outputs: usize,
}

impl Gen<'_> {
    fn builtins(role: Role) -> Vec<&'static Builtin> {
        stdlib()
            .builtins
            .iter()
            .filter(|b| b.role == role)
            .collect()
    }

    /// A call of `b` with generated arguments: required ones always (by position or by
    /// name), optional ones sometimes.
    fn call(&mut self, b: &Builtin) -> String {
        let mut args = Vec::new();
        let mut positional = true;
        for p in &b.params {
            if !p.required() && !always(b, p) && !self.rng.chance(0.45) {
                positional = false;
                continue;
            }
            let Some(v) = self.value(b, p) else {
                positional = false;
                continue;
            };
            positional &= self.rng.chance(0.6);
            args.push(if positional {
                v
            } else {
                format!("{}: {v}", p.name)
            });
        }
        if args.is_empty() && self.rng.chance(0.5) {
            b.name.clone()
        } else {
            format!("{}({})", b.name, args.join(", "))
        }
    }

    /// A value for parameter `p` of `b`; `None` to leave it to its default.
    fn value(&mut self, b: &Builtin, p: &ParamSpec) -> Option<String> {
        let rng = &mut *self.rng;
        Some(match (b.name.as_str(), p.name.as_str()) {
            ("file", "path") if b.role == Role::Source => {
                // Files that are no video, now and then.
                let n = if rng.chance(0.1) {
                    MEDIA.len()
                } else {
                    MEDIA.len() - 2
                };
                format!("{:?}", asset(MEDIA[rng.below(n)]))
            }
            ("file", "path") => return None, // chosen by `sink`
            ("onnx", _) => return None,      // chosen by `model`
            ("infer", "model") => {
                if self.models.is_empty() {
                    return None;
                }
                self.models[rng.below(self.models.len())].0.clone()
            }
            ("infer", "on") | ("filter", "classes") => {
                let mut known: Vec<String> = self
                    .models
                    .iter()
                    .flat_map(|(_, labels)| labels.iter().cloned())
                    .collect();
                known.push("person".into());
                let n = rng.below(3);
                let chosen: Vec<String> =
                    (0..n).map(|_| format!("{:?}", rng.pick(&known))).collect();
                format!("[{}]", chosen.join(", "))
            }
            ("rtsp_out", "port") => (20_000 + rng.below(40_000)).to_string(),
            // Anchors and output names that fit the model are the model's to say (a wrong
            // one is E0304, E0309 or E0310: tests/ui, tests/decoders.rs): the defaults.
            ("yolov5" | "ssd", "strides" | "per_cell" | "anchors") | ("detr" | "ssd", "boxes") => {
                return None;
            }
            ("record", "path") => "\"out/clips/{stream}_{n}.mp4\"".to_string(),
            ("hls", "dir") => {
                self.outputs += 1;
                format!("\"out/hls{}_{{stream}}\"", self.outputs)
            }
            ("record", "when") => {
                let mut known: Vec<String> = self
                    .models
                    .iter()
                    .flat_map(|(_, labels)| labels.iter().cloned())
                    .collect();
                known.push("person".into());
                format!("{:?}", rng.pick(&known))
            }
            ("test", "resolution") => resolution(rng, true),
            // A records file of 5 frames of 320x240 (person, car), sometimes one of two
            // streams (E0216); the video it fits, or another; black frames mostly its size.
            ("replay", "path") => {
                let file = if rng.chance(0.1) {
                    "tests/fixtures/records/two_streams.jsonl"
                } else {
                    "tests/fixtures/records/people_320x240.jsonl"
                };
                format!("{:?}", asset(file))
            }
            ("replay", "video") => {
                let n = if rng.chance(0.2) { MEDIA.len() } else { 1 };
                format!("{:?}", asset(MEDIA[rng.below(n)]))
            }
            ("replay", "size") if rng.chance(0.7) => "320x240".to_string(),
            _ => self.typed(b, p, &p.ty)?,
        })
    }

    /// A value of type `ty` within `p`'s declared range, its ends with some probability.
    fn typed(&mut self, b: &Builtin, p: &ParamSpec, ty: &ParamType) -> Option<String> {
        let rng = &mut *self.rng;
        let range = p.range;
        let known_max = KNOWN_MAX
            .iter()
            .find(|(s, q, _)| *s == b.name && *q == p.name)
            .map(|k| k.2);
        let number = |rng: &mut Rng, typical: &[f64], huge: &[f64]| -> f64 {
            let lo = range.and_then(|r| r.min);
            let hi = range.and_then(|r| r.max);
            let mut v = match rng.below(6) {
                0 => lo.unwrap_or(*rng.pick(typical)),
                1 => hi.unwrap_or(*rng.pick(huge)),
                2 => match (lo, hi) {
                    (Some(l), Some(h)) => l + (h - l) * rng.below(1001) as f64 / 1000.0,
                    _ => *rng.pick(typical),
                },
                _ => *rng.pick(typical),
            };
            if let Some(l) = lo {
                v = v.max(l);
            }
            if let Some(h) = hi {
                v = v.min(h);
            }
            if let Some(k) = known_max {
                v = v.min(k);
            }
            v
        };
        Some(match ty {
            ParamType::Int => {
                let huge = [2_147_483_647.0, 4_294_967_296.0, 9_007_199_254_740_992.0];
                let v = number(rng, &[0.0, 1.0, 2.0, 3.0, 4.0, 10.0, 300.0], &huge);
                format!("{}", v as i64)
            }
            ParamType::Float => {
                let v = number(rng, &[0.0, 0.25, 0.5, 1.0, -1.0, 1e6], &[1e12]);
                format!("{v:?}")
            }
            ParamType::Duration => {
                let ns = number(rng, &[0.0, 1.0, 1e6, 4e7, 1e9], &[5e9]);
                format!("{}ns", ns as i64)
            }
            ParamType::Bitrate => {
                let bps = number(rng, &[1.0, 8000.0, 5e5, 4e6], &[1e8, 2.048e9]);
                format!("{}bps", bps as i64)
            }
            ParamType::Framerate => rng
                .pick(&[
                    "1fps",
                    "5fps",
                    "30000/1001fps",
                    "25fps",
                    "30fps",
                    "60fps",
                    "1/3fps",
                ])
                .to_string(),
            ParamType::Resolution => resolution(rng, false),
            ParamType::Bool => rng.pick(&["true", "false"]).to_string(),
            ParamType::String => format!("{:?}", rng.pick(&["/live", "x", "", "a b"])),
            ParamType::Enum(words) => rng.pick(words).clone(),
            ParamType::List(inner) => {
                let n = *rng.pick(&[3, 3, 3, 0, 1, 4]);
                let items: Option<Vec<String>> = (0..n).map(|_| self.typed(b, p, inner)).collect();
                format!("[{}]", items?.join(", "))
            }
            ParamType::Union(types) if types.is_empty() => return None,
            ParamType::Union(types) => {
                let t = types[rng.below(types.len())].clone();
                self.typed(b, p, &t)?
            }
            ParamType::Decoder => {
                let decoders: Vec<&Builtin> = Self::builtins(Role::Decoder)
                    .into_iter()
                    .filter(|d| !KNOWN_DECODERS.contains(&d.name.as_str()))
                    .collect();
                let d = *self.rng.pick(&decoders);
                self.call(d)
            }
            // Chosen by `value`, or left to the default (a declared input tensor is checked
            // against the file by the compiler's own tests).
            ParamType::Model | ParamType::Tensor => return None,
            // A `zone(...)` or `line(...)` written in place, points and all: mostly refused
            // (E0401-E0404), which exercises the checker; tests/analytics.rs runs real ones.
            ParamType::Zone | ParamType::Line => {
                let name = if *ty == ParamType::Zone {
                    "zone"
                } else {
                    "line"
                };
                let shape = *Self::builtins(Role::Geometry)
                    .iter()
                    .find(|b| b.name == name)?;
                self.call(shape)
            }
        })
    }

    /// `model mN = onnx(...)` with a fixture model, labels that fit it (mostly), a decoder
    /// and the other parameters from the declaration.
    fn model(&mut self, index: usize) -> String {
        let onnx = Self::builtins(Role::Model)[0];
        let (path, classes) = loop {
            let m = *self.rng.pick(MODELS);
            if !KNOWN_MODELS.iter().any(|k| m.0.ends_with(k)) {
                break m;
            }
        };
        let mut args = vec![format!("{:?}", asset(path))];
        let mut labels = Vec::new();
        for p in &onnx.params[1..] {
            if !self.rng.chance(0.5) && p.name != "labels" && p.name != "decoder" {
                continue;
            }
            let v = match p.name.as_str() {
                "labels" => {
                    let n = if self.rng.chance(0.85) {
                        classes
                    } else {
                        self.rng.below(5)
                    };
                    let files: Vec<&(&str, usize)> =
                        LABEL_FILES.iter().filter(|f| f.1 == n).collect();
                    if n == 0 {
                        continue;
                    }
                    if !files.is_empty() && self.rng.chance(0.3) {
                        labels = (0..n).map(|i| format!("c{i}")).collect();
                        format!("{:?}", asset(self.rng.pick(&files).0))
                    } else {
                        labels = (0..n).map(|i| format!("c{i}")).collect();
                        let quoted: Vec<String> = labels.iter().map(|l| format!("{l:?}")).collect();
                        format!("[{}]", quoted.join(", "))
                    }
                }
                "decoder" => {
                    let detector = path.contains("det_") || path.contains("yolo");
                    let want = if path.contains("box_yolov5") {
                        "yolov5"
                    } else if path.contains("box_detr") {
                        "detr"
                    } else if path.contains("seg_fixture") {
                        "yolov8_seg"
                    } else if path.contains("pose_fixture") {
                        "yolov8_pose"
                    } else if path.contains("sem_fixture") {
                        "semantic"
                    } else if detector {
                        "yolov8"
                    } else {
                        "classify"
                    };
                    let d = if self.rng.chance(0.85) {
                        Self::builtins(Role::Decoder)
                            .into_iter()
                            .find(|d| d.name == want)
                            .expect("the decoder is declared")
                    } else {
                        let all: Vec<&Builtin> = Self::builtins(Role::Decoder)
                            .into_iter()
                            .filter(|d| !KNOWN_DECODERS.contains(&d.name.as_str()))
                            .collect();
                        *self.rng.pick(&all)
                    };
                    self.call(d)
                }
                // A standard deviation of 0 is E0107 (tests/ui): one value for every
                // channel, so that it fits gray and 4-channel models too.
                "std" => format!("[{}]", self.rng.pick(&["1.0", "0.5", "58.4", "255.0"])),
                // The output a decoder reads: one of the file's own output names (a
                // made-up name is E0304, checked by the compiler's own tests).
                "output" => {
                    let bytes = std::fs::read(asset(path)).expect("a fixture model");
                    let Ok(facts) = vpl_compiler::onnx::signature(&bytes) else {
                        continue;
                    };
                    let names: Vec<String> = facts.outputs.iter().map(|o| o.name.clone()).collect();
                    if names.is_empty() {
                        continue;
                    }
                    format!("{:?}", self.rng.pick(&names))
                }
                _ => match self.typed(onnx, p, &p.ty) {
                    Some(v) => v,
                    None => continue,
                },
            };
            args.push(format!("{}: {v}", p.name));
        }
        let name = format!("m{index}");
        self.models.push((name.clone(), labels));
        format!("model {name} = {}({});\n", onnx.name, args.join(", "))
    }

    /// A source call and the stream it gives.
    fn source(&mut self) -> (String, Stream) {
        let sources: Vec<&Builtin> = Self::builtins(Role::Source)
            .into_iter()
            .filter(|b| !WORLD_SOURCES.contains(&b.name.as_str()))
            .collect();
        let b = *self.rng.pick(&sources);
        let text = self.call(b);
        // A replay's frames carry the recorded objects.
        let objects = b.name == "replay";
        let kind = if b.name == "file" && !text.contains("raw_i420") {
            Kind::Encoded("h264")
        } else {
            Kind::Raw
        };
        (
            text,
            Stream {
                kind,
                list: None,
                objects,
            },
        )
    }

    /// Up to `n` stages after a stream; mostly ones that fit it, sometimes any.
    fn stages(&mut self, mut s: Stream, n: usize, text: &mut String) -> Stream {
        let all = Self::builtins(Role::Stage);
        for _ in 0..n {
            // `infer` with no model declared is E0105 (tests/ui): not generated.
            let fitting: Vec<&Builtin> = all
                .iter()
                .copied()
                .filter(|b| stage_fits(&b.name, s))
                .filter(|b| b.name != "infer" || !self.models.is_empty())
                .collect();
            let b = if self.rng.chance(0.03) {
                *self.rng.pick(&all)
            } else if fitting.is_empty() {
                break;
            } else {
                *self.rng.pick(&fitting)
            };
            let call = self.call(b);
            write!(text, " | {call}").expect("a string");
            s = match b.name.as_str() {
                "decode" => Stream {
                    kind: Kind::Raw,
                    ..s
                },
                "encode" => {
                    let codec = ["h264", "h265", "vp8", "vp9", "av1", "jpeg"]
                        .into_iter()
                        .find(|c| call.contains(c))
                        .unwrap_or("h264");
                    Stream {
                        kind: Kind::Encoded(codec),
                        ..s
                    }
                }
                "infer" => Stream { objects: true, ..s },
                "batch" => Stream {
                    kind: Kind::Batch,
                    ..s
                },
                "unbatch" => Stream {
                    kind: Kind::Raw,
                    ..s
                },
                "tile" => Stream {
                    kind: Kind::Raw,
                    list: None,
                    ..s
                },
                "json" => Stream {
                    kind: Kind::Records,
                    ..s
                },
                _ => s,
            };
        }
        s
    }

    /// A sink for the stream; file paths lie in `out/` beside the program.
    fn sink(&mut self, s: Stream) -> String {
        let all = Self::builtins(Role::Sink);
        let fitting: Vec<&Builtin> = all
            .iter()
            .copied()
            .filter(|b| sink_fits(&b.name, s))
            .collect();
        let b = if fitting.is_empty() || self.rng.chance(0.03) {
            *self.rng.pick(&all)
        } else {
            *self.rng.pick(&fitting)
        };
        if b.name != "file" {
            return self.call(b);
        }
        let ext = match s.kind {
            Kind::Records => "jsonl",
            _ if self.rng.chance(0.1) => {
                *self.rng.pick(&["mp4", "mkv", "webm", "ts", "jsonl", "avi"])
            }
            Kind::Encoded("h264" | "h265") => *self.rng.pick(&["mp4", "mkv", "ts"]),
            Kind::Encoded("vp8" | "vp9") => *self.rng.pick(&["webm", "mkv"]),
            Kind::Encoded("av1") => *self.rng.pick(&["mp4", "mkv", "webm"]),
            _ => "mkv",
        };
        self.outputs += 1;
        let stream = if s.list.is_some() && s.kind != Kind::Records {
            "_{stream}"
        } else {
            ""
        };
        format!("file(\"out/o{}{stream}.{ext}\")", self.outputs)
    }
}

/// Optional parameters given every time: test pictures are kept small, as runs are many.
fn always(b: &Builtin, p: &ParamSpec) -> bool {
    b.role == Role::Source && b.name == "test" && p.name == "resolution"
}

fn resolution(rng: &mut Rng, source: bool) -> String {
    let sizes: &[&str] = if source {
        &[
            "64x48", "160x120", "320x240", "2x2", "1x1", "321x241", "16x9", "640x360",
        ]
    } else {
        &[
            "64x64", "32x24", "320x240", "2x2", "1x1", "33x17", "0x0", "640x640", "1280x720",
        ]
    };
    rng.pick(sizes).to_string()
}

/// One random program.
fn program(rng: &mut Rng) -> String {
    let mut g = Gen {
        rng,
        models: Vec::new(),
        outputs: 0,
    };
    let mut text = String::new();
    for i in 0..g.rng.below(3) {
        text.push_str(&g.model(i));
    }
    text.push_str("\npipeline g {\n");
    let heads = 1 + g.rng.below(3);
    let mut streams = Vec::new();
    for i in 0..heads {
        let (src, s) = g.source();
        let mut flow = format!("    let s{i} = {src}");
        let n = g.rng.below(3);
        let s = g.stages(s, n, &mut flow);
        text.push_str(&flow);
        text.push_str(";\n");
        streams.push(s);
    }
    // A list of every head with the same kind as the first, sometimes.
    let same: Vec<usize> = (0..heads)
        .filter(|&i| streams[i].kind == streams[0].kind && streams[i].list.is_none())
        .collect();
    if same.len() > 1 && g.rng.chance(0.6) {
        let names: Vec<String> = same.iter().map(|i| format!("s{i}")).collect();
        let s = Stream {
            kind: streams[0].kind,
            list: Some(same.len()),
            objects: same.iter().all(|&i| streams[i].objects),
        };
        let mut flow = format!("    let all = [{}]", names.join(", "));
        let n = g.rng.below(4);
        let s = g.stages(s, n, &mut flow);
        text.push_str(&flow);
        text.push_str(";\n");
        streams.push(s);
        // Heads in the list need no flow of their own.
        for _ in 0..1 + g.rng.below(2) {
            let mut flow = "    all".to_string();
            let n = g.rng.below(3);
            let s = g.stages(s, n, &mut flow);
            let sink = g.sink(s);
            writeln!(text, "{flow} | {sink};").expect("a string");
        }
    } else {
        for (i, &s) in streams.clone().iter().enumerate() {
            for _ in 0..1 + g.rng.below(2) {
                let mut flow = format!("    s{i}");
                let n = g.rng.below(3);
                let s = g.stages(s, n, &mut flow);
                let sink = g.sink(s);
                writeln!(text, "{flow} | {sink};").expect("a string");
            }
        }
    }
    text.push_str("}\n");
    text
}

/// `vplc ARGS` in `dir`'s program, stderr into a file; `None` when it ran past the timeout.
fn vplc(args: &[&str], file: &Path, log: &Path) -> Option<(Option<i32>, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(args)
        .arg(file)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("vplc runs");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let err = std::fs::read_to_string(log).unwrap_or_default();
            return Some((status.code(), err));
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let v = v.trim();
            v.strip_prefix("0x")
                .map_or_else(|| v.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
        })
        .unwrap_or(default)
}

#[test]
fn every_checked_program_runs() {
    let cases = env_number("VPL_GEN_CASES", DEFAULT_CASES as u64) as usize;
    let seed = env_number("VPL_GEN_SEED", DEFAULT_SEED);
    let keep = std::env::var_os("VPL_GEN_KEEP").is_some();
    let dir = temp_dir("checked-runs");
    let start = Instant::now();
    let (mut clean, mut failures) = (0, Vec::new());
    for case in 0..cases {
        // Each case has a seed of its own, so a failure is replayed alone with
        // VPL_GEN_SEED=<its seed> VPL_GEN_CASES=1.
        let case_seed = if case == 0 {
            seed
        } else {
            Rng(seed ^ case as u64).next()
        };
        let text = program(&mut Rng(case_seed));
        let case_dir = dir.join(format!("case{case}"));
        std::fs::create_dir_all(&case_dir).expect("case dir");
        let file = case_dir.join("g.vpl");
        std::fs::write(&file, &text).expect("write the program");
        let log = case_dir.join("log.txt");
        let checked = vplc(&["check"], &file, &log);
        match checked {
            Some((Some(0), _)) => {}
            Some((Some(1), _)) => {
                if !keep {
                    let _ = std::fs::remove_dir_all(&case_dir);
                }
                continue;
            }
            other => {
                failures.push(failure(case_seed, &text, "vplc check", other));
                continue;
            }
        }
        clean += 1;
        let ran = vplc(&["run", "--max-frames", "3", "--quiet"], &file, &log);
        let ok = match &ran {
            Some((Some(0), _)) => true,
            // The world outside: a port another program holds.
            Some((Some(3), err)) => err.contains("E0504"),
            _ => false,
        };
        if ok {
            if !keep {
                let _ = std::fs::remove_dir_all(&case_dir);
            }
        } else {
            failures.push(failure(case_seed, &text, "vplc run --max-frames 3", ran));
        }
    }
    eprintln!(
        "checked_runs: {cases} programs (seed {seed:#x}), {clean} checked clean and ran, {} failed, in {:.1} s",
        failures.len(),
        start.elapsed().as_secs_f64()
    );
    if !keep && failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        failures.is_empty(),
        "{} of {clean} checked programs did not run:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The generator must keep producing programs the checker accepts, or it tests nothing.
    assert!(
        clean * 4 >= cases,
        "only {clean} of {cases} programs checked clean: the generator drifted from the stdlib"
    );
}

fn failure(seed: u64, text: &str, what: &str, result: Option<(Option<i32>, String)>) -> String {
    let outcome = match result {
        None => format!("hung (killed after {} s)", RUN_TIMEOUT.as_secs()),
        Some((code, err)) => format!("exit {code:?}:\n{err}"),
    };
    format!("--- seed {seed:#x}: {what}: {outcome}\n{text}")
}

/// The generated programs are what the stdlib declares: every stage, source and sink
/// (but those of the world outside) is reachable, and a program is the same for a seed.
#[test]
fn the_generator_covers_the_stdlib() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let text = program(&mut Rng(seed));
        assert_eq!(text, program(&mut Rng(seed)), "deterministic");
        for b in &stdlib().builtins {
            if text.contains(&format!(" {}", b.name)) || text.contains(&format!("{}(", b.name)) {
                seen.insert(b.name.clone());
            }
        }
    }
    for b in &stdlib().builtins {
        if WORLD_SOURCES.contains(&b.name.as_str()) || KNOWN_DECODERS.contains(&b.name.as_str()) {
            continue;
        }
        assert!(seen.contains(&b.name), "no program uses {}", b.name);
    }
}
