//! `vplc run --metrics ADDR`: the run's figures as Prometheus text at
//! `http://ADDR/metrics`, from a thread of its own. The run loop renders the text about
//! ten times a second ([`Metrics::update`]); a scrape gets the latest rendering.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vpl_runtime::metrics::{self, Probes};
use vpl_runtime::pipeline::{Found, Running};

/// The figures served, and what the next rendering needs.
pub struct Metrics {
    text: Arc<Mutex<String>>,
    probes: Probes,
    /// Per stream: frames and time at the start of the current fps window.
    windows: Vec<(u64, Instant)>,
    /// Per stream: frames per second over the last full window (≥ 1 s).
    fps: Vec<f64>,
}

/// Binds `addr` now (a port in use is said before the run starts) and serves from a
/// thread that lives as long as the process.
pub fn serve(addr: SocketAddr) -> std::io::Result<Arc<Mutex<String>>> {
    let listener = TcpListener::bind(addr)?;
    let text = Arc::new(Mutex::new(String::new()));
    let shared = text.clone();
    std::thread::Builder::new()
        .name("vpl-metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &shared);
            }
        })?;
    Ok(text)
}

/// One HTTP/1.1 request, answered and closed.
fn answer(mut stream: TcpStream, text: &Mutex<String>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&request);
    let path = line.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if path == "/metrics" || path.starts_with("/metrics?") {
        (
            "200 OK",
            text.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        )
    } else {
        ("404 Not Found", "the metrics are at /metrics\n".to_string())
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

impl Metrics {
    pub fn new(text: Arc<Mutex<String>>, running: &Running, counters: &[String]) -> Metrics {
        Metrics {
            text,
            probes: metrics::attach(running, counters),
            windows: vec![(0, Instant::now()); counters.len()],
            fps: vec![0.0; counters.len()],
        }
    }

    /// Renders the figures now.
    pub fn update(
        &mut self,
        pipeline: &str,
        running: &Running,
        counters: &[String],
        found: &Found,
    ) {
        let now = Instant::now();
        let frames: Vec<u64> = counters.iter().map(|c| running.frames_of(c)).collect();
        for (i, n) in frames.iter().enumerate() {
            let (start_frames, start) = self.windows[i];
            let dt = now.duration_since(start).as_secs_f64();
            if dt >= 1.0 {
                self.fps[i] = n.saturating_sub(start_frames) as f64 / dt;
                self.windows[i] = (*n, now);
            }
        }
        let text = render(&Figures {
            pipeline,
            frames: &frames,
            fps: &self.fps,
            dropped: running.dropped_frames(),
            objects: found.objects.load(Ordering::Relaxed),
            inferred: found.inferred.load(Ordering::Relaxed),
            probes: &self.probes,
            queues: &metrics::queue_fill(running),
            brokers: &vpl_runtime::brokers::stats(),
        });
        *self.text.lock().unwrap_or_else(|p| p.into_inner()) = text;
    }
}

/// A broker metric: name, type, help, and how to read it.
type BrokerFamily = (
    &'static str,
    &'static str,
    &'static str,
    fn(&vpl_runtime::brokers::BrokerStats) -> u64,
);

struct Figures<'a> {
    pipeline: &'a str,
    frames: &'a [u64],
    fps: &'a [f64],
    dropped: u64,
    objects: u64,
    inferred: u64,
    probes: &'a Probes,
    queues: &'a [metrics::QueueFill],
    brokers: &'a [Arc<vpl_runtime::brokers::BrokerStats>],
}

/// A label value, escaped as the exposition format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn render(f: &Figures) -> String {
    let p = label(f.pipeline);
    let mut out = String::new();
    family(
        &mut out,
        "vpl_frames_total",
        "counter",
        "Frames that left each stream's source.",
    );
    for (i, n) in f.frames.iter().enumerate() {
        let _ = writeln!(
            out,
            "vpl_frames_total{{pipeline=\"{p}\",stream=\"{i}\"}} {n}"
        );
    }
    family(
        &mut out,
        "vpl_fps",
        "gauge",
        "Frames per second of each stream over the last second.",
    );
    for (i, v) in f.fps.iter().enumerate() {
        let _ = writeln!(out, "vpl_fps{{pipeline=\"{p}\",stream=\"{i}\"}} {v:.3}");
    }
    family(
        &mut out,
        "vpl_dropped_frames_total",
        "counter",
        "Frames live sources dropped because the pipeline fell behind.",
    );
    let _ = writeln!(
        out,
        "vpl_dropped_frames_total{{pipeline=\"{p}\"}} {}",
        f.dropped
    );
    family(
        &mut out,
        "vpl_objects_total",
        "counter",
        "Objects found by detectors, summed over frames.",
    );
    let _ = writeln!(out, "vpl_objects_total{{pipeline=\"{p}\"}} {}", f.objects);
    family(
        &mut out,
        "vpl_inferred_frames_total",
        "counter",
        "Frames a model ran on.",
    );
    let _ = writeln!(
        out,
        "vpl_inferred_frames_total{{pipeline=\"{p}\"}} {}",
        f.inferred
    );
    let timings = [
        (
            "vpl_latency_seconds",
            "Time from a frame leaving its source to reaching this sink.",
            &f.probes.latency,
            "sink",
        ),
        (
            "vpl_inference_seconds",
            "Time a frame spends in this inference element, waiting for its batch included.",
            &f.probes.inference,
            "element",
        ),
    ];
    for (name, help, list, key) in timings {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
        for t in list.iter() {
            let e = label(&t.element);
            let (count, sum) = (
                t.count.load(Ordering::Relaxed),
                t.sum_ns.load(Ordering::Relaxed),
            );
            let _ = writeln!(
                out,
                "{name}_sum{{pipeline=\"{p}\",{key}=\"{e}\"}} {:.9}",
                sum as f64 / 1e9
            );
            let _ = writeln!(
                out,
                "{name}_count{{pipeline=\"{p}\",{key}=\"{e}\"}} {count}"
            );
        }
        let last = format!("{name}_last");
        family(
            &mut out,
            &last,
            "gauge",
            "The last frame's time, in seconds.",
        );
        for t in list.iter() {
            let e = label(&t.element);
            let _ = writeln!(
                out,
                "{last}{{pipeline=\"{p}\",{key}=\"{e}\"}} {:.9}",
                t.last_ns.load(Ordering::Relaxed) as f64 / 1e9
            );
        }
    }
    family(
        &mut out,
        "vpl_queue_buffers",
        "gauge",
        "Frames held in each queue now.",
    );
    for q in f.queues {
        let _ = writeln!(
            out,
            "vpl_queue_buffers{{pipeline=\"{p}\",queue=\"{}\"}} {}",
            label(&q.element),
            q.buffers
        );
    }
    family(
        &mut out,
        "vpl_queue_fill_ratio",
        "gauge",
        "Frames held in each queue over the most it holds (0 when unbounded in frames).",
    );
    for q in f.queues {
        let ratio = if q.max_buffers == 0 {
            0.0
        } else {
            f64::from(q.buffers) / f64::from(q.max_buffers)
        };
        let _ = writeln!(
            out,
            "vpl_queue_fill_ratio{{pipeline=\"{p}\",queue=\"{}\"}} {ratio:.3}",
            label(&q.element)
        );
    }
    let broker_families: [BrokerFamily; 7] = [
        (
            "vpl_broker_buffered",
            "gauge",
            "Messages held for the broker, not yet acknowledged.",
            |b| b.buffered.load(Ordering::Relaxed),
        ),
        (
            "vpl_broker_buffer_capacity",
            "gauge",
            "The most messages the buffer holds (`buffer:`).",
            |b| b.capacity,
        ),
        (
            "vpl_broker_delivered_total",
            "counter",
            "Messages the broker acknowledged.",
            |b| b.delivered.load(Ordering::Relaxed),
        ),
        (
            "vpl_broker_dropped_total",
            "counter",
            "Oldest messages dropped because the buffer was full.",
            |b| b.dropped.load(Ordering::Relaxed),
        ),
        (
            "vpl_broker_rejected_total",
            "counter",
            "Messages the broker refused.",
            |b| b.rejected.load(Ordering::Relaxed),
        ),
        (
            "vpl_broker_reconnects_total",
            "counter",
            "Connections made after the first.",
            |b| b.reconnects.load(Ordering::Relaxed),
        ),
        (
            "vpl_broker_connected",
            "gauge",
            "1 while connected to the broker.",
            |b| u64::from(b.connected.load(Ordering::Relaxed)),
        ),
    ];
    for (name, kind, help, value) in broker_families {
        family(&mut out, name, kind, help);
        for b in f.brokers {
            let _ = writeln!(
                out,
                "{name}{{pipeline=\"{p}\",protocol=\"{}\",url=\"{}\",topic=\"{}\"}} {}",
                b.protocol.name(),
                label(&b.url),
                label(&b.topic),
                value(b)
            );
        }
    }
    out
}
