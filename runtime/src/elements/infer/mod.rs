//! `vplinfer`: the element of `infer(model)`.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;
use vpl_compiler::plan::InferenceSpec;

pub mod batcher;
mod config;
pub(crate) mod decoders;
mod device;
mod frame;
mod imp;
mod model;
pub(crate) mod segpose;

glib::wrapper! {
    /// Runs an ONNX model on each frame (or one in `every`) and attaches what it found as
    /// [`VplObjectsMeta`](crate::meta::VplObjectsMeta), adding to a meta already on the
    /// frame. What it runs is its `spec`, the inference spec the plan writes as JSON
    /// ([`InferenceSpec`]): the model, its group and batching, how frames become its input,
    /// the decoder with every parameter, the labels, crops and outputs. The decoder gives
    /// objects (boxes; with masks for `yolov8_seg` and `semantic`, keypoints and a skeleton
    /// for `yolov8_pose`), frame labels naming the model (`classify`, and the text `ctc`
    /// reads), or the output tensors (`raw`). Frames pass through unchanged, in place.
    /// Accepts `video/x-raw` in I420, NV12, RGB, BGR, RGBx, BGRx or GRAY8 and preprocesses
    /// them directly (no `videoconvert` needed).
    ///
    /// Crop mode (`infer(m, on: [labels], min_size: WxH)`, the spec's `crops`): the model
    /// runs on the crops of the upstream objects with those labels whose boxes are at least
    /// that size in frame pixels, read in place from the frame, all crops of a frame in one
    /// batch (one run per crop for a model whose batch is fixed at 1). `classify`: the
    /// labels go into each object's `labels`; `ctc`: the text into its `text`; `raw`: the
    /// outputs into its `tensors`; a detector: the objects found in a crop join the frame's,
    /// in frame coordinates. Frames without such objects, and those `every` skips, pass
    /// untouched (tracked objects keep this model's last labels).
    ///
    /// Elements with the same group and model share one loaded model and batch their
    /// frames together, the spec's `batch` at a time; each waits at most its
    /// `batch_timeout_ns` for the others, so give each stream its own streaming thread (a
    /// source or a `queue`). Where the model runs is the machine's choice, set apart from
    /// the spec: `backend`, `library`, `threads`, `sessions`, `engine-cache`. Errors (a spec
    /// that does not parse or cannot run, a model or ONNX Runtime that cannot load, a frame
    /// that does not fit its caps, a failed run) are element errors on the bus; `start()`
    /// failures stop the state change.
    ///
    /// After [`crate::elements::register`], e.g. with `gst::parse::launch` (`vplc run
    /// --emit gst` prints such lines, the spec in full):
    /// ```text
    /// videotestsrc num-buffers=30 ! video/x-raw,format=I420,width=640,height=480
    ///   ! vplinfer spec="{\"model\":\"det.onnx\",...,\"decoder\":{\"kind\":\"yolov8\",...}}"
    ///   ! vplrecords location=-
    /// ```
    pub struct VplInfer(ObjectSubclass<imp::VplInfer>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Whether `element`, a `vplinfer`, runs on the crops of upstream objects (its spec's
/// `crops`) rather than on whole frames.
pub fn runs_on_crops(element: &gst::Element) -> bool {
    element.find_property(InferenceSpec::PROPERTY).is_some()
        && InferenceSpec::from_property(&element.property::<String>(InferenceSpec::PROPERTY))
            .is_ok_and(|spec| spec.crops.is_some())
}

/// Registers `vplinfer` with this process's GStreamer registry.
pub fn register() -> Result<(), glib::BoolError> {
    gst::Element::register(None, "vplinfer", gst::Rank::NONE, VplInfer::static_type())
}
