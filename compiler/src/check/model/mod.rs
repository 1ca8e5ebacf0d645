//! A model declaration + the model file's signature → what the model is (detector,
//! classifier, raw), its labels, and the preprocessing that turns frames into its input
//! tensor. Reports what is wrong with the model itself (E0303–E0308).

pub mod boxes;
pub mod metadata;
pub mod open_outputs;
pub mod segpose;
pub mod text;

use std::path::Path;

use crate::check::errors::{InputProblem, ShapeProblem, TypeError};
use crate::facts::{DType, Dim, FactError, ModelFacts, TensorFacts};
use crate::hir::{self, BoundArg, Value};
use crate::host::{Host, normalize};
use crate::stage::{Decoder, Family, Reads};
use crate::syntax::Span;
use crate::syntax::ast::{self, TypeArg, TypeKind};
use crate::syntax::literal::LitValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelOrder {
    Rgb,
    Bgr,
    Gray,
    /// Four channels, the fourth opaque: models for RGBA/RGBX frames.
    Rgbx,
    Bgrx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resize {
    Letterbox,
    Stretch,
    /// Aspect kept at the input's height, padded right with 0 after normalisation
    /// (text recognisers).
    FixedHeight,
}

/// How frames become the model's input tensor; derived from the model, ready for lowering.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocess {
    pub layout: Layout,
    pub channels: u32,
    pub order: PixelOrder,
    /// The input's width and height: fixed by the file or by the declared `input:`
    /// (a model whose size stays open is E0308, so a checked model always has one).
    pub size: Option<(u32, u32)>,
    pub resize: Resize,
    pub dtype: DType,
    pub scale: f64,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelKind {
    /// A box detector: YOLOv8 `[N, 4 + classes, anchors]`, or yolov5, detr, ssd.
    Detector {
        classes: Option<i64>,
    },
    Classifier {
        classes: Option<i64>,
    },
    /// A CTC text recogniser (`ctc`): `[N, T, classes]`, class 0 the blank, then the
    /// alphabet's characters in order.
    Recognizer {
        classes: Option<i64>,
        alphabet: Vec<String>,
        /// The `alphabet:` file, resolved; `None`: the model's `character` metadata.
        alphabet_file: Option<std::path::PathBuf>,
    },
    Raw,
}

#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub span: Span,
    pub facts: ModelFacts,
    pub kind: ModelKind,
    pub labels: crate::types::Labels,
    pub preprocess: Preprocess,
    /// The fixed batch dimension, or `None` when it is dynamic.
    pub batch: Option<i64>,
    /// Why frames cannot be fed to this model; reported at each `infer` that uses it.
    pub input_problem: Option<InputProblem>,
    /// The output the decoder reads; `None` for `raw` without `output:` (every output).
    pub output: Option<String>,
    /// `yolov8_seg`, `yolov8_pose`, `semantic`: what else they read (`check/segpose.rs`).
    pub extras: Option<segpose::Extras>,
    /// What a box decoder reads besides `output` (`check/decoders.rs`).
    pub fit: boxes::Fit,
    pub labels_from: LabelsFrom,
    /// The axis of each output that carries the batch (0 but for time-major outputs such
    /// as a CRNN's `[T, N, C]`: `check/open_outputs.rs`).
    pub batch_axes: Vec<(String, usize)>,
}

impl ModelInfo {
    /// The axis of output `name` that carries the batch.
    pub fn batch_axis(&self, name: &str) -> usize {
        self.batch_axes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, a)| *a)
    }
}

impl ModelInfo {
    /// `tensor<f32, [1, 3, 640, 640]> -> tensor<f32, [1, 6, 8400]>`
    pub fn signature(&self) -> String {
        let side = |ts: &[TensorFacts]| {
            ts.iter()
                .map(TensorFacts::signature)
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{} -> {}",
            side(&self.facts.inputs),
            side(&self.facts.outputs)
        )
    }
}

fn floats(value: &Value) -> Option<Vec<f64>> {
    match value {
        Value::List(items) => items
            .iter()
            .map(|v| match v {
                Value::Float(f) => Some(*f),
                Value::Int(i) => Some(*i as f64),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Where a model's labels come from, for hover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelsFrom {
    /// `labels:` in the declaration.
    Declared,
    /// The model's Ultralytics `names` metadata (`check/metadata.rs`).
    Metadata,
    /// Neither: `class0, class1, …`.
    Numbered,
}

fn is_supported_input(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::F16 | DType::U8)
}

fn is_supported_output(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::F16)
}

fn shape_text(t: &TensorFacts) -> String {
    let dims: Vec<String> = t.shape.iter().map(Dim::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// "`boxes` [N, 4], `scores` [N, 2]": the outputs, for messages.
pub(super) fn outputs_text<'a>(outputs: impl IntoIterator<Item = &'a TensorFacts>) -> String {
    outputs
        .into_iter()
        .map(|t| format!("`{}` {}", t.name, shape_text(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a decoder reads from an output of this shape: the number of classes (`None` when
/// the decoder does not need it), or why it cannot read it. A dynamic dimension never
/// stands in for the classes: what a model outputs per class must be fixed in the file.
fn read_shape(decoder: Decoder, output: &TensorFacts) -> Result<Option<i64>, ShapeProblem> {
    let dims: Vec<Option<i64>> = output.shape.iter().map(Dim::fixed).collect();
    match decoder {
        Decoder::Yolov8 => match dims.as_slice() {
            [_, Some(c), Some(a)] if *c > 4 && a > c => Ok(Some(c - 4)),
            [_, Some(a), Some(c)] if a > c && *c > 5 => Err(ShapeProblem::LooksLikeYolov5),
            [_, Some(c), None] if *c > 4 => Ok(Some(c - 4)),
            [_, None, _] => Err(ShapeProblem::DynamicClasses),
            _ => Err(ShapeProblem::NotYolov8),
        },
        Decoder::TextBoxes => text::text_map_shape(&dims),
        Decoder::Ctc => text::ctc_shape(&dims),
        Decoder::Classify => match dims.as_slice() {
            [_, Some(k)] | [_, Some(k), Some(1), Some(1)] => Ok(Some(*k)),
            [_, None] | [_, None, Some(1), Some(1)] => Err(ShapeProblem::DynamicClasses),
            _ => Err(ShapeProblem::NotClassifier),
        },
        Decoder::Yolov8Seg => segpose::seg_shape(&dims),
        Decoder::Yolov8Pose => segpose::pose_shape(&dims),
        Decoder::Semantic => segpose::semantic_shape(&dims),
        // Read by `boxes.rs` (a row a candidate box), or not read at all.
        Decoder::Yolov5 | Decoder::Detr | Decoder::Ssd | Decoder::Raw => Ok(None),
    }
}

/// The output the decoder reads: the one `output:` names, the only one, or the only one
/// whose shape the decoder can read (with labels, the only one with that many classes).
fn choose_output<'a>(
    facts: &'a ModelFacts,
    decoder: Decoder,
    named: Option<(&str, Span)>,
    labels: Option<usize>,
    decoder_span: Span,
    errors: &mut Vec<TypeError>,
) -> Result<Option<&'a TensorFacts>, ()> {
    if let Some((name, span)) = named {
        return match facts.outputs.iter().find(|o| o.name == name) {
            Some(o) => Ok(Some(o)),
            None => {
                errors.push(TypeError::UnknownOutput {
                    span,
                    name: name.to_string(),
                    outputs: outputs_text(&facts.outputs),
                });
                Err(())
            }
        };
    }
    match facts.outputs.as_slice() {
        [] => return Err(()),
        [only] => return Ok(Some(only)),
        _ if decoder.reads() == Reads::Every => return Ok(None),
        _ => {}
    }
    let readable: Vec<(&TensorFacts, Option<i64>)> = facts
        .outputs
        .iter()
        .filter_map(|o| read_shape(decoder, o).ok().map(|c| (o, c)))
        .collect();
    let by_labels: Vec<&TensorFacts> = readable
        .iter()
        .filter(|(_, c)| labels.is_some_and(|n| *c == Some(n as i64)))
        .map(|(o, _)| *o)
        .collect();
    match (readable.as_slice(), by_labels.as_slice()) {
        ([(only, _)], _) | (_, [only]) => Ok(Some(only)),
        // None fits: the diagnostic names the first and lists them all.
        ([], _) => Ok(facts.outputs.first()),
        (several, _) => {
            errors.push(TypeError::AmbiguousOutput {
                span: decoder_span,
                decoder,
                candidates: several.iter().map(|(o, _)| o.name.clone()).collect(),
                outputs: outputs_text(several.iter().map(|(o, _)| *o)),
            });
            Err(())
        }
    }
}

pub(super) fn analyse(
    model: &hir::Model,
    host: &dyn Host,
    dir: &Path,
    errors: &mut Vec<TypeError>,
) -> Option<ModelInfo> {
    let call = &model.call;
    let path_arg = call.bound("path")?;
    let Value::String(path_text) = &path_arg.value else {
        return None;
    };
    let path = call.resolved_path.as_ref()?;
    let facts = match host.model_signature(path) {
        Ok(facts) => facts,
        Err(FactError::Invalid(reason)) => {
            errors.push(TypeError::NotOnnx {
                span: path_arg.span,
                path: path_text.clone(),
                reason,
            });
            return None;
        }
        // Unavailable: this host cannot read models; nothing to check.
        Err(FactError::Unavailable(_)) => return None,
        // Not found or unreadable when names were resolved: E0109 already.
        Err(_) if host.check_file(path).is_err() => return None,
        // It opened then but cannot be read now: say so, or `infer` would lose its model.
        Err(FactError::NotFound) => {
            errors.push(TypeError::InputUnreadable {
                span: path_arg.span,
                path: path_text.clone(),
                what: "model",
                reason: "it is gone".into(),
            });
            return None;
        }
        Err(FactError::Unreadable(reason)) => {
            errors.push(TypeError::InputUnreadable {
                span: path_arg.span,
                path: path_text.clone(),
                what: "model",
                reason,
            });
            return None;
        }
    };

    // Output dimensions the file leaves open, from a run of the model on the input it
    // will be fed (`check/open_outputs.rs`).
    let mut facts = facts;
    let declared_early = match call.bound("input") {
        Some(BoundArg {
            value: Value::Tensor(declared),
            given: true,
            ..
        }) if facts
            .inputs
            .first()
            .is_some_and(|i| declared_mismatch(declared, i).is_none()) =>
        {
            declared_dims(declared)
        }
        _ => None,
    };
    let file_outputs = facts.outputs.clone();
    let run_axes = open_outputs::resolve(&mut facts, path, host, declared_early);
    let batch_axes: Vec<(String, usize)> = facts
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                open_outputs::batch_axis(&facts, o, &run_axes),
            )
        })
        .collect();

    let decoder = match &call.bound("decoder")?.value {
        Value::Decoder(d) => Some(d.as_ref()),
        _ => None,
    };
    let decoder_kind = decoder
        .and_then(|d| d.kind.decoder())
        .unwrap_or(Decoder::Raw);
    // yolov5, detr and ssd: their outputs are chosen and read by `boxes.rs`.
    let box_decoder = decoder
        .filter(|_| boxes::reads_rows(decoder_kind))
        .map(|d| (decoder_kind, d));
    let decoder_span = call.bound("decoder").map_or(call.span, |a| a.span);

    let mut ok = true;
    let input = &facts.inputs[0];
    if !is_supported_input(input.dtype) {
        errors.push(TypeError::UnsupportedDType {
            span: path_arg.span,
            tensor: input.name.clone(),
            dtype: input.dtype.name(),
            output: false,
        });
        ok = false;
    }
    // Labels, from the declaration: they choose among a classifier's outputs.
    let labels_arg = call.bound("labels")?;
    let labels: Option<Vec<String>> = match &labels_arg.value {
        Value::List(items) if labels_arg.given => Some(
            items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
        ),
        Value::String(file) => {
            let labels_path = normalize(&dir.join(file));
            match host.read_labels(&labels_path) {
                Ok(labels) => Some(labels),
                Err(FactError::Unavailable(_)) => None,
                // Not there when names were resolved: E0109 already.
                Err(_) if host.check_file(&labels_path).is_err() => None,
                // A labels file that cannot be read (not UTF-8 text, say) must not turn
                // silently into `class0, class1, …`.
                Err(e) => {
                    errors.push(TypeError::InputUnreadable {
                        span: labels_arg.span,
                        path: file.clone(),
                        what: "labels file",
                        reason: match e {
                            FactError::Unreadable(r) | FactError::Invalid(r) => r,
                            _ => "it is gone".into(),
                        },
                    });
                    None
                }
            }
        }
        _ => None,
    };
    let named = match call.bound("output") {
        Some(BoundArg {
            value: Value::String(name),
            span,
            ..
        }) => Some((name.as_str(), *span)),
        _ => None,
    };
    // A layout no decoder reads (DetectNet_v2's grids, DeepStream-Yolo's decoded boxes) is
    // said as such before any decoder's shape rule can take it and decode garbage.
    // Six values a row are a one-class YOLOv5's or a two-class DETR's (one with `softmax`)
    // only where the labels say that many classes.
    let six_classes = boxes::six_values_classes(decoder_kind, decoder);
    let named_classes = labels
        .as_ref()
        .map(Vec::len)
        .or_else(|| metadata::ultralytics_names(&facts).map(|n| n.len()));
    let six_named = six_classes.is_some() && named_classes == six_classes;
    if decoder_kind.family() != Family::Raw
        && let Some(what) = boxes::unrecognised(&facts, six_named)
    {
        let output = facts
            .outputs
            .iter()
            .find(|o| named.is_some_and(|(n, _)| o.name == n));
        let output = output.unwrap_or(&facts.outputs[0]);
        errors.push(TypeError::DecoderShape {
            span: decoder_span,
            decoder: decoder_kind,
            output: shape_text(output),
            outputs: (facts.outputs.len() > 1).then(|| outputs_text(&facts.outputs)),
            problem: ShapeProblem::NoDecoderFits { what },
            suggest: None,
        });
        return None;
    }
    let mut boxes_output = None;
    let chosen = match box_decoder {
        Some((kind, d)) => {
            let Ok(c) = boxes::choose(kind, d, &facts, named, errors) else {
                return None;
            };
            boxes_output = c.boxes;
            Some(c.scores)
        }
        None => {
            let Ok(chosen) = choose_output(
                &facts,
                decoder_kind,
                named,
                labels.as_ref().map(Vec::len),
                decoder_span,
                errors,
            ) else {
                return None;
            };
            chosen
        }
    };
    // Listed in messages when the model has several outputs.
    let all_outputs = (facts.outputs.len() > 1).then(|| outputs_text(&facts.outputs));
    let output = chosen.unwrap_or(&facts.outputs[0]);
    for read in std::iter::once(output).chain(boxes_output) {
        if decoder_kind.family() != Family::Raw && !is_supported_output(read.dtype) {
            errors.push(TypeError::UnsupportedDType {
                span: path_arg.span,
                tensor: read.name.clone(),
                dtype: read.dtype.name(),
                output: true,
            });
            ok = false;
        }
    }

    // The declared `input:` is checked against the file.
    let mut declared_input = None;
    if let Some(BoundArg {
        value: Value::Tensor(declared),
        span,
        given: true,
    }) = call.bound("input")
    {
        match declared_mismatch(declared, input) {
            Some(declared_text) => {
                errors.push(TypeError::InputDeclared {
                    span: *span,
                    declared: declared_text,
                    actual: input.signature(),
                });
                ok = false;
            }
            None => declared_input = Some((declared, *span)),
        }
    }

    // Layout, channels and size of the input.
    let mut input_problem = None;
    if facts.inputs.len() > 1 {
        input_problem = Some(InputProblem::Inputs {
            count: facts.inputs.len(),
        });
    }
    let channel_dim = |i: usize| {
        input
            .shape
            .get(i)
            .and_then(Dim::fixed)
            .filter(|c| matches!(*c, 1 | 3 | 4))
    };
    let (layout, channels) = if input.shape.len() != 4 {
        input_problem.get_or_insert(InputProblem::Rank {
            shape: shape_text(input),
        });
        (Layout::Nchw, 3)
    } else if let Some(c) = channel_dim(1) {
        (Layout::Nchw, c as u32)
    } else if let Some(c) = channel_dim(3) {
        (Layout::Nhwc, c as u32)
    } else {
        input_problem.get_or_insert(InputProblem::Channels {
            shape: shape_text(input),
        });
        (Layout::Nchw, 3)
    };
    let (h_dim, w_dim) = match layout {
        Layout::Nchw => (2, 3),
        Layout::Nhwc => (1, 2),
    };
    let dim_u32 = |i: usize| {
        input
            .shape
            .get(i)
            .and_then(Dim::fixed)
            .and_then(|v| u32::try_from(v).ok())
    };
    // A dimension the file leaves open is fixed by the declared `input:`.
    let declared_u32 = |i: usize| {
        let (declared, _) = declared_input?;
        declared_dims(declared)?.get(i).and_then(|d| match d {
            ast::Dim::Number(lit, _) => match lit.value {
                LitValue::Int(v) => u32::try_from(v).ok().filter(|v| *v > 0),
                _ => None,
            },
            _ => None,
        })
    };
    let size_dim = |i: usize| dim_u32(i).or_else(|| declared_u32(i));
    let size = match (size_dim(w_dim), size_dim(h_dim)) {
        (Some(w), Some(h)) if input.shape.len() == 4 => Some((w, h)),
        _ => None,
    };
    if size.is_none() && input_problem.is_none() && ok {
        let suggested: Vec<String> = input
            .shape
            .iter()
            .enumerate()
            .map(|(i, d)| match d.fixed() {
                Some(n) => n.to_string(),
                None if i == h_dim || i == w_dim => "640".to_string(),
                None => "_".to_string(),
            })
            .collect();
        errors.push(TypeError::OpenInputSize {
            span: declared_input.map_or(path_arg.span, |(_, span)| span),
            model: model.name.name.clone(),
            input: input.signature(),
            declared: declared_input.is_some(),
            suggestion: format!(
                "input: tensor<{}, [{}]>",
                input.dtype.name(),
                suggested.join(", ")
            ),
        });
        ok = false;
    }
    let batch = input.shape.first().and_then(Dim::fixed);

    let order = match (&call.bound("color")?.value, channels) {
        (_, 1) => PixelOrder::Gray,
        (Value::Symbol(s), 4) if s == "bgr" => PixelOrder::Bgrx,
        (_, 4) => PixelOrder::Rgbx,
        (Value::Symbol(s), _) if s == "bgr" => PixelOrder::Bgr,
        _ => PixelOrder::Rgb,
    };
    let resize = match &call.bound("resize")?.value {
        Value::Symbol(s) if s == "letterbox" => Resize::Letterbox,
        Value::Symbol(s) if s == "stretch" => Resize::Stretch,
        Value::Symbol(s) if s == "fixed_height" => Resize::FixedHeight,
        _ if decoder_kind.letterboxes() => Resize::Letterbox,
        _ => Resize::Stretch,
    };
    let scale = match &call.bound("scale")?.value {
        Value::Float(f) => *f,
        Value::Int(i) => *i as f64,
        _ => 1.0 / 255.0,
    };
    let mut per_channel = |param: &'static str, default: f64| -> Vec<f64> {
        let a = call.bound(param);
        let values = a
            .and_then(|a| floats(&a.value))
            .unwrap_or_else(|| vec![default; 3]);
        let given = a.is_some_and(|a| a.given);
        match values.len() {
            n if n == channels as usize => values,
            1 => vec![values[0]; channels as usize],
            // The defaults (3 zeros, 3 ones) suit gray and RGBX models too.
            3 if (channels == 1 || channels == 4) && !given => vec![values[0]; channels as usize],
            n => {
                if input_problem.is_none() {
                    input_problem = Some(InputProblem::PerChannel {
                        param,
                        given: n,
                        channels,
                    });
                }
                vec![default; channels as usize]
            }
        }
    };
    let mean = per_channel("mean", 0.0);
    let std = per_channel("std", 1.0);
    // Frames are divided by `std`: a zero would make every input value infinite.
    if let Some(arg) = call.bound("std")
        && arg.given
        && floats(&arg.value).is_some_and(|v| v.contains(&0.0))
    {
        errors.push(TypeError::ZeroStd { span: arg.span });
        ok = false;
    }

    // The decoder against the output's shape.
    let mut fit = boxes::Fit::default();
    let mut extras = None;
    let shape_error = |problem, errors: &mut Vec<TypeError>| {
        errors.push(TypeError::DecoderShape {
            span: decoder_span,
            decoder: decoder_kind,
            output: shape_text(output),
            outputs: all_outputs.clone(),
            problem,
            suggest: boxes::suggest(output).filter(|s| *s != decoder_kind),
        });
    };
    // A run fixes sizes that follow the input (anchors, steps, a map's size), never the
    // number of classes: a decoder whose classes are open in the file stays refused
    // (a recogniser's steps resolved to 40 are no `4 + classes`).
    let file_output = file_outputs
        .iter()
        .find(|o| o.name == output.name && o.shape != output.shape);
    let classes_open = file_output.is_some_and(|o| match box_decoder {
        Some(_) => o.shape.last().is_some_and(|d| d.fixed().is_none()),
        None => matches!(
            read_shape(decoder_kind, o),
            Err(ShapeProblem::DynamicClasses)
        ),
    });
    let read = match box_decoder {
        _ if classes_open => {
            let shown = file_output.unwrap_or(output);
            match box_decoder {
                Some(_) => errors.push(TypeError::BoxDecoderShape {
                    span: decoder_span,
                    decoder: decoder_kind,
                    output: format!("`{}` {}", shown.name, shape_text(shown)),
                    outputs: all_outputs.clone(),
                    problem: boxes::BoxProblem::DynamicClasses,
                    suggest: None,
                }),
                None => errors.push(TypeError::DecoderShape {
                    span: decoder_span,
                    decoder: decoder_kind,
                    output: shape_text(shown),
                    outputs: all_outputs.clone(),
                    problem: ShapeProblem::DynamicClasses,
                    suggest: None,
                }),
            }
            Err(())
        }
        Some((kind, d)) => {
            let cx = boxes::Context {
                kind,
                decoder: d,
                decoder_span,
                size,
                all_outputs: all_outputs.clone(),
                host,
                dir,
            };
            let chosen = boxes::Chosen {
                scores: output,
                boxes: boxes_output,
            };
            boxes::read(&cx, &chosen, errors).map(|(classes, f)| {
                fit = f;
                classes
            })
        }
        None => {
            let fitted = match read_shape(decoder_kind, output) {
                // A shape the decoder reads may still be another decoder's (mask
                // coefficients are not classes).
                Ok(classes) => match segpose::better(decoder_kind, &facts, output) {
                    Some(problem) => Err(problem),
                    None => segpose::fit(decoder_kind, &facts, output, classes).map(|(c, e)| {
                        extras = e;
                        c
                    }),
                },
                Err(problem) => {
                    Err(segpose::better(decoder_kind, &facts, output).unwrap_or(problem))
                }
            };
            fitted.map_err(|problem| shape_error(problem, errors))
        }
    };
    if decoder_kind == Decoder::TextBoxes
        && read.is_ok()
        && output.shape.len() == 4
        && output.shape[1].fixed().is_none()
    {
        errors.push(TypeError::OpenDimension {
            span: decoder_span,
            decoder: decoder_kind,
            output: format!("`{}` {}", output.name, shape_text(output)),
            what: "channels",
        });
    }
    let classes = read.unwrap_or_else(|()| {
        ok = false;
        None
    });
    if let Some(keypoints) = extras.as_ref().and_then(|e| e.keypoints)
        && let Some(d) = decoder
        && d.string("skeleton") == Some("coco17")
        && keypoints != 17
    {
        errors.push(TypeError::SkeletonKeypoints {
            span: d.bound("skeleton").map_or(decoder_span, |a| {
                if a.given { a.span } else { decoder_span }
            }),
            keypoints,
            output: format!("`{}` {}", output.name, shape_text(output)),
        });
        ok = false;
    }
    let kind = match decoder_kind {
        Decoder::Yolov8
        | Decoder::Yolov5
        | Decoder::Detr
        | Decoder::Ssd
        | Decoder::TextBoxes
        | Decoder::Yolov8Seg
        | Decoder::Yolov8Pose
        | Decoder::Semantic => ModelKind::Detector { classes },
        Decoder::Classify => ModelKind::Classifier { classes },
        Decoder::Ctc => {
            let alphabet = match (decoder, classes) {
                (Some(d), Some(c)) => text::alphabet(
                    d,
                    decoder_span,
                    &facts,
                    c,
                    format!("`{}` {}", output.name, shape_text(output)),
                    host,
                    dir,
                    errors,
                ),
                _ => None,
            };
            ok &= alphabet.is_some() || classes.is_none();
            ModelKind::Recognizer {
                classes,
                alphabet: alphabet.unwrap_or_default(),
                alphabet_file: decoder.and_then(|d| text::alphabet_file(d, dir)),
            }
        }
        Decoder::Raw => ModelKind::Raw,
    };

    // Labels against the number of classes (a recogniser's classes are its alphabet's).
    let classes = match kind {
        ModelKind::Detector { classes } | ModelKind::Classifier { classes } => classes,
        ModelKind::Recognizer { .. } | ModelKind::Raw => None,
    };
    // A text detector's one class is "text" unless labels say otherwise.
    let labels = match labels {
        None if decoder_kind == Decoder::TextBoxes => Some(vec!["text".to_string()]),
        labels => labels,
    };
    if let (Some(labels), Some(classes)) = (&labels, classes)
        && labels.len() as i64 != classes
    {
        errors.push(TypeError::LabelCount {
            span: labels_arg.span,
            labels: labels.len(),
            classes,
            output: format!("`{}` {}", output.name, shape_text(output)),
            outputs: all_outputs.clone(),
        });
    }
    // Without `labels:`, the model's own names, if they are one per class.
    let metadata = match metadata::names_entry(&facts) {
        Some(Ok(names)) if labels.is_none() => Some(names),
        // A `names` entry that does not parse would leave `class0, class1, …` in silence.
        Some(Err(text)) if labels.is_none() && classes.is_some() => {
            errors.push(TypeError::MetadataNamesUnread {
                span: path_arg.span,
                text,
                classes: classes.unwrap_or(0),
            });
            None
        }
        _ => None,
    };
    if let (Some(names), Some(classes)) = (&metadata, classes)
        && names.len() as i64 != classes
    {
        errors.push(TypeError::MetadataLabelCount {
            span: path_arg.span,
            names: names.len(),
            classes,
            output: format!("`{}` {}", output.name, shape_text(output)),
        });
        ok = false;
    }
    let labels_from = match (&labels, &metadata) {
        (Some(_), _) => LabelsFrom::Declared,
        (None, Some(_)) => LabelsFrom::Metadata,
        (None, None) => LabelsFrom::Numbered,
    };
    let labels = labels.or(metadata).unwrap_or_else(|| {
        (0..classes.unwrap_or(0))
            .map(|i| format!("class{i}"))
            .collect()
    });

    if !ok {
        return None;
    }
    let labels = crate::types::Labels::from(labels);
    Some(ModelInfo {
        name: model.name.name.clone(),
        span: model.name.span,
        preprocess: Preprocess {
            layout,
            channels,
            order,
            size,
            resize,
            dtype: input.dtype,
            scale,
            mean,
            std,
        },
        kind,
        labels,
        batch,
        input_problem,
        output: chosen.map(|o| o.name.clone()),
        extras,
        fit,
        labels_from,
        batch_axes,
        facts,
    })
}

/// The dimensions of a declared `tensor<DTYPE, [DIMS]>`.
fn declared_dims(declared: &ast::TypeExpr) -> Option<&[ast::Dim]> {
    match &declared.kind {
        TypeKind::Named { name, args } if name.name == "tensor" && args.len() == 2 => {
            match &args[1] {
                TypeArg::Dims(dims, _) => Some(dims),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The declared tensor's text when it disagrees with the file's input.
fn declared_mismatch(declared: &ast::TypeExpr, actual: &TensorFacts) -> Option<String> {
    let mut text = String::new();
    crate::syntax::dump::type_to(&mut text, declared);
    let TypeKind::Named { name, args } = &declared.kind else {
        return Some(text);
    };
    if name.name != "tensor" || args.len() != 2 {
        return Some(text);
    }
    let dtype_ok = match &args[0] {
        TypeArg::Type(ast::TypeExpr {
            kind: TypeKind::Named { name, .. },
            ..
        }) => DType::parse(&name.name) == Some(actual.dtype),
        TypeArg::Type(ast::TypeExpr {
            kind: TypeKind::Wildcard,
            ..
        }) => true,
        _ => false,
    };
    let dims_ok = match &args[1] {
        TypeArg::Dims(dims, _) => {
            dims.len() == actual.shape.len()
                && dims.iter().zip(&actual.shape).all(|(d, a)| match (d, a) {
                    (ast::Dim::Number(lit, _), Dim::Fixed(n)) => {
                        matches!(lit.value, LitValue::Int(v) if v == *n)
                    }
                    _ => true,
                })
        }
        _ => false,
    };
    (!(dtype_ok && dims_ok)).then_some(text)
}
