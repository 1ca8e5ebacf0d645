//! What each built-in is, as one enum: resolved once from its stdlib declaration (role and
//! name) when the stdlib is loaded, carried on every `BoundCall`, and matched exhaustively
//! by the checker, the IR builder and lowering, so no behaviour hangs on a name compared as
//! a string. A built-in declared in `stdlib/*.vpl` with no kind here is not loaded, and
//! `stdlib::tests::every_builtin_has_a_kind` fails.

pub use crate::decoders::{Decoder, Family, Reads};
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
    /// `replay(records, video: | size:, rate:)`: frames carrying the objects of a records
    /// file (`compiler/src/check/replay.rs`, `compiler/src/records.rs`).
    Replay,
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
    /// A live HLS playlist and its MPEG-TS segments in a directory (`check/hls.rs`).
    Hls,
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
            (Role::Source, "replay") => StageKind::Source(Source::Replay),
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
            (Role::Sink, "hls") => StageKind::Sink(Sink::Hls),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decoder_is_read_back_from_its_name_once() {
        for d in Decoder::ALL {
            assert_eq!(
                StageKind::of(Role::Decoder, d.name()),
                Some(StageKind::Decoder(*d))
            );
            assert_eq!(Decoder::ALL.iter().filter(|o| **o == *d).count(), 1);
        }
        assert_eq!(StageKind::of(Role::Decoder, "yolo"), None);
        assert_eq!(StageKind::of(Role::Stage, "yolov8"), None);
    }
}
