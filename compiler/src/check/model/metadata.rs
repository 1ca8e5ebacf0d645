//! Labels a model carries in its ONNX metadata: Ultralytics writes `names` as a Python
//! dict literal, `{0: 'person', 1: 'car'}`. Read here into the class names, in class
//! order, for a model declared without `labels:` (checked against its classes: E0311).

use crate::facts::ModelFacts;

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
