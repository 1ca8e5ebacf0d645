//! Preprocessed images of one group → one batched model run → each image's own outputs,
//! and one image's outputs → the objects and labels its meta gets.

use std::time::Duration;

use crate::elements::batcher::{Batcher, Item};
use crate::engine::decode::{classify, decode_yolov8};
use crate::engine::preprocess::{Frame, Layout, Letterbox, try_preprocess, try_preprocess_u8};
use crate::engine::{Engine, InputTensor, OutputTensor, TensorData};
use crate::meta::Object;

use super::config::{Config, DType, Decoder};

/// One image's input values, in the element type the model takes.
#[derive(Debug, Clone)]
pub enum Pixels {
    F32(Vec<f32>),
    U8(Vec<u8>),
}

/// One preprocessed frame: its values and its shape without the batch dimension.
#[derive(Debug, Clone)]
pub struct Image {
    pub pixels: Pixels,
    pub dims: Vec<usize>,
}

/// One image's outputs (batch dimension 1), or why its batch failed.
pub type Outputs = Result<Vec<OutputTensor>, String>;

/// The batcher a group of `vplinfer`s shares; it owns the group's engine.
pub type ModelBatcher = Batcher<Image, Outputs>;

pub fn model_batcher(engine: Engine, size: usize, timeout: Duration) -> ModelBatcher {
    Batcher::new(size, timeout, move |items| {
        let n = items.len();
        match run(&engine, items) {
            Ok(per_image) => per_image.into_iter().map(Ok).collect(),
            Err(why) => vec![Err(why); n],
        }
    })
}

/// Runs one batch. A model with a fixed batch larger than the batch (a timeout sent it
/// early) gets zero images as padding, whose outputs are dropped.
fn run(engine: &Engine, items: Vec<Item<Image>>) -> Result<Vec<Vec<OutputTensor>>, String> {
    let n = items.len();
    let dims = items
        .first()
        .map(|i| i.value.dims.clone())
        .unwrap_or_default();
    if items.iter().any(|i| i.value.dims != dims) {
        return Err(
            "the frames of one batch were preprocessed to different input shapes: \
                    give every element of the group the same input size and layout"
                .into(),
        );
    }
    let fixed = engine.input().shape.first().copied().unwrap_or(-1);
    let batch = usize::try_from(fixed).ok().filter(|b| *b > n).unwrap_or(n);
    let per_image: usize = dims.iter().product();
    let data = match items.first().map(|i| &i.value.pixels) {
        Some(Pixels::U8(_)) => {
            let mut all = Vec::with_capacity(batch * per_image);
            for item in items {
                let Pixels::U8(values) = item.value.pixels else {
                    return Err("a batch mixes u8 and f32 frames: give the group one dtype".into());
                };
                all.extend_from_slice(&values);
            }
            all.resize(batch * per_image, 0);
            TensorData::U8(all)
        }
        _ => {
            let mut all = Vec::with_capacity(batch * per_image);
            for item in items {
                let Pixels::F32(values) = item.value.pixels else {
                    return Err("a batch mixes u8 and f32 frames: give the group one dtype".into());
                };
                all.extend_from_slice(&values);
            }
            all.resize(batch * per_image, 0.0);
            TensorData::F32(all)
        }
    };
    let shape = std::iter::once(batch).chain(dims).collect();
    let outputs = engine
        .run(InputTensor { shape, data })
        .map_err(|e| e.to_string())?;
    split(outputs, batch, n)
}

/// Cuts each `[batch, ...]` output into the first `keep` images' `[1, ...]` outputs.
fn split(
    outputs: Vec<OutputTensor>,
    batch: usize,
    keep: usize,
) -> Result<Vec<Vec<OutputTensor>>, String> {
    let mut per_image = vec![Vec::with_capacity(outputs.len()); keep];
    for output in outputs {
        if output.shape.first() != Some(&batch) || output.data.len() % batch != 0 {
            return Err(format!(
                "output `{}` has shape {:?}, which is not a batch of {batch}",
                output.name, output.shape
            ));
        }
        let len = output.data.len() / batch;
        let mut shape = output.shape.clone();
        shape[0] = 1;
        for (i, outputs) in per_image.iter_mut().enumerate() {
            outputs.push(OutputTensor {
                name: output.name.clone(),
                shape: shape.clone(),
                data: output.data[i * len..(i + 1) * len].to_vec(),
            });
        }
    }
    Ok(per_image)
}

/// Preprocesses one frame into the model's input image, and says where it sat there.
pub fn prepare(frame: &Frame, config: &Config) -> Result<(Image, Placement), String> {
    let p = &config.preprocess;
    let preprocessed = match config.dtype {
        DType::U8 => {
            let mut out = vec![0u8; p.values()];
            try_preprocess_u8(frame, p, &mut out).map(|letterbox| (Pixels::U8(out), letterbox))
        }
        DType::F32 | DType::F16 => {
            let mut out = vec![0f32; p.values()];
            try_preprocess(frame, p, &mut out).map(|letterbox| (Pixels::F32(out), letterbox))
        }
    };
    let (pixels, letterbox) =
        preprocessed.map_err(|e| format!("cannot preprocess the frame: {e}"))?;
    let (h, w, c) = (p.height as usize, p.width as usize, p.order.channels());
    let dims = match p.layout {
        Layout::Nchw => vec![c, h, w],
        Layout::Nhwc => vec![h, w, c],
    };
    let placement = Placement {
        letterbox,
        source: (frame.width, frame.height),
    };
    Ok((Image { pixels, dims }, placement))
}

/// What one inference found in one frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub objects: Vec<Object>,
    pub labels: Vec<(String, f32)>,
}

/// Where a frame sat in the model input, for bringing boxes back to it.
pub struct Placement {
    pub letterbox: Letterbox,
    pub source: (u32, u32),
}

pub fn decode(
    decoder: &Decoder,
    outputs: &[OutputTensor],
    labels: &[String],
    placement: &Placement,
) -> Result<Found, String> {
    let label = |class: usize| {
        labels
            .get(class)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    };
    let first = || outputs.first().ok_or("the model gave no output");
    match decoder {
        Decoder::Yolov8(config) => {
            let output = first()?;
            let [1, rows, anchors] = output.shape[..] else {
                return Err(format!(
                    "the yolov8 decoder needs an output of shape [batch, 4 + classes, anchors]; \
                     `{}` has {:?}",
                    output.name, output.shape
                ));
            };
            let detections = decode_yolov8(
                &output.data,
                rows,
                anchors,
                config,
                &placement.letterbox,
                placement.source,
            );
            let objects = detections
                .into_iter()
                .map(|d| Object {
                    class_id: u32::try_from(d.class_id).unwrap_or(u32::MAX),
                    label: label(d.class_id),
                    confidence: d.confidence,
                    x: d.x,
                    y: d.y,
                    w: d.w,
                    h: d.h,
                    track_id: None,
                    labels: Vec::new(),
                })
                .collect();
            Ok(Found {
                objects,
                labels: Vec::new(),
            })
        }
        Decoder::Classify { top } => {
            let scores = &first()?.data;
            let labels = classify(scores, *top)
                .into_iter()
                .map(|(class, score)| (label(class), score))
                .collect();
            Ok(Found {
                objects: Vec::new(),
                labels,
            })
        }
        Decoder::Raw => Ok(Found::default()),
    }
}
