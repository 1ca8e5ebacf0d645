//! `analyze` and `events` on a real video: the first 51 frames (5 s) of vtest.avi, one zone
//! and one line, against counts read by hand from the frames.
//!
//! How the numbers were read: the frames were extracted with
//! `gst-launch-1.0 filesrc location=assets/media/vtest.avi ! decodebin ! videoconvert !
//! video/x-raw,format=RGB ! pngenc ! multifilesink location=f%04d.png` and looked at one by
//! one (frames 0, 10, 25, 50, and those between where needed), placing each person by the
//! middle of their feet, as `analyze` places an object (the middle of its box's bottom
//! edge).
//!
//! - The zone `square` is the paved area right of x = 480, between y = 200 and y = 420.
//!   Frame 0: two people stand in it (the man in the black jacket and jeans at about
//!   (515, 230), walking left; a man in a black coat at about (665, 318), walking left);
//!   the man on the grass (265, 305) and the one lying on the grass are outside: **2**.
//!   Frame 25: the man in the red and dark jacket carrying papers (678, 360) and the woman
//!   in the black coat (710, 352), both walking left; the black-coat man of frame 0 is now
//!   near the lamp post (x < 430): **2**. Frame 50: the red jacket (520, 305), the woman
//!   (568, 298) and a man who came in from the right (692, 370): **3** (three people are
//!   by the lamp post, x < 450, outside).
//! - The line `post` is vertical at x = 620, from y = 420 up to y = 250 (drawn upwards, so
//!   `forward` is walking right). Between frames 0 and 50, three people walk left across
//!   it, nobody right: the black-coat man (x 665 at frame 0, 565 at frame 10), the red
//!   jacket (678 at frame 25, 520 at frame 50) and the woman (710 → 568): **3 backward,
//!   0 forward**. The man who came in from the right is still at x = 692 at frame 50.
//!
//! The detector runs at its default confidence (0.25): at 0.4 it misses the black-coat man
//! from frame 1 to frame 20, and his crossing with him.

mod common;

use common::{asset, lines, run_ok, temp_dir};

#[test]
fn vtest_zone_counts_and_line_crossings_match_the_frames() {
    let dir = temp_dir("analytics-vtest");
    let program = dir.join("counted.vpl");
    let text = format!(
        r#"model people = onnx("{model}", labels: ["person", "fallen"], decoder: yolov8());
const square = zone([[480, 200], [768, 200], [768, 420], [480, 420]], size: 768x576);
const post = line([[620, 420], [620, 250]], size: 768x576);
pipeline counted {{
    let c = file("{video}") | decode | infer(people) | track(iou, max_age: 30)
        | analyze(zones: [square], lines: [post]);
    c | json | file("records.jsonl");
    c | events(on: [crossing]) | file("events.jsonl");
}}
"#,
        model = asset("assets/models/person_yolov8s.onnx"),
        video = asset("assets/media/vtest.avi"),
    );
    std::fs::write(&program, text).expect("write program");
    run_ok(&program, &["--max-frames", "51"]);
    let records = lines(&dir.join("records.jsonl"));
    assert_eq!(records.len(), 51);
    let zone_count = |frame: usize| records[frame]["analytics"]["zones"][0]["count"].clone();
    assert_eq!(zone_count(0), 2, "frame 0: {}", records[0]);
    assert_eq!(zone_count(25), 2, "frame 25: {}", records[25]);
    assert_eq!(zone_count(50), 3, "frame 50: {}", records[50]);
    let line = &records[50]["analytics"]["lines"][0];
    assert_eq!(line["line"], "post");
    assert_eq!(
        (line["forward"].clone(), line["backward"].clone()),
        (0.into(), 3.into()),
        "{line}"
    );
    assert_eq!(line["classes"]["person"]["backward"], 3);
    // One crossing event each, naming a track, in the schema of docs/records.md.
    let events = lines(&dir.join("events.jsonl"));
    assert_eq!(events.len(), 3, "{events:?}");
    for (i, e) in events.iter().enumerate() {
        // `PIPELINE-STREAM-RUN-N`: the run's id is 16 hex digits (docs/records.md).
        let id = e["messageid"].as_str().expect("a message id");
        let run = &id["counted-0-".len()..id.len() - format!("-{i}").len()];
        assert_eq!(id, format!("counted-0-{run}-{i}"));
        assert!(
            run.len() == 16 && run.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
        assert_eq!(e["event"]["id"], id);
        assert_eq!(e["event"]["type"], "crossing");
        assert_eq!(e["event"]["line"], "post");
        assert_eq!(e["event"]["direction"], "backward");
        assert!(
            e["object"]["id"].is_string() && e["@timestamp"].is_string(),
            "{e}"
        );
        assert_eq!(e["sensorId"], "vtest.avi");
        assert_eq!(
            e["sensor"]["id"], "vtest.avi",
            "DeepStream's full schema's name"
        );
    }
    // The objects that crossed say so on the frame they did.
    let crossed: usize = records
        .iter()
        .flat_map(|r| r["objects"].as_array().cloned().unwrap_or_default())
        .filter(|o| o["crossed"].is_array())
        .count();
    assert_eq!(crossed, 3);
}

/// Streams made in flows of their own, each with its own `infer`, then listed in another
/// order: every record names the stream of its source (the sources' order, as `--stats`
/// counts them), not its place in the list nor the `infer` it went through.
#[test]
fn streams_listed_from_separate_flows_keep_their_ids() {
    let dir = temp_dir("analytics-stream-ids");
    let program = dir.join("ids.vpl");
    let text = format!(
        r#"model people = onnx("{model}", labels: ["person", "fallen"], decoder: yolov8());
pipeline ids {{
    let a = file("{video}") | decode | infer(people);
    let b = test(pattern: ball, resolution: 320x240, frames: 8) | infer(people);
    [b, a] | json | file("records.jsonl");
}}
"#,
        model = asset("assets/models/person_yolov8s.onnx"),
        video = asset("assets/media/vtest.avi"),
    );
    std::fs::write(&program, text).expect("write program");
    let stats = run_ok(&program, &["--max-frames", "8"]);
    assert_eq!(stats["frames"].as_array().map(Vec::len), Some(2), "{stats}");
    let records = lines(&dir.join("records.jsonl"));
    assert_eq!(records.len(), 16, "{records:?}");
    for r in &records {
        let want = match r["source"].as_str() {
            Some("vtest.avi") => 0,
            Some("test:ball") => 1,
            other => panic!("a record of an unknown source {other:?}"),
        };
        assert_eq!(r["stream"], want, "{r}");
    }
}

/// Two `events` stages on one stream in one run, and the same program run twice: no two
/// messages share an id, and each stage's messages count the stream's events together.
#[test]
fn message_ids_are_unique_across_stages_and_runs() {
    let dir = temp_dir("analytics-message-ids");
    let program = dir.join("ids.vpl");
    let text = format!(
        r#"model people = onnx("{model}", labels: ["person", "fallen"], decoder: yolov8());
const square = zone([[480, 200], [768, 200], [768, 420], [480, 420]], size: 768x576);
pipeline ids {{
    let c = file("{video}") | decode | infer(people) | analyze(zones: [square]);
    c | events(on: [count]) | file("one.jsonl");
    c | events(on: [count, appeared]) | file("two.jsonl");
}}
"#,
        model = asset("assets/models/person_yolov8s.onnx"),
        video = asset("assets/media/vtest.avi"),
    );
    std::fs::write(&program, text).expect("write program");
    let mut ids = Vec::new();
    for run in 0..2 {
        run_ok(&program, &["--max-frames", "12"]);
        let mut this_run = Vec::new();
        for file in ["one.jsonl", "two.jsonl"] {
            let events = lines(&dir.join(file));
            assert!(!events.is_empty(), "run {run}: no events in {file}");
            for e in events {
                let id = e["messageid"].as_str().expect("a message id").to_string();
                assert!(id.starts_with("ids-0-"), "{id}");
                assert_eq!(e["event"]["id"], id.as_str());
                this_run.push(id);
            }
        }
        // Numbered together: N runs from 0 with no gap over both stages.
        let mut numbers: Vec<u64> = this_run
            .iter()
            .map(|id| {
                id.rsplit('-')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("N")
            })
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (0..this_run.len() as u64).collect::<Vec<_>>());
        ids.extend(this_run);
    }
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a message id repeats: {ids:?}");
}

/// Found by a hostile test (issue 19): after `tile`, the analytics keyed tracks by their id
/// alone, and each stream's tracker counts from 1, so one track seemed to jump between the
/// cells: hundreds of crossings where there were none. vtest.avi twice side by side, the
/// line `post` drawn in each cell: each cell counts its own 3 backward crossings, as the
/// stream alone does (`vtest_zone_counts_and_line_crossings_match_the_frames`).
#[test]
fn vtest_tiled_twice_counts_each_cells_crossings_once() {
    let dir = temp_dir("analytics-tiled");
    let program = dir.join("tiled.vpl");
    let text = format!(
        r#"model people = onnx("{model}", labels: ["person", "fallen"], decoder: yolov8());
const left = line([[620, 420], [620, 250]], size: 1536x576);
const right = line([[1388, 420], [1388, 250]], size: 1536x576);
pipeline tiled {{
    [file("{video}"), file("{video}")] | decode | infer(people) | track(iou, max_age: 30)
        | tile(2, 1, resolution: 1536x576) | analyze(lines: [left, right])
        | json | file("records.jsonl");
}}
"#,
        model = asset("assets/models/person_yolov8s.onnx"),
        video = asset("assets/media/vtest.avi"),
    );
    std::fs::write(&program, text).expect("write program");
    run_ok(&program, &["--max-frames", "51"]);
    let records = lines(&dir.join("records.jsonl"));
    assert!(records.len() >= 50, "{} frames", records.len());
    let last = records.last().expect("a record");
    let ids: Vec<u64> = last["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["track_id"].as_u64())
        .collect();
    assert!(
        ids.iter()
            .any(|id| ids.iter().filter(|i| *i == id).count() == 2),
        "both cells use the same track ids: {ids:?}"
    );
    let counts: Vec<(String, u64, u64)> = last["analytics"]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["line"].as_str().unwrap_or_default().to_string(),
                l["forward"].as_u64().unwrap_or(u64::MAX),
                l["backward"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("left".to_string(), 0, 3), ("right".to_string(), 0, 3)],
        "{}",
        last["analytics"]
    );
}
