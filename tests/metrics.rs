//! `vplc run --metrics ADDR`: Prometheus text scraped while a paced run goes on, its values
//! parsed and checked against what the run does (every line of the exposition format's
//! form, labels named as the program names things); an address in use is refused before the
//! run starts; slow and too many clients never keep a scrape waiting.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::servers::{free_port, redis};
use common::{asset, temp_dir};

/// `GET /metrics` at `port`: the response's body. `None` while nothing answers.
fn scrape_text(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    // A stalled server fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout set");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: vpl\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    if head.starts_with("HTTP/1.1 503") {
        // Every connection slot busy (the bound test's idle clients still closing): the
        // server said so at once; the caller asks again.
        return None;
    }
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    Some(body.to_string())
}

/// Each sample's name with its labels → its value.
fn samples(body: &str) -> HashMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (sample, value) = l.rsplit_once(' ').expect("`name{labels} value`");
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().expect("a number"),
            };
            (sample.to_string(), value)
        })
        .collect()
}

fn scrape(port: u16) -> Option<HashMap<String, f64>> {
    scrape_text(port).map(|body| samples(&body))
}

fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Checks that every line of `body` has one of the forms of the Prometheus text format
/// 0.0.4 (`# HELP name text`, `# TYPE name kind`, `name{label="value",…} number`), that
/// every sample belongs to the family declared before it, and returns each sample's
/// labels as (name, value) pairs.
fn check_exposition(body: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut family: Option<(String, String)> = None;
    let mut out = Vec::new();
    for line in body.lines() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let (name, _) = help.split_once(' ').expect("`# HELP name text`");
            assert!(is_name(name), "{line}");
        } else if let Some(ty) = line.strip_prefix("# TYPE ") {
            let (name, kind) = ty.split_once(' ').expect("`# TYPE name kind`");
            assert!(is_name(name), "{line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            if kind == "counter" {
                assert!(
                    name.ends_with("_total"),
                    "a counter's name ends in _total: {line}"
                );
            }
            family = Some((name.to_string(), kind.to_string()));
        } else {
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let (sample, value) = line.rsplit_once(' ').expect("`name{labels} value`");
            assert!(
                value == "+Inf"
                    || value == "-Inf"
                    || value == "NaN"
                    || value.parse::<f64>().is_ok(),
                "{line}"
            );
            let (name, rest) = sample.split_once('{').expect("every sample has labels");
            assert!(is_name(name), "{line}");
            let (fam, kind) = family.as_ref().expect("a TYPE line first");
            let suffixes: &[&str] = match kind.as_str() {
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            assert!(
                suffixes.iter().any(|s| name == format!("{fam}{s}")),
                "{name} is not of the family {fam}"
            );
            let inner = rest.strip_suffix('}').expect("labels end with }");
            let mut labels = Vec::new();
            let mut chars = inner.chars().peekable();
            while chars.peek().is_some() {
                let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                assert!(is_name(&key), "label {key:?} in {line}");
                assert_eq!(chars.next(), Some('"'), "{line}");
                let mut value = String::new();
                loop {
                    match chars.next().expect("a closed label value") {
                        '\\' => match chars.next() {
                            Some('n') => value.push('\n'),
                            Some(c @ ('\\' | '"')) => value.push(c),
                            other => panic!("escape {other:?} in {line}"),
                        },
                        '"' => break,
                        c => value.push(c),
                    }
                }
                labels.push((key, value));
                match chars.next() {
                    Some(',') | None => {}
                    other => panic!("{other:?} after a label in {line}"),
                }
            }
            out.push((name.to_string(), labels));
        }
    }
    out
}

/// Whether `value` holds an element's internal name (`n12_mqtt`).
fn internal_name(value: &str) -> bool {
    value
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| {
            w.strip_prefix('n').is_some_and(|rest| {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                digits > 0 && rest[digits..].starts_with('_')
            })
        })
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
    let body = loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no metrics with 20 frames done"
        );
        if let Some(body) = scrape_text(port)
            && samples(&body)
                .get("vpl_frames_total{pipeline=\"watch\",stream=\"0\"}")
                .is_some_and(|n| *n >= 20.0)
            && start.elapsed() >= Duration::from_millis(1200)
        {
            break body;
        }
        sleep(Duration::from_millis(100));
    };
    assert!(run.wait().expect("vplc ends").success());
    let samples = samples(&body);
    // Every line in the exposition format; every sample has the pipeline's label, and no
    // label names an element (`n12_mqtt`): what the program names, instead.
    let parsed = check_exposition(&body);
    for (name, labels) in &parsed {
        assert!(
            labels.iter().any(|(k, v)| k == "pipeline" && v == "watch"),
            "{name} {labels:?}"
        );
        for (k, v) in labels {
            assert!(!internal_name(v), "{name}: {k}={v:?}");
        }
    }
    let sinks: std::collections::BTreeSet<&str> = parsed
        .iter()
        .filter(|(n, _)| n == "vpl_latency_seconds_count")
        .flat_map(|(_, l)| {
            l.iter()
                .filter(|(k, _)| k == "sink")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    assert_eq!(
        sinks,
        ["file:m.jsonl", "redis:m"].into_iter().collect(),
        "{body}"
    );
    // The stream flows; the model is named as in the program.
    assert_eq!(value(&samples, "vpl_stream_up", "stream=\"0\""), 1.0);
    assert_eq!(
        value(
            &samples,
            "vpl_inference_seconds_count",
            "model=\"det\",stream=\"0\""
        ),
        value(&samples, "vpl_inference_seconds_count", "")
    );
    // Latency and inference are histograms: cumulative buckets up to +Inf, which is the count.
    for (name, labels) in [
        ("vpl_latency_seconds", "sink=\"redis:m\""),
        ("vpl_inference_seconds", "model=\"det\""),
    ] {
        let mut buckets: Vec<(f64, f64)> = samples
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{name}_bucket{{")) && k.contains(labels))
            .map(|(k, v)| {
                let le = k
                    .split("le=\"")
                    .nth(1)
                    .expect("le")
                    .split('"')
                    .next()
                    .expect("le");
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().expect("le")
                };
                (le, *v)
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(buckets.len() >= 5, "{name}: {buckets:?}");
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
        let last = buckets.last().expect("buckets");
        assert_eq!(last.0, f64::INFINITY, "{buckets:?}");
        assert_eq!(last.1, value(&samples, &format!("{name}_count"), labels));
    }
    // Objects by class: only the model's labels, together as many as the frames held.
    let by_class: Vec<(&String, &f64)> = samples
        .iter()
        .filter(|(k, _)| k.starts_with("vpl_label_objects_total{"))
        .collect();
    assert!(!by_class.is_empty(), "{body}");
    for (k, n) in &by_class {
        assert!(
            k.contains("label=\"person\"") || k.contains("label=\"fallen\""),
            "{k}"
        );
        assert!(**n >= 1.0, "{k} {n}");
    }
    // The spec's unlabelled total is the sum over the labels, taken at one scrape.
    let total = value(&samples, "vpl_objects_total", "");
    let summed: f64 = by_class.iter().map(|(_, n)| **n).sum();
    assert_eq!(total, summed, "vpl_objects_total against its labels");
    // The spec's `element` label names the inference as the program does.
    assert_eq!(
        value(
            &samples,
            "vpl_inference_seconds_count",
            "element=\"infer:det\""
        ),
        value(&samples, "vpl_inference_seconds_count", "model=\"det\"")
    );
    // The process's own figures.
    assert!(value(&samples, "process_cpu_seconds_total", "") > 0.0);
    assert!(value(&samples, "process_resident_memory_bytes", "") > 1e6);
    assert!(value(&samples, "process_open_fds", "") >= 3.0);
    let started = value(&samples, "process_start_time_seconds", "");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs_f64();
    assert!(started > now - 3600.0 && started <= now, "{started} {now}");
    let frames = value(&samples, "vpl_frames_total", "stream=\"0\"");
    assert!((20.0..60.0).contains(&frames), "scraped mid-run: {frames}");
    // Paced at 30 fps: never more frames than 30 a second since vplc started (a loaded
    // machine may be slower, and a window after a stall may catch up above 30, so the
    // window's own `vpl_fps` is only said to be live).
    let fps = value(&samples, "vpl_fps", "stream=\"0\"");
    assert!(fps > 0.0, "fps {fps}");
    let paced = 30.0 * start.elapsed().as_secs_f64() + 1.0;
    assert!(frames <= paced, "{frames} frames in {:?}", start.elapsed());
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

/// A long paced run with metrics: two streams, the first ending after half a second.
fn long_run(dir: &std::path::Path, port: u16) -> std::process::Child {
    let program = dir.join("long.vpl");
    std::fs::write(
        &program,
        "pipeline long {\n    test(frames: 15, rate: 30fps, resolution: 64x48) | json | file(\"a.jsonl\");\n    \
         test(frames: 3000, rate: 30fps, resolution: 96x64) | json | file(\"b.jsonl\");\n}\n",
    )
    .expect("program written");
    Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--realtime", "--metrics"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(&program)
        .env("VPL_CACHE_DIR", "off")
        .spawn()
        .expect("vplc runs")
}

/// Waits until a scrape shows `ready`.
fn wait_for_scrape(port: u16, ready: impl Fn(&HashMap<String, f64>) -> bool) {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "no metrics");
        if scrape(port).is_some_and(|s| ready(&s)) {
            return;
        }
        sleep(Duration::from_millis(100));
    }
}

/// Kills the run when the test ends, passed or failed.
struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_slow_client_never_holds_up_a_scrape() {
    let dir = temp_dir("metrics-slow");
    let port = free_port();
    let _run = Kill(long_run(&dir, port));
    wait_for_scrape(port, |s| {
        s.get("vpl_frames_total{pipeline=\"long\",stream=\"1\"}")
            .is_some_and(|n| *n >= 1.0)
    });
    // A client that sends its request a byte every 1.5 s: each read of the server is quick,
    // the whole request never comes.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    let mut writer = slow.try_clone().expect("clone");
    let drip = std::thread::spawn(move || {
        for byte in b"GET /metrics HTTP/1.1\r\n" {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            sleep(Duration::from_millis(1500));
        }
    });
    // Scrapes while it drips: each answered (a stalled one fails in `scrape_text`).
    for _ in 0..6 {
        sleep(Duration::from_millis(500));
        let s = scrape(port).expect("a scrape while a slow client is connected");
        // The first stream ended: down; the second flows: up.
        assert_eq!(value(&s, "vpl_stream_up", "stream=\"1\""), 1.0);
    }
    let s = scrape(port).expect("a scrape");
    assert_eq!(value(&s, "vpl_stream_up", "stream=\"0\""), 0.0);
    // The slow client is answered 408 and closed once its time for the request is out.
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout set");
    let mut response = String::new();
    let _ = slow.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 408"),
        "the slow client got {response:?}"
    );
    drip.join().expect("the drip ends");
}

#[test]
fn connections_beyond_the_bound_are_refused_at_once() {
    let dir = temp_dir("metrics-many");
    let port = free_port();
    let _run = Kill(long_run(&dir, port));
    wait_for_scrape(port, |s| {
        s.get("vpl_frames_total{pipeline=\"long\",stream=\"1\"}")
            .is_some_and(|n| *n >= 1.0)
    });
    // As many idle connections as the server answers at once (16), then one more.
    let idle: Vec<TcpStream> = (0..16)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connects"))
        .collect();
    let mut extra = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    extra
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout set");
    let mut response = String::new();
    let _ = extra.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 503"),
        "the connection beyond the bound got {response:?}"
    );
    // Once the idle ones go, scrapes are answered again.
    for mut c in idle {
        let _ = c.shutdown(Shutdown::Both);
        let _ = c.flush();
    }
    wait_for_scrape(port, |s| {
        s.contains_key("vpl_frames_total{pipeline=\"long\",stream=\"1\"}")
    });
}

/// The buckets of the histogram `name` whose labels contain `labels`, by bound, sorted.
fn buckets(samples: &HashMap<String, f64>, name: &str, labels: &str) -> Vec<(f64, f64)> {
    let mut buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{name}_bucket{{")) && k.contains(labels))
        .map(|(k, v)| {
            let le = k
                .split("le=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("le");
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le")
            };
            (le, *v)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    buckets
}

/// Two paced streams, each through the model into its own records file, scraped once the
/// first has ended: `vpl_frame_latency_seconds` has a histogram for each stream id and each
/// stage the stream passes (its sink, its inference) and none for another stream's stage;
/// its buckets are cumulative, `+Inf` is `_count`, and the ended stream's `_count` at its
/// sink is the number of records its file holds, every frame it had.
#[test]
fn frame_latency_is_a_histogram_per_stream_and_stage() {
    let dir = temp_dir("metrics-streams");
    let port = free_port();
    let program = dir.join("two.vpl");
    std::fs::write(
        &program,
        format!(
            "model det = onnx({:?}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.0));\n\n\
             pipeline two {{\n    \
             test(frames: 15, rate: 30fps, resolution: 64x48) | infer(det) | json | file(\"a.jsonl\");\n    \
             test(frames: 3000, rate: 30fps, resolution: 96x64) | infer(det) | json | file(\"b.jsonl\");\n}}\n",
            asset("tests/fixtures/models/det_dynamic.onnx"),
        ),
    )
    .expect("program written");
    let _run = Kill(
        Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args(["run", "--quiet", "--realtime", "--metrics"])
            .arg(format!("127.0.0.1:{port}"))
            .arg(&program)
            .env("VPL_CACHE_DIR", "off")
            .spawn()
            .expect("vplc runs"),
    );
    let a_sink = "vpl_frame_latency_seconds_count{pipeline=\"two\",stream_id=\"0\",stage=\"sink:file:a.jsonl\"}";
    // The first stream's 15 frames all reached its file, and the second stream flows.
    wait_for_scrape(port, |s| {
        s.get(a_sink).is_some_and(|n| *n >= 15.0)
            && s.get("vpl_frames_total{pipeline=\"two\",stream=\"1\"}")
                .is_some_and(|n| *n >= 1.0)
    });
    let body = scrape_text(port).expect("a scrape");
    let samples = samples(&body);
    let series: std::collections::BTreeSet<(String, String)> = check_exposition(&body)
        .into_iter()
        .filter(|(name, _)| name == "vpl_frame_latency_seconds_count")
        .map(|(_, labels)| {
            let label = |key: &str| {
                labels
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("{key} in {labels:?}"))
            };
            (label("stream_id"), label("stage"))
        })
        .collect();
    let expected = [
        ("0", "infer:det"),
        ("0", "sink:file:a.jsonl"),
        ("1", "infer:det"),
        ("1", "sink:file:b.jsonl"),
    ]
    .map(|(id, stage)| (id.to_string(), stage.to_string()));
    assert_eq!(series, expected.into_iter().collect(), "{body}");
    for (id, stage) in &series {
        let labels = format!("stream_id=\"{id}\",stage=\"{stage}\"");
        let buckets = buckets(&samples, "vpl_frame_latency_seconds", &labels);
        assert_eq!(buckets.len(), 14, "{labels}: {buckets:?}");
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{labels}: {buckets:?}"
        );
        let count = value(&samples, "vpl_frame_latency_seconds_count", &labels);
        assert_eq!(buckets[13], (f64::INFINITY, count), "{labels}");
        let sum = value(&samples, "vpl_frame_latency_seconds_sum", &labels);
        assert!(sum >= 0.0, "{labels}: {sum}");
    }
    // The first stream has ended: every frame it had was measured once at its sink and
    // once in its inference, as many as its file holds.
    let records = std::fs::read_to_string(dir.join("a.jsonl")).expect("records");
    assert_eq!(records.lines().count(), 15);
    for stage in ["sink:file:a.jsonl", "infer:det"] {
        assert_eq!(
            value(
                &samples,
                "vpl_frame_latency_seconds_count",
                &format!("stream_id=\"0\",stage=\"{stage}\"")
            ),
            15.0,
            "{stage}"
        );
    }
    // Per stream, the sinks' figures add up to the sink's own `vpl_latency_seconds`.
    assert_eq!(
        value(
            &samples,
            "vpl_latency_seconds_count",
            "sink=\"file:a.jsonl\""
        ),
        15.0
    );
}
