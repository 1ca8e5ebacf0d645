//! vpl runtime: the only crate that knows GStreamer. Today it probes media files for the
//! compiler's host (`probe`); the runtime issue adds building and running pipelines.

pub mod probe;
