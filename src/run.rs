//! `vplc run`: compile, lower, build the GStreamer pipeline, run it with progress, and
//! finish cleanly (Ctrl-C sends end-of-stream so files are finalised). Run-time errors are
//! printed as diagnostics at the `.vpl` span of the stage that made the failing element.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use vpl_compiler::ir::{Graph, NodeKind, SinkKind};
use vpl_compiler::plan::{Element, Plan, Prop, Role};
use vpl_compiler::pool::Request;
use vpl_compiler::{Code, Diagnostic, FileId, SourceMap};
use vpl_runtime::pipeline::{self, Ending, Found, RunError, RunEvent, Running};
use vpl_runtime::pool::Pools;

use crate::cli::{Backend, LogLevel, RunArgs};
use crate::commands::{CANNOT_RUN, OK, compile_one};
use crate::control::static_run::StaticRun;
use crate::live::Live;
use crate::signals::Interrupt;
use crate::stats::{
    Figures, StatsOut, all_delivered, broker_stats, lock, say_undelivered, stats_text,
};

/// Exit statuses of `vplc run` (spec section 8).
pub const RUNTIME_ERROR: u8 = 3;
/// The run finished, but a broker sink delivered none of its messages (vpl's addition to
/// spec section 8's statuses).
pub const UNDELIVERED: u8 = 4;
pub const INTERRUPTED: u8 = 130;

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
/// source calls), the element whose output frames are its progress (the plan's
/// [`Role::Progress`]), as [`Running::build`] counts it. Streams merged into one source by
/// the optimiser (the same file read twice) share that source's element, and each still
/// has its entry. `graph` is the one the plan was lowered from: in debug builds, each of
/// its streams must have found its element.
pub fn stream_counters(graph: &Graph, plan: &Plan) -> Vec<String> {
    let counters = counters(plan);
    debug_assert_eq!(
        counters.len(),
        graph
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Source(_))
                && (!n.dead || graph.live().any(|(_, l)| l.kind == n.kind)))
            .count(),
        "a stream without the element of its progress: {counters:?}"
    );
    counters
}

/// [`stream_counters`], from the plan alone.
fn counters(plan: &Plan) -> Vec<String> {
    let mut counters: Vec<(usize, String)> = plan
        .elements
        .iter()
        .filter_map(|e| match &e.role {
            Some(Role::Progress {
                streams, dynamic, ..
            }) => Some(
                streams
                    .iter()
                    .map(|s| (*s, pipeline::counter(&e.name, *dynamic))),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    counters.sort();
    counters.into_iter().map(|(_, name)| name).collect()
}

/// The plan's elements that have a role, with it, in the order of the stages that made
/// them.
fn roles(plan: &Plan) -> Vec<&Role> {
    let mut elements: Vec<_> = plan.elements.iter().filter(|e| e.role.is_some()).collect();
    elements.sort_by_key(|e| e.node.0);
    elements
        .into_iter()
        .filter_map(|e| e.role.as_ref())
        .collect()
}

/// The addresses `rtsp_out` sinks serve at. The server listens on every interface; the
/// address shown is this machine's own name for them, `localhost`.
fn rtsp_urls(plan: &Plan) -> Vec<String> {
    roles(plan)
        .into_iter()
        .filter_map(|role| match role {
            Role::Sink {
                sink: SinkKind::RtspOut { port, path },
                ..
            } => Some(format!(
                "rtsp://localhost:{port}{}{path}",
                if path.starts_with('/') { "" } else { "/" }
            )),
            _ => None,
        })
        .collect()
}

/// The duration of the first stream read from a file, where the probe found one: the
/// progress line gives the share of it played.
fn file_duration(plan: &Plan) -> Option<u64> {
    plan.elements
        .iter()
        .filter_map(|e| match &e.role {
            Some(Role::Progress {
                streams,
                from_file: true,
                duration_ns,
                ..
            }) => Some((streams.first().copied().unwrap_or(usize::MAX), *duration_ns)),
            _ => None,
        })
        .min_by_key(|(stream, _)| *stream)
        .and_then(|(_, duration)| duration)
}

/// The files the run writes, for the message of a second signal.
fn output_names(plan: &Plan) -> Vec<String> {
    roles(plan)
        .into_iter()
        .filter_map(|role| role.output().map(str::to_string))
        .collect()
}

/// A JSON object's members, as a log line's fields.
fn fields(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// Engine settings for every inference element of the plan. `backend` is resolved first
/// (`backend::choose`); an unresolved `Auto` runs on the CPU.
pub fn configure_inference(plan: &mut Plan, backend: Backend, threads: usize, library: &Path) {
    let backend = match backend {
        Backend::Auto | Backend::Cpu => "cpu",
        Backend::Cuda => "cuda",
        Backend::Tensorrt => "tensorrt",
    };
    for e in plan.elements.iter_mut().filter(|e| is_inference(e)) {
        e.props.push(("backend".into(), Prop::Str(backend.into())));
        e.props.push(("threads".into(), Prop::UInt(threads as u64)));
        e.props
            .push(("library".into(), Prop::Str(library.display().to_string())));
    }
}

/// `--latency`: every records sink writes each frame's `latency_ms`.
pub fn configure_latency(plan: &mut Plan) {
    for e in plan
        .elements
        .iter_mut()
        .filter(|e| e.factory == "vplrecords")
    {
        e.props.push(("latency".into(), Prop::Bool(true)));
    }
}

fn is_inference(e: &Element) -> bool {
    matches!(e.role, Some(Role::Inference { .. }))
}

/// `vplc run`: compile and lower, build the pipeline, play it with progress, then wait for
/// the brokers and write the statistics. Returns the exit status.
pub fn run(args: &RunArgs) -> u8 {
    crate::log::init(args.log_level, args.log_format, args.log_timestamps);
    // A control API reachable from other machines without a token: said before anything.
    let token = match control_token(args) {
        Ok(token) => token,
        Err(status) => return status,
    };
    // Listen first: a signal while compiling or starting ends the run as one while playing.
    let interrupt = Interrupt::listen();
    let mut ready = match prepare(args) {
        Ok(ready) => ready,
        Err(status) => return status,
    };
    // `--cameras FILE --shard I/N`: the pool's initial streams, the shard's share of FILE;
    // records say the shard.
    if let Some(shard) = args.shard {
        crate::shard::mark_records(&mut ready.plan, shard);
    }
    let cameras =
        match crate::shard::cameras_for_run(args.cameras.as_deref(), args.shard, &ready.plan) {
            Ok(cameras) => cameras,
            Err(e) => {
                crate::log::error(format!("vplc: {e}"));
                return CANNOT_RUN;
            }
        };
    if let Some(cameras) = &cameras {
        crate::log::debug(format!(
            "{} cameras for shard {}",
            cameras.len(),
            args.shard
                .map_or_else(|| "0/1".to_string(), |s| s.to_string())
        ));
    }
    // `--cameras kafka://…`: the cameras of the partitions the consumer group gives.
    let topic = match crate::shard::kafka::for_run(args.cameras.as_deref(), args.shard, &ready.plan)
    {
        Ok(topic) => topic,
        Err(e) => {
            crate::log::error(format!("vplc: {e}"));
            return CANNOT_RUN;
        }
    };
    let live = match live_pools(args, &interrupt, &ready, cameras) {
        Ok(live) => live,
        Err(status) => return status,
    };
    let member = match (topic, &live) {
        (Some((source, pool)), Some(live)) => {
            let streams: Arc<dyn crate::control::api::Streams> = live.clone();
            match crate::shard::kafka::join(&source, pool, streams, interrupt.requested.clone()) {
                Ok(member) => Some(member),
                Err(e) => {
                    crate::log::error(format!("vplc: {e}"));
                    return CANNOT_RUN;
                }
            }
        }
        _ => None,
    };
    let control = match serve_control(args, token, &interrupt, &ready, live.clone()) {
        Ok(control) => control,
        Err(status) => return status,
    };
    let mut session = match Session::build(args, &ready, live.as_deref()) {
        Ok(session) => session,
        Err(status) => return status,
    };
    if let Ok(mut names) = interrupt.outputs.lock() {
        *names = output_names(&ready.plan);
    }
    let snapshot = last_words(&interrupt, &ready);
    let result = session.play(
        args,
        &ready.plan,
        &interrupt,
        &snapshot,
        control.as_ref(),
        live.as_deref(),
    );
    let mut figures = session.figures(args.max_frames);
    figures.streams = live.as_deref().map(crate::live::Live::admitted);
    // The streams are finished: the partitions go to the other members now.
    figures.cameras = member.map(crate::shard::kafka::Member::finish);
    let (mut exit, mut status) = match &result {
        // `POST /v1/stop`: the end the service was asked for, also where the pipeline's
        // own end-of-stream came first (the shared outputs of a tiled pool, finished).
        Ok(Ending::Eos | Ending::Interrupted) if control.as_ref().is_some_and(|c| c.stopped()) => {
            ("stopped", OK)
        }
        // A run of pools ended by a signal: its tiled outputs' end-of-stream may come first.
        Ok(Ending::Eos) if live.is_some() && interrupt.requested.load(Ordering::SeqCst) => {
            ("interrupted", INTERRUPTED)
        }
        Ok(Ending::Eos) => ("eos", OK),
        Ok(Ending::MaxFrames) => ("max-frames", OK),
        Ok(Ending::Interrupted) => ("interrupted", INTERRUPTED),
        Err(_) => ("error", RUNTIME_ERROR),
    };
    if let Err(e) = &result {
        report(&ready.sources, ready.file, e);
    }
    if !args.quiet {
        say_finished(&ready.plan.pipeline, exit, &figures);
    }
    if wait_for_brokers(args, &interrupt) && status == OK {
        (exit, status) = ("interrupted", INTERRUPTED);
    }
    let brokers = broker_stats();
    say_undelivered(&brokers);
    if status == OK && !all_delivered(&brokers) {
        status = UNDELIVERED;
    }
    let Some(path) = &args.stats else {
        return status;
    };
    let text = stats_text(&ready.plan.pipeline, &figures, brokers, exit);
    let written = match lock(&ready.stats).as_mut() {
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
    status
}

/// A program compiled and lowered for this machine, its outputs' directories made: what
/// the run needs before its pipeline is built.
struct Ready {
    sources: SourceMap,
    file: FileId,
    plan: Plan,
    /// The text the metrics server serves, when `--metrics` asks for one.
    metrics: Option<Arc<Mutex<String>>>,
    /// The `--stats` file, shared with the last words of a second signal.
    stats: Arc<Mutex<Option<StatsOut>>>,
}

/// Compiles, lowers and readies everything that can be refused before anything runs;
/// `Err` is the exit status, the reason said.
fn prepare(args: &RunArgs) -> Result<Ready, u8> {
    let (sources, c, index) = compile_one(&args.file, args.pipeline.as_deref())?;
    // Likewise the metrics address: a port in use is said before anything runs.
    let metrics = serve_metrics(args)?;
    let chosen =
        crate::backend::choose(args.backend, &crate::backend::Machine::probe(args.backend));
    let (_, lowered) = c.lower_for(index, &chosen.target).map_err(|e| {
        crate::log::error(format!(
            "vplc: internal error while lowering (please report it): {e}"
        ));
        CANNOT_RUN
    })?;
    let mut plan = lowered.plan;
    let stats = open_stats(args, &plan, &c)?;
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
    if plan.elements.iter().any(is_inference) {
        let Some(library) = vpl_runtime::engine::find_library_near(&args.file) else {
            crate::log::error(
                "vplc: ONNX Runtime was not found: run scripts/setup.sh, or set VPL_ONNXRUNTIME to the path of libonnxruntime.so",
            );
            return Err(RUNTIME_ERROR);
        };
        configure_inference(&mut plan, chosen.backend, args.threads, &library);
    }
    if args.latency {
        configure_latency(&mut plan);
    }
    if let Err(e) = crate::output::make_directories(&plan) {
        crate::log::error(format!("vplc: {e}"));
        return Err(RUNTIME_ERROR);
    }
    crate::log::debug(format!(
        "vplc: pipeline {}: {} elements, {} links",
        plan.pipeline,
        plan.elements.len(),
        plan.links.len()
    ));
    Ok(Ready {
        sources,
        file: c.file,
        plan,
        metrics,
        stats: Arc::new(Mutex::new(stats)),
    })
}

/// The metrics server of `--metrics`, listening from now on (at the address of
/// `--control`, the control API's listener serves them).
fn serve_metrics(args: &RunArgs) -> Result<Option<Arc<Mutex<String>>>, u8> {
    let Some(addr) = args.metrics else {
        return Ok(None);
    };
    if args.control == Some(addr) {
        return Ok(Some(Arc::default()));
    }
    match crate::metrics::serve(addr) {
        Ok(text) => {
            crate::log::debug(format!("vplc: metrics at http://{addr}/metrics"));
            Ok(Some(text))
        }
        Err(e) => {
            crate::log::error(format!("vplc: cannot serve the metrics at {addr}: {e}"));
            Err(CANNOT_RUN)
        }
    }
}

/// The token of `--control`'s API (`VPL_CONTROL_TOKEN`); a non-loopback address without
/// one is refused.
fn control_token(args: &RunArgs) -> Result<Option<String>, u8> {
    let Some(addr) = args.control else {
        return Ok(None);
    };
    let token = std::env::var(crate::control::auth::TOKEN_VARIABLE).ok();
    crate::control::auth::token_for(addr, token).map_err(|e| {
        crate::log::error(format!("vplc: {e}"));
        CANNOT_RUN
    })
}

/// What the control API drives: a program's pools, or a run with none.
#[derive(Clone)]
enum Control {
    Static(Arc<StaticRun>),
    Live(Arc<Live>),
}

impl Control {
    fn playing(&self) {
        match self {
            Control::Static(run) => run.playing(),
            // The pools' own `playing` binds the `streams:` files' entries (see `play`).
            Control::Live(_) => {}
        }
    }

    /// Whether `POST /v1/stop` asked the run to end.
    fn stopped(&self) -> bool {
        match self {
            Control::Static(run) => run.stopped(),
            Control::Live(live) => live.stopped(),
        }
    }
}

/// The pools of a program that has any: the entries of their `streams:` files admitted
/// now (a stream that does not fit is said, and nothing runs), bound once it plays.
fn live_pools(
    args: &RunArgs,
    interrupt: &Interrupt,
    ready: &Ready,
    cameras: Option<Vec<Request>>,
) -> Result<Option<Arc<Live>>, u8> {
    if ready.plan.pools.is_empty() {
        return Ok(None);
    }
    // `--cameras` (a shard's share of them) stand in for the pool's `streams:` file.
    let initial = match (cameras, &args.cameras) {
        (Some(cameras), Some(file)) => {
            crate::live::camera_entries(&ready.plan.pools, &file.display().to_string(), cameras)
        }
        // `--cameras kafka://…`: admitted as the group assigns their partitions.
        (None, Some(_)) => Ok(Vec::new()),
        _ => crate::live::initial_entries(&ready.plan.pools),
    };
    let initial = initial.map_err(|refusals| {
        for refusal in &refusals {
            say_refusal(refusal);
        }
        CANNOT_RUN
    })?;
    // A request's relative path is relative to the program's directory (docs/live.md).
    let base = match args.file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    Ok(Some(Arc::new(Live::new(
        ready.plan.pools.clone(),
        base,
        interrupt.requested.clone(),
        initial,
        // A member of a camera group runs until stopped, with or without cameras.
        args.control.is_some() || from_kafka(args),
    ))))
}

/// Whether `--cameras` names a Kafka topic.
fn from_kafka(args: &RunArgs) -> bool {
    args.cameras
        .as_deref()
        .is_some_and(|c| crate::shard::kafka::is_kafka(&c.to_string_lossy()))
}

/// A stream of a `streams:` file refused: its diagnostics, one line each, with their help.
fn say_refusal(refusal: &serde_json::Value) {
    if let Some(error) = refusal.get("error").and_then(|e| e.as_str()) {
        crate::log::error(format!("vplc: {error}"));
        return;
    }
    let diagnostics = refusal["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for d in diagnostics {
        let text = |key: &str| {
            d.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let mut line = format!(
            "vplc: {}: error[{}]: {}",
            text("file"),
            text("code"),
            text("message")
        );
        let help = text("help");
        if !help.is_empty() {
            line.push_str(&format!(" (help: {help})"));
        }
        crate::log::error(line);
    }
}

/// The control API of `--control`, listening from now on, before the pipeline is built.
/// A program without pools gets [`StaticRun`]: health, and `POST /v1/stop`.
fn serve_control(
    args: &RunArgs,
    token: Option<String>,
    interrupt: &Interrupt,
    ready: &Ready,
    live: Option<Arc<Live>>,
) -> Result<Option<Control>, u8> {
    let Some(addr) = args.control else {
        return Ok(None);
    };
    let (run, streams): (Control, Arc<dyn crate::control::api::Streams>) = match live {
        Some(live) => (Control::Live(live.clone()), live),
        None => {
            let run = Arc::new(StaticRun::new(interrupt.requested.clone()));
            (Control::Static(run.clone()), run)
        }
    };
    let metrics = ready
        .metrics
        .clone()
        .filter(|_| args.metrics == args.control);
    match crate::control::serve(addr, token, streams, metrics) {
        Ok(bound) => {
            let url = format!("http://{bound}");
            crate::log::line(
                LogLevel::Info,
                &format!("vplc: control API on {url}"),
                fields(serde_json::json!({ "control": url })),
            );
            Ok(Some(run))
        }
        Err(e) => {
            crate::log::error(format!("vplc: cannot serve the control API at {addr}: {e}"));
            Err(CANNOT_RUN)
        }
    }
}

/// The statistics file is opened before anything runs, and not emptied until the
/// statistics are written: a path that cannot be written, or that names a file the program
/// reads or writes, is said now, not after a long run.
fn open_stats(
    args: &RunArgs,
    plan: &Plan,
    c: &vpl_compiler::Compilation,
) -> Result<Option<StatsOut>, u8> {
    let Some(path) = &args.stats else {
        return Ok(None);
    };
    StatsOut::open(path, &args.file, plan, c)
        .map(Some)
        .map_err(|e| {
            crate::log::error(format!(
                "vplc: cannot write the statistics to {}: {e}",
                path.display()
            ));
            CANNOT_RUN
        })
}

/// What a second signal writes before the process ends: the figures so far, kept up to
/// date in the returned snapshot.
fn last_words(interrupt: &Interrupt, ready: &Ready) -> Arc<Mutex<Figures>> {
    let snapshot = Arc::new(Mutex::new(Figures::default()));
    let (figures, stats_file) = (snapshot.clone(), ready.stats.clone());
    let pipeline = ready.plan.pipeline.clone();
    interrupt.set_last_words(move || {
        let brokers = broker_stats();
        say_undelivered(&brokers);
        let mut stats = lock(&stats_file);
        if let Some(out) = stats.as_mut() {
            let text = stats_text(&pipeline, &lock(&figures), brokers, "interrupted");
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
    snapshot
}

/// The pipeline built, and what watches it while it runs.
struct Session {
    running: Running,
    /// Each stream's counter ([`stream_counters`]).
    counters: Vec<String>,
    found: Arc<Found>,
    metrics: Option<crate::metrics::Metrics>,
}

impl Session {
    /// Builds the plan's pipeline; `Err` is the exit status, the error said.
    fn build(args: &RunArgs, ready: &Ready, live: Option<&Live>) -> Result<Session, u8> {
        let counters = counters(&ready.plan);
        let mut counting = counters.clone();
        counting.sort();
        counting.dedup();
        let running = Running::build(&ready.plan, &counting, args.max_frames).map_err(|e| {
            report(&ready.sources, ready.file, &e);
            RUNTIME_ERROR
        })?;
        if let Some(live) = live {
            let pools = Pools::new(&running.pipeline, &ready.plan.pools, running.end_flag())
                .map_err(|e| {
                    report(&ready.sources, ready.file, &RunError::Start(e));
                    RUNTIME_ERROR
                })?;
            live.attach(pools);
        }
        if args.realtime {
            running.pace_sinks();
        }
        for warning in &running.warnings {
            crate::log::warn(format!("vplc: warning: {warning}"));
        }
        let found = running.count_objects();
        if args.latency && ready.metrics.is_none() {
            // The records' `latency_ms` needs the frames stamped at their source, which
            // the metrics do when there are metrics.
            vpl_runtime::metrics::stamp_sources(&running, &counting);
        }
        let mut metrics = ready.metrics.clone().map(|text| {
            crate::metrics::Metrics::new(text, &running, &counters, &ready.plan, &args.file)
        });
        if let Some(m) = metrics.as_mut() {
            if let Some(live) = live {
                let (slots, bound) = live.slots();
                m.set_slots(slots, bound);
            }
            m.update(&running, &counters, &found);
        }
        Ok(Session {
            running,
            counters,
            found,
            metrics,
        })
    }

    /// Plays the pipeline to its end, saying what it tells and showing its progress;
    /// `snapshot` is kept up to date for `--stats`.
    fn play(
        &mut self,
        args: &RunArgs,
        plan: &Plan,
        interrupt: &Interrupt,
        snapshot: &Mutex<Figures>,
        control: Option<&Control>,
        live: Option<&Live>,
    ) -> Result<Ending, RunError> {
        let mut progress = ProgressView::new(args, file_duration(plan));
        let interrupted = interrupt.requested.clone();
        let Session {
            running,
            counters,
            found,
            metrics,
        } = self;
        let result = running.run(&interrupted, |event| match event {
            // Playing: the RTSP servers listen now.
            RunEvent::Playing => {
                if let Some(control) = control {
                    control.playing();
                }
                if let Some(live) = live {
                    live.playing();
                }
                for url in rtsp_urls(plan) {
                    crate::log::line(
                        LogLevel::Info,
                        &format!("vplc: serving {url}"),
                        fields(serde_json::json!({ "url": url })),
                    );
                }
            }
            RunEvent::Tick(elapsed) => {
                if let Some(live) = live {
                    live.watch();
                }
                if let (Some(m), Some(live)) = (metrics.as_mut(), live) {
                    let (slots, bound) = live.slots();
                    m.set_slots(slots, bound);
                }
                if let Some(m) = metrics.as_mut() {
                    m.update(running, counters, found);
                }
                if args.stats.is_some() {
                    *lock(snapshot) = Figures {
                        wall: elapsed,
                        streams: live.map(crate::live::Live::admitted),
                        ..figures_of(running, counters, found)
                    };
                }
                progress.show(elapsed, running, counters, found);
            }
            other => say(other, args.quiet),
        });
        progress.finish();
        result
    }

    /// The run's figures once it has ended; no stream counts more than `max_frames`.
    fn figures(&self, max_frames: Option<u64>) -> Figures {
        let mut figures = figures_of(&self.running, &self.counters, &self.found);
        figures.wall = self.running.wall();
        if let Some(max) = max_frames {
            for n in &mut figures.frames {
                *n = (*n).min(max);
            }
        }
        figures
    }
}

/// The figures of `running` now, but its time.
fn figures_of(running: &Running, counters: &[String], found: &Found) -> Figures {
    Figures {
        wall: Duration::ZERO,
        frames: counters.iter().map(|n| running.frames_of(n)).collect(),
        objects: found.objects.load(Ordering::Relaxed),
        inferred: found.inferred.load(Ordering::Relaxed),
        dropped: running.dropped_frames(),
        streams: None,
        cameras: None,
    }
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

/// How the progress is shown: a spinner on a terminal; where no bar is drawn (a
/// container's log, a file), a line every `--progress-interval`; nothing with `--quiet`.
struct ProgressView {
    bar: Option<ProgressBar>,
    every: Option<Duration>,
    next: Option<Duration>,
    /// The first file's duration: the progress gives the share of it played.
    file_ns: Option<u64>,
}

impl ProgressView {
    fn new(args: &RunArgs, file_ns: Option<u64>) -> ProgressView {
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
        let every = (!args.quiet
            && bar.is_none()
            && (!std::io::stderr().is_terminal() || crate::log::json())
            && args.progress_interval > 0)
            .then(|| Duration::from_secs(args.progress_interval));
        ProgressView {
            bar,
            every,
            next: every,
            file_ns,
        }
    }

    /// At each tick: the bar redrawn, or a line when one is due.
    fn show(&mut self, elapsed: Duration, running: &Running, counters: &[String], found: &Found) {
        let due = self.next.is_some_and(|t| elapsed >= t);
        if self.bar.is_none() && !due {
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
        if let (Some(total), Some(position)) = (self.file_ns, running.position_ns())
            && total > 0
        {
            let pct = 100.0 * position as f64 / total as f64;
            share = Some(pct);
            parts.push(format!("{pct:.0}% of the file"));
        }
        if let Some(bar) = &self.bar {
            bar.set_message(parts.join(" · "));
            bar.tick();
            return;
        }
        if let (Some(at), Some(every)) = (self.next.as_mut(), self.every) {
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
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The line that says how the run ended and what it did.
fn say_finished(pipeline: &str, exit: &str, figures: &Figures) {
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
            "vplc: pipeline {pipeline} finished ({exit}) in {:.1} s: {}; {} objects{dropped}",
            figures.wall.as_secs_f64(),
            per_stream.join(", "),
            figures.objects
        ),
        fields(serde_json::json!({
            "pipeline": pipeline,
            "exit": exit,
            "wall_s": figures.wall.as_secs_f64(),
            "frames": figures.frames,
            "objects": figures.objects,
        })),
    );
}

/// Every output is finished: what is left is the brokers' acknowledgements, waited for
/// all sinks at once; a signal now only ends that wait. Whether a signal cut it short.
fn wait_for_brokers(args: &RunArgs, interrupt: &Interrupt) -> bool {
    interrupt.outputs_finished();
    let signals = interrupt.received();
    vpl_runtime::brokers::finish(
        vpl_runtime::brokers::DRAIN_TIMEOUT,
        &|| interrupt.received() > signals,
        &mut |event| say(event, args.quiet),
    )
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
