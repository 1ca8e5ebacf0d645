//! GLib key-file text (DeepStream's INI configs) → groups of `key=value` entries, each with
//! its line and byte ranges, so every finding can point at the key that caused it.
//!
//! Hand-written: the INI crates in the dependency tree keep no positions, and GLib's format
//! is small (`[group]`, `key=value`, `#` comments, `;`-separated lists).

use crate::span::Span;

/// One `key=value` line.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: String,
    /// 1-based line number.
    pub line: usize,
    pub key_span: Span,
    pub value_span: Span,
}

impl Entry {
    /// The whole `key=value` text.
    pub fn span(&self) -> Span {
        self.key_span.to(self.value_span)
    }
}

/// A `[group]` and its entries, in file order.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub line: usize,
    pub span: Span,
    pub entries: Vec<usize>,
}

/// A line that is neither a comment, a group header nor `key=value`.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub line: usize,
    pub span: Span,
    pub why: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Ini {
    pub entries: Vec<Entry>,
    pub groups: Vec<Group>,
    pub malformed: Vec<Malformed>,
}

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut current: Option<usize> = None;
        let mut offset = 0;
        for (index, raw) in text.split_inclusive('\n').enumerate() {
            let line = index + 1;
            let start = offset;
            offset += raw.len();
            let content = raw.trim_end_matches(['\n', '\r']);
            let lead = content.len() - content.trim_start().len();
            let trimmed = content.trim();
            let at = start + lead;
            let here = Span::new(at, at + trimmed.len());
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                match rest.strip_suffix(']') {
                    Some(name) => {
                        let name = name.trim().to_string();
                        current = Some(match ini.groups.iter().position(|g| g.name == name) {
                            // GLib merges a group written twice.
                            Some(existing) => existing,
                            None => {
                                ini.groups.push(Group {
                                    name,
                                    line,
                                    span: here,
                                    entries: Vec::new(),
                                });
                                ini.groups.len() - 1
                            }
                        });
                    }
                    None => ini.malformed.push(Malformed {
                        line,
                        span: here,
                        why: "a group header that does not end with `]`",
                    }),
                }
                continue;
            }
            let Some(eq) = trimmed.find('=') else {
                ini.malformed.push(Malformed {
                    line,
                    span: here,
                    why: "neither `[group]`, `key=value` nor a `#` comment",
                });
                continue;
            };
            let Some(group) = current else {
                ini.malformed.push(Malformed {
                    line,
                    span: here,
                    why: "a key before the first `[group]`",
                });
                continue;
            };
            let key_text = &trimmed[..eq];
            let key = key_text.trim_end();
            let value_raw = &trimmed[eq + 1..];
            let value_lead = value_raw.len() - value_raw.trim_start().len();
            let value = value_raw.trim();
            let value_at = at + eq + 1 + value_lead;
            ini.push_entry(group, key, value, line, at, value_at);
        }
        ini
    }

    /// Adds `key` = `value` of line `line` to group `group`: the key starts at byte `at`
    /// of the file, the value at `value_at`.
    pub(super) fn push_entry(
        &mut self,
        group: usize,
        key: &str,
        value: &str,
        line: usize,
        at: usize,
        value_at: usize,
    ) {
        self.entries.push(Entry {
            key: key.to_string(),
            value: value.to_string(),
            line,
            key_span: Span::new(at, at + key.len()),
            value_span: Span::new(value_at, value_at + value.len()),
        });
        let id = self.entries.len() - 1;
        self.groups[group].entries.push(id);
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The last entry of `key` in the group (GLib's reading), as its index.
    pub fn find(&self, group: &Group, key: &str) -> Option<usize> {
        group
            .entries
            .iter()
            .rev()
            .copied()
            .find(|&e| self.entries[e].key == key)
    }
}

/// A `;`-separated list, empty items (a trailing `;`) left out.
pub fn list(value: &str) -> Vec<&str> {
    value
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_spans() {
        let text = "# c\n[property]\n  gpu-id = 0\nbatch-size=4\n\n[class-attrs-all]\ntopk=300\nnot a key\n";
        let ini = Ini::parse(text);
        assert_eq!(ini.groups.len(), 2);
        let e = &ini.entries[0];
        assert_eq!(
            (e.key.as_str(), e.value.as_str(), e.line),
            ("gpu-id", "0", 3)
        );
        assert_eq!(&text[e.key_span.range()], "gpu-id");
        assert_eq!(&text[e.value_span.range()], "0");
        assert_eq!(ini.entries[1].line, 4);
        assert_eq!(ini.malformed.len(), 1);
        assert_eq!(ini.malformed[0].line, 8);
        assert_eq!(list("1;1;1;1;"), vec!["1", "1", "1", "1"]);
    }
}
