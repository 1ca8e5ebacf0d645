//! The shapes a model's outputs take on a given input, found by running it on zeros: how
//! the checker resolves output dimensions an ONNX file leaves open (`Host::output_shapes`,
//! answered by the command line's host through this, and cached by the model's digest).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Backend, Engine, EngineConfig, EngineError, InputTensor, InputType, TensorData};

/// The largest input (in values) a check runs a model on: 64 M values, 256 MB of f32.
const MOST_VALUES: usize = 64 << 20;

/// Each output's name and shape after one run.
pub type Shapes = Vec<(String, Vec<usize>)>;

/// The SHA-256 of a model file's bytes, in hex: the key its run results are cached by.
pub fn model_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads `model` on the CPU (ONNX Runtime from `library`) and runs it once on zeros of
/// each of `inputs`' shapes; for each, the outputs' names and shapes.
pub fn output_shapes(
    model: &Path,
    library: &Path,
    inputs: &[Vec<usize>],
) -> Result<Vec<Shapes>, EngineError> {
    let engine = Engine::load(&EngineConfig {
        model: PathBuf::from(model),
        library: PathBuf::from(library),
        backend: Backend::Cpu,
        threads: 0,
        engine_cache: None,
        max_batch: 1,
    })?;
    inputs
        .iter()
        .map(|shape| {
            let values = shape
                .iter()
                .try_fold(1usize, |n, d| n.checked_mul(*d))
                .filter(|n| *n <= MOST_VALUES)
                .ok_or_else(|| EngineError::Run {
                    reason: format!(
                        "an input of shape {shape:?} is too large to run the model on at check time"
                    ),
                })?;
            let data = match engine.input().element {
                InputType::U8 => TensorData::U8(vec![0; values]),
                InputType::F32 | InputType::F16 => TensorData::F32(vec![0.0; values]),
            };
            let outputs = engine.run(InputTensor {
                shape: shape.clone(),
                data,
            })?;
            Ok(outputs.into_iter().map(|o| (o.name, o.shape)).collect())
        })
        .collect()
}
