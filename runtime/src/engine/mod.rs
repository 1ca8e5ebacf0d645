//! Inference: ONNX Runtime sessions, the fused preprocessing of frames into input tensors, and the decoders of model outputs.
//!
//! `preprocess` turns a decoded frame into one image of a model's input tensor, `Engine`
//! runs the model (ONNX Runtime, loaded at run time from the library `find_library`
//! names), and `decode` turns the output tensor back into detections in frame pixels.

pub mod decode;
mod error;
mod float16;
mod library;
pub mod preprocess;
mod session;

pub use error::EngineError;
pub use library::{LIBRARY_VARIABLE, find_library};
pub use session::{
    Backend, Engine, EngineConfig, InputInfo, InputTensor, InputType, OutputTensor, TensorData,
};
