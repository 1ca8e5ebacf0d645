//! `vplc run`: compile, lower, build the GStreamer pipeline, run it with progress, and
//! finish cleanly (Ctrl-C sends end-of-stream so files are finalised). Run-time errors are
//! printed as diagnostics at the `.vpl` span of the stage that made the failing element.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vpl_compiler::ir::{Graph, NodeId, NodeKind, SinkKind, SourceKind};
use vpl_compiler::plan::{Plan, Prop};
use vpl_compiler::{Code, Diagnostic, FileId, SourceMap};
use vpl_runtime::pipeline::{Ending, RunError, RunEvent, Running};

use crate::cli::{Backend, LogLevel, RunArgs};
use crate::commands::{CANNOT_RUN, OK, compile_one};
use crate::signals::Interrupt;

/// Exit statuses of `vplc run` (spec section 8).
pub const RUNTIME_ERROR: u8 = 3;
/// The run finished, but a broker sink delivered none of its messages (vpl's addition to
/// spec section 8's statuses).
pub const UNDELIVERED: u8 = 4;
pub const INTERRUPTED: u8 = 130;

#[derive(Serialize)]
struct Stats<'a> {
    pipeline: &'a str,
    wall_s: f64,
    frames: Vec<u64>,
    fps: Vec<f64>,
    objects: u64,
    /// Frames a model ran on (vpl's extension of spec §8's statistics).
    inferred: u64,
    /// Frames live sources dropped because the pipeline fell behind them (vpl's extension).
    dropped: u64,
    /// Each broker sink's messages (vpl's extension; absent without broker sinks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    brokers: Vec<BrokerStat>,
    exit: &'a str,
}

/// One broker sink's figures in the statistics.
#[derive(Serialize)]
struct BrokerStat {
    protocol: &'static str,
    url: String,
    topic: String,
    buffer: u64,
    delivered: u64,
    /// Oldest messages dropped because the buffer was full.
    dropped: u64,
    rejected: u64,
    /// Messages still buffered when the run ended and the broker stayed away.
    undelivered: u64,
    reconnects: u64,
}

/// Each broker sink's figures; before the end (a second signal), what is still buffered
/// counts as undelivered.
fn broker_stats() -> Vec<BrokerStat> {
    vpl_runtime::brokers::stats()
        .iter()
        .map(|b| BrokerStat {
            protocol: b.protocol.name(),
            url: b.url.clone(),
            topic: b.topic.clone(),
            buffer: b.capacity,
            delivered: b.delivered.load(Ordering::Relaxed),
            dropped: b.dropped.load(Ordering::Relaxed),
            rejected: b.rejected.load(Ordering::Relaxed),
            undelivered: b.undelivered.load(Ordering::Relaxed) + b.buffered.load(Ordering::Relaxed),
            reconnects: b.reconnects.load(Ordering::Relaxed),
        })
        .collect()
}

impl BrokerStat {
    /// Messages that did not reach the broker, for whatever reason.
    fn lost(&self) -> u64 {
        self.dropped + self.rejected + self.undelivered
    }
}

/// Messages a broker never acknowledged are output lost: said even with --quiet.
fn say_undelivered(brokers: &[BrokerStat]) {
    for b in brokers {
        if b.undelivered > 0 || b.dropped > 0 || b.rejected > 0 {
            crate::log::warn(format!(
                "vplc: warning: {} {} ({}): {} messages not delivered (still buffered when the \
                 run ended and the broker stayed away), {} dropped when the buffer was full, \
                 {} refused by the broker; {} delivered",
                b.protocol, b.url, b.topic, b.undelivered, b.dropped, b.rejected, b.delivered
            ));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The run's figures, for the statistics.
#[derive(Clone, Default)]
struct Figures {
    wall: Duration,
    frames: Vec<u64>,
    objects: u64,
    inferred: u64,
    dropped: u64,
}

impl Figures {
    fn fps(&self) -> Vec<f64> {
        self.frames
            .iter()
            .map(|n| *n as f64 / self.wall.as_secs_f64().max(1e-9))
            .collect()
    }
}

fn stats_text(pipeline: &str, f: &Figures, brokers: Vec<BrokerStat>, exit: &str) -> String {
    let stats = Stats {
        pipeline,
        wall_s: (f.wall.as_secs_f64() * 1000.0).round() / 1000.0,
        frames: f.frames.clone(),
        fps: f.fps().iter().map(|x| (x * 10.0).round() / 10.0).collect(),
        objects: f.objects,
        inferred: f.inferred,
        dropped: f.dropped,
        brokers,
        exit,
    };
    serde_json::to_string(&stats).unwrap_or_default() + "\n"
}

/// The `--stats` file, opened (not emptied) when the run starts.
struct StatsOut {
    path: PathBuf,
    file: File,
}

impl StatsOut {
    /// Opens `path` for the statistics of a run of `program`: refused where it is the
    /// program, a file the run reads or an output (the same file by device and inode, or
    /// the same path), or cannot be written (a device that refuses writes, `/dev/full`, is
    /// found by writing nothing to it; a FIFO nobody reads is refused rather than waited
    /// for).
    fn open(
        path: &Path,
        program: &Path,
        plan: &Plan,
        c: &vpl_compiler::Compilation,
    ) -> Result<StatsOut, String> {
        let dir = program.parent().unwrap_or(Path::new(""));
        let mut taken: Vec<(PathBuf, &str)> = vec![(program.to_path_buf(), "the program")];
        for e in &plan.elements {
            for (name, value) in &e.props {
                if let (Prop::Str(v), "location" | "path" | "model") = (value, name.as_str())
                    && !v.contains("://")
                {
                    taken.push((PathBuf::from(v), "a file the program reads or writes"));
                }
            }
        }
        for m in &c.program.models {
            for key in ["path", "labels"] {
                if let Some(v) = m.call.string(key) {
                    taken.push((dir.join(v), "a file the program reads"));
                }
            }
        }
        let here = identity(path);
        let absolute = absolute(path);
        for (other, what) in &taken {
            let same = match (&here, identity(other)) {
                (Some(a), Some(b)) => *a == b,
                _ => absolute.is_some() && absolute == crate::run::absolute(other),
            };
            if same {
                return Err(format!(
                    "it is {what} ({}): nothing was written",
                    other.display()
                ));
            }
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .custom_flags(libc_o_nonblock())
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(6) => "it is a FIFO that nobody reads".to_string(),
                _ => e.to_string(),
            })?;
        let mut out = StatsOut {
            path: path.to_path_buf(),
            file,
        };
        if !out.regular() {
            // Nothing written, but a device that refuses every write says so.
            let _ = out.file.write(&[]).map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    fn regular(&self) -> bool {
        self.file.metadata().is_ok_and(|m| m.is_file())
    }

    /// Replaces the file's content by `text`.
    fn write(&mut self, text: &str) -> std::io::Result<()> {
        if self.regular() {
            self.file.set_len(0)?;
            self.file.seek(SeekFrom::Start(0))?;
            self.file.write_all(text.as_bytes())?;
            self.file.sync_all()
        } else {
            self.file.write_all(text.as_bytes())?;
            self.file.flush()
        }
    }
}

/// `O_NONBLOCK`: opening a FIFO for writing does not wait for a reader.
fn libc_o_nonblock() -> i32 {
    0o4000
}

/// A file's device and inode, where it exists.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// `path` made absolute, its directory resolved (the file itself may not exist yet).
fn absolute(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

/// The run-time error as a diagnostic at the span of the stage that made the element.
fn diagnostic(file: FileId, error: &RunError) -> Option<Diagnostic> {
    Some(match error {
        RunError::MissingElement { element, factory, span } => Diagnostic::new(
            Code::E0501,
            file,
            *span,
            format!("GStreamer has no element `{factory}` for this stage"),
        )
        .with_primary_label(format!("needs `{factory}` (element {element})"))
        .with_help(match factory.as_str() {
            f if f.starts_with("vpl") => "this stage does not run in this version of vpl yet".to_string(),
            _ => "install the GStreamer plugin that provides it (scripts/setup.sh installs the usual ones)".to_string(),
        }),
        RunError::Property { element, span, property, reason } => Diagnostic::new(
            Code::E0502,
            file,
            *span,
            format!("cannot set `{property}` on {element}: {reason}"),
        ),
        RunError::Link { from, to, span, reason } => Diagnostic::new(
            Code::E0503,
            file,
            *span,
            format!("cannot connect {from} to {to}: {reason}"),
        )
        .with_help("the stream's type at run time differs from what was checked; ascribe the source's type or report it"),
        RunError::Element { element, span: Some(span), message, debug } => {
            let d = Diagnostic::new(Code::E0504, file, *span, format!("{message} (in {element})"))
                .with_primary_label("this stage failed while running");
            match debug_help(debug) { Some(help) => d.with_help(help), None => d }
        }
        _ => return None,
    })
}

/// The useful part of a GStreamer error's debug text, for a help line. GStreamer starts it
/// with where the element raised the error (`runtime/src/elements/infer/imp.rs(324):
/// transform_ip (): /GstPipeline:pipeline0/VplInfer:n3_infer`): a source path of vpl or of a
/// plugin, which helps nobody who runs a pipeline. What follows it, if anything, is kept.
fn debug_help(debug: &str) -> Option<String> {
    let mut lines: Vec<&str> = debug.lines().map(str::trim).collect();
    if lines.first().is_some_and(|l| is_location(l)) {
        lines.remove(0);
    }
    lines
        .into_iter()
        .rfind(|l| !l.is_empty())
        .map(str::to_string)
}

/// `FILE(LINE): FUNCTION (): OBJECT-PATH`, GStreamer's header of an error's debug text.
fn is_location(line: &str) -> bool {
    let Some((place, _)) = line.split_once("): ") else {
        return false;
    };
    let Some((_, number)) = place.rsplit_once('(') else {
        return false;
    };
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
}

fn report(sources: &SourceMap, file: FileId, error: &RunError) {
    match diagnostic(file, error) {
        Some(d) => crate::log::diagnostics(sources, &[d]),
        None => match error {
            RunError::Element {
                element,
                message,
                debug,
                ..
            } => match debug_help(debug) {
                Some(help) => crate::log::error(format!("vplc: {message} (in {element})\n{help}")),
                None => crate::log::error(format!("vplc: {message} (in {element})")),
            },
            RunError::Init(reason) | RunError::Start(reason) => {
                crate::log::error(format!("vplc: the pipeline cannot run: {reason}"))
            }
            _ => {}
        },
    }
}

/// For each stream of the pipeline, in the order of the streams' ids (the order of the
/// source calls), the element whose output frames are its progress: its decoder, the caps
/// of a raw source, or for a stream never decoded (a relay, a copy) the first element that
/// carries its frames. Streams merged into one source by the optimiser (the same file read
/// twice) share that source's element, and each still has its entry.
pub fn stream_counters(graph: &Graph, plan: &Plan) -> Vec<String> {
    graph
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match &n.kind {
            NodeKind::Source(kind) => Some((NodeId(i as u32), n.dead, kind)),
            _ => None,
        })
        .filter_map(|(id, dead, kind)| {
            // A merged source was merged into the live one of the same kind.
            let live = if dead {
                graph
                    .live()
                    .find(|(_, l)| l.kind == NodeKind::Source(kind.clone()))?
                    .0
            } else {
                id
            };
            Some(counter_of(graph, plan, live))
        })
        .collect()
}

fn counter_of(graph: &Graph, plan: &Plan, source: NodeId) -> String {
    let s = source.0;
    match &graph.node(source).kind {
        NodeKind::Source(SourceKind::Test { .. }) => return format!("n{s}_test_caps"),
        NodeKind::Source(SourceKind::Camera { .. }) => return format!("n{s}_camera_caps"),
        _ => {}
    }
    if let Some(decoder) = decoder_of(graph, source) {
        return format!("n{}_decode_caps", decoder.0);
    }
    // Not decoded: where the source's frames leave its own elements.
    let own = format!("n{s}_");
    plan.links
        .iter()
        .find(|l| l.from.starts_with(&own) && !l.to.starts_with(&own))
        .map(|l| {
            if l.dynamic {
                // A demuxer's video pad appears at run time: count on it then.
                format!("{}.dynamic", l.from)
            } else {
                l.from.clone()
            }
        })
        .unwrap_or_default()
}

/// The decoder reading `id`'s stream, directly or through tees and queues.
fn decoder_of(graph: &Graph, id: NodeId) -> Option<NodeId> {
    graph
        .consumers(id)
        .into_iter()
        .find_map(|c| match graph.node(c).kind {
            NodeKind::Decode => Some(c),
            NodeKind::Tee | NodeKind::Queue { .. } => decoder_of(graph, c),
            _ => None,
        })
}

/// The addresses `rtsp_out` sinks serve at. The server listens on every interface; the
/// address shown is this machine's own name for them, `localhost`.
fn rtsp_urls(graph: &Graph) -> Vec<String> {
    graph
        .live()
        .filter_map(|(_, n)| match &n.kind {
            NodeKind::Sink(SinkKind::RtspOut { port, path }) => Some(format!(
                "rtsp://localhost:{port}{}{path}",
                if path.starts_with('/') { "" } else { "/" }
            )),
            _ => None,
        })
        .collect()
}

/// A JSON object's members, as a log line's fields.
fn fields(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// The files the run writes, for the message of a second signal.
fn output_names(graph: &Graph) -> Vec<String> {
    graph
        .live()
        .filter_map(|(_, n)| match &n.kind {
            NodeKind::Sink(SinkKind::Video { path, .. })
            | NodeKind::Sink(SinkKind::Records {
                path: Some(path), ..
            }) => Some(path.clone()),
            _ => None,
        })
        .collect()
}

fn prepare_outputs(graph: &Graph) -> Result<(), String> {
    for (_, n) in graph.live() {
        let path = match &n.kind {
            NodeKind::Sink(SinkKind::Video { path, .. })
            | NodeKind::Sink(SinkKind::Records {
                path: Some(path), ..
            }) => path,
            _ => continue,
        };
        if let Some(dir) = Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

/// Engine settings for every inference element of the plan. `backend` is resolved first
/// (`backend::choose`); an unresolved `Auto` runs on the CPU.
pub fn configure_inference(plan: &mut Plan, backend: Backend, threads: usize, library: &Path) {
    let backend = match backend {
        Backend::Auto | Backend::Cpu => "cpu",
        Backend::Cuda => "cuda",
        Backend::Tensorrt => "tensorrt",
    };
    for e in plan.elements.iter_mut().filter(|e| e.factory == "vplinfer") {
        e.props.push(("backend".into(), Prop::Str(backend.into())));
        e.props.push(("threads".into(), Prop::UInt(threads as u64)));
        e.props
            .push(("library".into(), Prop::Str(library.display().to_string())));
    }
}

/// The ONNX Runtime library: `VPL_ONNXRUNTIME`, else the set-up's `assets/onnxruntime.path`
/// found above the program, the working directory or the `vplc` executable.
fn onnxruntime_library(file: &Path) -> Option<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let exe = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    vpl_runtime::engine::find_library(&[dir.as_path(), cwd.as_path(), exe.as_path()])
}

pub fn run(args: &RunArgs) -> u8 {
    crate::log::init(args.log_level, args.log_format, args.log_timestamps);
    // Listen first: a signal while compiling or starting ends the run as one while playing.
    let interrupt = Interrupt::listen();
    let (sources, c, index) = match compile_one(&args.file, args.pipeline.as_deref()) {
        Ok(ok) => ok,
        Err(status) => return status,
    };
    // Likewise the metrics address: a port in use is said before anything runs.
    let metrics_text = match args.metrics {
        Some(addr) => match crate::metrics::serve(addr) {
            Ok(text) => {
                crate::log::debug(format!("vplc: metrics at http://{addr}/metrics"));
                Some(text)
            }
            Err(e) => {
                crate::log::error(format!("vplc: cannot serve the metrics at {addr}: {e}"));
                return CANNOT_RUN;
            }
        },
        None => None,
    };
    let chosen =
        crate::backend::choose(args.backend, &crate::backend::Machine::probe(args.backend));
    let (graph, lowered) = match c.lower_for(index, &chosen.target) {
        Ok(lowered) => lowered,
        Err(e) => {
            crate::log::error(format!(
                "vplc: internal error while lowering (please report it): {e}"
            ));
            return CANNOT_RUN;
        }
    };
    let mut plan = lowered.plan;
    // The statistics file is opened before anything runs, and not emptied until the
    // statistics are written: a path that cannot be written, or that names a file the
    // program reads or writes, is said now, not after a long run.
    let stats_file = match &args.stats {
        Some(path) => match StatsOut::open(path, &args.file, &plan, &c) {
            Ok(out) => Some(out),
            Err(e) => {
                crate::log::error(format!(
                    "vplc: cannot write the statistics to {}: {e}",
                    path.display()
                ));
                return CANNOT_RUN;
            }
        },
        None => None,
    };
    let stats_file = Arc::new(Mutex::new(stats_file));
    if !args.quiet {
        if let Some(note) = &chosen.note {
            crate::log::info(note);
        }
        if let Some(gpu) = &chosen.gpu {
            crate::log::info(crate::backend::using_line(gpu, &plan));
        }
    }
    if let Some(warning) = crate::backend::cpu_decoding_warning(&lowered.cpu_decoding) {
        crate::log::warn(warning);
    }
    if plan.elements.iter().any(|e| e.factory == "vplinfer") {
        let Some(library) = onnxruntime_library(&args.file) else {
            crate::log::error(
                "vplc: ONNX Runtime was not found: run scripts/setup.sh, or set VPL_ONNXRUNTIME to the path of libonnxruntime.so",
            );
            return RUNTIME_ERROR;
        };
        configure_inference(&mut plan, chosen.backend, args.threads, &library);
    }
    if let Err(e) = prepare_outputs(&graph) {
        crate::log::error(format!("vplc: {e}"));
        return RUNTIME_ERROR;
    }
    crate::log::debug(format!(
        "vplc: pipeline {}: {} elements, {} links",
        plan.pipeline,
        plan.elements.len(),
        plan.links.len()
    ));
    let counters = stream_counters(&graph, &plan);
    let mut counting = counters.clone();
    counting.sort();
    counting.dedup();
    let running = match Running::build(&plan, &counting, args.max_frames) {
        Ok(r) => r,
        Err(e) => {
            report(&sources, c.file, &e);
            return RUNTIME_ERROR;
        }
    };
    if args.realtime {
        running.pace_sinks();
    }
    for warning in &running.warnings {
        crate::log::warn(format!("vplc: warning: {warning}"));
    }
    let found = running.count_objects();
    let mut metrics = metrics_text.map(|text| {
        crate::metrics::Metrics::new(text, &running, &counters, &graph, &plan, &args.file)
    });
    if let Some(m) = metrics.as_mut() {
        m.update(&running, &counters, &found);
    }

    if let Ok(mut names) = interrupt.outputs.lock() {
        *names = output_names(&graph);
    }
    let interrupted = interrupt.requested.clone();
    // What a second signal writes before the process ends: the figures so far.
    let snapshot = Arc::new(Mutex::new(Figures::default()));
    {
        let (snapshot, stats_file) = (snapshot.clone(), stats_file.clone());
        let pipeline = plan.pipeline.clone();
        interrupt.set_last_words(move || {
            let brokers = broker_stats();
            say_undelivered(&brokers);
            let mut stats = lock(&stats_file);
            if let Some(out) = stats.as_mut() {
                let text = stats_text(&pipeline, &lock(&snapshot), brokers, "interrupted");
                if let Err(e) = out.write(&text) {
                    crate::log::error(format!(
                        "vplc: cannot write the statistics to {}: {e}",
                        out.path.display()
                    ));
                }
            }
            // Held until the process ends: the run's own last write (which empties the file
            // before writing it) must not start between these statistics and the exit.
            std::mem::forget(stats);
        });
    }

    let bar = (!args.quiet
        && std::io::stderr().is_terminal()
        && !crate::log::json()
        && crate::log::enabled(LogLevel::Info))
    .then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    let durations: Vec<Option<u64>> = graph
        .live()
        .filter_map(|(_, n)| match &n.kind {
            NodeKind::Source(SourceKind::File { media, .. }) => {
                Some(media.as_ref().and_then(|m| m.duration_ns))
            }
            _ => None,
        })
        .collect();
    // Progress lines where no bar is drawn (a container's log, a file), every interval.
    let progress_every = (!args.quiet
        && bar.is_none()
        && (!std::io::stderr().is_terminal() || crate::log::json())
        && args.progress_interval > 0)
        .then(|| std::time::Duration::from_secs(args.progress_interval));
    let mut next_progress = progress_every;
    let result = running.run(&interrupted, |event| {
        let elapsed = match event {
            // Playing: the RTSP servers listen now.
            RunEvent::Playing => {
                for url in rtsp_urls(&graph) {
                    crate::log::line(
                        LogLevel::Info,
                        &format!("vplc: serving {url}"),
                        fields(serde_json::json!({ "url": url })),
                    );
                }
                return;
            }
            RunEvent::Tick(elapsed) => elapsed,
            other => return say(other, args.quiet),
        };
        if let Some(m) = metrics.as_mut() {
            m.update(&running, &counters, &found);
        }
        if args.stats.is_some() {
            *lock(&snapshot) = Figures {
                wall: elapsed,
                frames: counters.iter().map(|n| running.frames_of(n)).collect(),
                objects: found.objects.load(Ordering::Relaxed),
                inferred: found.inferred.load(Ordering::Relaxed),
                dropped: running.dropped_frames(),
            };
        }
        let due = next_progress.is_some_and(|t| elapsed >= t);
        if bar.is_none() && !due {
            return;
        }
        let secs = elapsed.as_secs_f64().max(1e-3);
        let frames: Vec<u64> = counters.iter().map(|c| running.frames_of(c)).collect();
        let mut parts: Vec<String> = frames
            .iter()
            .enumerate()
            .map(|(i, n)| format!("stream {i}: {n} frames, {:.1} fps", *n as f64 / secs))
            .collect();
        let mut share = None;
        if let (Some(Some(total)), Some(position)) = (durations.first(), running.position_ns())
            && *total > 0
        {
            let pct = 100.0 * position as f64 / *total as f64;
            share = Some(pct);
            parts.push(format!("{pct:.0}% of the file"));
        }
        if let Some(bar) = &bar {
            bar.set_message(parts.join(" · "));
            bar.tick();
            return;
        }
        if let (Some(at), Some(every)) = (next_progress.as_mut(), progress_every) {
            while *at <= elapsed {
                *at += every;
            }
        }
        let objects = found.objects.load(Ordering::Relaxed);
        crate::log::line(
            LogLevel::Info,
            &format!(
                "vplc: progress {:.0} s: {}; {objects} objects",
                elapsed.as_secs_f64(),
                parts.join(", ")
            ),
            fields(serde_json::json!({
                "progress": true,
                "elapsed_s": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
                "frames": frames,
                "fps": frames.iter().map(|n| ((*n as f64 / secs) * 10.0).round() / 10.0).collect::<Vec<_>>(),
                "objects": objects,
                "file_percent": share.map(|p| p.round()),
            })),
        );
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let figures = Figures {
        wall: running.wall(),
        frames: counters
            .iter()
            .map(|name| {
                let n = running.frames_of(name);
                args.max_frames.map_or(n, |m| n.min(m))
            })
            .collect(),
        objects: found.objects.load(Ordering::Relaxed),
        inferred: found.inferred.load(Ordering::Relaxed),
        dropped: running.dropped_frames(),
    };
    let (mut exit, mut status) = match &result {
        Ok(Ending::Eos) => ("eos", OK),
        Ok(Ending::MaxFrames) => ("max-frames", OK),
        Ok(Ending::Interrupted) => ("interrupted", INTERRUPTED),
        Err(_) => ("error", RUNTIME_ERROR),
    };
    if let Err(e) = &result {
        report(&sources, c.file, e);
    }
    if !args.quiet {
        let per_stream: Vec<String> = figures
            .frames
            .iter()
            .zip(figures.fps())
            .map(|(n, f)| format!("{n} frames at {f:.1} fps"))
            .collect();
        let dropped = match figures.dropped {
            0 => String::new(),
            n => format!("; {n} frames of live streams dropped (the pipeline fell behind)"),
        };
        crate::log::line(
            LogLevel::Info,
            &format!(
                "vplc: pipeline {} finished ({exit}) in {:.1} s: {}; {} objects{dropped}",
                plan.pipeline,
                figures.wall.as_secs_f64(),
                per_stream.join(", "),
                figures.objects
            ),
            fields(serde_json::json!({
                "pipeline": plan.pipeline,
                "exit": exit,
                "wall_s": figures.wall.as_secs_f64(),
                "frames": figures.frames,
                "objects": figures.objects,
            })),
        );
    }
    // Every output is finished: what is left is the brokers' acknowledgements, waited for
    // all sinks at once; a signal now only ends that wait.
    interrupt.outputs_finished();
    let signals = interrupt.received();
    let cut = vpl_runtime::brokers::finish(
        vpl_runtime::brokers::DRAIN_TIMEOUT,
        &|| interrupt.received() > signals,
        &mut |event| say(event, args.quiet),
    );
    if cut && status == OK {
        (exit, status) = ("interrupted", INTERRUPTED);
    }
    let brokers = broker_stats();
    say_undelivered(&brokers);
    if status == OK {
        for b in brokers.iter().filter(|b| b.delivered == 0 && b.lost() > 0) {
            crate::log::error(format!(
                "vplc: {} {} ({}) delivered none of its {} messages: exit status {UNDELIVERED}",
                b.protocol,
                b.url,
                b.topic,
                b.lost()
            ));
            status = UNDELIVERED;
        }
    }
    if let Some(path) = &args.stats {
        let text = stats_text(&plan.pipeline, &figures, brokers, exit);
        let written = match lock(&stats_file).as_mut() {
            Some(out) => out.write(&text),
            None => Ok(()),
        };
        if let Err(e) = written {
            crate::log::error(format!(
                "vplc: cannot write the statistics to {}: {e}",
                path.display()
            ));
            return status.max(CANNOT_RUN);
        }
    }
    status
}

/// Says what the run tells as it goes (warnings, notes, the wait for the brokers).
fn say(event: RunEvent, quiet: bool) {
    match event {
        RunEvent::Warning { element, text } => {
            crate::log::warn(format!("vplc: warning from {element}: {text}"))
        }
        RunEvent::Note { element, text } => crate::log::info(format!("vplc: {element}: {text}")),
        RunEvent::Broker(text) => crate::log::warn(format!("vplc: warning: {text}")),
        RunEvent::WaitingForBrokers(n) if !quiet => crate::log::info(format!(
            "vplc: waiting up to {} s for the brokers to acknowledge {n} messages (Ctrl-C stops waiting)",
            vpl_runtime::brokers::DRAIN_TIMEOUT.as_secs()
        )),
        RunEvent::WaitingForBrokers(_) | RunEvent::Playing | RunEvent::Tick(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::debug_help;

    #[test]
    fn help_lines_show_no_source_paths() {
        let only_location = "runtime/src/elements/infer/imp.rs(324): transform_ip (): \
                             /GstPipeline:pipeline0/VplInfer:n3_infer";
        assert_eq!(debug_help(only_location), None);
        let with_text = "../gst/isomp4/qtdemux.c(7480): gst_qtdemux_process_adapter (): \
                         /GstPipeline:pipeline0/GstQTDemux:n1_demux\nno 'moov' atom within the first 10 MB";
        assert_eq!(
            debug_help(with_text).as_deref(),
            Some("no 'moov' atom within the first 10 MB")
        );
        assert_eq!(
            debug_help("a plain reason").as_deref(),
            Some("a plain reason")
        );
        assert_eq!(debug_help(""), None);
    }
}
