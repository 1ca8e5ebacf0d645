//! `vplinfer`'s inference spec (the plan's [`InferenceSpec`], JSON in its `spec` property)
//! and the machine's settings → the configuration of one run, made once in `start()`: a
//! spec the engine cannot run is an element error saying why, not a surprise per frame.
//! The spec's decoder becomes the engine's in the one `match` of `engine/decode/mod.rs`,
//! the one place at run time that lists the decoders.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vpl_compiler::plan::{DType as InputType, InferenceSpec, Layout, PixelOrder, Resize};

use crate::engine::decode::decoder;
use crate::engine::preprocess::{self, ChannelOrder, PreprocessConfig};
use crate::engine::{Backend, EngineConfig, find_library};

use super::decoders::Decode;

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
    use vpl_compiler::plan::{Activation, CropSpec, Decoder, MaskFormat, PreprocessSpec, Skeleton};

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
