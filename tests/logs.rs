//! What `vplc run` says on standard error: `--log-format json` (one object a line),
//! `--log-level`, `--log-timestamps`, progress lines when standard error is not a terminal,
//! and the RTSP addresses at start.

mod common;

use std::process::{Command, Output};

use common::servers::free_port;
use common::temp_dir;

/// `vplc run ARGS… PROGRAM` with standard error piped (not a terminal).
fn run(dir: &std::path::Path, program: &str, args: &[&str]) -> Output {
    let file = dir.join("p.vpl");
    std::fs::write(&file, program).expect("program written");
    Command::new(env!("CARGO_BIN_EXE_vplc"))
        .arg("run")
        .args(args)
        .arg(&file)
        .env("VPL_CACHE_DIR", "off")
        .env("NO_COLOR", "1")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("vplc runs")
}

/// A run with a warning (no display here: `display` shows nothing) and a summary.
const WARNS: &str = "pipeline p {\n    test(frames: 10, resolution: 64x48) | display;\n}\n";

/// A run of 2.5 s paced at its frame rate.
const PACED: &str = "pipeline p {\n    test(frames: 75, rate: 30fps, resolution: 64x48) | json | file(\"o.jsonl\");\n}\n";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn json_logs_are_one_object_a_line() {
    let dir = temp_dir("logs-json");
    let out = run(
        &dir,
        WARNS,
        &["--log-format", "json", "--progress-interval", "0"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    for l in &lines {
        assert!(l["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{l}");
        assert!(
            ["error", "warn", "info", "debug"].contains(&l["level"].as_str().unwrap_or("")),
            "{l}"
        );
        assert!(l["msg"].as_str().is_some_and(|m| !m.is_empty()), "{l}");
    }
    let warning = lines
        .iter()
        .find(|l| l["level"] == "warn")
        .unwrap_or_else(|| panic!("a warning in {err}"));
    assert!(
        warning["msg"]
            .as_str()
            .is_some_and(|m| m.contains("display")),
        "{warning}"
    );
    let summary = lines
        .iter()
        .find(|l| l["exit"].is_string())
        .unwrap_or_else(|| panic!("a summary in {err}"));
    assert_eq!(summary["level"], "info");
    assert_eq!(summary["exit"], "eos");
    assert_eq!(summary["frames"], serde_json::json!([10]));
}

#[test]
fn json_logs_carry_compile_errors_with_their_place() {
    let dir = temp_dir("logs-json-error");
    let out = run(
        &dir,
        "pipeline p {\n    test(frames: 10) | nosuchstage;\n}\n",
        &["--log-format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let diagnostic = lines
        .iter()
        .find(|l| l["code"].is_string())
        .unwrap_or_else(|| panic!("a diagnostic in {lines:?}"));
    assert_eq!(diagnostic["level"], "error");
    assert_eq!(diagnostic["line"], 2);
    assert!(
        diagnostic["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("p.vpl"))
    );
}

#[test]
fn the_log_level_keeps_what_is_at_least_as_important() {
    let dir = temp_dir("logs-level");
    // info (the default): the warning and the summary.
    let err = stderr(&run(&dir, WARNS, &[]));
    assert!(err.contains("vplc: warning:"), "{err}");
    assert!(err.contains("vplc: pipeline p finished"), "{err}");
    // warn: the warning only.
    let err = stderr(&run(&dir, WARNS, &["--log-level", "warn"]));
    assert!(err.contains("vplc: warning:"), "{err}");
    assert!(!err.contains("finished"), "{err}");
    // error: nothing from a run that went well.
    let out = run(&dir, WARNS, &["--log-level", "error"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    // debug: also how the run was set up.
    let err = stderr(&run(&dir, WARNS, &["--log-level", "debug"]));
    assert!(err.contains("vplc: pipeline p: "), "{err}");
    assert!(err.contains("finished"), "{err}");
    // An error is shown at every level.
    let out = run(
        &dir,
        "pipeline p {\n    test(frames: 10) | nosuchstage;\n}\n",
        &["--log-level", "error"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing built"), "{}", stderr(&out));
}

#[test]
fn timestamps_start_text_lines_when_asked() {
    let dir = temp_dir("logs-ts");
    let err = stderr(&run(&dir, WARNS, &["--log-timestamps"]));
    let lines: Vec<&str> = err.lines().collect();
    assert!(!lines.is_empty());
    for l in lines {
        // 2026-04-01T09:30:00.123Z vplc: …
        let (ts, rest) = l.split_once(' ').expect("a time, then the line");
        assert_eq!(ts.len(), 24, "{l}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{l}");
        assert!(ts[..4].chars().all(|c| c.is_ascii_digit()), "{l}");
        assert!(rest.starts_with("vplc: "), "{l}");
    }
}

#[test]
fn progress_lines_come_when_stderr_is_not_a_terminal() {
    let dir = temp_dir("logs-progress");
    let out = run(&dir, PACED, &["--realtime", "--progress-interval", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let progress: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("vplc: progress "))
        .collect();
    assert!(!progress.is_empty(), "{err}");
    assert!(progress[0].contains("stream 0: "), "{}", progress[0]);
    // As JSON, with the figures as fields.
    let out = run(
        &dir,
        PACED,
        &[
            "--realtime",
            "--progress-interval",
            "1",
            "--log-format",
            "json",
        ],
    );
    let lines: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let progress = lines
        .iter()
        .find(|l| l["progress"] == true)
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        progress["frames"][0].as_u64().is_some_and(|n| n > 0),
        "{progress}"
    );
    assert!(
        progress["elapsed_s"].as_f64().is_some_and(|s| s >= 1.0),
        "{progress}"
    );
    // --quiet: none.
    let out = run(
        &dir,
        PACED,
        &["--realtime", "--progress-interval", "1", "--quiet"],
    );
    assert!(!stderr(&out).contains("progress"), "{}", stderr(&out));
}

#[test]
fn the_rtsp_addresses_are_said_at_start() {
    let dir = temp_dir("logs-rtsp");
    let port = free_port();
    let out = run(
        &dir,
        &format!(
            "pipeline p {{\n    test(frames: 10, resolution: 64x48) | encode(h264) | rtsp_out(port: {port}, path: \"/cam\");\n}}\n"
        ),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l == format!("vplc: serving rtsp://localhost:{port}/cam")),
        "{err}"
    );
}
