//! `vplc run --metrics ADDR`: Prometheus text scraped while a paced run goes on, its values
//! parsed and checked against what the run does; an address in use is refused before the
//! run starts.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::servers::{free_port, redis};
use common::{asset, temp_dir};

/// `GET /metrics` at `port`: each sample's name with its labels → its value. `None` while
/// nothing answers.
fn scrape(port: u16) -> Option<HashMap<String, f64>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: vpl\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    Some(
        body.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (sample, value) = l.rsplit_once(' ').expect("`name{labels} value`");
                (sample.to_string(), value.parse().expect("a number"))
            })
            .collect(),
    )
}

/// The value of the one sample whose name is `name` and whose labels contain `labels`.
fn value(samples: &HashMap<String, f64>, name: &str, labels: &str) -> f64 {
    let found: Vec<f64> = samples
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{name}{{")) && k.contains(labels))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(found.len(), 1, "one {name} with {labels} in {samples:?}");
    found[0]
}

#[test]
fn metrics_are_served_while_the_run_goes_on() {
    let dir = temp_dir("metrics");
    let (port, redis_port) = (free_port(), free_port());
    let _cache = redis(redis_port, &dir);
    let program = dir.join("m.vpl");
    std::fs::write(
        &program,
        format!(
            "model det = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.0));\n\n\
             pipeline watch {{\n    let r = test(frames: 60, rate: 30fps, resolution: 160x120) | infer(det) | json;\n    \
             r | redis(\"redis://127.0.0.1:{redis_port}\", \"m\", buffer: 500);\n    \
             r | file(\"m.jsonl\");\n}}\n",
            asset("tests/fixtures/models/det_dynamic.onnx"),
        ),
    )
    .expect("program written");
    let addr = format!("127.0.0.1:{port}");
    let mut run = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--realtime", "--metrics", &addr])
        .arg(&program)
        .env("VPL_CACHE_DIR", "off")
        .spawn()
        .expect("vplc runs");
    // Scrape once 20 frames went by, and at least a second (the run lasts 2 s or more:
    // paced at 30 fps, slower where the model cannot keep up).
    let start = Instant::now();
    let samples = loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no metrics with 20 frames done"
        );
        if let Some(s) = scrape(port)
            && s.get("vpl_frames_total{pipeline=\"watch\",stream=\"0\"}")
                .is_some_and(|n| *n >= 20.0)
            && start.elapsed() >= Duration::from_millis(1200)
        {
            break s;
        }
        sleep(Duration::from_millis(100));
    };
    assert!(run.wait().expect("vplc ends").success());
    let frames = value(&samples, "vpl_frames_total", "stream=\"0\"");
    assert!((20.0..60.0).contains(&frames), "scraped mid-run: {frames}");
    // At most the pace of 30 fps (a loaded machine's model may be slower).
    let fps = value(&samples, "vpl_fps", "stream=\"0\"");
    assert!(fps > 0.0 && fps < 40.0, "fps {fps}");
    assert_eq!(value(&samples, "vpl_dropped_frames_total", ""), 0.0);
    let inferred = value(&samples, "vpl_inferred_frames_total", "");
    // Frames wait for the model: fewer inferred than counted at the source, but some.
    assert!(
        inferred >= 1.0 && inferred <= frames,
        "{inferred} of {frames}"
    );
    let infer_count = value(&samples, "vpl_inference_seconds_count", "infer");
    let infer_sum = value(&samples, "vpl_inference_seconds_sum", "infer");
    assert!(infer_count >= 1.0 && infer_count <= frames, "{infer_count}");
    assert!(
        infer_sum > 0.0 && infer_sum / infer_count < 1.0,
        "{infer_sum}"
    );
    // Both sinks see the frames, each a little after they left the source.
    for sink in ["redis", "file"] {
        let count = value(&samples, "vpl_latency_seconds_count", sink);
        let sum = value(&samples, "vpl_latency_seconds_sum", sink);
        assert!(count >= 1.0 && count <= frames, "{sink}: {count}");
        assert!(sum > 0.0 && sum / count < 1.0, "{sink}: {sum} / {count}");
    }
    // The tee to the two sinks has a queue on each branch.
    let fills: Vec<f64> = samples
        .iter()
        .filter(|(k, _)| k.starts_with("vpl_queue_fill_ratio{"))
        .map(|(_, v)| *v)
        .collect();
    assert!(!fills.is_empty(), "{samples:?}");
    assert!(fills.iter().all(|f| (0.0..=1.0).contains(f)), "{fills:?}");
    assert_eq!(
        value(&samples, "vpl_broker_buffer_capacity", "protocol=\"redis\""),
        500.0
    );
    let delivered = value(&samples, "vpl_broker_delivered_total", "redis");
    assert!(delivered >= 1.0 && delivered <= frames, "{delivered}");
    assert_eq!(value(&samples, "vpl_broker_connected", "redis"), 1.0);
    assert_eq!(value(&samples, "vpl_broker_dropped_total", "redis"), 0.0);
}

#[test]
fn a_metrics_address_in_use_is_refused_before_the_run() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("bound").to_string();
    let dir = temp_dir("metrics-taken");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    test(frames: 5) | json | file(\"out.jsonl\");\n}\n",
    )
    .expect("program written");
    let out = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--metrics", &addr])
        .arg(&program)
        .env("VPL_CACHE_DIR", "off")
        .output()
        .expect("vplc runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot serve the metrics at"), "{stderr}");
    assert!(!dir.join("out.jsonl").exists());
}
