//! The anchors of the box decoders that need them, against the rows of the model's output:
//! `yolov5(grid: true)` makes one a cell of a grid for each stride, `ssd` reads them from a
//! file or makes `per_cell` a cell for each stride (E0309 when they are not as many as the
//! output's rows, E0310 when they cannot be made, W0302 when the output's are open).

use super::boxes::{BoxError, Context};
use super::shape_text;
use crate::check::errors::TypeError;
use crate::facts::{FactError, TensorFacts};
use crate::hir::BoundCall;
use crate::host::normalize;
use crate::stage::Decoder;
use crate::syntax::Span;

/// The largest stride and anchors per cell the anchor parameters take (the runtime reads
/// them as 32-bit numbers; real heads use strides up to 128 and a few anchors a cell).
const MAX_STRIDE: i64 = 65536;
const MAX_PER_CELL: i64 = 1024;

fn arg_span(call: &BoundCall, name: &str) -> Span {
    call.bound(name).map_or(call.span, |a| a.span)
}

/// `yolov5(grid: true)`: one anchor a cell of each stride's grid, as many as the output's
/// `count` rows.
pub(super) fn yolov5_grid(
    cx: &Context,
    output: &TensorFacts,
    count: Option<i64>,
    errors: &mut Vec<TypeError>,
) -> Result<(), ()> {
    let strides = cx.decoder.ints("strides");
    if strides.is_empty() || strides.iter().any(|s| !(1..=MAX_STRIDE).contains(s)) {
        errors.push(TypeError::Boxes(BoxError::BadAnchors {
            span: arg_span(cx.decoder, "strides"),
            reason: format!("`strides` needs at least one stride, each from 1 to {MAX_STRIDE}"),
        }));
        return Err(());
    }
    let per_cell = vec![1; strides.len()];
    anchors_fit(cx, output, count, &strides, &per_cell, "strides", errors)
}

/// `ssd`'s anchors, for the output `boxes` of `count` rows: read from `anchors:` (what
/// lowering hands the runtime), or made by `strides` and `per_cell` (none to hand).
pub(super) fn ssd(
    cx: &Context,
    boxes: &TensorFacts,
    count: Option<i64>,
    errors: &mut Vec<TypeError>,
) -> Result<Vec<[f64; 4]>, ()> {
    if let Some(file) = cx.decoder.string("anchors").filter(|f| !f.is_empty()) {
        let span = arg_span(cx.decoder, "anchors");
        let anchors = read_anchors(cx, file, span, errors)?;
        let expected = anchors.len() as i64;
        match count {
            Some(n) if n != expected => {
                errors.push(TypeError::Boxes(BoxError::AnchorCount {
                    span,
                    decoder: Decoder::Ssd,
                    expected,
                    how: format!("{expected} lines of `{file}`"),
                    output: format!("`{}` {}", boxes.name, shape_text(boxes)),
                    found: n,
                }));
                return Err(());
            }
            Some(_) => {}
            None => cx.open_warning(boxes, "anchors", errors),
        }
        return Ok(anchors);
    }
    let strides = cx.decoder.ints("strides");
    let per_cell = cx.decoder.ints("per_cell");
    if strides.is_empty()
        || strides.len() != per_cell.len()
        || strides.iter().any(|v| !(1..=MAX_STRIDE).contains(v))
        || per_cell.iter().any(|v| !(1..=MAX_PER_CELL).contains(v))
    {
        errors.push(TypeError::Boxes(BoxError::BadAnchors {
            span: cx.decoder_span,
            reason: format!(
                "`strides` ({} values, each 1 to {MAX_STRIDE}) and `per_cell` ({} values, each 1 to {MAX_PER_CELL}) must have one value each per grid",
                strides.len(),
                per_cell.len()
            ),
        }));
        return Err(());
    }
    anchors_fit(cx, boxes, count, &strides, &per_cell, "strides", errors)?;
    Ok(Vec::new())
}

/// The number of anchors grids of `strides` over the input make, `per_cell` in each cell,
/// against the output's (`count`): E0309 when they differ, W0302 when the output's is open.
fn anchors_fit(
    cx: &Context,
    output: &TensorFacts,
    count: Option<i64>,
    strides: &[i64],
    per_cell: &[i64],
    param: &str,
    errors: &mut Vec<TypeError>,
) -> Result<(), ()> {
    // No size: E0308 is reported already.
    let Some((w, h)) = cx.size else {
        return Ok(());
    };
    let expected = grid_anchors(w, h, strides, per_cell);
    match count {
        Some(n) if n != expected => {
            let terms: Vec<String> = strides
                .iter()
                .zip(per_cell)
                .map(|(s, k)| {
                    let cells = format!("{}×{}", ceil_div(h, *s), ceil_div(w, *s));
                    if *k == 1 {
                        cells
                    } else {
                        format!("{cells}×{k}")
                    }
                })
                .collect();
            errors.push(TypeError::Boxes(BoxError::AnchorCount {
                span: arg_span(cx.decoder, param),
                decoder: cx.kind,
                expected,
                how: format!(
                    "{} for a {w}×{h} input with strides {strides:?}",
                    terms.join(" + ")
                ),
                output: format!("`{}` {}", output.name, shape_text(output)),
                found: n,
            }));
            Err(())
        }
        Some(_) => Ok(()),
        None => {
            cx.open_warning(output, "anchors", errors);
            Ok(())
        }
    }
}

fn ceil_div(size: u32, stride: i64) -> i64 {
    let stride = stride.max(1);
    i64::from(size) / stride + i64::from(i64::from(size) % stride != 0)
}

/// Σ ⌈h/s⌉·⌈w/s⌉·k: the anchors of one grid per stride (the runtime's `engine::ssd`
/// and `engine::yolov5` generate them in this order).
pub fn grid_anchors(w: u32, h: u32, strides: &[i64], per_cell: &[i64]) -> i64 {
    strides
        .iter()
        .zip(per_cell)
        .map(|(s, k)| {
            ceil_div(h, *s)
                .saturating_mul(ceil_div(w, *s))
                .saturating_mul(*k)
        })
        .fold(0, i64::saturating_add)
}

fn read_anchors(
    cx: &Context,
    file: &str,
    span: Span,
    errors: &mut Vec<TypeError>,
) -> Result<Vec<[f64; 4]>, ()> {
    if file.contains('\0') {
        // E0107 from name resolution: nothing is opened.
        return Err(());
    }
    let path = normalize(&cx.dir.join(file));
    let lines = match cx.host.read_labels(&path) {
        Ok(lines) => lines,
        Err(e) => {
            let why = match e {
                FactError::NotFound => "there is no such file".to_string(),
                FactError::Unreadable(r) | FactError::Invalid(r) => r,
                FactError::Unavailable(r) => r,
            };
            errors.push(TypeError::Boxes(BoxError::BadAnchors {
                span,
                reason: format!("`{file}` cannot be read: {why}"),
            }));
            return Err(());
        }
    };
    let mut anchors = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let values: Vec<f64> = line
            .split([' ', ',', '\t'])
            .filter(|t| !t.is_empty())
            .filter_map(|t| t.parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .collect();
        let Ok(anchor) = <[f64; 4]>::try_from(values) else {
            errors.push(TypeError::Boxes(BoxError::BadAnchors {
                span,
                reason: format!(
                    "anchor {} of `{file}` is `{line}`; each line is four numbers: centre x, centre y, width, height",
                    i + 1
                ),
            }));
            return Err(());
        };
        anchors.push(anchor);
    }
    if anchors.is_empty() {
        errors.push(TypeError::Boxes(BoxError::BadAnchors {
            span,
            reason: format!("`{file}` has no anchors"),
        }));
        return Err(());
    }
    Ok(anchors)
}

#[cfg(test)]
mod tests {
    use super::grid_anchors;

    #[test]
    fn grid_anchors_count_each_stride_grid() {
        // YOLOX at 640: 80² + 40² + 20².
        assert_eq!(grid_anchors(640, 640, &[8, 16, 32], &[1, 1, 1]), 8400);
        // BlazeFace at 128: 16²×2 + 8²×6.
        assert_eq!(grid_anchors(128, 128, &[8, 16], &[2, 6]), 896);
        // Sizes that do not divide: partial cells count.
        assert_eq!(grid_anchors(100, 50, &[32], &[1]), 4 * 2);
        // Nothing overflows, whatever the numbers.
        assert_eq!(
            grid_anchors(u32::MAX, u32::MAX, &[i64::MAX], &[i64::MAX]),
            i64::MAX
        );
        assert_eq!(
            grid_anchors(u32::MAX, u32::MAX, &[1], &[i64::MAX]),
            i64::MAX
        );
    }
}
