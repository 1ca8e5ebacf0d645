//! What the plan says about pools (`pool(max: N) : video<…>`): each pool is lowered to
//! `max` pre-built slots, every slot a whole chain of elements headed by a `vplslot`
//! element. The runtime binds an admitted stream to a free slot and drains only that slot
//! when the stream leaves; nothing is linked or unlinked while the pipeline plays.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{Element, Plan, Prop};
use crate::ir::{Graph, NodeId, NodeKind, SourceKind};
use crate::types::Ty;

/// The stream type a pool declares, the one every admitted stream must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolType {
    /// vpl's codec name: `h264` or `h265`.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Frames per second as a fraction.
    pub rate: (u32, u32),
}

/// One pool of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolPlan {
    /// The name the program binds the pool to (`let cams = pool(…)`): the pool's name in
    /// the control API (`POST /v1/pools/cams/streams`).
    pub name: String,
    pub max: usize,
    pub ty: PoolType,
    /// The type as `vplc check --types` prints it (`video<h264, 1280x720, 25fps>`).
    pub type_text: String,
    /// The `streams:` file, resolved against the `.vpl` file's folder.
    pub streams_file: Option<PathBuf>,
    /// `max` slots, in order.
    pub slots: Vec<SlotPlan>,
}

/// One pre-built slot of a pool.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotPlan {
    /// Its place in the pool, from 0.
    pub index: usize,
    /// The program's stream index of the slot (records' `stream`, `--stats`' order).
    pub stream: usize,
    /// The `vplslot` element that heads the slot.
    pub head: String,
    /// Every element this slot alone owns, the head first, in plan order. Elements shared
    /// with other slots (a `tile`'s compositor) are not listed.
    pub elements: Vec<String>,
    /// Properties filled in with the admitted stream's id when the slot is bound.
    pub templates: Vec<Template>,
}

/// A string property written with `{stream}` in it, e.g. a file sink's `location`
/// `out/cam_{stream}.mp4`, or a records element's `stream-id` `{stream}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub element: String,
    pub property: String,
    pub text: String,
}

impl Template {
    /// The property's value for the stream `id` (already checked by [`crate::pool`]).
    pub fn fill(&self, id: &str) -> String {
        self.text.replace("{stream}", id)
    }
}

/// Fills `plan.pools` from the graph's slots, once every element is made: each slot's
/// elements are those of the nodes whose streams come from that slot alone.
pub(super) fn fill(g: &Graph, plan: &mut Plan) {
    let sources = upstream_sources(g);
    let mut stream = 0usize;
    for (id, node) in g.live() {
        let NodeKind::Source(source) = &node.kind else {
            continue;
        };
        let here = stream;
        stream += 1;
        let SourceKind::Slot {
            pool,
            slot,
            max,
            streams_file,
        } = source
        else {
            continue;
        };
        let Ty::Video(video) = &node.ty else {
            continue;
        };
        let owned = |n: NodeId| sources.get(&n).is_some_and(|s| s.len() == 1 && s[0] == id);
        let elements: Vec<&Element> = plan.elements.iter().filter(|e| owned(e.node)).collect();
        let head = elements
            .iter()
            .find(|e| e.node == id)
            .map_or_else(String::new, |e| e.name.clone());
        let mut templates = Vec::new();
        for e in &elements {
            for (property, value) in &e.props {
                if let Prop::Str(text) = value
                    && text.contains("{stream}")
                {
                    templates.push(Template {
                        element: e.name.clone(),
                        property: property.clone(),
                        text: text.clone(),
                    });
                }
            }
            if e.factory == "vplrecords" {
                // Records name the stream bound to the slot by its id (`"stream_id"`).
                templates.push(Template {
                    element: e.name.clone(),
                    property: "stream-id".into(),
                    text: "{stream}".into(),
                });
            }
        }
        let slot_plan = SlotPlan {
            index: *slot as usize,
            stream: here,
            head,
            elements: elements.iter().map(|e| e.name.clone()).collect(),
            templates,
        };
        match plan.pools.iter_mut().find(|p| p.name == *pool) {
            Some(p) => p.slots.push(slot_plan),
            None => plan.pools.push(PoolPlan {
                name: pool.clone(),
                max: *max as usize,
                ty: PoolType {
                    codec: video.format.codec().unwrap_or_default().to_string(),
                    width: video.resolution.map_or(0, |r| r.0),
                    height: video.resolution.map_or(0, |r| r.1),
                    rate: video.rate.map_or((0, 1), |(n, d)| (n as u32, d as u32)),
                },
                type_text: video.to_string(),
                streams_file: streams_file.as_ref().map(PathBuf::from),
                slots: vec![slot_plan],
            }),
        }
    }
}

/// The sources each live node's stream is made from, sorted (a `tile` has several).
fn upstream_sources(g: &Graph) -> HashMap<NodeId, Vec<NodeId>> {
    let mut found: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    for id in g.topological().unwrap_or_default() {
        let node = g.node(id);
        let mut sources: Vec<NodeId> = if matches!(node.kind, NodeKind::Source(_)) {
            vec![id]
        } else {
            node.inputs
                .iter()
                .flat_map(|i| found.get(i).cloned().unwrap_or_default())
                .collect()
        };
        sources.sort();
        sources.dedup();
        found.insert(id, sources);
    }
    found
}

impl Plan {
    /// The pools and their slots, for `vplc build --emit plan`: each slot's elements and
    /// the properties filled in with a stream's id; empty without pools.
    pub fn describe_pools(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if self.pools.is_empty() {
            return out;
        }
        out.push_str("pools:\n");
        for pool in &self.pools {
            let _ = write!(out, "  {}: max {}, {}", pool.name, pool.max, pool.type_text);
            if let Some(file) = &pool.streams_file {
                let _ = write!(out, ", streams {}", file.display());
            }
            out.push('\n');
            for slot in &pool.slots {
                let _ = writeln!(
                    out,
                    "    slot {} (stream {}): {}",
                    slot.index,
                    slot.stream,
                    slot.elements.join(" ")
                );
                for t in &slot.templates {
                    let _ = writeln!(out, "      {}.{} = {:?}", t.element, t.property, t.text);
                }
            }
        }
        out
    }
}
