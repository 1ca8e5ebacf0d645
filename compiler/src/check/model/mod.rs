//! A model declaration + the model file's signature → what the model is (detector,
//! classifier, recogniser, raw), its labels, and the preprocessing that turns frames into
//! its input tensor. Reports what is wrong with the model itself (E0303–E0316, W0302,
//! W0303), each family of rules in a file of its own: the file and its input (`input.rs`),
//! the preprocessing (`preprocess.rs`), the decoders by family (`boxes.rs`, `segpose.rs`,
//! `text.rs`), the labels (`metadata.rs`), the output dimensions a run fixes
//! (`open_outputs.rs`). `analyse` runs them in turn.

mod anchors;
pub mod boxes;
pub(crate) mod errors;
pub(super) mod input;
pub mod metadata;
pub mod open_outputs;
pub(super) mod preprocess;
pub mod segpose;
pub mod text;

use std::path::Path;

pub use preprocess::{Layout, PixelOrder, Preprocess, Resize};

use crate::check::errors::TypeError;
use crate::decoders::Makes;
use crate::facts::{DType, Dim, ModelFacts, TensorFacts};
use crate::hir::{self, BoundArg, BoundCall, Value};
use crate::host::Host;
use crate::stage::{Decoder, Family, Reads};
use crate::syntax::Span;
use boxes::BoxError;
use errors::{DecoderError, ShapeProblem};
use input::{InputError, InputProblem};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelKind {
    /// Objects: boxes (the box decoders, `text_boxes`), with masks or keypoints
    /// (`yolov8_seg`, `yolov8_pose`, `semantic`).
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
    /// `yolov8_seg`, `yolov8_pose`, `semantic`: what else they read (`segpose.rs`).
    pub extras: Option<segpose::Extras>,
    /// What a box decoder reads besides `output` (`boxes.rs`).
    pub fit: boxes::Fit,
    pub labels_from: LabelsFrom,
    /// The axis of each output that carries the batch (0 but for time-major outputs such
    /// as a CRNN's `[T, N, C]`: `open_outputs.rs`).
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

/// Where a model's labels come from, for hover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelsFrom {
    /// `labels:` in the declaration.
    Declared,
    /// The model's Ultralytics `names` metadata (`metadata.rs`).
    Metadata,
    /// Neither: `class0, class1, …`.
    Numbered,
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
    decoder.rules().shape(&dims)
}

/// The output a decoder read by its shape reads: the one `output:` names, the only one, or
/// the only one whose shape the decoder can read (with labels, the only one with that many
/// classes).
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
                errors.push(TypeError::Decoder(DecoderError::UnknownOutput {
                    span,
                    name: name.to_string(),
                    outputs: outputs_text(&facts.outputs),
                }));
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
            errors.push(TypeError::Decoder(DecoderError::AmbiguousOutput {
                span: decoder_span,
                decoder,
                candidates: several.iter().map(|(o, _)| o.name.clone()).collect(),
                outputs: outputs_text(several.iter().map(|(o, _)| *o)),
            }));
            Err(())
        }
    }
}

/// A model declaration as the steps of `analyse` read it.
struct Decl<'a> {
    model: &'a hir::Model,
    call: &'a BoundCall,
    /// The model file, resolved.
    path: &'a Path,
    /// The `path` argument's span: where the file's problems are reported.
    path_span: Span,
    /// The decoder's call; `None` for the default, `raw`.
    decoder: Option<&'a BoundCall>,
    kind: Decoder,
    /// The `decoder:` argument's span (the model's call when it is not given).
    decoder_span: Span,
    host: &'a dyn Host,
    /// The `.vpl` file's folder, which the files the declaration names are relative to.
    dir: &'a Path,
}

impl<'a> Decl<'a> {
    fn new(model: &'a hir::Model, host: &'a dyn Host, dir: &'a Path) -> Option<Decl<'a>> {
        let call = &model.call;
        let decoder_arg = call.bound("decoder")?;
        let decoder = match &decoder_arg.value {
            Value::Decoder(d) => Some(d.as_ref()),
            _ => None,
        };
        Some(Decl {
            model,
            call,
            path: call.resolved_path.as_ref()?,
            path_span: call.bound("path")?.span,
            decoder,
            kind: decoder
                .and_then(|d| d.kind.decoder())
                .unwrap_or(Decoder::Raw),
            decoder_span: decoder_arg.span,
            host,
            dir,
        })
    }

    /// The box decoder's call, for the decoders whose outputs `boxes.rs` reads.
    fn rows(&self) -> Option<&'a BoundCall> {
        self.decoder.filter(|_| self.kind.rules().rows().is_some())
    }
}

/// The outputs, listed in messages when the model has several.
fn all_outputs(facts: &ModelFacts) -> Option<String> {
    (facts.outputs.len() > 1).then(|| outputs_text(&facts.outputs))
}

/// What the model is, read from its declaration and its file in steps, each reporting
/// what it finds wrong; `None` when the model cannot be run (every problem reported).
pub(super) fn analyse(
    model: &hir::Model,
    host: &dyn Host,
    dir: &Path,
    errors: &mut Vec<TypeError>,
) -> Option<ModelInfo> {
    let d = Decl::new(model, host, dir)?;
    let mut facts = input::read_file(&d, errors)?;
    let file_outputs = facts.outputs.clone();
    let batch_axes = fix_open_outputs(&d, &mut facts);
    let mut ok = input::dtype_supported(&d, &facts.inputs[0], errors);
    // Labels, from the declaration: they choose among a classifier's outputs.
    let declared = metadata::declared(&d, errors)?;
    let named = named_output(&d);
    boxes::unread_layout(&d, &facts, named, declared.labels.as_deref(), errors).ok()?;
    let labels = declared.labels.as_ref().map(Vec::len);
    let (chosen, boxes_output) = choose(&d, &facts, named, labels, errors)?;
    let output = chosen.unwrap_or(&facts.outputs[0]);
    ok &= outputs_supported(&d, std::iter::once(output).chain(boxes_output), errors);
    let mut shape = input::shape(&d, &facts, &mut ok, errors);
    let preprocess = preprocess::derive(&d, &facts.inputs[0], &mut shape, &mut ok, errors)?;
    let read = fit_decoder(
        &d,
        &facts,
        &file_outputs,
        output,
        boxes_output,
        shape.size,
        errors,
    );
    text::open_channels(&d, read.is_ok(), output, errors);
    let (classes, fit, extras) = read.unwrap_or_else(|()| {
        ok = false;
        (None, boxes::Fit::default(), None)
    });
    ok &= segpose::skeleton_fits(&d, extras.as_ref(), output, errors);
    let kind = model_kind(&d, &facts, classes, output, &mut ok, errors);
    let (labels, labels_from) =
        metadata::labels(&d, &facts, declared, &kind, output, &mut ok, errors);
    if !ok {
        return None;
    }
    Some(ModelInfo {
        name: model.name.name.clone(),
        span: model.name.span,
        preprocess,
        kind,
        labels,
        batch: facts.inputs[0].shape.first().and_then(Dim::fixed),
        input_problem: shape.problem,
        output: chosen.map(|o| o.name.clone()),
        extras,
        fit,
        labels_from,
        batch_axes,
        facts,
    })
}

/// Output dimensions the file leaves open, from a run of the model on the input it will
/// be fed (`open_outputs.rs`); each output's batch axis.
fn fix_open_outputs(d: &Decl, facts: &mut ModelFacts) -> Vec<(String, usize)> {
    let declared = input::declared_fit(d, facts);
    let run_axes = open_outputs::resolve(facts, d.path, d.host, declared);
    facts
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                open_outputs::batch_axis(facts, o, &run_axes),
            )
        })
        .collect()
}

/// The output `output:` names, and where.
fn named_output<'a>(d: &Decl<'a>) -> Option<(&'a str, Span)> {
    match d.call.bound("output") {
        Some(BoundArg {
            value: Value::String(name),
            span,
            ..
        }) => Some((name.as_str(), *span)),
        _ => None,
    }
}

/// The outputs the decoder reads: the one it decodes (`None` for `raw` without `output:`:
/// every output) and, apart, a box decoder's boxes. `None` when they cannot be told
/// (reported).
#[allow(clippy::type_complexity)]
fn choose<'f>(
    d: &Decl,
    facts: &'f ModelFacts,
    named: Option<(&str, Span)>,
    labels: Option<usize>,
    errors: &mut Vec<TypeError>,
) -> Option<(Option<&'f TensorFacts>, Option<&'f TensorFacts>)> {
    match d.rows() {
        Some(call) => {
            let c = boxes::choose(d.kind, call, facts, named, errors).ok()?;
            Some((Some(c.scores), c.boxes))
        }
        // The coverage and the boxes of DetectNet_v2's grids, found by their shapes.
        None if d.kind.reads() == Reads::CoverageAndBoxes => match boxes::grids(facts) {
            Some((coverage, bbox)) => Some((Some(coverage), Some(bbox))),
            None => {
                errors.push(TypeError::Decoder(DecoderError::Shape {
                    span: d.decoder_span,
                    decoder: d.kind,
                    output: facts.outputs.first().map(shape_text).unwrap_or_default(),
                    outputs: all_outputs(facts),
                    problem: ShapeProblem::NoBoxesGrid,
                    suggest: None,
                }));
                None
            }
        },
        None => {
            let chosen = choose_output(facts, d.kind, named, labels, d.decoder_span, errors);
            Some((chosen.ok()?, None))
        }
    }
}

/// E0303 for each output the decoder reads whose element type it cannot decode (`raw`
/// decodes nothing).
fn outputs_supported<'f>(
    d: &Decl,
    reads: impl Iterator<Item = &'f TensorFacts>,
    errors: &mut Vec<TypeError>,
) -> bool {
    let mut ok = true;
    for read in reads {
        if d.kind.family() != Family::Raw && !is_supported_output(read.dtype) {
            errors.push(TypeError::Input(InputError::UnsupportedDType {
                span: d.path_span,
                tensor: read.name.clone(),
                dtype: read.dtype.name(),
                output: true,
            }));
            ok = false;
        }
    }
    ok
}

/// What the decoder reads, fitted to the model.
type Fitted = (Option<i64>, boxes::Fit, Option<segpose::Extras>);

/// The decoder against the outputs it reads: the number of classes (`None` where the
/// decoder has none) and what lowering needs besides the output (a box decoder's boxes
/// and anchors, the prototypes or keypoints of `segpose.rs`'s decoders). Every problem is
/// reported (a warning too: W0302 does not fail the model).
fn fit_decoder(
    d: &Decl,
    facts: &ModelFacts,
    file_outputs: &[TensorFacts],
    output: &TensorFacts,
    boxes_output: Option<&TensorFacts>,
    size: Option<(u32, u32)>,
    errors: &mut Vec<TypeError>,
) -> Result<Fitted, ()> {
    let all_outputs = all_outputs(facts);
    if let Some(shown) = classes_open(d, file_outputs, output) {
        errors.push(match d.rows() {
            Some(_) => TypeError::Boxes(BoxError::Shape {
                span: d.decoder_span,
                decoder: d.kind,
                output: format!("`{}` {}", shown.name, shape_text(shown)),
                outputs: all_outputs,
                problem: boxes::BoxProblem::DynamicClasses,
                suggest: None,
            }),
            None => TypeError::Decoder(DecoderError::Shape {
                span: d.decoder_span,
                decoder: d.kind,
                output: shape_text(shown),
                outputs: all_outputs,
                problem: ShapeProblem::DynamicClasses,
                suggest: None,
            }),
        });
        return Err(());
    }
    if let Some(call) = d.rows() {
        let cx = boxes::Context {
            kind: d.kind,
            decoder: call,
            decoder_span: d.decoder_span,
            size,
            all_outputs,
            host: d.host,
            dir: d.dir,
        };
        let chosen = boxes::Chosen {
            scores: output,
            boxes: boxes_output,
        };
        return boxes::read(&cx, &chosen, errors).map(|(classes, fit)| (classes, fit, None));
    }
    let fitted = match read_shape(d.kind, output) {
        // A shape the decoder reads may still be another decoder's (mask coefficients
        // are not classes).
        Ok(classes) => match segpose::better(d.kind, facts, output) {
            Some(problem) => Err(problem),
            None => segpose::fit(d.kind, facts, output, classes),
        },
        Err(problem) => Err(segpose::better(d.kind, facts, output).unwrap_or(problem)),
    };
    let (classes, extras) = fitted.map_err(|problem| {
        errors.push(TypeError::Decoder(DecoderError::Shape {
            span: d.decoder_span,
            decoder: d.kind,
            output: shape_text(output),
            outputs: all_outputs,
            problem,
            suggest: boxes::suggest(output).filter(|s| *s != d.kind),
        }));
    })?;
    Ok((classes, boxes::Fit::default(), extras))
}

/// The output as the file has it, where a run fixed its dimensions and the file leaves
/// the number of classes open. A run fixes sizes that follow the input (anchors, steps,
/// a map's size), never the number of classes: a decoder whose classes are open in the
/// file stays refused (a recogniser's steps resolved to 40 are no `4 + classes`).
fn classes_open<'f>(
    d: &Decl,
    file_outputs: &'f [TensorFacts],
    output: &TensorFacts,
) -> Option<&'f TensorFacts> {
    let file_output = file_outputs
        .iter()
        .find(|o| o.name == output.name && o.shape != output.shape)?;
    let open = match d.rows() {
        Some(_) => file_output
            .shape
            .last()
            .is_some_and(|dim| dim.fixed().is_none()),
        None => matches!(
            read_shape(d.kind, file_output),
            Err(ShapeProblem::DynamicClasses)
        ),
    };
    open.then_some(file_output)
}

/// What the model is, by its decoder, with the classes it read.
fn model_kind(
    d: &Decl,
    facts: &ModelFacts,
    classes: Option<i64>,
    output: &TensorFacts,
    ok: &mut bool,
    errors: &mut Vec<TypeError>,
) -> ModelKind {
    match d.kind.rules().makes() {
        Makes::Detector => ModelKind::Detector { classes },
        Makes::Classifier => ModelKind::Classifier { classes },
        Makes::Recognizer => text::recognizer(d, facts, classes, output, ok, errors),
        Makes::Raw => ModelKind::Raw,
    }
}
