//! `vplinfer`: frames → the same frames with `VplObjectsMeta` from a model's results.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;
use gstreamer_video as gst_video;

use super::batcher::{BatcherForError, shared_for};
use super::config::{Config, Decoder};
use super::frame::{FORMATS, crop, crop_rect, engine_frame};
use super::model::{
    Found, ModelBatcher, ModelGroup, Placement, classify_row, ctc_row, decode, detect_row,
    prepare_crops, raw_row,
};
use crate::engine::{Backend, Engine, EngineError};
use crate::meta::{Label, ObjectsData, VplObjectsMeta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplinfer",
        gst::DebugColorFlags::empty(),
        Some("vpl model inference"),
    )
});

const DEFAULT_BACKEND: &str = "cpu";
const DEFAULT_THREADS: u32 = 0;
/// 0: [`AUTO_SESSIONS_CPU`] or [`AUTO_SESSIONS_GPU`] by backend.
const DEFAULT_SESSIONS: u32 = 0;
/// On the CPU, ONNX Runtime's intra-op pool already spreads one run over every core:
/// more sessions would only share the same cores.
const AUTO_SESSIONS_CPU: usize = 1;
/// On a GPU one batch-1 run leaves most of it idle (13% busy at 1 stream of YOLOv8s on an
/// H200, issue 15); four sessions let four streams' runs overlap.
const AUTO_SESSIONS_GPU: usize = 4;
const DEFAULT_STREAM: u32 = 0;
const DEFAULT_BATCH_SIZE: u32 = 1;
const DEFAULT_BATCH_TIMEOUT_NS: u64 = 40_000_000;
const DEFAULT_EVERY: u32 = 1;
const DEFAULT_INPUT_SIZE: u32 = 640;
const DEFAULT_LAYOUT: &str = "nchw";
const DEFAULT_ORDER: &str = "rgb";
/// Empty: letterbox for yolov8, stretch for the other decoders (spec §3).
const DEFAULT_RESIZE: &str = "";
const DEFAULT_SCALE: f64 = 1.0 / 255.0;
/// One value for every channel, so the defaults suit gray models too.
const DEFAULT_MEAN: &str = "0";
const DEFAULT_STD: &str = "1";
const DEFAULT_DTYPE: &str = "f32";
const DEFAULT_DECODER: &str = "yolov8";
const DEFAULT_CONFIDENCE: f64 = 0.25;
const DEFAULT_IOU: f64 = 0.45;
const DEFAULT_MAX_DETECTIONS: u32 = 300;
const DEFAULT_TOP: u32 = 1;
const DEFAULT_THRESH: f64 = 0.3;
const DEFAULT_BOX_THRESH: f64 = 0.6;
const DEFAULT_UNCLIP_RATIO: f64 = 1.5;

/// Property values as set; [`Config::from_settings`] checks them in `start()`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub model: String,
    pub library: String,
    pub backend: String,
    pub threads: u32,
    pub sessions: u32,
    pub engine_cache: String,
    pub group: String,
    pub stream: u32,
    pub batch_size: u32,
    pub batch_timeout: u64,
    pub every: u32,
    pub input_width: u32,
    pub input_height: u32,
    pub layout: String,
    pub order: String,
    pub resize: String,
    pub scale: f64,
    pub mean: String,
    pub std: String,
    pub dtype: String,
    pub decoder: String,
    pub confidence: f64,
    pub iou: f64,
    pub max_detections: u32,
    pub top: u32,
    pub labels: String,
    pub model_name: String,
    pub output: String,
    pub on_labels: String,
    pub min_width: u32,
    pub min_height: u32,
    pub thresh: f64,
    pub box_thresh: f64,
    pub unclip_ratio: f64,
    pub alphabet: String,
    /// ctc: `first` or `last`, the class that is the blank.
    pub blank: String,
    /// The outputs whose batch is not their first axis: `NAME=AXIS`, one a line.
    pub batch_axes: String,
    /// yolov8_seg: the prototypes output.
    pub protos: String,
    /// yolov8_seg, semantic: how records write masks.
    pub masks: String,
    /// yolov8_pose: `coco17` or `none`.
    pub skeleton: String,
    /// semantic: fewest map cells a class needs.
    pub min_area: u32,
    /// yolov5, detr and ssd (`config::BoxSettings`).
    pub boxes: super::config::BoxSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model: String::new(),
            library: String::new(),
            backend: DEFAULT_BACKEND.into(),
            threads: DEFAULT_THREADS,
            sessions: DEFAULT_SESSIONS,
            engine_cache: String::new(),
            group: String::new(),
            stream: DEFAULT_STREAM,
            batch_size: DEFAULT_BATCH_SIZE,
            batch_timeout: DEFAULT_BATCH_TIMEOUT_NS,
            every: DEFAULT_EVERY,
            input_width: DEFAULT_INPUT_SIZE,
            input_height: DEFAULT_INPUT_SIZE,
            layout: DEFAULT_LAYOUT.into(),
            order: DEFAULT_ORDER.into(),
            resize: DEFAULT_RESIZE.into(),
            scale: DEFAULT_SCALE,
            mean: DEFAULT_MEAN.into(),
            std: DEFAULT_STD.into(),
            dtype: DEFAULT_DTYPE.into(),
            decoder: DEFAULT_DECODER.into(),
            confidence: DEFAULT_CONFIDENCE,
            iou: DEFAULT_IOU,
            max_detections: DEFAULT_MAX_DETECTIONS,
            top: DEFAULT_TOP,
            labels: String::new(),
            model_name: String::new(),
            output: String::new(),
            on_labels: String::new(),
            min_width: 0,
            min_height: 0,
            thresh: DEFAULT_THRESH,
            box_thresh: DEFAULT_BOX_THRESH,
            unclip_ratio: DEFAULT_UNCLIP_RATIO,
            alphabet: String::new(),
            blank: "first".into(),
            batch_axes: String::new(),
            protos: String::new(),
            masks: "rle".into(),
            skeleton: "coco17".into(),
            min_area: 1,
            boxes: super::config::BoxSettings::default(),
        }
    }
}

/// Crop mode with `every`: how many tracks' labels are remembered (those seen last), so a
/// track that is missing for a while keeps its labels and a long run does not grow.
const REMEMBERED_TRACKS: usize = 4096;

struct State {
    config: Arc<Config>,
    group: Arc<ModelGroup>,
    info: Option<gst_video::VideoInfo>,
    /// Frames seen by this element: the meta's frame number.
    frames: u64,
    /// What the last inference found, carried by the frames `every` skips.
    last: Found,
    /// Crop mode: the labels this element's model gave each tracked object at the last
    /// inference, carried by the frames `every` skips, and the frame its track was last
    /// seen on.
    track_labels: HashMap<u64, (u64, Vec<Label>)>,
}

#[derive(Default)]
pub struct VplInfer {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

impl VplInfer {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, Option<State>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Posts an error on the bus and gives the flow error that stops the stream.
    fn fail<T: gst::MessageErrorDomain>(&self, domain: T, message: String) -> gst::FlowError {
        self.post_error_message(gst::ErrorMessage::new(
            &domain,
            Some(&message),
            None,
            file!(),
            "transform_ip",
            line!(),
        ));
        gst::FlowError::Error
    }

    /// Preprocesses the frame, waits for its batch and decodes its outputs.
    fn infer(
        &self,
        config: &Config,
        group: &ModelGroup,
        info: &gst_video::VideoInfo,
        buffer: &gst::BufferRef,
    ) -> Result<Found, gst::FlowError> {
        let (image, placement) = {
            let mapped =
                gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info).map_err(|_| {
                    let message = format!(
                        "a frame of {} bytes does not fit the caps ({}x{} {}, {} bytes)",
                        buffer.size(),
                        info.width(),
                        info.height(),
                        info.format().to_str(),
                        info.size()
                    );
                    self.fail(gst::StreamError::Format, message)
                })?;
            engine_frame(&mapped)
                .and_then(|frame| group.prepare(&frame, config))
                .map_err(|e| self.fail(gst::StreamError::Format, e))?
        };
        let outputs = group
            .batcher
            .submit(config.stream, image)
            .map_err(|e| e.to_string())
            .and_then(|outputs| outputs)
            .map_err(|e| self.fail(gst::LibraryError::Failed, e))?;
        decode(config, &outputs, &placement).map_err(|e| self.fail(gst::StreamError::Decode, e))
    }
}

impl VplInfer {
    /// Crop mode: runs the model once on the crops of the frame's matching objects and
    /// adds the labels it gives to each of them. Frames without such objects pass as they are.
    /// Crop mode with tracked objects: remembers each track's labels on a frame the model
    /// ran on (`inferred`), and gives them back to the same tracks on the frames `every`
    /// skips. A track missing from a few frames (the detector missed it, the tracker coasts)
    /// keeps its labels for when it is back; only the [`REMEMBERED_TRACKS`] most recently
    /// seen tracks are remembered.
    /// Only this element's model's labels are remembered and given back: another
    /// classifier on the same objects keeps its own.
    fn carry_track_labels(&self, buffer: &mut gst::BufferRef, inferred: bool) {
        let mut guard = self.state();
        let Some(state) = guard.as_mut() else {
            return;
        };
        let Some(mut meta) = buffer.meta_mut::<VplObjectsMeta>() else {
            return;
        };
        let data = meta.data_mut();
        let model = &state.config.model_name;
        let now = state.frames;
        let cache = &mut state.track_labels;
        for object in &mut data.objects {
            let Some(id) = object.track_id else {
                continue;
            };
            let mine = |l: &&Label| &l.model == model;
            if inferred {
                let labels: Vec<Label> = object.labels.iter().filter(mine).cloned().collect();
                if !labels.is_empty() {
                    cache.insert(id, (now, labels));
                    continue;
                }
            }
            if let Some((seen, labels)) = cache.get_mut(&id) {
                *seen = now;
                if !inferred && !object.labels.iter().any(|l| mine(&l)) {
                    object.labels.extend(labels.iter().cloned());
                }
            }
        }
        if cache.len() > REMEMBERED_TRACKS {
            let mut seen: Vec<u64> = cache.values().map(|(seen, _)| *seen).collect();
            let cut = seen.len() - REMEMBERED_TRACKS;
            let (_, oldest_kept, _) = seen.select_nth_unstable(cut);
            let oldest_kept = *oldest_kept;
            cache.retain(|_, (seen, _)| *seen >= oldest_kept);
        }
    }

    fn infer_crops(
        &self,
        config: &Config,
        batcher: &ModelBatcher,
        info: &gst_video::VideoInfo,
        buffer: &mut gst::BufferRef,
    ) -> Result<(), gst::FlowError> {
        // Frame pixels per source pixel (the meta's coordinates).
        let (mut sx, mut sy) = (1.0f32, 1.0f32);
        // (object index, box in frame pixels) of the objects the model runs on.
        let targets: Vec<(usize, [f32; 4])> = match VplObjectsMeta::get(buffer) {
            None => Vec::new(),
            Some(data) => {
                let source = |s: u32, frame: u32| if s == 0 { frame } else { s };
                sx = info.width() as f32 / source(data.source_width, info.width()) as f32;
                sy = info.height() as f32 / source(data.source_height, info.height()) as f32;
                let (min_w, min_h) = config.min_size;
                data.objects
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| config.on_labels.contains(&o.label))
                    .map(|(i, o)| (i, [o.x * sx, o.y * sy, o.w * sx, o.h * sy]))
                    .filter(|(_, b)| b[2] >= min_w as f32 && b[3] >= min_h as f32)
                    .collect()
            }
        };
        if targets.is_empty() {
            return Ok(());
        }
        let (image, objects, placements) = {
            let mapped = gst_video::VideoFrameRef::from_buffer_ref_readable(&*buffer, info)
                .map_err(|_| {
                    let message = format!(
                        "a frame of {} bytes does not fit the caps ({}x{} {}, {} bytes)",
                        buffer.size(),
                        info.width(),
                        info.height(),
                        info.format().to_str(),
                        info.size()
                    );
                    self.fail(gst::StreamError::Format, message)
                })?;
            let frame =
                engine_frame(&mapped).map_err(|e| self.fail(gst::StreamError::Format, e))?;
            let mut crops = Vec::with_capacity(targets.len());
            let mut objects = Vec::with_capacity(targets.len());
            for (index, [x, y, w, h]) in &targets {
                if let Some(rect) = crop_rect(&frame, *x, *y, *w, *h)
                    && let Some(view) = crop(&frame, rect)
                {
                    crops.push(view);
                    objects.push((*index, rect));
                }
            }
            if crops.is_empty() {
                return Ok(());
            }
            let (image, placements) = prepare_crops(&crops, config)
                .map_err(|e| self.fail(gst::StreamError::Format, e))?;
            (image, objects, placements)
        };
        let outputs = batcher
            .submit(config.stream, image)
            .map_err(|e| e.to_string())
            .and_then(|outputs| outputs)
            .map_err(|e| self.fail(gst::LibraryError::Failed, e))?;
        let count = objects.len();
        let mut found = Vec::with_capacity(count);
        // A detector on crops: the objects it finds, in source pixels, join the frame's.
        let mut detected = Vec::new();
        for (row, ((index, rect), letterbox)) in objects.into_iter().zip(placements).enumerate() {
            let mut text = None;
            let result = match config.decoder {
                Decoder::Raw => raw_row(&outputs, &config.output, row, count, &config.batch_axes)
                    .map(|tensors| (Vec::new(), tensors)),
                Decoder::Classify { top } => {
                    classify_row(&outputs, config, row, count, top).map(|l| (l, Vec::new()))
                }
                Decoder::Ctc { .. } => ctc_row(&outputs, config, row, count).map(|read| {
                    text = Some(read);
                    (Vec::new(), Vec::new())
                }),
                Decoder::Yolov8Seg { .. }
                | Decoder::Yolov8Pose { .. }
                | Decoder::Semantic { .. } => {
                    Err("masks and keypoints are found on whole frames, not on crops".to_string())
                }
                Decoder::Yolov8(_)
                | Decoder::TextBoxes(_)
                | Decoder::Yolov5(_)
                | Decoder::Detr(..)
                | Decoder::Ssd(..) => {
                    let placement = Placement {
                        letterbox,
                        source: (rect.w, rect.h),
                    };
                    detect_row(&outputs, config, row, count, &placement).map(|objects| {
                        detected.extend(objects.into_iter().map(|mut o| {
                            o.x = (o.x + rect.x as f32) / sx;
                            o.y = (o.y + rect.y as f32) / sy;
                            o.w /= sx;
                            o.h /= sy;
                            o
                        }));
                        (Vec::new(), Vec::new())
                    })
                }
            };
            let (labels, tensors) = result.map_err(|e| self.fail(gst::StreamError::Decode, e))?;
            found.push((index, labels, tensors, text));
        }
        gst::trace!(CAT, imp = self, "ran on {count} crops");
        VplObjectsMeta::update(buffer, ObjectsData::default, |data| {
            data.objects.extend(detected);
            for (index, labels, tensors, text) in found {
                if let Some(object) = data.objects.get_mut(index) {
                    object.labels.extend(labels);
                    object.tensors.extend(tensors);
                    if let Some((text, _)) = text {
                        object.text = Some(text);
                    }
                }
            }
        });
        Ok(())
    }
}

/// Where a load failure belongs: a missing model is a resource, ONNX Runtime a library.
fn load_error(error: &EngineError) -> gst::ErrorMessage {
    match error {
        EngineError::ModelLoad { .. } => {
            gst::error_msg!(gst::ResourceError::OpenRead, ("{}", error))
        }
        EngineError::LibraryNotFound { .. }
        | EngineError::LibraryLoad { .. }
        | EngineError::BackendUnavailable { .. } => {
            gst::error_msg!(gst::LibraryError::Init, ("{}", error))
        }
        _ => gst::error_msg!(gst::LibraryError::Failed, ("{}", error)),
    }
}

#[glib::object_subclass]
impl ObjectSubclass for VplInfer {
    const NAME: &'static str = "VplInfer";
    type Type = super::VplInfer;
    type ParentType = gst_base::BaseTransform;
}

fn string(name: &str, blurb: &str, default: &str) -> glib::ParamSpec {
    glib::ParamSpecString::builder(name)
        .nick(name)
        .blurb(blurb)
        .default_value(Some(default))
        .mutable_ready()
        .build()
}

fn uint(name: &str, blurb: &str, min: u32, max: u32, default: u32) -> glib::ParamSpec {
    glib::ParamSpecUInt::builder(name)
        .nick(name)
        .blurb(blurb)
        .minimum(min)
        .maximum(max)
        .default_value(default)
        .mutable_ready()
        .build()
}

fn double(name: &str, blurb: &str, min: f64, max: f64, default: f64) -> glib::ParamSpec {
    glib::ParamSpecDouble::builder(name)
        .nick(name)
        .blurb(blurb)
        .minimum(min)
        .maximum(max)
        .default_value(default)
        .mutable_ready()
        .build()
}

fn counter(name: &str, blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder(name)
        .nick(name)
        .blurb(blurb)
        .read_only()
        .build()
}

impl ObjectImpl for VplInfer {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let size = 16384;
            vec![
                string("model", "Path of the ONNX model", ""),
                string(
                    "library",
                    "Path of libonnxruntime.so; empty: found from the working directory",
                    "",
                ),
                string(
                    "backend",
                    "Where inference runs: cpu, cuda or tensorrt",
                    DEFAULT_BACKEND,
                ),
                uint(
                    "threads",
                    "ONNX Runtime intra-op threads; 0: one per core",
                    0,
                    1024,
                    DEFAULT_THREADS,
                ),
                uint(
                    "sessions",
                    "Most ONNX Runtime sessions for a model whose batch is fixed, one per \
                     stream of the group; 0: 1 on the CPU, 4 on a GPU",
                    0,
                    64,
                    DEFAULT_SESSIONS,
                ),
                string(
                    "engine-cache",
                    "tensorrt: the engine cache directory; empty: $VPL_ENGINE_CACHE, else \
                     ~/.cache/vpl/engines",
                    "",
                ),
                string(
                    "group",
                    "Elements of one group share the model and batch frames together; empty: the model path",
                    "",
                ),
                uint(
                    "stream",
                    "Stream index written into the metadata",
                    0,
                    u32::MAX,
                    DEFAULT_STREAM,
                ),
                uint(
                    "batch-size",
                    "Frames per model run, across the group's streams",
                    1,
                    1024,
                    DEFAULT_BATCH_SIZE,
                ),
                glib::ParamSpecUInt64::builder("batch-timeout")
                    .nick("batch-timeout")
                    .blurb("Nanoseconds the oldest waiting frame waits for a batch to fill")
                    .default_value(DEFAULT_BATCH_TIMEOUT_NS)
                    .mutable_ready()
                    .build(),
                uint(
                    "every",
                    "Infer on one frame in N; the others carry the last result",
                    1,
                    u32::MAX,
                    DEFAULT_EVERY,
                ),
                uint(
                    "input-width",
                    "Width of the model's input image",
                    1,
                    size,
                    DEFAULT_INPUT_SIZE,
                ),
                uint(
                    "input-height",
                    "Height of the model's input image",
                    1,
                    size,
                    DEFAULT_INPUT_SIZE,
                ),
                string(
                    "layout",
                    "Input tensor layout: nchw or nhwc",
                    DEFAULT_LAYOUT,
                ),
                string(
                    "order",
                    "Channels the model expects: rgb, bgr, gray, rgbx or bgrx (a 4th channel, opaque)",
                    DEFAULT_ORDER,
                ),
                string(
                    "resize",
                    "letterbox or stretch; empty: letterbox for yolov8, else stretch",
                    DEFAULT_RESIZE,
                ),
                double(
                    "scale",
                    "Each pixel (0..255) is multiplied by this",
                    0.0,
                    f64::MAX,
                    DEFAULT_SCALE,
                ),
                string(
                    "mean",
                    "Subtracted after scaling, per channel: \"r,g,b\" or one value",
                    DEFAULT_MEAN,
                ),
                string(
                    "std",
                    "Divides after the mean, per channel: \"r,g,b\" or one value",
                    DEFAULT_STD,
                ),
                string(
                    "dtype",
                    "Element type of the model input: f32, f16 or u8",
                    DEFAULT_DTYPE,
                ),
                string(
                    "decoder",
                    "How outputs are read: yolov8, classify, text_boxes, ctc or raw",
                    DEFAULT_DECODER,
                ),
                double(
                    "thresh",
                    "text_boxes: map probability above which a pixel is text",
                    0.0,
                    1.0,
                    DEFAULT_THRESH,
                ),
                double(
                    "box-thresh",
                    "text_boxes: least mean probability of a region's box",
                    0.0,
                    1.0,
                    DEFAULT_BOX_THRESH,
                ),
                double(
                    "unclip-ratio",
                    "text_boxes: boxes grow by area * ratio / perimeter on each side",
                    0.0,
                    10.0,
                    DEFAULT_UNCLIP_RATIO,
                ),
                string(
                    "alphabet",
                    "ctc: a file of the characters of classes 1.., one a line; empty: the model's character metadata",
                    "",
                ),
                string(
                    "blank",
                    "ctc: the class that is the blank, first or last",
                    "first",
                ),
                string(
                    "batch-axes",
                    "the outputs whose batch is not their first axis, NAME=AXIS one a line (a CRNN's [T, N, C]: 1)",
                    "",
                ),
                double(
                    "confidence",
                    "yolov8: minimum class score kept",
                    0.0,
                    1.0,
                    DEFAULT_CONFIDENCE,
                ),
                double(
                    "iou",
                    "yolov8: overlap above which NMS drops a box",
                    0.0,
                    1.0,
                    DEFAULT_IOU,
                ),
                uint(
                    "max-detections",
                    "yolov8: most objects kept per frame",
                    1,
                    100_000,
                    DEFAULT_MAX_DETECTIONS,
                ),
                uint(
                    "top",
                    "classify: how many best classes are kept",
                    1,
                    100_000,
                    DEFAULT_TOP,
                ),
                string(
                    "labels",
                    "Class names, one per line (blank lines ignored)",
                    "",
                ),
                string(
                    "model-name",
                    "The model's name in the .vpl, given to each label it makes; empty: the file's stem",
                    "",
                ),
                string(
                    "output",
                    "The output the decoder reads; empty: the only one (raw: every one)",
                    "",
                ),
                string(
                    "protos",
                    "yolov8_seg: the output holding the mask prototypes",
                    "",
                ),
                string(
                    "masks",
                    "yolov8_seg, semantic: how records write masks: rle or polygons",
                    "rle",
                ),
                string(
                    "skeleton",
                    "yolov8_pose: the bones overlay draws: coco17 or none",
                    "coco17",
                ),
                uint(
                    "min-area",
                    "semantic: fewest map cells a class needs to be an object",
                    1,
                    u32::MAX,
                    1,
                ),
                string(
                    "grid-strides",
                    "yolov5: decode YOLOX's raw output on grids of these strides (\"8,16,32\"); empty: boxes are decoded",
                    "",
                ),
                string(
                    "activation",
                    "detr, ssd: how scores are made: sigmoid, softmax or none",
                    super::config::DEFAULT_ACTIVATION,
                ),
                string(
                    "boxes-output",
                    "detr, ssd: the output holding the boxes; empty: one output (detr)",
                    "",
                ),
                string(
                    "anchors",
                    "ssd: anchors, one a line: \"cx cy w h\" (fractions of the input); empty: generated",
                    "",
                ),
                string(
                    "anchor-strides",
                    "ssd: generated anchors: one grid per stride (\"8,16\")",
                    super::config::DEFAULT_ANCHOR_STRIDES,
                ),
                string(
                    "anchor-per-cell",
                    "ssd: generated anchors: anchors per cell of each grid (\"2,6\")",
                    super::config::DEFAULT_ANCHOR_PER_CELL,
                ),
                string(
                    "on-labels",
                    "Run on the crops of the upstream objects with these labels, one per line; \
                     empty: on whole frames",
                    "",
                ),
                uint(
                    "min-width",
                    "Crop mode: narrowest object box (frame pixels) the model runs on",
                    0,
                    u32::MAX,
                    0,
                ),
                uint(
                    "min-height",
                    "Crop mode: shortest object box (frame pixels) the model runs on",
                    0,
                    u32::MAX,
                    0,
                ),
                counter("batches", "Batches the group's model has run (statistics)"),
                counter("batched-frames", "Frames in those batches (statistics)"),
                counter(
                    "sessions-loaded",
                    "ONNX Runtime sessions running the group's model (statistics)",
                ),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings();
        let text = || {
            value
                .get::<Option<String>>()
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let uint = || value.get::<u32>().unwrap_or_default();
        let double = || value.get::<f64>().unwrap_or_default();
        match pspec.name() {
            "model" => s.model = text(),
            "library" => s.library = text(),
            "backend" => s.backend = text(),
            "threads" => s.threads = uint(),
            "sessions" => s.sessions = uint(),
            "engine-cache" => s.engine_cache = text(),
            "group" => s.group = text(),
            "stream" => s.stream = uint(),
            "batch-size" => s.batch_size = uint(),
            "batch-timeout" => s.batch_timeout = value.get().unwrap_or(DEFAULT_BATCH_TIMEOUT_NS),
            "every" => s.every = uint(),
            "input-width" => s.input_width = uint(),
            "input-height" => s.input_height = uint(),
            "layout" => s.layout = text(),
            "order" => s.order = text(),
            "resize" => s.resize = text(),
            "scale" => s.scale = double(),
            "mean" => s.mean = text(),
            "std" => s.std = text(),
            "dtype" => s.dtype = text(),
            "decoder" => s.decoder = text(),
            "confidence" => s.confidence = double(),
            "iou" => s.iou = double(),
            "max-detections" => s.max_detections = uint(),
            "top" => s.top = uint(),
            "labels" => s.labels = text(),
            "model-name" => s.model_name = text(),
            "output" => s.output = text(),
            "on-labels" => s.on_labels = text(),
            "protos" => s.protos = text(),
            "masks" => s.masks = text(),
            "skeleton" => s.skeleton = text(),
            "min-area" => s.min_area = uint(),
            "min-width" => s.min_width = uint(),
            "min-height" => s.min_height = uint(),
            "thresh" => s.thresh = double(),
            "box-thresh" => s.box_thresh = double(),
            "unclip-ratio" => s.unclip_ratio = double(),
            "alphabet" => s.alphabet = text(),
            "blank" => s.blank = text(),
            "batch-axes" => s.batch_axes = text(),
            "grid-strides" => s.boxes.grid_strides = text(),
            "activation" => s.boxes.activation = text(),
            "boxes-output" => s.boxes.boxes_output = text(),
            "anchors" => s.boxes.anchors = text(),
            "anchor-strides" => s.boxes.anchor_strides = text(),
            "anchor-per-cell" => s.boxes.anchor_per_cell = text(),
            other => gst::warning!(CAT, imp = self, "property {other} cannot be set"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        if pspec.name() == "sessions-loaded" {
            let sessions = self
                .state()
                .as_ref()
                .map_or(0, |s| s.group.engine.sessions());
            return (sessions as u64).to_value();
        }
        if let "batches" | "batched-frames" = pspec.name() {
            let stats = self
                .state()
                .as_ref()
                .map(|s| s.group.batcher.stats())
                .unwrap_or_default();
            let n = if pspec.name() == "batches" {
                stats.batches
            } else {
                stats.items
            };
            return n.to_value();
        }
        let s = self.settings();
        match pspec.name() {
            "model" => s.model.to_value(),
            "library" => s.library.to_value(),
            "backend" => s.backend.to_value(),
            "threads" => s.threads.to_value(),
            "sessions" => s.sessions.to_value(),
            "engine-cache" => s.engine_cache.to_value(),
            "group" => s.group.to_value(),
            "stream" => s.stream.to_value(),
            "batch-size" => s.batch_size.to_value(),
            "batch-timeout" => s.batch_timeout.to_value(),
            "every" => s.every.to_value(),
            "input-width" => s.input_width.to_value(),
            "input-height" => s.input_height.to_value(),
            "layout" => s.layout.to_value(),
            "order" => s.order.to_value(),
            "resize" => s.resize.to_value(),
            "scale" => s.scale.to_value(),
            "mean" => s.mean.to_value(),
            "std" => s.std.to_value(),
            "dtype" => s.dtype.to_value(),
            "decoder" => s.decoder.to_value(),
            "confidence" => s.confidence.to_value(),
            "iou" => s.iou.to_value(),
            "max-detections" => s.max_detections.to_value(),
            "top" => s.top.to_value(),
            "labels" => s.labels.to_value(),
            "model-name" => s.model_name.to_value(),
            "output" => s.output.to_value(),
            "on-labels" => s.on_labels.to_value(),
            "protos" => s.protos.to_value(),
            "masks" => s.masks.to_value(),
            "skeleton" => s.skeleton.to_value(),
            "min-area" => s.min_area.to_value(),
            "min-width" => s.min_width.to_value(),
            "thresh" => s.thresh.to_value(),
            "box-thresh" => s.box_thresh.to_value(),
            "unclip-ratio" => s.unclip_ratio.to_value(),
            "alphabet" => s.alphabet.to_value(),
            "blank" => s.blank.to_value(),
            "batch-axes" => s.batch_axes.to_value(),
            "grid-strides" => s.boxes.grid_strides.to_value(),
            "activation" => s.boxes.activation.to_value(),
            "boxes-output" => s.boxes.boxes_output.to_value(),
            "anchors" => s.boxes.anchors.to_value(),
            "anchor-strides" => s.boxes.anchor_strides.to_value(),
            "anchor-per-cell" => s.boxes.anchor_per_cell.to_value(),
            "min-height" => s.min_height.to_value(),
            // GLib only asks for the properties listed above.
            _ => glib::Value::from_type(pspec.value_type()),
        }
    }
}

impl GstObjectImpl for VplInfer {}

impl ElementImpl for VplInfer {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl inference",
                "Filter/Analyzer/Video",
                "Runs an ONNX model on frames and attaches the objects or labels it finds",
                "vpl",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_video::VideoCapsBuilder::new()
                .format_list(FORMATS)
                .build();
            [gst::PadDirection::Src, gst::PadDirection::Sink]
                .into_iter()
                .map(|direction| {
                    let name = if direction == gst::PadDirection::Src {
                        "src"
                    } else {
                        "sink"
                    };
                    // Static templates with fixed names and valid caps cannot fail.
                    gst::PadTemplate::new(name, direction, gst::PadPresence::Always, &caps)
                        .expect("pad template")
                })
                .collect()
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for VplInfer {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let config = Config::from_settings(&self.settings())
            .map_err(|e| gst::error_msg!(gst::ResourceError::Settings, ("{}", e)))?;
        // One model per group *and* model file: a group name reused for another model
        // never feeds frames to the wrong network.
        let key = format!("{}\u{0}{}", config.group, config.engine.model.display());
        let group = shared_for(&key, || {
            gst::info!(CAT, imp = self, "loading {}", config.engine.model.display());
            Engine::load(&config.engine).map(|engine| {
                ModelGroup::new(
                    engine,
                    config.batch_size,
                    config.batch_timeout,
                    config.batch_axes.clone(),
                )
            })
        })
        .map_err(|e| match e {
            BatcherForError::Make(e) => load_error(&e),
            BatcherForError::WrongKind => gst::error_msg!(
                gst::ResourceError::Settings,
                ("group {} is used by another kind of element", config.group)
            ),
        })?;
        if group.batcher.size() != config.batch_size {
            gst::warning!(
                CAT,
                imp = self,
                "group {} batches {} frames (set by its first element), not {}",
                config.group,
                group.batcher.size(),
                config.batch_size
            );
        }
        let max_sessions = match (config.sessions, config.engine.backend) {
            (0, Backend::Cpu) => AUTO_SESSIONS_CPU,
            (0, Backend::Cuda | Backend::TensorRt) => AUTO_SESSIONS_GPU,
            (n, _) => n,
        };
        let sessions = group.join(max_sessions).map_err(|e| load_error(&e))?;
        gst::debug!(
            CAT,
            imp = self,
            "{sessions} sessions run the model; frames are preprocessed on the {}",
            group.preprocessing()
        );
        if let Some(note) = group.take_note() {
            gst::element_imp_warning!(self, gst::CoreError::Failed, ("{}", note));
        }
        *self.state() = Some(State {
            config: Arc::new(config),
            group,
            info: None,
            frames: 0,
            last: Found::default(),
            track_labels: HashMap::new(),
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state() = None;
        Ok(())
    }

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "caps without a video size: {incaps}"))?;
        if let Some(state) = self.state().as_mut() {
            state.info = Some(info);
        }
        Ok(())
    }

    fn transform_ip(
        &self,
        buffer: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        // Copied out so the lock is not held while the frame waits for its batch.
        let (config, group, info, frame, last) = {
            let mut guard = self.state();
            let state = guard.as_mut().ok_or(gst::FlowError::Flushing)?;
            let info = state.info.clone().ok_or(gst::FlowError::NotNegotiated)?;
            let frame = state.frames;
            state.frames += 1;
            let last = (frame % state.config.every != 0).then(|| state.last.clone());
            (state.config.clone(), state.group.clone(), info, frame, last)
        };
        if !config.on_labels.is_empty() {
            if last.is_none() {
                self.infer_crops(&config, &group.batcher, &info, buffer)?;
            }
            // Only `every` leaves frames whose tracks need their last labels.
            if config.every > 1 {
                self.carry_track_labels(buffer, last.is_none());
            }
            return Ok(gst::FlowSuccess::Ok);
        }
        let repeated = last.is_some();
        let found = match last {
            Some(last) => last,
            None => {
                let found = self.infer(&config, &group, &info, buffer)?;
                if let Some(state) = self.state().as_mut() {
                    state.last = found.clone();
                }
                found
            }
        };
        gst::trace!(
            CAT,
            imp = self,
            "frame {frame}: {} objects",
            found.objects.len()
        );
        let new = || ObjectsData {
            stream: config.stream,
            frame,
            source_width: info.width(),
            source_height: info.height(),
            ..ObjectsData::default()
        };
        VplObjectsMeta::update(buffer, new, |data| {
            data.objects.extend(found.objects);
            data.labels.extend(found.labels);
            data.tensors.extend(found.tensors);
            data.repeated |= repeated;
        });
        Ok(gst::FlowSuccess::Ok)
    }
}
