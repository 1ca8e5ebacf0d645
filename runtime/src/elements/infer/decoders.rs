//! What each decoder reads in one image's outputs (the shapes it needs) and which of the
//! engine's decodings it runs on them. A decoder is made once, when the element starts, by
//! the one `match` over the spec's decoder (`config::decoder`); the masks and keypoints
//! decoders are in `segpose.rs`.

use std::fmt;

use vpl_compiler::plan::InferenceSpec;

use crate::engine::OutputTensor;
use crate::engine::decode::boxes::Rows;
use crate::engine::decode::detr::{DetrConfig, decode_detr};
use crate::engine::decode::ssd::{SsdConfig, decode_ssd};
use crate::engine::decode::text::{TextBoxesConfig, decode_ctc, decode_text_boxes};
use crate::engine::decode::yolov5::{Yolov5Config, decode_yolov5};
use crate::engine::decode::{Detection, Yolov8Config, classify, decode_yolov8};
use crate::meta::{Label, Object};

pub(crate) use super::model::Found;
use super::model::{Placement, pick, raw_row};

/// One family's reading of a model's outputs.
pub trait Decode: Send + Sync + fmt::Debug {
    /// One image's outputs (`[1, ...]` each) → what it found, in the pixels of the image's
    /// source (`placement.source`: the frame, or the crop).
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String>;
}

/// One image's outputs, and what reading them needs from the spec.
pub struct Outputs<'a> {
    pub tensors: &'a [OutputTensor],
    pub placement: &'a Placement,
    pub spec: &'a InferenceSpec,
}

impl Outputs<'_> {
    /// The output the decoder reads: the one the spec names (checked against the file at
    /// compile time), or the only one.
    pub fn output(&self) -> Result<&OutputTensor, String> {
        pick(self.tensors, &self.spec.output)
    }

    /// Class `class`'s name: its label, or its number where the labels stop.
    pub fn label(&self, class: usize) -> String {
        self.spec
            .labels
            .get(class)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    }

    /// Detections → the meta's objects, named by their labels.
    pub fn object(&self, d: &Detection) -> Object {
        Object {
            class_id: u32::try_from(d.class_id).unwrap_or(u32::MAX),
            label: self.label(d.class_id),
            confidence: d.confidence,
            x: d.x,
            y: d.y,
            w: d.w,
            h: d.h,
            ..Object::default()
        }
    }

    fn objects(&self, detections: Vec<Detection>) -> Found {
        Found {
            objects: detections.iter().map(|d| self.object(d)).collect(),
            ..Found::default()
        }
    }

    /// The model input's width and height, which boxes in input pixels are relative to.
    pub fn input(&self) -> (u32, u32) {
        (self.spec.preprocess.width, self.spec.preprocess.height)
    }
}

pub fn shape_error(decoder: &str, expected: &str, output: &OutputTensor) -> String {
    format!(
        "the {decoder} decoder needs an output of shape {expected}; `{}` has {:?}",
        output.name, output.shape
    )
}

#[derive(Debug)]
pub struct Yolov8(pub Yolov8Config);

impl Decode for Yolov8 {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, rows, anchors] = output.shape[..] else {
            return Err(shape_error(
                "yolov8",
                "[batch, 4 + classes, anchors]",
                output,
            ));
        };
        let p = image.placement;
        let found = decode_yolov8(&output.data, rows, anchors, &self.0, &p.letterbox, p.source);
        Ok(image.objects(found))
    }
}

#[derive(Debug)]
pub struct Yolov5(pub Yolov5Config);

impl Decode for Yolov5 {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, _, width] = output.shape[..] else {
            return Err(shape_error(
                "yolov5",
                "[batch, anchors, 5 + classes]",
                output,
            ));
        };
        let rows = Rows::whole(&output.data, width);
        let p = image.placement;
        let found = decode_yolov5(rows, &self.0, image.input(), &p.letterbox, p.source)?;
        Ok(image.objects(found))
    }
}

/// `boxes`: the boxes output of a model with two; empty: one output
/// `[1, queries, 4 + classes]`.
#[derive(Debug)]
pub struct Detr {
    pub config: DetrConfig,
    pub boxes: String,
}

impl Decode for Detr {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let scores = image.output()?;
        let (boxes, logits) = if self.boxes.is_empty() {
            let expected = "[batch, queries, 4 + classes]";
            let [1, _, width] = scores.shape[..] else {
                return Err(shape_error("detr", expected, scores));
            };
            if width <= 4 {
                return Err(shape_error("detr", expected, scores));
            }
            let rows = Rows::whole(&scores.data, width);
            let logits = Rows {
                offset: 4,
                len: width - 4,
                ..rows
            };
            (Rows { len: 4, ..rows }, logits)
        } else {
            let boxes = pick(image.tensors, &self.boxes)?;
            let ([1, _, 4], [1, _, width]) = (&boxes.shape[..], &scores.shape[..]) else {
                return Err(format!(
                    "the detr decoder needs boxes [batch, queries, 4] and logits [batch, queries, classes]; \
                     `{}` has {:?} and `{}` {:?}",
                    boxes.name, boxes.shape, scores.name, scores.shape
                ));
            };
            (
                Rows::whole(&boxes.data, 4),
                Rows::whole(&scores.data, *width),
            )
        };
        let p = image.placement;
        let found = decode_detr(
            boxes,
            logits,
            &self.config,
            image.input(),
            &p.letterbox,
            p.source,
        )?;
        Ok(image.objects(found))
    }
}

/// `boxes`: the boxes output (the scores are the spec's `output`).
#[derive(Debug)]
pub struct Ssd {
    pub config: SsdConfig,
    pub boxes: String,
}

impl Decode for Ssd {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let scores = image.output()?;
        let boxes = pick(image.tensors, &self.boxes)?;
        let ([1, _, bw], [1, _, sw]) = (&boxes.shape[..], &scores.shape[..]) else {
            return Err(format!(
                "the ssd decoder needs boxes [batch, anchors, 4 + extra] and scores [batch, anchors, classes]; \
                 `{}` has {:?} and `{}` {:?}",
                boxes.name, boxes.shape, scores.name, scores.shape
            ));
        };
        if *bw < 4 {
            return Err(shape_error("ssd", "[batch, anchors, 4 + extra]", boxes));
        }
        let boxes = Rows {
            len: 4,
            ..Rows::whole(&boxes.data, *bw)
        };
        let p = image.placement;
        let found = decode_ssd(
            boxes,
            Rows::whole(&scores.data, *sw),
            &self.config,
            image.input(),
            &p.letterbox,
            p.source,
        )?;
        Ok(image.objects(found))
    }
}

/// A DB text detector's probability map → objects labelled "text".
#[derive(Debug)]
pub struct TextBoxes(pub TextBoxesConfig);

impl Decode for TextBoxes {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, 1, height, width] = output.shape[..] else {
            return Err(shape_error(
                "text_boxes",
                "[batch, 1, height, width]",
                output,
            ));
        };
        let p = image.placement;
        let found = decode_text_boxes(
            &output.data,
            (width, height),
            image.input(),
            &self.0,
            &p.letterbox,
            p.source,
        );
        Ok(image.objects(found))
    }
}

/// The `top` best classes of a classifier's scores.
#[derive(Debug)]
pub struct Classify {
    pub top: usize,
}

impl Decode for Classify {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let labels = classify(&image.output()?.data, self.top)
            .into_iter()
            .map(|(class, score)| Label {
                model: image.spec.model_name.clone(),
                label: image.label(class),
                confidence: score,
            })
            .collect();
        Ok(Found {
            labels,
            ..Found::default()
        })
    }
}

/// A CTC recogniser: `alphabet[k - 1]` is class `k` (class 0 the blank), or, with
/// `blank_last`, `alphabet[k]` is class `k` and the last class the blank.
#[derive(Debug)]
pub struct Ctc {
    pub alphabet: Vec<String>,
    pub blank_last: bool,
}

impl Decode for Ctc {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, steps, classes] = output.shape[..] else {
            return Err(shape_error("ctc", "[batch, steps, classes]", output));
        };
        let alphabet = &self.alphabet;
        if classes != alphabet.len() + 1 && classes != alphabet.len() + 2 {
            return Err(format!(
                "output `{}` has {classes} classes but the alphabet has {} characters (was a \
                 file replaced after the check?)",
                output.name,
                alphabet.len()
            ));
        }
        let blank = if self.blank_last { classes - 1 } else { 0 };
        Ok(Found {
            text: Some(decode_ctc(&output.data, steps, classes, blank, alphabet)),
            ..Found::default()
        })
    }
}

/// Keeps the outputs as they are, as metadata tensors.
#[derive(Debug)]
pub struct Raw;

impl Decode for Raw {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let spec = image.spec;
        Ok(Found {
            tensors: raw_row(image.tensors, &spec.output, 0, 1, &spec.batch_axes)?,
            ..Found::default()
        })
    }
}
