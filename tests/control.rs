//! `vplc run --control ADDR`: the control API over TCP, against a stand-in run (tokens,
//! bodies too large or never finished, 200 connections at once, scripts/live_client.py) and
//! against real runs of a program without pools (`POST /v1/stop` ends it with exit 0 and
//! its outputs finished; `/metrics` on the same listener; a reachable address without a
//! token refused before anything runs).

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::servers::free_port;
use common::{count_frames, root, stats, temp_dir};
use serde_json::{Value, json};
use vpl_compiler::pool::Request;
use vplc::control::api::{Added, Refused, StreamInfo, Streams};
use vplc::control::{MAX_CONNECTIONS, serve};

/// A pool `cams` of 3 slots that admits any stream and records what it was asked; while
/// `held`, `GET /v1/streams` waits (so connections stay open).
#[derive(Default)]
struct StandIn {
    streams: Mutex<Vec<Request>>,
    held: AtomicBool,
    waiting: AtomicUsize,
    stopped: AtomicBool,
}

impl Streams for StandIn {
    fn pools(&self) -> Vec<String> {
        vec!["cams".into()]
    }

    fn list(&self) -> Vec<StreamInfo> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while self.held.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.streams
            .lock()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(slot, r)| StreamInfo {
                id: r.id.clone(),
                pool: "cams".into(),
                slot,
                url: r.url.clone(),
                state: "playing".into(),
                ty: "video<h264, 320x240, 25fps>".into(),
                frames: 0,
                fps: 0.0,
                last_error: None,
            })
            .collect()
    }

    fn add(&self, pool: &str, request: Request) -> Result<Added, Refused> {
        if pool != "cams" {
            return Err(Refused::NotFound(format!("no pool named `{pool}`")));
        }
        let mut streams = self.streams.lock().unwrap();
        if streams.iter().any(|r| r.id == request.id) {
            return Err(Refused::Conflict(format!("`{}` is taken", request.id)));
        }
        streams.push(request.clone());
        Ok(Added {
            id: request.id,
            slot: streams.len() - 1,
            ty: "video<h264, 320x240, 25fps>".into(),
        })
    }

    fn remove(&self, id: &str) -> Result<u64, Refused> {
        let mut streams = self.streams.lock().unwrap();
        match streams.iter().position(|r| r.id == id) {
            Some(i) => {
                streams.remove(i);
                Ok(25)
            }
            None => Err(Refused::NotFound(format!("no stream `{id}`"))),
        }
    }

    fn ready(&self) -> bool {
        true
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

fn stand_in(token: Option<&str>) -> (Arc<StandIn>, SocketAddr) {
    let run = Arc::new(StandIn::default());
    let addr = serve(
        "127.0.0.1:0".parse().unwrap(),
        token.map(str::to_string),
        run.clone(),
        None,
    )
    .expect("the control API binds a free port");
    (run, addr)
}

/// The answer to `raw` sent to `addr`: its status line's code, its head and its body.
fn exchange(addr: SocketAddr, raw: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    // A stalled server fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // A server that answers before the whole body is written may close its side early.
    let _ = stream.write_all(raw);
    response(&mut stream)
}

fn response(stream: &mut TcpStream) -> (u16, String, String) {
    let mut bytes = Vec::new();
    stream
        .read_to_end(&mut bytes)
        .expect("an answer, then the close");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head[9..12].parse().expect("a status code");
    (status, head.to_string(), body.to_string())
}

fn request(method: &str, path: &str, body: Option<&str>, token: Option<&str>) -> Vec<u8> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: vpl\r\n");
    if let Some(token) = token {
        raw.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = body {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    raw.push_str(body.unwrap_or_default());
    raw.into_bytes()
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{body:?} is not JSON: {e}"))
}

#[test]
fn every_route_answers_over_tcp() {
    let (run, addr) = stand_in(None);
    assert_ne!(addr.port(), 0, "the port bound, not 0");
    let ask = |method: &str, path: &str, body: Option<&str>| {
        let (status, head, body) = exchange(addr, &request(method, path, body, None));
        assert!(head.contains("Content-Type: application/json"), "{head}");
        assert!(head.contains("Connection: close"), "{head}");
        (status, json_of(&body))
    };
    assert_eq!(
        ask("GET", "/v1/health/live", None),
        (200, json!({"live": true}))
    );
    assert_eq!(
        ask("GET", "/v1/health/ready", None),
        (200, json!({"ready": true}))
    );
    let add = r#"{"id": "a", "url": "rtsp://cam/a", "params": {"tcp": true}}"#;
    assert_eq!(
        ask("POST", "/v1/pools/cams/streams", Some(add)),
        (
            201,
            json!({"id": "a", "slot": 0, "type": "video<h264, 320x240, 25fps>"})
        )
    );
    assert_eq!(ask("POST", "/v1/pools/cams/streams", Some(add)).0, 409);
    assert_eq!(ask("POST", "/v1/pools/dogs/streams", Some(add)).0, 404);
    let (status, list) = ask("GET", "/v1/streams", None);
    assert_eq!((status, list[0]["id"].as_str()), (200, Some("a")));
    assert_eq!(
        ask("DELETE", "/v1/streams/a", None),
        (200, json!({"frames": 25}))
    );
    assert_eq!(ask("DELETE", "/v1/streams/a", None).0, 404);
    assert_eq!(ask("GET", "/v1/stop", None).0, 405);
    assert_eq!(ask("GET", "/nowhere", None).0, 404);
    assert_eq!(ask("POST", "/v1/stop", None), (202, json!({})));
    assert!(run.stopped.load(Ordering::SeqCst));
}

#[test]
fn with_a_token_every_request_must_give_it() {
    let (run, addr) = stand_in(Some("s3cret"));
    for path in ["/v1/health/live", "/v1/streams", "/nowhere"] {
        let (status, head, body) = exchange(addr, &request("GET", path, None, None));
        assert_eq!(status, 401, "{path}");
        assert!(head.contains("WWW-Authenticate: Bearer"), "{head}");
        assert!(
            json_of(&body)["error"]
                .as_str()
                .unwrap()
                .contains("Authorization: Bearer")
        );
    }
    let (status, _, body) = exchange(addr, &request("POST", "/v1/stop", None, Some("s3cre")));
    assert_eq!(status, 401);
    assert_eq!(
        json_of(&body)["error"],
        "the bearer token is not the control API's"
    );
    assert!(
        !run.stopped.load(Ordering::SeqCst),
        "a wrong token stops nothing"
    );
    let (status, _, _) = exchange(addr, &request("GET", "/v1/streams", None, Some("s3cret")));
    assert_eq!(status, 200);
    let (status, _, _) = exchange(addr, &request("POST", "/v1/stop", None, Some("s3cret")));
    assert_eq!(status, 202);
    assert!(run.stopped.load(Ordering::SeqCst));
}

#[test]
fn a_10_mb_body_is_refused_before_it_is_read() {
    let (run, addr) = stand_in(None);
    let head = "POST /v1/pools/cams/streams HTTP/1.1\r\nContent-Length: 10485760\r\n\r\n";
    // The head alone: the answer comes without waiting for a byte of the body.
    let (status, _, body) = exchange(addr, head.as_bytes());
    assert_eq!(status, 413);
    assert_eq!(
        json_of(&body)["error"],
        "the body is 10485760 bytes; the control API takes at most 1048576"
    );
    // With a first MiB of it sent: still 413, read as far as the head.
    let mut raw = head.as_bytes().to_vec();
    raw.extend(std::iter::repeat_n(b'x', 1024 * 1024));
    assert_eq!(exchange(addr, &raw).0, 413);
    assert!(run.streams.lock().unwrap().is_empty());
}

#[test]
fn chunked_or_unsized_bodies_are_411_and_bad_heads_400() {
    let (_, addr) = stand_in(None);
    let chunked = "POST /v1/pools/cams/streams HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"\r\n0\r\n\r\n";
    let (status, _, body) = exchange(addr, chunked.as_bytes());
    assert_eq!(status, 411);
    assert!(
        json_of(&body)["error"]
            .as_str()
            .unwrap()
            .contains("chunked")
    );
    let no_length = "POST /v1/pools/cams/streams HTTP/1.1\r\n\r\n";
    assert_eq!(exchange(addr, no_length.as_bytes()).0, 411);
    let (status, _, body) = exchange(addr, b"NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(status, 400);
    json_of(&body);
    let two_lengths = "POST /v1/stop HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}";
    assert_eq!(exchange(addr, two_lengths.as_bytes()).0, 400);
    // A head over 16 KiB, or with over 64 headers: 431, without waiting for the rest.
    let mut long = b"GET /v1/streams HTTP/1.1\r\nX-Padding: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 20 * 1024));
    let (status, _, body) = exchange(addr, &long);
    assert_eq!(status, 431);
    assert!(
        json_of(&body)["error"]
            .as_str()
            .unwrap()
            .contains("at most 16384 bytes")
    );
    let mut many = b"GET /v1/streams HTTP/1.1\r\n".to_vec();
    for i in 0..100 {
        many.extend(format!("X-Padding-{i}: a\r\n").bytes());
    }
    many.extend(b"\r\n");
    let (status, _, body) = exchange(addr, &many);
    assert_eq!(status, 431);
    assert!(
        json_of(&body)["error"]
            .as_str()
            .unwrap()
            .contains("at most 64 headers")
    );
}

/// 200 clients at once: the first [`MAX_CONNECTIONS`] are answered (their requests held
/// by the stand-in until every other client has its 503), the rest refused 503 at once;
/// none waits without an answer.
#[test]
fn two_hundred_connections_are_answered_or_refused_503() {
    let (run, addr) = stand_in(None);
    run.held.store(true, Ordering::SeqCst);
    let (tx, rx) = channel();
    for _ in 0..200 {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let (status, _, body) = exchange(addr, &request("GET", "/v1/streams", None, None));
            json_of(&body);
            let _ = tx.send(status);
        });
    }
    let guard = Duration::from_secs(60);
    let mut refused = 0;
    while refused < 200 - MAX_CONNECTIONS {
        let status = rx
            .recv_timeout(guard)
            .expect("every client over the bound is answered");
        assert_eq!(status, 503, "only the held requests are answered later");
        refused += 1;
    }
    let start = Instant::now();
    while run.waiting.load(Ordering::SeqCst) < MAX_CONNECTIONS {
        assert!(start.elapsed() < guard, "the held requests reached the run");
        std::thread::sleep(Duration::from_millis(10));
    }
    run.held.store(false, Ordering::SeqCst);
    for _ in 0..MAX_CONNECTIONS {
        assert_eq!(rx.recv_timeout(guard).expect("answered"), 200);
    }
    // The bound is free again.
    assert_eq!(
        exchange(addr, &request("GET", "/v1/streams", None, None)).0,
        200
    );
}

/// A client that never finishes its request is answered 408 and closed at the deadline;
/// the others are served meanwhile.
#[test]
fn a_client_that_never_finishes_is_closed_and_others_are_served() {
    let (run, addr) = stand_in(None);
    let mut no_body = TcpStream::connect(addr).unwrap();
    no_body
        .write_all(b"POST /v1/pools/cams/streams HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"id\"")
        .unwrap();
    let mut no_head = TcpStream::connect(addr).unwrap();
    no_head.write_all(b"GET /v1/str").unwrap();
    for i in 0..10 {
        let body = json!({"id": format!("s{i}"), "url": "a.mp4"}).to_string();
        let (status, _, _) = exchange(
            addr,
            &request("POST", "/v1/pools/cams/streams", Some(&body), None),
        );
        assert_eq!(status, 201);
    }
    // Served while the slow ones are still open, unanswered.
    for slow in [&mut no_body, &mut no_head] {
        slow.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let e = slow.read(&mut byte).expect_err("no answer yet");
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        slow.set_nonblocking(false).unwrap();
    }
    for slow in [&mut no_body, &mut no_head] {
        slow.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (status, _, body) = response(slow);
        assert_eq!(status, 408);
        assert!(
            json_of(&body)["error"]
                .as_str()
                .unwrap()
                .contains("did not arrive in time")
        );
    }
    assert_eq!(run.streams.lock().unwrap().len(), 10);
}

#[test]
fn metrics_are_served_on_the_same_listener() {
    let run = Arc::new(StandIn::default());
    let text = Arc::new(Mutex::new(
        "vpl_frames_total{stream=\"0\"} 12\n".to_string(),
    ));
    let addr = serve("127.0.0.1:0".parse().unwrap(), None, run, Some(text)).unwrap();
    let (status, head, body) = exchange(addr, &request("GET", "/metrics", None, None));
    assert_eq!(status, 200);
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    assert_eq!(body, "vpl_frames_total{stream=\"0\"} 12\n");
}

/// scripts/live_client.py, as a user runs it: the exit status and what it prints.
fn client(addr: SocketAddr, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("python3")
        .arg(root().join("scripts/live_client.py"))
        .args(["--url", &format!("http://{addr}")])
        .args(args)
        .env_remove("VPL_CONTROL_TOKEN")
        .output()
        .expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_live_client_adds_lists_removes_and_stops() {
    let (run, addr) = stand_in(None);
    let (code, out, err) = client(
        addr,
        &[
            "add",
            "cams",
            "door",
            "rtsp://cam/door",
            "--param",
            "tcp=true",
            "--param",
            "latency=200ms",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_of(&out)["slot"], 0);
    assert_eq!(
        run.streams.lock().unwrap()[0],
        Request {
            id: "door".into(),
            url: "rtsp://cam/door".into(),
            params: json!({"tcp": true, "latency": "200ms"})
                .as_object()
                .unwrap()
                .clone(),
        }
    );
    let (code, out, _) = client(addr, &["list"]);
    assert_eq!(code, 0);
    assert_eq!(json_of(&out)[0]["id"], "door");
    // A refusal: exit 1, the API's error said.
    let (code, _, err) = client(addr, &["add", "cams", "door", "other.mp4"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("409") && err.contains("`door` is taken"),
        "{err}"
    );
    let (code, out, _) = client(addr, &["remove", "door"]);
    assert_eq!((code, json_of(&out)), (0, json!({"frames": 25})));
    let (code, _, err) = client(addr, &["remove", "door"]);
    assert_eq!(code, 1);
    assert!(err.contains("404"), "{err}");
    let (code, _, _) = client(addr, &["stop"]);
    assert_eq!(code, 0);
    assert!(run.stopped.load(Ordering::SeqCst));
}

/// A program without pools that would run for ever: a looping file, encoded to an MP4.
fn looping_program(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::copy(
        root().join("tests/fixtures/media/h264_320x240_30fps.mkv"),
        dir.join("in.mkv"),
    )
    .expect("copy the media");
    let program = dir.join("looping.vpl");
    std::fs::write(
        &program,
        "pipeline looping {\n    file(\"in.mkv\", loop: true) | decode | encode(h264) | file(\"out/looping.mp4\");\n}\n",
    )
    .expect("write");
    program
}

/// `POST /v1/stop` (through scripts/live_client.py) ends a run of a program without pools as
/// Ctrl-C does, but with exit 0: its MP4 finished and playable. Meanwhile the control API
/// answers health, an empty list, a 404 for any pool, and the metrics on its own listener;
/// clients that misbehave meanwhile do not stop the frames.
#[test]
fn post_stop_ends_a_run_with_exit_0_and_its_outputs_finished() {
    let dir = temp_dir("control-stop");
    let program = looping_program(&dir);
    let addr = format!("127.0.0.1:{}", free_port());
    let stats_file = dir.join("stats.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args([
            "run",
            "--quiet",
            "--control",
            &addr,
            "--metrics",
            &addr,
            "--stats",
        ])
        .arg(&stats_file)
        .arg(&program)
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .env_remove("VPL_CONTROL_TOKEN")
        .stderr(Stdio::piped())
        .spawn()
        .expect("vplc starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // The address line, after any warning about the machine (CPU decoding).
    let mut line = String::new();
    while !line.starts_with("vplc: control API on") {
        line.clear();
        assert_ne!(
            stderr.read_line(&mut line).expect("a line"),
            0,
            "no address said"
        );
    }
    assert_eq!(
        line.trim_end(),
        format!("vplc: control API on http://{addr}")
    );
    let said = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    let addr: SocketAddr = addr.parse().unwrap();
    let start = Instant::now();
    while exchange(addr, &request("GET", "/v1/health/ready", None, None)).0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never played"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        exchange(addr, &request("GET", "/v1/health/live", None, None)).0,
        200
    );
    let (status, _, body) = exchange(addr, &request("GET", "/v1/streams", None, None));
    assert_eq!((status, json_of(&body)), (200, json!([])));
    let add = r#"{"id": "a", "url": "in.mkv"}"#;
    let (status, _, body) = exchange(
        addr,
        &request("POST", "/v1/pools/cams/streams", Some(add), None),
    );
    assert_eq!(status, 404);
    assert_eq!(
        json_of(&body)["error"],
        "no pool named `cams`: this program has no pool"
    );
    // The metrics on the control API's listener, counting frames.
    let frames = || {
        let (status, _, body) = exchange(addr, &request("GET", "/metrics", None, None));
        assert_eq!(status, 200);
        body.lines()
            .find_map(|l| l.strip_prefix("vpl_frames_total{pipeline=\"looping\",stream=\"0\"} "))
            .map(|n| n.parse::<u64>().expect("a count"))
            .unwrap_or(0)
    };
    let wait_for_more_than = |n: u64| {
        let start = Instant::now();
        while frames() <= n {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no frames counted past {n}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for_more_than(0);
    // Clients that misbehave hold up neither the API nor the pipeline: a request never
    // finished, a 10 MB body, 100 connections at once; frames keep flowing.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"POST /v1/stop HTTP/1.1\r\nContent-Length: 2\r\n\r\n")
        .unwrap();
    let huge = "POST /v1/pools/cams/streams HTTP/1.1\r\nContent-Length: 10485760\r\n\r\n";
    assert_eq!(exchange(addr, huge.as_bytes()).0, 413);
    let many: Vec<_> = (0..100)
        .map(|_| {
            std::thread::spawn(move || exchange(addr, &request("GET", "/v1/streams", None, None)).0)
        })
        .collect();
    for answer in many {
        assert!(matches!(answer.join().unwrap(), 200 | 503));
    }
    let before = frames();
    wait_for_more_than(before);
    assert_eq!(
        exchange(addr, &request("GET", "/v1/health/ready", None, None)).0,
        200
    );
    drop(slow);
    let (code, _, err) = client(addr, &["stop"]);
    assert_eq!(code, 0, "{err}");
    let exit = child.wait().expect("vplc ends");
    let said = said.join().unwrap();
    assert_eq!(exit.code(), Some(0), "{said}");
    assert_eq!(stats(&stats_file)["exit"], "stopped");
    let mp4 = dir.join("out/looping.mp4");
    let facts = vpl_runtime::probe::probe_media(&mp4).expect("the MP4 is finished and playable");
    assert_eq!(facts.video.expect("video").format, "h264");
    assert!(count_frames(&mp4, &dir) > 0);
}

#[test]
fn a_reachable_address_without_a_token_is_refused_before_the_run() {
    let dir = temp_dir("control-token");
    let program = looping_program(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--control", "0.0.0.0:0"])
        .arg(&program)
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .env_remove("VPL_CONTROL_TOKEN")
        .output()
        .expect("vplc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "the control API at 0.0.0.0:0 is reachable from other machines: set VPL_CONTROL_TOKEN"
        ),
        "{stderr}"
    );
    assert!(!dir.join("out").exists(), "nothing ran");
}

#[test]
fn a_control_address_in_use_is_refused_before_the_run() {
    let dir = temp_dir("control-taken");
    let program = looping_program(&dir);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--control", &addr])
        .arg(&program)
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .output()
        .expect("vplc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot serve the control API at {addr}")),
        "{stderr}"
    );
    assert!(!dir.join("out/looping.mp4").exists(), "nothing ran");
}
