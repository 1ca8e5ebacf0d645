//! Every example that can run on a machine without a camera runs here, as a user would run
//! it (`vplc run examples/NAME.vpl`), on a few frames; its outputs are read back. The
//! examples are copied to a temporary directory with their asset paths made absolute, so
//! runs do not write into the checkout. `camera_colours.vpl` needs /dev/video0: here it
//! must fail cleanly, at its camera stage. `rtsp_relay.vpl` runs in tests/rtsp.rs, which
//! serves it a stream.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::servers::{Server, free_port, mosquitto};
use common::{lines, root, temp_dir};

/// Waits up to 10 s for `done`.
fn wait_until(done: impl Fn() -> bool, what: &str) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed().as_secs() < 10,
            "timed out waiting until {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Copies `examples/NAME` into a fresh directory (asset paths absolute) and runs it.
fn run_example(name: &str, args: &[&str]) -> (PathBuf, Output) {
    run_example_with(name, args, |text| text)
}

/// [`run_example`] with the example's text changed by `edit` first (a broker's port).
fn run_example_with(
    name: &str,
    args: &[&str],
    edit: impl FnOnce(String) -> String,
) -> (PathBuf, Output) {
    let dir = temp_dir(&format!("example-{name}"));
    let text = std::fs::read_to_string(root().join("examples").join(name)).expect("example");
    let text = edit(text);
    let assets = format!("\"{}/assets/", root().display());
    let fixtures = format!("\"{}/tests/", root().display());
    let program = dir.join(name);
    let text = text
        .replace("\"../assets/", &assets)
        .replace("\"../tests/", &fixtures);
    std::fs::write(&program, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .arg("run")
        .args(args)
        .arg(&program)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("vplc runs");
    (dir, out)
}

fn video_size(path: &std::path::Path) -> (String, Option<u32>, Option<u32>) {
    let facts = vpl_runtime::probe::probe_media(path).expect("a playable file");
    let video = facts.video.expect("it has video");
    (video.format, video.width, video.height)
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

#[test]
fn people_detect_track_overlay_mp4_and_records() {
    let (dir, out) = run_example("people.vpl", &["--quiet", "--max-frames", "10"]);
    ok(&out);
    assert_eq!(
        video_size(&dir.join("out/people.mp4")),
        ("h264".into(), Some(768), Some(576))
    );
    let records = lines(&dir.join("out/people.jsonl"));
    assert_eq!(records.len(), 10);
    assert!(records.iter().all(|r| {
        r["objects"]
            .as_array()
            .is_some_and(|o| !o.is_empty() && o.iter().all(|o| o["track_id"].is_u64()))
    }));
}

#[test]
fn clothes_secondary_inference_every_2_filter_sort() {
    let (dir, out) = run_example("clothes.vpl", &["--quiet", "--max-frames", "6"]);
    ok(&out);
    assert_eq!(video_size(&dir.join("out/clothes.mp4")).1, Some(768));
    let records = lines(&dir.join("out/clothes.jsonl"));
    assert_eq!(records.len(), 6);
    for r in &records {
        let odd = r["frame"].as_u64().unwrap_or(0) % 2 == 1;
        for o in r["objects"].as_array().expect("objects") {
            assert_eq!(o["label"], "person", "filtered to people: {o}");
            assert_eq!(
                o["predicted"] == true,
                odd,
                "predicted on skipped frames only: {r}"
            );
            let big =
                o["bbox"]["w"].as_f64() >= Some(24.0) && o["bbox"]["h"].as_f64() >= Some(48.0);
            let labels = o["labels"].as_array().map_or(0, Vec::len);
            assert_eq!(
                labels,
                usize::from(big),
                "a colour for each big enough person: {o}"
            );
        }
    }
}

#[test]
fn two_cameras_tile_filter_and_per_stream_files() {
    let (dir, out) = run_example("two_cameras.vpl", &["--quiet", "--max-frames", "4"]);
    ok(&out);
    assert_eq!(
        video_size(&dir.join("out/two_cameras.mkv")),
        ("h264".into(), Some(1536), Some(576))
    );
    for i in 0..2 {
        assert_eq!(
            video_size(&dir.join(format!("out/camera_{i}.mp4"))).1,
            Some(768)
        );
    }
    let records = lines(&dir.join("out/two_cameras.jsonl"));
    for stream in 0..2 {
        let frames = records.iter().filter(|r| r["stream"] == stream).count();
        assert_eq!(frames, 4, "stream {stream}");
    }
    assert!(
        records
            .iter()
            .flat_map(|r| r["objects"].as_array().into_iter().flatten())
            .all(|o| { o["label"] == "person" && o["confidence"].as_f64() >= Some(0.5) })
    );
}

#[test]
fn batched_classifier_every_3_sort_tile_to_stdout() {
    let (dir, out) = run_example("batched.vpl", &["--quiet", "--max-frames", "6"]);
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines on stdout"))
        .collect();
    for stream in 0..2 {
        let mine: Vec<_> = records.iter().filter(|r| r["stream"] == stream).collect();
        assert_eq!(mine.len(), 6, "stream {stream}");
        assert!(
            mine.iter()
                .all(|r| r["labels"].as_array().is_some_and(|l| l.len() == 1)),
            "a colour for every frame of stream {stream}"
        );
    }
    assert_eq!(video_size(&dir.join("out/batched.mp4")).1, Some(1280));
}

#[test]
fn ocr_reads_the_lines_and_draws_them() {
    let (dir, out) = run_example("ocr.vpl", &["--quiet", "--max-frames", "3"]);
    ok(&out);
    assert_eq!(
        video_size(&dir.join("out/ocr.mp4")),
        ("h264".into(), Some(640), Some(480))
    );
    let records = lines(&dir.join("out/ocr.jsonl"));
    assert_eq!(records.len(), 3);
    for r in &records {
        let texts: Vec<&str> = r["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .map(|o| o["text"].as_str().unwrap_or("(no text)"))
            .collect();
        // The lines scripts/make_ocr_media.py draws, top to bottom.
        assert_eq!(
            texts,
            ["HELLO WORLD", "VPL 2026", "PARKING 42", "42"],
            "{r}"
        );
    }
}

#[test]
fn test_pattern_runs_headless_with_a_warning_for_display() {
    let (_, out) = run_example("test_pattern.vpl", &["--quiet", "--max-frames", "15"]);
    let stderr = ok(&out);
    assert!(stderr.contains("warning: no display here"), "{stderr}");
}

#[test]
fn camera_colours_without_a_camera_fails_at_its_camera() {
    let (_, out) = run_example("camera_colours.vpl", &["--quiet", "--max-frames", "5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error[E0504]") && stderr.contains("/dev/video0"),
        "{stderr}"
    );
    assert!(stderr.contains("camera_colours.vpl:16:15"), "{stderr}");
}

#[test]
fn segment_masks_in_records_and_video() {
    let (dir, out) = run_example("segment.vpl", &["--quiet", "--max-frames", "4"]);
    ok(&out);
    assert_eq!(
        video_size(&dir.join("out/segment.mp4")),
        ("h264".into(), Some(768), Some(576))
    );
    let records = lines(&dir.join("out/segment.jsonl"));
    assert_eq!(records.len(), 4);
    for r in &records {
        let objects = r["objects"].as_array().expect("objects");
        let labels: Vec<&str> = objects.iter().filter_map(|o| o["label"].as_str()).collect();
        assert_eq!(labels, ["person", "car"], "{r}");
        for o in objects {
            let mask = &o["mask"];
            assert_eq!(mask["format"], "rle", "{o}");
            let b = &o["bbox"];
            // The mask's box is the object's, in whole pixels.
            assert_eq!(
                mask["box"][0].as_f64(),
                b["x"].as_f64().map(f64::floor),
                "{o}"
            );
            let area: u64 = mask["counts"]
                .as_array()
                .expect("counts")
                .iter()
                .skip(1)
                .step_by(2)
                .filter_map(serde_json::Value::as_u64)
                .sum();
            assert!(area > 1000, "a mask of {area} pixels: {o}");
        }
    }
}

#[test]
fn pose_keypoints_in_records_and_video() {
    let (dir, out) = run_example("pose.vpl", &["--quiet", "--max-frames", "4"]);
    ok(&out);
    assert_eq!(video_size(&dir.join("out/pose.mp4")).1, Some(768));
    let records = lines(&dir.join("out/pose.jsonl"));
    assert_eq!(records.len(), 4);
    for r in &records {
        let objects = r["objects"].as_array().expect("objects");
        assert_eq!(objects.len(), 2, "{r}");
        for o in objects {
            assert_eq!(
                o["label"], "person",
                "labels from the model's metadata: {o}"
            );
            assert!(o["track_id"].is_u64(), "{o}");
            let keypoints = o["keypoints"].as_array().expect("keypoints");
            assert_eq!(keypoints.len(), 17, "{o}");
            // Every keypoint lies in its person's box.
            let b = &o["bbox"];
            let (x, y, w, h) = (
                b["x"].as_f64().unwrap_or(0.0),
                b["y"].as_f64().unwrap_or(0.0),
                b["w"].as_f64().unwrap_or(0.0),
                b["h"].as_f64().unwrap_or(0.0),
            );
            for k in keypoints {
                let (kx, ky) = (k[0].as_f64().unwrap_or(-1.0), k[1].as_f64().unwrap_or(-1.0));
                assert!(
                    kx >= x && kx <= x + w && ky >= y && ky <= y + h,
                    "{k} in {b}"
                );
            }
        }
    }
}

#[test]
fn smart_record_writes_a_playable_clip_when_someone_crosses_the_line() {
    // On vtest.avi a man in a black coat walks left across `post` around frame 6
    // (tests/analytics.rs reads it by hand): one clip, begun at the crossing with the
    // frames before it (back to the file's first, its only key frame) and finished when
    // the run ends, before `after` is over. Nobody crosses in the frames before.
    // Before the crossing, two people are in view but nobody has crossed: no clip.
    let (early, out) = run_example("smart_record.vpl", &["--quiet", "--max-frames", "5"]);
    ok(&out);
    let early_clips = std::fs::read_dir(early.join("out/clips"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(early_clips, 0, "a clip before anyone crossed");
    let (dir, out) = run_example("smart_record.vpl", &["--quiet", "--max-frames", "20"]);
    ok(&out);
    let clips: Vec<PathBuf> = std::fs::read_dir(dir.join("out/clips"))
        .expect("the clips folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(clips.len(), 1, "{clips:?}");
    let name = clips[0].file_name().and_then(|n| n.to_str()).unwrap_or("");
    // `{stream}_{time}`: 0_YYYYMMDDTHHMMSS.mmmZ.mp4
    assert!(
        name.starts_with("0_")
            && name.ends_with("Z.mp4")
            && name.len() == "0_20261130T194512.123Z.mp4".len(),
        "{name}"
    );
    assert_eq!(video_size(&clips[0]), ("h264".into(), Some(768), Some(576)));
    let facts = vpl_runtime::probe::probe_media(&clips[0]).expect("a playable clip");
    let seconds = facts.duration_ns.expect("a duration") as f64 / 1e9;
    // 20 frames of a 10 fps file.
    assert!((1.8..=2.1).contains(&seconds), "{seconds} s");
}

#[test]
fn zones_counts_a_zone_and_a_line_with_events() {
    // The events go to a real mosquitto on a free port, read back by a subscriber.
    let broker_dir = temp_dir("example-zones-broker");
    let port = free_port();
    let _broker = mosquitto(port, &broker_dir);
    let received = broker_dir.join("received.txt");
    let _subscriber = Server(
        // Line-buffered: mosquitto_sub holds a file's output in a block otherwise.
        Command::new("stdbuf")
            .args([
                "-oL",
                "mosquitto_sub",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .args(["-t", "vpl/events", "-q", "1", "-d"])
            .stdout(std::fs::File::create(&received).expect("subscriber output"))
            .spawn()
            .expect("mosquitto_sub runs (scripts/setup.sh installs mosquitto-clients)"),
    );
    let read = || std::fs::read_to_string(&received).unwrap_or_default();
    wait_until(|| read().contains("SUBACK"), "the subscriber subscribed");
    let (dir, out) = run_example_with("zones.vpl", &["--quiet", "--max-frames", "5"], |t| {
        t.replace("mqtt://127.0.0.1:1883", &format!("mqtt://127.0.0.1:{port}"))
    });
    ok(&out);
    assert_eq!(
        video_size(&dir.join("out/zones.mp4")),
        ("h264".into(), Some(768), Some(576))
    );
    let records = lines(&dir.join("out/zones.jsonl"));
    assert_eq!(records.len(), 5);
    for r in &records {
        let analytics = &r["analytics"];
        assert_eq!(analytics["zones"][0]["zone"], "square", "{r}");
        assert!(analytics["zones"][0]["count"].is_u64(), "{r}");
        assert_eq!(analytics["lines"][0]["line"], "post", "{r}");
    }
    // Frame 0 has two people in the square (tests/analytics.rs says how it was read): the
    // first events are the first person seen, then their entries.
    let events = lines(&dir.join("out/events.jsonl"));
    let kinds: Vec<&str> = events
        .iter()
        .take(3)
        .filter_map(|e| e["event"]["type"].as_str())
        .collect();
    assert_eq!(kinds, ["appeared", "entry", "entry"], "{events:?}");
    // Every event written to the file reached the broker, as the same line.
    let messages = || -> Vec<String> {
        read()
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(str::to_string)
            .collect()
    };
    wait_until(
        || messages().len() >= events.len(),
        "every event reached mosquitto",
    );
    let sent: Vec<String> = std::fs::read_to_string(dir.join("out/events.jsonl"))
        .expect("events")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(messages(), sent);
    assert!(
        events
            .iter()
            .all(|e| e["mdsversion"] == "1.0" && e["frame"].is_u64())
    );
}

/// scripts/live_client.py against the run of examples/live.vpl: its exit status and what it
/// prints on standard output.
fn live_client(url: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("python3")
        .arg(root().join("scripts/live_client.py"))
        .args(["--url", url])
        .args(args)
        .env_remove("VPL_CONTROL_TOKEN")
        .output()
        .expect("python3 runs");
    // Its answer; where it was refused, what it said of why.
    let said = if out.status.success() {
        &out.stdout
    } else {
        &out.stderr
    };
    (
        out.status.code(),
        String::from_utf8_lossy(said).into_owned(),
    )
}

/// examples/live.vpl as docs/live.md runs it: its cameras.yaml admitted at the start, a
/// stream added and removed with scripts/live_client.py, then the run stopped through the
/// API: exit 0, the removed stream's records end with `stream_removed`, every stream's
/// video is written.
#[test]
fn live_example_runs_its_cameras_and_the_client_adds_and_removes_one() {
    use std::io::{BufRead, BufReader};
    let dir = temp_dir("example-live.vpl");
    let fixtures = format!("{}/tests/", root().display());
    let assets = format!("\"{}/assets/", root().display());
    let text = std::fs::read_to_string(root().join("examples/live.vpl")).expect("example");
    std::fs::write(dir.join("live.vpl"), text.replace("\"../assets/", &assets)).expect("write");
    let cameras = std::fs::read_to_string(root().join("examples/cameras.yaml")).expect("yaml");
    std::fs::write(
        dir.join("cameras.yaml"),
        cameras.replace("../tests/", &fixtures),
    )
    .expect("write");
    let mut run = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "live.vpl", "--control", "127.0.0.1:0"])
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vplc runs");
    let mut stderr = BufReader::new(run.stderr.take().expect("stderr"));
    let mut url = None;
    let mut said = String::new();
    while url.is_none() {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        said.push_str(&line);
        url = line
            .split("control API on ")
            .nth(1)
            .map(|u| u.trim().to_string());
    }
    let url = url.unwrap_or_else(|| panic!("no control address: {said}"));
    let later = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let start = std::time::Instant::now();
    while live_client(&url, &["ready"]).0 != Some(0) {
        assert!(start.elapsed().as_secs() < 60, "never ready");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (status, listed) = live_client(&url, &["list"]);
    assert_eq!(status, Some(0), "{listed}");
    assert!(listed.contains("front-door"), "{listed}");
    let clip = format!("{fixtures}fixtures/media/h264_320x240_25fps.mp4");
    let (status, added) = live_client(&url, &["add", "cams", "extra", &clip]);
    assert_eq!(status, Some(0), "{added}");
    assert!(added.contains("\"slot\""), "{added}");
    // Its records grow; then it is removed, drained, and its frames said.
    wait_for_lines(&dir.join("out/live_extra.jsonl"), 3);
    let (status, removed) = live_client(&url, &["remove", "extra"]);
    assert_eq!(status, Some(0), "{removed}");
    let frames: serde_json::Value = serde_json::from_str(&removed).expect("json");
    let frames = frames["frames"].as_u64().expect("frames");
    assert!(frames >= 3, "{removed}");
    let records = lines(&dir.join("out/live_extra.jsonl"));
    let (last, rest) = records.split_last().expect("records");
    assert_eq!(last["event"], "stream_removed", "{last}");
    assert_eq!(rest.len() as u64, frames);
    let (status, stopped) = live_client(&url, &["stop"]);
    assert_eq!(status, Some(0), "{stopped}");
    let exit = run.wait().expect("vplc ends");
    said.push_str(&later.join().unwrap_or_default());
    assert_eq!(exit.code(), Some(0), "{said}");
    for id in ["front-door", "extra"] {
        let video = dir.join(format!("out/live_{id}.mp4"));
        assert!(
            std::fs::metadata(&video).is_ok_and(|m| m.len() > 0),
            "{}",
            video.display()
        );
    }
}

/// Waits up to 60 s for `path` to hold `n` lines.
fn wait_for_lines(path: &std::path::Path, n: usize) {
    let start = std::time::Instant::now();
    while std::fs::read_to_string(path).map_or(0, |t| t.lines().count()) < n {
        assert!(
            start.elapsed().as_secs() < 60,
            "{} never had {n} lines",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
