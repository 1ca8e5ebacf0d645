//! How frames become the model's input tensor: the pixel order (`color:`), the resize
//! (`resize:`, or the decoder's default), the scale and the per-channel `mean` and `std`
//! (E0302 when they are not one a channel, E0107 for a zero `std`).

use super::Decl;
use super::input::InputProblem;
use super::input::Shape;
use crate::check::errors::TypeError;
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{DType, TensorFacts};
use crate::hir::Value;
use crate::source::FileId;
use crate::syntax::Span;

/// What is wrong with the preprocessing the declaration asks for (E0107).
#[derive(Debug, Clone, PartialEq)]
pub enum PreprocessError {
    /// `std:` with a zero in it (E0107): pixels are divided by it.
    ZeroStd { span: Span },
}

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

/// The preprocessing of `input`, whose layout, channels and size `shape` says. `mean` or
/// `std` with a count of values that fits no channel count is `shape`'s problem (E0302 at
/// each `infer`); a zero `std` is E0107, and clears `ok`.
pub(super) fn derive(
    d: &Decl,
    input: &TensorFacts,
    shape: &mut Shape,
    ok: &mut bool,
    errors: &mut Vec<TypeError>,
) -> Option<Preprocess> {
    let call = d.call;
    let channels = shape.channels;
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
        _ if d.kind.letterboxes() => Resize::Letterbox,
        _ => Resize::Stretch,
    };
    let scale = match &call.bound("scale")?.value {
        Value::Float(f) => *f,
        Value::Int(i) => *i as f64,
        _ => 1.0 / 255.0,
    };
    let mean = per_channel(d, "mean", 0.0, shape);
    let std = per_channel(d, "std", 1.0, shape);
    // Frames are divided by `std`: a zero would make every input value infinite.
    if let Some(arg) = call.bound("std")
        && arg.given
        && floats(&arg.value).is_some_and(|v| v.contains(&0.0))
    {
        errors.push(TypeError::Preprocess(PreprocessError::ZeroStd {
            span: arg.span,
        }));
        *ok = false;
    }
    Some(Preprocess {
        layout: shape.layout,
        channels,
        order,
        size: shape.size,
        resize,
        dtype: input.dtype,
        scale,
        mean,
        std,
    })
}

/// `param`'s values, one a channel: one value stands for every channel, and the default
/// three suit gray and RGBX models too.
fn per_channel(d: &Decl, param: &'static str, default: f64, shape: &mut Shape) -> Vec<f64> {
    let channels = shape.channels;
    let a = d.call.bound(param);
    let values = a
        .and_then(|a| floats(&a.value))
        .unwrap_or_else(|| vec![default; 3]);
    let given = a.is_some_and(|a| a.given);
    match values.len() {
        n if n == channels as usize => values,
        1 => vec![values[0]; channels as usize],
        3 if (channels == 1 || channels == 4) && !given => vec![values[0]; channels as usize],
        n => {
            shape.problem.get_or_insert(InputProblem::PerChannel {
                param,
                given: n,
                channels,
            });
            vec![default; channels as usize]
        }
    }
}

impl PreprocessError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            PreprocessError::ZeroStd { span } => Diagnostic::new(
                Code::E0107,
                file,
                *span,
                "`std` of `onnx` is out of range: a channel's std is 0",
            )
            .with_primary_label("frames are divided by these values")
            .with_help("every `std` value must be non-zero (1.0 leaves a channel unscaled)"),
        }
    }
}
