//! The model file and its input: the file's signature read through the host (E0306, or
//! E0109 for a file gone since names were resolved), its element type (E0303), the
//! declared `input:` against it (E0307), and the layout, channels and size frames are
//! prepared at (E0302's problems, reported at each `infer`; E0308 when the size stays open).

use super::preprocess::Layout;
use super::{Decl, shape_text};
use crate::check::errors::TypeError;
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{DType, Dim, FactError, ModelFacts, TensorFacts};
use crate::hir::{BoundArg, Value};
use crate::source::FileId;
use crate::syntax::Span;
use crate::syntax::ast::{self, TypeArg, TypeKind};
use crate::syntax::literal::LitValue;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputProblem {
    Rank {
        shape: String,
    },
    Channels {
        shape: String,
    },
    Inputs {
        count: usize,
    },
    PerChannel {
        param: &'static str,
        given: usize,
        channels: u32,
    },
}

impl InputProblem {
    /// E0302's message and help for `model`.
    pub(in crate::check) fn words(&self, model: &str) -> (String, String) {
        match self {
            InputProblem::Rank { shape } => (
                format!("`{model}` takes an input of shape {shape}, not an image batch"),
                "vpl feeds images as [N, C, H, W] (NCHW) or [N, H, W, C] (NHWC) tensors".to_string(),
            ),
            InputProblem::Channels { shape } => (
                format!("`{model}` takes {shape}: no dimension holds 1, 3 or 4 colour channels"),
                "vpl feeds 3 channels (rgb or bgr), 4 (rgb or bgr and an opaque 4th) or 1 (gray) in NCHW or NHWC layout".to_string(),
            ),
            InputProblem::Inputs { count } => (
                format!("`{model}` has {count} inputs; vpl feeds one image tensor"),
                "export the model with a single image input".to_string(),
            ),
            InputProblem::PerChannel { param, given, channels } => (
                format!("`{param}` of `{model}` has {given} values for {channels} channel(s)"),
                format!("give one `{param}` value per channel"),
            ),
        }
    }
}

/// What is wrong with the model file, a file the declaration names, or the input
/// (E0109, E0303, E0306–E0308).
#[derive(Debug, Clone, PartialEq)]
pub enum InputError {
    NotOnnx {
        span: Span,
        path: String,
        reason: String,
    },
    /// A model or labels file that opened when names were resolved but could not be read
    /// (E0109): `what` is "model" or "labels file".
    Unreadable {
        span: Span,
        path: String,
        what: &'static str,
        reason: String,
    },
    Declared {
        span: Span,
        declared: String,
        actual: String,
    },
    /// The input's height or width is open in the file and not fixed by `input:`.
    OpenSize {
        span: Span,
        model: String,
        input: String,
        /// An `input:` is given but leaves the size open too.
        declared: bool,
        suggestion: String,
    },
    UnsupportedDType {
        span: Span,
        tensor: String,
        dtype: String,
        output: bool,
    },
}

/// The model file's signature; `None` when it cannot be read (reported here, or by name
/// resolution already) or this host reads no models.
pub(super) fn read_file(d: &Decl, errors: &mut Vec<TypeError>) -> Option<ModelFacts> {
    let path_arg = d.call.bound("path")?;
    let Value::String(path_text) = &path_arg.value else {
        return None;
    };
    let path = d.call.resolved_path.as_ref()?;
    let unreadable = |reason| {
        TypeError::Input(InputError::Unreadable {
            span: path_arg.span,
            path: path_text.clone(),
            what: "model",
            reason,
        })
    };
    match d.host.model_signature(path) {
        Ok(facts) => Some(facts),
        Err(FactError::Invalid(reason)) => {
            errors.push(TypeError::Input(InputError::NotOnnx {
                span: path_arg.span,
                path: path_text.clone(),
                reason,
            }));
            None
        }
        // Unavailable: this host cannot read models; nothing to check.
        Err(FactError::Unavailable(_)) => None,
        // Not found or unreadable when names were resolved: E0109 already.
        Err(_) if d.host.check_file(path).is_err() => None,
        // It opened then but cannot be read now: say so, or `infer` would lose its model.
        Err(FactError::NotFound) => {
            errors.push(unreadable("it is gone".into()));
            None
        }
        Err(FactError::Unreadable(reason)) => {
            errors.push(unreadable(reason));
            None
        }
    }
}

fn is_supported_input(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::F16 | DType::U8)
}

/// E0303 when frames cannot be fed as the input's element type.
pub(super) fn dtype_supported(d: &Decl, input: &TensorFacts, errors: &mut Vec<TypeError>) -> bool {
    if is_supported_input(input.dtype) {
        return true;
    }
    errors.push(TypeError::Input(InputError::UnsupportedDType {
        span: d.path_span,
        tensor: input.name.clone(),
        dtype: input.dtype.name(),
        output: false,
    }));
    false
}

/// The `input:` the declaration gives, and where.
fn declaration<'a>(d: &Decl<'a>) -> Option<(&'a ast::TypeExpr, Span)> {
    match d.call.bound("input") {
        Some(BoundArg {
            value: Value::Tensor(declared),
            span,
            given: true,
        }) => Some((declared, *span)),
        _ => None,
    }
}

/// The dimensions of the declared `input:`, where it agrees with the file's input: what
/// fixes the dimensions the file leaves open.
pub(super) fn declared_fit<'a>(d: &Decl<'a>, facts: &ModelFacts) -> Option<&'a [ast::Dim]> {
    let (declared, _) = declaration(d)?;
    let input = facts.inputs.first()?;
    declared_mismatch(declared, input).is_none().then_some(())?;
    declared_dims(declared)
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

/// How frames fill the model's input.
pub(super) struct Shape {
    pub layout: Layout,
    pub channels: u32,
    /// Width and height, from the file or the declared `input:`.
    pub size: Option<(u32, u32)>,
    /// Why frames cannot be fed to the model (reported at each `infer` that uses it).
    pub problem: Option<InputProblem>,
}

/// The input's layout, channels and size, with the declared `input:` checked against the
/// file (E0307) and filling the dimensions the file leaves open. E0308 when the size
/// stays open and nothing else is wrong with the model (`ok`); either clears `ok`.
pub(super) fn shape(
    d: &Decl,
    facts: &ModelFacts,
    ok: &mut bool,
    errors: &mut Vec<TypeError>,
) -> Shape {
    let input = &facts.inputs[0];
    let declared = declaration(d).filter(|(declared, span)| {
        let Some(declared_text) = declared_mismatch(declared, input) else {
            return true;
        };
        errors.push(TypeError::Input(InputError::Declared {
            span: *span,
            declared: declared_text,
            actual: input.signature(),
        }));
        *ok = false;
        false
    });
    let mut problem = (facts.inputs.len() > 1).then_some(InputProblem::Inputs {
        count: facts.inputs.len(),
    });
    let (layout, channels) = layout(input, &mut problem);
    let (h_dim, w_dim) = match layout {
        Layout::Nchw => (2, 3),
        Layout::Nhwc => (1, 2),
    };
    let size_dim = |i: usize| {
        let file = input.shape.get(i).and_then(Dim::fixed);
        file.and_then(|v| u32::try_from(v).ok())
            .or_else(|| declared_size(declared?.0, i))
    };
    let size = match (size_dim(w_dim), size_dim(h_dim)) {
        (Some(w), Some(h)) if input.shape.len() == 4 => Some((w, h)),
        _ => None,
    };
    if size.is_none() && problem.is_none() && *ok {
        errors.push(open_size(
            d,
            input,
            declared.map(|(_, span)| span),
            (h_dim, w_dim),
        ));
        *ok = false;
    }
    Shape {
        layout,
        channels,
        size,
        problem,
    }
}

/// NCHW or NHWC, by the dimension that holds 1, 3 or 4 channels.
fn layout(input: &TensorFacts, problem: &mut Option<InputProblem>) -> (Layout, u32) {
    let channel_dim = |i: usize| {
        input
            .shape
            .get(i)
            .and_then(Dim::fixed)
            .filter(|c| matches!(*c, 1 | 3 | 4))
    };
    if input.shape.len() != 4 {
        problem.get_or_insert(InputProblem::Rank {
            shape: shape_text(input),
        });
        (Layout::Nchw, 3)
    } else if let Some(c) = channel_dim(1) {
        (Layout::Nchw, c as u32)
    } else if let Some(c) = channel_dim(3) {
        (Layout::Nhwc, c as u32)
    } else {
        problem.get_or_insert(InputProblem::Channels {
            shape: shape_text(input),
        });
        (Layout::Nchw, 3)
    }
}

/// Dimension `i` of the declared `input:`, where it is a positive number.
fn declared_size(declared: &ast::TypeExpr, i: usize) -> Option<u32> {
    declared_dims(declared)?.get(i).and_then(|d| match d {
        ast::Dim::Number(lit, _) => match lit.value {
            LitValue::Int(v) => u32::try_from(v).ok().filter(|v| *v > 0),
            _ => None,
        },
        _ => None,
    })
}

/// E0308, with an `input:` to declare (640 where the height and width are open).
fn open_size(
    d: &Decl,
    input: &TensorFacts,
    declared: Option<Span>,
    (h_dim, w_dim): (usize, usize),
) -> TypeError {
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
    TypeError::Input(InputError::OpenSize {
        span: declared.unwrap_or(d.path_span),
        model: d.model.name.name.clone(),
        input: input.signature(),
        declared: declared.is_some(),
        suggestion: format!(
            "input: tensor<{}, [{}]>",
            input.dtype.name(),
            suggested.join(", ")
        ),
    })
}

impl InputError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            InputError::NotOnnx { span, path, reason } => {
                Diagnostic::new(Code::E0306, file, *span, format!("`{path}` is not a valid ONNX model"))
                    .with_primary_label(reason.clone())
                    .with_help("export the model to ONNX (e.g. `yolo export format=onnx`), and check the file was copied whole")
            }
            InputError::Unreadable {
                span,
                path,
                what,
                reason,
            } => Diagnostic::new(
                Code::E0109,
                file,
                *span,
                format!("the {what} `{path}` cannot be read: {reason}"),
            )
            .with_primary_label(format!("this {what} is needed to check and run the program")),
            InputError::Declared {
                span,
                declared,
                actual,
            } => Diagnostic::new(
                Code::E0307,
                file,
                *span,
                format!("the declared input {declared} disagrees with the model file's {actual}"),
            )
            .with_primary_label(format!("the file says {actual}"))
            .with_help("correct `input:`, or remove it to take the file's signature"),
            InputError::OpenSize {
                span,
                model,
                input,
                declared,
                suggestion,
            } => Diagnostic::new(
                Code::E0308,
                file,
                *span,
                format!("`{model}` leaves the height and width of its input {input} open, so vpl does not know what size to prepare frames at"),
            )
            .with_primary_label(if *declared {
                "this `input:` leaves the size open too"
            } else {
                "the input size is open in this file"
            })
            .with_help(format!("declare the size the model runs at, e.g. `{suggestion}` (use the size it was trained at)")),
            InputError::UnsupportedDType {
                span,
                tensor,
                dtype,
                output,
            } => {
                let (role, supported) = if *output {
                    ("output", "f32 or f16")
                } else {
                    ("input", "f32, f16 or u8")
                };
                Diagnostic::new(
                    Code::E0303,
                    file,
                    *span,
                    format!("the model's {role} `{tensor}` has element type {dtype}, which vpl cannot {}", if *output { "decode" } else { "feed" }),
                )
                .with_primary_label(format!("{role} `{tensor}`: {dtype}"))
                .with_help(format!("vpl supports {supported} {role}s; convert the model (or use `decoder: raw` to keep the output undecoded)"))
            }
        }
    }
}
