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
        for e in &self.elements {
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
