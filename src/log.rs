//! What `vplc run` says on standard error, as log lines: a level each (`--log-level`
//! keeps those at or above it) and one of two forms (`--log-format`): `text`, the lines
//! people read (`vplc: warning: …`), with an RFC 3339 time in front with
//! `--log-timestamps`; or `json`, one object a line with `ts`, `level`, `msg` and the
//! line's fields, for log collectors. Other commands never set it up and print text.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use vpl_compiler::diagnostics::render;
use vpl_compiler::{Diagnostic, SourceMap};

use crate::cli::{LogFormat, LogLevel};

struct Config {
    level: LogLevel,
    format: LogFormat,
    timestamps: bool,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// Sets the level and form of every later line (once; later calls change nothing).
pub fn init(level: LogLevel, format: LogFormat, timestamps: bool) {
    let _ = CONFIG.set(Config {
        level,
        format,
        timestamps,
    });
}

fn config() -> &'static Config {
    CONFIG.get_or_init(|| Config {
        level: LogLevel::Info,
        format: LogFormat::Text,
        timestamps: false,
    })
}

/// Whether lines of `level` are shown.
pub fn enabled(level: LogLevel) -> bool {
    level <= config().level
}

/// Whether lines are JSON objects.
pub fn json() -> bool {
    config().format == LogFormat::Json
}

pub fn error(text: impl AsRef<str>) {
    line(LogLevel::Error, text.as_ref(), Map::new());
}

pub fn warn(text: impl AsRef<str>) {
    line(LogLevel::Warn, text.as_ref(), Map::new());
}

pub fn info(text: impl AsRef<str>) {
    line(LogLevel::Info, text.as_ref(), Map::new());
}

pub fn debug(text: impl AsRef<str>) {
    line(LogLevel::Debug, text.as_ref(), Map::new());
}

/// One line at `level`. `text` is the line as people read it (`vplc: warning: …`); in
/// JSON its `msg` drops the `vplc: ` and `warning: ` or `note: ` in front, and `fields`
/// are added beside it.
pub fn line(level: LogLevel, text: &str, fields: Map<String, Value>) {
    if !enabled(level) {
        return;
    }
    let out = match config().format {
        LogFormat::Text if config().timestamps => format!("{} {text}\n", timestamp_now()),
        LogFormat::Text => format!("{text}\n"),
        LogFormat::Json => json_line(level, text, fields),
    };
    // Standard error that cannot be written has nowhere to say so.
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

fn json_line(level: LogLevel, text: &str, fields: Map<String, Value>) -> String {
    let msg = text.strip_prefix("vplc: ").unwrap_or(text);
    let msg = ["warning: ", "note: ", "error: "]
        .iter()
        .find_map(|p| msg.strip_prefix(p))
        .unwrap_or(msg);
    let mut object = Map::new();
    object.insert("ts".into(), Value::String(timestamp_now()));
    object.insert("level".into(), Value::String(level_name(level).into()));
    object.insert("msg".into(), Value::String(msg.to_string()));
    for (k, v) in fields {
        if !object.contains_key(&k) {
            object.insert(k, v);
        }
    }
    serde_json::to_string(&Value::Object(object)).unwrap_or_default() + "\n"
}

pub fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
    }
}

/// Diagnostics: rendered for people (with source excerpts) in text, one line each in
/// JSON with the fields of `check --format json`'s diagnostics (`code`, `file`, `line`,
/// `column`, …).
pub fn diagnostics(sources: &SourceMap, diagnostics: &[Diagnostic]) {
    if !json() {
        let shown: Vec<Diagnostic> = diagnostics
            .iter()
            .filter(|d| {
                enabled(if d.is_error() {
                    LogLevel::Error
                } else {
                    LogLevel::Warn
                })
            })
            .cloned()
            .collect();
        let _ = render::human(&mut crate::commands::stderr_stream(), sources, &shown);
        return;
    }
    let report = render::json_report(sources, diagnostics);
    for (d, j) in diagnostics.iter().zip(&report.diagnostics) {
        let level = if d.is_error() {
            LogLevel::Error
        } else {
            LogLevel::Warn
        };
        let mut fields = match serde_json::to_value(j) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        fields.remove("message");
        line(level, &d.message, fields);
    }
}

/// The time now as RFC 3339 in UTC, to the millisecond: `2026-04-01T09:30:00.123Z`.
pub fn timestamp_now() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    timestamp(since.as_secs(), since.subsec_millis())
}

/// The runtime's one UTC formatter (events' `@timestamp` use it too).
fn timestamp(secs: u64, millis: u32) -> String {
    let ms = i64::try_from(secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
        .saturating_add(i64::from(millis));
    vpl_runtime::analytics::message::iso8601(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0, 0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day of a century leap year) 12:34:56.
        assert_eq!(timestamp(951_827_696, 7), "2000-02-29T12:34:56.007Z");
        assert_eq!(timestamp(1_767_225_599, 999), "2025-12-31T23:59:59.999Z");
    }

    #[test]
    fn json_lines_drop_the_text_prefixes_and_keep_fields() {
        let mut fields = Map::new();
        fields.insert("frames".into(), Value::from(3));
        let line = json_line(LogLevel::Warn, "vplc: warning: a thing", fields);
        let v: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["msg"], "a thing");
        assert_eq!(v["frames"], 3);
        assert!(v["ts"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
    }
}
