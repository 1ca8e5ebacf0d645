//! Helpers shared by the end-to-end tests: the `vplc` binary, temporary directories, the
//! fetched assets, records and boxes.
#![allow(dead_code)]

pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vplc-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn vplc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .output()
        .expect("vplc runs")
}

pub fn asset(path: &str) -> String {
    root().join(path).display().to_string()
}

pub fn stats(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("stats written"))
        .expect("stats are JSON")
}

/// `vplc run --quiet ARGS… --stats FILE PROGRAM`, which must exit 0; its run statistics
/// (written beside the program).
pub fn run_ok(program: &Path, args: &[&str]) -> serde_json::Value {
    let stats_file = program.with_extension("stats.json");
    let (program_arg, stats_arg) = (
        program.display().to_string(),
        stats_file.display().to_string(),
    );
    let mut all = vec!["run", "--quiet"];
    all.extend_from_slice(args);
    all.extend(["--stats", &stats_arg, &program_arg]);
    let out = vplc(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stats(&stats_file)
}

/// The number of frames in a video file, counted by running vpl on it.
pub fn count_frames(video: &Path, dir: &Path) -> u64 {
    let program = dir.join("count.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline count {{\n    file({:?}) | decode | discard;\n}}\n",
            video.display().to_string()
        ),
    )
    .expect("write");
    run_ok(&program, &[])["frames"][0]
        .as_u64()
        .expect("a frame count")
}

#[derive(Debug, Clone, Copy)]
pub struct BBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

pub fn bbox(v: &serde_json::Value) -> BBox {
    let n = |k: &str| v["bbox"][k].as_f64().unwrap_or(f64::NAN);
    BBox {
        x: n("x"),
        y: n("y"),
        w: n("w"),
        h: n("h"),
    }
}

pub fn iou(a: BBox, b: BBox) -> f64 {
    let x1 = a.x.max(b.x);
    let y1 = a.y.max(b.y);
    let x2 = (a.x + a.w).min(b.x + b.w);
    let y2 = (a.y + a.h).min(b.y + b.h);
    let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
    inter / (a.w * a.h + b.w * b.h - inter)
}

pub fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("records written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}
