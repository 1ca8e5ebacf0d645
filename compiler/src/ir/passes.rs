//! Optimisation passes over a pipeline graph. Each keeps `Graph::validate` true and logs
//! what it did, so `vplc build --emit plan` shows it.

use super::{Graph, NodeId, NodeKind};
use crate::check::{Format, Ty};

/// A pass: its name in `--emit plan`, and what it does to the graph.
type Pass = (&'static str, fn(&mut Graph));

/// Runs every pass in order, validating after each (an invariant broken by a pass is a
/// bug of vpl, reported as such rather than lowered).
pub fn optimise(g: &mut Graph) -> Result<(), String> {
    let passes: [Pass; 5] = [
        ("one-decoder-per-source", dedupe),
        ("drop-redundant-conversions", drop_redundant),
        ("fuse-preprocess", fuse_preprocess),
        ("tees", insert_tees),
        ("queues", insert_queues),
    ];
    g.validate(false)?;
    for (i, (name, pass)) in passes.iter().enumerate() {
        pass(g);
        g.validate(i >= 3)
            .map_err(|e| format!("after pass {name}: {e}"))?;
    }
    Ok(())
}

/// Points every reader of `from` at `to` instead, and removes `from`.
fn replace(g: &mut Graph, from: NodeId, to: NodeId) {
    for node in g.nodes.iter_mut() {
        for input in node.inputs.iter_mut() {
            if *input == from {
                *input = to;
            }
        }
    }
    g.nodes[from.0 as usize].dead = true;
}

/// One source and one decoder per distinct file even when several flows read it:
/// identical sources, and decoders of one source, are merged (a tee is added later).
/// Identical means the same parameters and the same stream type: two `test()` sources
/// that differ only in `resolution` or `rate` (which their kind does not hold) are two.
pub fn dedupe(g: &mut Graph) {
    let mut merged = Vec::new();
    let ids: Vec<NodeId> = g.live().map(|(id, _)| id).collect();
    for (i, a) in ids.iter().enumerate() {
        if g.node(*a).dead || !matches!(g.node(*a).kind, NodeKind::Source(_) | NodeKind::Decode) {
            continue;
        }
        for b in &ids[i + 1..] {
            let (na, nb) = (g.node(*a), g.node(*b));
            if !nb.dead && na.kind == nb.kind && na.inputs == nb.inputs && na.ty == nb.ty {
                merged.push(format!("n{} into n{}", b.0, a.0));
                replace(g, *b, *a);
            }
        }
    }
    g.log.push(if merged.is_empty() {
        "one-decoder-per-source: nothing to merge".to_string()
    } else {
        format!("one-decoder-per-source: merged {}", merged.join(", "))
    });
}

/// A `convert`, `scale` or `rate` to what the stream already is does nothing: removed.
pub fn drop_redundant(g: &mut Graph) {
    let mut dropped = Vec::new();
    let ids: Vec<NodeId> = g.live().map(|(id, _)| id).collect();
    for id in ids {
        let node = g.node(id);
        let Some(&input) = node.inputs.first() else {
            continue;
        };
        let Ty::Video(before) = &g.node(input).ty else {
            continue;
        };
        let redundant = match &node.kind {
            NodeKind::Convert { format } => before.format == Format::Raw(format.clone()),
            NodeKind::Scale { width, height, .. } => before.resolution == Some((*width, *height)),
            NodeKind::Rate { num, den } => before.rate.is_some_and(|(n, d)| n * den == num * d),
            _ => false,
        };
        if redundant {
            dropped.push(format!("n{} {}", id.0, node.kind.name()));
            replace(g, id, input);
        }
    }
    g.log.push(if dropped.is_empty() {
        "drop-redundant-conversions: none".to_string()
    } else {
        format!("drop-redundant-conversions: removed {}", dropped.join(", "))
    });
}

/// Colour conversion, resizing (letterbox or stretch) and normalisation into the model's
/// tensor layout happen in the inference element, in one pass over each frame.
pub fn fuse_preprocess(g: &mut Graph) {
    let mut fused = Vec::new();
    for (i, node) in g.nodes.iter_mut().enumerate() {
        if let (false, NodeKind::Infer(infer)) = (node.dead, &mut node.kind) {
            infer.fused = true;
            fused.push(format!("n{i}"));
        }
    }
    g.log.push(format!(
        "fuse-preprocess: {} (convert + resize + normalise in one pass, no videoconvert ! videoscale)",
        if fused.is_empty() { "no inference".to_string() } else { fused.join(", ") }
    ));
}

/// A stream read by several nodes goes through a tee.
pub fn insert_tees(g: &mut Graph) {
    let mut added = Vec::new();
    let ids: Vec<NodeId> = g.live().map(|(id, _)| id).collect();
    for id in ids {
        let consumers = g.consumers(id);
        // Reads, not readers: a tile of two identical sources, merged by `dedupe`, reads
        // one node twice and needs a tee as much as two readers do.
        let reads: usize = consumers
            .iter()
            .map(|c| g.node(*c).inputs.iter().filter(|i| **i == id).count())
            .sum();
        if reads < 2 {
            continue;
        }
        let ty = g.node(id).ty.clone();
        let span = g.spans[id.0 as usize];
        let tee = g.add(NodeKind::Tee, vec![id], ty, span);
        for c in consumers {
            for input in g.nodes[c.0 as usize].inputs.iter_mut() {
                if *input == id {
                    *input = tee;
                }
            }
        }
        added.push(format!("n{} after n{}", tee.0, id.0));
    }
    g.log.push(if added.is_empty() {
        "tees: none".to_string()
    } else {
        format!("tees: {}", added.join(", "))
    });
}

/// Bounded queues at thread boundaries: after each decoder, before and after inference,
/// and on every branch of a tee, so decoding and inference run in parallel and memory
/// stays bounded when inference is slower than the source.
pub fn insert_queues(g: &mut Graph) {
    const MAX_BUFFERS: u32 = 4;
    let mut added = Vec::new();
    let ids: Vec<NodeId> = g.live().map(|(id, _)| id).collect();
    let mut queue_before =
        |g: &mut Graph, consumer: NodeId, input_index: usize, reason: &'static str| {
            let input = g.node(consumer).inputs[input_index];
            if matches!(g.node(input).kind, NodeKind::Queue { .. }) {
                return;
            }
            let ty = g.node(input).ty.clone();
            let span = g.spans[consumer.0 as usize];
            let q = g.add(
                NodeKind::Queue {
                    max_buffers: MAX_BUFFERS,
                    reason,
                },
                vec![input],
                ty,
                span,
            );
            g.nodes[consumer.0 as usize].inputs[input_index] = q;
            added.push(format!("n{} ({reason})", q.0));
        };
    for id in ids {
        let node = g.node(id).clone();
        match node.kind {
            NodeKind::Infer(_) => {
                queue_before(g, id, 0, "before inference");
                for c in g.consumers(id) {
                    if let Some(i) = g.node(c).inputs.iter().position(|x| *x == id) {
                        queue_before(g, c, i, "after inference");
                    }
                }
            }
            NodeKind::Decode => {
                for c in g.consumers(id) {
                    if let Some(i) = g.node(c).inputs.iter().position(|x| *x == id) {
                        queue_before(g, c, i, "after the decoder");
                    }
                }
            }
            NodeKind::Tee => {
                for c in g.consumers(id) {
                    if let Some(i) = g.node(c).inputs.iter().position(|x| *x == id) {
                        queue_before(g, c, i, "tee branch");
                    }
                }
            }
            NodeKind::Tile { .. } => {
                for i in 0..node.inputs.len() {
                    queue_before(g, id, i, "into the compositor");
                }
            }
            _ => {}
        }
    }
    g.log.push(format!(
        "queues: {} (max {MAX_BUFFERS} buffers each)",
        added.len()
    ));
}
