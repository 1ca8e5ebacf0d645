//! One frame's outputs → objects with masks (`yolov8_seg`, `semantic`) or keypoints
//! (`yolov8_pose`), through `engine::decode::segment` and `engine::decode::pose`.

use crate::engine::OutputTensor;
use crate::engine::decode::segment::{self, Protos};
use crate::engine::decode::{Detection, pose};
use crate::meta::Object;

use super::config::{Config, Decoder};
use super::model::{Found, Placement, pick};

fn shape_error(decoder: &str, want: &str, output: &OutputTensor) -> String {
    format!(
        "the {decoder} decoder needs an output of shape {want}; `{}` has {:?}",
        output.name, output.shape
    )
}

fn object(config: &Config, d: &Detection) -> Object {
    Object {
        class_id: u32::try_from(d.class_id).unwrap_or(u32::MAX),
        label: label(config, d.class_id),
        confidence: d.confidence,
        x: d.x,
        y: d.y,
        w: d.w,
        h: d.h,
        ..Object::default()
    }
}

fn label(config: &Config, class: usize) -> String {
    config
        .labels
        .get(class)
        .cloned()
        .unwrap_or_else(|| class.to_string())
}

/// Decodes one frame's outputs with one of this file's decoders.
pub fn decode(
    config: &Config,
    outputs: &[OutputTensor],
    placement: &Placement,
) -> Result<Found, String> {
    let frame = segment::Frame {
        letterbox: placement.letterbox,
        source: placement.source,
        input: (config.preprocess.width, config.preprocess.height),
    };
    let objects = match &config.decoder {
        Decoder::Yolov8Seg {
            config: yolo,
            protos,
            format,
        } => {
            let output = pick(outputs, &config.output)?;
            let [1, rows, anchors] = output.shape[..] else {
                return Err(shape_error(
                    "yolov8_seg",
                    "[batch, 4 + classes + masks, anchors]",
                    output,
                ));
            };
            // The compiler names the prototypes; without it, the output of rank 4.
            let p = if protos.is_empty() {
                outputs.iter().find(|o| o.shape.len() == 4).ok_or(
                    "the yolov8_seg decoder found no prototypes output [batch, masks, H, W]",
                )?
            } else {
                pick(outputs, protos)?
            };
            let [1, masks, height, width] = p.shape[..] else {
                return Err(shape_error("yolov8_seg", "[batch, masks, H, W]", p));
            };
            if rows <= 4 + masks {
                return Err(format!(
                    "the yolov8_seg decoder reads {masks} mask coefficients from `{}` ({:?}), which has only {rows} rows",
                    output.name, output.shape
                ));
            }
            let protos = Protos {
                data: &p.data,
                masks,
                height,
                width,
            };
            segment::decode_yolov8_seg(&output.data, rows, anchors, &protos, yolo, &frame, *format)
                .into_iter()
                .map(|(d, mask)| Object {
                    mask: Some(mask),
                    ..object(config, &d)
                })
                .collect()
        }
        Decoder::Yolov8Pose {
            config: yolo,
            skeleton,
        } => {
            let output = pick(outputs, &config.output)?;
            let [1, rows, anchors] = output.shape[..] else {
                return Err(shape_error(
                    "yolov8_pose",
                    "[batch, 4 + 1 + 3 × keypoints, anchors]",
                    output,
                ));
            };
            pose::decode_yolov8_pose(
                &output.data,
                rows,
                anchors,
                yolo,
                &placement.letterbox,
                placement.source,
            )
            .into_iter()
            .map(|(d, keypoints)| Object {
                keypoints,
                skeleton: skeleton.clone(),
                ..object(config, &d)
            })
            .collect()
        }
        Decoder::Semantic { format, min_area } => {
            let output = pick(outputs, &config.output)?;
            let [1, classes, height, width] = output.shape[..] else {
                return Err(shape_error("semantic", "[batch, classes, H, W]", output));
            };
            segment::decode_semantic(
                &output.data,
                classes,
                height,
                width,
                *min_area,
                &frame,
                *format,
            )
            .into_iter()
            .map(|r| Object {
                class_id: u32::try_from(r.class_id).unwrap_or(u32::MAX),
                label: label(config, r.class_id),
                confidence: r.confidence,
                x: r.mask.x as f32,
                y: r.mask.y as f32,
                w: r.mask.width as f32,
                h: r.mask.height as f32,
                mask: Some(r.mask),
                ..Object::default()
            })
            .collect()
        }
        Decoder::Yolov8(_)
        | Decoder::Classify { .. }
        | Decoder::Raw
        | Decoder::TextBoxes(_)
        | Decoder::Ctc { .. }
        | Decoder::Yolov5(_)
        | Decoder::Detr(..)
        | Decoder::Ssd(..) => Vec::new(),
    };
    Ok(Found {
        objects,
        ..Found::default()
    })
}
