//! Where ONNX Runtime's shared library is → the process's one ONNX Runtime environment.
//!
//! ONNX Runtime is not linked at build time: `ort` opens the library at run time
//! (`load-dynamic`). `scripts/setup.sh` installs it into the project's venv and writes its
//! path into `assets/onnxruntime.path`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ort::environment::Environment;

use super::error::EngineError;

/// The environment variable that overrides `assets/onnxruntime.path`.
pub const LIBRARY_VARIABLE: &str = "VPL_ONNXRUNTIME";

/// The file that names the library, relative to the project root.
const PATH_FILE: &str = "assets/onnxruntime.path";

/// Finds ONNX Runtime's shared library: `$VPL_ONNXRUNTIME` when set; otherwise, walking up
/// from each of `start_dirs` in turn, the first `assets/onnxruntime.path` whose content
/// names an existing file (a relative name is taken from the folder holding `assets`).
pub fn find_library(start_dirs: &[&Path]) -> Option<PathBuf> {
    find_library_with(start_dirs, std::env::var_os(LIBRARY_VARIABLE))
}

/// Finds ONNX Runtime's shared library as `vplc` does for `file` (a program or a model):
/// [`find_library`] from the folder of `file`, the working directory, then the folder of
/// the running executable.
pub fn find_library_near(file: &Path) -> Option<PathBuf> {
    let dirs = dirs_near(file);
    find_library(&dirs.each_ref().map(PathBuf::as_path))
}

/// Where [`find_library_near`] starts looking, in order.
fn dirs_near(file: &Path) -> [PathBuf; 3] {
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let cwd = std::env::current_dir().unwrap_or_default();
    let exe = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    [dir, cwd, exe]
}

/// [`find_library`] with the variable's value passed in, so tests need not touch the
/// process environment.
fn find_library_with(start_dirs: &[&Path], variable: Option<OsString>) -> Option<PathBuf> {
    find_named_library(start_dirs, variable, PATH_FILE)
}

/// The library named by `variable` when set, else by the first `path_file` (relative to an
/// ancestor of one of `start_dirs`) that names an existing file. Shared by every library
/// vpl loads at run time (ONNX Runtime, NVRTC).
pub(crate) fn find_named_library(
    start_dirs: &[&Path],
    variable: Option<OsString>,
    path_file: &str,
) -> Option<PathBuf> {
    if let Some(value) = variable.filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(value));
    }
    start_dirs
        .iter()
        .flat_map(|dir| dir.ancestors())
        .find_map(|root| {
            let named = std::fs::read_to_string(root.join(path_file)).ok()?;
            let library = root.join(named.trim());
            library.is_file().then_some(library)
        })
}

/// The environment, once ONNX Runtime has been loaded; kept for the life of the process
/// because `ort` allows only one per process.
static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);

/// The process's ONNX Runtime environment, loading the library at `path` on first use.
/// A failed load is not remembered, so a later call with a better path can succeed; after
/// a success, `path` is ignored (a process has one ONNX Runtime).
pub(super) fn environment(path: &Path) -> Result<Environment, EngineError> {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(environment) = slot.as_ref() {
        return Ok(environment.clone());
    }
    if !path.is_file() {
        return Err(EngineError::LibraryNotFound {
            path: path.to_path_buf(),
        });
    }
    let failed = |reason: String| EngineError::LibraryLoad {
        path: path.to_path_buf(),
        reason,
    };
    let builder = ort::init_from(path).map_err(|e| failed(e.to_string()))?;
    let environment = builder
        .with_name("vpl")
        .build()
        .map_err(|e| failed(e.to_string()))?;
    *slot = Some(environment.clone());
    Ok(environment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vpl-engine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("assets")).expect("temp dir");
        dir
    }

    #[test]
    fn the_variable_wins_even_when_its_file_is_missing() {
        let found = find_library_with(&[Path::new("/")], Some("/no/such/lib.so".into()));
        assert_eq!(found, Some(PathBuf::from("/no/such/lib.so")));
    }

    #[test]
    fn walks_up_to_the_first_path_file_naming_a_file() {
        let root = scratch("walk");
        std::fs::write(root.join("libfake.so"), b"").expect("write");
        std::fs::write(root.join(PATH_FILE), "libfake.so\n").expect("write");
        let deep = root.join("a/b");
        std::fs::create_dir_all(&deep).expect("mkdir");
        // A nearer path file naming a missing library is skipped.
        std::fs::create_dir_all(root.join("a/assets")).expect("mkdir");
        std::fs::write(root.join("a").join(PATH_FILE), "/missing.so").expect("write");

        let found = find_library_with(&[Path::new("/nonexistent/dir"), &deep], None);
        assert_eq!(found, Some(root.join("libfake.so")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn near_a_file_means_its_folder_then_the_working_directory_then_vplc_s() {
        let [dir, cwd, exe] = dirs_near(Path::new("/srv/pipelines/count.vpl"));
        assert_eq!(dir, Path::new("/srv/pipelines"));
        assert_eq!(cwd, std::env::current_dir().expect("a working directory"));
        let running = std::env::current_exe().expect("this test's executable");
        assert_eq!(Some(exe.as_path()), running.parent());
    }

    #[test]
    fn nothing_found_is_none() {
        let root = scratch("none");
        assert_eq!(find_library_with(&[&root], Some("".into())), None);
        let _ = std::fs::remove_dir_all(&root);
    }
}
