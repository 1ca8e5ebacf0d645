//! GPU sessions: ONNX Runtime's CUDA and TensorRT execution providers on a session
//! builder, and inference on an input tensor already in the GPU's memory (IO binding), so
//! only the model's outputs cross to the host. Built with the `gpu` feature only.
//!
//! The input of a batch is a [`DeviceInput`]: a tensor ONNX Runtime allocates in the GPU's
//! memory with its CUDA allocator, which the preprocessing kernels write straight into (at
//! [`DeviceInput::device_ptr`]) and [`Engine::run_device`] binds as the session's input
//! without a copy. The outputs are bound to host memory: a YOLOv8 output is 6 x 8400 f32
//! a frame (200 KB, against 4.9 MB for its 640x640 f32 input), and non-maximum
//! suppression on the host costs well under a millisecond for the few hundred candidates
//! the confidence threshold leaves, so the decoders and NMS stay on the CPU, the same code
//! as the CPU backend's.

use std::path::PathBuf;

use ort::ep::{CUDA, ExecutionProvider, TensorRT};
use ort::memory::{AllocationDevice, Allocator, AllocatorType, MemoryInfo, MemoryType};
use ort::session::builder::SessionBuilder;
use ort::value::{DynTensor, TensorElementType};

use super::cache::{EngineKey, cache_root, calibration_table, engine_key};
use super::error::EngineError;
use super::session::{Backend, Engine, EngineConfig, InputType, OutputTensor, output_tensor};

/// Adds the execution providers `config.backend` needs: TensorRT (fp16, int8 with a
/// calibration table, its engines in the engine cache) before CUDA for `tensorrt`, CUDA
/// alone for `cuda`.
pub(super) fn register_gpu(
    mut builder: SessionBuilder,
    config: &EngineConfig,
) -> Result<SessionBuilder, EngineError> {
    let backend = config.backend;
    let unavailable = |reason: String| EngineError::BackendUnavailable { backend, reason };
    let missing = |provider: &str| {
        unavailable(format!(
            "this ONNX Runtime library has no {provider} execution provider \
             (install onnxruntime-gpu and point VPL_ONNXRUNTIME at it)"
        ))
    };
    if backend == Backend::TensorRt {
        if !TensorRT::is_available().unwrap_or(false) {
            return Err(missing("TensorRT"));
        }
        let cache = engine_cache(config)?;
        let dir = cache.dir.display().to_string();
        let mut tensorrt = TensorRT::default()
            .with_device_id(0)
            .with_fp16(true)
            .with_engine_cache(true)
            .with_engine_cache_path(&dir)
            .with_timing_cache(true)
            .with_timing_cache_path(&dir);
        if let Some(table) = &cache.calibration {
            // TensorRT reads the table from the engine cache directory.
            tensorrt = tensorrt
                .with_int8(true)
                .with_int8_calibration_table_name(table);
        }
        if let Some((min, max)) = &cache.profile {
            tensorrt = tensorrt
                .with_profile_min_shapes(min)
                .with_profile_opt_shapes(max)
                .with_profile_max_shapes(max);
        }
        tensorrt
            .register(&mut builder)
            .map_err(|e| unavailable(e.to_string()))?;
    }
    if !CUDA::is_available().unwrap_or(false) {
        return Err(missing("CUDA"));
    }
    CUDA::default()
        .with_device_id(0)
        .register(&mut builder)
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(builder)
}

/// Where TensorRT's engines for one model go, and what the execution provider is told.
pub(super) struct TensorRtCache {
    pub dir: PathBuf,
    /// The calibration table's file name in `dir` (copied there), for int8.
    pub calibration: Option<String>,
    /// A batch-dynamic input's optimisation profile: (`name:1xCxHxW`, `name:NxCxHxW`).
    pub profile: Option<(String, String)>,
}

/// Prepares the engine cache directory of `config`'s model on this GPU (see
/// [`super::cache`]).
pub(super) fn engine_cache(config: &EngineConfig) -> Result<TensorRtCache, EngineError> {
    let (key, bytes) = engine_key(config)?;
    let root = cache_root(config)?;
    prepare_cache(config, &key, &root, &bytes)
}

fn prepare_cache(
    config: &EngineConfig,
    key: &EngineKey,
    root: &std::path::Path,
    bytes: &[u8],
) -> Result<TensorRtCache, EngineError> {
    let unavailable = |reason: String| EngineError::BackendUnavailable {
        backend: config.backend,
        reason,
    };
    let dir = key.prepare(root).map_err(unavailable)?;
    let calibration = match calibration_table(&config.model) {
        Some(table) => {
            let name = "calibration.table".to_string();
            std::fs::copy(&table, dir.join(&name)).map_err(|e| {
                unavailable(format!(
                    "cannot copy the calibration table {}: {e}",
                    table.display()
                ))
            })?;
            Some(name)
        }
        None => None,
    };
    Ok(TensorRtCache {
        dir,
        calibration,
        profile: profile(bytes, config.max_batch),
    })
}

/// The optimisation profile of a model whose input's first dimension is free and the
/// others fixed: batches 1 to `max_batch`. `None` for a fixed input (no profile needed)
/// or one TensorRT would need more to know about.
fn profile(bytes: &[u8], max_batch: usize) -> Option<(String, String)> {
    let facts = vpl_compiler::onnx::signature(bytes).ok()?;
    let [input] = &facts.inputs[..] else {
        return None;
    };
    let (first, rest) = input.shape.split_first()?;
    if first.fixed().is_some_and(|b| b > 0) {
        return None;
    }
    let rest: Option<Vec<String>> = rest
        .iter()
        .map(|d| d.fixed().filter(|v| *v > 0).map(|v| v.to_string()))
        .collect();
    let rest = rest?.join("x");
    let shape = |batch: usize| format!("{}:{batch}x{rest}", input.name);
    Some((shape(1), shape(max_batch.max(1))))
}

/// A batch input tensor in the GPU's memory, allocated by ONNX Runtime for one engine:
/// the preprocessing kernels write the batch at [`DeviceInput::device_ptr`] and
/// [`Engine::run_device`] runs the model on it in place.
pub struct DeviceInput {
    tensor: DynTensor,
    shape: Vec<usize>,
    /// Kept alive for as long as its memory is used.
    _allocator: Allocator,
}

impl std::fmt::Debug for DeviceInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceInput")
            .field("shape", &self.shape)
            .field("device_ptr", &self.device_ptr())
            .finish_non_exhaustive()
    }
}

impl DeviceInput {
    /// The tensor's first byte in the GPU's memory (a `CUdeviceptr`), row-major, in the
    /// model's element type.
    pub fn device_ptr(&self) -> u64 {
        self.tensor.data_ptr() as usize as u64
    }

    /// The tensor's shape, batch first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

impl Engine {
    /// Allocates an input tensor of `batch` images in the GPU's memory (device 0), in the
    /// model's element type and shape.
    pub fn device_input(&self, batch: usize) -> Result<DeviceInput, EngineError> {
        let run_error = |e: ort::Error| EngineError::Run {
            reason: e.to_string(),
        };
        let mut shape = Vec::with_capacity(self.input().shape.len());
        for (i, d) in self.input().shape.iter().enumerate() {
            shape.push(match usize::try_from(*d) {
                Ok(d) if i > 0 && d > 0 => d,
                Ok(d) if i == 0 && d > 0 && d != batch => {
                    return Err(EngineError::Run {
                        reason: format!("the model's batch is fixed at {d}, not {batch}"),
                    });
                }
                _ if i == 0 => batch,
                _ => {
                    return Err(EngineError::Run {
                        reason: "the model's input has a free dimension besides the batch".into(),
                    });
                }
            });
        }
        let element = match self.input().element {
            InputType::F32 => TensorElementType::Float32,
            InputType::F16 => TensorElementType::Float16,
            InputType::U8 => TensorElementType::Uint8,
        };
        self.with_session(|state| {
            let info = MemoryInfo::new(
                AllocationDevice::CUDA,
                0,
                AllocatorType::Device,
                MemoryType::Default,
            )
            .map_err(run_error)?;
            let allocator = Allocator::new(&state.session, info).map_err(run_error)?;
            let tensor = DynTensor::new(&allocator, element, shape.clone()).map_err(run_error)?;
            Ok(DeviceInput {
                tensor,
                shape,
                _allocator: allocator,
            })
        })
    }

    /// Runs the model on a batch already in the GPU's memory: the input is bound in place
    /// (no host round trip), the outputs are bound to host memory and come back as f32,
    /// as [`Engine::run`]'s do.
    pub fn run_device(&self, input: &DeviceInput) -> Result<Vec<OutputTensor>, EngineError> {
        let run_error = |e: ort::Error| EngineError::Run {
            reason: e.to_string(),
        };
        let host = MemoryInfo::new(
            AllocationDevice::CPU,
            0,
            AllocatorType::Arena,
            MemoryType::Default,
        )
        .map_err(run_error)?;
        let _at_work = super::busy::AtWork::start();
        self.with_session(|state| {
            let mut binding = state.session.create_binding().map_err(run_error)?;
            binding
                .bind_input(self.input().name.as_str(), &input.tensor)
                .map_err(run_error)?;
            for name in self.output_names() {
                binding
                    .bind_output_to_device(name.as_str(), &host)
                    .map_err(run_error)?;
            }
            let outputs = state.session.run_binding(&binding).map_err(run_error)?;
            let mut tensors = Vec::with_capacity(outputs.len());
            for (name, value) in outputs {
                tensors.push(output_tensor(name, &value)?);
            }
            Ok(tensors)
        })
    }
}
