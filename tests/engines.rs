//! `vplc build --engine`: TensorRT engines built ahead of time into the engine cache. No
//! GPU here: the command must say where the engines go and why it cannot build them, and
//! exit 2; on a machine with a GPU build and TensorRT it builds them into that directory.

use std::path::PathBuf;
use std::process::{Command, Output};

fn vplc(args: &[&str], cache_variable: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vplc"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .env_remove("VPL_ENGINE_CACHE");
    if let Some(dir) = cache_variable {
        command.env("VPL_ENGINE_CACHE", dir);
    }
    command.output().expect("vplc runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vplc-engines-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Exit 2 with the reason where TensorRT cannot be used; exit 0 with the directory of
/// each model's engine where it can.
fn assert_built_or_refused(out: &Output, cache: &std::path::Path, models: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("the engine cache is {}", cache.display())),
        "{stderr}"
    );
    match out.status.code() {
        Some(2) => {
            assert!(stderr.contains("TensorRT is not available: "), "{stderr}");
            assert!(stderr.contains(models[0]), "{stderr}");
        }
        Some(0) => {
            for model in models {
                let line = stderr
                    .lines()
                    .find(|l| l.contains(model))
                    .unwrap_or_else(|| panic!("no line for {model}: {stderr}"));
                let (_, dir) = line.split_once(" in ").expect("`… in DIR (… s)`");
                let dir = dir.rsplit_once(" (").map_or(dir, |(d, _)| d);
                assert!(dir.starts_with(&cache.display().to_string()), "{line}");
                assert!(PathBuf::from(dir).join("key.json").is_file(), "{line}");
            }
        }
        other => panic!("exit {other:?}: {stderr}"),
    }
}

#[test]
fn engines_go_to_the_cache_given_on_the_command_line() {
    let cache = temp_dir("flag");
    let cache_arg = cache.display().to_string();
    let out = vplc(
        &[
            "build",
            "--engine",
            "--engine-cache",
            &cache_arg,
            "examples/batched.vpl",
        ],
        Some("/elsewhere"),
    );
    assert_built_or_refused(
        &out,
        &cache,
        &["colour_classifier.onnx", "person_yolov8s.onnx"],
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn engines_go_to_the_cache_the_variable_names() {
    let cache = temp_dir("variable");
    let out = vplc(
        &["build", "--engine", "examples/people.vpl"],
        Some(&cache.display().to_string()),
    );
    assert_built_or_refused(&out, &cache, &["person_yolov8s.onnx"]);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_program_without_models_has_no_engine_to_build() {
    let dir = temp_dir("none");
    let file = dir.join("pattern.vpl");
    std::fs::write(&file, "pipeline p {\n    test() | discard;\n}\n").expect("write");
    let out = vplc(&["build", "--engine", &file.display().to_string()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("runs no model"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn build_needs_emit_or_engine_and_not_both() {
    for args in [
        &["build", "examples/people.vpl"][..],
        &["build", "--engine", "--emit", "gst", "examples/people.vpl"],
        &[
            "build",
            "--engine-cache",
            "/tmp/x",
            "--emit",
            "gst",
            "examples/people.vpl",
        ],
        &["build", "--engine-cache", "/tmp/x", "examples/people.vpl"],
    ] {
        let out = vplc(args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("Usage: vplc build"), "{args:?}: {stderr}");
    }
}
