//! A model file + a backend → loaded ONNX Runtime sessions (one, or a small pool for a
//! model whose batch is fixed) that turn one input tensor into the model's outputs as f32,
//! shared by the threads of a pipeline.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, TryLockError};

use half::f16;
use ort::session::Session;
use ort::session::builder::SessionBuilder;
use ort::value::{DynValue, PrimitiveTensorElementType, Tensor, TensorElementType, ValueType};

use super::error::EngineError;
use super::library;

/// Where inference runs. Chosen by `--backend`; an unavailable GPU backend is an error,
/// never a silent fallback to the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Cpu,
    /// ONNX Runtime's CUDA execution provider (build with the `gpu` feature).
    Cuda,
    /// ONNX Runtime's TensorRT execution provider, with CUDA for what TensorRT cannot run
    /// (build with the `gpu` feature).
    TensorRt,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Cpu => "cpu",
            Backend::Cuda => "cuda",
            Backend::TensorRt => "tensorrt",
        })
    }
}

/// What [`Engine::load`] needs: one `Config` rather than a row of arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub model: PathBuf,
    /// ONNX Runtime's shared library, usually from [`find_library`](super::find_library).
    pub library: PathBuf,
    pub backend: Backend,
    /// Intra-op threads; 0 lets ONNX Runtime choose (one per core).
    pub threads: usize,
    /// TensorRT's engine cache: the root directory (a key's own directory is made under
    /// it, see [`EngineKey`](super::EngineKey)); `None`: [`default_cache_dir`](super::default_cache_dir).
    /// Only the `tensorrt` backend reads it.
    pub engine_cache: Option<PathBuf>,
    /// The largest batch the model will be given: TensorRT builds a batch-dynamic model's
    /// engine for batches 1 to this. 0 is taken as 1.
    pub max_batch: usize,
}

/// The values of an input tensor, in the element type the model takes.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    /// For float16 models; f32 data is accepted for them too.
    F16(Vec<f16>),
    /// For models that take raw 0..=255 pixels.
    U8(Vec<u8>),
}

impl TensorData {
    fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F16(v) => v.len(),
            TensorData::U8(v) => v.len(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            TensorData::F32(_) => "float32",
            TensorData::F16(_) => "float16",
            TensorData::U8(_) => "uint8",
        }
    }
}

/// One input tensor, row-major; `shape` includes the batch dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTensor {
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// One output of the model, converted to f32 whatever its element type in the model, so
/// decoders have one type to read.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTensor {
    pub name: String,
    /// The element type in the model, as vpl writes it (`f32`, `f16`, `i64`, ...).
    pub dtype: &'static str,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// The element types vpl can feed a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    F32,
    F16,
    U8,
}

/// The model's one input: its name, element type and shape (`-1` for a free dimension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    pub name: String,
    pub element: InputType,
    pub shape: Vec<i64>,
}

/// A loaded model, ready to run. `Send + Sync`: each session sits behind a mutex because
/// ONNX Runtime's `run` is not safe to call concurrently on one session; ONNX Runtime's
/// own thread pool parallelises each run. A model whose batch is fixed (at 1, say) fed by
/// several streams gets more sessions with [`Engine::grow`], so their runs overlap
/// instead of queuing through one session; a batch-dynamic model batches instead.
pub struct Engine {
    config: EngineConfig,
    input: InputInfo,
    input_names: Vec<String>,
    output_names: Vec<String>,
    /// At least one session; only [`Engine::grow`] adds more.
    pool: RwLock<Vec<Mutex<State>>>,
    /// Serialises [`Engine::grow`], so two elements starting together load no extra session.
    growing: Mutex<()>,
    /// Where a run waits when every session is busy: round robin.
    next: AtomicUsize,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("input", &self.input)
            .field("outputs", &self.output_names)
            .field("sessions", &self.sessions())
            .finish_non_exhaustive()
    }
}

pub(super) struct State {
    pub(super) session: Session,
}

impl Engine {
    /// Loads ONNX Runtime (once per process) and the model, on `config.backend`, in one
    /// session.
    ///
    /// Refuses models vpl cannot feed: more than one input, or an input that is not a
    /// float32, float16 or uint8 tensor.
    pub fn load(config: &EngineConfig) -> Result<Engine, EngineError> {
        let (state, input) = open(config)?;
        let session = &state.session;
        Ok(Engine {
            config: config.clone(),
            input_names: session
                .inputs()
                .iter()
                .map(|i| i.name().to_string())
                .collect(),
            output_names: session
                .outputs()
                .iter()
                .map(|o| o.name().to_string())
                .collect(),
            input,
            pool: RwLock::new(vec![Mutex::new(state)]),
            growing: Mutex::new(()),
            next: AtomicUsize::new(0),
        })
    }

    /// Loads more sessions of the same model until there are `sessions` (never fewer than
    /// now), and says how many there are. Runs already going on carry on meanwhile; the new
    /// sessions are loaded before any run can pick them.
    pub fn grow(&self, sessions: usize) -> Result<usize, EngineError> {
        let _one_at_a_time = self.growing.lock().unwrap_or_else(PoisonError::into_inner);
        let have = self.sessions();
        let mut more = Vec::with_capacity(sessions.saturating_sub(have));
        for _ in have..sessions {
            more.push(Mutex::new(open(&self.config)?.0));
        }
        let mut pool = self.pool.write().unwrap_or_else(PoisonError::into_inner);
        pool.extend(more);
        Ok(pool.len())
    }

    /// How many sessions run this model.
    pub fn sessions(&self) -> usize {
        self.pool
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The model's batch when it is fixed (the input's first dimension), `None` when free.
    pub fn fixed_batch(&self) -> Option<usize> {
        self.input
            .shape
            .first()
            .and_then(|b| usize::try_from(*b).ok())
            .filter(|b| *b > 0)
    }

    /// What the engine was loaded with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Runs `f` on a free session: the first one idle, else (every one busy) waits its
    /// turn on one of them, round robin.
    pub(super) fn with_session<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let pool = self.pool.read().unwrap_or_else(PoisonError::into_inner);
        let idle = pool.iter().find_map(|slot| match slot.try_lock() {
            Ok(state) => Some(state),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        });
        let mut state: MutexGuard<'_, State> = match idle {
            Some(state) => state,
            None => {
                let i = self.next.fetch_add(1, Ordering::Relaxed) % pool.len();
                pool[i].lock().unwrap_or_else(PoisonError::into_inner)
            }
        };
        f(&mut state)
    }

    /// The model's input names, in the model's order (vpl models have exactly one).
    pub fn input_names(&self) -> &[String] {
        &self.input_names
    }

    /// The model's one input: what [`Engine::run`] expects.
    pub fn input(&self) -> &InputInfo {
        &self.input
    }

    /// The model's output names, in the order [`Engine::run`] returns them.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }

    /// Runs the model on one input tensor (any batch the model allows). Float16 outputs
    /// and other numeric types come back as f32. Waits while other threads run every
    /// session.
    pub fn run(&self, input: InputTensor) -> Result<Vec<OutputTensor>, EngineError> {
        self.check_shape(&input)?;
        let _at_work = super::busy::AtWork::start();
        self.with_session(|state| {
            let value = self.input_value(input)?;
            let outputs = state
                .session
                .run(ort::inputs![self.input.name.as_str() => value])
                .map_err(|e| EngineError::Run {
                    reason: e.to_string(),
                })?;
            outputs
                .iter()
                .map(|(name, value)| output_tensor(name, &value))
                .collect()
        })
    }

    /// The shape fits the model's (free dimensions match anything) and the data fills it.
    fn check_shape(&self, input: &InputTensor) -> Result<(), EngineError> {
        let expected = &self.input.shape;
        let fits = expected.len() == input.shape.len()
            && expected
                .iter()
                .zip(&input.shape)
                .all(|(want, got)| *want < 0 || *want as usize == *got);
        if !fits {
            return Err(EngineError::Shape {
                expected: expected.clone(),
                got: input.shape.clone(),
            });
        }
        let needed = input
            .shape
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(*d));
        if needed != Some(input.data.len()) {
            return Err(EngineError::Run {
                reason: format!(
                    "the input tensor has {} values but its shape {:?} needs {}",
                    input.data.len(),
                    input.shape,
                    needed.map_or("more than can be counted".into(), |n| n.to_string())
                ),
            });
        }
        Ok(())
    }

    /// The input as an ONNX Runtime value of the model's element type (float16 rounded
    /// to nearest even from f32, as ONNX Runtime's `Cast` does).
    fn input_value(&self, input: InputTensor) -> Result<DynValue, EngineError> {
        let run_error = |reason: String| EngineError::Run { reason };
        let shape = input.shape;
        let tensor = |result: ort::Result<DynValue>| result.map_err(|e| run_error(e.to_string()));
        match (self.input.element, input.data) {
            (InputType::F32, TensorData::F32(data)) => {
                tensor(Tensor::from_array((shape, data)).map(Tensor::into_dyn))
            }
            (InputType::F32, TensorData::F16(data)) => {
                let data: Vec<f32> = data.into_iter().map(f16::to_f32).collect();
                tensor(Tensor::from_array((shape, data)).map(Tensor::into_dyn))
            }
            (InputType::U8, TensorData::U8(data)) => {
                tensor(Tensor::from_array((shape, data)).map(Tensor::into_dyn))
            }
            (InputType::F16, TensorData::F32(data)) => {
                let data: Vec<f16> = data.into_iter().map(f16::from_f32).collect();
                tensor(Tensor::from_array((shape, data)).map(Tensor::into_dyn))
            }
            (InputType::F16, TensorData::F16(data)) => {
                tensor(Tensor::from_array((shape, data)).map(Tensor::into_dyn))
            }
            (want, data) => Err(run_error(format!(
                "the model's input `{}` takes {} values but was given {}",
                self.input.name,
                match want {
                    InputType::F32 => "float32",
                    InputType::F16 => "float16",
                    InputType::U8 => "uint8",
                },
                data.type_name()
            ))),
        }
    }
}

/// One output value → vpl's f32 tensor.
pub(super) fn output_tensor(name: &str, value: &DynValue) -> Result<OutputTensor, EngineError> {
    let (shape, data) = extract(value).map_err(|e| EngineError::Run {
        reason: format!("output `{name}`: {e}"),
    })?;
    Ok(OutputTensor {
        name: name.to_string(),
        dtype: element(value.dtype()).map_or("f32", vpl_type_name),
        shape,
        data,
    })
}

/// One session of `config.model` on `config.backend`, and the input it takes.
fn open(config: &EngineConfig) -> Result<(State, InputInfo), EngineError> {
    let environment = library::environment(&config.library)?;
    let path = &config.model;
    let model_error = |reason: String| EngineError::ModelLoad {
        path: path.clone(),
        reason,
    };
    check_model_file(path).map_err(model_error)?;
    let mut builder = Session::builder(&environment).map_err(|e| model_error(e.to_string()))?;
    if config.threads > 0 {
        builder = builder
            .with_intra_threads(config.threads)
            .map_err(|e| model_error(e.to_string()))?;
    }
    let mut builder = register_backend(builder, config)?;
    let session = builder
        .commit_from_file(path)
        .map_err(|e| model_error(e.to_string()))?;
    let input = describe_input(&session).map_err(model_error)?;
    Ok((State { session }, input))
}

/// A missing model or a directory gets a plainer reason than ONNX Runtime would give.
fn check_model_file(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err("it is a directory".into()),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("no such file".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The one input vpl feeds, or why the model cannot be fed.
fn describe_input(session: &Session) -> Result<InputInfo, String> {
    let inputs = session.inputs();
    let [input] = inputs else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name()).collect();
        return Err(format!(
            "it has {} inputs ({}); vpl feeds models with exactly one",
            inputs.len(),
            names.join(", ")
        ));
    };
    let ValueType::Tensor { ty, shape, .. } = input.dtype() else {
        return Err(format!("its input `{}` is not a tensor", input.name()));
    };
    let element = match ty {
        TensorElementType::Float32 => InputType::F32,
        TensorElementType::Float16 => InputType::F16,
        TensorElementType::Uint8 => InputType::U8,
        other => {
            return Err(format!(
                "its input `{}` holds {} values; vpl feeds float32, float16 or uint8",
                input.name(),
                type_name(other)
            ));
        }
    };
    Ok(InputInfo {
        name: input.name().to_string(),
        element,
        shape: shape.to_vec(),
    })
}

/// ONNX's names for element types, as Netron and the ONNX docs show them.
fn type_name(ty: &TensorElementType) -> String {
    let name = match ty {
        TensorElementType::Float32 => "float32",
        TensorElementType::Float16 => "float16",
        TensorElementType::Float64 => "float64",
        TensorElementType::Bfloat16 => "bfloat16",
        TensorElementType::Uint8 => "uint8",
        TensorElementType::Int8 => "int8",
        TensorElementType::Uint16 => "uint16",
        TensorElementType::Int16 => "int16",
        TensorElementType::Uint32 => "uint32",
        TensorElementType::Int32 => "int32",
        TensorElementType::Uint64 => "uint64",
        TensorElementType::Int64 => "int64",
        TensorElementType::Bool => "bool",
        TensorElementType::String => "string",
        other => return other.to_string(),
    };
    name.to_string()
}

/// vpl's names for the element types it reads (spec §5), for records.
fn vpl_type_name(ty: &TensorElementType) -> &'static str {
    match ty {
        TensorElementType::Float16 => "f16",
        TensorElementType::Float64 => "f64",
        TensorElementType::Int64 => "i64",
        TensorElementType::Int32 => "i32",
        TensorElementType::Uint8 => "u8",
        TensorElementType::Int8 => "i8",
        _ => "f32",
    }
}

fn element(ty: &ValueType) -> Option<&TensorElementType> {
    match ty {
        ValueType::Tensor { ty, .. } => Some(ty),
        _ => None,
    }
}

/// An output value → its shape and values as f32.
fn extract(value: &DynValue) -> Result<(Vec<usize>, Vec<f32>), String> {
    let Some(ty) = element(value.dtype()) else {
        return Err("it is not a tensor".into());
    };
    match ty {
        TensorElementType::Float32 => convert(value, |v: f32| v),
        TensorElementType::Float16 => convert(value, f16::to_f32),
        TensorElementType::Float64 => convert(value, |v: f64| v as f32),
        TensorElementType::Int64 => convert(value, |v: i64| v as f32),
        TensorElementType::Int32 => convert(value, |v: i32| v as f32),
        TensorElementType::Uint8 => convert(value, |v: u8| f32::from(v)),
        TensorElementType::Int8 => convert(value, |v: i8| f32::from(v)),
        other => Err(format!("vpl cannot read {} tensors", type_name(other))),
    }
}

fn convert<T: PrimitiveTensorElementType + Copy>(
    value: &DynValue,
    to_f32: impl Fn(T) -> f32,
) -> Result<(Vec<usize>, Vec<f32>), String> {
    let (shape, data) = value.try_extract_tensor::<T>().map_err(|e| e.to_string())?;
    let shape = shape.iter().map(|d| (*d).max(0) as usize).collect();
    Ok((shape, data.iter().copied().map(to_f32).collect()))
}

/// Adds the GPU execution providers `config.backend` needs; the CPU needs none.
fn register_backend(
    builder: SessionBuilder,
    config: &EngineConfig,
) -> Result<SessionBuilder, EngineError> {
    match config.backend {
        Backend::Cpu => Ok(builder),
        #[cfg(feature = "gpu")]
        Backend::Cuda | Backend::TensorRt => super::device::register_gpu(builder, config),
        #[cfg(not(feature = "gpu"))]
        Backend::Cuda | Backend::TensorRt => {
            drop(builder);
            Err(EngineError::BackendUnavailable {
                backend: config.backend,
                reason: super::cache::NO_GPU_BUILD.into(),
            })
        }
    }
}
