//! A model's labels: those the declaration gives (`labels: [...]` or a labels file), else
//! those the model carries in its ONNX metadata (Ultralytics writes `names` as a Python
//! dict literal, `{0: 'person', 1: 'car'}`, read here into the class names in class
//! order), else `class0, class1, …`; checked against the classes the decoder read (E0305,
//! E0311, W0303).

use super::input::InputError;
use super::{Decl, LabelsFrom, ModelKind, all_outputs, shape_text};
use crate::check::errors::TypeError;
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{FactError, ModelFacts, TensorFacts};
use crate::hir::Value;
use crate::host::normalize;
use crate::source::FileId;
use crate::stage::Decoder;
use crate::syntax::Span;
use crate::types::Labels;

/// What is wrong with a model's labels (E0305, E0311, W0303).
#[derive(Debug, Clone, PartialEq)]
pub enum LabelError {
    LabelCount {
        span: Span,
        labels: usize,
        classes: i64,
        output: String,
        /// Every output with its shape, when the model has several.
        outputs: Option<String>,
    },
    /// The model's `names` metadata does not name each of its classes once.
    MetadataLabelCount {
        span: Span,
        names: usize,
        classes: i64,
        output: String,
    },
    /// The model's `names` metadata does not parse as Ultralytics' dict of names (W0303).
    MetadataNamesUnread {
        span: Span,
        /// The entry as the file has it.
        text: String,
        classes: i64,
    },
}

/// The labels the declaration gives, and the `labels:` argument's span.
pub(super) struct Declared {
    pub labels: Option<Vec<String>>,
    pub span: Span,
}

/// The labels `labels:` gives: a list, or a file of one label a line. A labels file that
/// cannot be read (not UTF-8 text, say) is E0109: it must not turn silently into
/// `class0, class1, …`.
pub(super) fn declared(d: &Decl, errors: &mut Vec<TypeError>) -> Option<Declared> {
    let arg = d.call.bound("labels")?;
    let labels = match &arg.value {
        Value::List(items) if arg.given => Some(
            items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
        ),
        Value::String(file) => {
            let labels_path = normalize(&d.dir.join(file));
            match d.host.read_labels(&labels_path) {
                Ok(labels) => Some(labels),
                Err(FactError::Unavailable(_)) => None,
                // Not there when names were resolved: E0109 already.
                Err(_) if d.host.check_file(&labels_path).is_err() => None,
                Err(e) => {
                    errors.push(TypeError::Input(InputError::Unreadable {
                        span: arg.span,
                        path: file.clone(),
                        what: "labels file",
                        reason: match e {
                            FactError::Unreadable(r) | FactError::Invalid(r) => r,
                            _ => "it is gone".into(),
                        },
                    }));
                    None
                }
            }
        }
        _ => None,
    };
    Some(Declared {
        labels,
        span: arg.span,
    })
}

/// The model's labels and where they come from, checked against the classes of `kind`
/// (a recogniser's classes are its alphabet's: not checked here). Without `labels:`, the
/// model's own names, if they are one a class; a text detector's one class is "text".
pub(super) fn labels(
    d: &Decl,
    facts: &ModelFacts,
    declared: Declared,
    kind: &ModelKind,
    output: &TensorFacts,
    ok: &mut bool,
    errors: &mut Vec<TypeError>,
) -> (Labels, LabelsFrom) {
    let classes = match kind {
        ModelKind::Detector { classes } | ModelKind::Classifier { classes } => *classes,
        ModelKind::Recognizer { .. } | ModelKind::Raw => None,
    };
    let output_text = format!("`{}` {}", output.name, shape_text(output));
    let labels = match declared.labels {
        None if d.kind == Decoder::TextBoxes => Some(vec!["text".to_string()]),
        labels => labels,
    };
    if let (Some(labels), Some(classes)) = (&labels, classes)
        && labels.len() as i64 != classes
    {
        errors.push(TypeError::Labels(LabelError::LabelCount {
            span: declared.span,
            labels: labels.len(),
            classes,
            output: output_text.clone(),
            outputs: all_outputs(facts),
        }));
    }
    let metadata = match names_entry(facts) {
        Some(Ok(names)) if labels.is_none() => Some(names),
        // A `names` entry that does not parse would leave `class0, class1, …` in silence.
        Some(Err(text)) if labels.is_none() && classes.is_some() => {
            errors.push(TypeError::Labels(LabelError::MetadataNamesUnread {
                span: d.path_span,
                text,
                classes: classes.unwrap_or(0),
            }));
            None
        }
        _ => None,
    };
    if let (Some(names), Some(classes)) = (&metadata, classes)
        && names.len() as i64 != classes
    {
        errors.push(TypeError::Labels(LabelError::MetadataLabelCount {
            span: d.path_span,
            names: names.len(),
            classes,
            output: output_text,
        }));
        *ok = false;
    }
    let labels_from = match (&labels, &metadata) {
        (Some(_), _) => LabelsFrom::Declared,
        (None, Some(_)) => LabelsFrom::Metadata,
        (None, None) => LabelsFrom::Numbered,
    };
    let labels = labels.or(metadata).unwrap_or_else(|| {
        (0..classes.unwrap_or(0))
            .map(|i| format!("class{i}"))
            .collect()
    });
    (Labels::from(labels), labels_from)
}

/// The class names of the model's `names` metadata; `None` when it has none, or when it
/// is not a dict of the classes 0..n (each once) to quoted names.
pub fn ultralytics_names(facts: &ModelFacts) -> Option<Vec<String>> {
    names_entry(facts)?.ok()
}

/// The model's `names` metadata: `None` when it has none, `Err(text)` (the entry as
/// written) when it does not parse as names (W0303: the classes would be numbered
/// without a word).
pub fn names_entry(facts: &ModelFacts) -> Option<Result<Vec<String>, String>> {
    let (_, text) = facts.metadata.iter().find(|(k, _)| k == "names")?;
    Some(parse_names(text).ok_or_else(|| text.clone()))
}

/// `{0: 'person', 1: "it's", 2: 'a, b'}` → `["person", "it's", "a, b"]`.
pub fn parse_names(text: &str) -> Option<Vec<String>> {
    let mut rest = text.trim().strip_prefix('{')?.trim_start();
    let mut entries: Vec<(usize, String)> = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            if !after.trim().is_empty() {
                return None;
            }
            break;
        }
        let colon = rest.find(':')?;
        let key: usize = rest[..colon].trim().parse().ok()?;
        let (name, after) = quoted(rest[colon + 1..].trim_start())?;
        entries.push((key, name));
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.starts_with('}') {
            return None;
        }
    }
    entries.sort_by_key(|(k, _)| *k);
    let in_order = entries.iter().enumerate().all(|(i, (k, _))| i == *k);
    (in_order && !entries.is_empty()).then(|| entries.into_iter().map(|(_, n)| n).collect())
}

/// A Python string literal at the start of `text` (`'…'` or `"…"`, backslash escapes),
/// and the text after it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let mut name = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => name.push(chars.next()?.1),
            c if c == quote => return Some((name, &text[i + 1..])),
            c => name.push(c),
        }
    }
    None
}

impl LabelError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            LabelError::LabelCount {
                span,
                labels,
                classes,
                output,
                outputs,
            } => {
                let d = Diagnostic::new(
                    Code::E0305,
                    file,
                    *span,
                    format!("{labels} labels for a model that outputs {classes} classes"),
                )
                .with_primary_label(format!("{labels} labels"));
                match outputs {
                    None => d.with_help(format!("the output {output} has {classes} classes: give exactly {classes} labels, in class order")),
                    Some(all) => d.with_help(format!("the decoder reads the output {output}, which has {classes} classes: give exactly {classes} labels, in class order, or choose another output with `output: \"NAME\"` (the model's outputs: {all})")),
                }
            }
            LabelError::MetadataLabelCount {
                span,
                names,
                classes,
                output,
            } => Diagnostic::new(
                Code::E0311,
                file,
                *span,
                format!("the model's `names` metadata has {names} labels but its output {output} has {classes} classes"),
            )
            .with_primary_label(format!("{names} names in the file's metadata"))
            .with_help(format!("vpl takes a model's labels from its metadata when `labels:` is not given, but these do not fit; give the {classes} labels with `labels:`, in class order")),
            LabelError::MetadataNamesUnread { span, text, classes } => Diagnostic::new(
                Code::W0303,
                file,
                *span,
                format!("the model's `names` metadata cannot be read as class names: {}", metadata_excerpt(text)),
            )
            .with_primary_label(format!("its {classes} classes are named `class0` to `class{}`", classes - 1))
            .with_help("vpl reads `names` as Ultralytics writes it, a dict of the classes 0 to n - 1 in order to quoted names (`{0: 'person', 1: 'car'}`); give the labels with `labels:`, in class order, or fix the metadata"),
        }
    }
}

/// A metadata entry as it is shown in a message: quoted, on one line, at most 120
/// characters (an entry may be long, or hold line ends).
fn metadata_excerpt(text: &str) -> String {
    const MOST: usize = 120;
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut shown: String = one_line.chars().take(MOST).collect();
    if one_line.chars().count() > MOST {
        shown.push('…');
    }
    format!("`{shown}`")
}

#[cfg(test)]
mod tests {
    use super::parse_names;

    #[test]
    fn ultralytics_names_in_class_order() {
        assert_eq!(
            parse_names("{0: 'person', 1: 'fallen'}"),
            Some(vec!["person".into(), "fallen".into()])
        );
        assert_eq!(
            parse_names(r#"{1: "it's", 0: 'a, b: c', 2: 'x\'y'}"#),
            Some(vec!["a, b: c".into(), "it's".into(), "x'y".into()])
        );
    }

    #[test]
    fn anything_else_is_not_names() {
        for text in [
            "",
            "{}",
            "['a', 'b']",
            "{0: 'a', 2: 'c'}",
            "{0: 'a', 0: 'b'}",
            "{0: a}",
            "{0: 'a'",
            "{0: 'a'} extra",
            "{x: 'a'}",
        ] {
            assert_eq!(parse_names(text), None, "{text}");
        }
    }
}
