//! A model + the GPU + TensorRT's version → the directory of TensorRT's engine cache that
//! holds the engines built for them, so an engine is built once, not at every start.
//!
//! TensorRT engines are specific to the model's bytes, the GPU (its compute capability,
//! and in practice its name: the same capability comes in parts with other tuning) and
//! the TensorRT version that built them; ONNX Runtime's own cache check covers less (it
//! keys on the model's path and the ONNX Runtime build). So each key gets its own
//! directory, and ONNX Runtime's TensorRT execution provider is pointed at it:
//!
//! ```text
//! $VPL_ENGINE_CACHE (default ~/.cache/vpl/engines)/
//!   person_yolov8s-3f2a…(16 hex digits of the model's SHA-256)/
//!     nvidia-h200-sm90-trt10.7.0-fp16/
//!       key.json               what the directory was made for (written by vpl)
//!       *.engine, *.profile    TensorRT's engines (written by ONNX Runtime)
//!       *.timing               TensorRT's timing cache
//! ```
//!
//! A changed model (other bytes), another GPU, another TensorRT or an added calibration
//! table is another directory: stale engines are never loaded, and never overwritten
//! either, so switching back is free. Nothing here needs a GPU: the GPU's name and
//! capability come from `nvidia-smi`, TensorRT's version from its library's file name.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::EngineError;
use super::session::{Backend, Engine, EngineConfig, InputTensor, InputType, TensorData};

/// Why a build without the `gpu` feature has no GPU backend.
pub(super) const NO_GPU_BUILD: &str =
    "this build of vpl has no GPU support (build it with `--features vpl-runtime/gpu`)";

/// The environment variable naming the engine cache's root directory.
pub const CACHE_VARIABLE: &str = "VPL_ENGINE_CACHE";

/// The engine cache's root: `$VPL_ENGINE_CACHE`, else `$XDG_CACHE_HOME/vpl/engines`, else
/// `~/.cache/vpl/engines`; `None` when none of them is set.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    cache_dir_from(var(CACHE_VARIABLE), var("XDG_CACHE_HOME"), var("HOME"))
}

fn cache_dir_from(
    variable: Option<std::ffi::OsString>,
    xdg: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    if let Some(dir) = variable {
        return Some(PathBuf::from(dir));
    }
    let cache = xdg
        .map(PathBuf::from)
        .or_else(|| home.map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("vpl").join("engines"))
}

/// The engine cache's root for `config`: its own, else [`default_cache_dir`].
pub fn cache_root(config: &EngineConfig) -> Result<PathBuf, EngineError> {
    config
        .engine_cache
        .clone()
        .or_else(default_cache_dir)
        .ok_or_else(|| EngineError::BackendUnavailable {
            backend: config.backend,
            reason: format!(
                "there is no engine cache directory: set {CACHE_VARIABLE} (or HOME) to one"
            ),
        })
}

/// The key of `config`'s model on this machine's GPU 0 with the TensorRT beside
/// `config.library`: reads the model (and its calibration table) and asks `nvidia-smi`.
pub fn engine_key(config: &EngineConfig) -> Result<(EngineKey, Vec<u8>), EngineError> {
    let unavailable = |reason: String| EngineError::BackendUnavailable {
        backend: config.backend,
        reason,
    };
    let model_error = |e: std::io::Error| EngineError::ModelLoad {
        path: config.model.clone(),
        reason: e.to_string(),
    };
    let bytes = std::fs::read(&config.model).map_err(model_error)?;
    let table = match calibration_table(&config.model) {
        Some(path) => Some(std::fs::read(&path).map_err(|e| {
            unavailable(format!(
                "cannot read the calibration table {}: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let gpu = Gpu::probe(0).map_err(unavailable)?;
    let tensorrt =
        tensorrt_version(&tensorrt_dirs(&config.library)).unwrap_or_else(|| "unknown".to_string());
    let stem = config
        .model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let key = EngineKey::new(
        &stem,
        &bytes,
        table.as_deref(),
        gpu,
        &tensorrt,
        config.max_batch,
    );
    Ok((key, bytes))
}

/// What [`build_engine`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltEngine {
    /// The key's directory, holding the engines.
    pub dir: PathBuf,
    /// The directory held an engine before: TensorRT loaded it instead of building one.
    pub reused: bool,
}

/// Builds `config`'s TensorRT engine ahead of time (`vplc build --engine`): loads the
/// model on the `tensorrt` backend (whatever `config.backend` says) and runs it once on
/// zeros at its largest batch, so every engine TensorRT makes for it is in the cache.
pub fn build_engine(config: &EngineConfig) -> Result<BuiltEngine, EngineError> {
    let config = EngineConfig {
        backend: Backend::TensorRt,
        ..config.clone()
    };
    if !cfg!(feature = "gpu") {
        return Err(EngineError::BackendUnavailable {
            backend: Backend::TensorRt,
            reason: NO_GPU_BUILD.into(),
        });
    }
    let (key, _) = engine_key(&config)?;
    let dir = key.dir(&cache_root(&config)?);
    let reused = has_engine(&dir);
    let engine = Engine::load(&config)?;
    let batch = engine.fixed_batch().unwrap_or(config.max_batch.max(1));
    let shape: Vec<usize> = engine
        .input()
        .shape
        .iter()
        .enumerate()
        .map(|(i, d)| {
            if i == 0 {
                batch
            } else {
                usize::try_from(*d).unwrap_or(1).max(1)
            }
        })
        .collect();
    let values = shape.iter().product();
    let data = match engine.input().element {
        InputType::U8 => TensorData::U8(vec![0; values]),
        InputType::F32 | InputType::F16 => TensorData::F32(vec![0.0; values]),
    };
    engine.run(InputTensor { shape, data })?;
    Ok(BuiltEngine { dir, reused })
}

/// The directory holds an engine ONNX Runtime wrote (`*.engine`).
fn has_engine(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "engine"))
    })
}

/// A GPU as TensorRT's engines depend on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gpu {
    /// As the driver names it: `NVIDIA H200`.
    pub name: String,
    /// Compute capability (major, minor): (9, 0) for Hopper.
    pub capability: (u32, u32),
}

impl Gpu {
    /// GPU `index` as `nvidia-smi` reports it; the reason when there is none (no driver,
    /// no such GPU, no `nvidia-smi`).
    pub fn probe(index: u32) -> Result<Gpu, String> {
        let output = Command::new("nvidia-smi")
            .args([
                "--query-gpu=name,compute_cap",
                "--format=csv,noheader",
                &format!("--id={index}"),
            ])
            .output()
            .map_err(|e| format!("cannot run nvidia-smi ({e}): is the NVIDIA driver installed?"))?;
        if !output.status.success() {
            let why = String::from_utf8_lossy(&output.stderr);
            let why = why.trim();
            return Err(format!(
                "nvidia-smi found no GPU {index}{}",
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            ));
        }
        Gpu::parse(&String::from_utf8_lossy(&output.stdout))
    }

    /// One line of `nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader`:
    /// `NVIDIA H200, 9.0`.
    pub fn parse(line: &str) -> Result<Gpu, String> {
        let line = line.lines().next().unwrap_or("").trim();
        let bad = || format!("nvidia-smi said {line:?}, not `name, major.minor`");
        let (name, capability) = line.rsplit_once(',').ok_or_else(bad)?;
        let (major, minor) = capability.trim().split_once('.').ok_or_else(bad)?;
        let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
        let name = name.trim();
        if name.is_empty() {
            return Err(bad());
        }
        Ok(Gpu {
            name: name.to_string(),
            capability: (number(major)?, number(minor)?),
        })
    }
}

/// The arithmetic TensorRT may use in an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Precision {
    /// fp16 where TensorRT finds it faster, fp32 elsewhere: vpl's default.
    Fp16,
    /// int8 too, for a model that carries a calibration table.
    Int8,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp16 => "fp16",
            Precision::Int8 => "int8",
        }
    }
}

/// Everything a TensorRT engine depends on, and so the name of its cache directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineKey {
    /// The model file's name without its extension, to make the directory readable.
    pub model: String,
    /// SHA-256 of the model's bytes (and of its calibration table, with int8), in hex.
    pub hash: String,
    pub gpu: Gpu,
    /// TensorRT's version (`10.7.0`), or `unknown` where it cannot be told.
    pub tensorrt: String,
    pub precision: Precision,
    /// The largest batch the engine is built for (a batch-dynamic model's profile).
    pub max_batch: usize,
}

impl EngineKey {
    /// The key of `model` (named `stem`, holding `bytes`) built on `gpu` with TensorRT
    /// `tensorrt`; `calibration` is the int8 calibration table's bytes, when there is one.
    pub fn new(
        stem: &str,
        bytes: &[u8],
        calibration: Option<&[u8]>,
        gpu: Gpu,
        tensorrt: &str,
        max_batch: usize,
    ) -> EngineKey {
        let mut hash = Sha256::new();
        hash.update(bytes);
        if let Some(table) = calibration {
            hash.update(b"\0calibration\0");
            hash.update(table);
        }
        let mut hex = String::with_capacity(64);
        for byte in hash.finalize() {
            let _ = write!(hex, "{byte:02x}");
        }
        EngineKey {
            model: stem.to_string(),
            hash: hex,
            gpu,
            tensorrt: tensorrt.to_string(),
            precision: if calibration.is_some() {
                Precision::Int8
            } else {
                Precision::Fp16
            },
            max_batch: max_batch.max(1),
        }
    }

    /// The key's directory under the cache's `root`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        let (major, minor) = self.gpu.capability;
        root.join(format!("{}-{}", slug(&self.model), &self.hash[..16]))
            .join(format!(
                "{}-sm{major}{minor}-trt{}-{}-b{}",
                slug(&self.gpu.name),
                slug(&self.tensorrt),
                self.precision.name(),
                self.max_batch
            ))
    }

    /// Makes the key's directory and writes `key.json` into it, saying what it was made
    /// for; gives the directory.
    pub fn prepare(&self, root: &Path) -> Result<PathBuf, String> {
        let dir = self.dir(root);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot make the engine cache {}: {e}", dir.display()))?;
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(dir.join("key.json"), text + "\n")
            .map_err(|e| format!("cannot write into the engine cache {}: {e}", dir.display()))?;
        Ok(dir)
    }
}

/// Lower-case letters, digits, `.` and `_`; anything else becomes `-`.
fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    // No `..` or hidden names: a slug is always one plain path component.
    let out = out.trim_matches(|c| c == '-' || c == '.').to_string();
    if out.is_empty() { "x".into() } else { out }
}

/// The int8 calibration table a model carries: `MODEL.calib` beside `MODEL.onnx` (the
/// table TensorRT's calibrator writes, or ONNX Runtime's `calibration.flatbuffers`
/// renamed).
pub fn calibration_table(model: &Path) -> Option<PathBuf> {
    let table = model.with_extension("calib");
    table.is_file().then_some(table)
}

/// TensorRT's version, read from the name of its library (`libnvinfer.so.10.7.0`) in the
/// first of `dirs` that holds one; `None` when none does.
pub fn tensorrt_version(dirs: &[PathBuf]) -> Option<String> {
    let mut best: Option<Vec<u32>> = None;
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(version) = name.to_str().and_then(|n| n.strip_prefix("libnvinfer.so.")) else {
                continue;
            };
            let parts: Option<Vec<u32>> = version.split('.').map(|p| p.parse().ok()).collect();
            if let Some(parts) = parts
                && best.as_ref().is_none_or(|b| parts.len() > b.len())
            {
                best = Some(parts);
            }
        }
        if best.is_some() {
            break;
        }
    }
    best.map(|parts| {
        parts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// Where TensorRT's library may be, for a process that loads ONNX Runtime from
/// `onnxruntime`: beside it, PyPI's `tensorrt_libs` beside its Python package, each
/// directory of `LD_LIBRARY_PATH`, then the system's.
pub fn tensorrt_dirs(onnxruntime: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = onnxruntime.parent() {
        dirs.push(dir.to_path_buf());
        // site-packages/onnxruntime/capi/libonnxruntime.so → site-packages/tensorrt_libs
        if let Some(site) = dir.parent().and_then(Path::parent) {
            dirs.push(site.join("tensorrt_libs"));
        }
    }
    if let Some(paths) = std::env::var_os("LD_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&paths));
    }
    dirs.extend(
        [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/local/tensorrt/lib",
        ]
        .map(PathBuf::from),
    );
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h200() -> Gpu {
        Gpu {
            name: "NVIDIA H200".into(),
            capability: (9, 0),
        }
    }

    fn key(bytes: &[u8]) -> EngineKey {
        EngineKey::new("person_yolov8s", bytes, None, h200(), "10.7.0", 16)
    }

    #[test]
    fn the_same_model_gets_the_same_key_and_directory() {
        let root = Path::new("/cache");
        assert_eq!(key(b"model bytes"), key(b"model bytes"));
        assert_eq!(key(b"model bytes").dir(root), key(b"model bytes").dir(root));
    }

    #[test]
    fn changed_model_bytes_change_the_key() {
        let root = Path::new("/cache");
        let (a, b) = (key(b"model bytes"), key(b"model bytez"));
        assert_ne!(a.hash, b.hash);
        assert_ne!(a.dir(root), b.dir(root));
        // The hash is the file's SHA-256: known value for known bytes.
        assert_eq!(
            EngineKey::new("m", b"abc", None, h200(), "10", 1).hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_gpu_and_tensorrt_version_are_in_the_key() {
        let root = Path::new("/cache");
        let base = key(b"m");
        let mut other_gpu = base.clone();
        other_gpu.gpu = Gpu {
            name: "NVIDIA L4".into(),
            capability: (8, 9),
        };
        let mut same_cc_other_name = base.clone();
        same_cc_other_name.gpu.name = "NVIDIA H100 80GB HBM3".into();
        let mut other_trt = base.clone();
        other_trt.tensorrt = "10.8.0".into();
        let dirs = [&base, &other_gpu, &same_cc_other_name, &other_trt].map(|k| k.dir(root));
        for (i, a) in dirs.iter().enumerate() {
            for b in &dirs[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            base.dir(root),
            root.join(format!("person_yolov8s-{}", &base.hash[..16]))
                .join("nvidia-h200-sm90-trt10.7.0-fp16-b16")
        );
    }

    #[test]
    fn a_calibration_table_means_int8_and_is_hashed_too() {
        let fp16 = key(b"m");
        let int8 = EngineKey::new("m", b"m", Some(b"table"), h200(), "10.7.0", 16);
        let other_table = EngineKey::new("m", b"m", Some(b"table2"), h200(), "10.7.0", 16);
        assert_eq!(fp16.precision, Precision::Fp16);
        assert_eq!(int8.precision, Precision::Int8);
        assert_ne!(int8.hash, fp16.hash);
        assert_ne!(int8.hash, other_table.hash);
    }

    #[test]
    fn prepare_makes_the_directory_with_its_key() {
        let root = std::env::temp_dir().join(format!("vpl-engine-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = key(b"m").prepare(&root).expect("prepare");
        let text = std::fs::read_to_string(dir.join("key.json")).expect("key.json");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json["gpu"]["name"], "NVIDIA H200");
        assert_eq!(json["tensorrt"], "10.7.0");
        assert_eq!(json["precision"], "Fp16");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn nvidia_smi_lines_parse() {
        assert_eq!(Gpu::parse("NVIDIA H200, 9.0\n"), Ok(h200()));
        assert_eq!(
            Gpu::parse("NVIDIA GeForce RTX 4090, 8.9").map(|g| g.capability),
            Ok((8, 9))
        );
        assert!(Gpu::parse("No devices were found").is_err());
        assert!(Gpu::parse(", 9.0").is_err());
    }

    #[test]
    fn the_tensorrt_version_is_read_from_the_library_name() {
        let dir = std::env::temp_dir().join(format!("vpl-trt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).expect("mkdir");
        assert_eq!(tensorrt_version(std::slice::from_ref(&empty)), None);
        for name in [
            "libnvinfer.so.10",
            "libnvinfer.so.10.7.0",
            "libnvinfer_plugin.so.10.7.0",
        ] {
            std::fs::write(dir.join(name), b"").expect("write");
        }
        assert_eq!(
            tensorrt_version(&[empty, dir.clone()]),
            Some("10.7.0".to_string())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_cache_root_is_the_variable_else_the_user_cache() {
        assert_eq!(
            cache_dir_from(
                Some("/x".into()),
                Some("/xdg".into()),
                Some("/home/u".into())
            ),
            Some(PathBuf::from("/x"))
        );
        assert_eq!(
            cache_dir_from(None, Some("/xdg".into()), Some("/home/u".into())),
            Some(PathBuf::from("/xdg/vpl/engines"))
        );
        assert_eq!(
            cache_dir_from(None, None, Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.cache/vpl/engines"))
        );
        assert_eq!(cache_dir_from(None, None, None), None);
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("NVIDIA H100 80GB HBM3"), "nvidia-h100-80gb-hbm3");
        assert_eq!(slug("../x/"), "x");
        assert_eq!(slug(".."), "x");
        assert_eq!(slug("10.7.0"), "10.7.0");
        assert_eq!(slug("///"), "x");
    }
}
