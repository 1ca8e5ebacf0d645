//! Lowering `infer`: the one typed spec a `vplinfer` runs, written as JSON into its `spec`
//! property (as `vplanalyze` gets its zones in `config`) and read back by the element when
//! it starts. Every value in it was checked and every default filled in (by resolve, from
//! `stdlib/detect.vpl`) before it is written: nothing downstream chooses one.

use serde::{Deserialize, Serialize};

use super::{Element, Prop};
use crate::ir::InferNode;

pub use crate::check::model::{Layout, PixelOrder, Resize};
pub use crate::facts::DType;
pub use crate::ir::{Activation, Decoder, MaskFormat, Skeleton};

/// What one `vplinfer` runs, and how: the model, its group and batching, how frames become
/// its input, how its outputs are read and where the results go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceSpec {
    /// The ONNX model's path.
    pub model: String,
    /// The model's name in the `.vpl`, given to each label it makes.
    pub model_name: String,
    /// Elements of one group (and model) share the loaded model and batch their frames
    /// together.
    pub group: String,
    /// The stream index written into the metadata.
    pub stream: u32,
    /// Frames per model run, across the group's streams.
    pub batch: u32,
    /// How long the oldest waiting frame waits for its batch to fill, in nanoseconds.
    pub batch_timeout_ns: u64,
    /// The model runs on one frame in `every`; the others carry its last results.
    pub every: u64,
    pub preprocess: PreprocessSpec,
    pub decoder: Decoder,
    /// The output the decoder reads; empty: the only one (`raw`: every one).
    pub output: String,
    /// Class names, by class number.
    pub labels: Vec<String>,
    /// `infer(m, on: [...])`: the model runs on crops of upstream objects; `None`: on whole
    /// frames.
    pub crops: Option<CropSpec>,
    /// The outputs whose batch is another axis than the first (a CRNN's `[T, N, C]`: 1).
    pub batch_axes: Vec<(String, usize)>,
}

/// How a frame (or a crop) becomes the model's input: scaled to `width` x `height` as
/// `resize` says, its channels in `order`, each value `(pixel * scale - mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreprocessSpec {
    pub width: u32,
    pub height: u32,
    #[serde(with = "LayoutName")]
    pub layout: Layout,
    #[serde(with = "OrderName")]
    pub order: PixelOrder,
    #[serde(with = "ResizeName")]
    pub resize: Resize,
    /// The element type of the model's input.
    pub dtype: DType,
    pub scale: f64,
    /// One value a channel, or one for all.
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

/// Crop mode: the labels of the upstream objects the model runs on, and the smallest box
/// (source pixels) it runs on; `None`: any size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CropSpec {
    pub labels: Vec<String>,
    pub min_size: Option<(u32, u32)>,
}

// The checker's preprocessing enums, as the spec writes them (`"nchw"`, `"letterbox"`):
// serde's remote derives match every variant, so a new one must be named here too.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Layout", rename_all = "snake_case")]
enum LayoutName {
    Nchw,
    Nhwc,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "PixelOrder", rename_all = "snake_case")]
enum OrderName {
    Rgb,
    Bgr,
    Gray,
    Rgbx,
    Bgrx,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Resize", rename_all = "snake_case")]
enum ResizeName {
    Letterbox,
    Stretch,
    FixedHeight,
}

impl InferenceSpec {
    /// The `vplinfer` property that carries the spec.
    pub const PROPERTY: &str = "spec";

    /// The spec of one checked `infer` node.
    pub fn of(i: &InferNode) -> InferenceSpec {
        let p = &i.preprocess;
        let (width, height) = p.size.unwrap_or((0, 0));
        InferenceSpec {
            model: i.model_path.clone(),
            model_name: i.model_name.clone(),
            group: i.group.clone(),
            stream: i.stream,
            batch: i.batch,
            batch_timeout_ns: u64::try_from(i.timeout_ns).unwrap_or(0),
            every: u64::try_from(i.every).unwrap_or(1),
            preprocess: PreprocessSpec {
                width,
                height,
                layout: p.layout,
                order: p.order,
                resize: p.resize,
                dtype: p.dtype,
                scale: p.scale,
                mean: p.mean.clone(),
                std: p.std.clone(),
            },
            decoder: i.decoder.clone(),
            output: i.output.clone(),
            labels: i.labels.clone(),
            crops: (!i.on.is_empty()).then(|| CropSpec {
                labels: i.on.clone(),
                min_size: i.min_size,
            }),
            batch_axes: i.batch_axes.clone(),
        }
    }

    /// The property's value: the spec as one line of JSON.
    pub fn to_property(&self) -> String {
        // Plain data of strings, numbers and lists: serialising it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The spec a property value holds, or why it holds none.
    pub fn from_property(text: &str) -> Result<InferenceSpec, String> {
        if text.trim().is_empty() {
            return Err(format!(
                "property `{}` is not set: give the inference spec vplc writes from the \
                 .vpl (`vplc run --emit gst` shows it)",
                Self::PROPERTY
            ));
        }
        serde_json::from_str(text).map_err(|e| {
            format!(
                "property `{}` is not an inference spec: {e}",
                Self::PROPERTY
            )
        })
    }
}

impl Element {
    /// The inference spec of a `vplinfer` element, as the plan wrote it.
    pub fn inference_spec(&self) -> Option<InferenceSpec> {
        self.props.iter().find_map(|(name, value)| match value {
            Prop::Str(text) if name == InferenceSpec::PROPERTY => {
                InferenceSpec::from_property(text).ok()
            }
            _ => None,
        })
    }
}

/// `vplinfer`'s properties for `infer`: its spec, alone. What is the machine's to choose
/// (the backend, ONNX Runtime's library and threads) `vplc run` adds.
pub(super) fn props(i: &InferNode) -> Vec<(&'static str, Prop)> {
    vec![(
        InferenceSpec::PROPERTY,
        Prop::Str(InferenceSpec::of(i).to_property()),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(decoder: Decoder) -> InferenceSpec {
        InferenceSpec {
            model: "models/det \"v2\".onnx".into(),
            model_name: "det".into(),
            group: "det@12".into(),
            stream: 2,
            batch: 4,
            batch_timeout_ns: 40_000_000,
            every: 3,
            preprocess: PreprocessSpec {
                width: 640,
                height: 480,
                layout: Layout::Nhwc,
                order: PixelOrder::Bgr,
                resize: Resize::FixedHeight,
                dtype: DType::U8,
                scale: 1.0 / 255.0,
                mean: vec![0.485, 0.456, 0.406],
                std: vec![0.229, 0.224, 0.225],
            },
            decoder,
            output: "output0".into(),
            labels: vec!["person".into(), "two words".into(), "é\n".into()],
            crops: Some(CropSpec {
                labels: vec!["car".into()],
                min_size: Some((16, 8)),
            }),
            batch_axes: vec![("logits".into(), 1)],
        }
    }

    // Every decoder goes through the property and the element: runtime/tests/elements.rs.
    #[test]
    fn the_property_names_the_decoder_and_its_parameters_and_gives_them_back() {
        let spec = spec(Decoder::Yolov8Seg {
            confidence: 0.35,
            iou: 0.55,
            max: 40,
            protos: "output1".into(),
            masks: MaskFormat::Polygons,
        });
        let text = spec.to_property();
        assert!(!text.contains('\n'), "one line: {text}");
        assert_eq!(InferenceSpec::from_property(&text).as_ref(), Ok(&spec));
        for part in [
            r#""decoder":{"kind":"yolov8_seg","confidence":0.35,"iou":0.55,"max":40,"protos":"output1","masks":"polygons"}"#,
            r#""layout":"nhwc","order":"bgr","resize":"fixed_height""#,
            r#""crops":{"labels":["car"],"min_size":[16,8]}"#,
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn a_property_that_is_no_spec_says_why() {
        let unset = InferenceSpec::from_property("").unwrap_err();
        assert!(unset.contains("`spec` is not set"), "{unset}");
        let mut value: serde_json::Value =
            serde_json::from_str(&spec(Decoder::Raw).to_property()).unwrap();
        value["decoder"] = serde_json::json!({"kind": "yolov9"});
        let unknown = InferenceSpec::from_property(&value.to_string()).unwrap_err();
        assert!(unknown.contains("unknown variant `yolov9`"), "{unknown}");
        value["decoder"] = serde_json::json!({"kind": "classify", "top": 1, "tpo": 2});
        let typo = InferenceSpec::from_property(&value.to_string()).unwrap_err();
        assert!(typo.contains("unknown field `tpo`"), "{typo}");
    }
}
