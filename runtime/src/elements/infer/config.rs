//! `vplinfer`'s inference spec (the plan's [`InferenceSpec`], JSON in its `spec` property)
//! and the machine's settings → the configuration of one run, made once in `start()`: a
//! spec the engine cannot run is an element error saying why, not a surprise per frame.
//! The spec's decoder becomes the engine's in one `match`, the one place at run time that
//! lists the decoders.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vpl_compiler::plan::{
    Activation, DType as InputType, Decoder, InferenceSpec, Layout, MaskFormat, PixelOrder, Resize,
    Skeleton,
};

use crate::engine::decode::Yolov8Config;
use crate::engine::decode::boxes;
use crate::engine::decode::detr::DetrConfig;
use crate::engine::decode::ssd::{SsdConfig, generate_anchors};
use crate::engine::decode::text::TextBoxesConfig;
use crate::engine::decode::yolov5::Yolov5Config;
use crate::engine::preprocess::{self, ChannelOrder, PreprocessConfig};
use crate::engine::{Backend, EngineConfig, find_library};
use crate::masks::{self, COCO17};

use super::decoders::{self, Decode};
use super::segpose;

/// The element type the model's input takes. f16 models are fed f32, which the engine
/// converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    F16,
    U8,
}

/// Where and how the model runs on this machine: the element's properties besides the
/// spec, which `vplc run` sets from its command line.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// libonnxruntime.so; empty: found from the working directory.
    pub library: String,
    /// `cpu`, `cuda` or `tensorrt`.
    pub backend: String,
    /// ONNX Runtime's intra-op threads; 0: one per core.
    pub threads: u32,
    /// Most sessions for a fixed-batch model; 0: chosen by backend.
    pub sessions: u32,
    /// tensorrt: the engine cache directory; empty: the default.
    pub engine_cache: String,
}

/// Everything one `vplinfer` needs to run, checked.
#[derive(Debug)]
pub struct Config {
    /// What runs, as the plan wrote it.
    pub spec: InferenceSpec,
    pub engine: EngineConfig,
    /// Most sessions for a fixed-batch model; 0: chosen by backend.
    pub sessions: usize,
    pub batch_size: usize,
    pub batch_timeout: Duration,
    pub preprocess: PreprocessConfig,
    pub dtype: DType,
    pub decoder: Box<dyn Decode>,
}

impl Config {
    /// The configuration of the spec `text` on `machine`, or why it cannot run.
    pub fn new(text: &str, machine: &Machine) -> Result<Config, String> {
        let spec = InferenceSpec::from_property(text)?;
        if spec.model.is_empty() {
            return Err("the spec names no model: give the path of an ONNX model".into());
        }
        if spec.batch == 0 || spec.every == 0 {
            return Err(format!(
                "the spec's batch ({}) and every ({}) must be 1 or more",
                spec.batch, spec.every
            ));
        }
        let preprocess = preprocess_config(&spec)?;
        let dtype = match spec.preprocess.dtype {
            InputType::F32 => DType::F32,
            InputType::F16 => DType::F16,
            InputType::U8 => DType::U8,
            other => {
                return Err(format!(
                    "the model's input is {}: vplinfer feeds f32, f16 or u8",
                    other.name()
                ));
            }
        };
        let backend = match machine.backend.as_str() {
            "cpu" => Backend::Cpu,
            "cuda" => Backend::Cuda,
            "tensorrt" => Backend::TensorRt,
            other => return Err(bad("backend", other, "cpu, cuda or tensorrt")),
        };
        let batch_size = spec.batch as usize;
        let engine = EngineConfig {
            model: PathBuf::from(&spec.model),
            library: library(&machine.library)?,
            backend,
            threads: machine.threads as usize,
            engine_cache: (!machine.engine_cache.is_empty())
                .then(|| PathBuf::from(&machine.engine_cache)),
            max_batch: batch_size,
        };
        Ok(Config {
            decoder: decoder(&spec)?,
            engine,
            sessions: machine.sessions as usize,
            batch_size,
            batch_timeout: Duration::from_nanos(spec.batch_timeout_ns),
            preprocess,
            dtype,
            spec,
        })
    }
}

/// The spec's preprocessing → the engine's, its values checked.
fn preprocess_config(spec: &InferenceSpec) -> Result<PreprocessConfig, String> {
    let p = &spec.preprocess;
    if p.width == 0 || p.height == 0 {
        return Err(format!(
            "the spec's input size is {}x{}: the model's input needs a width and a height",
            p.width, p.height
        ));
    }
    let order = match p.order {
        PixelOrder::Rgb => ChannelOrder::Rgb,
        PixelOrder::Bgr => ChannelOrder::Bgr,
        PixelOrder::Gray => ChannelOrder::Gray,
        PixelOrder::Rgbx => ChannelOrder::Rgbx,
        PixelOrder::Bgrx => ChannelOrder::Bgrx,
    };
    let channels = order.channels();
    for (name, values) in [("mean", &p.mean), ("std", &p.std)] {
        if values.len() > 1 && values.len() != channels {
            return Err(format!(
                "the spec's {name} has {} values but the input has {channels} channels",
                values.len()
            ));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!("the spec's {name} holds {v}"));
        }
    }
    if p.std.contains(&0.0) {
        return Err("the spec's std has a 0: it divides, so it cannot be 0".into());
    }
    let floats = |values: &[f64]| values.iter().map(|v| *v as f32).collect();
    Ok(PreprocessConfig {
        width: p.width,
        height: p.height,
        layout: match p.layout {
            Layout::Nchw => preprocess::Layout::Nchw,
            Layout::Nhwc => preprocess::Layout::Nhwc,
        },
        order,
        resize: match p.resize {
            Resize::Letterbox => preprocess::Resize::Letterbox,
            Resize::Stretch => preprocess::Resize::Stretch,
            Resize::FixedHeight => preprocess::Resize::FixedHeight,
        },
        scale: p.scale as f32,
        mean: floats(&p.mean),
        std: floats(&p.std),
    })
}

/// The spec's decoder → the engine's decoding with its parameters: every decoder, once.
fn decoder(spec: &InferenceSpec) -> Result<Box<dyn Decode>, String> {
    let nms = |confidence: f64, iou: f64, max: i64| Yolov8Config {
        confidence: confidence as f32,
        iou: iou as f32,
        max: count(max),
    };
    let whole_frames = |kind: &str| match &spec.crops {
        Some(_) => Err(format!(
            "the masks and keypoints of {kind} are found on whole frames, not on crops"
        )),
        None => Ok(()),
    };
    Ok(match &spec.decoder {
        Decoder::Yolov8 {
            confidence,
            iou,
            max,
        } => Box::new(decoders::Yolov8(nms(*confidence, *iou, *max))),
        Decoder::Yolov5 {
            confidence,
            iou,
            max,
            strides,
        } => Box::new(decoders::Yolov5(Yolov5Config {
            confidence: *confidence as f32,
            iou: *iou as f32,
            max: count(*max),
            grid: unsigned("yolov5 strides", strides)?,
        })),
        Decoder::Detr {
            confidence,
            max,
            activation: a,
            boxes,
        } => Box::new(decoders::Detr {
            config: DetrConfig {
                confidence: *confidence as f32,
                max: count(*max),
                activation: activation(*a, true),
            },
            boxes: boxes.clone(),
        }),
        Decoder::Ssd {
            confidence,
            iou,
            max,
            activation: a,
            boxes,
            anchors,
            strides,
            per_cell,
        } => {
            if boxes.is_empty() {
                return Err(
                    "ssd reads a boxes output and a scores output: the spec names no boxes output"
                        .into(),
                );
            }
            Box::new(decoders::Ssd {
                config: SsdConfig {
                    confidence: *confidence as f32,
                    iou: *iou as f32,
                    max: count(*max),
                    activation: activation(*a, false),
                    anchors: ssd_anchors(spec, anchors, strides, per_cell)?,
                },
                boxes: boxes.clone(),
            })
        }
        Decoder::Classify { top } => Box::new(decoders::Classify { top: count(*top) }),
        Decoder::TextBoxes {
            thresh,
            box_thresh,
            unclip_ratio,
            max,
        } => Box::new(decoders::TextBoxes(TextBoxesConfig {
            thresh: *thresh as f32,
            box_thresh: *box_thresh as f32,
            unclip_ratio: *unclip_ratio as f32,
            max: count(*max),
        })),
        Decoder::Ctc {
            alphabet: file,
            blank_last,
        } => Box::new(decoders::Ctc {
            alphabet: alphabet(file, &spec.model)?,
            blank_last: *blank_last,
        }),
        Decoder::Raw => Box::new(decoders::Raw),
        Decoder::Yolov8Seg {
            confidence,
            iou,
            max,
            protos,
            masks,
        } => {
            whole_frames("yolov8_seg")?;
            Box::new(segpose::Yolov8Seg {
                config: nms(*confidence, *iou, *max),
                protos: protos.clone(),
                format: mask_format(*masks),
            })
        }
        Decoder::Yolov8Pose {
            confidence,
            iou,
            max,
            skeleton,
        } => {
            whole_frames("yolov8_pose")?;
            Box::new(segpose::Yolov8Pose {
                config: nms(*confidence, *iou, *max),
                skeleton: match skeleton {
                    Skeleton::Coco17 => COCO17.to_vec(),
                    Skeleton::None => Vec::new(),
                },
            })
        }
        Decoder::Semantic { masks, min_area } => {
            whole_frames("semantic")?;
            Box::new(segpose::Semantic {
                format: mask_format(*masks),
                min_area: count(*min_area),
            })
        }
    })
}

/// A count the checker kept in range; at least 1.
fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0).max(1)
}

/// `softmax` for detr drops the last class ("no object"), as the original DETR does.
fn activation(activation: Activation, detr: bool) -> boxes::Activation {
    match activation {
        Activation::Sigmoid => boxes::Activation::Sigmoid,
        Activation::Softmax => boxes::Activation::Softmax { no_object: detr },
        Activation::None => boxes::Activation::None,
    }
}

fn mask_format(format: MaskFormat) -> masks::MaskFormat {
    match format {
        MaskFormat::Rle => masks::MaskFormat::Rle,
        MaskFormat::Polygons => masks::MaskFormat::Polygons,
    }
}

/// More anchors than any model outputs (BlazeFace: 896, YOLOX at 1280: 33,600).
const MAX_ANCHORS: u64 = 10_000_000;

/// The ssd decoder's anchors: the file's, read by the checker, or generated on the grids
/// of `strides`, `per_cell` anchors a cell.
fn ssd_anchors(
    spec: &InferenceSpec,
    anchors: &[[f64; 4]],
    strides: &[i64],
    per_cell: &[i64],
) -> Result<Vec<[f32; 4]>, String> {
    if !anchors.is_empty() {
        return Ok(anchors.iter().map(|a| a.map(|v| v as f32)).collect());
    }
    let strides = unsigned("ssd strides", strides)?;
    let per_cell = unsigned("ssd per_cell", per_cell)?;
    if strides.len() != per_cell.len() || strides.contains(&0) {
        return Err(format!(
            "the ssd decoder's strides ({strides:?}) and per_cell ({per_cell:?}) need one positive value each per grid"
        ));
    }
    let input = (spec.preprocess.width, spec.preprocess.height);
    let count = strides.iter().zip(&per_cell).try_fold(0u64, |n, (st, k)| {
        let (gw, gh) = (input.0.div_ceil(*st), input.1.div_ceil(*st));
        n.checked_add(u64::from(gw) * u64::from(gh) * u64::from(*k))
    });
    if count.is_none_or(|n| n > MAX_ANCHORS) {
        return Err(format!(
            "the ssd decoder's strides and per_cell make more than {MAX_ANCHORS} anchors"
        ));
    }
    Ok(generate_anchors(&strides, &per_cell, input))
}

fn unsigned(what: &str, values: &[i64]) -> Result<Vec<u32>, String> {
    values
        .iter()
        .map(|v| {
            u32::try_from(*v)
                .map_err(|_| format!("the {what} hold {v}: give whole numbers 0 or more"))
        })
        .collect()
}

/// The `ctc` decoder's characters: the `alphabet` file's (one a line, untrimmed, as the
/// checker reads it), or with no file, the model's `character` metadata.
fn alphabet(file: &str, model: &str) -> Result<Vec<String>, String> {
    if !file.is_empty() {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the alphabet file {file}: {e}"))?;
        return Ok(vpl_compiler::host::parse_alphabet(&text));
    }
    let bytes = std::fs::read(model).map_err(|e| format!("cannot read the model {model}: {e}"))?;
    let facts = vpl_compiler::onnx::signature(&bytes)
        .map_err(|e| format!("cannot read the model {model}: {e:?}"))?;
    vpl_compiler::facts::metadata_alphabet(&facts).ok_or_else(|| {
        format!(
            "the model {model} has no `character` metadata for the ctc decoder; give \
             `ctc(alphabet: FILE)`"
        )
    })
}

fn bad(property: &str, value: &str, expected: &str) -> String {
    format!("property `{property}` is \"{value}\"; expected {expected}")
}

/// The library property, or where `find_library` finds it from the working directory.
fn library(property: &str) -> Result<PathBuf, String> {
    if !property.is_empty() {
        return Ok(PathBuf::from(property));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf());
    find_library(&[&cwd]).ok_or_else(|| {
        "ONNX Runtime was not found: set the `library` property, or VPL_ONNXRUNTIME, to the \
         path of libonnxruntime.so (scripts/setup.sh writes it into assets/onnxruntime.path)"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use vpl_compiler::plan::{CropSpec, PreprocessSpec};

    use super::*;

    fn spec(decoder: Decoder) -> InferenceSpec {
        InferenceSpec {
            model: "det.onnx".into(),
            model_name: "det".into(),
            group: "det@0".into(),
            stream: 0,
            batch: 1,
            batch_timeout_ns: 40_000_000,
            every: 1,
            preprocess: PreprocessSpec {
                width: 64,
                height: 32,
                layout: Layout::Nchw,
                order: PixelOrder::Rgb,
                resize: Resize::Letterbox,
                dtype: InputType::F32,
                scale: 0.5,
                mean: vec![0.0],
                std: vec![1.0],
            },
            decoder,
            output: String::new(),
            labels: Vec::new(),
            crops: None,
            batch_axes: Vec::new(),
        }
    }

    fn engine(decoder: Decoder) -> String {
        match super::decoder(&spec(decoder)) {
            Ok(decoder) => format!("{decoder:?}"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn each_decoder_becomes_the_engines_with_its_parameters() {
        let alphabet = std::env::temp_dir().join(format!("vpl-config-{}.txt", std::process::id()));
        std::fs::write(&alphabet, "a\nb\n").unwrap();
        let cases = [
            (
                Decoder::Yolov8 {
                    confidence: 0.5,
                    iou: 0.25,
                    max: 7,
                },
                "Yolov8(Yolov8Config { confidence: 0.5, iou: 0.25, max: 7 })",
            ),
            (
                Decoder::Yolov5 {
                    confidence: 0.5,
                    iou: 0.25,
                    max: 7,
                    strides: vec![8, 16],
                },
                "Yolov5(Yolov5Config { confidence: 0.5, iou: 0.25, max: 7, grid: [8, 16] })",
            ),
            (
                Decoder::Detr {
                    confidence: 0.75,
                    max: 9,
                    activation: Activation::Softmax,
                    boxes: "b".into(),
                },
                "Detr { config: DetrConfig { confidence: 0.75, max: 9, activation: Softmax { no_object: true } }, boxes: \"b\" }",
            ),
            (
                Decoder::Ssd {
                    confidence: 0.75,
                    iou: 0.5,
                    max: 9,
                    activation: Activation::Softmax,
                    boxes: "b".into(),
                    anchors: vec![[0.5, 0.25, 1.0, 2.0]],
                    strides: vec![8],
                    per_cell: vec![2],
                },
                "Ssd { config: SsdConfig { confidence: 0.75, iou: 0.5, max: 9, activation: Softmax { no_object: false }, anchors: [[0.5, 0.25, 1.0, 2.0]] }, boxes: \"b\" }",
            ),
            (Decoder::Classify { top: 3 }, "Classify { top: 3 }"),
            (
                Decoder::TextBoxes {
                    thresh: 0.25,
                    box_thresh: 0.5,
                    unclip_ratio: 2.0,
                    max: 5,
                },
                "TextBoxes(TextBoxesConfig { thresh: 0.25, box_thresh: 0.5, unclip_ratio: 2.0, max: 5 })",
            ),
            (
                Decoder::Ctc {
                    alphabet: alphabet.display().to_string(),
                    blank_last: true,
                },
                "Ctc { alphabet: [\"a\", \"b\"], blank_last: true }",
            ),
            (Decoder::Raw, "Raw"),
            (
                Decoder::Yolov8Seg {
                    confidence: 0.5,
                    iou: 0.25,
                    max: 7,
                    protos: "p".into(),
                    masks: MaskFormat::Polygons,
                },
                "Yolov8Seg { config: Yolov8Config { confidence: 0.5, iou: 0.25, max: 7 }, protos: \"p\", format: Polygons }",
            ),
            (
                Decoder::Yolov8Pose {
                    confidence: 0.5,
                    iou: 0.25,
                    max: 7,
                    skeleton: Skeleton::None,
                },
                "Yolov8Pose { config: Yolov8Config { confidence: 0.5, iou: 0.25, max: 7 }, skeleton: [] }",
            ),
            (
                Decoder::Semantic {
                    masks: MaskFormat::Rle,
                    min_area: 4,
                },
                "Semantic { format: Rle, min_area: 4 }",
            ),
        ];
        for (decoder, want) in cases {
            assert_eq!(engine(decoder), want);
        }
    }

    #[test]
    fn ssd_anchors_are_generated_on_the_input_s_grids() {
        let generated = super::decoder(&spec(Decoder::Ssd {
            confidence: 0.5,
            iou: 0.5,
            max: 9,
            activation: Activation::Sigmoid,
            boxes: "b".into(),
            anchors: Vec::new(),
            strides: vec![16, 32],
            per_cell: vec![2, 1],
        }))
        .map(|d| format!("{d:?}"))
        .unwrap();
        // 64x32 input: 4x2 cells of 2 anchors at stride 16, 2x1 cells of 1 at stride 32.
        let anchors = generated.matches("], [").count() + 1;
        assert_eq!(anchors, 4 * 2 * 2 + 2, "{generated}");
    }

    #[test]
    fn a_spec_the_engine_cannot_run_says_why() {
        let machine = Machine {
            library: "libonnxruntime.so".into(),
            backend: "cpu".into(),
            ..Machine::default()
        };
        let why = |spec: InferenceSpec| {
            Config::new(&spec.to_property(), &machine)
                .map(|_| ())
                .unwrap_err()
        };
        let masks_on_crops = InferenceSpec {
            crops: Some(CropSpec {
                labels: vec!["person".into()],
                min_size: None,
            }),
            ..spec(Decoder::Semantic {
                masks: MaskFormat::Rle,
                min_area: 1,
            })
        };
        assert!(why(masks_on_crops).contains("whole frames, not on crops"));
        let mut zero_std = spec(Decoder::Raw);
        zero_std.preprocess.std = vec![1.0, 0.0, 1.0];
        assert!(why(zero_std).contains("cannot be 0"));
        let mut two_means = spec(Decoder::Raw);
        two_means.preprocess.mean = vec![0.5, 0.5];
        assert!(why(two_means).contains("2 values but the input has 3 channels"));
        let never = InferenceSpec {
            every: 0,
            ..spec(Decoder::Raw)
        };
        assert!(why(never).contains("1 or more"));
        let ssd = spec(Decoder::Ssd {
            confidence: 0.5,
            iou: 0.5,
            max: 9,
            activation: Activation::Sigmoid,
            boxes: "b".into(),
            anchors: Vec::new(),
            strides: vec![8, 16],
            per_cell: vec![2],
        });
        assert!(why(ssd).contains("one positive value each per grid"));
        let unset = Config::new("", &machine).map(|_| ()).unwrap_err();
        assert!(unset.contains("`spec` is not set"), "{unset}");
    }
}
