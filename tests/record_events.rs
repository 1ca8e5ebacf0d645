//! `record(when: crossing, at: "post")` on a real video: the first 51 frames (5 s) of
//! vtest.avi, the line `post` of tests/analytics.rs that three people walk left across
//! (read by hand there: the black-coat man between frames 0 and 10, the red jacket and the
//! woman between frames 25 and 50). The clips are checked against the crossings the same
//! run's records show, frame by frame: one clip per trigger, triggers closer than `after`
//! extending one clip.

mod common;

use common::{asset, lines, run_ok, temp_dir};

/// vtest.avi's rate.
const FPS: f64 = 10.0;
const FRAMES: usize = 51;
const AFTER_S: f64 = 1.0;

#[test]
fn a_clip_per_crossing_trigger_and_overlapping_ones_extend_it() {
    let dir = temp_dir("record-events-vtest");
    let program = dir.join("crossings.vpl");
    let text = format!(
        r#"model people = onnx("{model}", labels: ["person", "fallen"], decoder: yolov8());
const post = line([[620, 420], [620, 250]], size: 768x576);
pipeline crossings {{
    let c = file("{video}") | decode | infer(people) | track(iou, max_age: 30)
        | analyze(lines: [post]);
    c | json | file("records.jsonl");
    c | encode(h264) | record(when: crossing, at: "post", before: 0s, after: 1s, path: "clips/{{n}}.mp4");
}}
"#,
        model = asset("assets/models/person_yolov8s.onnx"),
        video = asset("assets/media/vtest.avi"),
    );
    std::fs::write(&program, text).expect("write program");
    run_ok(&program, &["--max-frames", &FRAMES.to_string()]);
    let records = lines(&dir.join("records.jsonl"));
    assert_eq!(records.len(), FRAMES);
    // The frames on which someone crossed `post`: where `events(on: [crossing])` sends one.
    let crossings: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r["objects"]
                .as_array()
                .is_some_and(|os| os.iter().any(|o| o["crossed"][0]["line"] == "post"))
        })
        .map(|(i, _)| i)
        .collect();
    // Three crossings, as read by hand (tests/analytics.rs): one before frame 10, two after 25.
    assert_eq!(crossings.len(), 3, "{crossings:?}");
    assert!(crossings[0] <= 10 && crossings[1] >= 25, "{crossings:?}");
    // The clips they make: a trigger within `after` of the last extends the open clip.
    let after = (AFTER_S * FPS) as usize;
    let mut expected: Vec<(usize, usize)> = Vec::new();
    for &f in &crossings {
        match expected.last_mut() {
            Some((_, end)) if f < *end => *end = f + after,
            _ => expected.push((f, f + after)),
        }
    }
    let mut clips: Vec<_> = std::fs::read_dir(dir.join("clips"))
        .expect("the clips folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    clips.sort();
    assert_eq!(
        clips.len(),
        expected.len(),
        "crossings on frames {crossings:?}: clips {clips:?}"
    );
    assert!(
        expected.len() >= 2,
        "the first crossing is more than `after` before the others: {crossings:?}"
    );
    for (clip, (first, last)) in clips.iter().zip(&expected) {
        let facts = vpl_runtime::probe::probe_media(clip).expect("a playable clip");
        let video = facts.video.expect("video in the clip");
        assert_eq!(
            (video.format.as_str(), video.width, video.height),
            ("h264", Some(768), Some(576))
        );
        let seconds = facts.duration_ns.expect("a duration") as f64 / 1e9;
        // A clip plays from a key frame: with `before: 0s` it starts at the last one at or
        // before its first trigger, and an encoder feeding `record` makes one a second (10
        // frames here), so up to 9 frames early. It runs to `after` past its last trigger,
        // or to the end of the run; x264enc's B-frames come after the frame that ends the
        // clip in decoding order, so up to 3 frames less.
        let end = (*last).min(FRAMES - 1);
        let shortest = (end + 1 - first) as f64 / FPS;
        let longest = (end + 1 - first + 9) as f64 / FPS;
        assert!(
            (shortest - 0.35..=longest + 0.05).contains(&seconds),
            "{}: {seconds} s, want {shortest} to {longest} s (triggers {crossings:?})",
            clip.display()
        );
    }
}
