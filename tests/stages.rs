//! Issue 7's stages end to end with the real `vplc` binary on the real assets: secondary
//! inference on crops, inference on one frame in N, tiles carrying their objects, and a
//! tracked pedestrian on vtest.avi.

mod common;

use common::{asset, lines, run_ok, temp_dir};

/// The models the tests use, and `VTEST` in a pipeline body names vtest.avi.
fn program(body: &str) -> String {
    format!(
        "model people = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.4));\n\
         model colours = onnx({:?}, labels: {:?}, decoder: classify(top: 1), resize: stretch);\n\n\
         pipeline p {{\n{}\n}}\n",
        asset("assets/models/person_yolov8s.onnx"),
        asset("assets/models/colour_classifier.onnx"),
        asset("assets/models/colour_classifier.labels"),
        body.replace("VTEST", &format!("{:?}", asset("assets/media/vtest.avi"))),
    )
}

/// Runs the pipeline `body` (see [`program`]) on `frames` frames a stream in a fresh
/// directory; the run must succeed. Returns the directory, the records of `out/r.jsonl`
/// (when written) and the run statistics.
fn run(
    name: &str,
    body: &str,
    frames: u32,
) -> (
    std::path::PathBuf,
    Vec<serde_json::Value>,
    serde_json::Value,
) {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    std::fs::write(&file, program(body)).expect("write");
    let stats = run_ok(&file, &["--max-frames", &frames.to_string()]);
    let records_file = dir.join("out/r.jsonl");
    let records = if records_file.exists() {
        lines(&records_file)
    } else {
        Vec::new()
    };
    (dir, records, stats)
}

/// Runs `flow` (a stage chain after `file(vtest.avi) | decode`) into records; returns the
/// records and the run statistics.
fn run_people(name: &str, flow: &str, frames: u32) -> (Vec<serde_json::Value>, serde_json::Value) {
    let body = format!("    file(VTEST) | decode | {flow} | json | file(\"out/r.jsonl\");");
    let (_, records, stats) = run(name, &body, frames);
    (records, stats)
}

#[test]
fn secondary_inference_gives_each_person_one_colour() {
    let (records, _) = run_people(
        "secondary",
        "infer(people) | infer(colours, on: [\"person\"], min_size: 16x16)",
        5,
    );
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

/// Decodes the first frame of an MP4 to packed RGB with gst-launch-1.0.
fn first_frame_rgb(video: &std::path::Path, dir: &std::path::Path) -> Vec<u8> {
    let raw = dir.join("frame.rgb");
    let status = std::process::Command::new("gst-launch-1.0")
        .args(["-q", "filesrc"])
        .arg(format!("location={}", video.display()))
        .args([
            "!",
            "qtdemux",
            "!",
            "h264parse",
            "!",
            "avdec_h264",
            "!",
            "videoconvert",
        ])
        .args(["!", "video/x-raw,format=RGB", "!", "filesink"])
        .arg(format!("location={}", raw.display()))
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success());
    std::fs::read(&raw).expect("raw frames")
}

#[test]
fn two_cameras_tiled_2x1_keep_their_objects_in_their_cells() {
    let (dir, _, _) = run(
        "tile",
        "    let cams = [test(pattern: black, resolution: 768x576, rate: 10fps, frames: 3), file(VTEST) | decode];\n\
         \x20   let seen = cams | infer(people);\n\
         \x20   let tiled = seen | tile(2, 1, resolution: 1536x576);\n\
         \x20   tiled | overlay(labels: false) | encode(h264) | file(\"out/t.mp4\");\n\
         \x20   tiled | json | file(\"out/t.jsonl\");\n\
         \x20   seen | json | file(\"out/s.jsonl\");",
        3,
    );
    let streams = lines(&dir.join("out/s.jsonl"));
    let tiles = lines(&dir.join("out/t.jsonl"));
    assert_eq!(tiles.len(), 3, "one tiled frame per input frame");
    for (k, tile) in tiles.iter().enumerate() {
        assert_eq!(
            (tile["width"].as_u64(), tile["height"].as_u64()),
            (Some(1536), Some(576))
        );
        let camera = streams
            .iter()
            .find(|r| r["stream"] == 1 && r["frame"] == k)
            .expect("camera 1's record");
        let want = camera["objects"].as_array().expect("objects");
        let got = tile["objects"].as_array().expect("objects");
        assert!(!want.is_empty(), "vtest.avi has people on frame {k}");
        assert_eq!(
            got.len(),
            want.len(),
            "frame {k}: the black camera has no one"
        );
        for (g, w) in got.iter().zip(want) {
            let (gx, wx) = (
                g["bbox"]["x"].as_f64().unwrap_or(0.0),
                w["bbox"]["x"].as_f64().unwrap_or(0.0),
            );
            assert!(
                (gx - (wx + 768.0)).abs() < 0.01,
                "frame {k}: {g} is {w} in the right cell"
            );
            assert_eq!(g["bbox"]["y"], w["bbox"]["y"]);
            assert_eq!(g["stream"], 1, "{g} came from camera 1");
            assert_eq!(g["bbox"]["w"], w["bbox"]["w"]);
        }
    }
    // The boxes are drawn in the right cell, and nothing in the black one.
    let rgb = first_frame_rgb(&dir.join("out/t.mp4"), &dir);
    let (width, height) = (1536usize, 576usize);
    assert!(rgb.len() >= width * height * 3);
    // The overlay's colours of "person" and "fallen" (classes 0 and 1).
    let palette = [[255u8, 56, 56], [50, 205, 50]];
    let looks = |x: usize, y: usize, want: [u8; 3]| {
        let p = &rgb[(y * width + x) * 3..][..3];
        p.iter().zip(want).all(|(a, b)| a.abs_diff(b) < 70)
    };
    let left = (0..height)
        .flat_map(|y| (0..768).map(move |x| (x, y)))
        .filter(|&(x, y)| palette.iter().any(|c| looks(x, y, *c)))
        .count();
    assert_eq!(left, 0, "no box drawn in the black cell");
    for o in tiles[0]["objects"].as_array().expect("objects") {
        let b = &o["bbox"];
        let (x, y, w) = (
            b["x"].as_f64().unwrap_or(0.0),
            b["y"].as_f64().unwrap_or(0.0),
            b["w"].as_f64().unwrap_or(0.0),
        );
        let (cx, top) = ((x + w / 2.0) as usize, (y as usize + 1).min(height - 1));
        let colour = palette[o["class_id"].as_u64().unwrap_or(0) as usize % 2];
        assert!(
            x >= 768.0 && looks(cx, top, colour),
            "a box edge drawn at ({cx}, {top}) for {o}"
        );
    }
}

/// Centres of two pedestrians of vtest.avi, read by hand off frames 0, 10, 20 and 29 of
/// the video (pixels): a man in a dark jacket walking right and up the path, seen on every
/// frame, and a woman in black walking left whom the detector misses on about half the
/// frames.
const MAN: [(usize, f64, f64); 4] = [
    (0, 267.0, 262.0),
    (10, 336.0, 250.0),
    (20, 379.0, 235.0),
    (29, 390.0, 225.0),
];
const WOMAN: [(usize, f64, f64); 2] = [(0, 662.0, 282.0), (20, 459.0, 276.0)];

/// The track id of the object whose box centre is within 25 px of `(x, y)` on `frame`.
fn track_at(records: &[serde_json::Value], (frame, x, y): (usize, f64, f64)) -> Option<u64> {
    records[frame]["objects"]
        .as_array()?
        .iter()
        .filter_map(|o| {
            let b = &o["bbox"];
            let cx = b["x"].as_f64()? + b["w"].as_f64()? / 2.0;
            let cy = b["y"].as_f64()? + b["h"].as_f64()? / 2.0;
            let d = (cx - x).hypot(cy - y);
            (d < 25.0).then_some((d, o["track_id"].as_u64()))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .and_then(|(_, id)| id)
}

#[test]
fn a_pedestrian_of_vtest_keeps_one_track_id_over_30_frames() {
    for kind in ["iou", "sort"] {
        let (records, _) = run_people(
            &format!("path-{kind}"),
            &format!("infer(people) | track({kind})"),
            30,
        );
        assert_eq!(records.len(), 30);
        let ids: Vec<Option<u64>> = MAN.iter().map(|p| track_at(&records, *p)).collect();
        assert!(
            ids[0].is_some() && ids.iter().all(|id| *id == ids[0]),
            "{kind}: the man's ids along his path: {ids:?}"
        );
        let frames = records
            .iter()
            .filter(|r| {
                r["objects"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|o| o["track_id"].as_u64() == ids[0]))
            })
            .count();
        assert!(
            frames >= 27,
            "{kind}: the man's track is on {frames} of 30 frames"
        );
        if kind == "sort" {
            // The Kalman filter carries her through the frames the detector misses her on.
            let hers: Vec<Option<u64>> = WOMAN.iter().map(|p| track_at(&records, *p)).collect();
            assert!(
                hers[0].is_some() && hers[0] == hers[1] && hers[0] != ids[0],
                "the woman's ids: {hers:?}"
            );
        }
    }
}

#[test]
fn a_secondary_every_3_gives_tracked_objects_their_labels_on_skipped_frames() {
    let (records, _) = run_people(
        "secondary-every",
        "infer(people) | track(sort) | infer(colours, on: [\"person\"], every: 3)",
        6,
    );
    assert_eq!(records.len(), 6);
    let mut carried = 0;
    for (i, r) in records.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
        let inferred = records[i - i % 3]["objects"].as_array().expect("objects");
        for o in r["objects"].as_array().expect("objects") {
            let before = inferred.iter().find(|p| p["track_id"] == o["track_id"]);
            match before {
                Some(p) if p["label"] == "person" => {
                    assert_eq!(
                        o["labels"], p["labels"],
                        "frame {i}: track {} keeps its colour",
                        o["track_id"]
                    );
                    carried += 1;
                }
                _ => assert!(
                    o.get("labels").is_none(),
                    "frame {i}: a new track has no colour yet: {o}"
                ),
            }
        }
    }
    assert!(carried >= 10, "{carried} labels carried");
}
