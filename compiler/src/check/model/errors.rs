//! What the model checker finds wrong with a decoder's outputs, whatever its family: an
//! output it cannot read (E0304, with the problem and the decoder the shape looks like),
//! an output named that the file lacks, several it could read, a dimension left to the
//! run (W0302).

use crate::diagnostics::{Code, Diagnostic};
use crate::source::FileId;
use crate::stage::{Decoder, Family};
use crate::syntax::Span;

/// Why a decoder cannot read an output by its shape (E0304).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeProblem {
    NotYolov8,
    LooksLikeYolov5,
    /// The output is not of the shape the decoder reads: what it expects (E0304's label)
    /// and what it reads (the help), said in the decoder's file (`crate::decoders`).
    Expects {
        expects: &'static str,
        help: &'static str,
    },
    /// The dimension that holds the classes (`4 + classes` for yolov8) is dynamic.
    DynamicClasses,
    /// `text_boxes` reads a `[N, 1, H, W]` probability map.
    NotTextMap,
    /// `ctc` reads `[N, T, C]` scores.
    NotCtc,
    /// `yolov8_seg` on an output that is not `[N, 4 + classes + masks, anchors]`.
    NotSeg,
    /// `yolov8_seg` on a model with no `[N, masks, H, W]` prototypes output.
    NoPrototypes,
    /// A decoder of DetectNet_v2's grids on a model without a boxes grid `[N, 4 C, H, W]`
    /// beside its coverage `[N, C, H, W]`.
    NoBoxesGrid,
    /// `yolov8_pose` on an output that is not `[N, rows, anchors]`.
    NotPose,
    /// `yolov8_pose` on `[N, rows, anchors]` whose `rows - 5` is not 3 × keypoints.
    PoseRows {
        rows: i64,
    },
    /// `semantic` on an output that is not `[N, classes, H, W]`.
    NotSemantic,
    /// The model's shapes (or metadata) say it needs another decoder.
    Suggest {
        decoder: Decoder,
        why: String,
    },
    /// The model's outputs have a layout no vpl decoder reads (`boxes::unrecognised`):
    /// what the model is.
    NoDecoderFits {
        what: String,
    },
    /// The output's layout is read by more than one decoder, each for another export, and
    /// nothing in the file says which export it is (`boxes::unread_layout`): what it may be.
    Unclear {
        what: String,
    },
}

/// What is wrong with the outputs a decoder reads, whatever its family (E0304, W0302).
#[derive(Debug, Clone, PartialEq)]
pub enum DecoderError {
    /// The decoder cannot read the output it was given or chose.
    Shape {
        span: Span,
        decoder: Decoder,
        output: String,
        /// Every output with its shape, when the model has several.
        outputs: Option<String>,
        problem: ShapeProblem,
        /// The decoder this output's shape looks like (`boxes::suggest`).
        suggest: Option<Decoder>,
    },
    /// `output:` names no output of the file.
    UnknownOutput {
        span: Span,
        name: String,
        outputs: String,
    },
    /// Several outputs fit the decoder and nothing says which it reads.
    AmbiguousOutput {
        span: Span,
        decoder: Decoder,
        candidates: Vec<String>,
        outputs: String,
    },
    /// A dimension the decoder needs is open in the file: checked at run time.
    OpenDimension {
        span: Span,
        decoder: Decoder,
        output: String,
        /// "anchors", "queries"
        what: &'static str,
    },
}

impl DecoderError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            DecoderError::Shape {
                span,
                decoder,
                output,
                outputs,
                problem,
                suggest,
            } => {
                let d = Diagnostic::new(
                    Code::E0304,
                    file,
                    *span,
                    format!("decoder `{decoder}` cannot read the model's output {output}"),
                );
                let d = match problem {
                    ShapeProblem::LooksLikeYolov5 => d
                        .with_primary_label("expects [N, 4 + classes, anchors]")
                        .with_suggestion("yolov5()")
                        .with_help(format!("this output looks like YOLOv5 ({output}: anchors × (5 + classes)): try `decoder: yolov5()`")),
                    ShapeProblem::NotYolov8 => d
                        .with_primary_label("expects [N, 4 + classes, anchors]")
                        .with_help("yolov8 reads one output of shape [N, 4 + classes, anchors]: 4 box coordinates then one score per class for each anchor"),
                    ShapeProblem::Expects { expects, help } => d
                        .with_primary_label(*expects)
                        .with_help(*help),
                    ShapeProblem::NotTextMap => d
                        .with_primary_label("expects [N, 1, H, W]")
                        .with_help("text_boxes reads one probability map of shape [N, 1, H, W] (a DB text detector such as PaddleOCR's det model)"),
                    ShapeProblem::NotCtc => d
                        .with_primary_label("expects [N, T, C]")
                        .with_help("ctc reads one output of shape [N, T, C]: for each of T steps, a score per class, class 0 the blank (a CTC recogniser such as PaddleOCR's rec model)"),
                    ShapeProblem::NotSeg => d
                        .with_primary_label("expects [N, 4 + classes + masks, anchors]")
                        .with_help("yolov8_seg reads an output [N, 4 + classes + masks, anchors] (4 box coordinates, one score per class, then the mask coefficients, for each anchor) and the prototypes [N, masks, H, W]"),
                    ShapeProblem::NoPrototypes => d
                        .with_primary_label("no mask prototypes beside this output")
                        .with_help(format!("yolov8_seg also reads the mask prototypes: another output of shape [N, masks, H, W] with `masks` fixed and less than {output}'s rows minus 4; this model has none (export the segmentation model with its two outputs, or use `decoder: yolov8` for the boxes only)")),
                    ShapeProblem::NoBoxesGrid => d
                        .with_primary_label("no boxes grid beside a coverage grid")
                        .with_help(format!("`{decoder}` reads DetectNet_v2's two grids: a coverage score for each class in each cell, [N, classes, H, W], and beside it a box for each, [N, 4 × classes, H, W] of the same grid; this model's outputs are not those")),
                    ShapeProblem::NotPose => d
                        .with_primary_label("expects [N, 4 + 1 + 3 × keypoints, anchors]")
                        .with_help("yolov8_pose reads one output of shape [N, 4 + 1 + 3 × keypoints, anchors]: 4 box coordinates, the person score, then x, y and visibility of each keypoint, for each anchor"),
                    ShapeProblem::PoseRows { rows } => d
                        .with_primary_label(format!("{rows} rows: {rows} − 5 is not a multiple of 3"))
                        .with_help("yolov8_pose reads [N, 4 + 1 + 3 × keypoints, anchors]: after the box and the score, each keypoint is 3 rows (x, y, visibility); 56 rows are COCO's 17 keypoints"),
                    ShapeProblem::NotSemantic => d
                        .with_primary_label("expects [N, classes, H, W]")
                        .with_help("semantic reads one output of shape [N, classes, H, W]: a score for each class at each position of the map"),
                    ShapeProblem::NoDecoderFits { what } => d
                        .with_primary_label("no vpl decoder reads this model's outputs")
                        .with_help(format!("{what}. vpl cannot decode this layout as it is, and another decoder would read garbage from it: use `decoder: raw` to keep the outputs as tensors, or export the model in a layout a vpl decoder reads (docs/decoders.md)")),
                    ShapeProblem::Unclear { what } => d
                        .with_primary_label("which decoder reads this output?")
                        .with_help(format!("{what}. Give the decoder of the model's export: another would read garbage from it")),
                    ShapeProblem::Suggest { decoder: better, why } => d
                        .with_primary_label(format!("this model needs `{better}`"))
                        .with_suggestion(better.to_string())
                        .with_help(format!("{why}; use `decoder: {better}(...)`")),
                    ShapeProblem::DynamicClasses => d
                        .with_primary_label(decoder.rules().fixed_classes())
                        .with_help(if *decoder == Decoder::Ctc {
                            "a dynamic dimension cannot stand for the classes: `ctc` needs their number (blank, characters, and a space if the model has one) fixed in the file".to_string()
                        } else {
                            format!("a dynamic dimension cannot stand for the classes: `{decoder}` needs their number fixed in the file; a model with an output like this (a sequence, a CTC recogniser) needs `decoder: ctc(...)` or `decoder: raw`")
                        }),
                };
                let d = match outputs {
                    // Another output would not help: the model needs another decoder.
                    Some(_) if matches!(problem, ShapeProblem::Suggest { .. } | ShapeProblem::NoDecoderFits { .. } | ShapeProblem::Unclear { .. } | ShapeProblem::NoBoxesGrid) => d,
                    Some(all) => {
                        let help = d.help.clone().unwrap_or_default();
                        d.with_help(format!("{help} (the model's outputs: {all}; choose one with `output: \"NAME\"`)"))
                    }
                    None => d,
                };
                match suggest {
                    Some(other) if d.suggestion.is_none() => {
                        let help = d.help.clone().unwrap_or_default();
                        d.with_suggestion(format!("{other}()"))
                            .with_help(format!("{help}; this shape looks like `{other}`: try `decoder: {other}()`"))
                    }
                    _ => d,
                }
            }
            DecoderError::UnknownOutput { span, name, outputs } => Diagnostic::new(
                Code::E0304,
                file,
                *span,
                format!("the model has no output `{name}`"),
            )
            .with_primary_label("not an output of the file")
            .with_help(format!("the model's outputs: {outputs}")),
            DecoderError::AmbiguousOutput {
                span,
                decoder,
                candidates,
                outputs,
            } => Diagnostic::new(
                Code::E0304,
                file,
                *span,
                format!("decoder `{decoder}` could read {} of the model's outputs: {outputs}", candidates.len()),
            )
            .with_primary_label("which output does it read?")
            .with_help(format!(
                "name the output the decoder reads, e.g. `output: \"{}\"`{}",
                candidates.last().map_or("", String::as_str),
                if decoder.family() == Family::Classify { ", or give as many labels as it has classes" } else { "" }
            )),
            DecoderError::OpenDimension {
                span,
                decoder,
                output,
                what,
            } => Diagnostic::new(
                Code::W0302,
                file,
                *span,
                format!("the model's output {output} leaves its {what} open: decoder `{decoder}` can only be fitted to it at run time"),
            )
            .with_primary_label(format!("{what} checked at run time"))
            .with_help(format!("the file does not fix how many {what} the output has; if it is not what `{decoder}` expects, the run stops with an error at this model. Fix the dimension in the model (export with static shapes) to have it checked now")),
        }
    }
}
