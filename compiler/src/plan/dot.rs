//! The plan as a Graphviz graph.

use std::fmt::Write;

use super::Plan;

impl Plan {
    /// The plan as a Graphviz graph.
    pub fn dot(&self) -> String {
        let mut out = format!(
            "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=monospace];\n",
            self.pipeline
        );
        // A pool's slot is a box around the elements it alone owns.
        let mut in_slot = std::collections::HashSet::new();
        for pool in &self.pools {
            for slot in &pool.slots {
                let _ = writeln!(
                    out,
                    "  subgraph \"cluster_{}_{}\" {{\n    label=\"pool {} slot {}\";",
                    pool.name, slot.index, pool.name, slot.index
                );
                for name in &slot.elements {
                    if let Some(e) = self.elements.iter().find(|e| &e.name == name) {
                        in_slot.insert(name.as_str());
                        let _ = writeln!(
                            out,
                            "    \"{}\" [label=\"{}\\n{}\"];",
                            e.name, e.factory, e.name
                        );
                    }
                }
                out.push_str("  }\n");
            }
        }
        for e in self
            .elements
            .iter()
            .filter(|e| !in_slot.contains(e.name.as_str()))
        {
            let _ = writeln!(
                out,
                "  \"{}\" [label=\"{}\\n{}\"];",
                e.name, e.factory, e.name
            );
        }
        for l in &self.links {
            let style = if l.dynamic { " [style=dashed]" } else { "" };
            let _ = writeln!(out, "  \"{}\" -> \"{}\"{style};", l.from, l.to);
        }
        out.push_str("}\n");
        out
    }
}
