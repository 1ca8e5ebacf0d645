//! Streams admitted into a pool (`pool(max: N, streams: "cameras.yaml") : video<…>`): the
//! entries of a `streams:` file and the requests of `vplc run --control`, both checked by
//! the same rules as a program (the source's parameters against its stdlib declaration,
//! the stream's probed type against the pool's), so a stream that passes runs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where an admitted stream's frames come from, with every parameter filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamSource {
    /// `file://…` or a path, with `file`'s parameters.
    File { path: PathBuf, looping: bool },
    /// `rtsp://…`, with `rtsp`'s parameters.
    Rtsp {
        url: String,
        latency_ns: i64,
        tcp: bool,
        reconnect_ns: i64,
    },
}

/// A stream as a `streams:` file or a control request gives it, before it is checked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// A stream that passed admission.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its id, as given: checked to be safe in a path, so `{stream}` becomes the id itself.
    pub id: String,
    /// The URL as given, for `GET /v1/streams`.
    pub url: String,
    pub source: StreamSource,
}

/// The longest stream id, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Why `id` cannot name a stream, or `None` when it can: an id fills `{stream}` in output
/// paths and broker topics, so only ASCII letters, digits, `_`, `-` and `.` are taken, it
/// does not start with `.` (no `..`, no hidden file) and it is 1 to [`MAX_ID_LEN`] long.
pub fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("a stream id cannot be empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Some(format!(
            "a stream id is at most {MAX_ID_LEN} bytes long; this one is {}",
            id.len()
        ));
    }
    if id.starts_with('.') {
        return Some(format!(
            "the stream id `{}` starts with `.`; it names a file or folder in output paths",
            id.escape_debug()
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Some(format!(
            "the stream id `{}` has `{}`; ids are ASCII letters, digits, `_`, `-` and `.`, so they are safe in output paths",
            id.escape_debug(),
            c.escape_debug()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_leave_a_folder_or_not_print_are_refused() {
        assert_eq!(id_problem("cam-1.front_door"), None);
        for bad in [
            "", "../etc", "a/b", "a\\b", ".hidden", "caméra", "a b", "a\u{7}",
        ] {
            assert!(id_problem(bad).is_some(), "{bad:?} taken");
        }
        assert!(id_problem(&"a".repeat(MAX_ID_LEN)).is_none());
        assert!(id_problem(&"a".repeat(MAX_ID_LEN + 1)).is_some());
    }
}
