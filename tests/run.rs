//! `vplc run` end to end on the real assets: outputs are re-read, detections compared with
//! an independent Python + onnxruntime reference, errors mapped to `.vpl` spans, Ctrl-C
//! leaves playable files.

mod common;

use std::path::Path;
use std::process::Command;

use common::{asset, bbox, count_frames, iou, lines, root, run_ok, stats, temp_dir, vplc};

#[test]
fn people_detection_matches_the_python_reference() {
    let dir = temp_dir("people");
    let program = dir.join("people.vpl");
    std::fs::write(
        &program,
        format!(
            "model people = onnx({:?},\n    labels: [\"person\", \"fallen\"],\n    decoder: yolov8(confidence: 0.4, iou: 0.5),\n);\n\n\
             pipeline watch {{\n    let cam = file({:?});\n    let found = cam | decode | infer(people) | track(iou, max_age: 30);\n    \
             found | overlay | encode(h264, bitrate: 2Mbps) | file(\"out/people.mp4\");\n    found | json | file(\"out/people.jsonl\");\n}}\n",
            asset("assets/models/person_yolov8s.onnx"),
            asset("assets/media/vtest.avi"),
        ),
    )
    .expect("write program");
    let stats_file = dir.join("stats.json");
    let out = vplc(&[
        "run",
        "--max-frames",
        "50",
        "--stats",
        &stats_file.display().to_string(),
        &program.display().to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let s = stats(&stats_file);
    assert_eq!(s["pipeline"], "watch");
    assert_eq!(s["frames"][0], 50, "{s}");
    assert_eq!(s["exit"], "max-frames");

    // The MP4 is playable: 50 frames of 768x576.
    let mp4 = dir.join("out/people.mp4");
    let facts = vpl_runtime::probe::probe_media(&mp4).expect("the MP4 probes");
    let video = facts.video.expect("it has video");
    assert_eq!(
        (video.format.as_str(), video.width, video.height),
        ("h264", Some(768), Some(576))
    );
    assert_eq!(count_frames(&mp4, &dir), 50);

    // Records: one a frame, boxes in source pixels, matching the reference.
    let records = lines(&dir.join("out/people.jsonl"));
    assert_eq!(records.len(), 50);
    let reference_file = dir.join("reference.jsonl");
    let python = root().join(".venv/bin/python");
    let status = Command::new(&python)
        .arg(root().join("scripts/reference_detect.py"))
        .args([
            asset("assets/models/person_yolov8s.onnx"),
            asset("assets/media/vtest.avi"),
        ])
        .args([
            "--frames",
            "50",
            "--confidence",
            "0.4",
            "--iou",
            "0.5",
            "--out",
        ])
        .arg(&reference_file)
        .status()
        .expect("the reference script runs");
    assert!(status.success());
    let reference = lines(&reference_file);
    assert_eq!(reference.len(), 50);
    let mut boxes = 0;
    for (i, (ours, theirs)) in records.iter().zip(&reference).enumerate() {
        assert_eq!(ours["frame"], i, "frames in order");
        assert_eq!(
            (ours["width"].as_u64(), ours["height"].as_u64()),
            (Some(768), Some(576))
        );
        let ours = ours["objects"].as_array().expect("objects");
        let theirs = theirs["objects"].as_array().expect("objects");
        assert_eq!(
            ours.len(),
            theirs.len(),
            "frame {i}: {} boxes, the reference has {}",
            ours.len(),
            theirs.len()
        );
        let mut used = vec![false; theirs.len()];
        for o in ours {
            assert!(o["track_id"].as_u64().is_some(), "tracked: {o}");
            let best = theirs
                .iter()
                .enumerate()
                .filter(|(j, _)| !used[*j])
                .map(|(j, t)| (j, iou(bbox(o), bbox(t))))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let (j, overlap) = best.expect("a box to match");
            assert!(
                overlap >= 0.9,
                "frame {i}: box {o} matches the reference only at IoU {overlap:.3}"
            );
            used[j] = true;
            boxes += 1;
        }
    }
    assert!(
        boxes >= 100,
        "vtest.avi shows several people a frame; only {boxes} boxes in 50 frames"
    );
}

#[test]
fn two_streams_share_one_batched_model() {
    let dir = temp_dir("two");
    let program = dir.join("two.vpl");
    std::fs::write(
        &program,
        format!(
            "model det = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.0));\n\n\
             pipeline two {{\n    [test(frames: 20, resolution: 320x240), test(pattern: ball, frames: 20, resolution: 320x240)]\n        \
             | infer(det)\n        | json\n        | file(\"out/two.jsonl\");\n}}\n",
            asset("tests/fixtures/models/det_dynamic.onnx"),
        ),
    )
    .expect("write");
    let plan = vplc(&["build", "--emit", "plan", &program.display().to_string()]);
    let plan = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.contains("batch 2 (the model's batch dimension is dynamic"),
        "{plan}"
    );
    assert_eq!(run_ok(&program, &[])["frames"], serde_json::json!([20, 20]));
    let records = lines(&dir.join("out/two.jsonl"));
    assert_eq!(records.len(), 40);
    for stream in [0, 1] {
        let frames: Vec<u64> = records
            .iter()
            .filter(|r| r["stream"] == stream)
            .map(|r| r["frame"].as_u64().expect("frame"))
            .collect();
        assert_eq!(frames, (0..20).collect::<Vec<_>>(), "stream {stream}");
    }
}

#[test]
fn an_element_error_is_reported_at_its_stage() {
    let dir = temp_dir("error");
    let program = dir.join("bad.vpl");
    // The directory exists, but nothing can be created in it.
    std::fs::write(
        &program,
        "pipeline p {\n    test(frames: 5) | encode(h264) | file(\"/proc/vpl-cannot-write.mp4\");\n}\n",
    )
    .expect("write");
    let out = vplc(&["run", &program.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("error[E0504]"), "{stderr}");
    assert!(stderr.contains("bad.vpl:2:38"), "at the sink: {stderr}");
}

#[cfg(unix)]
#[test]
fn files_written_before_an_error_are_finished() {
    let dir = temp_dir("finish");
    // Records go into a pipe whose reader goes away after 100 of them: the next write
    // fails (records are written line by line, so the failure comes right then).
    let fifo = dir.join("full.jsonl");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let pipe = std::io::BufReader::new(std::fs::File::open(&fifo).expect("open the pipe"));
        pipe.lines().take(100).count()
    });
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    let t = test(frames: 0, resolution: 320x240);\n    t | encode(h264) | file(\"out/kept.mp4\");\n    t | json | file(\"full.jsonl\");\n}\n",
    )
    .expect("write");
    let out = vplc(&["run", "--quiet", &program.display().to_string()]);
    assert_eq!(reader.join().expect("the reader"), 100);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("E0504") && stderr.contains("p.vpl:4:16"),
        "at the records sink: {stderr}"
    );
    let mp4 = dir.join("out/kept.mp4");
    vpl_runtime::probe::probe_media(&mp4).expect("the MP4 written before the error is playable");
    assert!(count_frames(&mp4, &dir) > 0);
}

#[test]
fn a_missing_model_library_or_backend_is_a_clear_error() {
    let dir = temp_dir("backend");
    let program = dir.join("gpu.vpl");
    std::fs::write(
        &program,
        format!(
            "model det = onnx({:?}, decoder: yolov8());\n\npipeline p {{\n    test(frames: 3) | infer(det) | json | stdout;\n}}\n",
            asset("tests/fixtures/models/det_dynamic.onnx")
        ),
    )
    .expect("write");
    let out = vplc(&["run", "--backend", "cuda", &program.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("E0504") && stderr.to_lowercase().contains("cuda"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_finishes_the_files_and_exits_130() {
    let dir = temp_dir("sigint");
    let program = dir.join("long.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    test(frames: 0, resolution: 640x360) | encode(h264) | file(\"out/long.mp4\");\n}\n",
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", &program.display().to_string()])
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .spawn()
        .expect("vplc starts");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("vplc ends");
    assert_eq!(exit.code(), Some(130));
    let mp4 = dir.join("out/long.mp4");
    let facts = vpl_runtime::probe::probe_media(&mp4).expect("the interrupted MP4 is playable");
    assert_eq!(facts.video.expect("video").format, "h264");
    assert!(
        count_frames(&mp4, &dir) > 10,
        "frames were written before the interruption"
    );
}

/// `--realtime` paces a recorded stream at its frame rate, as a live camera delivers it: 15
/// frames at 10 fps cannot finish before the 15th frame's time (1.4 s). (A lower bound only:
/// a slow machine cannot fail it.)
#[test]
fn realtime_plays_a_file_at_its_frame_rate() {
    let dir = temp_dir("realtime");
    let program = dir.join("paced.vpl");
    std::fs::write(
        &program,
        "pipeline paced {\n    test(frames: 15, rate: 10fps, resolution: 320x240) | json | file(\"out/r.jsonl\");\n}\n",
    )
    .expect("write");
    let s = run_ok(&program, &["--realtime"]);
    assert_eq!(s["frames"][0], 15, "{s}");
    let wall = s["wall_s"].as_f64().expect("wall_s");
    assert!(wall >= 1.35, "15 frames at 10 fps played in {wall} s");
    assert_eq!(lines(&dir.join("out/r.jsonl")).len(), 15);
}

/// A raw H.264 or H.265 elementary stream (no container, as in DeepStream's samples) is
/// parsed, not demuxed: it checks clean and decodes every frame.
#[test]
fn elementary_h264_and_h265_streams_check_and_decode() {
    let dir = temp_dir("elementary");
    for name in ["h264_320x240_25fps.h264", "h265_320x240_25fps.265"] {
        let video = root().join("tests/fixtures/media").join(name);
        let program = dir.join("p.vpl");
        std::fs::write(
            &program,
            format!(
                "pipeline p {{\n    file({:?}) | decode | scale(160x120) | discard;\n}}\n",
                video.display().to_string()
            ),
        )
        .expect("write");
        let out = vplc(&["check", &program.display().to_string()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.contains("1 file clean"),
            "{name}: {stderr}"
        );
        let stats = run_ok(&program, &[]);
        assert_eq!(stats["frames"][0], 20, "{name}: {stats}");
    }
}

/// Copies an elementary stream into `copy` with vplc, then reads the copy back: 20 frames
/// at 25 fps last 0.8 s, and decoded they are 20, 40 ms apart, none shown twice.
fn assert_copy_plays_every_frame_in_order(video: &Path, copy: &Path, dir: &Path) {
    let name = copy.display();
    let program = dir.join("copy.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline copy {{\n    file({:?}) | file({:?});\n}}\n",
            video.display().to_string(),
            copy.display().to_string()
        ),
    )
    .expect("write");
    let stats = run_ok(&program, &[]);
    assert_eq!(stats["frames"][0], 20, "{name}: {stats}");
    let discovered = Command::new("gst-discoverer-1.0")
        .arg(copy)
        .output()
        .expect("gst-discoverer-1.0 runs");
    let said = String::from_utf8_lossy(&discovered.stdout);
    assert!(
        discovered.status.success() && said.contains("Duration: 0:00:00.800000000"),
        "{name}: 20 frames at 25 fps should last 0.8 s: {said}"
    );
    let read = dir.join("read.vpl");
    let records = copy.with_extension("jsonl");
    std::fs::write(
        &read,
        format!(
            "pipeline read {{\n    file({:?}) | decode | json | file({:?});\n}}\n",
            copy.display().to_string(),
            records.display().to_string()
        ),
    )
    .expect("write");
    run_ok(&read, &[]);
    let pts: Vec<i64> = lines(&records)
        .iter()
        .map(|r| r["pts_ns"].as_i64().expect("pts_ns"))
        .collect();
    assert_eq!(pts.len(), 20, "{name}: {pts:?}");
    for pair in pts.windows(2) {
        assert_eq!(pair[1] - pair[0], 40_000_000, "{name}: {pts:?}");
    }
}

/// A raw H.264 stream carries no presentation times and its parser gives decoding times
/// only: copied into `.mp4` as it is, it once failed to mux ("Buffer has no PTS"; issue
/// 19). The copy plays every frame, once each, at the stream's rate: with B-frames too,
/// whose pictures are decoded out of the order they are shown in.
#[test]
fn elementary_h264_copied_into_mp4_plays_every_frame_in_order() {
    let dir = temp_dir("elementary-mux");
    for name in ["h264_320x240_25fps.h264", "h264_bframes_320x240_25fps.h264"] {
        let video = root().join("tests/fixtures/media").join(name);
        assert_copy_plays_every_frame_in_order(&video, &dir.join(format!("{name}.mp4")), &dir);
    }
}

/// The same for H.265 (x265's B-pyramid), into `.mp4` and `.mov`, from a `.265` and a
/// `.hevc` file: it checked clean and failed at run time with "Buffer has no PTS" (issue
/// 19), `vplstamp` timing only H.264. Into `.mkv` it ran and wrote a file that played one
/// frame of 40 ms.
#[test]
fn elementary_h265_copied_into_mp4_mov_and_mkv_plays_every_frame_in_order() {
    let dir = temp_dir("elementary-h265-mux");
    let fixture = root().join("tests/fixtures/media/h265_320x240_25fps.265");
    let hevc = dir.join("h265_320x240_25fps.hevc");
    std::fs::copy(&fixture, &hevc).expect("copy the fixture");
    for video in [&fixture, &hevc] {
        for container in ["mp4", "mov", "mkv"] {
            let ext = video.extension().and_then(|e| e.to_str()).unwrap_or("");
            let copy = dir.join(format!("from_{ext}.{container}"));
            assert_copy_plays_every_frame_in_order(video, &copy, &dir);
        }
    }
}

/// A raw H.264 stream through a model with `--max-frames` ends cleanly with as many
/// records as frames counted (issue 19 saw it exit 3): with B-frames too.
#[test]
fn elementary_h264_through_a_model_stops_at_max_frames() {
    let dir = temp_dir("elementary-infer");
    let model = root().join("tests/fixtures/models/det_fixed1.onnx");
    for name in ["h264_320x240_25fps.h264", "h264_bframes_320x240_25fps.h264"] {
        let video = root().join("tests/fixtures/media").join(name);
        let records = dir.join(format!("{name}.jsonl"));
        let program = dir.join("infer.vpl");
        std::fs::write(
            &program,
            format!(
                "model det = onnx({:?}, decoder: yolov8());\npipeline p {{\n    \
                 file({:?}) | decode | infer(det) | json | file({:?});\n}}\n",
                model.display().to_string(),
                video.display().to_string(),
                records.display().to_string()
            ),
        )
        .expect("write");
        let stats = run_ok(&program, &["--max-frames", "10"]);
        assert_eq!(stats["frames"][0], 10, "{name}: {stats}");
        assert_eq!(lines(&records).len(), 10, "{name}");
    }
}

/// `--stats` holds one entry a stream (spec §8): four streams of one file, which share
/// one source and one decoder after optimisation, are four entries; so is a stream that is
/// copied without being decoded.
#[test]
fn stats_have_one_frames_entry_a_stream() {
    let dir = temp_dir("stats-streams");
    let program = dir.join("four.vpl");
    let video = asset("tests/fixtures/media/h264_640x360_25fps.mp4");
    std::fs::write(
        &program,
        format!(
            "pipeline four {{\n    [file({video:?}), file({video:?}), file({video:?}), file({video:?})]\n        \
             | decode\n        | json\n        | file(\"out/cam_{{stream}}.jsonl\");\n}}\n"
        ),
    )
    .expect("write");
    let s = run_ok(&program, &["--max-frames", "12"]);
    assert_eq!(s["frames"], serde_json::json!([12, 12, 12, 12]), "{s}");
    assert_eq!(s["fps"].as_array().map(Vec::len), Some(4), "{s}");
    for i in 0..4 {
        assert_eq!(lines(&dir.join(format!("out/cam_{i}.jsonl"))).len(), 12);
    }

    let program = dir.join("copy.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline copy {{\n    file({video:?}) | file(\"out/copy.mp4\");\n    test(frames: 5) | discard;\n}}\n"
        ),
    )
    .expect("write");
    let s = run_ok(&program, &[]);
    let frames = s["frames"].as_array().expect("frames").clone();
    assert_eq!(frames.len(), 2, "{s}");
    assert!(frames[0].as_u64().is_some_and(|n| n > 0), "{s}");
    assert_eq!(frames[1], 5, "{s}");
}

/// `file(path, loop: true)` plays the file again at each end, seamlessly: a 30-frame file
/// read for 75 frames gives 75 frames, their timestamps strictly increasing one frame apart
/// across the loops.
#[test]
fn a_looped_file_plays_on_with_increasing_timestamps() {
    let dir = temp_dir("loop");
    let make = dir.join("make.vpl");
    std::fs::write(
        &make,
        "pipeline make {\n    test(frames: 30, resolution: 320x240, rate: 25fps) | encode(h264) | file(\"thirty.mp4\");\n}\n",
    )
    .expect("write");
    let out = vplc(&["run", "--quiet", &make.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let program = dir.join("loop.vpl");
    std::fs::write(
        &program,
        "pipeline looped {\n    file(\"thirty.mp4\", loop: true) | decode | json | file(\"out/loop.jsonl\");\n}\n",
    )
    .expect("write");
    let s = run_ok(&program, &["--max-frames", "75"]);
    assert_eq!(s["frames"], serde_json::json!([75]), "{s}");
    assert_eq!(s["exit"], "max-frames", "{s}");
    let pts: Vec<u64> = lines(&dir.join("out/loop.jsonl"))
        .iter()
        .map(|r| r["pts_ns"].as_u64().expect("a timestamp"))
        .collect();
    assert_eq!(pts.len(), 75);
    let steps: Vec<u64> = pts.windows(2).map(|w| w[1].saturating_sub(w[0])).collect();
    assert!(
        pts.windows(2).all(|w| w[1] > w[0]),
        "timestamps go back: {pts:?}"
    );
    assert!(
        steps.iter().all(|d| *d == 40_000_000),
        "one frame (40 ms) apart, also where the file starts again: {steps:?}"
    );
}

/// Found by tests/checked_runs.rs: a `let` no flow reads is only a warning (W0001), so the
/// program must run; its stream is left out of the pipeline.
#[test]
fn an_unused_let_is_left_out_of_the_run() {
    let dir = temp_dir("unused-let");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    let unused = test(resolution: 64x48) | scale(32x24);\n    \
         test(resolution: 64x48, frames: 3) | json | file(\"out/r.jsonl\");\n}\n",
    )
    .expect("write");
    let stats = run_ok(&program, &[]);
    assert_eq!(stats["frames"], serde_json::json!([3]), "{stats}");
    assert_eq!(lines(&dir.join("out/r.jsonl")).len(), 3);
}

/// Found by tests/checked_runs.rs: `overlay` and `infer` take any raw format the checker
/// accepts, not only those their elements take (the link failed at run time, E0503).
#[test]
fn overlay_and_infer_take_every_raw_format() {
    let dir = temp_dir("formats");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "model d = onnx({:?}, decoder: yolov8);\n\
             pipeline p {{\n    \
             let s = test(resolution: 64x48, frames: 3) | convert(bgra) | infer(d);\n    \
             s | overlay | convert(yuy2) | overlay | encode(h264) | file(\"out/v.mkv\");\n    \
             s | json | file(\"out/r.jsonl\");\n}}\n",
            asset("tests/fixtures/models/det_dynamic.onnx")
        ),
    )
    .expect("write");
    let stats = run_ok(&program, &[]);
    assert_eq!(stats["frames"], serde_json::json!([3]), "{stats}");
    let records = lines(&dir.join("out/r.jsonl"));
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["width"], 64, "{}", records[0]);
}

/// Found by tests/checked_runs.rs: two identical sources in a list are merged into one,
/// which the tile then reads twice; lowering failed ("feeds several nodes without a tee").
#[test]
fn a_tile_of_two_identical_sources_runs() {
    let dir = temp_dir("same-sources");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    [test(resolution: 64x48, frames: 3), test(resolution: 64x48, frames: 3)] \
         | tile(2, 1, resolution: 128x48) | json | file(\"out/r.jsonl\");\n}\n",
    )
    .expect("write");
    run_ok(&program, &[]);
    let records = lines(&dir.join("out/r.jsonl"));
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["width"], 128, "{}", records[0]);
}

/// Found by tests/checked_runs.rs: a file copied without re-encoding to two sinks lost its
/// parser behind the tee; the demuxer stopped with not-linked (E0504).
#[test]
fn a_file_copied_to_two_sinks_is_parsed_on_each_branch() {
    let dir = temp_dir("copy-two");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    let s = file({:?});\n    \
             s | file(\"out/a.mp4\");\n    s | file(\"out/b.mkv\");\n}}\n",
            asset("tests/fixtures/media/h264_320x240_30fps.mkv")
        ),
    )
    .expect("write");
    run_ok(&program, &["--max-frames", "5"]);
    for out in ["out/a.mp4", "out/b.mkv"] {
        assert!(count_frames(&dir.join(out), &dir) >= 5, "{out}");
    }
}

/// Found by a user (issue 19): two `test()` sources that differ only in resolution or rate
/// were merged into one, and both streams came out at the first one's size and rate.
#[test]
fn test_sources_that_differ_in_size_or_rate_are_two_streams() {
    let dir = temp_dir("test-sizes");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    \
         [test(resolution: 320x240, frames: 4), test(resolution: 640x480, frames: 4), \
         test(resolution: 320x240, rate: 10fps, frames: 4)]\n        \
         | json | file(\"out/s{stream}.jsonl\");\n}\n",
    )
    .expect("write");
    let stats = run_ok(&program, &[]);
    assert_eq!(stats["frames"], serde_json::json!([4, 4, 4]), "{stats}");
    let sizes: Vec<(u64, u64)> = (0..3)
        .map(|i| {
            let r = lines(&dir.join(format!("out/s{i}.jsonl")));
            assert_eq!(r.len(), 4, "stream {i}");
            (
                r[0]["width"].as_u64().expect("width"),
                r[0]["height"].as_u64().expect("height"),
            )
        })
        .collect();
    assert_eq!(sizes, [(320, 240), (640, 480), (320, 240)]);
    // 30 fps and 10 fps: the last frame's timestamp tells the rate apart.
    let last_pts = |i: usize| lines(&dir.join(format!("out/s{i}.jsonl")))[3]["pts_ns"].as_u64();
    assert_eq!(last_pts(0), Some(100_000_000));
    assert_eq!(last_pts(2), Some(300_000_000));
}

/// Field-coded (interlaced) video in an elementary stream: `check` refuses what the run
/// refuses. x265's `interlace` codes each picture as one field, whose presentation time
/// `vplstamp` cannot read: the run stopped at the first picture, copied or decoded (E0504),
/// and now `check` says so first (E0109 at the path, with what to do). x264's interlacing
/// (MBAFF: each picture a frame of two fields) is interlaced too, and runs: clean, copied
/// and decoded.
#[test]
fn field_coded_elementary_streams_are_refused_at_check_as_they_were_at_run() {
    let dir = temp_dir("fields");
    let encode = |name: &str, raw_caps: &str, encoder: &str, parsed: &str| {
        let launch = format!(
            "videotestsrc num-buffers=10 pattern=ball \
             ! video/x-raw,format=I420,width=64,height=64,framerate=25/1{raw_caps} \
             ! {encoder} ! {parsed},stream-format=byte-stream,alignment=au \
             ! filesink location={}",
            dir.join(name).display()
        );
        let status = Command::new("gst-launch-1.0")
            .arg("-q")
            .args(launch.split_whitespace())
            .status()
            .expect("gst-launch-1.0 runs");
        assert!(status.success(), "{launch}");
    };
    encode(
        "fields.265",
        "",
        "x265enc speed-preset=ultrafast option-string=interlace=tff ! h265parse",
        "video/x-h265",
    );
    encode(
        "mbaff.h264",
        ",interlace-mode=interleaved",
        "x264enc interlaced=true ! h264parse",
        "video/x-h264",
    );
    for (name, refused) in [("fields.265", true), ("mbaff.h264", false)] {
        let out = |file: &str| dir.join(file).display().to_string();
        for (kind, flow) in [
            ("copy", format!("file({:?})", out("copy.mp4"))),
            (
                "decode",
                format!("decode | json | file({:?})", out("frames.jsonl")),
            ),
        ] {
            let program = dir.join(format!("{kind}.vpl"));
            let input = dir.join(name).display().to_string();
            std::fs::write(
                &program,
                format!("pipeline p {{\n    file({input:?}) | {flow};\n}}\n"),
            )
            .expect("write");
            let program = program.display().to_string();
            let checked = vplc(&["check", &program]);
            let said = String::from_utf8_lossy(&checked.stderr);
            let ran = vplc(&["run", "--quiet", &program]);
            let ran_said = String::from_utf8_lossy(&ran.stderr);
            if refused {
                assert!(
                    !checked.status.success()
                        && said.contains("error[E0109]")
                        && said.contains("is field-coded (interlaced) H.265")
                        && said.contains("decode and re-encode it as progressive video"),
                    "{name} {kind}: {said}"
                );
                // The run is refused by the same check, before anything is written.
                assert!(
                    !ran.status.success() && ran_said.contains("error[E0109]"),
                    "{name} {kind}: {ran_said}"
                );
            } else {
                assert!(
                    checked.status.success() && said.contains("1 file clean"),
                    "{name} {kind}: {said}"
                );
                assert_eq!(ran.status.code(), Some(0), "{name} {kind}: {ran_said}");
            }
        }
    }
}

/// `--latency`: every frame record ends with its `latency_ms`, the time from its source to
/// the records sink (milliseconds, at most three decimals), with or without `--metrics`
/// (which stamps frames at their source too). Without the flag no record has it, even
/// when `--metrics` stamps the frames.
#[test]
fn latency_adds_latency_ms_to_every_frame_record() {
    let dir = temp_dir("latency-records");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    [test(frames: 10, resolution: 64x48), test(pattern: ball, frames: 10, resolution: 64x48)] \
         | json | file(\"out/r.jsonl\");\n}\n",
    )
    .expect("write");
    let records = dir.join("out/r.jsonl");
    let metrics = format!("127.0.0.1:{}", common::servers::free_port());
    for (args, with_latency) in [
        (vec!["--latency"], true),
        (vec![], false),
        (vec!["--metrics", metrics.as_str()], false),
        (vec!["--latency", "--metrics", metrics.as_str()], true),
    ] {
        let _ = std::fs::remove_file(&records);
        assert_eq!(
            run_ok(&program, &args)["frames"],
            serde_json::json!([10, 10]),
            "{args:?}"
        );
        let text = std::fs::read_to_string(&records).expect("records written");
        assert_eq!(text.lines().count(), 20, "{args:?}");
        for line in text.lines() {
            let record: serde_json::Value = serde_json::from_str(line).expect("JSON");
            if !with_latency {
                assert!(record.get("latency_ms").is_none(), "{args:?}: {line}");
                continue;
            }
            let ms = record["latency_ms"].as_f64().expect("latency_ms, a number");
            assert!(ms >= 0.0, "{line}");
            // The last field, after the frame's own.
            let (_, number) = line
                .rsplit_once(",\"latency_ms\":")
                .expect("latency_ms last");
            let number = number.strip_suffix('}').expect("last field");
            assert_eq!(number.parse::<f64>().ok(), Some(ms), "{line}");
            let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 3, "{line}");
        }
    }
}
