//! Rules about where outputs go: two `rtsp_out` of one pipeline on the same port share one
//! server, each at its own path; the same port and path twice would serve two streams at one
//! address (E0209).

use std::collections::HashMap;

use super::errors::TypeError;
use crate::hir::{self, Flow};
use crate::syntax::ast::Role;

/// Checks every pipeline's outputs; errors are pushed to `errors`.
pub fn check(program: &hir::Program, errors: &mut Vec<TypeError>) {
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
            if call.role == Role::Sink && call.name == "rtsp_out" {
                out.push(call);
            }
        }
        Flow::List { items, .. } => items.iter().for_each(|i| rtsp_outs(i, out)),
        Flow::Ascribed { input, .. } => rtsp_outs(input, out),
        Flow::Source { .. } | Flow::Stream { .. } => {}
    }
}
