//! One frame's outputs → objects with masks (`yolov8_seg`, `semantic`) or keypoints
//! (`yolov8_pose`), through `engine::decode::segment` and `engine::decode::pose`. Whole frames only: the
//! element refuses them in crop mode when it starts.

use crate::engine::decode::Yolov8Config;
use crate::engine::decode::pose;
use crate::engine::decode::segment::{self, Protos};
use crate::masks::MaskFormat;
use crate::meta::Object;

use super::decoders::{Decode, Outputs, shape_error};
use super::model::{Found, pick};

/// Where the frame sat in the model's input, for mapping masks back to it.
fn frame(image: &Outputs<'_>) -> segment::Frame {
    segment::Frame {
        letterbox: image.placement.letterbox,
        source: image.placement.source,
        input: image.input(),
    }
}

fn objects(objects: Vec<Object>) -> Found {
    Found {
        objects,
        ..Found::default()
    }
}

/// Boxes with masks; `protos` names the prototypes output.
#[derive(Debug)]
pub struct Yolov8Seg {
    pub config: Yolov8Config,
    pub protos: String,
    pub format: MaskFormat,
}

impl Decode for Yolov8Seg {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, rows, anchors] = output.shape[..] else {
            return Err(shape_error(
                "yolov8_seg",
                "[batch, 4 + classes + masks, anchors]",
                output,
            ));
        };
        // The compiler names the prototypes; without it, the output of rank 4.
        let p =
            if self.protos.is_empty() {
                image.tensors.iter().find(|o| o.shape.len() == 4).ok_or(
                    "the yolov8_seg decoder found no prototypes output [batch, masks, H, W]",
                )?
            } else {
                pick(image.tensors, &self.protos)?
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
        let frame = frame(image);
        let found = segment::decode_yolov8_seg(
            &output.data,
            rows,
            anchors,
            &protos,
            &self.config,
            &frame,
            self.format,
        );
        Ok(objects(
            found
                .into_iter()
                .map(|(d, mask)| Object {
                    mask: Some(mask),
                    ..image.object(&d)
                })
                .collect(),
        ))
    }
}

/// Boxes with keypoints; `skeleton`: the bones overlay draws.
#[derive(Debug)]
pub struct Yolov8Pose {
    pub config: Yolov8Config,
    pub skeleton: Vec<[u8; 2]>,
}

impl Decode for Yolov8Pose {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, rows, anchors] = output.shape[..] else {
            return Err(shape_error(
                "yolov8_pose",
                "[batch, 4 + 1 + 3 × keypoints, anchors]",
                output,
            ));
        };
        let p = image.placement;
        let found = pose::decode_yolov8_pose(
            &output.data,
            rows,
            anchors,
            &self.config,
            &p.letterbox,
            p.source,
        );
        Ok(objects(
            found
                .into_iter()
                .map(|(d, keypoints)| Object {
                    keypoints,
                    skeleton: self.skeleton.clone(),
                    ..image.object(&d)
                })
                .collect(),
        ))
    }
}

/// A class map → one masked object a class.
#[derive(Debug)]
pub struct Semantic {
    pub format: MaskFormat,
    pub min_area: usize,
}

impl Decode for Semantic {
    fn decode(&self, image: &Outputs<'_>) -> Result<Found, String> {
        let output = image.output()?;
        let [1, classes, height, width] = output.shape[..] else {
            return Err(shape_error("semantic", "[batch, classes, H, W]", output));
        };
        let found = segment::decode_semantic(
            &output.data,
            classes,
            height,
            width,
            self.min_area,
            &frame(image),
            self.format,
        );
        Ok(objects(
            found
                .into_iter()
                .map(|r| Object {
                    class_id: u32::try_from(r.class_id).unwrap_or(u32::MAX),
                    label: image.label(r.class_id),
                    confidence: r.confidence,
                    x: r.mask.x as f32,
                    y: r.mask.y as f32,
                    w: r.mask.width as f32,
                    h: r.mask.height as f32,
                    mask: Some(r.mask),
                    ..Object::default()
                })
                .collect(),
        ))
    }
}
