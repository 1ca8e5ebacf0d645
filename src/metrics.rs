//! `vplc run --metrics ADDR`: the run's figures as Prometheus text (exposition format
//! 0.0.4, written by the `prometheus-client` crate) at `http://ADDR/metrics`, from threads
//! of their own. The run loop renders the text about ten times a second
//! ([`Metrics::update`]); a scrape gets the latest rendering.
//!
//! Labels are what the program names: the pipeline, the stream's id (the order of the
//! source calls), a model's name (`model det = onnx(…)`), a sink as its kind and where it
//! writes (`file:out/people.mp4`, `mqtt:vpl/events`), never the elements' internal names
//! (`n12_mqtt`), which change with any edit of the program. `vpl_frame_latency_seconds`
//! is by `stream_id` and `stage` (`sink:file:out.mp4`, `infer:det`): a pool's slot counts
//! under the id of the stream bound to it ([`Metrics::stream_id`]).

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::{Registry, Unit};
use vpl_compiler::ir::SinkKind;
use vpl_compiler::plan::{Plan, Reader, Role};
use vpl_runtime::metrics::{self, BUCKETS_S, Probes, StageTimings, StreamId, StreamsOf, Timing};
use vpl_runtime::pipeline::{Found, Running};

/// Connections answered at once; more are refused (503) at once, never kept waiting.
pub const MAX_CONNECTIONS: usize = 16;
/// The most time a client has to send its whole request.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// Binds `addr` now (a port in use is said before the run starts) and serves from a
/// thread that lives as long as the process: each connection on a thread of its own, up
/// to [`MAX_CONNECTIONS`] at once, each given [`REQUEST_DEADLINE`] for its whole request,
/// so a slow client never holds up a scrape.
pub fn serve(addr: SocketAddr) -> std::io::Result<Arc<Mutex<String>>> {
    let listener = TcpListener::bind(addr)?;
    let text = Arc::new(Mutex::new(String::new()));
    let shared = text.clone();
    let active = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("vpl-metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    active.fetch_sub(1, Ordering::SeqCst);
                    refuse(stream);
                    continue;
                }
                let (text, done) = (shared.clone(), active.clone());
                let spawned = std::thread::Builder::new()
                    .name("vpl-metrics-conn".into())
                    .spawn(move || {
                        let _ = answer(stream, &text);
                        done.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    active.fetch_sub(1, Ordering::SeqCst);
                }
            }
        })?;
    Ok(text)
}

/// Too many connections: 503 and close, without reading the request.
fn refuse(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let body = "too many connections to the metrics; try again\n";
    let _ = write!(
        stream,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
}

/// How a request's reading ended.
enum Request {
    /// The head, complete (or as much as came before the client closed).
    Head(Vec<u8>),
    /// Not complete within the deadline.
    TooSlow,
}

/// Reads the request's head, all of it within [`REQUEST_DEADLINE`] of the connection.
fn read_request(stream: &mut TcpStream) -> std::io::Result<Request> {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Request::TooSlow);
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(Request::TooSlow);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Request::Head(request))
}

/// One HTTP/1.1 request, answered and closed.
fn answer(mut stream: TcpStream, text: &Mutex<String>) -> std::io::Result<()> {
    stream.set_write_timeout(Some(REQUEST_DEADLINE))?;
    let (status, body) = match read_request(&mut stream)? {
        Request::TooSlow => (
            "408 Request Timeout",
            "the request did not arrive in time\n".to_string(),
        ),
        Request::Head(request) => {
            let line = String::from_utf8_lossy(&request);
            let path = line.split_whitespace().nth(1).unwrap_or("");
            if path == "/metrics" || path.starts_with("/metrics?") {
                (
                    "200 OK",
                    text.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                )
            } else {
                ("404 Not Found", "the metrics are at /metrics\n".to_string())
            }
        }
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        body.len()
    )?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

/// A sample's labels (beside `pipeline`, which every sample has).
type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// The families served; values are set at each [`Metrics::update`].
#[derive(Default)]
struct Families {
    frames: Family<Labels, Counter>,
    fps: Family<Labels, FloatGauge>,
    up: Family<Labels, Gauge>,
    dropped: Counter,
    objects: Counter,
    objects_by_label: Family<Labels, Counter>,
    inferred: Counter,
    latency_last: Family<Labels, FloatGauge>,
    inference_last: Family<Labels, FloatGauge>,
    queue_buffers: Family<Labels, Gauge>,
    queue_fill: Family<Labels, FloatGauge>,
    broker_buffered: Family<Labels, Gauge>,
    broker_capacity: Family<Labels, Gauge>,
    broker_connected: Family<Labels, Gauge>,
    broker_delivered: Family<Labels, Counter>,
    broker_dropped: Family<Labels, Counter>,
    broker_rejected: Family<Labels, Counter>,
    broker_reconnects: Family<Labels, Counter>,
}

impl Families {
    /// The streams' frames and what the models found.
    fn register_streams(&self, r: &mut Registry) {
        r.register(
            "vpl_frames",
            "Frames that left each stream's source",
            self.frames.clone(),
        );
        r.register(
            "vpl_fps",
            "Frames per second of each stream over the last second",
            self.fps.clone(),
        );
        r.register(
            "vpl_stream_up",
            "1 while the stream's frames flow: from its first frame to its end, 0 when none came for 2 s (or 3 frame intervals of a slower stream)",
            self.up.clone(),
        );
        r.register(
            "vpl_dropped_frames",
            "Frames live sources dropped because the pipeline fell behind",
            self.dropped.clone(),
        );
        r.register(
            "vpl_objects",
            "Objects found by detectors, summed over frames",
            self.objects.clone(),
        );
        r.register(
            "vpl_label_objects",
            "Objects found by detectors, summed over frames, by label",
            self.objects_by_label.clone(),
        );
        r.register(
            "vpl_inferred_frames",
            "Frames a model ran on",
            self.inferred.clone(),
        );
    }

    /// The broker sinks' queues and connections.
    fn register_brokers(&self, r: &mut Registry) {
        r.register(
            "vpl_broker_buffered",
            "Messages held for the broker, not yet acknowledged",
            self.broker_buffered.clone(),
        );
        r.register(
            "vpl_broker_buffer_capacity",
            "The most messages the buffer holds (`buffer:`)",
            self.broker_capacity.clone(),
        );
        r.register(
            "vpl_broker_connected",
            "1 while connected to the broker",
            self.broker_connected.clone(),
        );
        r.register(
            "vpl_broker_delivered",
            "Messages the broker acknowledged",
            self.broker_delivered.clone(),
        );
        r.register(
            "vpl_broker_dropped",
            "Oldest messages dropped because the buffer was full",
            self.broker_dropped.clone(),
        );
        r.register(
            "vpl_broker_rejected",
            "Messages the broker refused",
            self.broker_rejected.clone(),
        );
        r.register(
            "vpl_broker_reconnects",
            "Connections made after the first",
            self.broker_reconnects.clone(),
        );
    }
}

/// How long frames take to the sinks and through the inferences, and how full the queues
/// are.
fn register_timings(r: &mut Registry, f: &Families, probes: &Probes, names: &ProgramNames) {
    r.register_with_unit(
        "vpl_latency",
        "Time from a frame leaving its source to reaching this sink",
        Unit::Seconds,
        Timings(
            probes
                .latency
                .iter()
                .map(|t| (names.sink(&t.element), t.clone()))
                .collect(),
        ),
    );
    r.register(
        "vpl_latency_seconds_last",
        "The last frame's time from its source to this sink, in seconds",
        f.latency_last.clone(),
    );
    r.register_with_unit(
        "vpl_inference",
        "Time a frame spends in this inference, waiting for its batch included",
        Unit::Seconds,
        Timings(
            probes
                .inference
                .iter()
                .map(|t| (names.infer(&t.element), t.clone()))
                .collect(),
        ),
    );
    r.register(
        "vpl_inference_seconds_last",
        "The last frame's time in this inference, in seconds",
        f.inference_last.clone(),
    );
    r.register_with_unit(
        "vpl_frame_latency",
        "Per stream: time from a frame leaving its source to reaching this stage (a sink), or spent in it (an inference)",
        Unit::Seconds,
        StageSeries(
            probes
                .stream_latency
                .iter()
                .chain(&probes.stream_inference)
                .map(|t| (names.stage(&t.element), t.clone()))
                .collect(),
        ),
    );
    r.register(
        "vpl_queue_buffers",
        "Frames held in each queue now",
        f.queue_buffers.clone(),
    );
    r.register(
        "vpl_queue_fill_ratio",
        "Frames held in each queue over the most it holds (0 when unbounded in frames)",
        f.queue_fill.clone(),
    );
}

/// The figures served, and what the next rendering needs.
pub struct Metrics {
    text: Arc<Mutex<String>>,
    registry: Registry,
    families: Families,
    probes: Probes,
    names: ProgramNames,
    /// By stream index: the id its figures are labelled with (`stream_id`).
    ids: Vec<StreamId>,
    /// Per stream: frames and time at the start of the current fps window.
    windows: Vec<(u64, Instant)>,
    /// Per stream: frames per second over the last full window (≥ 1 s).
    fps: Vec<f64>,
    /// Per stream: frames at the last update, and when that count last went up.
    last_frame: Vec<(u64, Option<Instant>)>,
    /// The streams that are slots of pools, and the pool stream bound to each now (its
    /// id and its frames): their samples are labelled `stream_id` and count that
    /// stream's frames alone; an idle slot has no samples.
    slots: HashSet<usize>,
    bound: HashMap<usize, (String, u64)>,
    /// Per stream: the `stream_id` its samples were last labelled with.
    labelled: Vec<Option<String>>,
}

impl Metrics {
    /// The metrics of `running`, the pipeline of `plan`, whose streams are counted at
    /// `counters`; `program` is the program's file, which sinks' paths are named relative to.
    pub fn new(
        text: Arc<Mutex<String>>,
        running: &Running,
        counters: &[String],
        plan: &Plan,
        program: &Path,
    ) -> Metrics {
        let names = ProgramNames::new(plan, program.parent().unwrap_or(Path::new("")));
        let ids = stream_ids(plan, counters.len());
        let probes = metrics::attach(
            running,
            counters,
            &StreamsOf {
                elements: names.streams.clone(),
                ids: ids.clone(),
            },
        );
        let mut registry =
            Registry::with_labels([("pipeline".into(), plan.pipeline.clone().into())].into_iter());
        let families = Families::default();
        families.register_streams(&mut registry);
        register_timings(&mut registry, &families, &probes, &names);
        families.register_brokers(&mut registry);
        registry.register_collector(Box::new(Process));
        let now = Instant::now();
        Metrics {
            text,
            registry,
            families,
            probes,
            names,
            ids,
            windows: vec![(0, now); counters.len()],
            fps: vec![0.0; counters.len()],
            last_frame: vec![(0, None); counters.len()],
            slots: HashSet::new(),
            bound: HashMap::new(),
            labelled: vec![None; counters.len()],
        }
    }

    /// The streams that are slots of pools (`vplc run` on a program with pools), and the
    /// pool stream bound to each now, by stream index: its id and its frames.
    /// The latency histograms follow: a slot's frames count under its stream's id from
    /// here on, and under none while it is idle.
    pub fn set_slots(&mut self, slots: HashSet<usize>, bound: HashMap<usize, (String, u64)>) {
        for &slot in &slots {
            if let Some(id) = self.ids.get(slot) {
                match bound.get(&slot) {
                    Some((stream, _)) if id.get() != *stream => id.set(stream),
                    Some(_) => {}
                    None => id.clear(),
                }
            }
        }
        self.slots = slots;
        self.bound = bound;
    }

    /// The labels of stream `i`'s samples, given the pool stream bound to it.
    fn stream_labels(i: usize, id: Option<&str>) -> Labels {
        match id {
            Some(id) => labels(&[("stream", &i.to_string()), ("stream_id", id)]),
            None => labels(&[("stream", &i.to_string())]),
        }
    }

    /// The id the figures of stream `stream` (its index, a slot's [`SlotPlan::stream`])
    /// are labelled with: a pool sets it when it binds a stream to the slot and clears it
    /// when the stream leaves.
    ///
    /// [`SlotPlan::stream`]: vpl_compiler::plan::SlotPlan::stream
    pub fn stream_id(&self, stream: usize) -> Option<StreamId> {
        self.ids.get(stream).cloned()
    }

    /// Renders the figures now.
    pub fn update(&mut self, running: &Running, counters: &[String], found: &Found) {
        let now = Instant::now();
        let f = &self.families;
        for (i, counter) in counters.iter().enumerate() {
            let bound = self.bound.get(&i).cloned();
            let id = bound.as_ref().map(|(id, _)| id.clone());
            if self.slots.contains(&i) && id != self.labelled[i] {
                // Another stream in the slot (or none): the last one's samples go, and
                // this one's counts start from its own first frame.
                let old = Self::stream_labels(i, self.labelled[i].as_deref());
                f.frames.remove(&old);
                f.fps.remove(&old);
                f.up.remove(&old);
                self.windows[i] = (0, now);
                self.fps[i] = 0.0;
                self.last_frame[i] = (0, None);
                self.labelled[i] = id.clone();
            }
            if self.slots.contains(&i) && bound.is_none() {
                continue;
            }
            let n = bound.map_or_else(|| running.frames_of(counter), |(_, n)| n);
            let (start_frames, start) = self.windows[i];
            let dt = now.duration_since(start).as_secs_f64();
            if dt >= 1.0 {
                self.fps[i] = n.saturating_sub(start_frames) as f64 / dt;
                self.windows[i] = (n, now);
            }
            if n > self.last_frame[i].0 {
                self.last_frame[i] = (n, Some(now));
            }
            // Down after 2 s without a frame, or 3 frame intervals of a slower stream.
            let stale = Duration::from_secs_f64(if self.fps[i] > 0.0 {
                (3.0 / self.fps[i]).max(2.0)
            } else {
                2.0
            });
            let ended = self
                .probes
                .ended
                .get(counter)
                .is_some_and(|e| e.load(Ordering::Relaxed));
            let up = !ended && self.last_frame[i].1.is_some_and(|t| now - t <= stale);
            let stream = Self::stream_labels(i, id.as_deref());
            f.frames
                .get_or_create(&stream)
                .inner()
                .store(n, Ordering::Relaxed);
            f.fps.get_or_create(&stream).set(self.fps[i]);
            f.up.get_or_create(&stream).set(i64::from(up));
        }
        f.dropped
            .inner()
            .store(running.dropped_frames(), Ordering::Relaxed);
        f.inferred
            .inner()
            .store(found.inferred.load(Ordering::Relaxed), Ordering::Relaxed);
        let by_label: Vec<(String, u64)> = found
            .by_label
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        f.objects
            .inner()
            .store(found.objects.load(Ordering::Relaxed), Ordering::Relaxed);
        for (label, n) in by_label {
            f.objects_by_label
                .get_or_create(&labels(&[("label", &label)]))
                .inner()
                .store(n, Ordering::Relaxed);
        }
        for t in &self.probes.latency {
            f.latency_last
                .get_or_create(&self.names.sink(&t.element))
                .set(t.last_ns.load(Ordering::Relaxed) as f64 / 1e9);
        }
        for t in &self.probes.inference {
            f.inference_last
                .get_or_create(&self.names.infer(&t.element))
                .set(t.last_ns.load(Ordering::Relaxed) as f64 / 1e9);
        }
        for q in metrics::queue_fill(running) {
            let l = self.names.queue(&q.element);
            f.queue_buffers.get_or_create(&l).set(i64::from(q.buffers));
            let ratio = if q.max_buffers == 0 {
                0.0
            } else {
                f64::from(q.buffers) / f64::from(q.max_buffers)
            };
            f.queue_fill.get_or_create(&l).set(ratio);
        }
        for b in vpl_runtime::brokers::stats() {
            let l = labels(&[
                ("protocol", b.protocol.name()),
                ("url", &b.url),
                ("topic", &b.topic),
            ]);
            let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
            f.broker_buffered
                .get_or_create(&l)
                .set(load(&b.buffered) as i64);
            f.broker_capacity.get_or_create(&l).set(b.capacity as i64);
            f.broker_connected
                .get_or_create(&l)
                .set(i64::from(b.connected.load(Ordering::Relaxed)));
            for (family, value) in [
                (&f.broker_delivered, &b.delivered),
                (&f.broker_dropped, &b.dropped),
                (&f.broker_rejected, &b.rejected),
                (&f.broker_reconnects, &b.reconnects),
            ] {
                family
                    .get_or_create(&l)
                    .inner()
                    .store(load(value), Ordering::Relaxed);
            }
        }
        let mut text = String::new();
        if prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry).is_ok() {
            *self.text.lock().unwrap_or_else(|p| p.into_inner()) = text;
        }
    }
}

/// The ids of the streams, by index: the index as text (as `vpl_frames_total`'s
/// `stream`), but for a pool's slots, which have none until a stream is bound.
fn stream_ids(plan: &Plan, streams: usize) -> Vec<StreamId> {
    let slots: HashSet<usize> = plan
        .pools
        .iter()
        .flat_map(|p| p.slots.iter().map(|s| s.stream))
        .collect();
    (0..streams)
        .map(|i| {
            if slots.contains(&i) {
                StreamId::default()
            } else {
                StreamId::new(&i.to_string())
            }
        })
        .collect()
}

/// One histogram of a family, labelled `labels`, from the durations of `t`.
fn encode_timing(
    encoder: &mut MetricEncoder,
    labels: &Labels,
    t: &Timing,
) -> Result<(), std::fmt::Error> {
    let buckets: Vec<(f64, u64)> = BUCKETS_S
        .iter()
        .zip(&t.buckets)
        .map(|(bound, n)| (*bound, n.load(Ordering::Relaxed)))
        .collect();
    // The count from the buckets, so the two always agree.
    let count = buckets.iter().map(|(_, n)| n).sum();
    let sum = t.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
    encoder
        .encode_family(labels)?
        .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
}

/// Durations measured at several places, as one histogram family.
#[derive(Debug)]
struct Timings(Vec<(Labels, Arc<Timing>)>);

impl EncodeMetric for Timings {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, t) in &self.0 {
            encode_timing(&mut encoder, labels, t)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// Durations measured per stream at several stages, each stage named: one histogram per
/// stream id that stage's stream has had, labelled `stream_id` and `stage`.
#[derive(Debug)]
struct StageSeries(Vec<(String, Arc<StageTimings>)>);

impl EncodeMetric for StageSeries {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (stage, timings) in &self.0 {
            for (id, t) in timings.series() {
                let labels = labels(&[("stream_id", &id), ("stage", stage)]);
                encode_timing(&mut encoder, &labels, &t)?;
            }
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// The process's own figures, read from `/proc/self` at each rendering, named as
/// Prometheus's client libraries name them.
#[derive(Debug)]
struct Process;

/// The kernel's unit of CPU time in `/proc` (`USER_HZ`, 100 on Linux's architectures).
const TICKS_PER_SECOND: f64 = 100.0;

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // The fields after the command's name, which is in parentheses: state is field 3.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
        if let (Some(user), Some(system)) = (field(14), field(15)) {
            let cpu = ConstCounter::new((user + system) as f64 / TICKS_PER_SECOND);
            let e = encoder.encode_descriptor(
                "process_cpu",
                "Total user and system CPU time spent in seconds",
                Some(&Unit::Seconds),
                cpu.metric_type(),
            )?;
            cpu.encode(e)?;
        }
        let boot = std::fs::read_to_string("/proc/stat")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<u64>().ok());
        if let (Some(boot), Some(start)) = (boot, field(22)) {
            let started = ConstGauge::new(boot as f64 + start as f64 / TICKS_PER_SECOND);
            let e = encoder.encode_descriptor(
                "process_start_time",
                "Start time of the process since unix epoch in seconds",
                Some(&Unit::Seconds),
                started.metric_type(),
            )?;
            started.encode(e)?;
        }
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib = |key: &str| {
            status.lines().find_map(|l| {
                let v = l.strip_prefix(key)?.trim().strip_suffix("kB")?;
                v.trim().parse::<i64>().ok().map(|k| k * 1024)
            })
        };
        for (name, key, help) in [
            (
                "process_resident_memory",
                "VmRSS:",
                "Resident memory size in bytes",
            ),
            (
                "process_virtual_memory",
                "VmSize:",
                "Virtual memory size in bytes",
            ),
        ] {
            if let Some(bytes) = kib(key) {
                let g = ConstGauge::new(bytes);
                let e =
                    encoder.encode_descriptor(name, help, Some(&Unit::Bytes), g.metric_type())?;
                g.encode(e)?;
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            // The directory being read holds one descriptor of its own.
            let open = ConstGauge::new(dir.count().saturating_sub(1) as i64);
            let e = encoder.encode_descriptor(
                "process_open_fds",
                "Number of open file descriptors",
                None,
                open.metric_type(),
            )?;
            open.encode(e)?;
        }
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("Max open files")?
                    .split_whitespace()
                    .next()?
                    .parse::<i64>()
                    .ok()
            });
        if let Some(max) = max_fds {
            let g = ConstGauge::new(max);
            let e = encoder.encode_descriptor(
                "process_max_fds",
                "Maximum number of open file descriptors",
                None,
                g.metric_type(),
            )?;
            g.encode(e)?;
        }
        Ok(())
    }
}

/// What the program calls the elements metrics are measured at.
#[derive(Debug, Default)]
struct ProgramNames {
    /// A sink element → `sink`.
    sinks: HashMap<String, Labels>,
    /// A `vplinfer` element → `model`, `stream`.
    infers: HashMap<String, Labels>,
    /// A queue element → `queue`.
    queues: HashMap<String, Labels>,
    /// A sink or `vplinfer` element → its `stage` in `vpl_frame_latency_seconds`:
    /// `sink:` and the sink's name, `infer:` and the model's.
    stages: HashMap<String, String>,
    /// A sink or `vplinfer` element → the stream whose frames it takes (the first of
    /// them, after `tile`).
    streams: HashMap<String, usize>,
}

impl ProgramNames {
    /// The names of the plan's sinks, inferences and queues (their roles). `dir`: the
    /// program's directory, which the paths of its sinks are relative to.
    fn new(plan: &Plan, dir: &Path) -> ProgramNames {
        let sink_name = |kind: &SinkKind| relative(&sink_name(kind), dir);
        let mut names = ProgramNames::default();
        let mut taken: HashSet<(String, String)> = HashSet::new();
        // Unique within `scope`: a name met twice gets ` #2`, ` #3`, …
        let mut unique = |scope: &str, name: String| -> String {
            let mut candidate = name.clone();
            let mut k = 2;
            while !taken.insert((scope.to_string(), candidate.clone())) {
                candidate = format!("{name} #{k}");
                k += 1;
            }
            candidate
        };
        // In the order of the stages that made them.
        let mut elements: Vec<(u32, &str, &Role)> = plan
            .elements
            .iter()
            .filter_map(|e| Some((e.node.0, e.name.as_str(), e.role.as_ref()?)))
            .collect();
        elements.sort_by_key(|(node, _, _)| *node);
        let mut sink_names: HashMap<String, usize> = HashMap::new();
        for (_, _, role) in &elements {
            if let Role::Sink { sink, .. } = role {
                *sink_names.entry(sink_name(sink)).or_default() += 1;
            }
        }
        for (_, element, role) in elements {
            let element = element.to_string();
            match role {
                Role::Sink { sink, streams } => {
                    let base = sink_name(sink);
                    // `stream_id` tells two sinks of one name (`stdout` of two streams) apart.
                    let stage = unique(
                        &format!("stage {}", joined(streams)),
                        format!("sink:{base}"),
                    );
                    names.stages.insert(element.clone(), stage);
                    if let Some(first) = streams.first() {
                        names.streams.insert(element.clone(), *first);
                    }
                    // Two sinks of one name (`stdout` of two streams): which stream each.
                    let mut name = base;
                    if sink_names.get(&name).is_some_and(|n| *n > 1) {
                        name = format!("{name} (stream {})", joined(streams));
                    }
                    let name = unique("sink", name);
                    names.sinks.insert(element, labels(&[("sink", &name)]));
                }
                Role::Inference { model, streams } => {
                    let stream = joined(streams);
                    let model = unique(&format!("infer {stream}"), model.clone());
                    names
                        .stages
                        .insert(element.clone(), format!("infer:{model}"));
                    if let Some(first) = streams.first() {
                        names.streams.insert(element.clone(), *first);
                    }
                    names.infers.insert(
                        element,
                        labels(&[
                            ("element", &format!("infer:{model}")),
                            ("model", &model),
                            ("stream", &stream),
                        ]),
                    );
                }
                Role::Queue { into, streams } => {
                    let into = relative(&reader_name(into), dir);
                    let name = unique("queue", format!("stream {} → {into}", joined(streams)));
                    names.queues.insert(element, labels(&[("queue", &name)]));
                }
                Role::Progress { .. } => {}
            }
        }
        names
    }

    fn sink(&self, element: &str) -> Labels {
        self.sinks
            .get(element)
            .cloned()
            .unwrap_or_else(|| labels(&[("sink", element)]))
    }

    fn infer(&self, element: &str) -> Labels {
        self.infers
            .get(element)
            .cloned()
            .unwrap_or_else(|| labels(&[("element", element), ("model", element), ("stream", "")]))
    }

    fn stage(&self, element: &str) -> String {
        self.stages
            .get(element)
            .cloned()
            .unwrap_or_else(|| element.to_string())
    }

    fn queue(&self, element: &str) -> Labels {
        self.queues
            .get(element)
            .cloned()
            .unwrap_or_else(|| labels(&[("queue", element)]))
    }
}

/// `name` (`file:/abs/dir/out.mp4`) with the program's directory taken off the path, as
/// the program wrote it (`file:out.mp4`).
fn relative(name: &str, dir: &Path) -> String {
    let dir = dir.display().to_string();
    if dir.is_empty() {
        return name.to_string();
    }
    match name.split_once(':') {
        Some((kind, path)) => match path.strip_prefix(&dir).and_then(|p| p.strip_prefix('/')) {
            Some(rest) => format!("{kind}:{rest}"),
            None => name.to_string(),
        },
        None => name.to_string(),
    }
}

/// A sink as the program writes it: its kind and where it writes.
fn sink_name(kind: &SinkKind) -> String {
    match kind {
        SinkKind::Video { path, .. }
        | SinkKind::Records {
            path: Some(path), ..
        } => format!("file:{path}"),
        SinkKind::Records { path: None, .. } => "stdout".into(),
        SinkKind::Discard => "discard".into(),
        SinkKind::Display => "display".into(),
        SinkKind::RtspOut { port, path } => format!(
            "rtsp_out:{port}{}{path}",
            if path.starts_with('/') { "" } else { "/" }
        ),
        SinkKind::Record { path, .. } => format!("record:{path}"),
        SinkKind::Hls { dir, .. } => format!("hls:{dir}"),
        SinkKind::Broker {
            protocol, topic, ..
        } => format!("{}:{topic}", protocol.name()),
    }
}

/// A stage as the program calls it, for the queue in front of it.
fn reader_name(reader: &Reader) -> String {
    match reader {
        Reader::Sink(k) => sink_name(k),
        Reader::Infer { model } => format!("infer:{model}"),
        Reader::Stage(kind) => kind.to_string(),
    }
}

/// Stream ids as a label's value: `0`, or `0,1` for a picture tiled from two.
fn joined(streams: &[usize]) -> String {
    streams
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use vpl_compiler::{MemoryHost, SourceMap, compile};

    use super::{ProgramNames, labels, stream_ids};

    fn plan_of(text: &str) -> vpl_compiler::plan::Plan {
        let mut sources = SourceMap::default();
        let c = compile(
            &mut sources,
            "p.vpl",
            Path::new("/p/p.vpl"),
            text,
            &MemoryHost::new(),
        );
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        c.lower(0).expect("lowers").1
    }

    /// `vpl_frame_latency_seconds`' stages: a sink of a list's streams is one stage
    /// (`stream_id` tells them apart, where `vpl_latency_seconds`' `sink` says
    /// ` (stream N)`), and a tile's sink is counted under its first stream.
    #[test]
    fn stages_are_named_once_per_stream() {
        let plan = plan_of(
            "pipeline p {\n    let cams = [test(frames: 3), test(pattern: ball, frames: 3)];\n    \
             cams | json | stdout;\n    cams | tile(2, 1) | json | file(\"t.jsonl\");\n}\n",
        );
        let names = ProgramNames::new(&plan, Path::new("/p"));
        let mut stages: Vec<(usize, String)> = names
            .stages
            .iter()
            .map(|(element, stage)| (names.streams[element], stage.clone()))
            .collect();
        stages.sort();
        assert_eq!(
            stages,
            [
                (0, "sink:file:t.jsonl".to_string()),
                (0, "sink:stdout".to_string()),
                (1, "sink:stdout".to_string())
            ]
        );
        let ids: Vec<String> = stream_ids(&plan, 2).iter().map(|i| i.get()).collect();
        assert_eq!(ids, ["0", "1"]);
    }

    /// A pool's slots have no id until a stream is bound to them.
    #[test]
    fn slots_have_no_id_until_a_stream_is_bound() {
        let plan = plan_of(
            "pipeline p {\n    let one = test(frames: 3);\n    \
             let cams = pool(max: 2) : video<h264, 320x240, 25fps>;\n    \
             one | json | stdout;\n    cams | decode | json | file(\"out_{stream}.jsonl\");\n}\n",
        );
        let slots: Vec<usize> = plan.pools[0].slots.iter().map(|s| s.stream).collect();
        assert_eq!(slots.len(), 2, "{:?}", plan.pools);
        let ids = stream_ids(&plan, 3);
        for (i, id) in ids.iter().enumerate() {
            let expected = if slots.contains(&i) {
                String::new()
            } else {
                i.to_string()
            };
            assert_eq!(id.get(), expected, "stream {i}");
        }
    }

    /// A sink made of several elements (a muxer and a file sink, a converter and a
    /// display) is named once, on the element that takes its frames, where its latency is
    /// measured: it was `file:out.mp4 #2`, the muxer having taken the name first.
    #[test]
    fn a_sink_of_several_elements_is_named_once() {
        let text = "pipeline p {\n    let t = test(frames: 3);\n    \
                    t | encode(h264) | file(\"out.mp4\");\n    t | display;\n}\n";
        let mut sources = SourceMap::default();
        let c = compile(
            &mut sources,
            "p.vpl",
            Path::new("/p/p.vpl"),
            text,
            &MemoryHost::new(),
        );
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let (_, plan) = c.lower(0).expect("lowers");
        let names = ProgramNames::new(&plan, Path::new("/p"));
        let element = |factory: &str| {
            plan.elements
                .iter()
                .find(|e| e.factory == factory)
                .map(|e| e.name.clone())
                .expect("the sink's element")
        };
        assert_eq!(
            names.sink(&element("filesink")),
            labels(&[("sink", "file:out.mp4")])
        );
        assert_eq!(
            names.sink(&element("autovideosink")),
            labels(&[("sink", "display")])
        );
        assert_eq!(names.sinks.len(), 2, "{:?}", names.sinks);
    }
}
