//! `vplinfer`'s property values (strings as gst-launch writes them) → the typed
//! configuration of one run, checked once in `start()` so a bad value is an element error
//! naming the property, not a surprise per frame.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::engine::decode::Yolov8Config;
use crate::engine::decode::boxes::Activation;
use crate::engine::decode::detr::DetrConfig;
use crate::engine::decode::ssd::{SsdConfig, generate_anchors};
use crate::engine::decode::text::TextBoxesConfig;
use crate::engine::decode::yolov5::Yolov5Config;
use crate::engine::preprocess::{ChannelOrder, Layout, PreprocessConfig, Resize};
use crate::engine::{Backend, EngineConfig, find_library};
use crate::masks::{COCO17, MaskFormat};

use super::imp::Settings;

/// The element type the model's input takes. f16 models are fed f32, which the engine
/// converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    F16,
    U8,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decoder {
    Yolov8(Yolov8Config),
    Yolov5(Yolov5Config),
    /// `boxes`: the boxes output; empty: one output `[1, queries, 4 + classes]`.
    Detr(DetrConfig, String),
    /// `boxes`: the boxes output (the scores are `output`).
    Ssd(SsdConfig, String),
    Classify {
        top: usize,
    },
    /// A DB text detector's probability map → objects labelled "text".
    TextBoxes(TextBoxesConfig),
    /// A CTC recogniser: `alphabet[k - 1]` is class `k` (class 0 the blank), or, with
    /// `blank_last`, `alphabet[k]` is class `k` and the last class the blank.
    Ctc {
        alphabet: Vec<String>,
        blank_last: bool,
    },
    /// Keeps nothing but the frame's meta: the output is not interpreted.
    Raw,
    /// Boxes with masks; `protos` names the prototypes output.
    Yolov8Seg {
        config: Yolov8Config,
        protos: String,
        format: MaskFormat,
    },
    /// Boxes with keypoints; `skeleton`: the bones overlay draws.
    Yolov8Pose {
        config: Yolov8Config,
        skeleton: Vec<[u8; 2]>,
    },
    /// A class map → one masked object a class.
    Semantic {
        format: MaskFormat,
        min_area: usize,
    },
}

/// Everything one `vplinfer` needs to run, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub engine: EngineConfig,
    /// Elements with the same group share one model and batch their frames together.
    pub group: String,
    pub stream: u32,
    /// Most sessions for a fixed-batch model; 0: chosen by backend.
    pub sessions: usize,
    pub batch_size: usize,
    pub batch_timeout: Duration,
    pub every: u64,
    pub preprocess: PreprocessConfig,
    pub dtype: DType,
    pub decoder: Decoder,
    pub labels: Vec<String>,
    /// The model's name in the `.vpl`, given to each label it makes.
    pub model_name: String,
    /// The outputs whose batch is another axis than the first (`[T, N, C]`: 1).
    pub batch_axes: Vec<(String, usize)>,
    /// The output the decoder reads; empty: the only one (`raw`: every one).
    pub output: String,
    /// Crop mode: the labels of the upstream objects the model runs on; empty: whole frames.
    pub on_labels: Vec<String>,
    /// Crop mode: the smallest box (in frame pixels) the model runs on.
    pub min_size: (u32, u32),
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Config, String> {
        if s.model.is_empty() {
            return Err("property `model` is not set: give the path of an ONNX model".into());
        }
        let decoder = match s.decoder.as_str() {
            "yolov8" => Decoder::Yolov8(Yolov8Config {
                confidence: s.confidence as f32,
                iou: s.iou as f32,
                max: s.max_detections as usize,
            }),
            "classify" => Decoder::Classify {
                top: s.top as usize,
            },
            "text_boxes" => Decoder::TextBoxes(TextBoxesConfig {
                thresh: s.thresh as f32,
                box_thresh: s.box_thresh as f32,
                unclip_ratio: s.unclip_ratio as f32,
                max: s.max_detections as usize,
            }),
            "ctc" => Decoder::Ctc {
                alphabet: alphabet(&s.alphabet, &s.model)?,
                blank_last: match s.blank.as_str() {
                    "first" | "" => false,
                    "last" => true,
                    other => {
                        return Err(format!(
                            "property `blank` is \"{other}\": give `first` or `last`"
                        ));
                    }
                },
            },
            "raw" => Decoder::Raw,
            "yolov8_seg" | "yolov8_pose" | "semantic" => segpose_decoder(s)?,
            "yolov5" => Decoder::Yolov5(Yolov5Config {
                confidence: s.confidence as f32,
                iou: s.iou as f32,
                max: s.max_detections as usize,
                grid: unsigned("grid-strides", &s.boxes.grid_strides)?,
            }),
            "detr" => Decoder::Detr(
                DetrConfig {
                    confidence: s.confidence as f32,
                    max: s.max_detections as usize,
                    activation: activation(&s.boxes.activation, true)?,
                },
                s.boxes.boxes_output.clone(),
            ),
            "ssd" => {
                let b = &s.boxes;
                let anchors = if b.anchors.trim().is_empty() {
                    let strides = unsigned("anchor-strides", &b.anchor_strides)?;
                    let per_cell = unsigned("anchor-per-cell", &b.anchor_per_cell)?;
                    if strides.len() != per_cell.len() || strides.contains(&0) {
                        return Err(format!(
                            "properties `anchor-strides` (\"{}\") and `anchor-per-cell` (\"{}\") need one positive value each per grid",
                            b.anchor_strides, b.anchor_per_cell
                        ));
                    }
                    let count = strides.iter().zip(&per_cell).try_fold(0u64, |n, (st, k)| {
                        let (gw, gh) = (s.input_width.div_ceil(*st), s.input_height.div_ceil(*st));
                        n.checked_add(u64::from(gw) * u64::from(gh) * u64::from(*k))
                    });
                    if count.is_none_or(|n| n > MAX_ANCHORS) {
                        return Err(format!(
                            "properties `anchor-strides` and `anchor-per-cell` make more than {MAX_ANCHORS} anchors"
                        ));
                    }
                    generate_anchors(&strides, &per_cell, (s.input_width, s.input_height))
                } else {
                    anchors(&b.anchors)?
                };
                if b.boxes_output.is_empty() {
                    return Err("property `boxes-output` is not set: ssd reads a boxes output and a scores output".into());
                }
                Decoder::Ssd(
                    SsdConfig {
                        confidence: s.confidence as f32,
                        iou: s.iou as f32,
                        max: s.max_detections as usize,
                        activation: activation(&b.activation, false)?,
                        anchors,
                    },
                    b.boxes_output.clone(),
                )
            }
            other => {
                return Err(bad(
                    "decoder",
                    other,
                    "yolov8, yolov5, detr, ssd, yolov8_seg, yolov8_pose, semantic, classify, text_boxes, ctc or raw",
                ));
            }
        };
        let resize = match s.resize.as_str() {
            "letterbox" => Resize::Letterbox,
            "stretch" => Resize::Stretch,
            "fixed_height" => Resize::FixedHeight,
            "" if matches!(
                decoder,
                Decoder::Yolov8(_)
                    | Decoder::Yolov5(_)
                    | Decoder::Yolov8Seg { .. }
                    | Decoder::Yolov8Pose { .. }
            ) =>
            {
                Resize::Letterbox
            }
            "" => Resize::Stretch,
            other => {
                return Err(bad("resize", other, "letterbox, stretch or fixed_height"));
            }
        };
        let preprocess = PreprocessConfig {
            width: s.input_width,
            height: s.input_height,
            layout: match s.layout.as_str() {
                "nchw" => Layout::Nchw,
                "nhwc" => Layout::Nhwc,
                other => return Err(bad("layout", other, "nchw or nhwc")),
            },
            order: match s.order.as_str() {
                "rgb" => ChannelOrder::Rgb,
                "bgr" => ChannelOrder::Bgr,
                "gray" => ChannelOrder::Gray,
                "rgbx" => ChannelOrder::Rgbx,
                "bgrx" => ChannelOrder::Bgrx,
                other => return Err(bad("order", other, "rgb, bgr, gray, rgbx or bgrx")),
            },
            resize,
            scale: s.scale as f32,
            mean: numbers("mean", &s.mean)?,
            std: numbers("std", &s.std)?,
        };
        let channels = preprocess.order.channels();
        for (property, values) in [("mean", &preprocess.mean), ("std", &preprocess.std)] {
            if values.len() > 1 && values.len() != channels {
                return Err(format!(
                    "property `{property}` has {} values but order `{}` has {channels} channels",
                    values.len(),
                    s.order
                ));
            }
        }
        if let Some(zero) = preprocess.std.iter().find(|v| **v == 0.0) {
            return Err(format!(
                "property `std` has a {zero}: it divides, so it cannot be 0"
            ));
        }
        let dtype = match s.dtype.as_str() {
            "f32" => DType::F32,
            "f16" => DType::F16,
            "u8" => DType::U8,
            other => return Err(bad("dtype", other, "f32, f16 or u8")),
        };
        let backend = match s.backend.as_str() {
            "cpu" => Backend::Cpu,
            "cuda" => Backend::Cuda,
            "tensorrt" => Backend::TensorRt,
            other => return Err(bad("backend", other, "cpu, cuda or tensorrt")),
        };
        let engine = EngineConfig {
            model: PathBuf::from(&s.model),
            library: library(&s.library)?,
            backend,
            threads: s.threads as usize,
            engine_cache: (!s.engine_cache.is_empty()).then(|| PathBuf::from(&s.engine_cache)),
            max_batch: s.batch_size.max(1) as usize,
        };
        let on_labels = vpl_compiler::host::parse_labels(&s.on_labels);
        Ok(Config {
            on_labels,
            min_size: (s.min_width, s.min_height),
            group: if s.group.is_empty() {
                s.model.clone()
            } else {
                s.group.clone()
            },
            stream: s.stream,
            sessions: s.sessions as usize,
            batch_size: s.batch_size.max(1) as usize,
            batch_timeout: Duration::from_nanos(s.batch_timeout),
            every: u64::from(s.every.max(1)),
            preprocess,
            dtype,
            decoder,
            labels: vpl_compiler::host::parse_labels(&s.labels),
            batch_axes: batch_axes(&s.batch_axes)?,
            model_name: if s.model_name.is_empty() {
                Path::new(&s.model)
                    .file_stem()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            } else {
                s.model_name.clone()
            },
            output: s.output.clone(),
            engine,
        })
    }
}

/// The `ctc` decoder's characters: the `alphabet` file's (one a line, untrimmed, as the
/// checker reads it), or with no file, the model's `character` metadata.
/// `NAME=AXIS` lines → each output's batch axis. An output name may hold `=`: the
/// axis is after the last one.
fn batch_axes(text: &str) -> Result<Vec<(String, usize)>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            line.rsplit_once('=')
                .and_then(|(name, axis)| Some((name.to_string(), axis.trim().parse().ok()?)))
                .ok_or_else(|| format!("property `batch-axes`: \"{line}\" is not NAME=AXIS"))
        })
        .collect()
}

fn alphabet(file: &str, model: &str) -> Result<Vec<String>, String> {
    if !file.is_empty() {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the alphabet file {file}: {e}"))?;
        return Ok(vpl_compiler::host::parse_alphabet(&text));
    }
    let bytes = std::fs::read(model).map_err(|e| format!("cannot read the model {model}: {e}"))?;
    let facts = vpl_compiler::onnx::signature(&bytes)
        .map_err(|e| format!("cannot read the model {model}: {e:?}"))?;
    vpl_compiler::check::text::metadata_alphabet(&facts).ok_or_else(|| {
        format!(
            "the model {model} has no `character` metadata for the ctc decoder; give \
             `ctc(alphabet: FILE)`"
        )
    })
}

/// The `yolov8_seg`, `yolov8_pose` and `semantic` decoders from their properties.
fn segpose_decoder(s: &Settings) -> Result<Decoder, String> {
    let config = Yolov8Config {
        confidence: s.confidence as f32,
        iou: s.iou as f32,
        max: s.max_detections as usize,
    };
    let format =
        || MaskFormat::parse(&s.masks).ok_or_else(|| bad("masks", &s.masks, "rle or polygons"));
    Ok(match s.decoder.as_str() {
        "yolov8_seg" => Decoder::Yolov8Seg {
            config,
            protos: s.protos.clone(),
            format: format()?,
        },
        "yolov8_pose" => Decoder::Yolov8Pose {
            config,
            skeleton: match s.skeleton.as_str() {
                "coco17" | "" => COCO17.to_vec(),
                "none" => Vec::new(),
                other => return Err(bad("skeleton", other, "coco17 or none")),
            },
        },
        _ => Decoder::Semantic {
            format: format()?,
            min_area: s.min_area.max(1) as usize,
        },
    })
}

pub const DEFAULT_ACTIVATION: &str = "sigmoid";
/// More anchors than any model outputs (BlazeFace: 896, YOLOX at 1280: 33,600).
const MAX_ANCHORS: u64 = 10_000_000;
pub const DEFAULT_ANCHOR_STRIDES: &str = "8,16";
pub const DEFAULT_ANCHOR_PER_CELL: &str = "2,6";

/// The properties of the box decoders `yolov5`, `detr` and `ssd`, as set.
#[derive(Debug, Clone)]
pub struct BoxSettings {
    pub grid_strides: String,
    pub activation: String,
    pub boxes_output: String,
    pub anchors: String,
    pub anchor_strides: String,
    pub anchor_per_cell: String,
}

impl Default for BoxSettings {
    fn default() -> Self {
        BoxSettings {
            grid_strides: String::new(),
            activation: DEFAULT_ACTIVATION.into(),
            boxes_output: String::new(),
            anchors: String::new(),
            anchor_strides: DEFAULT_ANCHOR_STRIDES.into(),
            anchor_per_cell: DEFAULT_ANCHOR_PER_CELL.into(),
        }
    }
}

/// `softmax` for detr drops the last class ("no object"), as the original DETR does.
fn activation(text: &str, detr: bool) -> Result<Activation, String> {
    match text {
        "sigmoid" => Ok(Activation::Sigmoid),
        "softmax" => Ok(Activation::Softmax { no_object: detr }),
        "none" => Ok(Activation::None),
        other => Err(bad("activation", other, "sigmoid, softmax or none")),
    }
}

/// "8,16,32" → the numbers; empty text → none.
fn unsigned(property: &str, text: &str) -> Result<Vec<u32>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<u32>().map_err(|_| {
                bad(
                    property,
                    text,
                    "whole numbers separated by commas, like \"8,16\"",
                )
            })
        })
        .collect()
}

/// Lines of "cx cy w h" → anchors.
fn anchors(text: &str) -> Result<Vec<[f32; 4]>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let values: Vec<f32> = line
                .split([' ', ',', '\t'])
                .filter(|t| !t.is_empty())
                .filter_map(|t| t.parse::<f32>().ok())
                .collect();
            <[f32; 4]>::try_from(values).map_err(|_| {
                format!(
                    "property `anchors` has the line \"{line}\"; expected four numbers: cx cy w h"
                )
            })
        })
        .collect()
}

fn bad(property: &str, value: &str, expected: &str) -> String {
    format!("property `{property}` is \"{value}\"; expected {expected}")
}

/// "0.485, 0.456,0.406" → the numbers; empty text → none (the engine's default).
fn numbers(property: &str, text: &str) -> Result<Vec<f32>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    bad(
                        property,
                        text,
                        "numbers separated by commas, like \"0,0,0\"",
                    )
                })
        })
        .collect()
}

/// The library property, or where `find_library` finds it from the working directory.
fn library(property: &str) -> Result<PathBuf, String> {
    if !property.is_empty() {
        return Ok(PathBuf::from(property));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf());
    find_library(&[&cwd]).ok_or_else(|| {
        "ONNX Runtime was not found: set the `library` property, or VPL_ONNXRUNTIME, to the \
         path of libonnxruntime.so (scripts/setup.sh writes it into assets/onnxruntime.path)"
            .to_string()
    })
}
