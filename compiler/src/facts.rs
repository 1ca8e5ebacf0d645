//! Facts about the files a program names, as the `Host` supplies them: what a media file
//! holds, a model's tensor signature, a labels file's lines. Plain data, no IO.

use serde::{Deserialize, Serialize};

/// What probing a media file found. `None` parts were not found by the probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MediaFacts {
    /// Container as a short name: `mp4`, `matroska`, `webm`, `avi`, `mpegts`, `ogg`, ...
    pub container: Option<String>,
    /// The first video stream, or `None` when the file has none.
    pub video: Option<VideoFacts>,
    /// Duration in nanoseconds, when known.
    pub duration_ns: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VideoFacts {
    /// vpl's name for the codec (`h264`, `h265`, `vp8`, `vp9`, `av1`, `mpeg2`, `mpeg4`,
    /// `msmpeg4`, `jpeg`, `theora`), or for raw video the pixel format (`i420`, `nv12`, ...).
    /// Any other caps name is kept as it is (`video/x-wmv`).
    pub format: String,
    /// True for raw (decoded) video in the file.
    pub raw: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Frames per second as a fraction; `None` for variable or unknown rate.
    pub rate: Option<(u64, u64)>,
    /// The caps as GStreamer printed them, for messages and for lowering.
    pub caps: String,
    /// Interlaced, as GStreamer's discoverer tells (pictures coded as fields, as frames of
    /// two fields (MBAFF), or both). Most interlaced video runs: see `field_coded`.
    #[serde(default)]
    pub interlaced: bool,
    /// An H.264 or H.265 elementary stream (`.h264`, `.265`, no container) whose first
    /// pictures are coded as separate fields. Such a stream's presentation times cannot be
    /// read (`vplstamp`, which every elementary stream goes through, stops the run at its
    /// first field), so `check` refuses it. False for a file with a container.
    #[serde(default)]
    pub field_coded: bool,
}

/// Element types of tensors (ONNX `TensorProto.DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DType {
    F32,
    F16,
    BF16,
    F64,
    U8,
    I8,
    U16,
    I16,
    I32,
    I64,
    U32,
    U64,
    Bool,
    String,
    Other(i32),
}

impl DType {
    pub fn from_onnx(code: i32) -> DType {
        match code {
            1 => DType::F32,
            2 => DType::U8,
            3 => DType::I8,
            4 => DType::U16,
            5 => DType::I16,
            6 => DType::I32,
            7 => DType::I64,
            8 => DType::String,
            9 => DType::Bool,
            10 => DType::F16,
            11 => DType::F64,
            12 => DType::U32,
            13 => DType::U64,
            16 => DType::BF16,
            other => DType::Other(other),
        }
    }

    pub fn to_onnx(self) -> i32 {
        match self {
            DType::F32 => 1,
            DType::U8 => 2,
            DType::I8 => 3,
            DType::U16 => 4,
            DType::I16 => 5,
            DType::I32 => 6,
            DType::I64 => 7,
            DType::String => 8,
            DType::Bool => 9,
            DType::F16 => 10,
            DType::F64 => 11,
            DType::U32 => 12,
            DType::U64 => 13,
            DType::BF16 => 16,
            DType::Other(code) => code,
        }
    }

    pub fn name(self) -> String {
        match self {
            DType::F32 => "f32".into(),
            DType::F16 => "f16".into(),
            DType::BF16 => "bf16".into(),
            DType::F64 => "f64".into(),
            DType::U8 => "u8".into(),
            DType::I8 => "i8".into(),
            DType::U16 => "u16".into(),
            DType::I16 => "i16".into(),
            DType::I32 => "i32".into(),
            DType::I64 => "i64".into(),
            DType::U32 => "u32".into(),
            DType::U64 => "u64".into(),
            DType::Bool => "bool".into(),
            DType::String => "string".into(),
            DType::Other(code) => format!("type {code}"),
        }
    }

    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "f32" => DType::F32,
            "f16" => DType::F16,
            "u8" => DType::U8,
            "i8" => DType::I8,
            "i32" => DType::I32,
            "i64" => DType::I64,
            _ => return None,
        })
    }
}

/// One dimension of a tensor shape: a number, a symbolic name, or unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dim {
    Fixed(i64),
    Named(String),
    Unknown,
}

impl Dim {
    pub fn fixed(&self) -> Option<i64> {
        match self {
            Dim::Fixed(n) => Some(*n),
            _ => None,
        }
    }
}

/// The longest symbolic dimension name shown whole in messages and hover.
const MAX_DIM_NAME: usize = 24;

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            // Exporters write whole formulas as names (NudeNet's anchors dimension is
            // 400 characters long): messages show their start.
            Dim::Named(n) if n.chars().count() > MAX_DIM_NAME => {
                let head: String = n.chars().take(MAX_DIM_NAME - 1).collect();
                write!(f, "{head}…")
            }
            Dim::Named(n) => f.write_str(n),
            Dim::Unknown => f.write_str("_"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorFacts {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<Dim>,
}

impl TensorFacts {
    /// `tensor<f32, [1, 3, 640, 640]>`
    pub fn signature(&self) -> String {
        let dims: Vec<String> = self.shape.iter().map(Dim::to_string).collect();
        format!("tensor<{}, [{}]>", self.dtype.name(), dims.join(", "))
    }
}

/// A model's signature as read from the ONNX file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ModelFacts {
    /// Graph inputs that are not initializers (weights), in order.
    pub inputs: Vec<TensorFacts>,
    pub outputs: Vec<TensorFacts>,
    /// The model's metadata (`metadata_props`), e.g. Ultralytics' `names`.
    pub metadata: Vec<(String, String)>,
    pub opset: Option<i64>,
    pub producer: Option<String>,
}

/// Why a fact could not be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactError {
    NotFound,
    /// Exists but cannot be read: the reason as the OS says it.
    Unreadable(String),
    /// Read, but not what it should be (not an ONNX model, not a media file): why.
    Invalid(String),
    /// This host cannot find out (no media prober): checks are deferred to run time.
    Unavailable(String),
}

/// The metadata key PaddleOCR's exporters write the recogniser's characters under, one a
/// line.
pub const CHARACTER_METADATA: &str = "character";

/// The characters in PaddleOCR's `character` metadata: one a line, kept as they are (a
/// line may be a space: trimming would shift every class after it).
pub fn metadata_alphabet(facts: &ModelFacts) -> Option<Vec<String>> {
    let (_, value) = facts
        .metadata
        .iter()
        .find(|(k, _)| k == CHARACTER_METADATA)?;
    let characters: Vec<String> = value
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    (!characters.is_empty() && value.chars().any(|c| c != '\n')).then_some(characters)
}
