//! vpl compiler: `.vpl` text → syntax tree → resolved program → diagnostics.
//!
//! No IO happens here: files, media probes and model signatures come in through the
//! [`Host`] trait, so the command line, the language server and the tests all drive the
//! same compiler. See docs/architecture.md for the stages and their invariants.

pub mod analytics;
pub mod brokers;
pub mod check;
pub mod decoders;
pub mod diagnostics;
pub mod facts;
pub mod fmt;
pub mod hir;
pub mod host;
pub mod import;
pub mod incremental;
pub mod ir;
pub mod media;
pub mod onnx;
pub mod plan;
pub mod pool;
pub mod records;
pub mod resolve;
pub mod source;
pub mod span;
pub mod stage;
pub mod stdlib;
pub mod suggest;
pub mod syntax;
pub mod target;
pub mod types;

mod driver;

pub use diagnostics::{Code, Diagnostic, Severity};
pub use driver::{Compilation, SelectError, compile, compile_incremental, compile_whole};
pub use host::{Host, MemoryHost};
pub use source::{FileId, SourceFile, SourceMap};
pub use target::Target;
