//! What the tests of the analytics, and of `record(when: EVENT)`, share: people walking
//! through a 100 x 100 frame, ten frames a second, past a door zone and lines.

use vpl_compiler::analytics::{Direction, Line, Zone};

use crate::meta::{Object, ObjectsData};

/// Stream time from one frame to the next.
pub(crate) const FRAME_NS: u64 = 100_000_000;

/// A 20 x 40 person of track `track` whose bottom centre is at (`cx`, `bottom`).
pub(crate) fn person(track: u64, cx: f32, bottom: f32) -> Object {
    Object {
        label: "person".into(),
        x: cx - 10.0,
        y: bottom - 40.0,
        w: 20.0,
        h: 40.0,
        track_id: Some(track),
        confidence: 0.9,
        ..Object::default()
    }
}

/// A 100 x 100 frame holding `objects`.
pub(crate) fn frame(objects: Vec<Object>) -> ObjectsData {
    ObjectsData {
        source_width: 100,
        source_height: 100,
        objects,
        ..ObjectsData::default()
    }
}

/// The zone `door`: the left half of the frame, in its pixels; overcrowded above `crowd`
/// objects (0: never).
pub(crate) fn door(crowd: u32) -> Zone {
    Zone {
        name: "door".into(),
        points: vec![[0.0, 0.0], [50.0, 0.0], [50.0, 100.0], [0.0, 100.0]],
        size: Some((100, 100)),
        crowd,
    }
}

/// The line `name` from `a` to `b`, in the frame's pixels, counted both ways.
pub(crate) fn line(name: &str, a: [f64; 2], b: [f64; 2]) -> Line {
    Line {
        name: name.into(),
        a,
        b,
        size: Some((100, 100)),
        direction: Direction::Both,
    }
}
