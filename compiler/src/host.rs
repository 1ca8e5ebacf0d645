//! The compiler's window on the outside world. The compiler does no IO itself: the
//! command line implements `Host` with the filesystem (and, with the type checker, media
//! probes and ONNX readers); tests and the language server use `MemoryHost` or wrappers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::facts::{FactError, MediaFacts, ModelFacts};
use crate::records::{RecordsFacts, RecordsProblem};

/// Each output's name and shape after one run of a model (`Host::output_shapes`).
pub type OutputShapes = Vec<(String, Vec<i64>)>;

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

    /// What the media file at `path` holds (container, codec, size, rate).
    fn probe_media(&self, path: &Path) -> Result<MediaFacts, FactError>;

    /// The tensor signature of the ONNX model at `path`.
    fn model_signature(&self, path: &Path) -> Result<ModelFacts, FactError>;

    /// The labels of a labels file: one a line, blank lines skipped.
    fn read_labels(&self, path: &Path) -> Result<Vec<String>, FactError>;

    /// The characters of a CTC alphabet file (`ctc(alphabet:)`): one a line, untrimmed
    /// (a character may be a space), empty lines skipped ([`parse_alphabet`]). A host
    /// that cannot read files says so, and the alphabet is not checked.
    fn read_alphabet(&self, path: &Path) -> Result<Vec<String>, FactError> {
        let _ = path;
        Err(FactError::Unavailable(
            "this host does not read alphabet files".into(),
        ))
    }

    /// The text of a file a program names to be read as text (a pool's `streams:` YAML).
    /// A host that cannot read files says so, and the file is not checked.
    fn read_text(&self, path: &Path) -> Result<String, FactError> {
        let _ = path;
        Err(FactError::Unavailable(
            "this host does not read text files".into(),
        ))
    }

    /// What a records file (`replay`) holds: its labels, frame size and frames, or the
    /// first line that is not one stream's frame record. Read a line at a time with
    /// [`crate::records::Summary`]. A host that cannot read files says so, and the replay
    /// is not checked.
    fn read_records(&self, path: &Path) -> Result<Result<RecordsFacts, RecordsProblem>, FactError> {
        let _ = path;
        Err(FactError::Unavailable(
            "this host does not read records files".into(),
        ))
    }

    /// The shapes of the model's outputs when it runs on an input of each of `inputs`'
    /// shapes (on zeros): for each input shape, each output's name and shape. The checker
    /// asks where the file leaves output dimensions open and the input's are known. A host
    /// that cannot run models (or has no ONNX Runtime) says `Unavailable`, and the
    /// dimensions stay open.
    fn output_shapes(
        &self,
        path: &Path,
        inputs: &[Vec<i64>],
    ) -> Result<Vec<OutputShapes>, FactError> {
        let _ = (path, inputs);
        Err(FactError::Unavailable(
            "this host does not run models".into(),
        ))
    }

    /// The path by which two names of one file compare equal (symbolic links followed
    /// where the file or its directory exists). In memory: the path as it is.
    fn canonical(&self, path: &Path) -> PathBuf {
        normalize(path)
    }

    /// The file's identity where it exists: its device and inode, so two hard links to one
    /// file compare equal whatever their names (E0210). `None` where the file does not
    /// exist or the host cannot say: then names compare by [`Host::canonical`].
    fn identity(&self, path: &Path) -> Option<(u64, u64)> {
        let _ = path;
        None
    }
}

/// The characters in the text of an alphabet file: one a line, kept as written but for
/// the line end (PaddleOCR's dictionaries hold a space, U+3000, that trimming would drop,
/// shifting every class after it); empty lines skipped.
pub fn parse_alphabet(text: &str) -> Vec<String> {
    without_bom(text)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The text after a leading byte-order mark, which editors on Windows write and which is no
/// part of the first line's label or character.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The text of a labels or alphabet file (`what`: "one label a line"): UTF-8 with no NUL
/// byte (a binary file, or UTF-16, is not read as labels), a leading byte-order mark left
/// out (else it would be part of the first label).
pub fn text_file(bytes: &[u8], what: &str) -> Result<String, FactError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| FactError::Invalid(format!("it is not UTF-8 text ({what})")))?;
    if text.contains('\0') {
        return Err(FactError::Invalid(format!(
            "it holds a NUL byte, so it is not a text file ({what})"
        )));
    }
    Ok(without_bom(text).to_string())
}

/// The labels in the text of a labels file.
pub fn parse_labels(text: &str) -> Vec<String> {
    without_bom(text)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A host over in-memory files, for tests and for editors' unsaved buffers.
#[derive(Debug, Clone, Default)]
pub struct MemoryHost {
    files: BTreeMap<PathBuf, Vec<u8>>,
    media: BTreeMap<PathBuf, MediaFacts>,
    runs: BTreeMap<(PathBuf, Vec<i64>), OutputShapes>,
}

impl MemoryHost {
    pub fn new() -> MemoryHost {
        MemoryHost::default()
    }

    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.insert(normalize(&path.into()), contents.into());
        self
    }

    /// A media file with what probing it finds.
    pub fn with_media(mut self, path: impl Into<PathBuf>, facts: MediaFacts) -> Self {
        let path = normalize(&path.into());
        self.files.insert(path.clone(), Vec::new());
        self.media.insert(path, facts);
        self
    }

    /// What a run of the model at `path` on an input of shape `input` outputs
    /// (`Host::output_shapes`); a shape not given is a run this host cannot make.
    pub fn with_output_shapes(
        mut self,
        path: impl Into<PathBuf>,
        input: &[i64],
        outputs: &[(&str, &[i64])],
    ) -> Self {
        let outputs = outputs
            .iter()
            .map(|(name, shape)| (name.to_string(), shape.to_vec()))
            .collect();
        self.runs
            .insert((normalize(&path.into()), input.to_vec()), outputs);
        self
    }

    fn bytes(&self, path: &Path) -> Result<&[u8], FactError> {
        self.files
            .get(&normalize(path))
            .map(Vec::as_slice)
            .ok_or(FactError::NotFound)
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

    fn probe_media(&self, path: &Path) -> Result<MediaFacts, FactError> {
        self.bytes(path)?;
        self.media
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| FactError::Invalid("not a media file".into()))
    }

    fn model_signature(&self, path: &Path) -> Result<ModelFacts, FactError> {
        crate::onnx::signature(self.bytes(path)?)
    }

    fn output_shapes(
        &self,
        path: &Path,
        inputs: &[Vec<i64>],
    ) -> Result<Vec<OutputShapes>, FactError> {
        self.bytes(path)?;
        inputs
            .iter()
            .map(|input| {
                self.runs
                    .get(&(normalize(path), input.clone()))
                    .cloned()
                    .ok_or_else(|| FactError::Unavailable("no run of this model".into()))
            })
            .collect()
    }

    fn read_labels(&self, path: &Path) -> Result<Vec<String>, FactError> {
        let text = text_file(self.bytes(path)?, "one label a line")?;
        Ok(parse_labels(&text))
    }

    fn read_alphabet(&self, path: &Path) -> Result<Vec<String>, FactError> {
        let text = text_file(self.bytes(path)?, "one character a line")?;
        Ok(parse_alphabet(&text))
    }

    fn read_text(&self, path: &Path) -> Result<String, FactError> {
        text_file(self.bytes(path)?, "YAML")
    }

    fn read_records(&self, path: &Path) -> Result<Result<RecordsFacts, RecordsProblem>, FactError> {
        let text = text_file(self.bytes(path)?, "JSON lines")?;
        Ok(crate::records::summarise(&text))
    }
}

/// Removes `.` and resolves `..` lexically, so `a/../b.onnx` and `b.onnx` are one file.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            // `..` cancels the last named directory only: at the root it stays at
            // the root, and after another `..` (a relative path that climbs) it
            // climbs one more (`../../p` is not `p`).
            std::path::Component::ParentDir => match out.components().next_back() {
                Some(std::path::Component::Normal(_)) => {
                    out.pop();
                }
                Some(std::path::Component::RootDir | std::path::Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Host, MemoryHost, normalize};
    use crate::facts::FactError;
    use std::path::Path;

    #[test]
    fn labels_lose_a_byte_order_mark_and_a_nul_byte_is_not_text() {
        let host = MemoryHost::new()
            .with_file("/bom.labels", "\u{feff}person\ncar\n")
            .with_file("/nul.labels", "person\n\0\0car\n")
            .with_file("/bom.txt", "\u{feff}a\nb\n");
        assert_eq!(
            host.read_labels(Path::new("/bom.labels")),
            Ok(vec!["person".to_string(), "car".to_string()])
        );
        assert_eq!(
            host.read_alphabet(Path::new("/bom.txt")),
            Ok(vec!["a".to_string(), "b".to_string()])
        );
        match host.read_labels(Path::new("/nul.labels")) {
            Err(FactError::Invalid(reason)) => assert!(reason.contains("NUL"), "{reason}"),
            other => panic!("a NUL byte read as labels: {other:?}"),
        }
    }

    fn n(p: &str) -> String {
        normalize(Path::new(p)).display().to_string()
    }

    #[test]
    fn parent_dirs_climb_and_never_cancel_each_other() {
        // `cd proj/a/b && vplc run ../../p.vpl` with `file("../out.jsonl")`.
        assert_eq!(n("../../../out.jsonl"), "../../../out.jsonl");
        assert_eq!(n("../../p.vpl"), "../../p.vpl");
        assert_eq!(n("../x/../../y"), "../../y");
        assert_eq!(n("./a/./b/../c.onnx"), "a/c.onnx");
        assert_eq!(n("a/../../b"), "../b");
        assert_eq!(n("/../a"), "/a");
        assert_eq!(n("/x/../../a"), "/a");
    }
}
