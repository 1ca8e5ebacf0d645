//! `scripts/gpu-check.sh` needs a GPU to run whole; what a CPU can check is checked here:
//! both GPU scripts parse, and its correctness step (`--compare`) passes equal records and
//! fails the differences it exists to catch.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

#[test]
fn the_gpu_scripts_parse() {
    for name in ["gpu-check.sh", "bundle.sh"] {
        let out = Command::new("bash")
            .arg("-n")
            .arg(script(name))
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn record(frame: u32, boxes: &[(f64, f64, f64, f64, f64)]) -> String {
    let objects: Vec<String> = boxes
        .iter()
        .map(|(x, y, w, h, c)| {
            format!(
                r#"{{"label":"person","class_id":0,"confidence":{c},"bbox":{{"x":{x},"y":{y},"w":{w},"h":{h}}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"pipeline":"detect","stream":0,"source":"vtest_h264.mkv","frame":{frame},"pts_ns":0,"width":768,"height":576,"objects":[{}]}}"#,
        objects.join(",")
    )
}

fn compare(dir: &Path, first: &[String], second: &[String]) -> Output {
    let (a, b) = (dir.join("cpu.jsonl"), dir.join("gpu.jsonl"));
    std::fs::write(&a, first.join("\n") + "\n").expect("write");
    std::fs::write(&b, second.join("\n") + "\n").expect("write");
    Command::new("bash")
        .arg(script("gpu-check.sh"))
        .arg("--compare")
        .args([&a, &b])
        .args(["--frames", "60"])
        .output()
        .expect("gpu-check.sh --compare runs")
}

#[test]
fn the_correctness_step_compares_boxes_frame_by_frame() {
    let dir = std::env::temp_dir().join(format!("vpl-gpu-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cpu: Vec<String> = (0..60)
        .map(|f| {
            record(
                f,
                &[
                    (100.0 + f as f64, 50.0, 40.0, 90.0, 0.81),
                    (400.0, 300.0 - f as f64, 30.0, 70.0, 0.55),
                ],
            )
        })
        .collect();
    // The GPU's boxes a fraction of a pixel off, in another order: a pass.
    let gpu: Vec<String> = (0..60)
        .map(|f| {
            record(
                f,
                &[
                    (400.1, 300.0 - f as f64, 30.0, 70.0, 0.5504),
                    (100.0 + f as f64, 50.1, 40.0, 90.1, 0.8103),
                ],
            )
        })
        .collect();
    let same = compare(&dir, &cpu, &gpu);
    let text = String::from_utf8_lossy(&same.stdout);
    assert!(same.status.success(), "{text}");
    assert!(text.contains("frames 60/60 same count"), "{text}");
    assert!(text.contains("max confidence difference 0.0004"), "{text}");

    // One box moved by a fifth of its width on frame 17: IoU under 0.99.
    let mut moved = gpu.clone();
    moved[17] = record(
        17,
        &[
            (400.0, 283.0, 30.0, 70.0, 0.55),
            (125.0, 50.0, 40.0, 90.0, 0.81),
        ],
    );
    let out = compare(&dir, &cpu, &moved);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("frame 17"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A box missing on frame 3.
    let mut fewer = gpu;
    fewer[3] = record(3, &[(103.0, 50.0, 40.0, 90.0, 0.81)]);
    let out = compare(&dir, &cpu, &fewer);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("frames 59/60 same count"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
