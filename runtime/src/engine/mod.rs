//! Inference: ONNX Runtime sessions, the fused preprocessing of frames into input tensors, and the decoders of model outputs.
//!
//! A model whose batch is fixed gets a small pool of sessions (`Engine::grow`); with the
//! `gpu` feature, `device` registers CUDA and TensorRT (its engines in the `cache`
//! directory of their key) and runs models on inputs already in the GPU's memory.
//!
//! `preprocess` turns a decoded frame into one image of a model's input tensor, `Engine`
//! runs the model (ONNX Runtime, loaded at run time from the library `find_library`
//! names), and `decode` turns the output tensor back into detections in frame pixels.

pub mod busy;
pub mod cache;
pub mod decode;
#[cfg(feature = "gpu")]
mod device;
mod error;
pub(crate) mod library;
pub mod preprocess;
mod session;
pub mod shapes;

pub use cache::{
    BuiltEngine, CACHE_VARIABLE, EngineKey, build_engine, cache_root, default_cache_dir,
};
#[cfg(feature = "gpu")]
pub use device::DeviceInput;
pub use error::EngineError;
pub use library::{LIBRARY_VARIABLE, find_library, find_library_near};
pub use session::{
    Backend, Engine, EngineConfig, InputInfo, InputTensor, InputType, OutputTensor, TensorData,
};
