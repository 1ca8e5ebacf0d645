//! `rtsp` and `rtsp_out` end to end with the real `vplc`: two servers (`vplc run` of
//! `test | encode(h264) | rtsp_out`) on 127.0.0.1, a reader pipeline with both streams and a
//! local one. One server is stopped mid-run and started again on the same port: the reader
//! warns, reconnects and reaches `--max-frames`; the other streams are not disturbed.
//! Waits have generous limits so that a broken build fails instead of hanging; no assertion
//! depends on how fast the machine is.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
const FRAMES: u64 = 150;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vplc-rtsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Child processes, killed if the test fails half-way.
#[derive(Default)]
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn vplc(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vplc"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off");
    command
}

/// `vplc run` serving a moving test pattern at `rtsp://0.0.0.0:port/path` until interrupted.
fn serve(dir: &Path, port: u16, path: &str) -> Child {
    let name = format!("serve-{port}.vpl");
    std::fs::write(
        dir.join(&name),
        format!(
            "pipeline serve {{\n    test(frames: 0, pattern: ball, resolution: 320x240) | encode(h264, bitrate: 500kbps) | rtsp_out(port: {port}, path: {path:?});\n}}\n"
        ),
    )
    .expect("write the server");
    let child = vplc(dir, &["run", "--quiet", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let deadline = Instant::now() + LIMIT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Ctrl-C: the server ends its stream and exits 130.
fn interrupt(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("the server ends").code(), Some(130));
}

/// Collects the lines a child writes to a pipe, as they come.
fn collect(pipe: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn records(lines: &[String], source: &str) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("each line is JSON"))
        .filter(|r| r["source"] == source)
        .collect()
}

/// Frames numbered 0..FRAMES, timestamps going forward, with no hole longer than `gap_ns`.
fn assert_complete(records: &[serde_json::Value], gap_ns: u64, what: &str) {
    let frames: Vec<u64> = records.iter().filter_map(|r| r["frame"].as_u64()).collect();
    assert_eq!(
        frames,
        (0..FRAMES).collect::<Vec<_>>(),
        "{what}: frame numbers"
    );
    let pts: Vec<u64> = records
        .iter()
        .filter_map(|r| r["pts_ns"].as_u64())
        .collect();
    assert_eq!(
        pts.len() as u64,
        FRAMES,
        "{what}: every frame has a timestamp"
    );
    for w in pts.windows(2) {
        assert!(
            w[0] < w[1],
            "{what}: pts go forward: {} then {}",
            w[0],
            w[1]
        );
        assert!(w[1] - w[0] < gap_ns, "{what}: a hole of {} ns", w[1] - w[0]);
    }
}

#[test]
fn the_reader_reconnects_to_a_restarted_server_and_other_streams_go_on() {
    let dir = temp_dir("reconnect");
    let (cam_port, other_port) = (free_port(), free_port());
    let cam = format!("rtsp://127.0.0.1:{cam_port}/cam");
    let other = format!("rtsp://127.0.0.1:{other_port}/other");
    let mut children = Children::default();
    children.0.push(serve(&dir, other_port, "/other"));
    children.0.push(serve(&dir, cam_port, "/cam"));

    std::fs::write(
        dir.join("read.vpl"),
        format!(
            "pipeline read {{\n    \
             let cam = rtsp({cam:?}, reconnect: 1s) : video<h264, 320x240, 30fps>;\n    \
             let other = rtsp({other:?}, reconnect: 1s) : video<h264, 320x240, 30fps>;\n    \
             [cam, other] | decode | json | stdout;\n    \
             test(frames: 0, resolution: 320x240) | json | file(\"local.jsonl\");\n}}\n"
        ),
    )
    .expect("write the reader");
    let mut reader = vplc(
        &dir,
        &[
            "run",
            "--max-frames",
            &FRAMES.to_string(),
            "--stats",
            "stats.json",
            "read.vpl",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("the reader starts");
    let stdout = collect(reader.stdout.take().expect("stdout"));
    let stderr = collect(reader.stderr.take().expect("stderr"));
    let seen = |source: &str| records(&stdout.lock().unwrap(), source).len();

    wait_for("frames from the first server", || seen(&cam) >= 15);
    interrupt(&mut children.0[1]);
    let lost = format!("vplc: warning from n0_rtsp: lost {cam} (");
    wait_for("the warning", || {
        stderr.lock().unwrap().iter().any(|l| l.starts_with(&lost))
    });
    let other_at_warning = seen(&other);
    let cam_at_warning = seen(&cam);

    // The same port, a new server.
    children.0.push(serve(&dir, cam_port, "/cam"));
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = reader.try_wait().expect("the reader runs") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = reader.kill();
            panic!("the reader did not finish: {:?}", stderr.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(100));
    let err = stderr.lock().unwrap().join("\n");
    assert_eq!(status.code(), Some(0), "{err}");

    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).expect("stats"))
            .expect("JSON");
    assert_eq!(stats["exit"], "max-frames", "{stats}");
    assert_eq!(
        stats["frames"],
        serde_json::json!([FRAMES, FRAMES, FRAMES]),
        "{stats}"
    );

    // The stream that was cut: warned about once, every frame up to the limit, and its
    // timestamps continue past the outage (they never go back).
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].ends_with("; reconnecting in 1 s"),
        "{}",
        warnings[0]
    );
    let back: Vec<&str> = err.lines().filter(|l| l.contains("is back")).collect();
    assert_eq!(
        back,
        [format!("vplc: n0_rtsp: {cam} is back; frames flow again")],
        "{err}"
    );
    let lines = stdout.lock().unwrap().clone();
    assert!(cam_at_warning < FRAMES as usize, "{cam_at_warning}");
    assert_complete(&records(&lines, &cam), u64::MAX, "the restarted stream");

    // The other network stream went on through the outage, with no hole.
    assert!(
        other_at_warning < FRAMES as usize,
        "the other stream was still running when the first server went away ({other_at_warning} frames)"
    );
    assert_complete(&records(&lines, &other), 500_000_000, "the other stream");

    // The local stream is complete.
    let local: Vec<String> = std::fs::read_to_string(dir.join("local.jsonl"))
        .expect("local records")
        .lines()
        .map(String::from)
        .collect();
    assert_complete(&records(&local, "test:smpte"), u64::MAX, "the local stream");

    for child in &mut children.0 {
        if matches!(child.try_wait(), Ok(None)) {
            interrupt(child);
        }
    }
}

/// A reader held up just after it connects (what a loaded machine does to a process): the
/// packets sent meanwhile come at once, `rtpjitterbuffer`'s clock skew estimate moves back
/// by more than a frame a packet, and it gives a run of frames the time of the frame before
/// them (vplc passed ~40 frames with one time on; `the_reader_reconnects...` saw two once).
/// Each frame gets a time of its own, later than the one before, whatever the hold-up did.
#[test]
fn a_reader_held_up_after_connecting_still_gives_each_frame_a_later_time() {
    let dir = temp_dir("held-up");
    let port = free_port();
    let cam = format!("rtsp://127.0.0.1:{port}/cam");
    let mut children = Children::default();
    children.0.push(serve(&dir, port, "/cam"));
    std::fs::write(
        dir.join("read.vpl"),
        format!(
            "pipeline read {{\n    rtsp({cam:?}) : video<h264, 320x240, 30fps> | decode | json | stdout;\n}}\n"
        ),
    )
    .expect("write the reader");
    let mut reader = vplc(
        &dir,
        &["run", "--max-frames", &FRAMES.to_string(), "read.vpl"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("the reader starts");
    let stdout = collect(reader.stdout.take().expect("stdout"));
    let stderr = collect(reader.stderr.take().expect("stderr"));
    wait_for("the first frame", || !stdout.lock().unwrap().is_empty());
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([name, &reader.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    };
    // The hold-up: how long does not matter to what is asserted, only to how many frames
    // come at once.
    signal("-STOP");
    std::thread::sleep(Duration::from_millis(1500));
    signal("-CONT");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = reader.try_wait().expect("the reader runs") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = reader.kill();
            panic!("the reader did not finish: {:?}", stderr.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(100));
    let err = stderr.lock().unwrap().join("\n");
    assert_eq!(status.code(), Some(0), "{err}");
    let lines = stdout.lock().unwrap().clone();
    assert_complete(&records(&lines, &cam), u64::MAX, "the held-up stream");
    interrupt(&mut children.0[0]);
}

#[test]
fn rtsp_out_on_a_port_in_use_is_an_error_at_the_sink() {
    let dir = temp_dir("busy");
    let taken = TcpListener::bind("0.0.0.0:0").expect("a port");
    let port = taken.local_addr().expect("an address").port();
    std::fs::write(
        dir.join("busy.vpl"),
        format!(
            "pipeline serve {{\n    test(frames: 30) | encode(h264) | rtsp_out(port: {port}, path: \"/x\");\n}}\n"
        ),
    )
    .expect("write");
    let out = vplc(&dir, &["run", "busy.vpl"])
        .output()
        .expect("vplc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("error[E0504]: Cannot serve RTSP on port {port}: "))
            && stderr.contains("busy.vpl:2:39")
            && stderr.contains(&format!(
                "= help: another program listens on port {port}: stop it, or choose another `port`"
            )),
        "at the sink: {stderr}"
    );
}

/// `examples/rtsp_relay.vpl` as a user runs it, on free ports: a camera served by `vplc`
/// (720p at 25 fps, as the example ascribes), the example relaying it with people detected
/// and tracked, and a third `vplc` reading the relayed stream back from its `rtsp_out`.
#[test]
fn the_rtsp_relay_example_relays_a_camera() {
    let dir = temp_dir("relay-example");
    let (camera_port, relay_port) = (free_port(), free_port());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join("examples/rtsp_relay.vpl")).expect("example");
    let program = example
        .replace("\"../assets/", &format!("\"{}/assets/", root.display()))
        .replace("127.0.0.1:8554", &format!("127.0.0.1:{camera_port}"))
        .replace("port: 8555", &format!("port: {relay_port}"));
    assert_ne!(
        program, example,
        "the example names the ports this test replaces"
    );
    std::fs::write(dir.join("relay.vpl"), program).expect("write");
    std::fs::write(
        dir.join("camera.vpl"),
        format!(
            "pipeline camera {{\n    test(frames: 0, pattern: ball, resolution: 1280x720, rate: 25fps) | encode(h264, bitrate: 2Mbps) | rtsp_out(port: {camera_port}, path: \"/live\");\n}}\n"
        ),
    )
    .expect("write the camera");
    let mut children = Children::default();
    children.0.push(
        vplc(&dir, &["run", "--quiet", "camera.vpl"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the camera starts"),
    );
    wait_for("the camera", || {
        TcpStream::connect(("127.0.0.1", camera_port)).is_ok()
    });
    let relay = vplc(&dir, &["run", "--quiet", "--max-frames", "60", "relay.vpl"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the relay starts");
    children.0.push(relay);
    wait_for("the relay's server", || {
        TcpStream::connect(("127.0.0.1", relay_port)).is_ok()
    });
    std::fs::write(
        dir.join("viewer.vpl"),
        format!(
            "pipeline viewer {{\n    rtsp(\"rtsp://127.0.0.1:{relay_port}/people\") : video<h264, 1280x720, 25fps> | decode | json | stdout;\n}}\n"
        ),
    )
    .expect("write the viewer");
    let viewer = vplc(&dir, &["run", "--quiet", "--max-frames", "3", "viewer.vpl"])
        .output()
        .expect("the viewer runs");
    assert_eq!(
        viewer.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&viewer.stderr)
    );
    let seen: Vec<serde_json::Value> = String::from_utf8_lossy(&viewer.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(seen.len(), 3, "three relayed frames read back");
    assert!(
        seen.iter()
            .all(|r| r["width"] == 1280 && r["height"] == 720),
        "{seen:?}"
    );

    let mut relay = children.0.pop().expect("the relay");
    let status = relay.wait().expect("the relay ends");
    let mut stderr = String::new();
    if let Some(mut pipe) = relay.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    assert_eq!(status.code(), Some(0), "{stderr}");
    let records: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("out/relay.jsonl"))
        .expect("the relay's records")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(records.len(), 60, "a record for each relayed frame");
    assert!(
        records
            .iter()
            .all(|r| r["width"] == 1280 && r["height"] == 720)
    );
}

/// Ctrl-C while an unascribed camera has never answered: the run ends as interrupted
/// (exit 130), not with an error from the type finder that never saw data.
#[test]
fn ctrl_c_while_a_camera_was_never_reached_is_a_clean_interrupt() {
    let dir = temp_dir("never-reached");
    let port = free_port();
    std::fs::write(
        dir.join("cam.vpl"),
        format!("pipeline cam {{\n    rtsp(\"rtsp://127.0.0.1:{port}/x\") | decode | json | file(\"out/r.jsonl\");\n}}\n"),
    )
    .expect("write");
    let mut child = vplc(&dir, &["run", "--quiet", "cam.vpl"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vplc starts");
    let stderr = collect(child.stderr.take().expect("stderr"));
    wait_for("the warning", || {
        stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("cannot reach"))
    });
    interrupt(&mut child);
    let err = stderr.lock().unwrap().join("\n");
    assert!(!err.contains("error["), "{err}");
}

/// Two `rtsp_out` on one port (different paths) in one program are served by one server:
/// a reader gets both streams.
#[test]
fn two_rtsp_outs_on_one_port_share_its_server() {
    let dir = temp_dir("shared-port");
    let port = free_port();
    std::fs::write(
        dir.join("serve.vpl"),
        format!(
            "pipeline serve {{\n    \
             test(frames: 0, pattern: ball, resolution: 320x240) | encode(h264, bitrate: 500kbps) | rtsp_out(port: {port}, path: \"/a\");\n    \
             test(frames: 0, pattern: smpte, resolution: 320x240) | encode(h264, bitrate: 500kbps) | rtsp_out(port: {port}, path: \"/b\");\n}}\n"
        ),
    )
    .expect("write the server");
    let mut children = Children::default();
    children.0.push(
        vplc(&dir, &["run", "--quiet", "serve.vpl"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts"),
    );
    let stderr = collect(children.0[0].stderr.take().expect("stderr"));
    let deadline = Instant::now() + LIMIT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = children.0[0].try_wait() {
            panic!("the server ended ({status}): {:?}", stderr.lock().unwrap());
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(
        dir.join("read.vpl"),
        format!(
            "pipeline read {{\n    \
             [rtsp(\"rtsp://127.0.0.1:{port}/a\") : video<h264, 320x240, 30fps>, \
             rtsp(\"rtsp://127.0.0.1:{port}/b\") : video<h264, 320x240, 30fps>] | decode | discard;\n}}\n"
        ),
    )
    .expect("write the reader");
    let out = vplc(
        &dir,
        &[
            "run",
            "--quiet",
            "--max-frames",
            "20",
            "--stats",
            "stats.json",
            "read.vpl",
        ],
    )
    .output()
    .expect("the reader runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\nserver: {:?}",
        String::from_utf8_lossy(&out.stderr),
        stderr.lock().unwrap()
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).expect("stats"))
            .expect("JSON");
    assert_eq!(stats["frames"], serde_json::json!([20, 20]), "{stats}");
    interrupt(&mut children.0[0]);
}
