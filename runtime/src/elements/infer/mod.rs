//! `vplinfer`: the element of `infer(model)`.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;

pub mod batcher;
mod config;
mod device;
mod frame;
mod imp;
mod model;
mod segpose;

glib::wrapper! {
    /// Runs an ONNX model on each frame (or one in `every`) and attaches what it found as
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta): objects for `decoder=yolov8`
    /// (with masks for `yolov8_seg`, whose prototypes output `protos` names, and
    /// `semantic`, written as `masks` says; with keypoints and the `skeleton` for
    /// `yolov8_pose`),
    /// frame labels for `decoder=classify` (each naming `model-name`), the output tensors
    /// for `decoder=raw`, adding to a meta already on the frame. A decoder reads the output
    /// `output` names (the compiler chooses it), or the only one. Frames
    /// pass through unchanged, in place. Accepts `video/x-raw` in I420, NV12, RGB, BGR,
    /// RGBx, BGRx or GRAY8 and preprocesses them directly (no `videoconvert` needed).
    ///
    /// Crop mode (`infer(m, on: [labels], min_size: WxH)`): with `on-labels` set (labels
    /// one per line), the model runs on the crops of the upstream objects with those labels
    /// whose boxes are at least `min-width` x `min-height` frame pixels, read in place from
    /// the frame, all crops of a frame in one batch (one run per crop for a model whose
    /// batch is fixed at 1). `classify`: the `top` labels go into each object's `labels`;
    /// `raw`: the outputs into its `tensors`; `yolov8`: the objects found in a crop join
    /// the frame's, in frame coordinates. Frames without such objects, and those `every`
    /// skips, pass untouched (tracked objects keep this model's last labels).
    ///
    /// Elements with the same `group` (default: the model path) and model share one loaded
    /// model and batch their frames together, `batch-size` at a time; each waits at most
    /// `batch-timeout` for the others, so give each stream its own streaming thread (a
    /// source or a `queue`). Errors (model or ONNX Runtime that cannot load, a bad property
    /// value, a frame that does not fit its caps, a failed run) are element errors on the
    /// bus; `start()` failures stop the state change.
    ///
    /// After [`crate::elements::register`], e.g. with `gst::parse::launch`:
    /// ```text
    /// videotestsrc num-buffers=30 ! video/x-raw,format=I420,width=640,height=480
    ///   ! vplinfer model=tests/fixtures/models/det_dynamic.onnx decoder=yolov8 labels="person"
    ///   ! vplrecords location=-
    /// ```
    pub struct VplInfer(ObjectSubclass<imp::VplInfer>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Registers `vplinfer` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplinfer", gst::Rank::NONE, VplInfer::static_type())
}
