//! vpl runtime: the only crate that knows GStreamer. It probes media files for the
//! compiler's host (`probe`), runs models (`engine`, ONNX Runtime through `ort`), provides
//! vpl's own GStreamer elements (`elements`), and builds and runs plans (`pipeline`, with
//! `tile` carrying objects through the compositor).

pub mod analytics;
pub mod brokers;
pub mod elements;
pub mod engine;
pub mod gpu;
pub mod machine;
pub mod masks;
pub mod meta;
pub mod metrics;
pub mod pipeline;
pub mod pool;
pub mod probe;
pub mod tile;
pub mod utc;
