//! Rules about where outputs go: two `rtsp_out` of one pipeline on the same port share one
//! server, each at its own path; the same port and path twice would serve two streams at one
//! address (E0209). A file sink may not write a file the program reads (a source, a model,
//! labels, a CTC alphabet, SSD anchors) nor one another sink writes (E0210), compared on
//! canonical paths and, where the file exists, on its device and inode (a hard link is the
//! same file under another name). A sink's `{stream}` is expanded for each stream it takes,
//! as lowering does, so `file("cam{stream}.mp4")` over a source `cam0.mp4` is caught.
//! An `hls` sink's output is its directory: the same directory twice, or a directory
//! that is a file the program reads (or any existing file), is E0210 too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::TypedPipeline;
use super::errors::TypeError;
use super::types::Ty;
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::{self, Flow, Value};
use crate::host::{Host, normalize};
use crate::source::FileId;
use crate::span::Span;
use crate::stage::{Sink, Source, StageKind};
use crate::syntax::ast::Role;

/// Where outputs go: an address served twice (E0209), a file written over (E0210).
#[derive(Debug, Clone, PartialEq)]
pub enum OutputError {
    /// Two `rtsp_out` of one pipeline at the same port and path.
    SameRtspAddress {
        span: Span,
        first: Span,
        port: i64,
        path: String,
    },
    /// A sink writes a file the program reads (a source, a model, labels) or another sink
    /// writes (E0210).
    Overwrites {
        span: Span,
        other: Span,
        path: String,
        /// What the other use is: "read by this source", "written by this sink", …
        other_is: &'static str,
    },
    /// `hls(dir)` where `dir` is a file, not a directory (E0210).
    NotADirectory { span: Span, path: String },
}

/// Checks every pipeline's outputs; errors are pushed to `errors`.
pub fn check(
    program: &hir::Program,
    typed: &[TypedPipeline],
    host: &dyn Host,
    dir: &Path,
    errors: &mut Vec<TypeError>,
) {
    rtsp_addresses(program, errors);
    overwrites(program, typed, host, dir, errors);
}

/// A string argument of a call, with its span, when it is given as a string.
fn string_arg<'c>(call: &'c hir::BoundCall, name: &str) -> Option<(&'c str, Span)> {
    match call.bound(name) {
        Some(hir::BoundArg {
            value: Value::String(path),
            span,
            ..
        }) if !path.is_empty() => Some((path, *span)),
        _ => None,
    }
}

/// Files the models read: every pipeline may read them. The model file, its labels file,
/// and its decoder's files (`ctc(alphabet:)`, `ssd(anchors:)`).
fn model_inputs(program: &hir::Program) -> Vec<(String, Span)> {
    let mut inputs = Vec::new();
    for m in &program.models {
        if let Some(path) = m.call.string("path") {
            inputs.push((path.to_string(), m.call.span));
        }
        if let Some((path, span)) = string_arg(&m.call, "labels") {
            inputs.push((path.to_string(), span));
        }
        if let Some(Value::Decoder(decoder)) = m.call.value("decoder") {
            for param in ["alphabet", "anchors"] {
                if let Some((path, span)) = string_arg(decoder, param) {
                    inputs.push((path.to_string(), span));
                }
            }
        }
    }
    inputs
}

/// How a file is known: by device and inode where it exists (hard links are one file),
/// else by its canonical path (an output that does not exist yet).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FileKey {
    Inode(u64, u64),
    Path(PathBuf),
}

/// The paths a file sink writes: one, or one a stream with `{stream}` filled in as
/// lowering fills it (the index of the stream in the list the sink takes; 0 for one).
fn sink_paths(path: &str, input: Option<&Ty>) -> Vec<String> {
    if !path.contains("{stream}") {
        return vec![path.to_string()];
    }
    let streams = match input {
        Some(Ty::List(items)) => items.len(),
        _ => 1,
    };
    (0..streams)
        .map(|i| path.replace("{stream}", &i.to_string()))
        .collect()
}

fn overwrites(
    program: &hir::Program,
    typed: &[TypedPipeline],
    host: &dyn Host,
    dir: &Path,
    errors: &mut Vec<TypeError>,
) {
    let key = |path: &str| -> FileKey {
        let resolved = normalize(&dir.join(path));
        match host.identity(&resolved) {
            Some((dev, ino)) => FileKey::Inode(dev, ino),
            None => FileKey::Path(host.canonical(&resolved)),
        }
    };
    let models = model_inputs(program);
    for (index, pipeline) in program.pipelines.iter().enumerate() {
        let mut calls = Vec::new();
        for flow in pipeline
            .lets
            .iter()
            .map(|l| &l.flow)
            .chain(pipeline.flows.iter().map(|f| &f.flow))
        {
            calls_of(flow, &mut calls);
        }
        // A path with a NUL byte was refused by name resolution (E0107).
        let usable = |path: &str| !path.contains('\0');
        let mut read: Vec<(FileKey, Span)> = models
            .iter()
            .filter(|(path, _)| usable(path))
            .map(|(path, span)| (key(path), *span))
            .collect();
        for call in &calls {
            // `replay` reads its records (`path`) and its `video`.
            let paths: &[&str] = match call.kind {
                StageKind::Source(Source::File) => &["path"],
                StageKind::Source(Source::Replay) => &["path", "video"],
                _ => &[],
            };
            for path in paths.iter().filter_map(|p| call.string(p)) {
                if usable(path) {
                    read.push((key(path), call.span));
                }
            }
        }
        let mut written: HashMap<FileKey, Span> = HashMap::new();
        for call in &calls {
            // `hls` writes into its directory: the directory is its output.
            let param = match call.kind {
                StageKind::Sink(Sink::File) => "path",
                StageKind::Sink(Sink::Hls) => "dir",
                _ => continue,
            };
            let Some(written_as) = call.string(param).filter(|p| usable(p)) else {
                continue;
            };
            let input = typed
                .get(index)
                .and_then(|t| t.site(call.id))
                .map(|s| &s.input);
            for path in sink_paths(written_as, input) {
                let target = key(&path);
                if let Some((_, other)) = read.iter().find(|(p, _)| *p == target) {
                    errors.push(TypeError::Output(OutputError::Overwrites {
                        span: call.span,
                        other: *other,
                        path,
                        other_is: "read here",
                    }));
                    break;
                } else if let Some(other) = written.get(&target) {
                    errors.push(TypeError::Output(OutputError::Overwrites {
                        span: call.span,
                        other: *other,
                        path,
                        other_is: "written by this sink",
                    }));
                    break;
                } else if param == "dir" && host.check_file(&normalize(&dir.join(&path))).is_ok() {
                    errors.push(TypeError::Output(OutputError::NotADirectory {
                        span: call.span,
                        path,
                    }));
                    break;
                } else {
                    written.insert(target, call.span);
                }
            }
        }
    }
}

/// Every call of a flow, sources first, in the order they are written.
fn calls_of<'f>(flow: &'f Flow, out: &mut Vec<&'f hir::BoundCall>) {
    match flow {
        Flow::Source { call, .. } => out.push(call),
        Flow::Apply { input, call } => {
            calls_of(input, out);
            out.push(call);
        }
        Flow::List { items, .. } => items.iter().for_each(|i| calls_of(i, out)),
        Flow::Ascribed { input, .. } => calls_of(input, out),
        Flow::Stream { .. } => {}
    }
}

fn rtsp_addresses(program: &hir::Program, errors: &mut Vec<TypeError>) {
    for pipeline in &program.pipelines {
        let mut served: HashMap<(i64, String), hir::BoundCall> = HashMap::new();
        let flows = pipeline
            .lets
            .iter()
            .map(|l| &l.flow)
            .chain(pipeline.flows.iter().map(|f| &f.flow));
        let mut outs = Vec::new();
        for flow in flows {
            rtsp_outs(flow, &mut outs);
        }
        for call in outs {
            let (Some(port), Some(path)) = (call.int("port"), call.string("path")) else {
                continue;
            };
            // `live` and `/live` are one mount path.
            let path = format!("/{}", path.trim_start_matches('/'));
            match served.get(&(port, path.clone())) {
                Some(first) => errors.push(TypeError::Output(OutputError::SameRtspAddress {
                    span: call.span,
                    first: first.span,
                    port,
                    path,
                })),
                None => {
                    served.insert((port, path), call.clone());
                }
            }
        }
    }
}

/// The `rtsp_out` sinks of a flow, in the order they are written.
fn rtsp_outs<'f>(flow: &'f Flow, out: &mut Vec<&'f hir::BoundCall>) {
    match flow {
        Flow::Apply { input, call } => {
            rtsp_outs(input, out);
            if call.role == Role::Sink && call.kind == StageKind::Sink(Sink::RtspOut) {
                out.push(call);
            }
        }
        Flow::List { items, .. } => items.iter().for_each(|i| rtsp_outs(i, out)),
        Flow::Ascribed { input, .. } => rtsp_outs(input, out),
        Flow::Source { .. } | Flow::Stream { .. } => {}
    }
}

impl OutputError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            OutputError::SameRtspAddress {
                span,
                first,
                port,
                path,
            } => Diagnostic::new(
                Code::E0209,
                file,
                *span,
                format!("a second stream is served at port {port}, path `{path}`"),
            )
            .with_primary_label("served here again")
            .with_label(file, *first, "the first stream served there")
            .with_help("give each `rtsp_out` its own `path` (several paths share one port) or its own `port`"),
            OutputError::Overwrites {
                span,
                other,
                path,
                other_is,
            } => Diagnostic::new(
                Code::E0210,
                file,
                *span,
                if *other_is == "written by this sink" {
                    format!("two outputs write `{path}`: one would be lost or both mixed")
                } else {
                    format!("this output overwrites `{path}`, which the program reads")
                },
            )
            .with_primary_label(format!("writes `{path}`"))
            .with_label(file, *other, *other_is)
            .with_help("give this output a path of its own"),
            OutputError::NotADirectory { span, path } => Diagnostic::new(
                Code::E0210,
                file,
                *span,
                format!("`hls` writes into the directory `{path}`, but `{path}` is a file"),
            )
            .with_primary_label("a file, not a directory")
            .with_help("give `hls` a directory of its own: one that does not exist yet (it is made when the run starts) or an existing directory"),
        }
    }
}
