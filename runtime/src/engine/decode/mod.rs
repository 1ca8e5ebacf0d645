//! A model's output tensors → what vpl attaches to frames, one file per family of
//! decoders: boxes (`yolov8.rs`; `yolov5.rs` for YOLOv5, YOLOv7 and YOLOX; `detr.rs`;
//! `ssd.rs`; what they share in `boxes.rs`), masks (`segment.rs`: `yolov8_seg`,
//! `semantic`), keypoints (`pose.rs`: `yolov8_pose`), text (`text.rs`: `text_boxes`,
//! `ctc`) and classes (`classify.rs`). `raw` decodes nothing: the element attaches the
//! output tensors as they are. docs/decoders.md describes each decoder.

pub mod boxes;
pub mod classify;
pub mod detr;
pub mod pose;
pub mod segment;
pub mod ssd;
pub mod text;
pub mod yolov5;
pub mod yolov8;

pub use boxes::{Detection, iou, nms};
pub use classify::classify;
pub use yolov8::{Yolov8Config, decode_yolov8};
