//! The `vplc` binary as users and CI call it: exit statuses (spec section 8), the JSON
//! diagnostics object (spec section 7), `explain` and `fmt`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vplc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .output()
        .expect("vplc runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vplc-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path.display().to_string()
}

#[test]
fn examples_check_clean() {
    let mut args = vec!["check"];
    let examples: Vec<String> = std::fs::read_dir("examples")
        .expect("examples/")
        .map(|e| e.expect("entry").path().display().to_string())
        .filter(|p| p.ends_with(".vpl"))
        .collect();
    assert!(examples.len() >= 5, "at least five examples");
    args.extend(examples.iter().map(String::as_str));
    let out = vplc(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("{} files clean", examples.len())),
        "{stderr}"
    );
}

#[test]
fn exit_statuses() {
    let dir = temp_dir("status");
    let clean = write(
        &dir,
        "clean.vpl",
        "pipeline p {\n    test() | discard;\n}\n",
    );
    let warns = write(
        &dir,
        "warns.vpl",
        "pipeline p {\n    let spare = test();\n    test() | discard;\n}\n",
    );
    let broken = write(
        &dir,
        "broken.vpl",
        "pipeline p {\n    test() | decdoe | discard;\n}\n",
    );

    assert_eq!(vplc(&["check", &clean]).status.code(), Some(0));
    assert_eq!(vplc(&["check", &warns]).status.code(), Some(0));
    assert_eq!(
        vplc(&["check", "--deny-warnings", &warns]).status.code(),
        Some(1)
    );
    assert_eq!(vplc(&["check", &broken]).status.code(), Some(1));
    // Several files: the worst status wins, every file is reported.
    let out = vplc(&["check", &clean, &broken, &warns]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("E0102") && stderr.contains("W0001"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 error and 1 warning in 3 files"),
        "{stderr}"
    );
    // The command itself could not run: an unreadable file, bad flags.
    let missing = dir.join("missing.vpl").display().to_string();
    let out = vplc(&["check", &clean, &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    assert_eq!(
        vplc(&["check", "--format", "yaml", &clean]).status.code(),
        Some(2)
    );
    assert_eq!(vplc(&["check"]).status.code(), Some(2));
}

/// Found by a hostile test round: `check --format json` on a file it could not read printed
/// `{"diagnostics": [], "errors": 0, ...}`, which reads as a pass. It exits 2, says why on
/// stderr, and the object names the files it could not read.
#[test]
fn json_on_an_unreadable_file_states_the_failure() {
    let dir = temp_dir("json-unreadable");
    let good = write(&dir, "good.vpl", "pipeline p {\n    test() | discard;\n}\n");
    let missing = dir.join("missing.vpl").display().to_string();
    for types in [false, true] {
        let mut args = vec!["check", "--format", "json", &good, &missing];
        if types {
            args.push("--types");
        }
        let out = vplc(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot read") && stderr.contains("missing.vpl"),
            "{stderr}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
        let unreadable = json["unreadable"].as_array().expect("an `unreadable` list");
        assert_eq!(unreadable.len(), 1, "{json}");
        let reason = unreadable[0].as_str().expect("a reason");
        assert!(
            reason.starts_with("cannot read") && reason.contains("missing.vpl"),
            "{json}"
        );
    }
    // A clean check has no such field.
    let out = vplc(&["check", "--format", "json", &good]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(json.get("unreadable").is_none(), "{json}");
}

/// Found by a hostile test round: a 5 MB name took 9 s to check (the "did you mean" edit
/// distance against every candidate, and the rendering writing stderr a character at a
/// time). It is reported as any unknown name, with no suggestion from a 5 MB comparison.
#[test]
fn a_five_megabyte_name_is_reported_like_any_other() {
    let dir = temp_dir("long-name");
    let long = "a".repeat(5_000_000);
    let near = format!("{}b", &long[1..]);
    let path = write(
        &dir,
        "long.vpl",
        &format!("pipeline p {{\n    let {near} = test();\n    {long} | discard;\n}}\n"),
    );
    let out = vplc(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[E0101]"),
        "{}",
        &stderr[..stderr.len().min(300)]
    );
    assert!(!stderr.contains("did you mean"));
    assert!(
        stderr.trim_end().ends_with("in 1 file"),
        "the summary is printed"
    );
}

#[test]
fn json_matches_the_spec() {
    let dir = temp_dir("json");
    let program = "// Caméra № 1 — entrée\npipeline p {\n    test() | encode(bitrate: 4Mbs) | file(\"sortie_é.mp4\");\n    let spare = test();\n}\n";
    let path = write(&dir, "a.vpl", program);
    let out = vplc(&["check", "--format", "json", &path]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    let obj = json.as_object().expect("an object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    for key in ["diagnostics", "errors", "warnings"] {
        assert!(keys.contains(&key), "missing {key}: {json}");
    }
    assert_eq!(json["errors"], 1);
    assert_eq!(json["warnings"], 1);
    let d = &json["diagnostics"][0];
    for key in [
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "labels",
        "help",
    ] {
        assert!(d.get(key).is_some(), "diagnostic lacks {key}: {d}");
    }
    assert_eq!(d["code"], "E0002");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], path.as_str());
    // `4Mbs` on line 3 starts after "    test() | encode(bitrate: " (29 characters).
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(30))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(3), Some(34))
    );
    assert!(d["help"].as_str().unwrap_or("").contains("4Mbps"));
    let w = &json["diagnostics"][1];
    assert_eq!(w["code"], "W0001");
    assert_eq!(w["severity"], "warning");
    assert_eq!(
        (w["line"].as_u64(), w["column"].as_u64()),
        (Some(4), Some(9))
    );

    // A label on a line with non-ASCII text before it (é is 2 bytes, ☕ 3 bytes).
    let program = "pipeline p {\n    test() | encode(h264) | file(\"café_☕.mp4\"); let a = test(); let a = test();\n    a | discard;\n}\n";
    let path = write(&dir, "b.vpl", program);
    let out = vplc(&["check", "--format", "json", &path]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "E0103", "{json}");
    assert_eq!(
        (
            d["line"].as_u64(),
            d["column"].as_u64(),
            d["end_column"].as_u64()
        ),
        (Some(2), Some(69), Some(70))
    );
    let label = &d["labels"][0];
    assert_eq!(
        (label["line"].as_u64(), label["column"].as_u64()),
        (Some(2), Some(53))
    );
    assert!(
        label["message"]
            .as_str()
            .unwrap_or("")
            .contains("first defined")
    );
}

#[test]
fn types_are_listed() {
    let out = vplc(&["check", "--types", "examples/people.vpl"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("examples/people.vpl: pipeline watch"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  cam: video<msmpeg4, 768x576, 10fps>\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  tracked: video<i420, 768x576, 10fps> + objects[person, fallen] + tracks\n"
        ),
        "{stdout}"
    );
    let out = vplc(&[
        "check",
        "--types",
        "--format",
        "json",
        "examples/people.vpl",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let tracked = &json["types"][1];
    assert_eq!(tracked["stream"], "tracked");
    assert_eq!(tracked["pipeline"], "watch");
    assert_eq!(
        (tracked["line"].as_u64(), tracked["column"].as_u64()),
        (Some(9), Some(9))
    );
    assert_eq!(json["errors"], 0);
}

#[test]
fn explain_prints_pages() {
    let out = vplc(&["explain", "E0301"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# E0301"));
    let out = vplc(&["explain", "w0001"]);
    assert_eq!(out.status.code(), Some(0));
    let out = vplc(&["explain", "E9999"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_code_has_a_page() {
    for code in vpl_compiler::Code::ALL {
        let page = vplc::pages::page(code.as_str()).unwrap_or_else(|| {
            panic!("{code} can be emitted but docs/errors/{code}.md is missing")
        });
        assert!(
            page.starts_with(&format!("# {code}")),
            "{code}.md starts with its title"
        );
    }
}

#[test]
fn fmt_rewrites_and_checks() {
    let dir = temp_dir("fmt");
    let messy =
        "pipeline   p{let cam=test( frames:10 );// the source\ncam|scale(640x480)|discard;}\n";
    let path = write(&dir, "m.vpl", messy);
    assert_eq!(vplc(&["fmt", "--check", &path]).status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        messy,
        "--check changes nothing"
    );
    assert_eq!(vplc(&["fmt", &path]).status.code(), Some(0));
    let formatted = std::fs::read_to_string(&path).expect("read");
    assert_eq!(
        formatted,
        "pipeline p {\n    let cam = test(frames: 10); // the source\n    cam | scale(640x480) | discard;\n}\n"
    );
    assert_eq!(vplc(&["fmt", "--check", &path]).status.code(), Some(0));
    let broken = write(&dir, "b.vpl", "pipeline p {\n    test() | | discard;\n}\n");
    let out = vplc(&["fmt", &broken]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0001"));
}
