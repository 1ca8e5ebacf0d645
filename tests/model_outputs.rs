//! Model outputs the checker resolves (issue 19, part B), end to end with the fixtures of
//! scripts/make_decoder_models.py: a text detector whose output dimensions are all open
//! (resolved by a run of the model on the declared input), and a CRNN whose output is
//! time-major (`[T, N, C]`: the batch is its second axis) with the blank as its last class.

mod common;

use common::{asset, lines, run_ok, temp_dir, vplc};

/// The text every image of dec_crnn_tnc.onnx reads (scripts/make_decoder_models.py).
const CRNN_TEXT: &str = "vpl2024";
/// Its best class at each of the 20 steps: characters of 0-9a-z, `-` the blank (class 36).
const CRNN_STEPS: &str = "vv-pll20-24---------";

fn model(name: &str) -> String {
    asset(&format!("tests/fixtures/models/{name}"))
}

fn run(name: &str, text: &str, frames: usize, out: &str) -> Vec<serde_json::Value> {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    std::fs::write(&file, text).expect("write");
    run_ok(&file, &["--max-frames", &frames.to_string()]);
    lines(&dir.join(out))
}

fn check(name: &str, text: &str) -> (Option<i32>, String) {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    std::fs::write(&file, text).expect("write");
    let out = vplc(&["check", &file.display().to_string()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn text_detector() -> String {
    format!(
        "model det = onnx({:?}, decoder: text_boxes(), input: tensor<f32, [1, 3, 576, 768]>);\n\
         pipeline p {{ test(resolution: 768x576) | infer(det) | json | file(\"out/t.jsonl\"); }}\n",
        model("dec_text_open.onnx")
    )
}

#[test]
fn a_text_detector_with_every_output_dimension_open_checks_clean_and_runs() {
    let text = text_detector();
    let (code, stderr) = check("open-text-check", &text);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !stderr.contains("E0304") && !stderr.contains("W0302"),
        "{stderr}"
    );
    let records = run("open-text-run", &text, 2, "out/t.jsonl");
    assert_eq!(records.len(), 2);
    // The map is bright where the test pattern is: text boxes are found.
    let objects = records[0]["objects"].as_array().expect("objects");
    assert!(!objects.is_empty(), "{}", records[0]);
    assert!(objects.iter().all(|o| o["label"] == "text"));
}

#[test]
fn without_onnx_runtime_an_open_channel_is_left_to_the_run() {
    let dir = temp_dir("open-text-no-ort");
    let file = dir.join("p.vpl");
    std::fs::write(&file, text_detector()).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["check", &file.display().to_string()])
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .env("VPL_ONNXRUNTIME", dir.join("no-such-library.so"))
        .output()
        .expect("vplc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("W0302") && !stderr.contains("E0304"),
        "{stderr}"
    );
}

fn crnn(decoder: &str, streams: usize, out: &str) -> String {
    let sources = vec!["test(resolution: 80x32)"; streams].join(", ");
    format!(
        "model rec = onnx({:?}, decoder: {decoder});\n\
         pipeline p {{ [{sources}] | infer(rec) | json | file({out:?}); }}\n",
        model("dec_crnn_tnc.onnx")
    )
}

fn ctc(blank: &str) -> String {
    format!(
        "ctc(alphabet: {:?}, blank: {blank})",
        model("dec_crnn_tnc.txt")
    )
}

#[test]
fn ctc_reads_a_time_major_crnn_with_the_blank_last() {
    let text = crnn(&ctc("last"), 2, "out/r.jsonl");
    let (code, stderr) = check("crnn-check", &text);
    assert_eq!(code, Some(0), "{stderr}");
    // Two streams: the model runs on batches of 2, split along the output's axis 1.
    let records = run("crnn-run", &text, 3, "out/r.jsonl");
    assert_eq!(records.len(), 6);
    for r in &records {
        let labels = r["labels"].as_array().expect("labels");
        assert_eq!(labels.len(), 1, "{r}");
        assert_eq!(labels[0]["label"], CRNN_TEXT, "{r}");
    }
}

#[test]
fn ctc_with_the_blank_first_reads_the_last_class_as_a_character() {
    let records = run(
        "crnn-blank-first",
        &crnn(&ctc("first"), 1, "out/r.jsonl"),
        1,
        "out/r.jsonl",
    );
    let label = records[0]["labels"][0]["label"].as_str().expect("a label");
    assert_ne!(label, CRNN_TEXT);
}

#[test]
fn raw_keeps_a_time_major_output_split_along_its_batch_axis() {
    let records = run(
        "crnn-raw",
        &crnn("raw", 2, "out/raw.jsonl"),
        2,
        "out/raw.jsonl",
    );
    assert_eq!(records.len(), 4);
    let alphabet: Vec<char> = "0123456789abcdefghijklmnopqrstuvwxyz".chars().collect();
    for r in &records {
        let tensor = &r["tensors"][0];
        assert_eq!(tensor["name"], "logits", "{r}");
        assert_eq!(tensor["shape"], serde_json::json!([20, 1, 37]), "{r}");
        let data: Vec<f64> = tensor["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|v| v.as_f64().expect("a number"))
            .collect();
        assert_eq!(data.len(), 20 * 37);
        let best: String = data
            .chunks(37)
            .map(|step| {
                let k = (0..37)
                    .max_by(|a, b| step[*a].total_cmp(&step[*b]))
                    .expect("37 classes");
                if k == 36 { '-' } else { alphabet[k] }
            })
            .collect();
        assert_eq!(best, CRNN_STEPS, "{r}");
    }
}
