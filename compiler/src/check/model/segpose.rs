//! The decoders that give objects masks or keypoints (`yolov8_seg`, `yolov8_pose`,
//! `semantic`): the output shape each reads, the second output `yolov8_seg` needs (the
//! mask prototypes), and the decoder a model's shapes call for when another was chosen
//! (E0304's suggestion).

use super::errors::ShapeProblem;
use crate::check::errors::TypeError;
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{Dim, ModelFacts, TensorFacts};
use crate::source::FileId;
use crate::stage::Decoder;
use crate::syntax::Span;

/// What is wrong with a masks or keypoints decoder's use (E0312, E0313).
#[derive(Debug, Clone, PartialEq)]
pub enum SegposeError {
    /// `yolov8_pose(skeleton: coco17)` on a model whose keypoints are not COCO's 17 (E0312).
    SkeletonKeypoints {
        span: Span,
        keypoints: i64,
        output: String,
    },
    /// A decoder that makes masks or keypoints used on crops (`infer(on: ...)`, E0313).
    OnCrops { span: Span, decoder: Decoder },
}

/// What `infer` and lowering need to know besides the classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extras {
    /// The decoder (for messages: it cannot run on crops).
    pub decoder: Decoder,
    /// `yolov8_seg`: the prototypes output `[N, masks, H, W]`.
    pub protos: Option<String>,
    /// `yolov8_seg`: the number of mask coefficients (and prototypes).
    pub masks: Option<i64>,
    /// `yolov8_pose`: keypoints per object.
    pub keypoints: Option<i64>,
}

fn fixed(t: &TensorFacts) -> Vec<Option<i64>> {
    t.shape.iter().map(Dim::fixed).collect()
}

/// What `yolov8_seg` reads from an output of these dimensions: `None` classes, which
/// depend on its prototypes (`fit`).
pub(crate) fn seg_shape(dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
    match dims {
        [_, Some(r), Some(a)] if *r > 5 && a > r => Ok(None),
        [_, Some(r), None] if *r > 5 => Ok(None),
        [_, None, _] => Err(ShapeProblem::DynamicClasses),
        _ => Err(ShapeProblem::NotSeg),
    }
}

/// `yolov8_pose`: one class, the person.
pub(crate) fn pose_shape(dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
    match dims {
        [_, Some(r), Some(a)] if *r >= 8 && (r - 5) % 3 == 0 && a > r => Ok(Some(1)),
        [_, Some(r), None] if *r >= 8 && (r - 5) % 3 == 0 => Ok(Some(1)),
        [_, Some(r), _] if *r > 5 => Err(ShapeProblem::PoseRows { rows: *r }),
        [_, None, _] => Err(ShapeProblem::DynamicClasses),
        _ => Err(ShapeProblem::NotPose),
    }
}

/// `semantic`: a class map `[N, classes, H, W]`.
pub(crate) fn semantic_shape(dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
    match dims {
        [_, Some(1), Some(1)] | [_, _, Some(1), Some(1)] => Err(ShapeProblem::NotSemantic),
        [_, Some(c), _, _] if *c >= 2 => Ok(Some(*c)),
        [_, None, _, _] => Err(ShapeProblem::DynamicClasses),
        _ => Err(ShapeProblem::NotSemantic),
    }
}

/// A prototypes output for the detection output `output` (`[N, rows, anchors]`): another
/// output `[N, masks, H, W]` with `masks` fixed and less than `rows - 4`.
fn protos_for<'a>(facts: &'a ModelFacts, output: &TensorFacts) -> Option<(&'a TensorFacts, i64)> {
    let rows = match fixed(output).as_slice() {
        [_, Some(r), _] => *r,
        _ => return None,
    };
    facts
        .outputs
        .iter()
        .find_map(|o| match fixed(o).as_slice() {
            [_, Some(m), _, _] if o.name != output.name && *m > 0 && *m < rows - 4 => Some((o, *m)),
            _ => None,
        })
}

/// The fit of `decoder` to the model, once its shape rule accepted `output` with
/// `classes`: the classes and, for this file's decoders, what lowering needs.
pub(super) fn fit(
    decoder: Decoder,
    facts: &ModelFacts,
    output: &TensorFacts,
    classes: Option<i64>,
) -> Result<(Option<i64>, Option<Extras>), ShapeProblem> {
    let mut extras = Extras {
        decoder,
        protos: None,
        masks: None,
        keypoints: None,
    };
    // Only this file's decoders read more than their output.
    if decoder == Decoder::Yolov8Seg {
        let Some((protos, masks)) = protos_for(facts, output) else {
            return Err(ShapeProblem::NoPrototypes);
        };
        let rows = fixed(output)[1].unwrap_or(0);
        extras.protos = Some(protos.name.clone());
        extras.masks = Some(masks);
        Ok((Some(rows - 4 - masks), Some(extras)))
    } else if decoder == Decoder::Yolov8Pose {
        let rows = fixed(output)[1].unwrap_or(5);
        extras.keypoints = Some((rows - 5) / 3);
        Ok((classes, Some(extras)))
    } else if decoder == Decoder::Semantic {
        Ok((classes, Some(extras)))
    } else {
        Ok((classes, None))
    }
}

/// The decoder the model's outputs call for when `decoder` was chosen and cannot be right
/// (or reads the output wrongly): `Some(problem)` to report as E0304.
pub(super) fn better(
    decoder: Decoder,
    facts: &ModelFacts,
    output: &TensorFacts,
) -> Option<ShapeProblem> {
    let dims = fixed(output);
    let suggest = |decoder: Decoder, why: String| Some(ShapeProblem::Suggest { decoder, why });
    // Detections and prototypes: instance segmentation.
    if !matches!(decoder, Decoder::Yolov8Seg | Decoder::Raw)
        && let Some((protos, m)) = protos_for(facts, output)
    {
        return suggest(
            Decoder::Yolov8Seg,
            format!(
                "the model has mask prototypes (`{}` [N, {m}, H, W]) beside its detections: it is an instance segmentation model",
                protos.name
            ),
        );
    }
    // Ultralytics writes `kpt_shape` into a pose model's metadata.
    let kpt_shape = facts.metadata.iter().find(|(k, _)| k == "kpt_shape");
    if !matches!(decoder, Decoder::Yolov8Pose | Decoder::Raw)
        && let Some((_, shape)) = kpt_shape
        && matches!(dims.as_slice(), [_, Some(_), _])
    {
        return suggest(
            Decoder::Yolov8Pose,
            format!("the model's metadata says `kpt_shape: {shape}`: it is a pose model"),
        );
    }
    // A class map read as boxes or one label.
    if matches!(
        decoder,
        Decoder::Yolov8 | Decoder::Yolov8Seg | Decoder::Yolov8Pose | Decoder::Classify
    ) {
        return match dims.as_slice() {
            [_, Some(c), Some(h), Some(w)] if *c >= 2 && (*h > 1 || *w > 1) => suggest(
                Decoder::Semantic,
                format!("the output has {c} scores for each of {h} x {w} positions: a class map"),
            ),
            _ => None,
        };
    }
    // Boxes or one label read as a class map.
    if decoder != Decoder::Semantic {
        return None;
    }
    match dims.as_slice() {
        [_, Some(r), Some(a)] if a > r && *r > 4 => suggest(
            Decoder::Yolov8,
            format!("the output has {r} rows for each of {a} anchors: a YOLOv8-style detector"),
        ),
        [_, Some(_)] | [_, Some(_), Some(1), Some(1)] => suggest(
            Decoder::Classify,
            "the output has one score a class for the whole image: a classifier".to_string(),
        ),
        _ => None,
    }
}

/// E0312: `skeleton: coco17` on a pose model whose keypoints are not COCO's 17.
pub(super) fn skeleton_fits(
    d: &super::Decl,
    extras: Option<&Extras>,
    output: &TensorFacts,
    errors: &mut Vec<TypeError>,
) -> bool {
    if let Some(keypoints) = extras.and_then(|e| e.keypoints)
        && let Some(call) = d.decoder
        && call.string("skeleton") == Some("coco17")
        && keypoints != 17
    {
        let span = match call.bound("skeleton") {
            Some(a) if a.given => a.span,
            _ => d.decoder_span,
        };
        errors.push(TypeError::Segpose(SegposeError::SkeletonKeypoints {
            span,
            keypoints,
            output: format!("`{}` {}", output.name, super::shape_text(output)),
        }));
        return false;
    }
    true
}

/// The decoder, when the model's decoder makes masks or keypoints, which are found on
/// whole frames only (E0313 on `infer(on: ...)`).
pub(in crate::check) fn crops_refused(info: &super::ModelInfo) -> Option<Decoder> {
    info.extras.as_ref().map(|e| e.decoder)
}

impl SegposeError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            SegposeError::SkeletonKeypoints {
                span,
                keypoints,
                output,
            } => Diagnostic::new(
                Code::E0312,
                file,
                *span,
                format!("skeleton `coco17` joins COCO's 17 keypoints, but the model has {keypoints}"),
            )
            .with_primary_label("17 keypoints expected")
            .with_help(format!("the output {output} holds 4 + 1 + 3 × {keypoints} rows: {keypoints} keypoints; use `skeleton: none` to draw the keypoints without bones")),
            SegposeError::OnCrops { span, decoder } => Diagnostic::new(
                Code::E0313,
                file,
                *span,
                format!("`{decoder}` cannot run on crops"),
            )
            .with_primary_label("runs on the objects' crops")
            .with_help(format!("the masks and keypoints of `{decoder}` are found on whole frames: remove `on:` and run the model on the frames")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::facts::{DType, Dim, ModelFacts, TensorFacts};
    use crate::host::MemoryHost;
    use crate::onnx::model_bytes;
    use crate::{SourceMap, compile};

    fn tensor(name: &str, shape: &[Option<i64>]) -> TensorFacts {
        TensorFacts {
            name: name.into(),
            dtype: DType::F32,
            shape: shape
                .iter()
                .map(|d| d.map_or_else(|| Dim::Named("n".into()), Dim::Fixed))
                .collect(),
        }
    }

    fn model(outputs: Vec<TensorFacts>) -> Vec<u8> {
        model_bytes(&ModelFacts {
            inputs: vec![tensor("images", &[Some(1), Some(3), Some(640), Some(640)])],
            outputs,
            ..ModelFacts::default()
        })
    }

    fn host() -> MemoryHost {
        let seg = |m: Option<i64>| {
            model(vec![
                tensor("protos", &[Some(1), m, Some(160), Some(160)]),
                tensor("output0", &[Some(1), Some(4 + 3 + 32), Some(8400)]),
            ])
        };
        MemoryHost::new()
            .with_file("/m/seg.onnx", seg(Some(32)))
            .with_file("/m/seg_open.onnx", seg(None))
            .with_file(
                "/m/pose.onnx",
                model(vec![tensor("output0", &[Some(1), Some(56), Some(8400)])]),
            )
            .with_file(
                "/m/sem.onnx",
                model(vec![tensor("logits", &[Some(1), Some(19), None, None])]),
            )
    }

    /// The codes of `model m = onnx(MODEL)` run by `infer`, and the model's facts.
    fn check(model: &str) -> (Vec<String>, Option<super::super::ModelInfo>) {
        let text = format!(
            "model m = onnx({model});\npipeline p {{ test() | infer(m) | json | stdout; }}"
        );
        let mut sources = SourceMap::default();
        let c = compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), &text, &host());
        let codes = c.diagnostics.iter().map(|d| d.code.to_string()).collect();
        (codes, c.typed.models.first().cloned().flatten())
    }

    #[test]
    fn seg_finds_its_prototypes_and_counts_the_classes_without_the_coefficients() {
        let (codes, info) = check("\"/m/seg.onnx\", decoder: yolov8_seg()");
        assert!(codes.is_empty(), "{codes:?}");
        let info = info.expect("the model is read");
        assert_eq!(info.output.as_deref(), Some("output0"));
        let extras = info.extras.expect("extras");
        assert_eq!(extras.protos.as_deref(), Some("protos"));
        assert_eq!(extras.masks, Some(32));
        assert_eq!(
            info.kind,
            super::super::ModelKind::Detector { classes: Some(3) }
        );
        let (codes, _) = check("\"/m/seg.onnx\", labels: [\"a\", \"b\"], decoder: yolov8_seg()");
        assert_eq!(codes, ["E0305"], "3 classes, not 2");
        // An open mask count never fits.
        let (codes, _) = check("\"/m/seg_open.onnx\", decoder: yolov8_seg()");
        assert_eq!(codes, ["E0304"]);
        // Mask coefficients are not classes: yolov8 on it is refused.
        let (codes, _) = check("\"/m/seg.onnx\", decoder: yolov8()");
        assert_eq!(codes, ["E0304"]);
    }

    #[test]
    fn pose_counts_keypoints_and_semantic_reads_a_map_of_open_size() {
        let (codes, info) = check("\"/m/pose.onnx\", decoder: yolov8_pose()");
        assert!(codes.is_empty(), "{codes:?}");
        let info = info.expect("the model is read");
        assert_eq!(info.extras.and_then(|e| e.keypoints), Some(17));
        assert_eq!(info.preprocess.resize, super::super::Resize::Letterbox);
        let (codes, info) = check("\"/m/sem.onnx\", decoder: semantic()");
        assert!(codes.is_empty(), "{codes:?}");
        let info = info.expect("the model is read");
        assert_eq!(
            info.kind,
            super::super::ModelKind::Detector { classes: Some(19) }
        );
        assert_eq!(info.preprocess.resize, super::super::Resize::Stretch);
        assert_eq!(info.labels.len(), 19);
    }
}
