//! Preprocessed images of one group → one batched model run → each image's own outputs,
//! and one image's outputs → the objects and labels its meta gets.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use gstreamer as gst;

use super::batcher::{Batcher, Item};
use crate::engine::preprocess::{Frame, Letterbox, try_preprocess, try_preprocess_u8};
use crate::engine::{Engine, EngineError, InputTensor, OutputTensor, TensorData};
use crate::meta::{Label, Object, Tensor};

use super::config::{Config, DType};
use super::device::{FramePath, HostFrame};

/// `GST_DEBUG=vplbatch:5`: each batch's size and where its time went (assembling the
/// input, the model, cutting the outputs), for scripts/bench_batch.sh.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplbatch",
        gst::DebugColorFlags::empty(),
        Some("vpl batched model runs"),
    )
});

/// One image's input values, in the element type the model takes.
#[derive(Debug, Clone)]
pub enum Pixels {
    F32(Vec<f32>),
    U8(Vec<u8>),
    /// The decoded frame itself, for the group's frame path to preprocess by batch.
    Frame(Box<HostFrame>),
}

/// How a group preprocesses whole frames in batches (`device.rs`), where it does.
type Device = FramePath;

/// The group's frame path, or why a GPU path was asked for and could not start.
fn start_device(engine: &Engine) -> (Option<Device>, Option<String>) {
    match FramePath::choose(engine) {
        Ok(Some(path)) => {
            gst::info!(CAT, "whole frames are preprocessed by batch: {path:?}");
            (Some(path), None)
        }
        Ok(None) => (None, None),
        Err(why) => {
            let note =
                format!("frames are preprocessed on the CPU, not the GPU: {why} (see docs/gpu.md)");
            gst::warning!(CAT, "{note}");
            (None, Some(note))
        }
    }
}

/// One or more preprocessed images: their values, one after the other, and the shape of
/// one image without the batch dimension. A whole frame is one image; the crops of one
/// frame are `count` images that go to the model together.
#[derive(Debug, Clone)]
pub struct Image {
    pub pixels: Pixels,
    pub dims: Vec<usize>,
    pub count: usize,
}

/// One item's outputs (batch dimension `count`), or why its batch failed.
pub type Outputs = Result<Vec<OutputTensor>, String>;

/// The batcher a group of `vplinfer`s shares; it owns the group's engine.
pub type ModelBatcher = Batcher<Image, Outputs>;

/// Each output's batch axis where it is not the first (the spec's `batch_axes`).
pub type BatchAxes = Vec<(String, usize)>;

fn model_batcher(
    engine: Arc<Engine>,
    device: Option<Arc<Device>>,
    size: usize,
    timeout: Duration,
    axes: BatchAxes,
) -> ModelBatcher {
    Batcher::new(size, timeout, move |items| {
        let n = items.len();
        match run(&engine, device.as_deref(), items, &axes) {
            Ok(per_item) => per_item.into_iter().map(Ok).collect(),
            Err(why) => vec![Err(why); n],
        }
    })
}

/// What the `vplinfer`s of one group share: the model and the batcher feeding it.
pub struct ModelGroup {
    pub engine: Arc<Engine>,
    pub batcher: ModelBatcher,
    /// The GPU preprocessing, where the backend is a GPU and it could start.
    device: Option<Arc<Device>>,
    /// Why the GPU preprocessing asked for could not start; taken by the first element
    /// to say it.
    note: std::sync::Mutex<Option<String>>,
    /// The elements (streams) that joined the group.
    members: AtomicUsize,
}

impl ModelGroup {
    pub fn new(engine: Engine, size: usize, timeout: Duration, axes: BatchAxes) -> ModelGroup {
        let engine = Arc::new(engine);
        let (device, note) = start_device(&engine);
        let device = device.map(Arc::new);
        ModelGroup {
            batcher: model_batcher(engine.clone(), device.clone(), size, timeout, axes),
            engine,
            device,
            note: std::sync::Mutex::new(note),
            members: AtomicUsize::new(0),
        }
    }

    /// Why the GPU preprocessing asked for could not start, once per group.
    pub fn take_note(&self) -> Option<String> {
        self.note
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Where frames are preprocessed, in words.
    pub fn preprocessing(&self) -> &'static str {
        match self.device.as_deref() {
            None => "CPU, frame by frame",
            Some(FramePath::Reference) => "CPU by batch, with the GPU kernel's twin",
            #[cfg(feature = "gpu")]
            Some(FramePath::Gpu(_)) => "GPU",
        }
    }

    /// One whole frame → the image the batcher takes: preprocessed here on the CPU, or
    /// the frame as it is for the GPU path; and where it sits in the model's input.
    pub fn prepare(&self, frame: &Frame, config: &Config) -> Result<(Image, Placement), String> {
        // What the kernel does not do (`fixed_height`'s zeros after normalisation, a
        // fourth channel) the CPU prepares, frame by frame.
        if self.device.is_some() && super::device::kernel_fits(&config.preprocess) {
            let (host, letterbox) = HostFrame::new(frame, Arc::new(config.preprocess.clone()))?;
            let placement = Placement {
                letterbox,
                source: (frame.width, frame.height),
            };
            let image = Image {
                pixels: Pixels::Frame(Box::new(host)),
                dims: config.preprocess.image_dims(),
                count: 1,
            };
            return Ok((image, placement));
        }
        prepare(frame, config)
    }

    /// One more element (stream) joins the group. A model whose batch is fixed gets a
    /// session per stream, up to `max_sessions`, so the streams' runs overlap instead of
    /// queuing through one session; a batch-dynamic model batches the streams instead and
    /// keeps one. Says how many sessions run the model now.
    pub fn join(&self, max_sessions: usize) -> Result<usize, EngineError> {
        let members = self.members.fetch_add(1, Ordering::Relaxed) + 1;
        if self.engine.fixed_batch().is_none() {
            return Ok(self.engine.sessions());
        }
        self.engine.grow(members.min(max_sessions.max(1)))
    }
}

/// Runs one batch of items, each of `count` images. A model with a fixed batch size gets
/// the images that many at a time (once per image for a batch of 1), the last run padded
/// with zero images whose outputs are dropped; a dynamic batch gets them all at once.
fn run(
    engine: &Engine,
    device: Option<&Device>,
    items: Vec<Item<Image>>,
    axes: &[(String, usize)],
) -> Result<Vec<Vec<OutputTensor>>, String> {
    if let (Some(device), Some(Pixels::Frame(_))) = (device, items.first().map(|i| &i.value.pixels))
    {
        return run_frames(engine, device, items, axes);
    }
    let began = Instant::now();
    let mut model_time = Duration::ZERO;
    let dims = items
        .first()
        .map(|i| i.value.dims.clone())
        .unwrap_or_default();
    if items.iter().any(|i| i.value.dims != dims) {
        return Err(
            "the frames of one batch were preprocessed to different input shapes: \
                    give every element of the group the same input size and layout"
                .into(),
        );
    }
    let per_image: usize = dims.iter().product();
    let counts: Vec<usize> = items.iter().map(|i| i.value.count).collect();
    let total: usize = counts.iter().sum();
    let mixed = || "a batch mixes u8 and f32 frames: give the group one dtype".to_string();
    let mut data = match items.first().map(|i| &i.value.pixels) {
        Some(Pixels::U8(_)) => {
            let parts = items.into_iter().map(|item| match item.value.pixels {
                Pixels::U8(values) => Ok(values),
                _ => Err(mixed()),
            });
            Pixels::U8(concat(parts.collect::<Result<_, _>>()?, total * per_image))
        }
        _ => {
            let parts = items.into_iter().map(|item| match item.value.pixels {
                Pixels::F32(values) => Ok(values),
                _ => Err(mixed()),
            });
            Pixels::F32(concat(parts.collect::<Result<_, _>>()?, total * per_image))
        }
    };
    let len = match &data {
        Pixels::U8(v) => v.len(),
        Pixels::F32(v) => v.len(),
        Pixels::Frame(_) => 0,
    };
    if len != total * per_image {
        return Err(format!(
            "a batch holds {len} input values, not {total} images of {per_image}"
        ));
    }
    let fixed = engine
        .input()
        .shape
        .first()
        .and_then(|b| usize::try_from(*b).ok())
        .filter(|b| *b > 0);
    let chunk = fixed.unwrap_or(total).max(1);
    let mut per_image_outputs = Vec::with_capacity(total);
    let mut start = 0;
    while start < total {
        let n = chunk.min(total - start);
        let batch = fixed.unwrap_or(n).max(n);
        let range = start * per_image..(start + n) * per_image;
        // The whole batch in one run, unpadded (a batch-dynamic model, or a fixed batch
        // filled exactly): the values go to the model as they are, without a copy.
        let whole = n == total && batch == n;
        let tensor = match &mut data {
            Pixels::U8(v) if whole => TensorData::U8(std::mem::take(v)),
            Pixels::F32(v) if whole => TensorData::F32(std::mem::take(v)),
            Pixels::U8(v) => {
                let mut part = v[range].to_vec();
                part.resize(batch * per_image, 0);
                TensorData::U8(part)
            }
            Pixels::F32(v) => {
                let mut part = v[range].to_vec();
                part.resize(batch * per_image, 0.0);
                TensorData::F32(part)
            }
            Pixels::Frame(_) => return Err(mixed()),
        };
        let shape = std::iter::once(batch).chain(dims.iter().copied()).collect();
        let model_start = Instant::now();
        let outputs = engine
            .run(InputTensor {
                shape,
                data: tensor,
            })
            .map_err(|e| e.to_string())?;
        model_time += model_start.elapsed();
        per_image_outputs.extend(split(outputs, batch, n, axes)?);
        start += n;
    }
    let mut images = per_image_outputs.into_iter();
    let results = counts
        .into_iter()
        .map(|count| join(images.by_ref().take(count).collect(), count))
        .collect();
    let total_time = began.elapsed();
    gst::debug!(
        CAT,
        "batch of {total} images: {:.3} ms, model {:.3} ms, vpl {:.3} ms",
        total_time.as_secs_f64() * 1e3,
        model_time.as_secs_f64() * 1e3,
        (total_time - model_time).as_secs_f64() * 1e3
    );
    Ok(results)
}

/// A batch of whole frames, `batch` at a time (the model's fixed batch, or all of them),
/// each run preprocessed in one go by the group's frame path (see `device.rs`).
fn run_frames(
    engine: &Engine,
    device: &Device,
    items: Vec<Item<Image>>,
    axes: &[(String, usize)],
) -> Result<Vec<Vec<OutputTensor>>, String> {
    let began = Instant::now();
    let frames = items
        .into_iter()
        .map(|item| match item.value.pixels {
            Pixels::Frame(frame) => Ok(*frame),
            _ => Err("a batch mixes whole frames for the GPU with preprocessed images".to_string()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = frames.len();
    let fixed = engine
        .input()
        .shape
        .first()
        .and_then(|b| usize::try_from(*b).ok())
        .filter(|b| *b > 0);
    let chunk = fixed.unwrap_or(total).max(1);
    let mut results = Vec::with_capacity(total);
    for part in frames.chunks(chunk) {
        let batch = fixed.unwrap_or(part.len()).max(part.len());
        let outputs = device.run(engine, part, batch)?;
        results.extend(split(outputs, batch, part.len(), axes)?);
    }
    gst::debug!(
        CAT,
        "batch of {total} whole frames: {:.3} ms",
        began.elapsed().as_secs_f64() * 1e3
    );
    Ok(results)
}

/// The images of a batch, one after the other: a lone item's values are taken as they
/// are (a batch-1 model's every frame), several are copied once into one buffer.
fn concat<T: Clone>(parts: Vec<Vec<T>>, capacity: usize) -> Vec<T> {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let mut all = Vec::with_capacity(capacity);
    for part in parts {
        all.extend_from_slice(&part);
    }
    all
}

/// Stacks `count` images' `[1, ...]` outputs into `[count, ...]` outputs.
fn join(images: Vec<Vec<OutputTensor>>, count: usize) -> Vec<OutputTensor> {
    let Some(first) = images.first() else {
        return Vec::new();
    };
    if count == 1 {
        return first.clone();
    }
    (0..first.len())
        .map(|j| {
            let mut shape = first[j].shape.clone();
            if let Some(b) = shape.first_mut() {
                *b = count;
            }
            OutputTensor {
                name: first[j].name.clone(),
                dtype: first[j].dtype,
                shape,
                data: images
                    .iter()
                    .filter_map(|outputs| outputs.get(j))
                    .flat_map(|o| o.data.iter().copied())
                    .collect(),
            }
        })
        .collect()
}

/// The batch axis of output `name` (`axes` lists those that are not the first).
fn axis_of(axes: &[(String, usize)], name: &str) -> usize {
    axes.iter().find(|(n, _)| n == name).map_or(0, |(_, a)| *a)
}

/// Cuts each output into the first `keep` images' `[1, ...]` outputs, along its batch
/// axis (`axes`; the first where not listed). An image's output is batch-first whatever
/// the model's layout (a CRNN's `[T, N, C]` gives `[1, T, C]`): its values are the same,
/// and what reads it after has one layout to read.
fn split(
    outputs: Vec<OutputTensor>,
    batch: usize,
    keep: usize,
    axes: &[(String, usize)],
) -> Result<Vec<Vec<OutputTensor>>, String> {
    let mut per_image = vec![Vec::with_capacity(outputs.len()); keep];
    for output in outputs {
        let axis = axis_of(axes, &output.name);
        let counted = output
            .shape
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(*d));
        if output.shape.get(axis) != Some(&batch) || counted != Some(output.data.len()) {
            let which = if axis == 0 {
                String::new()
            } else {
                format!(" along axis {axis}")
            };
            return Err(format!(
                "output `{}` has shape {:?}, which is not a batch of {batch}{which}",
                output.name, output.shape
            ));
        }
        // `outer` blocks of `batch` images of `inner` values each.
        let outer: usize = output.shape[..axis].iter().product();
        let inner: usize = output.shape[axis + 1..].iter().product();
        let mut shape = output.shape.clone();
        shape.remove(axis);
        shape.insert(0, 1);
        for (i, outputs) in per_image.iter_mut().enumerate() {
            let mut data = Vec::with_capacity(outer * inner);
            for o in 0..outer {
                let start = (o * batch + i) * inner;
                data.extend_from_slice(&output.data[start..start + inner]);
            }
            outputs.push(OutputTensor {
                name: output.name.clone(),
                dtype: output.dtype,
                shape: shape.clone(),
                data,
            });
        }
    }
    Ok(per_image)
}

/// Preprocesses one frame into the model's input image, and says where it sat there.
pub fn prepare(frame: &Frame, config: &Config) -> Result<(Image, Placement), String> {
    let p = &config.preprocess;
    let preprocessed = match config.dtype {
        DType::U8 => {
            let mut out = vec![0u8; p.values()];
            try_preprocess_u8(frame, p, &mut out).map(|letterbox| (Pixels::U8(out), letterbox))
        }
        DType::F32 | DType::F16 => {
            let mut out = vec![0f32; p.values()];
            try_preprocess(frame, p, &mut out).map(|letterbox| (Pixels::F32(out), letterbox))
        }
    };
    let (pixels, letterbox) =
        preprocessed.map_err(|e| format!("cannot preprocess the frame: {e}"))?;
    let dims = p.image_dims();
    let placement = Placement {
        letterbox,
        source: (frame.width, frame.height),
    };
    Ok((
        Image {
            pixels,
            dims,
            count: 1,
        },
        placement,
    ))
}

/// Preprocesses each crop into its slot of one batch input: `crops.len()` images, and
/// where each crop sat in its slot (for a detector's boxes).
pub fn prepare_crops(crops: &[Frame], config: &Config) -> Result<(Image, Vec<Letterbox>), String> {
    let p = &config.preprocess;
    let values = p.values();
    let fail = |e| format!("cannot preprocess a crop: {e}");
    let mut placements = Vec::with_capacity(crops.len());
    let pixels = match config.dtype {
        DType::U8 => {
            let mut out = vec![0u8; values * crops.len()];
            for (crop, slot) in crops.iter().zip(out.chunks_mut(values.max(1))) {
                placements.push(try_preprocess_u8(crop, p, slot).map_err(fail)?);
            }
            Pixels::U8(out)
        }
        DType::F32 | DType::F16 => {
            let mut out = vec![0f32; values * crops.len()];
            for (crop, slot) in crops.iter().zip(out.chunks_mut(values.max(1))) {
                placements.push(try_preprocess(crop, p, slot).map_err(fail)?);
            }
            Pixels::F32(out)
        }
    };
    let image = Image {
        pixels,
        dims: config.preprocess.image_dims(),
        count: crops.len(),
    };
    Ok((image, placements))
}

/// The output a decoder reads: the one named by the `output` property (checked against
/// the file at compile time), or the only one.
pub fn pick<'a>(outputs: &'a [OutputTensor], name: &str) -> Result<&'a OutputTensor, String> {
    if name.is_empty() {
        return outputs
            .first()
            .ok_or_else(|| "the model gave no output".into());
    }
    outputs.iter().find(|o| o.name == name).ok_or_else(|| {
        let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
        format!(
            "the model has no output `{name}` (its outputs: {}); was the file replaced after the check?",
            names.join(", ")
        )
    })
}

/// The outputs `decoder: raw` keeps: the named one, or every one.
fn kept<'a>(outputs: &'a [OutputTensor], name: &str) -> Result<Vec<&'a OutputTensor>, String> {
    if name.is_empty() {
        Ok(outputs.iter().collect())
    } else {
        pick(outputs, name).map(|o| vec![o])
    }
}

/// Row `index` of `count` rows of each kept output, as metadata tensors in the model's
/// layout: `[1, ...]`, or the batch of 1 on its own axis (`axes`: a `[T, N, C]` output
/// gives `[T, 1, C]`).
pub fn raw_row(
    outputs: &[OutputTensor],
    name: &str,
    index: usize,
    count: usize,
    axes: &[(String, usize)],
) -> Result<Vec<Tensor>, String> {
    kept(outputs, name)?
        .into_iter()
        .map(|o| {
            if count == 0 || o.data.len() % count != 0 {
                return Err(format!(
                    "output `{}` has shape {:?}, which is not a batch of {count}",
                    o.name, o.shape
                ));
            }
            let len = o.data.len() / count;
            let mut shape = o.shape.clone();
            if let Some(b) = shape.first_mut() {
                *b = 1;
            }
            // One image's values are the same with its batch of 1 on any axis.
            let axis = axis_of(axes, &o.name);
            if axis > 0 && axis < shape.len() {
                let one = shape.remove(0);
                shape.insert(axis, one);
            }
            Ok(Tensor {
                name: o.name.clone(),
                dtype: o.dtype.to_string(),
                shape,
                data: o.data[index * len..(index + 1) * len].to_vec(),
            })
        })
        .collect()
}

/// Image `index` of `count` images in an item's outputs (`[count, ...]` each) → that
/// image's `[1, ...]` outputs, every one, their names kept: what a decoder reads for one
/// crop.
pub fn rows(
    outputs: &[OutputTensor],
    index: usize,
    count: usize,
) -> Result<Vec<OutputTensor>, String> {
    Ok(raw_row(outputs, "", index, count, &[])?
        .into_iter()
        .map(|t| OutputTensor {
            name: t.name,
            dtype: "f32",
            shape: t.shape,
            data: t.data,
        })
        .collect())
}

/// What one inference found in one image.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub objects: Vec<Object>,
    pub labels: Vec<Label>,
    pub tensors: Vec<Tensor>,
    /// The text a recogniser read, and its confidence: a crop's object gets it as its
    /// `text`, a whole frame as a label naming the model.
    pub text: Option<(String, f32)>,
}

/// Where a frame sat in the model input, for bringing boxes back to it.
pub struct Placement {
    pub letterbox: Letterbox,
    pub source: (u32, u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, shape: &[usize], data: Vec<f32>) -> OutputTensor {
        OutputTensor {
            name: name.into(),
            dtype: "f32",
            shape: shape.to_vec(),
            data,
        }
    }

    #[test]
    fn a_time_major_output_is_split_along_its_batch_axis() {
        // [T = 3, N = 2, C = 2]: image i's value at step t, class c is 100 i + 10 t + c.
        let mut data = Vec::new();
        for t in 0..3 {
            for i in 0..2 {
                for c in 0..2 {
                    data.push((100 * i + 10 * t + c) as f32);
                }
            }
        }
        let axes = vec![("logits".to_string(), 1)];
        let images = split(vec![tensor("logits", &[3, 2, 2], data)], 2, 2, &axes)
            .expect("a batch of 2 on axis 1");
        assert_eq!(images[1][0].shape, [1, 3, 2]);
        assert_eq!(
            images[1][0].data,
            [100.0, 101.0, 110.0, 111.0, 120.0, 121.0]
        );
        // `raw` gives each image its values in the model's layout, [T, 1, C].
        let row = raw_row(&images[1], "", 0, 1, &axes).expect("a row");
        assert_eq!(row[0].shape, [3, 1, 2]);
        assert_eq!(row[0].data, images[1][0].data);
        // Split along the first axis, the same output is no batch of 2.
        let wrong = split(vec![tensor("logits", &[3, 2, 2], vec![0.0; 12])], 2, 2, &[]);
        assert!(wrong.is_err());
        // A padded batch keeps only the images asked for.
        let kept = split(
            vec![tensor("logits", &[3, 2, 2], vec![0.0; 12])],
            2,
            1,
            &axes,
        );
        assert_eq!(kept.map(|k| k.len()), Ok(1));
    }
}
