//! The compiler's `Host` on the real filesystem: files, media probes (GStreamer's
//! discoverer, in vpl-runtime), ONNX signatures and labels files. Facts are cached in
//! memory for the run and on disk across runs, keyed on path, size and modification time,
//! so each distinct file is probed once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use vpl_compiler::Host;
use vpl_compiler::facts::{FactError, MediaFacts, ModelFacts};
use vpl_compiler::host::{FileProblem, OutputShapes, parse_labels};
use vpl_compiler::records::{RecordsFacts, RecordsProblem, Summary};

/// Bump when the cached facts change shape or meaning.
/// 2: media facts say whether an elementary stream is field-coded (cached probes of format 1
/// would say it is not).
const CACHE_FORMAT: &str = "vpl-facts-2";
/// At most this many files are remembered on disk.
const CACHE_LIMIT: usize = 2000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct FactCache {
    format: String,
    media: BTreeMap<String, MediaFacts>,
    models: BTreeMap<String, ModelFacts>,
    /// A model file's SHA-256 by its `path|size|mtime`.
    #[serde(default)]
    digests: BTreeMap<String, String>,
    /// A model's output shapes by `digest|input shape` (one run on zeros).
    #[serde(default)]
    runs: BTreeMap<String, OutputShapes>,
}

#[derive(Debug, Default)]
pub struct FsHost {
    /// Where the cache lives; `None` keeps facts in memory only.
    cache_file: Option<PathBuf>,
    cache: Mutex<FactCache>,
    changed: Mutex<bool>,
}

/// The cache file: `$VPL_CACHE_DIR`, else `$XDG_CACHE_HOME/vpl`, else `~/.cache/vpl`;
/// `VPL_CACHE_DIR=off` disables it.
fn default_cache_file() -> Option<PathBuf> {
    let dir = match std::env::var_os("VPL_CACHE_DIR") {
        Some(d) if d == "off" => return None,
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("XDG_CACHE_HOME") {
            Some(d) => PathBuf::from(d).join("vpl"),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/vpl"),
        },
    };
    Some(dir.join("facts.json"))
}

/// `path|size|mtime`: a file's identity for the cache.
fn cache_key(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let canonical = std::fs::canonicalize(path).ok()?;
    Some(format!("{}|{}|{mtime}", canonical.display(), meta.len()))
}

const NOT_REGULAR: &str = "it is not a regular file (a FIFO, socket or device): vpl reads sources, models and labels only from regular files";

/// Refuses what is not a regular file before anything opens it (see `check_file`).
fn regular_file(path: &Path) -> Result<(), FactError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() && !m.is_dir() => Err(FactError::Unreadable(NOT_REGULAR.into())),
        _ => Ok(()),
    }
}

fn io_problem(e: &std::io::Error) -> FactError {
    if e.kind() == std::io::ErrorKind::NotFound {
        FactError::NotFound
    } else {
        FactError::Unreadable(e.to_string())
    }
}

impl FsHost {
    /// A host with the on-disk cache in its usual place.
    pub fn new() -> FsHost {
        FsHost::with_cache_file(default_cache_file())
    }

    pub fn with_cache_file(cache_file: Option<PathBuf>) -> FsHost {
        let cache = cache_file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|bytes| serde_json::from_slice::<FactCache>(&bytes).ok())
            .filter(|c| c.format == CACHE_FORMAT)
            .unwrap_or_default();
        FsHost {
            cache_file,
            cache: Mutex::new(cache),
            changed: Mutex::new(false),
        }
    }

    /// Writes the cache back if anything new was learnt. Failing to write is not an error:
    /// the next run probes again.
    pub fn save(&self) {
        let (Some(file), Ok(changed)) = (&self.cache_file, self.changed.lock()) else {
            return;
        };
        if !*changed {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        cache.format = CACHE_FORMAT.to_string();
        while cache.media.len() + cache.models.len() > CACHE_LIMIT {
            if cache.media.pop_first().is_none() {
                cache.models.pop_first();
            }
        }
        while cache.digests.len() > CACHE_LIMIT {
            cache.digests.pop_first();
        }
        while cache.runs.len() > CACHE_LIMIT {
            cache.runs.pop_first();
        }
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        if let Ok(bytes) = serde_json::to_vec(&*cache)
            && std::fs::write(&tmp, bytes).is_ok()
        {
            let _ = std::fs::rename(&tmp, file);
        }
    }

    fn remember(&self) {
        if let Ok(mut changed) = self.changed.lock() {
            *changed = true;
        }
    }
}

impl Host for FsHost {
    fn check_file(&self, path: &Path) -> Result<(), FileProblem> {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(FileProblem::NotFound),
            Err(e) => Err(FileProblem::Unreadable(e.to_string())),
            Ok(m) if m.is_dir() => Err(FileProblem::Unreadable("it is a directory".into())),
            // Opening a FIFO waits for a writer, and a device never ends: vpl would hang.
            Ok(m) if !m.is_file() => Err(FileProblem::Unreadable(NOT_REGULAR.into())),
            Ok(_) => std::fs::File::open(path)
                .map(drop)
                .map_err(|e| FileProblem::Unreadable(e.to_string())),
        }
    }

    fn probe_media(&self, path: &Path) -> Result<MediaFacts, FactError> {
        regular_file(path)?;
        let key = cache_key(path);
        if let (Some(k), Ok(cache)) = (&key, self.cache.lock())
            && let Some(facts) = cache.media.get(k)
        {
            return Ok(facts.clone());
        }
        let facts = vpl_runtime::probe::probe_media(path)?;
        if let (Some(k), Ok(mut cache)) = (key, self.cache.lock()) {
            cache.media.insert(k, facts.clone());
            self.remember();
        }
        Ok(facts)
    }

    fn model_signature(&self, path: &Path) -> Result<ModelFacts, FactError> {
        regular_file(path)?;
        let key = cache_key(path);
        if let (Some(k), Ok(cache)) = (&key, self.cache.lock())
            && let Some(facts) = cache.models.get(k)
        {
            return Ok(facts.clone());
        }
        let bytes = std::fs::read(path).map_err(|e| io_problem(&e))?;
        let facts = vpl_compiler::onnx::signature(&bytes)?;
        if let (Some(k), Ok(mut cache)) = (key, self.cache.lock()) {
            cache.models.insert(k, facts.clone());
            self.remember();
        }
        Ok(facts)
    }

    fn output_shapes(
        &self,
        path: &Path,
        inputs: &[Vec<i64>],
    ) -> Result<Vec<OutputShapes>, FactError> {
        regular_file(path)?;
        let key = cache_key(path);
        let known = key.as_ref().and_then(|k| {
            let cache = self.cache.lock().ok()?;
            cache.digests.get(k).cloned()
        });
        let digest = match known {
            Some(digest) => digest,
            None => {
                let bytes = std::fs::read(path).map_err(|e| io_problem(&e))?;
                let digest = vpl_runtime::engine::shapes::model_digest(&bytes);
                if let (Some(k), Ok(mut cache)) = (key, self.cache.lock()) {
                    cache.digests.insert(k, digest.clone());
                    self.remember();
                }
                digest
            }
        };
        let run_key = |shape: &Vec<i64>| format!("{digest}|{shape:?}");
        if let Ok(cache) = self.cache.lock()
            && let Some(all) = inputs
                .iter()
                .map(|s| cache.runs.get(&run_key(s)).cloned())
                .collect::<Option<Vec<_>>>()
        {
            return Ok(all);
        }
        let unavailable = |reason: String| FactError::Unavailable(reason);
        let shapes: Vec<Vec<usize>> = inputs
            .iter()
            .map(|s| s.iter().map(|d| usize::try_from(*d).ok()).collect())
            .collect::<Option<_>>()
            .ok_or_else(|| unavailable("a negative dimension".into()))?;
        let library = vpl_runtime::engine::find_library_near(path)
            .ok_or_else(|| unavailable("ONNX Runtime's library was not found".into()))?;
        let runs = vpl_runtime::engine::shapes::output_shapes(path, &library, &shapes)
            .map_err(|e| unavailable(e.to_string()))?;
        let runs: Vec<OutputShapes> = runs
            .into_iter()
            .map(|outputs| {
                outputs
                    .into_iter()
                    .map(|(name, shape)| {
                        let shape = shape.into_iter().map(|d| d as i64).collect();
                        (name, shape)
                    })
                    .collect()
            })
            .collect();
        if let Ok(mut cache) = self.cache.lock() {
            for (shape, outputs) in inputs.iter().zip(&runs) {
                cache.runs.insert(run_key(shape), outputs.clone());
            }
            self.remember();
        }
        Ok(runs)
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        // An output may not exist yet: its directory is canonical, its name kept.
        if let Ok(p) = std::fs::canonicalize(path) {
            return p;
        }
        match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => std::fs::canonicalize(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
            .map(|d| d.join(name))
            .unwrap_or_else(|_| vpl_compiler::host::normalize(path)),
            _ => vpl_compiler::host::normalize(path),
        }
    }

    fn identity(&self, path: &Path) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.dev(), meta.ino()))
    }

    fn read_labels(&self, path: &Path) -> Result<Vec<String>, FactError> {
        regular_file(path)?;
        let bytes = std::fs::read(path).map_err(|e| io_problem(&e))?;
        let text = vpl_compiler::host::text_file(&bytes, "one label a line")?;
        Ok(parse_labels(&text))
    }

    fn read_alphabet(&self, path: &Path) -> Result<Vec<String>, FactError> {
        regular_file(path)?;
        let bytes = std::fs::read(path).map_err(|e| io_problem(&e))?;
        let text = vpl_compiler::host::text_file(&bytes, "one character a line")?;
        Ok(vpl_compiler::host::parse_alphabet(&text))
    }

    fn read_text(&self, path: &Path) -> Result<String, FactError> {
        regular_file(path)?;
        let bytes = std::fs::read(path).map_err(|e| io_problem(&e))?;
        vpl_compiler::host::text_file(&bytes, "YAML")
    }

    /// A line at a time, so a long run's records are never held whole.
    fn read_records(&self, path: &Path) -> Result<Result<RecordsFacts, RecordsProblem>, FactError> {
        use std::io::BufRead;
        regular_file(path)?;
        if path.is_dir() {
            return Err(FactError::Unreadable("it is a directory".into()));
        }
        let file = std::fs::File::open(path).map_err(|e| io_problem(&e))?;
        let mut reader = std::io::BufReader::new(file);
        let mut summary = Summary::new();
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| io_problem(&e))?;
            if read == 0 {
                return Ok(summary.finish());
            }
            number += 1;
            let text = match std::str::from_utf8(&line) {
                Ok(text) => text,
                Err(_) => {
                    return Ok(Err(RecordsProblem::Line {
                        line: number,
                        reason: "it is not UTF-8 text".into(),
                    }));
                }
            };
            if let Err(problem) = summary.line(text) {
                return Ok(Err(problem));
            }
        }
    }
}
