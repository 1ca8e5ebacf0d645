//! The compiler's window on the outside world. The compiler does no IO itself: the
//! command line implements `Host` with the filesystem (and, with the type checker, media
//! probes and ONNX readers); tests and the language server use `MemoryHost` or wrappers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a file named by a program cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    NotFound,
    /// Exists but cannot be read (permissions, a directory, ...): the reason as the OS says it.
    Unreadable(String),
}

pub trait Host {
    /// Can the file at `path` be read? Paths are already resolved against the `.vpl` file.
    fn check_file(&self, path: &Path) -> Result<(), FileProblem>;
}

/// A host over in-memory files, for tests and for editors' unsaved buffers.
#[derive(Debug, Clone, Default)]
pub struct MemoryHost {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryHost {
    pub fn new() -> MemoryHost {
        MemoryHost::default()
    }

    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), contents.into());
        self
    }
}

impl Host for MemoryHost {
    fn check_file(&self, path: &Path) -> Result<(), FileProblem> {
        if self.files.contains_key(&normalize(path)) {
            Ok(())
        } else {
            Err(FileProblem::NotFound)
        }
    }
}

/// Removes `.` and resolves `..` lexically, so `a/../b.onnx` and `b.onnx` are one file.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}
