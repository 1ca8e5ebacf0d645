//! What each built-in is, as one enum: resolved once from its stdlib declaration (role and
//! name) when the stdlib is loaded, carried on every `BoundCall`, and matched exhaustively
//! by the checker, the IR builder and lowering, so no behaviour hangs on a name compared as
//! a string. A built-in declared in `stdlib/*.vpl` with no kind here is not loaded, and
//! `stdlib::tests::every_builtin_has_a_kind` fails.

use crate::syntax::ast::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StageKind {
    Source(Source),
    Stage(Stage),
    Sink(Sink),
    Model(Model),
    Decoder(Decoder),
    Geometry(Geometry),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    File,
    Rtsp,
    Test,
    Camera,
    /// `pool(max: N) : video<…>`: `max` slots that streams are bound to at run time
    /// (`compiler/src/pool.rs`).
    Pool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Decode,
    Encode,
    Convert,
    Scale,
    Rate,
    Batch,
    Unbatch,
    Tile,
    Infer,
    Track,
    Filter,
    Overlay,
    Json,
    /// Zones and lines: counts, crossings, dwell (`compiler/src/check/zones.rs`).
    Analyze,
    /// Analytics → event messages (records).
    Events,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sink {
    /// `.jsonl` records or a video container, by the path's extension.
    File,
    Stdout,
    Discard,
    Display,
    RtspOut,
    /// Records to a broker: `mqtt(url, topic)`, `redis(url, stream)`.
    Mqtt,
    Redis,
    /// `kafka(brokers, topic)`: `compiler/src/brokers/kafka.rs`.
    Kafka,
    /// Clips of encoded video around the frames that meet a condition.
    Record,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    Onnx,
}

/// Shapes declared as constants for `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Geometry {
    /// A polygon.
    Zone,
    /// A segment with a direction.
    Line,
}

/// A model's decoder. What each one is (its name, family, outputs, whether frames are
/// letterboxed for it) is said by the methods below, each an exhaustive `match`: a decoder
/// added here makes rustc list every place that has to handle it, in the checker too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoder {
    Yolov8,
    /// YOLOv5/v7/YOLOX: `[N, anchors, 5 + classes]` (`check/model/boxes.rs`).
    Yolov5,
    /// DETR-style: one box per query, no NMS.
    Detr,
    /// SSD-style: box offsets from anchors + class scores.
    Ssd,
    Classify,
    /// DB-style text detector: a probability map → boxes labelled "text".
    TextBoxes,
    /// CTC text recogniser: `[N, T, C]` → a string.
    Ctc,
    Raw,
    /// `yolov8_seg`: boxes + mask coefficients and prototypes → masks.
    Yolov8Seg,
    /// `yolov8_pose`: boxes + keypoints.
    Yolov8Pose,
    /// `semantic`: a class map → one masked object a class.
    Semantic,
}

impl StageKind {
    /// The kind of the built-in `name` declared with `role`; `None` for one vpl has no
    /// behaviour for.
    pub fn of(role: Role, name: &str) -> Option<StageKind> {
        Some(match (role, name) {
            (Role::Source, "file") => StageKind::Source(Source::File),
            (Role::Source, "rtsp") => StageKind::Source(Source::Rtsp),
            (Role::Source, "test") => StageKind::Source(Source::Test),
            (Role::Source, "camera") => StageKind::Source(Source::Camera),
            (Role::Source, "pool") => StageKind::Source(Source::Pool),
            (Role::Stage, "decode") => StageKind::Stage(Stage::Decode),
            (Role::Stage, "encode") => StageKind::Stage(Stage::Encode),
            (Role::Stage, "convert") => StageKind::Stage(Stage::Convert),
            (Role::Stage, "scale") => StageKind::Stage(Stage::Scale),
            (Role::Stage, "rate") => StageKind::Stage(Stage::Rate),
            (Role::Stage, "batch") => StageKind::Stage(Stage::Batch),
            (Role::Stage, "unbatch") => StageKind::Stage(Stage::Unbatch),
            (Role::Stage, "tile") => StageKind::Stage(Stage::Tile),
            (Role::Stage, "infer") => StageKind::Stage(Stage::Infer),
            (Role::Stage, "track") => StageKind::Stage(Stage::Track),
            (Role::Stage, "filter") => StageKind::Stage(Stage::Filter),
            (Role::Stage, "overlay") => StageKind::Stage(Stage::Overlay),
            (Role::Stage, "json") => StageKind::Stage(Stage::Json),
            (Role::Stage, "analyze") => StageKind::Stage(Stage::Analyze),
            (Role::Stage, "events") => StageKind::Stage(Stage::Events),
            (Role::Geometry, "zone") => StageKind::Geometry(Geometry::Zone),
            (Role::Geometry, "line") => StageKind::Geometry(Geometry::Line),
            (Role::Sink, "file") => StageKind::Sink(Sink::File),
            (Role::Sink, "stdout") => StageKind::Sink(Sink::Stdout),
            (Role::Sink, "discard") => StageKind::Sink(Sink::Discard),
            (Role::Sink, "display") => StageKind::Sink(Sink::Display),
            (Role::Sink, "rtsp_out") => StageKind::Sink(Sink::RtspOut),
            (Role::Sink, "mqtt") => StageKind::Sink(Sink::Mqtt),
            (Role::Sink, "redis") => StageKind::Sink(Sink::Redis),
            (Role::Sink, "kafka") => StageKind::Sink(Sink::Kafka),
            (Role::Sink, "record") => StageKind::Sink(Sink::Record),
            (Role::Model, "onnx") => StageKind::Model(Model::Onnx),
            (Role::Decoder, name) => StageKind::Decoder(Decoder::named(name)?),
            _ => return None,
        })
    }

    /// The decoder, for a decoder's kind.
    pub fn decoder(self) -> Option<Decoder> {
        match self {
            StageKind::Decoder(d) => Some(d),
            StageKind::Source(_)
            | StageKind::Stage(_)
            | StageKind::Sink(_)
            | StageKind::Model(_)
            | StageKind::Geometry(_) => None,
        }
    }

    pub fn role(self) -> Role {
        match self {
            StageKind::Source(_) => Role::Source,
            StageKind::Stage(_) => Role::Stage,
            StageKind::Sink(_) => Role::Sink,
            StageKind::Model(_) => Role::Model,
            StageKind::Decoder(_) => Role::Decoder,
            StageKind::Geometry(_) => Role::Geometry,
        }
    }
}

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
}

impl Decoder {
    /// Every decoder, in the stdlib's order.
    pub const ALL: [Decoder; 11] = [
        Decoder::Yolov8,
        Decoder::Yolov5,
        Decoder::Detr,
        Decoder::Ssd,
        Decoder::Classify,
        Decoder::TextBoxes,
        Decoder::Ctc,
        Decoder::Raw,
        Decoder::Yolov8Seg,
        Decoder::Yolov8Pose,
        Decoder::Semantic,
    ];

    /// The decoder the program calls `name`: the one place a decoder's name is read.
    pub fn named(name: &str) -> Option<Decoder> {
        Decoder::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The name the program calls it by (`decoder: yolov8_seg()`), and messages show.
    pub fn name(self) -> &'static str {
        match self {
            Decoder::Yolov8 => "yolov8",
            Decoder::Yolov5 => "yolov5",
            Decoder::Detr => "detr",
            Decoder::Ssd => "ssd",
            Decoder::Classify => "classify",
            Decoder::TextBoxes => "text_boxes",
            Decoder::Ctc => "ctc",
            Decoder::Raw => "raw",
            Decoder::Yolov8Seg => "yolov8_seg",
            Decoder::Yolov8Pose => "yolov8_pose",
            Decoder::Semantic => "semantic",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Decoder::Yolov8 | Decoder::Yolov5 | Decoder::Detr | Decoder::Ssd => Family::Boxes,
            Decoder::Yolov8Seg | Decoder::Yolov8Pose | Decoder::Semantic => Family::MasksKeypoints,
            Decoder::TextBoxes | Decoder::Ctc => Family::Text,
            Decoder::Classify => Family::Classify,
            Decoder::Raw => Family::Raw,
        }
    }

    /// Whether frames are letterboxed for it when the model's `resize:` is not given
    /// (the YOLO family is trained on letterboxed images); the others stretch.
    pub fn letterboxes(self) -> bool {
        match self {
            Decoder::Yolov8 | Decoder::Yolov5 | Decoder::Yolov8Seg | Decoder::Yolov8Pose => true,
            Decoder::Detr
            | Decoder::Ssd
            | Decoder::Classify
            | Decoder::TextBoxes
            | Decoder::Ctc
            | Decoder::Raw
            | Decoder::Semantic => false,
        }
    }

    pub fn reads(self) -> Reads {
        match self {
            Decoder::Yolov8
            | Decoder::Yolov5
            | Decoder::Classify
            | Decoder::TextBoxes
            | Decoder::Ctc
            | Decoder::Yolov8Pose
            | Decoder::Semantic => Reads::One,
            Decoder::Detr => Reads::OneOrBoxesApart,
            Decoder::Ssd => Reads::BoxesAndScores,
            Decoder::Yolov8Seg => Reads::DetectionsAndPrototypes,
            Decoder::Raw => Reads::Every,
        }
    }
}

impl std::fmt::Display for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decoder_is_read_back_from_its_name_once() {
        for d in Decoder::ALL {
            assert_eq!(
                StageKind::of(Role::Decoder, d.name()),
                Some(StageKind::Decoder(d))
            );
            assert_eq!(Decoder::ALL.iter().filter(|o| **o == d).count(), 1);
        }
        assert_eq!(StageKind::of(Role::Decoder, "yolo"), None);
        assert_eq!(StageKind::of(Role::Stage, "yolov8"), None);
    }
}
