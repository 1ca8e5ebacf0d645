//! The model file and its input: the file's signature read through the host (E0306, or
//! E0109 for a file gone since names were resolved), its element type (E0303), the
//! declared `input:` against it (E0307), and the layout, channels and size frames are
//! prepared at (E0302's problems, reported at each `infer`; E0308 when the size stays open).

use super::preprocess::Layout;
use super::{Decl, shape_text};
use crate::check::errors::{InputProblem, TypeError};
use crate::facts::{DType, Dim, FactError, ModelFacts, TensorFacts};
use crate::hir::{BoundArg, Value};
use crate::syntax::Span;
use crate::syntax::ast::{self, TypeArg, TypeKind};
use crate::syntax::literal::LitValue;

/// The model file's signature; `None` when it cannot be read (reported here, or by name
/// resolution already) or this host reads no models.
pub(super) fn read_file(d: &Decl, errors: &mut Vec<TypeError>) -> Option<ModelFacts> {
    let path_arg = d.call.bound("path")?;
    let Value::String(path_text) = &path_arg.value else {
        return None;
    };
    let path = d.call.resolved_path.as_ref()?;
    let unreadable = |reason| TypeError::InputUnreadable {
        span: path_arg.span,
        path: path_text.clone(),
        what: "model",
        reason,
    };
    match d.host.model_signature(path) {
        Ok(facts) => Some(facts),
        Err(FactError::Invalid(reason)) => {
            errors.push(TypeError::NotOnnx {
                span: path_arg.span,
                path: path_text.clone(),
                reason,
            });
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
    errors.push(TypeError::UnsupportedDType {
        span: d.path_span,
        tensor: input.name.clone(),
        dtype: input.dtype.name(),
        output: false,
    });
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
        errors.push(TypeError::InputDeclared {
            span: *span,
            declared: declared_text,
            actual: input.signature(),
        });
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
    TypeError::OpenInputSize {
        span: declared.unwrap_or(d.path_span),
        model: d.model.name.name.clone(),
        input: input.signature(),
        declared: declared.is_some(),
        suggestion: format!(
            "input: tensor<{}, [{}]>",
            input.dtype.name(),
            suggested.join(", ")
        ),
    }
}
