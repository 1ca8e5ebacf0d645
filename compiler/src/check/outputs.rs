//! Rules about where outputs go: two `rtsp_out` of one pipeline on the same port share one
//! server, each at its own path; the same port and path twice would serve two streams at one
//! address (E0209). A file sink may not write a file the program reads (a source, a model,
//! labels) nor one another sink writes (E0210), compared on canonical paths.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::errors::TypeError;
use crate::hir::{self, Flow, Value};
use crate::host::{Host, normalize};
use crate::span::Span;
use crate::stage::{Sink, Source, StageKind};
use crate::syntax::ast::Role;

/// Checks every pipeline's outputs; errors are pushed to `errors`.
pub fn check(program: &hir::Program, host: &dyn Host, dir: &Path, errors: &mut Vec<TypeError>) {
    rtsp_addresses(program, errors);
    overwrites(program, host, dir, errors);
}

/// Files the models read: every pipeline may read them.
fn model_inputs(program: &hir::Program) -> Vec<(String, Span)> {
    let mut inputs = Vec::new();
    for m in &program.models {
        if let Some(path) = m.call.string("path") {
            inputs.push((path.to_string(), m.call.span));
        }
        if let Some(arg) = m.call.bound("labels")
            && let Value::String(path) = &arg.value
        {
            inputs.push((path.clone(), arg.span));
        }
    }
    inputs
}

fn overwrites(program: &hir::Program, host: &dyn Host, dir: &Path, errors: &mut Vec<TypeError>) {
    let canonical = |path: &str| -> PathBuf { host.canonical(&normalize(&dir.join(path))) };
    let models = model_inputs(program);
    for pipeline in &program.pipelines {
        let mut calls = Vec::new();
        for flow in pipeline
            .lets
            .iter()
            .map(|l| &l.flow)
            .chain(pipeline.flows.iter().map(|f| &f.flow))
        {
            calls_of(flow, &mut calls);
        }
        let mut read: Vec<(PathBuf, Span)> = models
            .iter()
            .map(|(path, span)| (canonical(path), *span))
            .collect();
        for call in &calls {
            if call.kind == StageKind::Source(Source::File)
                && let Some(path) = call.string("path")
            {
                read.push((canonical(path), call.span));
            }
        }
        let mut written: HashMap<PathBuf, Span> = HashMap::new();
        for call in &calls {
            if call.kind != StageKind::Sink(Sink::File) {
                continue;
            }
            let Some(path) = call.string("path") else {
                continue;
            };
            let target = canonical(path);
            if let Some((_, other)) = read.iter().find(|(p, _)| *p == target) {
                errors.push(TypeError::OutputOverwrites {
                    span: call.span,
                    other: *other,
                    path: path.to_string(),
                    other_is: "read here",
                });
            } else if let Some(other) = written.get(&target) {
                errors.push(TypeError::OutputOverwrites {
                    span: call.span,
                    other: *other,
                    path: path.to_string(),
                    other_is: "written by this sink",
                });
            } else {
                written.insert(target, call.span);
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
                Some(first) => errors.push(TypeError::SameRtspAddress {
                    span: call.span,
                    first: first.span,
                    port,
                    path,
                }),
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
