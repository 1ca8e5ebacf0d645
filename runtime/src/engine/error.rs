//! `EngineError` → the words a user reads. The one place the engine's failures are worded.

use std::fmt;
use std::path::PathBuf;

use super::session::Backend;

/// Why a model could not be loaded or run. Each variant says what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    /// No file at the ONNX Runtime library path.
    LibraryNotFound { path: PathBuf },
    /// The file is there but is not a usable ONNX Runtime library.
    LibraryLoad { path: PathBuf, reason: String },
    /// The model file is missing, unreadable or not a model vpl can feed.
    ModelLoad { path: PathBuf, reason: String },
    /// An explicitly requested backend cannot be used; vpl never falls back to the CPU.
    BackendUnavailable { backend: Backend, reason: String },
    /// ONNX Runtime failed during inference, or the input does not fit the model.
    Run { reason: String },
    /// The input tensor's shape does not fit the model's; `-1` is a free dimension.
    Shape { expected: Vec<i64>, got: Vec<usize> },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::LibraryNotFound { path } => write!(
                f,
                "ONNX Runtime is not at {}; run scripts/setup.sh, or set VPL_ONNXRUNTIME \
                 to the path of libonnxruntime.so",
                path.display()
            ),
            EngineError::LibraryLoad { path, reason } => write!(
                f,
                "cannot load ONNX Runtime from {}: {reason}; point VPL_ONNXRUNTIME at an \
                 ONNX Runtime library of version 1.17 or newer",
                path.display()
            ),
            EngineError::ModelLoad { path, reason } => {
                write!(f, "cannot load the model {}: {reason}", path.display())
            }
            EngineError::BackendUnavailable { backend, reason } => write!(
                f,
                "the {backend} backend is not available: {reason}; use --backend cpu to run \
                 on the CPU"
            ),
            EngineError::Run { reason } => write!(f, "inference failed: {reason}"),
            EngineError::Shape { expected, got } => write!(
                f,
                "the input tensor has shape {} but the model takes {}",
                dims(got.iter().map(|d| d.to_string())),
                dims(expected.iter().map(|d| {
                    if *d < 0 {
                        "?".to_string()
                    } else {
                        d.to_string()
                    }
                }))
            ),
        }
    }
}

impl std::error::Error for EngineError {}

fn dims(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}
