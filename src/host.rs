//! The compiler's `Host` on the real filesystem.

use std::path::Path;

use vpl_compiler::Host;
use vpl_compiler::host::FileProblem;

#[derive(Debug, Default)]
pub struct FsHost;

impl Host for FsHost {
    fn check_file(&self, path: &Path) -> Result<(), FileProblem> {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(FileProblem::NotFound),
            Err(e) => Err(FileProblem::Unreadable(e.to_string())),
            Ok(m) if m.is_dir() => Err(FileProblem::Unreadable("it is a directory".into())),
            Ok(_) => std::fs::File::open(path)
                .map(drop)
                .map_err(|e| FileProblem::Unreadable(e.to_string())),
        }
    }
}
