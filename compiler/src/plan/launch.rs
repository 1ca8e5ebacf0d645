//! The plan as a gst-launch-1.0 description.

use std::collections::HashMap;
use std::fmt::Write;

use super::{Element, Link, Plan, Prop};

impl Prop {
    fn launch_text(&self) -> String {
        match self {
            Prop::Str(s) | Prop::Caps(s) => {
                if s.is_empty() || s.contains([' ', ',', '!', '"', '\n', '=', ';']) {
                    format!(
                        "\"{}\"",
                        s.replace('\\', "\\\\")
                            .replace('"', "\\\"")
                            .replace('\n', "\\n")
                    )
                } else {
                    s.clone()
                }
            }
            Prop::Int(i) => i.to_string(),
            Prop::UInt(u) => u.to_string(),
            Prop::Float(f) => format!("{f}"),
            Prop::Bool(b) => b.to_string(),
            Prop::Enum(e) => e.clone(),
        }
    }
}

impl Plan {
    /// A gst-launch-1.0 description of the plan. vpl's own elements (`vplinfer`, ...) are
    /// registered inside `vplc`, so only `vplc run` can run a description that uses them.
    pub fn launch_text(&self) -> String {
        let outs = |name: &str| self.links.iter().filter(|l| l.from == name).count();
        let ins = |name: &str| self.links.iter().filter(|l| l.to == name).count();
        let by_name: HashMap<&str, &Element> =
            self.elements.iter().map(|e| (e.name.as_str(), e)).collect();
        // Request pads are named in the order their links are made (`sink_0`, `sink_1`,
        // ...), as the runtime links them: a link whose source carries pad properties (a
        // compositor's cell) names its pad, and the target sets them as `sink_N::key=value`.
        let request_pad = |l: &Link| -> Option<String> {
            let from = by_name.get(l.from.as_str())?;
            if from.pad_props.is_empty() {
                return None;
            }
            let index = self
                .links
                .iter()
                .filter(|o| o.to == l.to)
                .position(|o| std::ptr::eq(o, l))?;
            Some(format!("sink_{index}"))
        };
        let describe = |e: &Element| {
            let mut s = format!("{} name={}", e.factory, e.name);
            for (k, v) in &e.props {
                let _ = write!(s, " {k}={}", v.launch_text());
            }
            for l in self.links.iter().filter(|l| l.to == e.name) {
                let (Some(pad), Some(from)) = (request_pad(l), by_name.get(l.from.as_str())) else {
                    continue;
                };
                for (k, v) in &from.pad_props {
                    let _ = write!(s, " {pad}::{k}={}", v.launch_text());
                }
            }
            s
        };
        let mut segments = Vec::new();
        let mut printed = std::collections::HashSet::new();
        for e in &self.elements {
            let incoming: Vec<&Link> = self.links.iter().filter(|l| l.to == e.name).collect();
            let starts = incoming.is_empty()
                || incoming.len() > 1
                || incoming.iter().any(|l| outs(&l.from) > 1 || l.dynamic);
            if !starts || printed.contains(&e.name) {
                continue;
            }
            let mut seg = String::new();
            if incoming.len() == 1 {
                let _ = write!(seg, "{}. ! ", incoming[0].from);
            }
            let mut current: &Element = e;
            loop {
                printed.insert(current.name.clone());
                seg.push_str(&describe(current));
                let next: Vec<&Link> = self
                    .links
                    .iter()
                    .filter(|l| l.from == current.name)
                    .collect();
                if next.len() != 1 {
                    break;
                }
                let target = next[0].to.as_str();
                if ins(target) > 1 || next[0].dynamic {
                    if ins(target) > 1 {
                        let pad = request_pad(next[0]).unwrap_or_default();
                        let _ = write!(seg, " ! {target}.{pad}");
                    }
                    break;
                }
                match by_name.get(target) {
                    Some(t) => {
                        seg.push_str(" ! ");
                        current = t;
                    }
                    None => break,
                }
            }
            segments.push(seg);
        }
        segments.join("  ")
    }
}
