//! The YAML of DeepStream's tracker configs (`ll-config-file`) → the same groups and
//! entries as the INI files: each top-level `Section:` a group, each `key: value` under it
//! an entry with its line. DeepStream's tracker reads two levels of mappings and nothing
//! else, so this reads those (and skips `%YAML` directives, `---`, `#` comments and list
//! items, which belong to the key above them). No YAML crate is in the dependency tree,
//! and the lock file stays as it is.

use super::ini::{Group, Ini, Malformed};
use crate::span::Span;

pub fn parse(text: &str) -> Ini {
    let mut ini = Ini::default();
    let mut current: Option<usize> = None;
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = index + 1;
        let start = offset;
        offset += raw.len();
        let content = raw.trim_end_matches(['\n', '\r']);
        // A comment starts at `#` after a space (or at the line's start).
        let uncommented = match content.find(" #") {
            Some(at) => &content[..at],
            None if content.trim_start().starts_with('#') => "",
            None => content,
        };
        let indent = uncommented.len() - uncommented.trim_start().len();
        let trimmed = uncommented.trim();
        if trimmed.is_empty()
            || trimmed.starts_with('%')
            || trimmed == "---"
            || trimmed.starts_with("- ")
            || trimmed == "-"
        {
            continue;
        }
        let at = start + indent;
        let here = Span::new(at, at + trimmed.len());
        let Some(colon) = trimmed.find(':') else {
            ini.malformed.push(Malformed {
                line,
                span: here,
                why: "neither `Section:` nor `key: value`",
            });
            continue;
        };
        let key = trimmed[..colon].trim_end();
        let value_raw = &trimmed[colon + 1..];
        let value = value_raw.trim();
        if indent == 0 {
            if !value.is_empty() {
                ini.malformed.push(Malformed {
                    line,
                    span: here,
                    why: "a value outside any section",
                });
                continue;
            }
            ini.groups.push(Group {
                name: key.to_string(),
                line,
                span: Span::new(at, at + key.len()),
                entries: Vec::new(),
            });
            current = Some(ini.groups.len() - 1);
            continue;
        }
        let Some(group) = current else {
            ini.malformed.push(Malformed {
                line,
                span: here,
                why: "a key before the first section",
            });
            continue;
        };
        let value_at = at + colon + 1 + (value_raw.len() - value_raw.trim_start().len());
        ini.push_entry(group, key, value, line, at, value_at);
    }
    ini
}

#[cfg(test)]
mod tests {
    #[test]
    fn sections_and_keys_with_lines() {
        let text = "%YAML:1.0\n# c\nBaseConfig:\n  minDetectorConfidence: 0   # why\nTargetManagement:\n  maxShadowTrackingAge: 30\n";
        let ini = super::parse(text);
        assert_eq!(ini.groups.len(), 2);
        assert_eq!(ini.entries[0].key, "minDetectorConfidence");
        assert_eq!(ini.entries[0].value, "0");
        assert_eq!(ini.entries[1].line, 6);
        assert_eq!(&text[ini.entries[1].value_span.range()], "30");
    }
}
