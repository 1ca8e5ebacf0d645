//! The GPU path of `infer` (docs/gpu.md) without a GPU: `VPL_PREPROCESS=reference` sends
//! whole decoded frames through the batcher and preprocesses each batch in one go with the
//! CUDA kernel's CPU twin, as the GPU does with the kernel. Everything of that path but the
//! launch and ONNX Runtime's IO binding runs here: the frames copied as they are, their
//! letterbox computed beside them, batches of several streams, a fixed batch padded. Its
//! records must be those of the CPU path, frame by frame.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BBox, bbox, iou, lines, root, temp_dir};

/// Runs `program` for `frames` frames with `VPL_PREPROCESS` set to `path` (unset: the
/// default); returns its records and stderr.
fn run(program: &Path, frames: u32, path: Option<&str>) -> (Vec<serde_json::Value>, String) {
    let out_file = program.with_extension(format!("{}.jsonl", path.unwrap_or("default")));
    let text = std::fs::read_to_string(program)
        .expect("program")
        .replace("OUT", &out_file.display().to_string());
    let actual = program.with_extension(format!("{}.vpl", path.unwrap_or("default")));
    std::fs::write(&actual, text).expect("write program");
    let mut command = Command::new(env!("CARGO_BIN_EXE_vplc"));
    command
        .args(["run", "--quiet", "--max-frames", &frames.to_string()])
        .arg(&actual)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .env("GST_DEBUG", "vplbatch:5")
        .env_remove("VPL_PREPROCESS");
    if let Some(path) = path {
        command.env("VPL_PREPROCESS", path);
    }
    let out = command.output().expect("vplc runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (lines(&out_file), stderr)
}

/// (stream, frame).
type Frame = (u64, u64);
/// An object's label, confidence and box.
type Found = (String, f64, BBox);

/// Each record's objects by (stream, frame).
fn by_frame(records: &[serde_json::Value]) -> Vec<(Frame, Vec<Found>)> {
    let mut frames: Vec<_> = records
        .iter()
        .map(|r| {
            let key = (
                r["stream"].as_u64().unwrap_or(0),
                r["frame"].as_u64().expect("frame number"),
            );
            let objects = r["objects"]
                .as_array()
                .map(|objects| {
                    objects
                        .iter()
                        .map(|o| {
                            (
                                o["label"].as_str().unwrap_or_default().to_string(),
                                o["confidence"].as_f64().expect("confidence"),
                                bbox(o),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (key, objects)
        })
        .collect();
    frames.sort_by_key(|(key, _)| *key);
    frames
}

/// The same frames, the same objects in each (label, confidence within 1e-3, IoU >= 0.99:
/// the twin agrees with the CPU preprocessor to 1e-5, not bit for bit); returns how many
/// objects were compared.
fn assert_same(cpu: &[serde_json::Value], twin: &[serde_json::Value]) -> usize {
    let (cpu, twin) = (by_frame(cpu), by_frame(twin));
    let keys = |f: &[(Frame, _)]| f.iter().map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(
        keys(&cpu),
        keys(&twin),
        "the same frames of the same streams"
    );
    let mut compared = 0;
    for ((key, want), (_, got)) in cpu.iter().zip(&twin) {
        assert_eq!(
            want.len(),
            got.len(),
            "objects in {key:?}: {want:?} vs {got:?}"
        );
        for (label, confidence, b) in want {
            let best = got
                .iter()
                .filter(|(l, _, _)| l == label)
                .max_by(|x, y| iou(*b, x.2).total_cmp(&iou(*b, y.2)))
                .unwrap_or_else(|| panic!("{key:?}: no {label} in {got:?}"));
            assert!(iou(*b, best.2) >= 0.99, "{key:?}: {b:?} vs {:?}", best.2);
            assert!(
                (confidence - best.1).abs() <= 1e-3,
                "{key:?}: confidence {confidence} vs {}",
                best.1
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn three_streams_batched_by_frame_give_the_cpu_path_s_records() {
    let dir = temp_dir("gpu-path-batched");
    let program = dir.join("batched.vpl");
    // Three streams of three sizes (so three letterboxes) into the batch-dynamic model:
    // one batch of three frames a step.
    std::fs::write(
        &program,
        format!(
            "model people = onnx(\"{model}\", labels: [\"person\", \"fallen\"], \
                 decoder: yolov8(confidence: 0.25));\n\
             pipeline p {{\n\
               [file(\"{video}\") | decode,\n\
                file(\"{video}\") | decode | scale(640x360),\n\
                file(\"{video}\") | decode | scale(320x480)]\n\
                 | infer(people) | json | file(\"OUT\");\n\
             }}\n",
            model = root()
                .join("assets/models/person_yolov8s_batch.onnx")
                .display(),
            video = root().join("assets/media/vtest.avi").display(),
        ),
    )
    .expect("program");
    let (cpu, cpu_log) = run(&program, 4, None);
    let (twin, twin_log) = run(&program, 4, Some("reference"));
    assert!(
        !cpu_log.contains("whole frames are preprocessed by batch"),
        "{cpu_log}"
    );
    assert!(
        twin_log.contains("whole frames are preprocessed by batch: Reference"),
        "{twin_log}"
    );
    assert!(
        twin_log.contains("whole frames: "),
        "a batch ran: {twin_log}"
    );
    assert_eq!(cpu.len(), 12, "4 frames of 3 streams");
    let compared = assert_same(&cpu, &twin);
    assert!(compared >= 12, "vtest shows people: {compared} objects");
}

#[test]
fn a_fixed_batch_model_fed_two_streams_gives_the_cpu_path_s_records() {
    let dir = temp_dir("gpu-path-fixed");
    let program = dir.join("fixed.vpl");
    // person_yolov8s takes one image a run: each batch of two frames is cut into runs.
    std::fs::write(
        &program,
        format!(
            "model people = onnx(\"{model}\", labels: [\"person\", \"fallen\"], \
                 decoder: yolov8(confidence: 0.25));\n\
             pipeline p {{\n\
               [file(\"{video}\") | decode, file(\"{video}\") | decode | scale(400x300)]\n\
                 | infer(people) | json | file(\"OUT\");\n\
             }}\n",
            model = root().join("assets/models/person_yolov8s.onnx").display(),
            video = root().join("assets/media/vtest.avi").display(),
        ),
    )
    .expect("program");
    let (cpu, _) = run(&program, 4, None);
    let (twin, twin_log) = run(&program, 4, Some("reference"));
    assert!(
        twin_log.contains("whole frames are preprocessed by batch: Reference"),
        "{twin_log}"
    );
    assert_eq!(cpu.len(), 8);
    assert!(assert_same(&cpu, &twin) >= 8);
}

#[test]
fn an_unknown_preprocess_choice_is_said_and_the_cpu_preprocesses() {
    let dir = temp_dir("gpu-path-unknown");
    let program = dir.join("unknown.vpl");
    std::fs::write(
        &program,
        format!(
            "model people = onnx(\"{model}\", labels: [\"person\", \"fallen\"], \
                 decoder: yolov8());\n\
             pipeline p {{ file(\"{video}\") | decode | infer(people) | json | file(\"OUT\"); }}\n",
            model = root().join("assets/models/person_yolov8s.onnx").display(),
            video = root().join("assets/media/vtest.avi").display(),
        ),
    )
    .expect("program");
    let (records, log) = run(&program, 2, Some("fpga"));
    assert!(
        log.contains("VPL_PREPROCESS=fpga is not gpu, reference or cpu"),
        "{log}"
    );
    assert_eq!(records.len(), 2);
}
