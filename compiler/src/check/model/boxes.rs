//! The box decoders: `yolov8`'s shape rule, and `yolov5`, `detr` and `ssd` against a
//! model's outputs: which outputs each reads (boxes and scores, chosen here), how many
//! classes they give, and the anchors they expect (`anchors.rs`) against the model's
//! (E0304, E0309, E0310, W0302). Also what a shape looks like (E0304's suggestion) and
//! the layouts no decoder reads.

use std::path::Path;

use super::anchors;
use super::errors::{DecoderError, ShapeProblem};
use super::{Decl, shape_text};
use crate::check::errors::TypeError;
use crate::decoders::{Reads, Rows, Six};
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{Dim, ModelFacts, TensorFacts};
use crate::hir::{BoundCall, Value};
use crate::host::Host;
use crate::source::FileId;
use crate::stage::{Decoder, Family};
use crate::syntax::Span;

/// What a box decoder finds wrong with its outputs and anchors (E0304, E0309, E0310).
#[derive(Debug, Clone, PartialEq)]
pub enum BoxError {
    /// A box decoder (`yolov5`, `detr`, `ssd`) cannot read the output.
    Shape {
        span: Span,
        decoder: Decoder,
        /// "`output0` [1, 6, 8400]"
        output: String,
        outputs: Option<String>,
        problem: BoxProblem,
        /// The decoder this shape looks like.
        suggest: Option<Decoder>,
    },
    /// The anchors the decoder makes or reads are not as many as the output's.
    AnchorCount {
        span: Span,
        decoder: Decoder,
        expected: i64,
        /// How `expected` is made: "80×80 + 40×40 + 20×20 for a 640×640 input".
        how: String,
        output: String,
        found: i64,
    },
    /// The decoder's anchor parameters or file cannot make anchors.
    BadAnchors { span: Span, reason: String },
    /// Several outputs could be a box decoder's boxes and `boxes:` does not say which.
    AmbiguousBoxes {
        span: Span,
        decoder: Decoder,
        candidates: Vec<String>,
        outputs: String,
    },
}

/// What a box decoder found wrong with an output's shape (E0304).
#[derive(Debug, Clone, PartialEq)]
pub enum BoxProblem {
    /// yolov5 wants `[N, anchors, 5 + classes]`.
    NotYolov5,
    /// detr wants `[N, queries, 4 + classes]`, or boxes `[N, queries, 4]` + logits.
    NotDetr,
    /// detr's `softmax` drops the last ("no object") class: at least 2 logits needed.
    NoObjectClassOnly,
    /// ssd wants two outputs: boxes `[N, anchors, 4 + extra]` and scores `[N, anchors, classes]`.
    NotSsd,
    /// The number of classes is open in the file.
    DynamicClasses,
    /// The boxes and the scores are not for the same number of anchors (queries).
    CountsDiffer { boxes: String, scores: String },
}

/// The outputs a box decoder reads: the scores (or the only output) and the boxes.
pub(super) struct Chosen<'a> {
    pub scores: &'a TensorFacts,
    pub boxes: Option<&'a TensorFacts>,
}

/// What lowering needs beyond the scores output: the boxes output and the anchors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fit {
    /// The boxes output of a decoder that reads two.
    pub boxes: Option<String>,
    /// `ssd(anchors: FILE)`: the anchors read from the file (centre x, centre y, width,
    /// height, fractions of the input).
    pub anchors: Vec<[f64; 4]>,
}

/// More classes than a detector is trained on (LVIS has 1203): a last dimension above
/// this, with fewer rows, is a YOLOv8 output's anchors.
const MOST_CLASSES: i64 = 1300;

fn dims(t: &TensorFacts) -> Vec<Option<i64>> {
    t.shape.iter().map(Dim::fixed).collect()
}

fn last(t: &TensorFacts) -> Option<i64> {
    if t.shape.len() == 3 {
        t.shape[2].fixed()
    } else {
        None
    }
}

/// `yolov8`: `[N, 4 + classes, anchors]`, a column a candidate box.
pub(crate) fn yolov8_shape(dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
    match dims {
        [_, Some(c), Some(a)] if *c > 4 && a > c => Ok(Some(c - 4)),
        [_, Some(a), Some(c)] if a > c && *c > 5 => Err(ShapeProblem::LooksLikeYolov5),
        [_, Some(c), None] if *c > 4 => Ok(Some(c - 4)),
        [_, None, _] => Err(ShapeProblem::DynamicClasses),
        _ => Err(ShapeProblem::NotYolov8),
    }
}

/// The decoder whose layout this output has, for E0304's suggestion
/// ([`crate::decoders::suggest`]). Six values a row are not suggested: a one-class YOLOv5
/// and a DeepStream-Yolo export (x1, y1, x2, y2, score, class) look the same
/// ([`unrecognised`]).
pub fn suggest(output: &TensorFacts) -> Option<Decoder> {
    crate::decoders::suggest(&dims(output))
}

/// A layout no vpl decoder reads, though some decoder's shape rule would take it: what the
/// model is, for E0304 (which then suggests nothing). `six_named`: the labels (declared, or
/// the model's metadata) are as many as the decoder reads from six values a row (one for
/// `yolov5`, two for `detr`), which makes `[N, anchors, 6]` that decoder's.
///
/// - DetectNet_v2 (TrafficCamNet, PeopleNet, DashCamNet): a coverage grid `[N, C, H, W]`
///   and a boxes grid `[N, 4 C, H, W]` of the same size.
/// - DeepStream-Yolo (marcoslucianops): boxes already decoded, one output `[N, anchors, 6]`
///   (x1, y1, x2, y2, score, class), or three, `boxes` `[N, anchors, 4]`, `scores` and
///   `classes` `[N, anchors, 1]`.
pub fn unrecognised(facts: &ModelFacts, six_named: bool) -> Option<String> {
    grids_text(facts)
        .or_else(|| no_decoder(facts))
        .or_else(|| six_values(facts, six_named))
}

/// DetectNet_v2's grids: a coverage grid `[N, C, H, W]` and, beside it, a boxes grid
/// `[N, 4 C, H, W]` of the same size (TrafficCamNet, PeopleNet, DashCamNet).
pub fn grids(facts: &ModelFacts) -> Option<(&TensorFacts, &TensorFacts)> {
    let outputs = &facts.outputs;
    outputs.iter().find_map(|cov| {
        let [_, Some(c), Some(h), Some(w)] = dims(cov)[..] else {
            return None;
        };
        let bbox = outputs.iter().find(|o| {
            o.name != cov.name && matches!(dims(o)[..], [_, Some(b), Some(bh), Some(bw)] if b == 4 * c && bh == h && bw == w)
        })?;
        Some((cov, bbox))
    })
}

/// What [`grids`] are, for E0304.
fn grids_text(facts: &ModelFacts) -> Option<String> {
    let (cov, bbox) = grids(facts)?;
    let [_, c, h, w] = dims(cov)[..] else {
        return None;
    };
    let (c, h, w) = (c.unwrap_or(0), h.unwrap_or(0), w.unwrap_or(0));
    Some(format!(
        "this is a DetectNet_v2 grid detector (TrafficCamNet, PeopleNet): `{}` {} holds a coverage score for each of {c} classes in each cell of a {h} x {w} grid, and `{}` {} a box for each",
        cov.name,
        shape_text(cov),
        bbox.name,
        shape_text(bbox)
    ))
}

/// The layouts of [`unrecognised`] besides the grids that no decoder reads whatever the
/// labels.
fn no_decoder(facts: &ModelFacts) -> Option<String> {
    let outputs = &facts.outputs;
    let named = |name: &str, width: i64| {
        outputs
            .iter()
            .any(|o| o.name == name && matches!(dims(o)[..], [_, _, Some(k)] if k == width))
    };
    if named("boxes", 4) && named("scores", 1) && named("classes", 1) {
        return Some(format!(
            "this is a DeepStream-Yolo export: its outputs {} are boxes already decoded (x1, y1, x2, y2), a score and a class for each",
            super::outputs_text(outputs)
        ));
    }
    None
}

/// The decoders that read DetectNet_v2's grids ([`Reads::CoverageAndBoxes`]).
fn grids_readers() -> Vec<Decoder> {
    Decoder::ALL
        .iter()
        .copied()
        .filter(|d| d.reads() == Reads::CoverageAndBoxes)
        .collect()
}

/// The decoders that read six values a row as boxes already decoded ([`Six::Decoded`]).
fn decoded_rows_readers() -> Vec<Decoder> {
    Decoder::ALL
        .iter()
        .copied()
        .filter(|d| d.rules().six(None) == Six::Decoded)
        .collect()
}

/// `[N, anchors, 6]` where nothing says which export it is (`six_named`: the labels say
/// the classes of the decoder given).
fn six_values(facts: &ModelFacts, six_named: bool) -> Option<String> {
    if six_named {
        return None;
    }
    let six = facts
        .outputs
        .iter()
        .find(|o| matches!(dims(o)[..], [_, Some(a), Some(6)] if a > 6))?;
    let read_by: String = decoded_rows_readers()
        .iter()
        .map(|d| format!(", read by `{d}`"))
        .collect();
    Some(format!(
        "`{}` {} has six values a row: a DeepStream-Yolo export (x1, y1, x2, y2, score, class){read_by}, or a one-class YOLOv5 (centre x, centre y, width, height, objectness, score), and nothing in the file says which (a one-class YOLOv5 is read by `yolov5` when its one label is given, `labels: [\"NAME\"]`; a two-class DETR by `detr` with its two labels)",
        six.name,
        shape_text(six)
    ))
}

/// E0304 for a layout no decoder reads (DetectNet_v2's grids, DeepStream-Yolo's decoded
/// boxes), said as such before any decoder's shape rule can take it and decode garbage.
/// Six values a row are a one-class YOLOv5's or a two-class DETR's (one with `softmax`)
/// only where the labels (declared, or the model's metadata) say that many classes.
pub(super) fn unread_layout(
    d: &Decl,
    facts: &ModelFacts,
    named: Option<(&str, Span)>,
    labels: Option<&[String]>,
    errors: &mut Vec<TypeError>,
) -> Result<(), ()> {
    if d.kind.family() == Family::Raw {
        return Ok(());
    }
    let named_classes = labels
        .map(<[String]>::len)
        .or_else(|| super::metadata::ultralytics_names(facts).map(|n| n.len()));
    // A decoder of decoded rows reads six values a row whatever the classes.
    let six_named = match d.kind.rules().six(d.decoder) {
        Six::Classes(n) => named_classes == Some(n),
        Six::Decoded => true,
        Six::No => false,
    };
    let grids = grids_text(facts).filter(|_| d.kind.reads() != Reads::CoverageAndBoxes);
    let problem = match (
        grids.or_else(|| no_decoder(facts)),
        six_values(facts, six_named),
    ) {
        // The grids are another decoder's: the one to use.
        (Some(why), _) if grids_text(facts).is_some() && !grids_readers().is_empty() => {
            ShapeProblem::Suggest {
                decoder: grids_readers()[0],
                why,
            }
        }
        (Some(what), _) => ShapeProblem::NoDecoderFits { what },
        // Another decoder may read it: which one, the file does not say.
        (None, Some(what)) if !decoded_rows_readers().is_empty() => ShapeProblem::Unclear { what },
        (None, Some(what)) => ShapeProblem::NoDecoderFits { what },
        (None, None) => return Ok(()),
    };
    let output = facts
        .outputs
        .iter()
        .find(|o| named.is_some_and(|(n, _)| o.name == n));
    let output = output.unwrap_or(&facts.outputs[0]);
    errors.push(TypeError::Decoder(DecoderError::Shape {
        span: d.decoder_span,
        decoder: d.kind,
        output: shape_text(output),
        outputs: super::all_outputs(facts),
        problem,
        suggest: None,
    }));
    Err(())
}

/// The named output (`output:` for the scores, `boxes:` for the boxes).
fn by_name<'a>(
    facts: &'a ModelFacts,
    name: &str,
    span: Span,
    errors: &mut Vec<TypeError>,
) -> Result<&'a TensorFacts, ()> {
    facts
        .outputs
        .iter()
        .find(|o| o.name == name)
        .ok_or_else(|| {
            errors.push(TypeError::Decoder(DecoderError::UnknownOutput {
                span,
                name: name.to_string(),
                outputs: super::outputs_text(&facts.outputs),
            }));
        })
}

/// Where a box decoder's outputs are chosen from: the model's, with those the
/// declaration names.
struct Choice<'a> {
    kind: Decoder,
    /// The decoder's call, where the outputs it cannot tell apart are reported.
    span: Span,
    facts: &'a ModelFacts,
    /// The output `output:` names: the scores.
    scores: Option<&'a TensorFacts>,
    first: &'a TensorFacts,
}

impl Choice<'_> {
    /// Several outputs could be the scores (the only output of `yolov5`).
    fn ambiguous(&self, candidates: Vec<&TensorFacts>, errors: &mut Vec<TypeError>) {
        errors.push(TypeError::Decoder(DecoderError::AmbiguousOutput {
            span: self.span,
            decoder: self.kind,
            candidates: candidates.iter().map(|o| o.name.clone()).collect(),
            outputs: super::outputs_text(candidates),
        }));
    }

    /// Several outputs could be the boxes.
    fn ambiguous_boxes(&self, candidates: Vec<&TensorFacts>, errors: &mut Vec<TypeError>) {
        errors.push(TypeError::Boxes(BoxError::AmbiguousBoxes {
            span: self.span,
            decoder: self.kind,
            candidates: candidates.iter().map(|o| o.name.clone()).collect(),
            outputs: super::outputs_text(candidates),
        }));
    }
}

/// The outputs the decoder reads: named by `output:` (scores) and the decoder's
/// `boxes:`, or recognised by their shapes.
pub(super) fn choose<'a>(
    kind: Decoder,
    decoder: &BoundCall,
    facts: &'a ModelFacts,
    named: Option<(&str, Span)>,
    errors: &mut Vec<TypeError>,
) -> Result<Chosen<'a>, ()> {
    let named_boxes = match decoder.bound("boxes") {
        Some(arg) => match &arg.value {
            Value::String(name) => Some(by_name(facts, name, arg.span, errors)?),
            _ => None,
        },
        None => None,
    };
    let c = Choice {
        kind,
        span: decoder.span,
        facts,
        scores: match named {
            Some((name, span)) => Some(by_name(facts, name, span, errors)?),
            None => None,
        },
        first: facts.outputs.first().ok_or(())?,
    };
    match kind.rules().rows() {
        Some(Rows::Yolov5) => choose_yolov5(&c, errors),
        Some(Rows::Detr | Rows::Ssd) => {
            let boxes = match named_boxes {
                Some(b) => Some(b),
                None => find_boxes(&c, errors)?,
            };
            let scores = match (c.scores, boxes) {
                (Some(s), _) => s,
                (None, None) => c.first,
                (None, Some(b)) => find_scores(&c, b, errors)?,
            };
            if kind == Decoder::Detr && boxes.is_none() && c.scores.is_none() {
                pairs_check(&c, scores, BoxProblem::NotDetr, errors)?;
            }
            Ok(Chosen { scores, boxes })
        }
        None => Ok(Chosen {
            scores: c.scores.unwrap_or(c.first),
            boxes: None,
        }),
    }
}

/// `yolov5`'s one output: the one named, or the only one `[N, anchors, 5 + classes]`.
fn choose_yolov5<'a>(c: &Choice<'a>, errors: &mut Vec<TypeError>) -> Result<Chosen<'a>, ()> {
    if let Some(scores) = c.scores {
        return Ok(Chosen {
            scores,
            boxes: None,
        });
    }
    let fits: Vec<&TensorFacts> = c
        .facts
        .outputs
        .iter()
        .filter(|o| o.shape.len() == 3 && last(o).is_some_and(|k| k > 5))
        .collect();
    match fits.as_slice() {
        [only] => {
            pairs_check(c, only, BoxProblem::NotYolov5, errors)?;
            Ok(Chosen {
                scores: only,
                boxes: None,
            })
        }
        [] => Ok(Chosen {
            scores: c.first,
            boxes: None,
        }),
        _ => {
            c.ambiguous(fits, errors);
            Err(())
        }
    }
}

/// The boxes output of `detr` or `ssd` not named by `boxes:`: the only `[N, anchors, 4]`
/// (for `ssd`, else the only wider one beside narrow scores: BlazeFace's `[N, 896, 16]`
/// boxes and keypoints); `None` when the model has one output, or none fits.
fn find_boxes<'a>(
    c: &Choice<'a>,
    errors: &mut Vec<TypeError>,
) -> Result<Option<&'a TensorFacts>, ()> {
    if c.facts.outputs.len() < 2 {
        return Ok(None);
    }
    let rank3: Vec<&TensorFacts> = c
        .facts
        .outputs
        .iter()
        .filter(|o| o.shape.len() == 3)
        .filter(|o| c.scores.is_none_or(|s| s.name != o.name))
        .collect();
    let fours: Vec<&TensorFacts> = rank3
        .iter()
        .copied()
        .filter(|o| last(o) == Some(4))
        .collect();
    match (c.kind, fours.as_slice()) {
        (_, [only]) => Ok(Some(*only)),
        (Decoder::Ssd, []) => {
            let wide: Vec<&TensorFacts> = rank3
                .iter()
                .copied()
                .filter(|o| last(o).is_some_and(|k| k > 4))
                .collect();
            let narrow = rank3.iter().any(|o| last(o).is_some_and(|k| k < 4));
            match wide.as_slice() {
                [only] if narrow => Ok(Some(*only)),
                [] => Ok(None),
                _ => {
                    c.ambiguous_boxes(wide, errors);
                    Err(())
                }
            }
        }
        (_, []) => Ok(None),
        _ => {
            c.ambiguous_boxes(fours, errors);
            Err(())
        }
    }
}

/// The scores beside `boxes` not named by `output:`: the only other output of rank 3,
/// else the only one with as many anchors as the boxes.
fn find_scores<'a>(
    c: &Choice<'a>,
    boxes: &TensorFacts,
    errors: &mut Vec<TypeError>,
) -> Result<&'a TensorFacts, ()> {
    let rest: Vec<&TensorFacts> = c
        .facts
        .outputs
        .iter()
        .filter(|o| o.name != boxes.name && o.shape.len() == 3)
        .collect();
    match rest.as_slice() {
        [only] => Ok(*only),
        [] => Ok(c.first),
        _ => {
            let same: Vec<&TensorFacts> = rest
                .iter()
                .copied()
                .filter(|o| o.shape[1] == boxes.shape[1])
                .collect();
            match same.as_slice() {
                [only] => Ok(*only),
                _ => {
                    c.ambiguous(rest, errors);
                    Err(())
                }
            }
        }
    }
}

/// A one-output decoder (yolov5, detr) whose output has a sibling for the same anchors
/// (`[1, 896, 16]` and `[1, 896, 1]`): boxes and scores apart, an SSD-style head. Refused
/// (E0304, suggesting `ssd`) unless `output:` names the output to read.
fn pairs_check(
    c: &Choice,
    chosen: &TensorFacts,
    problem: BoxProblem,
    errors: &mut Vec<TypeError>,
) -> Result<(), ()> {
    let sibling = c.facts.outputs.iter().any(|o| {
        o.name != chosen.name && o.shape.len() == 3 && o.shape.get(1) == chosen.shape.get(1)
    });
    if !sibling {
        return Ok(());
    }
    errors.push(TypeError::Boxes(BoxError::Shape {
        span: c.span,
        decoder: c.kind,
        output: format!("`{}` {}", chosen.name, shape_text(chosen)),
        outputs: Some(super::outputs_text(&c.facts.outputs)),
        problem,
        suggest: Some(Decoder::Ssd),
    }));
    Err(())
}

/// Everything `read` needs to know about the model and the declaration.
pub(super) struct Context<'a> {
    pub kind: Decoder,
    pub decoder: &'a BoundCall,
    pub decoder_span: Span,
    /// The input's width and height, when known.
    pub size: Option<(u32, u32)>,
    pub all_outputs: Option<String>,
    pub host: &'a dyn Host,
    pub dir: &'a Path,
}

impl Context<'_> {
    /// E0304 on `output`: the decoder cannot read it.
    fn refuse<T>(
        &self,
        output: &TensorFacts,
        problem: BoxProblem,
        errors: &mut Vec<TypeError>,
    ) -> Result<T, ()> {
        errors.push(TypeError::Boxes(BoxError::Shape {
            span: self.decoder_span,
            decoder: self.kind,
            output: format!("`{}` {}", output.name, shape_text(output)),
            outputs: self.all_outputs.clone(),
            problem,
            suggest: suggest(output).filter(|s| *s != self.kind),
        }));
        Err(())
    }

    /// W0302: `what` is open in `output`, checked at run time.
    pub(super) fn open_warning(
        &self,
        output: &TensorFacts,
        what: &'static str,
        errors: &mut Vec<TypeError>,
    ) {
        errors.push(TypeError::Decoder(DecoderError::OpenDimension {
            span: self.decoder_span,
            decoder: self.kind,
            output: format!("`{}` {}", output.name, shape_text(output)),
            what,
        }));
    }
}

/// The number of classes the chosen outputs give, and what lowering needs; every problem
/// is pushed to `errors` (warnings too: W0302 does not fail the model).
pub(super) fn read(
    cx: &Context,
    chosen: &Chosen,
    errors: &mut Vec<TypeError>,
) -> Result<(Option<i64>, Fit), ()> {
    let mut fit = Fit {
        boxes: chosen.boxes.map(|b| b.name.clone()),
        ..Fit::default()
    };
    let classes = match cx.kind.rules().rows() {
        Some(Rows::Yolov5) => read_yolov5(cx, chosen.scores, errors)?,
        Some(Rows::Detr) => read_detr(cx, chosen, errors)?,
        Some(Rows::Ssd) => {
            let (classes, anchors) = read_ssd(cx, chosen, errors)?;
            fit.anchors = anchors;
            classes
        }
        None => return Ok((None, fit)),
    };
    Ok((Some(classes), fit))
}

/// `yolov5`: `[N, anchors, 5 + classes]`, and with `grid: true` the anchors its strides
/// make.
fn read_yolov5(cx: &Context, scores: &TensorFacts, errors: &mut Vec<TypeError>) -> Result<i64, ()> {
    let sd = dims(scores);
    let classes = match sd.as_slice() {
        // Fewer anchors than values an anchor, more than any dataset's classes:
        // YOLOv8's [N, 4 + classes, anchors].
        [_, Some(a), Some(k)] if a < k && *k > MOST_CLASSES => {
            return cx.refuse(scores, BoxProblem::NotYolov5, errors);
        }
        [_, _, Some(k)] if *k > 5 => k - 5,
        [_, _, None] => return cx.refuse(scores, BoxProblem::DynamicClasses, errors),
        _ => return cx.refuse(scores, BoxProblem::NotYolov5, errors),
    };
    if cx.decoder.boolean("grid") == Some(true) {
        anchors::yolov5_grid(cx, scores, sd[1], errors)?;
    }
    Ok(classes)
}

/// `detr`: `[N, queries, 4 + classes]`, or boxes `[N, queries, 4]` and logits apart; with
/// `softmax` the last logit is "no object".
fn read_detr(cx: &Context, chosen: &Chosen, errors: &mut Vec<TypeError>) -> Result<i64, ()> {
    let scores = chosen.scores;
    let softmax = cx.decoder.string("activation") == Some("softmax");
    let width = match (chosen.boxes, dims(scores).as_slice()) {
        // More values a query than any detection dataset has classes (LVIS: 1203),
        // and more than queries: YOLOv8's [N, 4 + classes, anchors].
        (_, [_, Some(q), Some(k)]) if k > q && *k > MOST_CLASSES => {
            return cx.refuse(scores, BoxProblem::NotDetr, errors);
        }
        (None, [_, _, Some(k)]) if *k > 4 => k - 4,
        (Some(_), [_, _, Some(k)]) if *k > 0 => *k,
        (_, [_, _, None]) => return cx.refuse(scores, BoxProblem::DynamicClasses, errors),
        _ => return cx.refuse(scores, BoxProblem::NotDetr, errors),
    };
    if let Some(boxes) = chosen.boxes {
        match dims(boxes).as_slice() {
            [_, _, Some(4)] => same_count(cx, boxes, scores, "queries", errors)?,
            _ => return cx.refuse(boxes, BoxProblem::NotDetr, errors),
        }
    }
    let classes = if softmax { width - 1 } else { width };
    if classes < 1 {
        return cx.refuse(scores, BoxProblem::NoObjectClassOnly, errors);
    }
    Ok(classes)
}

/// `ssd`: box offsets `[N, anchors, 4 + extra]` and scores `[N, anchors, classes]`, the
/// anchors from a file or made by strides; the classes and the anchors read.
fn read_ssd(
    cx: &Context,
    chosen: &Chosen,
    errors: &mut Vec<TypeError>,
) -> Result<(i64, Vec<[f64; 4]>), ()> {
    let scores = chosen.scores;
    let Some(boxes) = chosen.boxes else {
        return cx.refuse(scores, BoxProblem::NotSsd, errors);
    };
    let sd = dims(scores);
    let classes = match sd.as_slice() {
        [_, _, Some(k)] if *k > 0 => *k,
        [_, _, None] => return cx.refuse(scores, BoxProblem::DynamicClasses, errors),
        _ => return cx.refuse(scores, BoxProblem::NotSsd, errors),
    };
    if !matches!(dims(boxes).as_slice(), [_, _, Some(k)] if *k >= 4) {
        return cx.refuse(boxes, BoxProblem::NotSsd, errors);
    }
    same_count(cx, boxes, scores, "anchors", errors)?;
    let count = boxes.shape[1].fixed().or(sd[1]);
    let anchors = anchors::ssd(cx, boxes, count, errors)?;
    Ok((classes, anchors))
}

/// The boxes and the scores are for the same anchors: equal when both are fixed, W0302
/// when one is open.
fn same_count(
    cx: &Context,
    boxes: &TensorFacts,
    scores: &TensorFacts,
    what: &'static str,
    errors: &mut Vec<TypeError>,
) -> Result<(), ()> {
    match (boxes.shape[1].fixed(), scores.shape[1].fixed()) {
        (Some(a), Some(b)) if a != b => {
            errors.push(TypeError::Boxes(BoxError::Shape {
                span: cx.decoder_span,
                decoder: cx.kind,
                output: format!("`{}` {}", scores.name, shape_text(scores)),
                outputs: cx.all_outputs.clone(),
                problem: BoxProblem::CountsDiffer {
                    boxes: format!("`{}` {}", boxes.name, shape_text(boxes)),
                    scores: format!("`{}` {}", scores.name, shape_text(scores)),
                },
                suggest: None,
            }));
            Err(())
        }
        (Some(_), Some(_)) => Ok(()),
        (None, _) if boxes.shape[1] == scores.shape[1] => Ok(()),
        (None, _) => {
            cx.open_warning(boxes, what, errors);
            Ok(())
        }
        (_, None) => {
            cx.open_warning(scores, what, errors);
            Ok(())
        }
    }
}

impl BoxError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            BoxError::Shape {
                span,
                decoder,
                output,
                outputs,
                problem,
                suggest,
            } => {
                let (label, help) = match problem {
                    BoxProblem::NotYolov5 => ("expects [N, anchors, 5 + classes]".to_string(), "yolov5 reads one output of shape [N, anchors, 5 + classes]: centre x, centre y, width, height, objectness, then one score per class for each anchor".to_string()),
                    BoxProblem::NotDetr => ("expects [N, queries, 4 + classes], or boxes [N, queries, 4] and logits [N, queries, classes]".to_string(), "detr reads one output [N, queries, 4 + classes], or two: boxes [N, queries, 4] (centre x, centre y, width, height, fractions of the input) and class logits [N, queries, classes]".to_string()),
                    BoxProblem::NoObjectClassOnly => ("one logit is only the \"no object\" class".to_string(), "with `activation: softmax` the last logit is \"no object\" and is dropped: the model must output at least two; use `activation: sigmoid` if it has no such class".to_string()),
                    BoxProblem::NotSsd => ("expects boxes [N, anchors, 4 + extra] and scores [N, anchors, classes]".to_string(), "ssd reads two outputs: box offsets [N, anchors, 4 + extra] and class scores [N, anchors, classes]; name them with `boxes: \"NAME\"` and the model's `output: \"NAME\"` if vpl cannot tell them apart".to_string()),
                    BoxProblem::DynamicClasses => ("the classes' dimension is open".to_string(), format!("a dynamic dimension cannot stand for the classes: `{decoder}` needs their number fixed in the file")),
                    BoxProblem::CountsDiffer { boxes, scores } => (format!("boxes {boxes}, scores {scores}"), format!("the boxes {boxes} and the scores {scores} must be for the same number of anchors (queries): are these the outputs of one head?")),
                };
                let d = Diagnostic::new(
                    Code::E0304,
                    file,
                    *span,
                    format!("decoder `{decoder}` cannot read the model's output {output}"),
                )
                .with_primary_label(label);
                let help = match outputs {
                    Some(all) => format!("{help} (the model's outputs: {all})"),
                    None => help,
                };
                match suggest {
                    Some(other) => d
                        .with_suggestion(format!("{other}()"))
                        .with_help(format!("{help}; this looks like what `{other}` reads: try `decoder: {other}()`")),
                    None => d.with_help(help),
                }
            }
            BoxError::AnchorCount {
                span,
                decoder,
                expected,
                how,
                output,
                found,
            } => Diagnostic::new(
                Code::E0309,
                file,
                *span,
                format!("decoder `{decoder}` makes {expected} anchors but the model's output {output} has {found}"),
            )
            .with_primary_label(format!("{expected} anchors: {how}"))
            .with_help(format!("the decoder needs one anchor for each of the output's {found} rows, in the order the model makes them: check the strides (and anchors per cell) against the model's heads, or the model's input size")),
            BoxError::BadAnchors { span, reason } => Diagnostic::new(
                Code::E0310,
                file,
                *span,
                format!("the decoder's anchors cannot be made: {reason}"),
            )
            .with_primary_label("no anchors from this")
            .with_help("give an anchors file of lines `centre_x centre_y width height` (fractions of the input), or `strides` and `per_cell` with one positive value per grid"),
            BoxError::AmbiguousBoxes {
                span,
                decoder,
                candidates,
                outputs,
            } => Diagnostic::new(
                Code::E0304,
                file,
                *span,
                format!("decoder `{decoder}` could read its boxes from {} of the model's outputs: {outputs}", candidates.len()),
            )
            .with_primary_label("which output holds the boxes?")
            .with_help(format!(
                "name the boxes output in the decoder, e.g. `{decoder}(boxes: \"{}\")`, and the scores with the model's `output:` if needed",
                candidates.first().map_or("", String::as_str)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::DType;

    fn tensor(name: &str, shape: &[i64]) -> TensorFacts {
        TensorFacts {
            name: name.into(),
            dtype: DType::F32,
            shape: shape.iter().map(|d| Dim::Fixed(*d)).collect(),
        }
    }

    fn facts(outputs: Vec<TensorFacts>) -> ModelFacts {
        ModelFacts {
            inputs: vec![tensor("input", &[1, 3, 640, 640])],
            outputs,
            ..ModelFacts::default()
        }
    }

    #[test]
    fn layouts_no_decoder_reads_are_named_and_suggest_nothing() {
        // DetectNet_v2 (TrafficCamNet): coverage and boxes grids.
        let grids = facts(vec![
            tensor("output_cov/Sigmoid", &[1, 3, 34, 60]),
            tensor("output_bbox/BiasAdd", &[1, 12, 34, 60]),
        ]);
        assert!(unrecognised(&grids, false).is_some_and(|w| w.contains("DetectNet_v2")));
        // DeepStream-Yolo's three outputs, and its one output of six columns.
        let three = facts(vec![
            tensor("boxes", &[1, 8400, 4]),
            tensor("scores", &[1, 8400, 1]),
            tensor("classes", &[1, 8400, 1]),
        ]);
        assert!(unrecognised(&three, false).is_some_and(|w| w.contains("DeepStream-Yolo")));
        let six = facts(vec![tensor("output", &[1, 8400, 6])]);
        assert!(unrecognised(&six, false).is_some());
        assert_eq!(suggest(&six.outputs[0]), None);
        // Its classes named: a one-class YOLOv5 (or a two-class DETR).
        assert_eq!(unrecognised(&six, true), None);
        // A class map and a YOLOv5 head are what they look like.
        let map = facts(vec![tensor("logits", &[1, 19, 160, 160])]);
        assert_eq!(unrecognised(&map, false), None);
        let v5 = facts(vec![tensor("output0", &[1, 25200, 85])]);
        assert_eq!(unrecognised(&v5, false), None);
        assert_eq!(suggest(&v5.outputs[0]), Some(Decoder::Yolov5));
    }
}
