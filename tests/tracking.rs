//! `track(byte)` end to end with the real `vplc` binary: the person model on vtest.avi, its
//! detections (down to confidence 0.1) recorded before the tracker and its tracks after,
//! in one run; the tracks must be what ByteTrack gives those detections, and real tracks.

mod common;

use common::{asset, lines, run_ok, temp_dir};
use serde_json::Value;
use vpl_runtime::elements::track::byte::{ByteParams, ByteTracker};
use vpl_runtime::meta::Object;

/// Runs `file(vtest.avi) | decode | infer(people...)` for `frames` frames with the
/// detections into `out/d.jsonl` and `track(TRACK)`'s records into `out/t.jsonl`.
fn run(name: &str, infer: &str, track: &str, frames: u32) -> (Vec<Value>, Vec<Value>) {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    let program = format!(
        "model people = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.1));\n\n\
         pipeline p {{\n    let d = file({:?}) | decode | {infer};\n    \
         d | json | file(\"out/d.jsonl\");\n    \
         d | track({track}) | json | file(\"out/t.jsonl\");\n}}\n",
        asset("assets/models/person_yolov8s.onnx"),
        asset("assets/media/vtest.avi"),
    );
    std::fs::write(&file, program).expect("write");
    run_ok(&file, &["--max-frames", &frames.to_string()]);
    (
        lines(&dir.join("out/d.jsonl")),
        lines(&dir.join("out/t.jsonl")),
    )
}

fn objects(record: &Value) -> Vec<Object> {
    let f = |v: &Value| v.as_f64().expect("a number") as f32;
    record["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| Object {
            class_id: o["class_id"].as_u64().expect("class_id") as u32,
            confidence: f(&o["confidence"]),
            x: f(&o["bbox"]["x"]),
            y: f(&o["bbox"]["y"]),
            w: f(&o["bbox"]["w"]),
            h: f(&o["bbox"]["h"]),
            track_id: o["track_id"].as_u64(),
            ..Object::default()
        })
        .collect()
}

/// Each object's box (to the records' precision) and track id.
fn tracks(objects: &[Object]) -> Vec<([i64; 4], Option<u64>)> {
    objects
        .iter()
        .map(|o| {
            let r = |v: f32| (f64::from(v) * 100.0).round() as i64;
            ([r(o.x), r(o.y), r(o.w), r(o.h)], o.track_id)
        })
        .collect()
}

#[test]
fn track_byte_on_vtest_gives_bytetracks_tracks_of_the_detections() {
    // The person model scores vtest's people about 0.5: thresholds to suit.
    let params = "byte, high: 0.35, low: 0.15, match: 0.9, max_age: 20";
    let (detections, tracked) = run("byte-vtest", "infer(people)", params, 60);
    assert_eq!((detections.len(), tracked.len()), (60, 60));
    let mut tracker = ByteTracker::new(ByteParams {
        high: 0.35,
        low: 0.15,
        new_track: 0.35 + 0.1,
        matching: 0.9,
        max_age: 20,
    });
    let (mut weak, mut ids) = (0, std::collections::BTreeSet::new());
    for (frame, (d, t)) in detections.iter().zip(&tracked).enumerate() {
        let mut want = objects(d);
        tracker.update(&mut want);
        let got = objects(t);
        assert_eq!(tracks(&got), tracks(&want), "frame {frame}");
        for o in &got {
            assert!(
                o.track_id.is_some() && o.confidence > 0.15,
                "frame {frame}: {o:?}"
            );
            weak += usize::from(o.confidence < 0.35);
            ids.extend(o.track_id);
        }
        assert_eq!(t["frame"], d["frame"]);
    }
    assert!(weak > 0, "weak boxes continue tracks");
    assert!(ids.len() >= 5, "people are tracked: {ids:?}");
    // The man walking up the left of the picture keeps one id from frame 2 (born on 1,
    // confirmed on 2) to 29.
    let near = |frame: usize, x: f64, y: f64| -> Vec<u64> {
        tracked[frame]["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter(|o| {
                let b = &o["bbox"];
                let cx = b["x"].as_f64().unwrap_or(0.0) + b["w"].as_f64().unwrap_or(0.0) / 2.0;
                let cy = b["y"].as_f64().unwrap_or(0.0) + b["h"].as_f64().unwrap_or(0.0) / 2.0;
                (cx - x).hypot(cy - y) < 25.0
            })
            .filter_map(|o| o["track_id"].as_u64())
            .collect()
    };
    let man = near(10, 336.0, 250.0);
    assert_eq!(man.len(), 1, "the man on frame 10: {man:?}");
    for (frame, x, y) in [(2, 270.0, 262.0), (20, 379.0, 235.0), (29, 390.0, 225.0)] {
        let ids = near(frame, x, y);
        assert!(
            ids.contains(&man[0]),
            "frame {frame}: {ids:?}, the man is {man:?}"
        );
    }
}

#[test]
fn track_byte_predicts_the_frames_inference_skips() {
    let (_, tracked) = run(
        "byte-every",
        "infer(people, every: 3)",
        "byte, high: 0.35",
        12,
    );
    assert_eq!(tracked.len(), 12);
    let mut predicted = 0;
    for (i, r) in tracked.iter().enumerate() {
        for o in r["objects"].as_array().expect("objects") {
            assert!(o["track_id"].as_u64().is_some(), "frame {i}: {o}");
            assert_eq!(o["predicted"] == true, i % 3 != 0, "frame {i}: {o}");
            predicted += usize::from(i % 3 != 0);
        }
        assert!(r.get("repeated").is_none(), "frame {i}");
    }
    assert!(predicted >= 8, "{predicted} predicted boxes");
}
