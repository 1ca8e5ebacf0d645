//! `vplc run --control` on a program with a pool (issue 21's sequence): streams added and
//! removed over HTTP while the pipeline plays, each checked at the door, and their records
//! and videos compared with a static run of the same files.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::free_port;
use common::{asset, bbox, count_frames, lines, root, run_ok, temp_dir, vplc};
use serde_json::{Value, json};

/// `METHOD path` with a JSON body to `addr`: the status and the JSON answer.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: vpl\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let json = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| serde_json::from_str(body).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    (status, json)
}

/// Makes `name` in `dir` with a `vplc run` of `source | …`.
fn make(dir: &Path, name: &str, source: &str, max_frames: Option<&str>) {
    let program = dir.join(format!("make_{name}.vpl"));
    std::fs::write(
        &program,
        format!("pipeline make {{\n    {source} | encode(h264) | file({name:?});\n}}\n"),
    )
    .expect("write");
    let mut args = vec![];
    if let Some(n) = max_frames {
        args.extend(["--max-frames", n]);
    }
    run_ok(&program, &args);
}

const MODEL: &str = "model people = onnx({model:?},\n    labels: [\"person\", \"fallen\"],\n    decoder: yolov8(confidence: 0.4, iou: 0.5),\n);\n\n";

fn program(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let model = asset("assets/models/person_yolov8s.onnx");
    std::fs::write(
        &path,
        MODEL.replace("{model:?}", &format!("{model:?}")) + body,
    )
    .expect("write");
    path
}

/// The records of stream `id` (its own file): frame records, then `stream_removed`.
fn records(dir: &Path, id: &str) -> Vec<Value> {
    lines(&dir.join(format!("out/rec_{id}.jsonl")))
}

/// The objects of two runs' records of the same frames are the same, boxes within 0.5 px.
fn same_detections(live: &[Value], still: &[Value], what: &str) {
    assert_eq!(live.len(), still.len(), "{what}: frames");
    for (l, s) in live.iter().zip(still) {
        assert_eq!(l["frame"], s["frame"], "{what}");
        let (lo, so) = (
            l["objects"].as_array().expect("objects"),
            s["objects"].as_array().expect("objects"),
        );
        assert_eq!(lo.len(), so.len(), "{what}: frame {}", l["frame"]);
        for (a, b) in lo.iter().zip(so) {
            assert_eq!(a["label"], b["label"], "{what}");
            let (a, b) = (bbox(a), bbox(b));
            for (x, y) in [(a.x, b.x), (a.y, b.y), (a.w, b.w), (a.h, b.h)] {
                assert!(
                    (x - y).abs() <= 0.5,
                    "{what}: frame {}: {a:?} {b:?}",
                    l["frame"]
                );
            }
        }
    }
}

/// A run that a failed assertion leaves behind is ended with the test.
struct KillOnDrop(std::process::Child);

impl KillOnDrop {
    fn wait(mut self) -> std::process::ExitStatus {
        self.0.wait().expect("vplc ends")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn streams_are_added_checked_and_removed_while_the_pool_runs() {
    let dir = temp_dir("live");
    let vtest = asset("assets/media/vtest.avi");
    make(
        &dir,
        "a.mp4",
        &format!("file({vtest:?}) | decode | scale(320x240) | rate(25fps)"),
        Some("16"),
    );
    make(
        &dir,
        "c.mp4",
        "test(pattern: ball, resolution: 320x240, rate: 25fps, frames: 40)",
        None,
    );
    make(
        &dir,
        "b.mp4",
        "test(pattern: snow, resolution: 320x240, rate: 25fps, frames: 25)",
        None,
    );
    make(
        &dir,
        "big.mp4",
        "test(resolution: 640x480, rate: 25fps, frames: 10)",
        None,
    );
    let live = program(
        &dir,
        "live.vpl",
        "pipeline live {\n    let cams = pool(max: 3) : video<h264, 320x240, 25fps>;\n    \
         let seen = cams | decode | infer(people);\n    \
         seen | json | file(\"out/rec_{stream}.jsonl\");\n    \
         seen | encode(h264) | file(\"out/cam_{stream}.mp4\");\n}\n",
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--control", &addr, "--metrics", &addr])
        .arg(&live)
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .env_remove("VPL_CONTROL_TOKEN")
        .stderr(Stdio::piped())
        .spawn()
        .expect("vplc starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let child = KillOnDrop(child);
    let mut line = String::new();
    while !line.starts_with("vplc: control API on") {
        line.clear();
        assert_ne!(
            stderr.read_line(&mut line).expect("a line"),
            0,
            "no address said"
        );
    }
    let said = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    let addr: SocketAddr = addr.parse().unwrap();
    let start = Instant::now();
    while http(addr, "GET", "/v1/health/ready", None).0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never played"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let add = |id: &str, url: &str, params: Value| {
        http(
            addr,
            "POST",
            "/v1/pools/cams/streams",
            Some(&json!({"id": id, "url": url, "params": params})),
        )
    };
    let ty = "video<h264, 320x240, 25fps>";
    assert_eq!(
        add("a", "a.mp4", json!({})),
        (201, json!({"id": "a", "slot": 0, "type": ty}))
    );
    assert_eq!(
        add("b", "b.mp4", json!({"loop": true})),
        (201, json!({"id": "b", "slot": 1, "type": ty}))
    );
    let (status, body) = add("big", "big.mp4", json!({}));
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("640x480") && text.contains("scale(320x240)"),
        "{text}"
    );
    let h265 = root().join("tests/fixtures/media/h265_320x240_25fps.265");
    let (status, body) = add("hevc", &h265.display().to_string(), json!({}));
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("h265"), "{body}");
    assert_eq!(
        add("c", "c.mp4", json!({})),
        (201, json!({"id": "c", "slot": 2, "type": ty}))
    );
    assert_eq!(add("a", "a.mp4", json!({})).0, 409);
    assert_eq!(add("d", "a.mp4", json!({})).0, 409);
    let (status, listed) = http(addr, "GET", "/v1/streams", None);
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(ids.contains(&"b"), "{listed}");
    // `/metrics` on the same listener labels each slot's samples with its stream's id.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: vpl\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut metrics = String::new();
    stream.read_to_string(&mut metrics).unwrap();
    assert!(
        metrics.contains("vpl_frames_total{pipeline=\"live\",stream=\"1\",stream_id=\"b\"}"),
        "{metrics}"
    );
    std::thread::sleep(Duration::from_secs(3));
    // b's latency histograms are under its id once its frames reach its stages: scraped
    // until they count one (a loaded machine may take a while), at most 60 s.
    let scraped = Instant::now();
    let (counted, metrics) = loop {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: vpl\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut metrics = String::new();
        stream.read_to_string(&mut metrics).unwrap();
        let counted = metrics
            .lines()
            .filter(|l| {
                l.starts_with("vpl_frame_latency_seconds_count{pipeline=\"live\",stream_id=\"b\",")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .max();
        if counted.is_some_and(|n| n > 0) || scraped.elapsed() > Duration::from_secs(60) {
            break (counted, metrics);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(counted.is_some_and(|n| n > 0), "{metrics}");
    let (status, removed) = http(addr, "DELETE", "/v1/streams/b", None);
    assert_eq!(status, 200, "{removed}");
    let k = removed["frames"].as_u64().expect("frames");
    assert!(k > 0);
    // a and c end by themselves (their files end); then the service is stopped.
    let start = Instant::now();
    loop {
        let (_, listed) = http(addr, "GET", "/v1/streams", None);
        if listed.as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "a and c never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(http(addr, "POST", "/v1/stop", None).0 / 100, 2);
    let status = child.wait();
    let said = said.join().unwrap();
    assert_eq!(status.code(), Some(0), "{said}");

    // b: exactly k records, then its `stream_removed`; a playable MP4 of k frames.
    let b = records(&dir, "b");
    let (last, frames) = b.split_last().expect("b's records");
    assert_eq!(frames.len() as u64, k);
    assert_eq!(last["event"], "stream_removed");
    assert_eq!(last["stream_id"], "b");
    assert_eq!(last["frames"], k);
    assert_eq!(last["reason"], "removed");
    assert!(frames.iter().all(|r| r["stream_id"] == "b"));
    assert_eq!(count_frames(&dir.join("out/cam_b.mp4"), &dir), k);

    // a and c: whole and in order, and what a static run of the same files finds.
    let still = program(
        &dir,
        "still.vpl",
        "pipeline still {\n    let seen = [file(\"a.mp4\"), file(\"c.mp4\")] | decode | infer(people);\n    \
         seen | json | file(\"out/still_{stream}.jsonl\");\n}\n",
    );
    run_ok(&still, &[]);
    for (id, index) in [("a", 0), ("c", 1)] {
        let live = records(&dir, id);
        let (last, frames) = live.split_last().expect("records");
        assert_eq!(last["event"], "stream_removed", "{id}");
        assert_eq!(last["reason"], "ended", "{id}");
        assert_eq!(last["frames"], frames.len(), "{id}");
        let pts: Vec<u64> = frames.iter().filter_map(|r| r["pts_ns"].as_u64()).collect();
        assert_eq!(pts.len(), frames.len(), "{id}");
        assert!(pts.windows(2).all(|w| w[0] < w[1]), "{id}: {pts:?}");
        let expected = lines(&dir.join(format!("out/still_{index}.jsonl")));
        same_detections(frames, &expected, id);
        assert_eq!(
            count_frames(&dir.join(format!("out/cam_{id}.mp4")), &dir),
            frames.len() as u64
        );
    }
    // Nothing was written for a stream that was refused, nor for `{stream}` itself.
    let mut names: Vec<String> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("still_"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cam_a.mp4",
            "cam_b.mp4",
            "cam_c.mp4",
            "rec_a.jsonl",
            "rec_b.jsonl",
            "rec_c.jsonl"
        ]
    );
}

/// Without `--control`, a run of a pool binds the entries of its `streams:` file once it
/// plays and ends, exit 0, when every one of them has left (their files ended); an entry
/// that does not fit the pool is said before anything runs.
#[test]
fn without_the_control_api_the_streams_file_is_run_to_its_end() {
    let dir = temp_dir("live-file");
    make(
        &dir,
        "one.mp4",
        "test(pattern: ball, resolution: 320x240, rate: 25fps, frames: 20)",
        None,
    );
    make(
        &dir,
        "two.mp4",
        "test(pattern: snow, resolution: 320x240, rate: 25fps, frames: 30)",
        None,
    );
    make(
        &dir,
        "big.mp4",
        "test(resolution: 640x480, rate: 25fps, frames: 5)",
        None,
    );
    let program = dir.join("pool.vpl");
    std::fs::write(
        &program,
        "pipeline pooled {\n    let cams = pool(max: 2, streams: \"cams.yaml\") : video<h264, 320x240, 25fps>;\n    \
         cams | decode | json | file(\"out/rec_{stream}.jsonl\");\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("cams.yaml"),
        "- id: one\n  url: one.mp4\n- id: two\n  url: two.mp4\n",
    )
    .expect("write");
    let stats = run_ok(&program, &[]);
    // --stats: the two slots by stream index, and each stream admitted.
    assert_eq!(stats["frames"], json!([20, 30]), "{stats}");
    assert_eq!(
        stats["streams"],
        json!([
            {"id": "one", "pool": "cams", "slot": 0, "frames": 20, "reason": "ended"},
            {"id": "two", "pool": "cams", "slot": 1, "frames": 30, "reason": "ended"}
        ]),
        "{stats}"
    );
    for (id, frames) in [("one", 20), ("two", 30)] {
        let records = records(&dir, id);
        let (last, rest) = records.split_last().expect("records");
        assert_eq!(rest.len(), frames, "{id}");
        assert_eq!(last["event"], "stream_removed");
        assert_eq!(last["reason"], "ended");
        assert_eq!(last["frames"], frames);
    }
    // A stream of another size in the file: said, and nothing runs.
    std::fs::write(
        dir.join("cams.yaml"),
        "- id: one\n  url: one.mp4\n- id: big\n  url: big.mp4\n",
    )
    .expect("write");
    let out = vplc(&["run", "--quiet", &program.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("640x480"), "{stderr}");
}

/// `--cameras FILE --shard I/N` (issue 23): each shard admits the cameras rendezvous
/// hashing gives it into the pool, and only those; every camera runs on exactly one shard,
/// and its records say which.
#[test]
fn shards_of_a_camera_list_each_run_their_own_cameras() {
    let dir = temp_dir("live-shards");
    let ids = ["door", "yard", "gate", "hall"];
    let mine: Vec<Vec<&str>> = (0..2)
        .map(|i| {
            ids.iter()
                .copied()
                .filter(|id| vplc::shard::shard_of(id, 2) == i)
                .collect()
        })
        .collect();
    assert!(
        mine.iter().all(|m| !m.is_empty()),
        "both shards have cameras: {mine:?}"
    );
    let mut yaml = String::new();
    for (n, id) in ids.iter().enumerate() {
        make(
            &dir,
            &format!("{id}.mp4"),
            &format!(
                "test(pattern: ball, resolution: 320x240, rate: 25fps, frames: {})",
                10 + n
            ),
            None,
        );
        yaml.push_str(&format!("- id: {id}\n  url: {id}.mp4\n"));
    }
    std::fs::write(dir.join("cameras.yaml"), yaml).expect("write");
    let program = dir.join("shard.vpl");
    std::fs::write(
        &program,
        "pipeline sharded {\n    let cams = pool(max: 4) : video<h264, 320x240, 25fps>;\n    \
         cams | decode | json | file(\"out/rec_{stream}.jsonl\");\n}\n",
    )
    .expect("write");
    for (shard, cameras) in mine.iter().enumerate() {
        let _ = std::fs::remove_dir_all(dir.join("out"));
        run_ok(
            &program,
            &[
                "--cameras",
                &dir.join("cameras.yaml").display().to_string(),
                "--shard",
                &format!("{shard}/2"),
            ],
        );
        for (n, id) in ids.iter().enumerate() {
            let file = dir.join(format!("out/rec_{id}.jsonl"));
            if !cameras.contains(id) {
                assert!(
                    !file.exists(),
                    "shard {shard} ran {id}, not one of its cameras"
                );
                continue;
            }
            let records = records(&dir, id);
            let (last, frames) = records.split_last().expect("records");
            assert_eq!(frames.len(), 10 + n, "{id}'s frames on shard {shard}");
            assert_eq!(last["event"], "stream_removed", "{id}");
            for r in frames {
                assert_eq!(r["shard"], shard, "{id}: {r}");
                assert_eq!(r["stream_id"], *id, "{r}");
            }
        }
    }
}

/// Reads `vplc run --control`'s standard error up to the address it says, then waits until
/// the run plays: the address, and the rest of what it says once it ends.
fn control_address(
    stderr: std::process::ChildStderr,
) -> (SocketAddr, std::thread::JoinHandle<String>) {
    let mut stderr = BufReader::new(stderr);
    let mut line = String::new();
    while !line.starts_with("vplc: control API on") {
        line.clear();
        assert_ne!(
            stderr.read_line(&mut line).expect("a line"),
            0,
            "no address said"
        );
    }
    let addr: SocketAddr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .expect("an address");
    let said = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    let start = Instant::now();
    while http(addr, "GET", "/v1/health/ready", None).0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never played"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (addr, said)
}

/// The mean brightness of each cell of a 2x2 grid, frame after frame, of the video `path`
/// (decoded by GStreamer's own tools, scaled down to 64x36 gray).
fn cell_brightness(path: &Path) -> Vec<[f64; 4]> {
    let raw = path.with_extension("gray");
    let status = Command::new("gst-launch-1.0")
        .args(["-q", "filesrc"])
        .arg(format!("location={}", path.display()))
        .args([
            "!",
            "qtdemux",
            "!",
            "h264parse",
            "!",
            "avdec_h264",
            "!",
            "videoconvert",
            "!",
            "videoscale",
            "!",
            "video/x-raw,format=GRAY8,width=64,height=36",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", raw.display()))
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success(), "{} does not play", path.display());
    let bytes = std::fs::read(&raw).expect("the decoded frames");
    bytes
        .chunks_exact(64 * 36)
        .map(|frame| {
            let mut sums = [0f64; 4];
            for (i, v) in frame.iter().enumerate() {
                let (x, y) = (i % 64, i / 64);
                sums[(y / 18) * 2 + x / 32] += f64::from(*v);
            }
            sums.map(|s| s / (32.0 * 18.0))
        })
        .collect()
}

/// A pool tiled into one grid (`cams | decode | tile(2, 2) | overlay | encode | file`):
/// idle slots are black cells and do not hold the others back, a stream shows in its
/// slot's cell, its cell goes black when it is removed while the others go on, the next
/// stream in that slot shows there again, and at stop the grid's MP4 is finished.
#[test]
fn a_tiled_pool_shows_each_stream_in_its_cell_and_finishes_the_grid() {
    let dir = temp_dir("live-tile");
    for name in ["a.mp4", "b.mp4", "c.mp4"] {
        make(
            &dir,
            name,
            "test(pattern: smpte, resolution: 320x240, rate: 25fps, frames: 50)",
            None,
        );
    }
    let grid = dir.join("grid.vpl");
    std::fs::write(
        &grid,
        "pipeline grid {\n    let cams = pool(max: 4) : video<h264, 320x240, 25fps>;\n    \
         cams | decode | tile(2, 2) | overlay | encode(h264) | file(\"out/grid.mp4\");\n}\n",
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args([
            "run",
            "--quiet",
            "--control",
            "127.0.0.1:0",
            "--stats",
            "stats.json",
        ])
        .arg(&grid)
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .env_remove("VPL_CONTROL_TOKEN")
        .stderr(Stdio::piped())
        .spawn()
        .expect("vplc starts");
    let stderr = child.stderr.take().unwrap();
    let child = KillOnDrop(child);
    let (addr, said) = control_address(stderr);
    let add = |id: &str| {
        http(
            addr,
            "POST",
            "/v1/pools/cams/streams",
            Some(&json!({"id": id, "url": format!("{id}.mp4"), "params": {"loop": true}})),
        )
    };
    let frames_of = |id: &str| {
        let (_, listed) = http(addr, "GET", "/v1/streams", None);
        listed
            .as_array()
            .and_then(|l| l.iter().find(|s| s["id"] == id))
            .and_then(|s| s["frames"].as_u64())
            .unwrap_or(0)
    };
    let wait_frames = |id: &str, n: u64| {
        let start = Instant::now();
        while frames_of(id) < n {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{id} never had {n} frames"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_eq!(add("a").0, 201);
    assert_eq!(add("b").0, 201);
    wait_frames("a", 30);
    wait_frames("b", 30);
    let (status, removed) = http(addr, "DELETE", "/v1/streams/a", None);
    assert_eq!(status, 200, "{removed}");
    let a_frames = removed["frames"].as_u64().expect("frames");
    // b goes on while a's cell is empty.
    let b_before = frames_of("b");
    wait_frames("b", b_before + 25);
    let (status, added) = add("c");
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["slot"], 0, "c takes a's slot");
    wait_frames("c", 30);
    assert_eq!(http(addr, "POST", "/v1/stop", None).0 / 100, 2);
    let status = child.wait();
    let said = said.join().unwrap();
    assert_eq!(status.code(), Some(0), "{said}");

    // --stats: frames by stream index (the four slots), and each stream admitted.
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).expect("stats"))
            .expect("JSON");
    assert_eq!(stats["exit"], "stopped");
    assert_eq!(stats["frames"].as_array().map(Vec::len), Some(4), "{stats}");
    let streams = stats["streams"].as_array().expect("streams");
    let said: Vec<(&str, &str, u64, &str)> = streams
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or(""),
                s["pool"].as_str().unwrap_or(""),
                s["slot"].as_u64().unwrap_or(99),
                s["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("a", "cams", 0, "removed"),
            ("b", "cams", 1, "removed"),
            ("c", "cams", 0, "removed")
        ],
        "{stats}"
    );
    assert_eq!(streams[0]["frames"], a_frames);
    assert!(
        streams.iter().all(|s| s["frames"].as_u64() > Some(25)),
        "{stats}"
    );
    // Slot 0 had a's frames, then c's.
    assert_eq!(
        stats["frames"][0].as_u64(),
        Some(a_frames + streams[2]["frames"].as_u64().unwrap()),
        "{stats}"
    );

    let cells = cell_brightness(&dir.join("out/grid.mp4"));
    assert!(cells.len() > 75, "{} frames", cells.len());
    let lit = |v: f64| v > 60.0;
    let dark = |v: f64| v < 30.0;
    // The idle slots' cells are black throughout.
    let lit_idle: Vec<_> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !dark(c[2]) || !dark(c[3]))
        .collect();
    assert!(lit_idle.is_empty(), "of {}: {lit_idle:?}", cells.len());
    // b's cell: lit from its first frame through a's leaving and c's coming (at stop the
    // streams end one by one, their cells going black meanwhile).
    let b_from = cells.iter().position(|c| lit(c[1])).expect("b shows");
    let c_from = b_from
        + cells[b_from..]
            .iter()
            .position(|c| !lit(c[0]))
            .expect("a's cell goes black")
        + cells[b_from..]
            .iter()
            .skip_while(|c| lit(c[0]))
            .position(|c| lit(c[0]))
            .expect("c shows");
    let b_dark: Vec<_> = cells[..c_from + 10]
        .iter()
        .enumerate()
        .skip(b_from)
        .filter(|(_, c)| !lit(c[1]))
        .collect();
    assert!(b_dark.is_empty(), "of {}: {b_dark:?}", cells.len());
    // Slot 0's cell: a, then black, then c, each for a while.
    let mut runs: Vec<(bool, usize)> = Vec::new();
    for c in &cells {
        let on = lit(c[0]);
        match runs.last_mut() {
            Some((was, n)) if *was == on => *n += 1,
            _ => runs.push((on, 1)),
        }
    }
    // The last frames may show c's cell black already: c ended before b at stop.
    if runs.last().is_some_and(|(on, n)| !on && *n < 5) {
        runs.pop();
    }
    let runs: Vec<(bool, usize)> = runs.into_iter().skip_while(|(on, _)| !on).collect();
    assert_eq!(
        runs.iter().map(|(on, _)| *on).collect::<Vec<_>>(),
        [true, false, true],
        "slot 0's cell: a, black, c: {runs:?}"
    );
    assert!(runs.iter().all(|(_, n)| *n >= 10), "{runs:?}");
}
