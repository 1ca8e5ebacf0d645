//! `track(byte)` against the reference ByteTrack (`supervision.ByteTrack` 0.26) frame by
//! frame on the same detections, and the tracks the reference gives them
//! (`*.bytetrack.jsonl`, by `scripts/reference_bytetrack.py`; supervision is too heavy for
//! CI, so its answers are committed):
//! - `tests/fixtures/tracking/scene.jsonl`: a synthetic scene of people crossing, hiding
//!   each other (weak boxes), missed and falsely detected (`reference_bytetrack.py --scene`);
//! - `vtest.jsonl`: the person model's detections on vtest.avi's first 60 frames, down to
//!   confidence 0.1 (`yolov8(confidence: 0.1)`), its two classes merged into one, as
//!   ByteTrack ignores classes and `track(byte)` does not.

use serde_json::Value;
use vpl_runtime::elements::track::byte::{ByteParams, ByteTracker};
use vpl_runtime::meta::Object;

const SCENE: &str = include_str!("../../tests/fixtures/tracking/scene.jsonl");
const SCENE_TRACKS: &str = include_str!("../../tests/fixtures/tracking/scene.bytetrack.jsonl");
const VTEST: &str = include_str!("../../tests/fixtures/tracking/vtest.jsonl");
const VTEST_TRACKS: &str = include_str!("../../tests/fixtures/tracking/vtest.bytetrack.jsonl");

fn objects(line: &Value) -> Vec<Object> {
    line["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            let f = |v: &Value| v.as_f64().expect("a number") as f32;
            Object {
                class_id: o["class_id"].as_u64().unwrap_or(0) as u32,
                label: "person".into(),
                confidence: f(&o["confidence"]),
                x: f(&o["bbox"]["x"]),
                y: f(&o["bbox"]["y"]),
                w: f(&o["bbox"]["w"]),
                h: f(&o["bbox"]["h"]),
                track_id: o["track_id"].as_u64(),
                ..Object::default()
            }
        })
        .collect()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// (box, track id) of each object, in order.
fn tracks(objects: &[Object]) -> Vec<([f32; 4], Option<u64>)> {
    objects
        .iter()
        .map(|o| ([o.x, o.y, o.w, o.h], o.track_id))
        .collect()
}

/// Tracks `detections` with ByteTrack's defaults and compares each frame with
/// `reference`; returns the weak boxes (below `high`) kept and the ids seen.
fn compare(detections: &str, reference: &str) -> (usize, std::collections::BTreeSet<u64>) {
    let scene = lines(detections);
    let reference = lines(reference);
    assert_eq!(scene.len(), reference.len());
    let mut tracker = ByteTracker::new(ByteParams::default());
    let (mut weak, mut ids) = (0, std::collections::BTreeSet::new());
    for (frame, (input, want)) in scene.iter().zip(&reference).enumerate() {
        let mut got = objects(input);
        tracker.update(&mut got);
        let want = objects(want);
        assert_eq!(tracks(&got), tracks(&want), "frame {frame}");
        weak += want.iter().filter(|o| o.confidence < 0.5).count();
        ids.extend(want.iter().filter_map(|o| o.track_id));
    }
    (weak, ids)
}

#[test]
fn byte_equals_the_reference_bytetrack_on_a_synthetic_scene() {
    assert!(SCENE.lines().count() >= 200);
    let (weak, ids) = compare(SCENE, SCENE_TRACKS);
    // What the scene exercises: weak boxes continuing tracks, and several tracks.
    assert!(weak >= 20, "{weak} weak boxes kept");
    assert!(ids.len() >= 8, "{} tracks", ids.len());
}

#[test]
fn byte_equals_the_reference_bytetrack_on_a_detectors_boxes() {
    assert_eq!(VTEST.lines().count(), 60);
    let (weak, ids) = compare(VTEST, VTEST_TRACKS);
    assert!(weak >= 20, "{weak} weak boxes kept");
    assert!(ids.len() >= 5, "{} tracks", ids.len());
}
