//! CUDA C source → PTX for one GPU architecture, with NVRTC loaded at run time, the PTX
//! cached on disk by content hash.
//!
//! NVRTC is not linked at build time and needs no GPU: `scripts/setup.sh` installs it from
//! PyPI (`nvidia-cuda-nvrtc`) into the project's venv and writes the library's path into
//! `assets/nvrtc.path`; `$VPL_NVRTC` overrides it. cudarc opens NVRTC by its usual names
//! only, and NVRTC opens its builtins (`libnvrtc-builtins.so.13.0`) by name only, so
//! [`load`] opens both from the named file's folder first: their sonames are then already
//! in the process when cudarc and NVRTC ask for them.

#![allow(unsafe_code)] // dlopen and nvrtcVersion: foreign calls with no safe wrapper

use std::ffi::{OsString, c_int};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use cudarc::nvrtc::{CompileError, CompileOptions};

use super::{KernelSource, NVRTC_OPTIONS};

/// The environment variable that overrides `assets/nvrtc.path`.
pub const LIBRARY_VARIABLE: &str = "VPL_NVRTC";

/// The file that names the library, relative to the project root.
const PATH_FILE: &str = "assets/nvrtc.path";

/// Why a kernel could not be compiled or cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NvrtcError {
    /// No `$VPL_NVRTC` and no `assets/nvrtc.path` naming a file.
    NotFound,
    /// The library is there but does not load or is not NVRTC.
    Load { path: PathBuf, reason: String },
    /// NVRTC refused the source; `log` is its compiler output.
    Compile {
        kernel: &'static str,
        arch: &'static str,
        log: String,
    },
    /// The PTX cache could not be written (reading failures just recompile).
    Cache { path: PathBuf, reason: String },
}

impl fmt::Display for NvrtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NvrtcError::NotFound => write!(
                f,
                "NVRTC not found: set {LIBRARY_VARIABLE} to libnvrtc.so, or run scripts/setup.sh \
                 (it installs nvidia-cuda-nvrtc into .venv and writes {PATH_FILE})"
            ),
            NvrtcError::Load { path, reason } => {
                write!(f, "cannot load NVRTC from {}: {reason}", path.display())
            }
            NvrtcError::Compile { kernel, arch, log } => {
                write!(
                    f,
                    "NVRTC cannot compile the {kernel} kernel for {arch}:\n{log}"
                )
            }
            NvrtcError::Cache { path, reason } => {
                write!(f, "cannot write the PTX cache {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for NvrtcError {}

/// Finds NVRTC's shared library: `$VPL_NVRTC` when set; otherwise, walking up from each of
/// `start_dirs` in turn, the first `assets/nvrtc.path` whose content names an existing file
/// (a relative name is taken from the folder holding `assets`).
pub fn find_library(start_dirs: &[&Path]) -> Option<PathBuf> {
    find_library_with(start_dirs, std::env::var_os(LIBRARY_VARIABLE))
}

fn find_library_with(start_dirs: &[&Path], variable: Option<OsString>) -> Option<PathBuf> {
    crate::engine::library::find_named_library(start_dirs, variable, PATH_FILE)
}

/// The libraries once loaded (NVRTC and its builtins, kept for the life of the process)
/// and NVRTC's version.
static LOADED: OnceLock<(Vec<libloading::Library>, (i32, i32))> = OnceLock::new();
/// Serialises first loads, so two threads do not both open the library.
static LOADING: Mutex<()> = Mutex::new(());

/// Loads NVRTC from `path` (once per process: later calls return the first version) and
/// returns its version (major, minor).
pub fn load(path: &Path) -> Result<(i32, i32), NvrtcError> {
    let _guard = LOADING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, version)) = LOADED.get() {
        return Ok(*version);
    }
    let failed = |reason: String| NvrtcError::Load {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(failed("no such file".into()));
    }
    let mut libraries = Vec::new();
    if let Some(builtins) = builtins_beside(path) {
        // SAFETY: as below.
        let builtins = unsafe { libloading::Library::new(&builtins) }
            .map_err(|e| failed(format!("{}: {e}", builtins.display())))?;
        libraries.push(builtins);
    }
    // SAFETY: loading NVRTC runs its initialisers only, which have no preconditions.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| failed(e.to_string()))?;
    type Version = unsafe extern "C" fn(*mut c_int, *mut c_int) -> c_int;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: nvrtcVersion has this signature in every NVRTC and writes two ints.
    let status = unsafe {
        let version = library
            .get::<Version>(b"nvrtcVersion\0")
            .map_err(|e| failed(format!("not NVRTC (no nvrtcVersion): {e}")))?;
        version(&mut major, &mut minor)
    };
    if status != 0 {
        return Err(failed(format!("nvrtcVersion failed with status {status}")));
    }
    // cudarc opens NVRTC by name; the same soname is now resolved to this library.
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(failed(
            "cudarc does not find it by its soname (libnvrtc.so.13 expected)".into(),
        ));
    }
    libraries.push(library);
    let _ = LOADED.set((libraries, (major, minor)));
    Ok((major, minor))
}

/// `libnvrtc-builtins.so.*` in NVRTC's folder (not the `.alt` variant), if there is one.
fn builtins_beside(nvrtc: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(nvrtc.parent()?)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libnvrtc-builtins.so"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Compiles `kernel` to PTX for `arch` (`sm_80`…) with [`NVRTC_OPTIONS`]. [`load`] first.
pub fn compile(kernel: &KernelSource, arch: &'static str) -> Result<String, NvrtcError> {
    if LOADED.get().is_none() {
        return Err(NvrtcError::NotFound);
    }
    let options = CompileOptions {
        arch: Some(arch),
        options: NVRTC_OPTIONS.iter().map(|o| o.to_string()).collect(),
        name: Some(format!("{}.cu", kernel.name)),
        ..CompileOptions::default()
    };
    let failed = |log: String| NvrtcError::Compile {
        kernel: kernel.name,
        arch,
        log,
    };
    let ptx =
        cudarc::nvrtc::compile_ptx_with_opts(kernel.source, options).map_err(|e| match e {
            CompileError::CompileError { log, .. } => failed(log.to_string_lossy().into_owned()),
            other => failed(other.to_string()),
        })?;
    Ok(ptx.to_src())
}

/// PTX on disk, one file per kernel, architecture and content hash (of the source, the
/// options and NVRTC's version), so a kernel is compiled once per change, not per start.
#[derive(Debug, Clone)]
pub struct KernelCache {
    dir: PathBuf,
}

impl KernelCache {
    /// A cache in `dir` (created when first written), e.g. `~/.cache/vpl/kernels`.
    pub fn new(dir: impl Into<PathBuf>) -> KernelCache {
        KernelCache { dir: dir.into() }
    }

    /// The file that holds (or will hold) `kernel`'s PTX for `arch` with NVRTC `version`.
    pub fn path(&self, kernel: &KernelSource, arch: &str, version: (i32, i32)) -> PathBuf {
        let mut hash = Fnv1a::new();
        hash.write(kernel.source.as_bytes());
        NVRTC_OPTIONS.iter().for_each(|o| hash.write(o.as_bytes()));
        hash.write(format!("{arch} nvrtc {}.{}", version.0, version.1).as_bytes());
        self.dir
            .join(format!("{}-{arch}-{:016x}.ptx", kernel.name, hash.finish()))
    }

    /// `kernel`'s PTX for `arch`: from the cache, else compiled and stored. [`load`] first.
    pub fn ptx(&self, kernel: &KernelSource, arch: &'static str) -> Result<String, NvrtcError> {
        let version = LOADED.get().map(|(_, v)| *v).ok_or(NvrtcError::NotFound)?;
        let path = self.path(kernel, arch, version);
        if let Ok(ptx) = std::fs::read_to_string(&path)
            && !ptx.is_empty()
        {
            return Ok(ptx);
        }
        let ptx = compile(kernel, arch)?;
        let failed = |e: std::io::Error| NvrtcError::Cache {
            path: path.clone(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(failed)?;
        let part = path.with_extension(format!("ptx.part.{}", std::process::id()));
        std::fs::write(&part, &ptx).map_err(failed)?;
        std::fs::rename(&part, &path).map_err(failed)?;
        Ok(ptx)
    }
}

/// 64-bit FNV-1a: stable across Rust versions and machines, unlike `DefaultHasher`.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_the_published_function() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; ours adds a separator byte after it.
        let mut h = Fnv1a(0xcbf2_9ce4_8422_2325);
        for &b in b"a" {
            h.0 = (h.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_cache_key_changes_with_source_arch_and_version() {
        let cache = KernelCache::new("/cache");
        let a = KernelSource {
            name: "k",
            source: "a",
            functions: &[],
        };
        let b = KernelSource { source: "b", ..a };
        let base = cache.path(&a, "sm_80", (13, 0));
        assert_ne!(base, cache.path(&b, "sm_80", (13, 0)));
        assert_ne!(base, cache.path(&a, "sm_90", (13, 0)));
        assert_ne!(base, cache.path(&a, "sm_80", (13, 1)));
        assert_eq!(base, cache.path(&a, "sm_80", (13, 0)));
        assert!(base.starts_with("/cache"));
    }

    #[test]
    fn the_variable_wins_and_an_empty_one_is_ignored() {
        let found = find_library_with(&[Path::new("/")], Some("/x/libnvrtc.so.13".into()));
        assert_eq!(found, Some(PathBuf::from("/x/libnvrtc.so.13")));
        assert_eq!(
            find_library_with(&[Path::new("/nonexistent")], Some("".into())),
            None
        );
    }
}
