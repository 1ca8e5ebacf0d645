//! Nothing lost, nothing hangs: paths resolved the way the user means them, outputs
//! written whole or not at all, signals and broken pipes ending a run cleanly, inputs
//! that are not regular files refused instead of waited on.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::temp_dir;

fn vplc_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .output()
        .expect("vplc runs")
}

#[test]
fn relative_paths_climb_from_the_program_not_from_each_other() {
    // `cd proj/a/b && vplc run ../../sub/p.vpl` with `file("../out.jsonl")`: the
    // records go to proj/out.jsonl (beside sub/), not to proj/a/b/out.jsonl.
    let proj = temp_dir("dotdot");
    let cwd = proj.join("a/b");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    std::fs::create_dir_all(proj.join("sub")).expect("mkdir");
    std::fs::write(
        proj.join("sub/p.vpl"),
        "pipeline p {\n    test(resolution: 64x48, frames: 2) | json | file(\"../out.jsonl\");\n}\n",
    )
    .expect("write");
    let out = vplc_in(&cwd, &["run", "--quiet", "../../sub/p.vpl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = std::fs::read_to_string(proj.join("out.jsonl")).expect("records in proj/");
    assert_eq!(records.lines().count(), 2);
    assert!(!cwd.join("out.jsonl").exists());
    assert!(!proj.join("a/out.jsonl").exists());
}
