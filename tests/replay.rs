//! `replay` end to end with the real `vplc`: a hand-written records file comes back through
//! `json` object for object, and the records of a tracked run on vtest.avi, replayed through
//! the same tracker, give back the same tracks frame by frame (issue 24).

mod common;

use common::{asset, lines, run_ok, temp_dir};
use serde_json::{Value, json};

/// A frame's record as `json` writes it, with `objects`.
fn record(frame: u64, objects: Value) -> Value {
    json!({"pipeline": "rec", "stream": 0, "source": "cam.mp4", "frame": frame,
           "pts_ns": frame * 100_000_000, "width": 64, "height": 48, "objects": objects})
}

fn write_records(path: &std::path::Path, records: &[Value]) {
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).expect("write records");
}

/// Frames 0, 1 and 3 recorded (2 left out), with the always-present fields and the
/// optional ones a replay carries (track ids, classifier labels, text, keypoints): replayed
/// on black frames into `json`, every object comes back as it was, frame 2 has none, and
/// the frames are timed by `rate:`.
#[test]
fn a_hand_written_records_file_comes_back_through_json() {
    let dir = temp_dir("replay-hand");
    let objects = [
        json!([{"label": "person", "class_id": 0, "confidence": 0.75,
                "bbox": {"x": 1.5, "y": 2.25, "w": 10.0, "h": 20.0}}]),
        json!([{"label": "car", "class_id": 2, "confidence": 0.5,
                "bbox": {"x": 30.0, "y": 10.0, "w": 8.0, "h": 6.0}, "track_id": 7,
                "labels": [{"model": "colours", "label": "red", "confidence": 0.25}]},
               {"label": "person", "class_id": 0, "confidence": 0.125,
                "bbox": {"x": 0.0, "y": 0.0, "w": 64.0, "h": 48.0}, "text": "STOP",
                "keypoints": [[1.0, 2.0, 0.5], [3.0, 4.0, 1.0]]}]),
        json!([]),
        json!([{"label": "car", "class_id": 2, "confidence": 1.0,
                "bbox": {"x": 31.0, "y": 10.5, "w": 8.0, "h": 6.0}, "track_id": 7}]),
    ];
    let records: Vec<Value> = [0, 1, 3]
        .into_iter()
        .map(|f| record(f as u64, objects[f].clone()))
        .collect();
    write_records(&dir.join("hand.jsonl"), &records);
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline back {\n    replay(\"hand.jsonl\", size: 64x48, rate: 10fps) | json | file(\"out/r.jsonl\");\n}\n",
    )
    .expect("write program");
    let stats = run_ok(&program, &[]);
    assert_eq!(stats["frames"], json!([4]), "frames 0 to 3: {stats}");
    assert_eq!(stats["exit"], "eos", "{stats}");
    assert_eq!(
        (&stats["objects"], &stats["inferred"]),
        (&json!(4), &json!(0)),
        "the replayed objects are counted, and no model ran: {stats}"
    );
    let back = lines(&dir.join("out/r.jsonl"));
    assert_eq!(back.len(), 4);
    for (f, r) in back.iter().enumerate() {
        assert_eq!(r["frame"], f, "{r}");
        assert_eq!(r["pts_ns"], f as u64 * 100_000_000, "{r}");
        assert_eq!((&r["width"], &r["height"]), (&json!(64), &json!(48)), "{r}");
        assert_eq!(r["objects"], objects[f], "frame {f}");
        assert_eq!(r["source"], "hand.jsonl", "{r}");
    }
}

/// The person model and `track(sort)` on 30 frames of vtest.avi write their records; those
/// records replayed through `track(sort)`, on the video, and without their track ids on
/// black frames, give every frame the same objects with the same track ids as the run that
/// made them.
#[test]
fn people_records_replayed_through_sort_give_the_same_tracks() {
    let dir = temp_dir("replay-people");
    let model = format!(
        "model people = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.4, iou: 0.5));\n",
        asset("assets/models/person_yolov8s.onnx")
    );
    let vtest = format!("{:?}", asset("assets/media/vtest.avi"));
    let original = dir.join("original.vpl");
    std::fs::write(
        &original,
        format!(
            "{model}pipeline watch {{\n    file({vtest}) | decode | infer(people) | track(sort) | json | file(\"out/people.jsonl\");\n}}\n"
        ),
    )
    .expect("write program");
    run_ok(&original, &["--max-frames", "30"]);
    let recorded = lines(&dir.join("out/people.jsonl"));
    assert_eq!(recorded.len(), 30);
    let tracks: std::collections::BTreeSet<u64> = recorded
        .iter()
        .flat_map(|r| r["objects"].as_array().cloned().unwrap_or_default())
        .filter_map(|o| o["track_id"].as_u64())
        .collect();
    assert!(tracks.len() >= 3, "several people tracked: {tracks:?}");

    // The same records without their track ids: the tracks must be made again.
    let untracked: Vec<Value> = recorded
        .iter()
        .map(|r| {
            let mut r = r.clone();
            for o in r["objects"].as_array_mut().into_iter().flatten() {
                o.as_object_mut().map(|o| o.remove("track_id"));
            }
            r
        })
        .collect();
    write_records(&dir.join("out/untracked.jsonl"), &untracked);
    assert_ne!(untracked, recorded);
    for (name, records, frames, args) in [
        (
            "video",
            "people",
            format!("video: {vtest}"),
            vec!["--max-frames", "30"],
        ),
        (
            "black",
            "untracked",
            "size: 768x576, rate: 10fps".to_string(),
            vec![],
        ),
    ] {
        let program = dir.join(format!("{name}.vpl"));
        std::fs::write(
            &program,
            format!(
                "pipeline watch {{\n    replay(\"out/{records}.jsonl\", {frames}) | track(sort) | json | file(\"out/{name}.jsonl\");\n}}\n"
            ),
        )
        .expect("write program");
        let stats = run_ok(&program, &args);
        assert_eq!(stats["frames"], json!([30]), "{name}: {stats}");
        let replayed = lines(&dir.join(format!("out/{name}.jsonl")));
        assert_eq!(replayed.len(), 30, "{name}");
        for (r, o) in replayed.iter().zip(&recorded) {
            assert_eq!(r["frame"], o["frame"], "{name}");
            assert_eq!(r["pts_ns"], o["pts_ns"], "{name}: frame {}", o["frame"]);
            assert_eq!(
                r["objects"], o["objects"],
                "{name}: frame {}: replayed tracks differ",
                o["frame"]
            );
        }
    }
}

/// The fixture's person walks right over 5 frames (box centres x = 35 to 67): replayed
/// through `track`, `analyze` and `events`, it crosses a line at x = 50 once, between
/// frames 1 and 2, as it would have in the run that recorded it.
#[test]
fn analytics_and_events_run_on_replayed_objects() {
    let dir = temp_dir("replay-events");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "const gate = line([[50, 0], [50, 240]], size: 320x240);\n\
             pipeline gates {{\n    replay({:?}, size: 320x240, rate: 30fps) | track(sort) \
             | analyze(lines: [gate]) | events(on: [crossing]) | file(\"out/e.jsonl\");\n}}\n",
            asset("tests/fixtures/records/people_320x240.jsonl")
        ),
    )
    .expect("write program");
    run_ok(&program, &[]);
    let events = lines(&dir.join("out/e.jsonl"));
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(
        (&e["event"]["type"], &e["event"]["line"], &e["frame"]),
        (&json!("crossing"), &json!("gate"), &json!(2)),
        "{e}"
    );
    assert_eq!(e["object"]["label"], "person", "{e}");
}
