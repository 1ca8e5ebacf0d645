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
use vpl_compiler::plan::InferenceSpec;

use super::batcher::{BatcherForError, shared_for};
use super::config::{Config, Machine};
use super::decoders::Outputs;
use super::frame::{FORMATS, crop, crop_rect, engine_frame};
use super::model::{Found, ModelBatcher, ModelGroup, Placement, prepare_crops, rows};
use crate::engine::{Backend, Engine, EngineError};
use crate::meta::{Label, Object, ObjectsData, VplObjectsMeta};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplinfer",
        gst::DebugColorFlags::empty(),
        Some("vpl model inference"),
    )
});

const DEFAULT_BACKEND: &str = "cpu";
/// On the CPU, ONNX Runtime's intra-op pool already spreads one run over every core:
/// more sessions would only share the same cores.
const AUTO_SESSIONS_CPU: usize = 1;
/// On a GPU one batch-1 run leaves most of it idle (13% busy at 1 stream of YOLOv8s on an
/// H200, issue 15); four sessions let four streams' runs overlap.
const AUTO_SESSIONS_GPU: usize = 4;

/// Property values as set; [`Config::new`] checks them in `start()`.
#[derive(Debug, Clone)]
struct Settings {
    /// The inference spec, as JSON ([`InferenceSpec`]).
    spec: String,
    machine: Machine,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            spec: String::new(),
            machine: Machine {
                backend: DEFAULT_BACKEND.into(),
                ..Machine::default()
            },
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

/// Crop mode: an object's index in the frame's meta, and what the model found in its crop.
type CropFound = (usize, Found);

/// Crop mode: an object the model runs on, as its index in the frame's meta and its box in
/// frame pixels.
type Target = (usize, [f32; 4]);

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

    /// The frame in `buffer`, mapped for reading as the caps say.
    fn readable<'a>(
        &self,
        buffer: &'a gst::BufferRef,
        info: &gst_video::VideoInfo,
    ) -> Result<gst_video::VideoFrameRef<&'a gst::BufferRef>, gst::FlowError> {
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
        })
    }

    /// Sends `image` to the group's batcher and waits for its outputs.
    fn run(
        &self,
        config: &Config,
        batcher: &ModelBatcher,
        image: super::model::Image,
    ) -> Result<Vec<crate::engine::OutputTensor>, gst::FlowError> {
        batcher
            .submit(config.spec.stream, image)
            .map_err(|e| e.to_string())
            .and_then(|outputs| outputs)
            .map_err(|e| self.fail(gst::LibraryError::Failed, e))
    }

    /// Preprocesses the frame, waits for its batch and decodes its outputs. Text read from
    /// a whole frame is a frame label naming the model.
    fn infer(
        &self,
        config: &Config,
        group: &ModelGroup,
        info: &gst_video::VideoInfo,
        buffer: &gst::BufferRef,
    ) -> Result<Found, gst::FlowError> {
        let (image, placement) = {
            let mapped = self.readable(buffer, info)?;
            engine_frame(&mapped)
                .and_then(|frame| group.prepare(&frame, config))
                .map_err(|e| self.fail(gst::StreamError::Format, e))?
        };
        let tensors = self.run(config, &group.batcher, image)?;
        let outputs = Outputs {
            tensors: &tensors,
            placement: &placement,
            spec: &config.spec,
        };
        let mut found = config
            .decoder
            .decode(&outputs)
            .map_err(|e| self.fail(gst::StreamError::Decode, e))?;
        if let Some((text, confidence)) = found.text.take() {
            found.labels.push(Label {
                model: config.spec.model_name.clone(),
                label: text,
                confidence,
            });
        }
        Ok(found)
    }
}

impl VplInfer {
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
        let model = &state.config.spec.model_name;
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

    /// Crop mode: the objects of the frame's meta the model runs on, and the frame pixels
    /// per source pixel (the meta's coordinates).
    fn targets(
        config: &Config,
        info: &gst_video::VideoInfo,
        buffer: &gst::BufferRef,
    ) -> (Vec<Target>, (f32, f32)) {
        let (Some(data), Some(crops)) = (VplObjectsMeta::get(buffer), &config.spec.crops) else {
            return (Vec::new(), (1.0, 1.0));
        };
        let source = |s: u32, frame: u32| if s == 0 { frame } else { s };
        let sx = info.width() as f32 / source(data.source_width, info.width()) as f32;
        let sy = info.height() as f32 / source(data.source_height, info.height()) as f32;
        let (min_w, min_h) = crops.min_size.unwrap_or((0, 0));
        let targets = data
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| crops.labels.contains(&o.label))
            .map(|(i, o)| (i, [o.x * sx, o.y * sy, o.w * sx, o.h * sy]))
            .filter(|(_, b)| b[2] >= min_w as f32 && b[3] >= min_h as f32)
            .collect();
        (targets, (sx, sy))
    }

    /// Crop mode: runs the model once on the crops of the frame's matching objects and
    /// gives each of them what it found in its crop: labels, tensors, text. The objects a
    /// detector finds in a crop join the frame's, in source pixels. Frames without such
    /// objects pass as they are.
    fn infer_crops(
        &self,
        config: &Config,
        batcher: &ModelBatcher,
        info: &gst_video::VideoInfo,
        buffer: &mut gst::BufferRef,
    ) -> Result<(), gst::FlowError> {
        let (targets, (sx, sy)) = Self::targets(config, info, buffer);
        if targets.is_empty() {
            return Ok(());
        }
        let (image, objects, placements) = {
            let mapped = self.readable(buffer, info)?;
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
        let tensors = self.run(config, batcher, image)?;
        let count = objects.len();
        let mut found: Vec<CropFound> = Vec::with_capacity(count);
        let mut detected: Vec<Object> = Vec::new();
        for (row, ((index, rect), letterbox)) in objects.into_iter().zip(placements).enumerate() {
            let decoded = rows(&tensors, row, count).and_then(|tensors| {
                let placement = Placement {
                    letterbox,
                    source: (rect.w, rect.h),
                };
                config.decoder.decode(&Outputs {
                    tensors: &tensors,
                    placement: &placement,
                    spec: &config.spec,
                })
            });
            let mut one = decoded.map_err(|e| self.fail(gst::StreamError::Decode, e))?;
            // Crop pixels → frame pixels → source pixels.
            detected.extend(one.objects.drain(..).map(|mut o| {
                o.x = (o.x + rect.x as f32) / sx;
                o.y = (o.y + rect.y as f32) / sy;
                o.w /= sx;
                o.h /= sy;
                o
            }));
            found.push((index, one));
        }
        gst::trace!(CAT, imp = self, "ran on {count} crops");
        VplObjectsMeta::update(buffer, ObjectsData::default, |data| {
            data.objects.extend(detected);
            for (index, one) in found {
                if let Some(object) = data.objects.get_mut(index) {
                    object.labels.extend(one.labels);
                    object.tensors.extend(one.tensors);
                    if let Some((text, _)) = one.text {
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

fn uint(name: &str, blurb: &str, max: u32) -> glib::ParamSpec {
    glib::ParamSpecUInt::builder(name)
        .nick(name)
        .blurb(blurb)
        .maximum(max)
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
            vec![
                string(
                    InferenceSpec::PROPERTY,
                    "What runs, as JSON (vpl_compiler::plan::InferenceSpec): the model, its \
                     group and batching, how frames become its input, its decoder with every \
                     parameter, the labels, crops and outputs; vplc writes it from the .vpl \
                     (`vplc run --emit gst` shows it)",
                    "",
                ),
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
                    1024,
                ),
                uint(
                    "sessions",
                    "Most ONNX Runtime sessions for a model whose batch is fixed, one per \
                     stream of the group; 0: 1 on the CPU, 4 on a GPU",
                    64,
                ),
                string(
                    "engine-cache",
                    "tensorrt: the engine cache directory; empty: $VPL_ENGINE_CACHE, else \
                     ~/.cache/vpl/engines",
                    "",
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
        match pspec.name() {
            InferenceSpec::PROPERTY => s.spec = text(),
            "library" => s.machine.library = text(),
            "backend" => s.machine.backend = text(),
            "threads" => s.machine.threads = uint(),
            "sessions" => s.machine.sessions = uint(),
            "engine-cache" => s.machine.engine_cache = text(),
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
        let m = &s.machine;
        match pspec.name() {
            InferenceSpec::PROPERTY => s.spec.to_value(),
            "library" => m.library.to_value(),
            "backend" => m.backend.to_value(),
            "threads" => m.threads.to_value(),
            "sessions" => m.sessions.to_value(),
            "engine-cache" => m.engine_cache.to_value(),
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
        let config = {
            let s = self.settings();
            Config::new(&s.spec, &s.machine)
        }
        .map_err(|e| gst::error_msg!(gst::ResourceError::Settings, ("{}", e)))?;
        // One model per group *and* model file: a group name reused for another model
        // never feeds frames to the wrong network.
        let key = format!(
            "{}\u{0}{}",
            config.spec.group,
            config.engine.model.display()
        );
        let group = shared_for(&key, || {
            gst::info!(CAT, imp = self, "loading {}", config.engine.model.display());
            Engine::load(&config.engine).map(|engine| {
                ModelGroup::new(
                    engine,
                    config.batch_size,
                    config.batch_timeout,
                    config.spec.batch_axes.clone(),
                )
            })
        })
        .map_err(|e| match e {
            BatcherForError::Make(e) => load_error(&e),
            BatcherForError::WrongKind => gst::error_msg!(
                gst::ResourceError::Settings,
                (
                    "group {} is used by another kind of element",
                    config.spec.group
                )
            ),
        })?;
        if group.batcher.size() != config.batch_size {
            gst::warning!(
                CAT,
                imp = self,
                "group {} batches {} frames (set by its first element), not {}",
                config.spec.group,
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
            let last = (frame % state.config.spec.every != 0).then(|| state.last.clone());
            (state.config.clone(), state.group.clone(), info, frame, last)
        };
        if config.spec.crops.is_some() {
            if last.is_none() {
                self.infer_crops(&config, &group.batcher, &info, buffer)?;
            }
            // Only `every` leaves frames whose tracks need their last labels.
            if config.spec.every > 1 {
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
            stream: config.spec.stream,
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
