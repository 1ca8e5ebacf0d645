//! Issue 7's stages end to end with the real `vplc` binary on the real assets: secondary
//! inference on crops, inference on one frame in N, tiles carrying their objects, and a
//! tracked pedestrian on vtest.avi.

mod common;

use common::{asset, lines, temp_dir, vplc};

#[test]
fn secondary_inference_gives_each_person_one_colour() {
    let dir = temp_dir("secondary");
    let program = dir.join("colours.vpl");
    std::fs::write(
        &program,
        format!(
            "model people = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.4));\n\
             model colours = onnx({:?}, labels: {:?}, decoder: classify(top: 1), resize: stretch);\n\n\
             pipeline p {{\n    file({:?}) | decode | infer(people) | infer(colours, on: [\"person\"], min_size: 16x16) | json | file(\"out/c.jsonl\");\n}}\n",
            asset("assets/models/person_yolov8s.onnx"),
            asset("assets/models/colour_classifier.onnx"),
            asset("assets/models/colour_classifier.labels"),
            asset("assets/media/vtest.avi"),
        ),
    )
    .expect("write");
    let out = vplc(&[
        "run",
        "--quiet",
        "--max-frames",
        "5",
        &program.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = lines(&dir.join("out/c.jsonl"));
    assert_eq!(records.len(), 5);
    let (mut labelled, mut small) = (0, 0);
    for r in &records {
        for o in r["objects"].as_array().expect("objects") {
            let labels = o["labels"].as_array().map_or(0, Vec::len);
            let big_enough =
                o["bbox"]["w"].as_f64() >= Some(16.0) && o["bbox"]["h"].as_f64() >= Some(16.0);
            if o["label"] == "person" && big_enough {
                assert_eq!(labels, 1, "one colour label a person: {o}");
                let colour = o["labels"][0]["label"].as_str().unwrap_or("");
                assert!(["red", "green", "blue"].contains(&colour), "{o}");
                labelled += 1;
            } else {
                assert_eq!(
                    labels, 0,
                    "only people of at least 16x16 are classified: {o}"
                );
                small += usize::from(o["label"] == "person");
            }
        }
    }
    assert!(
        labelled >= 10,
        "{labelled} people labelled in 5 frames ({small} too small)"
    );
}

/// Runs `flow` (a stage chain after `file(vtest.avi) | decode`) with the person model into
/// records; returns the records and the run statistics.
fn run_people(name: &str, flow: &str, frames: u32) -> (Vec<serde_json::Value>, serde_json::Value) {
    let dir = temp_dir(name);
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "model people = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.4));\n\n\
             pipeline p {{\n    file({:?}) | decode | {flow} | json | file(\"out/r.jsonl\");\n}}\n",
            asset("assets/models/person_yolov8s.onnx"),
            asset("assets/media/vtest.avi"),
        ),
    )
    .expect("write");
    let stats = dir.join("stats.json");
    let out = vplc(&[
        "run",
        "--quiet",
        "--max-frames",
        &frames.to_string(),
        "--stats",
        &stats.display().to_string(),
        &program.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (lines(&dir.join("out/r.jsonl")), common::stats(&stats))
}

#[test]
fn every_3_repeats_the_last_result_on_the_frames_between() {
    let (records, stats) = run_people("every3", "infer(people, every: 3)", 9);
    assert_eq!(records.len(), 9, "a record for every frame");
    assert_eq!(
        stats["inferred"], 3,
        "the model ran on 3 frames of 9: {stats}"
    );
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["frame"], i, "{r}");
        let objects = r["objects"].as_array().expect("objects");
        assert!(!objects.is_empty(), "frame {i} has people");
        if i % 3 == 0 {
            assert!(r.get("repeated").is_none(), "frame {i} was inferred: {r}");
        } else {
            assert_eq!(r["repeated"], true, "frame {i} repeats: {r}");
            let last = &records[i - i % 3]["objects"];
            assert_eq!(&r["objects"], last, "frame {i} repeats frame {}", i - i % 3);
        }
    }
    // The people walk: a fresh inference does not find exactly the same boxes.
    assert_ne!(records[0]["objects"], records[3]["objects"]);
}

#[test]
fn every_3_with_a_tracker_carries_predicted_boxes() {
    let (records, stats) = run_people("every3sort", "infer(people, every: 3) | track(sort)", 12);
    assert_eq!(records.len(), 12);
    assert_eq!(stats["inferred"], 4, "{stats}");
    let mut moved = 0;
    for (i, r) in records.iter().enumerate() {
        assert!(
            r.get("repeated").is_none(),
            "the tracker replaced repeats: {r}"
        );
        let objects = r["objects"].as_array().expect("objects");
        assert!(!objects.is_empty(), "frame {i} has people");
        let inferred = &records[i - i % 3]["objects"];
        for o in objects {
            let id = &o["track_id"];
            assert!(id.is_u64(), "{o}");
            if i % 3 == 0 {
                assert!(o.get("predicted").is_none(), "{o}");
                continue;
            }
            assert_eq!(o["predicted"], true, "frame {i}: {o}");
            let seen = inferred
                .as_array()
                .and_then(|v| v.iter().find(|p| &p["track_id"] == id))
                .unwrap_or_else(|| panic!("frame {i}: track {id} was seen at the last inference"));
            assert_eq!(seen["label"], o["label"]);
            if seen["bbox"] != o["bbox"] {
                moved += 1;
            }
        }
    }
    assert!(
        moved > 10,
        "predicted boxes move with their tracks ({moved} moved)"
    );
}
