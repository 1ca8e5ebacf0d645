//! Offset → hover text: a stream's type (as `vplc check --types` prints it), a stage's
//! signature and documentation from stdlib/, a parameter's declaration and documentation,
//! a model's tensor signature as read from its ONNX file, a constant's value.

use vpl_compiler::SourceFile;
use vpl_compiler::check::model::LabelsFrom;
use vpl_compiler::stdlib::Builtin;
use vpl_compiler::syntax::ast::{Call, ConstItem, Ident, ModelItem, Pipeline, Role};

use super::locate::{self, Found};
use super::{Analysis, Hover, text};

pub fn hover(file: &SourceFile, analysis: &Analysis, offset: usize) -> Option<Hover> {
    let ast = &analysis.compilation.ast;
    let (ident, markdown) = match locate::find(ast, offset)? {
        Found::LetName { pipeline, stmt } => (&stmt.name, stream(analysis, pipeline, &stmt.name)),
        Found::StreamUse { pipeline, ident } => {
            let stmt = locate::let_of(pipeline, &ident.name, offset)?;
            (ident, stream(analysis, pipeline, &stmt.name))
        }
        Found::CallName { call, role } => (&call.name, stage(locate::builtin(call, role)?)),
        Found::ArgName { call, role, ident } => (ident, parameter(call, role, &ident.name)?),
        Found::ValueName { ident } => {
            let markdown = if let Some(m) = locate::model(ast, &ident.name) {
                model(file, analysis, m)
            } else {
                constant(file, analysis, locate::constant(ast, &ident.name)?)
            };
            (ident, markdown)
        }
        Found::ModelName(m) => (&m.name, model(file, analysis, m)),
        Found::ConstName(c) => (&c.name, constant(file, analysis, c)),
    };
    Some(Hover {
        range: text::range(file, ident.span),
        markdown,
    })
}

fn code(text: &str) -> String {
    format!("```vpl\n{text}\n```")
}

fn with_doc(head: String, doc: Option<&str>) -> String {
    match doc {
        Some(doc) if !doc.trim().is_empty() => format!("{head}\n\n{doc}"),
        _ => head,
    }
}

/// `tracked: video<i420, 768x576, 10fps> + objects[person] + tracks`
fn stream(analysis: &Analysis, pipeline: &Pipeline, name: &Ident) -> String {
    let ty = analysis
        .compilation
        .typed
        .pipelines
        .iter()
        .filter(|p| p.name == pipeline.name.name)
        .flat_map(|p| &p.lets)
        .find(|(_, span, _)| *span == name.span)
        .map_or_else(|| "{unknown}".to_string(), |(_, _, ty)| ty.to_string());
    code(&format!("{}: {ty}", name.name))
}

fn stage(b: &Builtin) -> String {
    with_doc(code(&b.signature()), b.doc.as_deref())
}

fn parameter(call: &Call, role: Role, name: &str) -> Option<String> {
    let b = locate::builtin(call, role)?;
    let (_, p) = b.param(name)?;
    let head = format!(
        "{}\n\nParameter of `{}` ({}).",
        code(&p.text),
        b.name,
        b.role.as_str()
    );
    Some(with_doc(head, p.doc.as_deref()))
}

fn model(file: &SourceFile, analysis: &Analysis, m: &ModelItem) -> String {
    let info = analysis
        .compilation
        .typed
        .models
        .iter()
        .flatten()
        .find(|info| info.name == m.name.name);
    let head = match info {
        Some(info) => {
            let mut text = code(&format!("model {}: {}", m.name.name, info.signature()));
            match info.batch {
                Some(b) => text.push_str(&format!("\n\nBatch dimension fixed at {b}.")),
                None => text.push_str("\n\nDynamic batch dimension."),
            }
            if let Some((w, h)) = info.preprocess.size {
                text.push_str(&format!(" Frames are prepared at {w}x{h}."));
            }
            let from = match info.labels_from {
                LabelsFrom::Declared => "",
                LabelsFrom::Metadata => " (from the model's `names` metadata)",
                LabelsFrom::Numbered => " (numbered: no `labels:` and none in the model)",
            };
            let labels = info.labels.to_vec();
            if !labels.is_empty() {
                const SHOWN: usize = 20;
                let mut shown = labels
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if labels.len() > SHOWN {
                    shown.push_str(&format!(", … ({} in all)", labels.len()));
                }
                text.push_str(&format!("\n\nLabels{from}: {shown}."));
            }
            if info.facts.outputs.len() > 1 {
                let outputs: Vec<String> = info
                    .facts
                    .outputs
                    .iter()
                    .map(|o| format!("`{}`", o.name))
                    .collect();
                text.push_str(&format!("\n\nOutputs: {}; ", outputs.join(", ")));
                match &info.output {
                    Some(name) => match &info.fit.boxes {
                        Some(boxes) => text.push_str(&format!(
                            "the decoder reads `{name}` (scores) and `{boxes}` (boxes)."
                        )),
                        None => text.push_str(&format!("the decoder reads `{name}`.")),
                    },
                    None => text.push_str("`raw` keeps them all."),
                }
            }
            text
        }
        None => format!(
            "{}\n\nThe model file could not be read: see the diagnostics.",
            code(&collapse(file.slice(m.span)))
        ),
    };
    with_doc(head, m.doc.as_deref())
}

/// Its declaration; for a zone or a line, also where it lies, in words.
fn constant(file: &SourceFile, analysis: &Analysis, c: &ConstItem) -> String {
    let mut head = code(&collapse(file.slice(c.span)));
    let shape = analysis
        .compilation
        .program
        .consts
        .iter()
        .find(|k| k.name.name == c.name.name)
        .and_then(|k| match &k.value {
            vpl_compiler::hir::Value::Shape { call, .. } => vpl_compiler::analytics::describe(call),
            _ => None,
        });
    if let Some(words) = shape {
        head.push_str("\n\n");
        head.push_str(&words);
    }
    with_doc(head, c.doc.as_deref())
}

/// A declaration on one line: `model det = onnx("m.onnx", labels: [...]);`
fn collapse(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(", )", ")")
}
