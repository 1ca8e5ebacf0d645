//! The frame path of a model group: each frame goes to the batcher as it was decoded
//! (NV12 from `cudadownload`: 1.5 bytes a pixel) instead of as a model input built on the
//! CPU (12 bytes a pixel for f32), and a whole batch is preprocessed in one go, then run.
//!
//! On a GPU (feature `gpu`, backends `cuda` and `tensorrt`), the batch is uploaded plane by
//! plane, turned into the model's input by one launch of the preprocessing kernel straight
//! into a tensor ONNX Runtime allocated on the device, and run there with IO binding: only
//! the outputs come back to the host, where the decoders and NMS run as on the CPU. The
//! kernel runs in the device's primary context, the one ONNX Runtime's CUDA execution
//! provider uses, so the tensor's address is valid for both; the kernel's stream is
//! synchronised before the model runs.
//!
//! `VPL_PREPROCESS=reference` takes the same path on any backend with the kernel's CPU twin
//! (`gpu::reference`) in place of the launch: how CI, which has no GPU, runs everything of
//! the GPU path but the launch and the binding (tests/gpu_path.rs). `VPL_PREPROCESS=cpu`
//! keeps preprocessing on the CPU, frame by frame, to compare in benchmarks.
//!
//! Each frame's letterbox is the CPU's own (`FrameDescriptor::new`), so boxes map back
//! exactly as with CPU preprocessing. Where the GPU preprocessor cannot start (no NVRTC, a
//! driver error), the group preprocesses on the CPU and says why once: the results are the
//! same, only slower. Crops (`infer(on:)`), `resize: fixed_height` and 4-channel models are
//! preprocessed on the CPU.

#![cfg_attr(feature = "gpu", allow(unsafe_code))] // the launch writes into ONNX Runtime's tensor

use std::sync::Arc;

use crate::engine::preprocess::{Frame, Letterbox, PixelFormat, PreprocessConfig};
use crate::engine::{Backend, Engine, InputTensor, InputType, OutputTensor, TensorData};
use crate::gpu::reference::{BatchOutput, preprocess_batch};

/// The environment variable that chooses where a group's whole frames are preprocessed:
/// `gpu` (the default with a GPU backend), `reference` (the kernel's CPU twin, on any
/// backend), `cpu` (frame by frame on the CPU, the default with the CPU backend).
pub const PREPROCESS_VARIABLE: &str = "VPL_PREPROCESS";

/// A decoded frame copied as it is, waiting for its batch.
#[derive(Debug, Clone)]
pub struct HostFrame {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    pub planes: Vec<Vec<u8>>,
    pub strides: Vec<usize>,
    pub preprocess: Arc<PreprocessConfig>,
}

impl HostFrame {
    /// Copies `frame`'s planes (checked first) and computes where it will sit in the
    /// model's input.
    pub fn new(
        frame: &Frame<'_>,
        preprocess: Arc<PreprocessConfig>,
    ) -> Result<(HostFrame, Letterbox), String> {
        frame
            .check()
            .map_err(|e| format!("cannot preprocess the frame: {e}"))?;
        let letterbox = Letterbox::new(
            (frame.width, frame.height),
            (preprocess.width, preprocess.height),
            preprocess.resize,
        );
        let host = HostFrame {
            format: frame.format,
            width: frame.width,
            height: frame.height,
            planes: frame.planes.iter().map(|p| p.to_vec()).collect(),
            strides: frame.strides.clone(),
            preprocess,
        };
        Ok((host, letterbox))
    }

    /// The frame as the preprocessors read it.
    fn view(&self) -> Frame<'_> {
        Frame {
            format: self.format,
            width: self.width,
            height: self.height,
            planes: self.planes.iter().map(Vec::as_slice).collect(),
            strides: self.strides.clone(),
        }
    }
}

/// Whether the kernel (and its twin) can prepare frames for `config`: not `fixed_height`
/// (zeros after normalisation) nor a fourth channel, which the CPU prepares.
pub fn kernel_fits(config: &PreprocessConfig) -> bool {
    use crate::engine::preprocess::Resize;
    config.resize != Resize::FixedHeight && config.order.channels() != 4
}

/// How a group preprocesses its batches of whole frames.
#[derive(Debug)]
pub enum FramePath {
    /// The kernel's CPU twin into a host tensor, then the model as on the CPU.
    Reference,
    /// The kernel on the GPU into a device tensor, bound in place.
    #[cfg(feature = "gpu")]
    Gpu(DevicePath),
}

impl FramePath {
    /// The frame path `engine`'s group takes, or why frames are preprocessed one by one on
    /// the CPU (`Ok(None)`: the CPU backend; `Err`: a GPU path that could not start).
    pub fn choose(engine: &Engine) -> Result<Option<FramePath>, String> {
        let asked = std::env::var(PREPROCESS_VARIABLE).unwrap_or_default();
        match asked.as_str() {
            "reference" => return Ok(Some(FramePath::Reference)),
            "cpu" => return Ok(None),
            "" | "gpu" => {}
            other => {
                return Err(format!(
                    "{PREPROCESS_VARIABLE}={other} is not gpu, reference or cpu"
                ));
            }
        }
        if engine.config().backend == Backend::Cpu {
            return Ok(None);
        }
        #[cfg(feature = "gpu")]
        return DevicePath::start(engine).map(|d| Some(FramePath::Gpu(d)));
        #[cfg(not(feature = "gpu"))]
        Err("this vplc was built without the `gpu` feature".into())
    }

    /// Runs `frames` through the model as one `[batch, ...]` input (`batch` >=
    /// `frames.len()`: a fixed batch is padded with images whose outputs the caller drops);
    /// returns the run's outputs.
    pub fn run(
        &self,
        engine: &Engine,
        frames: &[HostFrame],
        batch: usize,
    ) -> Result<Vec<OutputTensor>, String> {
        let Some(first) = frames.first() else {
            return Ok(Vec::new());
        };
        if frames.iter().any(|f| f.preprocess != first.preprocess) {
            return Err(
                "the frames of one batch were prepared for different inputs: \
                 give every element of the group the same input size and layout"
                    .into(),
            );
        }
        match self {
            FramePath::Reference => reference(engine, frames, batch),
            #[cfg(feature = "gpu")]
            FramePath::Gpu(device) => device.run(engine, frames, batch),
        }
    }
}

/// The kernel's CPU twin writes the batch; the model runs on it as on the CPU path (an
/// f16 model is given f32, which the engine converts, as there).
fn reference(
    engine: &Engine,
    frames: &[HostFrame],
    batch: usize,
) -> Result<Vec<OutputTensor>, String> {
    let config = &frames[0].preprocess;
    let views: Vec<Frame<'_>> = frames.iter().map(HostFrame::view).collect();
    let values = config.values();
    let fail = |e| format!("cannot preprocess the frames: {e}");
    let (data, shape) = (
        values * frames.len(),
        std::iter::once(batch).chain(config.image_dims()).collect(),
    );
    let data = match engine.input().element {
        InputType::U8 => {
            let mut out = vec![0u8; data];
            preprocess_batch(&views, config, BatchOutput::U8(&mut out)).map_err(fail)?;
            out.resize(values * batch, 0);
            TensorData::U8(out)
        }
        InputType::F32 | InputType::F16 => {
            let mut out = vec![0f32; data];
            preprocess_batch(&views, config, BatchOutput::F32(&mut out)).map_err(fail)?;
            out.resize(values * batch, 0.0);
            TensorData::F32(out)
        }
    };
    engine
        .run(InputTensor { shape, data })
        .map_err(|e| e.to_string())
}

/// The kernel loaded on the GPU ONNX Runtime runs on, and the element type it writes.
#[cfg(feature = "gpu")]
pub struct DevicePath {
    preprocessor: crate::gpu::launch::Preprocessor,
    dtype: crate::gpu::OutputType,
}

#[cfg(feature = "gpu")]
impl std::fmt::Debug for DevicePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevicePath")
            .field("arch", &self.preprocessor.arch())
            .field("dtype", &self.dtype)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "gpu")]
impl DevicePath {
    /// The GPU path for `engine`'s model (on a GPU backend), or why there is none.
    pub fn start(engine: &Engine) -> Result<DevicePath, String> {
        use crate::engine::default_cache_dir;
        use crate::gpu::OutputType;
        use crate::gpu::launch::Preprocessor;
        use crate::gpu::nvrtc::{self, KernelCache};
        use std::path::Path;
        let dtype = match engine.input().element {
            InputType::F32 => OutputType::F32,
            InputType::F16 => OutputType::F16,
            InputType::U8 => OutputType::U8,
        };
        let cwd = std::env::current_dir().unwrap_or_default();
        let model_dir = engine
            .config()
            .model
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let library = nvrtc::find_library(&[&cwd, &model_dir])
            .ok_or_else(|| nvrtc::NvrtcError::NotFound.to_string())?;
        nvrtc::load(&library).map_err(|e| e.to_string())?;
        let cache = default_cache_dir()
            .map(|dir| dir.join("kernels"))
            .unwrap_or_else(|| std::env::temp_dir().join("vpl-kernels"));
        let preprocessor =
            Preprocessor::new(0, &KernelCache::new(cache)).map_err(|e| e.to_string())?;
        Ok(DevicePath {
            preprocessor,
            dtype,
        })
    }

    /// Runs `frames` through the model `batch` at a time (`batch` >= `frames.len()`: a
    /// fixed batch is padded with images the kernel does not write, whose outputs are
    /// dropped by the caller); returns the outputs of the whole `[batch, ...]` run.
    fn run(
        &self,
        engine: &Engine,
        frames: &[HostFrame],
        batch: usize,
    ) -> Result<Vec<OutputTensor>, String> {
        use crate::gpu::{FrameDescriptor, TensorParams};
        use cudarc::driver::{CudaSlice, DevicePtr};
        let config = &frames[0].preprocess;
        let params = TensorParams::new(config, self.dtype).map_err(|e| e.to_string())?;
        let input = engine.device_input(batch).map_err(|e| e.to_string())?;
        let needed = params.values * batch * self.dtype.bytes();
        let has: usize = input.shape().iter().product::<usize>() * self.dtype.bytes();
        if has != needed {
            return Err(format!(
                "the model's input on the device holds {has} bytes, the kernel writes {needed}"
            ));
        }
        let stream = self.preprocessor.stream();
        let gpu = |e: cudarc::driver::DriverError| format!("CUDA: {e}");
        let mut uploads: Vec<CudaSlice<u8>> = Vec::new();
        let mut descriptors = Vec::with_capacity(frames.len());
        for frame in frames {
            let mut planes = [0u64; 3];
            for (slot, plane) in planes.iter_mut().zip(&frame.planes) {
                let slice = stream.clone_htod(plane.as_slice()).map_err(gpu)?;
                *slot = slice.device_ptr(stream).0;
                uploads.push(slice);
            }
            let (descriptor, _) = FrameDescriptor::new(
                frame.format,
                (frame.width, frame.height),
                planes,
                &frame.strides,
                config,
            )
            .map_err(|e| format!("cannot preprocess the frame: {e}"))?;
            descriptors.push(descriptor);
        }
        // SAFETY: every plane was uploaded whole (its frame passed `check` in
        // `HostFrame::new`), the tensor holds `batch` >= `frames.len()` images of
        // `params` (checked above), and both live until the stream has run (synchronised
        // below, before the uploads are dropped and the model reads the tensor).
        unsafe {
            self.preprocessor
                .launch(&descriptors, &params, input.device_ptr())
        }
        .map_err(|e| e.to_string())?;
        stream.synchronize().map_err(gpu)?;
        drop(uploads);
        engine.run_device(&input).map_err(|e| e.to_string())
    }
}
