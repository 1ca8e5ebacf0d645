//! A model's output tensors → what vpl attaches to frames, one file per family of
//! decoders: boxes (`yolov8.rs`; `yolov5.rs` for YOLOv5, YOLOv7 and YOLOX; `detr.rs`;
//! `ssd.rs`; `ds_yolo.rs` for DeepStream-Yolo's boxes already decoded; `detectnet_v2.rs`
//! for DetectNet_v2's grids; what they share in `boxes.rs`), masks (`segment.rs`: `yolov8_seg`,
//! `semantic`), keypoints (`pose.rs`: `yolov8_pose`), text (`text.rs`: `text_boxes`,
//! `ctc`) and classes (`classify.rs`). `raw` decodes nothing: the element attaches the
//! output tensors as they are. docs/decoders.md describes each decoder.
//!
//! [`decoder`] is the registry: the plan's spec of a decoder → what `vplinfer` runs on each
//! image's outputs (a [`Decode`]), in one exhaustive `match`.

pub mod boxes;
pub mod classify;
pub mod detectnet_v2;
pub mod detr;
pub mod ds_yolo;
pub mod pose;
pub mod segment;
pub mod ssd;
pub mod text;
pub mod yolov5;
pub mod yolov8;

use vpl_compiler::plan::{Activation, Decoder, InferenceSpec, MaskFormat, Skeleton};

use crate::elements::infer::decoders::{self, Decode};
use crate::elements::infer::segpose;
use crate::masks::{self, COCO17};
use detr::DetrConfig;
use ssd::{SsdConfig, generate_anchors};
use text::TextBoxesConfig;
use yolov5::Yolov5Config;

pub use boxes::{Detection, iou, nms};
pub use classify::classify;
pub use yolov8::{Yolov8Config, decode_yolov8};

/// The spec's decoder → the engine's decoding with its parameters: every decoder, once.
pub fn decoder(spec: &InferenceSpec) -> Result<Box<dyn Decode>, String> {
    let nms = |confidence: f64, iou: f64, max: i64| Yolov8Config {
        confidence: confidence as f32,
        iou: iou as f32,
        max: count(max),
    };
    let whole_frames = |kind: &str| match &spec.crops {
        Some(_) => Err(format!(
            "the masks and keypoints of {kind} are found on whole frames, not on crops"
        )),
        None => Ok(()),
    };
    Ok(match &spec.decoder {
        Decoder::Yolov8 {
            confidence,
            iou,
            max,
        } => Box::new(decoders::Yolov8(nms(*confidence, *iou, *max))),
        Decoder::Yolov5 {
            confidence,
            iou,
            max,
            strides,
        } => Box::new(decoders::Yolov5(Yolov5Config {
            confidence: *confidence as f32,
            iou: *iou as f32,
            max: count(*max),
            grid: unsigned("yolov5 strides", strides)?,
        })),
        Decoder::Detr {
            confidence,
            max,
            activation: a,
            boxes,
        } => Box::new(decoders::Detr {
            config: DetrConfig {
                confidence: *confidence as f32,
                max: count(*max),
                activation: activation(*a, true),
            },
            boxes: boxes.clone(),
        }),
        Decoder::Ssd {
            confidence,
            iou,
            max,
            activation: a,
            boxes,
            anchors,
            strides,
            per_cell,
        } => {
            if boxes.is_empty() {
                return Err(
                    "ssd reads a boxes output and a scores output: the spec names no boxes output"
                        .into(),
                );
            }
            Box::new(decoders::Ssd {
                config: SsdConfig {
                    confidence: *confidence as f32,
                    iou: *iou as f32,
                    max: count(*max),
                    activation: activation(*a, false),
                    anchors: ssd_anchors(spec, anchors, strides, per_cell)?,
                },
                boxes: boxes.clone(),
            })
        }
        Decoder::DsYolo {
            confidence,
            iou,
            max,
        } => Box::new(ds_yolo::DsYolo::new(*confidence, *iou, *max)),
        Decoder::DetectnetV2 {
            confidence,
            iou,
            max,
            boxes,
        } => Box::new(detectnet_v2::DetectnetV2::new(
            *confidence,
            *iou,
            *max,
            boxes,
        )?),
        Decoder::Classify { top } => Box::new(decoders::Classify { top: count(*top) }),
        Decoder::TextBoxes {
            thresh,
            box_thresh,
            unclip_ratio,
            max,
        } => Box::new(decoders::TextBoxes(TextBoxesConfig {
            thresh: *thresh as f32,
            box_thresh: *box_thresh as f32,
            unclip_ratio: *unclip_ratio as f32,
            max: count(*max),
        })),
        Decoder::Ctc {
            alphabet: file,
            blank_last,
        } => Box::new(decoders::Ctc {
            alphabet: alphabet(file, &spec.model)?,
            blank_last: *blank_last,
        }),
        Decoder::Raw => Box::new(decoders::Raw),
        Decoder::Yolov8Seg {
            confidence,
            iou,
            max,
            protos,
            masks,
        } => {
            whole_frames("yolov8_seg")?;
            Box::new(segpose::Yolov8Seg {
                config: nms(*confidence, *iou, *max),
                protos: protos.clone(),
                format: mask_format(*masks),
            })
        }
        Decoder::Yolov8Pose {
            confidence,
            iou,
            max,
            skeleton,
        } => {
            whole_frames("yolov8_pose")?;
            Box::new(segpose::Yolov8Pose {
                config: nms(*confidence, *iou, *max),
                skeleton: match skeleton {
                    Skeleton::Coco17 => COCO17.to_vec(),
                    Skeleton::None => Vec::new(),
                },
            })
        }
        Decoder::Semantic { masks, min_area } => {
            whole_frames("semantic")?;
            Box::new(segpose::Semantic {
                format: mask_format(*masks),
                min_area: count(*min_area),
            })
        }
    })
}

/// A count the checker kept in range; at least 1.
fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0).max(1)
}

/// `softmax` for detr drops the last class ("no object"), as the original DETR does.
fn activation(activation: Activation, detr: bool) -> boxes::Activation {
    match activation {
        Activation::Sigmoid => boxes::Activation::Sigmoid,
        Activation::Softmax => boxes::Activation::Softmax { no_object: detr },
        Activation::None => boxes::Activation::None,
    }
}

fn mask_format(format: MaskFormat) -> masks::MaskFormat {
    match format {
        MaskFormat::Rle => masks::MaskFormat::Rle,
        MaskFormat::Polygons => masks::MaskFormat::Polygons,
    }
}

/// More anchors than any model outputs (BlazeFace: 896, YOLOX at 1280: 33,600).
const MAX_ANCHORS: u64 = 10_000_000;

/// The ssd decoder's anchors: the file's, read by the checker, or generated on the grids
/// of `strides`, `per_cell` anchors a cell.
fn ssd_anchors(
    spec: &InferenceSpec,
    anchors: &[[f64; 4]],
    strides: &[i64],
    per_cell: &[i64],
) -> Result<Vec<[f32; 4]>, String> {
    if !anchors.is_empty() {
        return Ok(anchors.iter().map(|a| a.map(|v| v as f32)).collect());
    }
    let strides = unsigned("ssd strides", strides)?;
    let per_cell = unsigned("ssd per_cell", per_cell)?;
    if strides.len() != per_cell.len() || strides.contains(&0) {
        return Err(format!(
            "the ssd decoder's strides ({strides:?}) and per_cell ({per_cell:?}) need one positive value each per grid"
        ));
    }
    let input = (spec.preprocess.width, spec.preprocess.height);
    let count = strides.iter().zip(&per_cell).try_fold(0u64, |n, (st, k)| {
        let (gw, gh) = (input.0.div_ceil(*st), input.1.div_ceil(*st));
        n.checked_add(u64::from(gw) * u64::from(gh) * u64::from(*k))
    });
    if count.is_none_or(|n| n > MAX_ANCHORS) {
        return Err(format!(
            "the ssd decoder's strides and per_cell make more than {MAX_ANCHORS} anchors"
        ));
    }
    Ok(generate_anchors(&strides, &per_cell, input))
}

fn unsigned(what: &str, values: &[i64]) -> Result<Vec<u32>, String> {
    values
        .iter()
        .map(|v| {
            u32::try_from(*v)
                .map_err(|_| format!("the {what} hold {v}: give whole numbers 0 or more"))
        })
        .collect()
}

/// The `ctc` decoder's characters: the `alphabet` file's (one a line, untrimmed, as the
/// checker reads it), or with no file, the model's `character` metadata.
fn alphabet(file: &str, model: &str) -> Result<Vec<String>, String> {
    if !file.is_empty() {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the alphabet file {file}: {e}"))?;
        return Ok(vpl_compiler::host::parse_alphabet(&text));
    }
    let bytes = std::fs::read(model).map_err(|e| format!("cannot read the model {model}: {e}"))?;
    let facts = vpl_compiler::onnx::signature(&bytes)
        .map_err(|e| format!("cannot read the model {model}: {e:?}"))?;
    vpl_compiler::facts::metadata_alphabet(&facts).ok_or_else(|| {
        format!(
            "the model {model} has no `character` metadata for the ctc decoder; give \
             `ctc(alphabet: FILE)`"
        )
    })
}
