//! The box decoders `yolov5`, `detr` and `ssd` end to end: fixture models whose outputs
//! are constants (scripts/make_models.py, `box_*.onnx`) run on 128x128 test frames, and
//! the records must hold exactly the boxes each decoder's arithmetic gives (the 64x64
//! input is the frame scaled by 1/2, so every box is the model's box × 2).

mod common;

use common::{bbox, lines, run_ok, temp_dir, vplc};

fn fixture(file: &str) -> String {
    format!(
        "{:?}",
        common::asset(&format!("tests/fixtures/models/{file}"))
    )
}

/// Records of `model m = onnx(DECL)` run on two 128x128 test frames.
fn objects(name: &str, decl: &str) -> Vec<serde_json::Value> {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    let text = format!(
        "model m = onnx({decl});\n\
         pipeline p {{ test(resolution: 128x128, frames: 2) | infer(m) | json | file(\"out/r.jsonl\"); }}\n"
    );
    std::fs::write(&file, text).expect("write");
    run_ok(&file, &[]);
    let records = lines(&dir.join("out/r.jsonl"));
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["objects"], records[1]["objects"]);
    records[0]["objects"].as_array().expect("objects").clone()
}

/// (label, confidence, x, y, w, h) of each object, in record order.
fn boxes(objects: &[serde_json::Value]) -> Vec<(String, f64, [f64; 4])> {
    objects
        .iter()
        .map(|o| {
            let b = bbox(o);
            (
                o["label"].as_str().unwrap_or("").to_string(),
                o["confidence"].as_f64().unwrap_or(f64::NAN),
                [b.x, b.y, b.w, b.h],
            )
        })
        .collect()
}

fn assert_boxes(found: &[serde_json::Value], want: &[(&str, f64, [f64; 4])]) {
    let found = boxes(found);
    assert_eq!(found.len(), want.len(), "{found:?}");
    for ((label, conf, b), (wl, wc, wb)) in found.iter().zip(want) {
        assert_eq!(label, wl, "{found:?}");
        assert!(
            (conf - wc).abs() < 1e-5,
            "confidence {conf} for {wc}: {found:?}"
        );
        for (v, w) in b.iter().zip(wb) {
            assert!((v - w).abs() < 1e-3, "box {b:?} for {wb:?}");
        }
    }
}

#[test]
fn yolov5_multiplies_objectness_by_the_class_score() {
    let found = objects(
        "yolov5",
        &format!(
            "{}, labels: [\"cat\", \"dog\"], decoder: yolov5()",
            fixture("box_yolov5.onnx")
        ),
    );
    // Rows (cx, cy, w, h, obj, scores): (32, 16, 20, 10, 0.9, [0.2, 0.8]) → 0.72 dog;
    // (10, 50, 8, 8, 0.5, [0.6, 0.1]) → 0.30 cat; 0.1 × 0.9 = 0.09 is below 0.25.
    assert_boxes(
        &found,
        &[
            ("dog", 0.72, [44.0, 22.0, 40.0, 20.0]),
            ("cat", 0.3, [12.0, 92.0, 16.0, 16.0]),
        ],
    );
}

#[test]
fn yolox_raw_output_is_decoded_on_its_grids() {
    let found = objects(
        "yolox",
        &format!(
            "{}, decoder: yolov5(grid: true, strides: [32, 64])",
            fixture("box_yolox.onnx")
        ),
    );
    // Anchor 1: cell (1, 0) of stride 32, (0.5, 0.5, ln 2, 0) → centre (48, 16), 64 x 32,
    // clipped at the frame's right edge. Anchor 4: the stride-64 cell, (0.5, 0.5, -ln 4,
    // -ln 4) → centre (32, 32), 16 x 16.
    assert_boxes(
        &found,
        &[
            ("class1", 0.9, [32.0, 0.0, 96.0, 64.0]),
            ("class0", 0.8, [48.0, 48.0, 32.0, 32.0]),
        ],
    );
}

#[test]
fn detr_reads_one_output_or_two_and_keeps_overlaps() {
    let found = objects(
        "detr1",
        &format!(
            "{}, decoder: detr(activation: none)",
            fixture("box_detr.onnx")
        ),
    );
    // No NMS: queries 0 and 2 are the same box and both stay.
    assert_boxes(
        &found,
        &[
            ("class0", 0.9, [32.0, 16.0, 64.0, 32.0]),
            ("class1", 0.7, [16.0, 80.0, 32.0, 32.0]),
            ("class0", 0.6, [32.0, 16.0, 64.0, 32.0]),
        ],
    );
    let found = objects(
        "detr2",
        &format!(
            "{}, labels: [\"a\", \"b\"], decoder: detr(activation: softmax)",
            fixture("box_detr2.onnx")
        ),
    );
    // Softmax over 3 logits, the last "no object": [2, 0, 0] → e²/(e² + 2) for `a`;
    // [0, 0, 3] is "no object"; [0, 1, 0] → e/(e + 2) for `b`.
    let e = std::f64::consts::E;
    assert_boxes(
        &found,
        &[
            ("a", e * e / (e * e + 2.0), [32.0, 32.0, 64.0, 64.0]),
            ("b", e / (e + 2.0), [16.0, 16.0, 32.0, 32.0]),
        ],
    );
}

#[test]
fn ssd_decodes_offsets_from_generated_or_given_anchors() {
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    // Anchor 2 (stride 32, cell (1, 0), centre (48, 16)) + (-8, 4, 20, 12) → centre
    // (40, 20), 20 x 12; anchor 9 (stride 64, centre (32, 32)) + (0, 0, 32, 32).
    let want = [
        ("face", sigmoid(2.0), [60.0, 28.0, 40.0, 24.0]),
        ("face", sigmoid(1.0), [32.0, 32.0, 64.0, 64.0]),
    ];
    let generated = objects(
        "ssd-generated",
        &format!(
            "{}, labels: [\"face\"], decoder: ssd(strides: [32, 64], per_cell: [2, 3])",
            fixture("box_ssd.onnx")
        ),
    );
    assert_boxes(&generated, &want);
    let given = objects(
        "ssd-file",
        &format!(
            "{}, labels: [\"face\"], decoder: ssd(anchors: {})",
            fixture("box_ssd.onnx"),
            fixture("box_ssd.anchors")
        ),
    );
    assert_boxes(&given, &want);
}

#[test]
fn an_open_anchor_count_is_a_warning_then_a_run_time_error_naming_both_counts() {
    let dir = temp_dir("yolox-open");
    let file = dir.join("p.vpl");
    let text = format!(
        "model m = onnx({}, input: tensor<f32, [1, 3, 64, 64]>, decoder: yolov5(grid: true, strides: [16]));\n\
         pipeline p {{ test(resolution: 128x128, frames: 2) | infer(m) | json | file(\"out/r.jsonl\"); }}\n",
        fixture("box_yolox_open.onnx")
    );
    std::fs::write(&file, text).expect("write");
    let path = file.display().to_string();
    let check = vplc(&["check", &path]);
    let said = String::from_utf8_lossy(&check.stderr).to_string();
    assert_eq!(check.status.code(), Some(0), "{said}");
    assert!(said.contains("W0302"), "{said}");
    let out = vplc(&["run", &path]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_ne!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("16 cells but the output has 5 anchors") && !said.contains("panick"),
        "{said}"
    );
}
