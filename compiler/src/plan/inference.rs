//! Lowering `infer`: the properties of `vplinfer`.

use super::Prop;
use crate::check::model::{Layout, PixelOrder, Resize};
use crate::ir::{Decoder, InferNode};

/// What every box decoder is told: its name, the confidence threshold, the IoU of its
/// non-maximum suppression (none for decoders without it) and the most detections a frame.
fn box_decoder(
    props: &mut Vec<(&'static str, Prop)>,
    name: &str,
    confidence: f64,
    iou: Option<f64>,
    max: i64,
) {
    props.push(("decoder", Prop::Str(name.into())));
    props.push(("confidence", Prop::Float(confidence)));
    if let Some(iou) = iou {
        props.push(("iou", Prop::Float(iou)));
    }
    props.push(("max-detections", Prop::UInt(max as u64)));
}

pub(super) fn infer_props(i: &InferNode) -> Vec<(&'static str, Prop)> {
    let p = &i.preprocess;
    let (w, h) = p.size.unwrap_or((0, 0));
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut props = vec![
        ("model", Prop::Str(i.model_path.clone())),
        ("group", Prop::Str(i.group.clone())),
        ("stream", Prop::UInt(i.stream as u64)),
        ("batch-size", Prop::UInt(i.batch as u64)),
        ("batch-timeout", Prop::UInt(i.timeout_ns.max(0) as u64)),
        ("every", Prop::UInt(i.every as u64)),
        ("input-width", Prop::UInt(w as u64)),
        ("input-height", Prop::UInt(h as u64)),
        (
            "layout",
            Prop::Str(
                match p.layout {
                    Layout::Nchw => "nchw",
                    Layout::Nhwc => "nhwc",
                }
                .into(),
            ),
        ),
        (
            "order",
            Prop::Str(
                match p.order {
                    PixelOrder::Rgb => "rgb",
                    PixelOrder::Bgr => "bgr",
                    PixelOrder::Gray => "gray",
                    PixelOrder::Rgbx => "rgbx",
                    PixelOrder::Bgrx => "bgrx",
                }
                .into(),
            ),
        ),
        (
            "resize",
            Prop::Str(
                match p.resize {
                    Resize::Letterbox => "letterbox",
                    Resize::Stretch => "stretch",
                    Resize::FixedHeight => "fixed_height",
                }
                .into(),
            ),
        ),
        ("dtype", Prop::Str(p.dtype.name())),
        ("scale", Prop::Float(p.scale)),
        ("mean", Prop::Str(list(&p.mean))),
        ("std", Prop::Str(list(&p.std))),
        ("labels", Prop::Str(i.labels.join("\n"))),
        ("model-name", Prop::Str(i.model_name.clone())),
        ("output", Prop::Str(i.output.clone())),
    ];
    // Crop mode: the model runs on the crops of the upstream objects with these labels.
    if !i.on.is_empty() {
        let (w, h) = i.min_size.unwrap_or((0, 0));
        props.push(("on-labels", Prop::Str(i.on.join("\n"))));
        props.push(("min-width", Prop::UInt(w as u64)));
        props.push(("min-height", Prop::UInt(h as u64)));
    }
    match &i.decoder {
        Decoder::Yolov8 {
            confidence,
            iou,
            max,
        } => {
            box_decoder(&mut props, "yolov8", *confidence, Some(*iou), *max);
        }
        Decoder::Yolov5 {
            confidence,
            iou,
            max,
            strides,
        } => {
            box_decoder(&mut props, "yolov5", *confidence, Some(*iou), *max);
            if !strides.is_empty() {
                props.push(("grid-strides", Prop::Str(join(strides))));
            }
        }
        Decoder::Detr {
            confidence,
            max,
            activation,
            boxes,
        } => {
            box_decoder(&mut props, "detr", *confidence, None, *max);
            props.push(("activation", Prop::Str(activation.clone())));
            props.push(("boxes-output", Prop::Str(boxes.clone())));
        }
        Decoder::Ssd {
            confidence,
            iou,
            max,
            activation,
            boxes,
            anchors,
            strides,
            per_cell,
        } => {
            box_decoder(&mut props, "ssd", *confidence, Some(*iou), *max);
            props.push(("activation", Prop::Str(activation.clone())));
            props.push(("boxes-output", Prop::Str(boxes.clone())));
            if anchors.is_empty() {
                props.push(("anchor-strides", Prop::Str(join(strides))));
                props.push(("anchor-per-cell", Prop::Str(join(per_cell))));
            } else {
                let lines: Vec<String> = anchors
                    .iter()
                    .map(|a| a.map(|v| v.to_string()).join(" "))
                    .collect();
                props.push(("anchors", Prop::Str(lines.join("\n"))));
            }
        }
        Decoder::Classify { top } => {
            props.push(("decoder", Prop::Str("classify".into())));
            props.push(("top", Prop::UInt(*top as u64)));
        }
        Decoder::TextBoxes {
            thresh,
            box_thresh,
            unclip_ratio,
            max,
        } => {
            props.push(("decoder", Prop::Str("text_boxes".into())));
            props.push(("thresh", Prop::Float(*thresh)));
            props.push(("box-thresh", Prop::Float(*box_thresh)));
            props.push(("unclip-ratio", Prop::Float(*unclip_ratio)));
            props.push(("max-detections", Prop::UInt(*max as u64)));
        }
        Decoder::Ctc {
            alphabet,
            blank_last,
        } => {
            props.push(("decoder", Prop::Str("ctc".into())));
            props.push(("alphabet", Prop::Str(alphabet.clone())));
            if *blank_last {
                props.push(("blank", Prop::Str("last".into())));
            }
        }
        Decoder::Raw => props.push(("decoder", Prop::Str("raw".into()))),
        Decoder::Yolov8Seg {
            confidence,
            iou,
            max,
            protos,
            masks,
        } => {
            box_decoder(&mut props, "yolov8_seg", *confidence, Some(*iou), *max);
            props.push(("protos", Prop::Str(protos.clone())));
            props.push(("masks", Prop::Str(masks.clone())));
        }
        Decoder::Yolov8Pose {
            confidence,
            iou,
            max,
            skeleton,
        } => {
            box_decoder(&mut props, "yolov8_pose", *confidence, Some(*iou), *max);
            props.push(("skeleton", Prop::Str(skeleton.clone())));
        }
        Decoder::Semantic { masks, min_area } => {
            props.push(("decoder", Prop::Str("semantic".into())));
            props.push(("masks", Prop::Str(masks.clone())));
            props.push(("min-area", Prop::UInt(*min_area as u64)));
        }
    }
    if !i.batch_axes.is_empty() {
        let lines: Vec<String> = i
            .batch_axes
            .iter()
            .map(|(name, axis)| format!("{name}={axis}"))
            .collect();
        props.push(("batch-axes", Prop::Str(lines.join("\n"))));
    }
    props
}

/// "8,16,32": a list of integers as a property value.
fn join(values: &[i64]) -> String {
    values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
