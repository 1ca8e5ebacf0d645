//! vpl's decoders, one file each: everything the compiler knows about a decoder (its
//! facts, its rule against the model's outputs with the wording of E0304, the shape it
//! is suggested for, and how its call becomes the plan's spec) is its file's [`Rules`];
//! the registry at the end of this file names each one once and makes from it the
//! checker's [`Decoder`] (`stage::Decoder`) and the plan's [`DecoderSpec`] (`ir::Decoder`),
//! so adding an entry makes rustc list what is left to write. The family rules that
//! several decoders share (the rows of `yolov5`/`detr`/`ssd`, the masks and keypoints)
//! stay in `check/model/`. docs/architecture.md, "Adding a decoder".

use serde::{Deserialize, Serialize};

use crate::check::ModelInfo;
use crate::check::model::errors::ShapeProblem;
use crate::hir::BoundCall;

pub use crate::ir::{Activation, MaskFormat, Skeleton};

/// What a decoder makes of a model's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Boxes, each with a class and a score: `yolov8`, `yolov5`, `detr`, `ssd`.
    Boxes,
    /// Objects with a mask or keypoints: `yolov8_seg`, `yolov8_pose`, `semantic`.
    MasksKeypoints,
    /// Text: the boxes around it (`text_boxes`) or the string a crop reads (`ctc`).
    Text,
    /// Labels for the whole frame (or crop): `classify`.
    Classify,
    /// The output tensors, undecoded: `raw`.
    Raw,
}

/// The outputs a decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reads {
    /// One output: the one `output:` names, or the only one of a shape it reads.
    One,
    /// One output of boxes and scores, or the two apart (`boxes:` names the boxes).
    OneOrBoxesApart,
    /// The boxes and the scores, apart (`boxes:` names the boxes).
    BoxesAndScores,
    /// The detections and the mask prototypes, `[N, masks, H, W]`.
    DetectionsAndPrototypes,
    /// Every output (or the one `output:` names), as tensors.
    Every,
    /// A DetectNet_v2 head: a coverage grid `[N, C, H, W]` and beside it a boxes grid
    /// `[N, 4 C, H, W]` of the same size (`check/model/boxes.rs`, `grids`).
    CoverageAndBoxes,
}

/// What the model is, for the decoder (the checker's `ModelKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Makes {
    /// Objects: boxes, with masks or keypoints, or around text.
    Detector,
    Classifier,
    /// A CTC recogniser: its alphabet is checked (`check/model/text.rs`).
    Recognizer,
    Raw,
}

/// The decoders whose outputs `check/model/boxes.rs` chooses and reads, a row a
/// candidate box (the boxes apart for some).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// `[N, anchors, 5 + classes]`; YOLOX's grids.
    Yolov5,
    /// One output `[N, queries, 4 + classes]`, or the boxes and the logits apart.
    Detr,
    /// The boxes and the scores apart, and the anchors.
    Ssd,
}

/// Whether a decoder reads six values a row, `[N, anchors, 6]`, a layout several exports
/// share (`check/model/boxes.rs`, `unrecognised`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Six {
    /// It does not.
    No,
    /// Only for this many classes (a one-class YOLOv5, a two-class DETR), which the
    /// labels must say.
    Classes(usize),
    /// Boxes already decoded, `x1, y1, x2, y2, score, class` (DeepStream-Yolo), for any
    /// number of classes.
    Decoded,
}

/// Everything the compiler knows about one decoder. Each method is required, so a new
/// decoder answers each question in its own file.
pub trait Rules: Sync {
    /// What it makes of the outputs.
    fn family(&self) -> Family;

    /// Which outputs it reads.
    fn reads(&self) -> Reads;

    /// Whether frames are letterboxed for it when the model's `resize:` is not given
    /// (the YOLO family is trained on letterboxed images); the others stretch.
    fn letterboxes(&self) -> bool;

    /// Which of the row decoders of `check/model/boxes.rs` it is (`yolov5`, `detr`,
    /// `ssd`), which choose and read its outputs; `None`: [`Rules::shape`] reads them.
    fn rows(&self) -> Option<Rows>;

    /// What it reads from an output of this shape (its dimensions, `None` where open):
    /// the number of classes (`None` when it does not need it), or why it cannot read it
    /// (E0304). A dynamic dimension never stands in for the classes.
    fn shape(&self, dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem>;

    /// E0304's label when the dimension that holds the classes is open in the file.
    fn fixed_classes(&self) -> &'static str;

    /// Whether an output of this shape looks like this decoder's, for E0304's suggestion
    /// (made only when one decoder's shape fits).
    fn looks_like(&self, dims: &[Option<i64>]) -> bool;

    /// Whether it reads six values a row.
    fn six(&self, call: Option<&BoundCall>) -> Six;

    /// What the model is, read with it.
    fn makes(&self) -> Makes;

    /// The call's arguments (filled in with the stdlib's defaults) and the checked model
    /// → the plan's spec of the decoder.
    fn spec(&self, call: &BoundCall, model: &ModelInfo) -> DecoderSpec;
}

/// A float parameter of the call (resolve filled in every one).
fn float(call: &BoundCall, name: &str) -> f64 {
    call.float(name).unwrap_or(0.0)
}

/// An int parameter of the call.
fn int(call: &BoundCall, name: &str) -> i64 {
    call.int(name).unwrap_or(0)
}

/// `activation:` of `detr` and `ssd` (default `sigmoid`).
fn activation(decoder: &BoundCall) -> Activation {
    match decoder.string("activation") {
        Some("softmax") => Activation::Softmax,
        Some("none") => Activation::None,
        _ => Activation::Sigmoid,
    }
}

/// `masks:` of `yolov8_seg` and `semantic` (default `rle`).
fn mask_format(decoder: &BoundCall) -> MaskFormat {
    match decoder.string("masks") {
        Some("polygons") => MaskFormat::Polygons,
        _ => MaskFormat::Rle,
    }
}

/// The registry: each decoder's variant, its name in programs, the module and value
/// of its [`Rules`], and its parameters as the plan's spec carries them (each filled in
/// by resolve, from the `.vpl` or `stdlib/detect.vpl`'s defaults). Makes `Decoder`, with
/// `ALL`, `name()` and `rules()`, and `DecoderSpec`.
macro_rules! decoders {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $name:literal, $module:ident::$rules:ident
            $({ $($(#[$fdoc:meta])* $field:ident: $ty:ty),* $(,)? })?;
    )*) => {
        /// A model's decoder, as the checker knows it: what each one is, is its file's
        /// [`Rules`] (`rules()`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Decoder {
            $($(#[$doc])* $variant,)*
        }

        impl Decoder {
            /// Every decoder, in the registry's order.
            pub const ALL: &'static [Decoder] = &[$(Decoder::$variant),*];

            /// The name the program calls it by (`decoder: yolov8_seg()`), and messages
            /// show.
            pub fn name(self) -> &'static str {
                match self {
                    $(Decoder::$variant => $name,)*
                }
            }

            /// What the compiler knows about it.
            pub fn rules(self) -> &'static dyn Rules {
                match self {
                    $(Decoder::$variant => &$module::$rules,)*
                }
            }
        }

        /// How `infer` reads a model's outputs: the decoder with every one of its
        /// parameters. The plan hands it to `vplinfer` inside the inference spec
        /// (`plan::InferenceSpec`), as JSON whose `kind` names the decoder (`{"kind":
        /// "yolov8", "confidence": 0.25, ...}`); the element maps each one to the engine's
        /// decoding in one `match` (`runtime/src/engine/decode/mod.rs`).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
        pub enum DecoderSpec {
            $($(#[$doc])* $variant $({ $($(#[$fdoc])* $field: $ty,)* })?,)*
        }
    };
}

mod classify;
mod ctc;
mod detectnet_v2;
mod detr;
mod ds_yolo;
mod raw;
mod semantic;
mod ssd;
mod text_boxes;
mod yolov5;
mod yolov8;
mod yolov8_pose;
mod yolov8_seg;

decoders! {
    Yolov8 = "yolov8", yolov8::Yolov8 { confidence: f64, iou: f64, max: i64 };
    /// YOLOv5/v7/YOLOX: `[N, anchors, 5 + classes]` (`check/model/boxes.rs`).
    /// `strides` non-empty: YOLOX raw output, decoded on grids of these strides.
    Yolov5 = "yolov5", yolov5::Yolov5 { confidence: f64, iou: f64, max: i64, strides: Vec<i64> };
    /// DETR-style: one box per query, no NMS. `boxes`: the boxes output of a model with
    /// two; empty: one output.
    Detr = "detr", detr::Detr { confidence: f64, max: i64, activation: Activation, boxes: String };
    /// SSD-style: box offsets from anchors + class scores. `anchors` from a file, else
    /// generated from `strides` and `per_cell`.
    Ssd = "ssd", ssd::Ssd {
        confidence: f64,
        iou: f64,
        max: i64,
        activation: Activation,
        boxes: String,
        anchors: Vec<[f64; 4]>,
        strides: Vec<i64>,
        per_cell: Vec<i64>,
    };
    /// DeepStream-Yolo's export: `[N, boxes, 6]`, boxes already decoded (x1, y1, x2, y2 in
    /// input pixels, score, class); per-class NMS.
    DsYolo = "ds_yolo", ds_yolo::DsYolo { confidence: f64, iou: f64, max: i64 };
    /// DetectNet_v2's grids (TrafficCamNet, PeopleNet): coverage and boxes; per-class NMS.
    DetectnetV2 = "detectnet_v2", detectnet_v2::DetectnetV2 {
        confidence: f64,
        iou: f64,
        max: i64,
        /// The boxes grid output (the coverage is the spec's `output`).
        boxes: String,
    };
    Classify = "classify", classify::Classify { top: i64 };
    /// DB-style text detector: a probability map → boxes labelled "text".
    TextBoxes = "text_boxes", text_boxes::TextBoxes {
        thresh: f64,
        box_thresh: f64,
        unclip_ratio: f64,
        max: i64,
    };
    /// CTC text recogniser: `[N, T, C]` → a string. The alphabet's file (one character
    /// a line); empty: the model's `character` metadata. The runtime reads it once, when
    /// the element starts.
    Ctc = "ctc", ctc::Ctc {
        alphabet: String,
        /// `ctc(blank: last)`: the blank is the last class, not the first.
        blank_last: bool,
    };
    Raw = "raw", raw::Raw;
    /// `yolov8_seg`: boxes + mask coefficients and prototypes → masks. `protos` names
    /// the prototypes output; `masks` is how records write them.
    Yolov8Seg = "yolov8_seg", yolov8_seg::Yolov8Seg {
        confidence: f64,
        iou: f64,
        max: i64,
        protos: String,
        masks: MaskFormat,
    };
    /// `yolov8_pose`: boxes + keypoints, and the bones `overlay` draws between them.
    Yolov8Pose = "yolov8_pose", yolov8_pose::Yolov8Pose {
        confidence: f64,
        iou: f64,
        max: i64,
        skeleton: Skeleton,
    };
    /// `semantic`: a class map → one masked object a class.
    Semantic = "semantic", semantic::Semantic { masks: MaskFormat, min_area: i64 };
}

impl Decoder {
    /// The decoder the program calls `name`: the one place a decoder's name is read.
    pub fn named(name: &str) -> Option<Decoder> {
        Decoder::ALL.iter().copied().find(|d| d.name() == name)
    }

    pub fn family(self) -> Family {
        self.rules().family()
    }

    pub fn letterboxes(self) -> bool {
        self.rules().letterboxes()
    }

    pub fn reads(self) -> Reads {
        self.rules().reads()
    }
}

impl std::fmt::Display for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The decoder whose layout this output has, for E0304's suggestion: the one decoder
/// whose [`Rules::looks_like`] takes it (`[1, 84, 8400]` is yolov8, `[1, 25200, 85]`
/// yolov5, `[1, 300, 84]` detr, `[1, 10]` classify); none where several or none do.
pub fn suggest(dims: &[Option<i64>]) -> Option<Decoder> {
    let mut fitting = Decoder::ALL
        .iter()
        .copied()
        .filter(|d| d.rules().looks_like(dims));
    let first = fitting.next()?;
    fitting.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdlib::stdlib;
    use crate::syntax::ast::Role;

    #[test]
    fn every_decoder_of_the_registry_is_declared_in_the_stdlib_and_back() {
        let declared: Vec<&str> = stdlib().names_with_role(Role::Decoder).collect();
        for d in Decoder::ALL {
            assert!(declared.contains(&d.name()), "{d} has no `builtin decoder`");
        }
        for name in &declared {
            assert!(
                Decoder::named(name).is_some(),
                "{name} is not in the registry"
            );
        }
        assert_eq!(declared.len(), Decoder::ALL.len());
    }

    #[test]
    fn a_shape_is_suggested_only_where_one_decoder_takes_it() {
        assert_eq!(
            suggest(&[Some(1), Some(84), Some(8400)]),
            Some(Decoder::Yolov8)
        );
        assert_eq!(
            suggest(&[Some(1), Some(25200), Some(85)]),
            Some(Decoder::Yolov5)
        );
        assert_eq!(
            suggest(&[Some(1), Some(300), Some(84)]),
            Some(Decoder::Detr)
        );
        assert_eq!(suggest(&[Some(1), Some(1000)]), Some(Decoder::Classify));
        // A one-class YOLOv5 or DeepStream-Yolo's decoded boxes: not told apart.
        assert_eq!(suggest(&[Some(1), Some(8400), Some(6)]), None);
        for d in Decoder::ALL {
            assert!(
                !d.rules().looks_like(&[Some(1), Some(8400), Some(6)]),
                "{d} is suggested for six values a row"
            );
        }
    }
}
