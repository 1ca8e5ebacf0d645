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
fn an_open_anchor_count_is_counted_by_a_run_at_check_time_and_is_a_warning_without_one() {
    let dir = temp_dir("yolox-open");
    let file = dir.join("p.vpl");
    let text = format!(
        "model m = onnx({}, input: tensor<f32, [1, 3, 64, 64]>, decoder: yolov5(grid: true, strides: [16]));\n\
         pipeline p {{ test(resolution: 128x128, frames: 2) | infer(m) | json | file(\"out/r.jsonl\"); }}\n",
        fixture("box_yolox_open.onnx")
    );
    std::fs::write(&file, text).expect("write");
    let path = file.display().to_string();
    // The file leaves the anchors open; a run of the model on the declared input counts
    // them (issue 19): the mismatch is E0309 at check time, not a failed run.
    let check = vplc(&["check", &path]);
    let said = String::from_utf8_lossy(&check.stderr).to_string();
    assert_eq!(check.status.code(), Some(1), "{said}");
    assert!(
        said.contains("E0309") && said.contains("makes 16 anchors") && said.contains("has 5"),
        "{said}"
    );
    // Where the model cannot be run (no ONNX Runtime), the fit is left to the run: W0302.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["check", &path])
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .env("VPL_ONNXRUNTIME", dir.join("no-such-library.so"))
        .output()
        .expect("vplc runs");
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("W0302") && !said.contains("E0309"), "{said}");
}

/// The first record's tensor `data` of `model m = onnx(DECL, decoder: raw)` on one frame
/// of `source`.
fn raw_output(name: &str, decl: &str, source: &str) -> Vec<f64> {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    let text = format!(
        "model m = onnx({decl}, decoder: raw);\n\
         pipeline p {{ {source} | infer(m) | json | file(\"out/r.jsonl\"); }}\n"
    );
    std::fs::write(&file, text).expect("write");
    run_ok(&file, &[]);
    let records = lines(&dir.join("out/r.jsonl"));
    records[0]["tensors"][0]["data"]
        .as_array()
        .expect("a raw tensor")
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn four_channel_models_get_the_colours_and_an_opaque_fourth() {
    // box_in_rgbx.onnx outputs each input channel's mean: a red frame is (1, 0, 0, 1) in
    // RGBX and (0, 0, 1, 1) in BGRX (videotestsrc's red is 254 of 255 after conversion).
    let red = "test(pattern: red, resolution: 64x64, frames: 1)";
    let near = |got: &[f64], want: [f64; 4]| {
        got.len() == 4 && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 0.01)
    };
    let rgbx = raw_output("rgbx", &fixture("box_in_rgbx.onnx"), red);
    assert!(near(&rgbx, [1.0, 0.0, 0.0, 1.0]), "{rgbx:?}");
    let bgrx = raw_output(
        "bgrx",
        &format!("{}, color: bgr", fixture("box_in_rgbx.onnx")),
        red,
    );
    assert!(near(&bgrx, [0.0, 0.0, 1.0, 1.0]), "{bgrx:?}");
    // Per-channel normalisation reaches the fourth channel: (255 × scale − 0.5) / 0.5.
    let normalised = raw_output(
        "rgbx-mean",
        &format!(
            "{}, mean: [0.0, 0.0, 0.0, 0.5], std: [1.0, 1.0, 1.0, 0.5]",
            fixture("box_in_rgbx.onnx")
        ),
        red,
    );
    assert!(near(&normalised, [1.0, 0.0, 0.0, 1.0]), "{normalised:?}");
}

#[test]
fn nhwc_f16_and_u8_inputs_feed_the_same_picture_as_nchw_f32() {
    // The det_* fixtures share one head: out = W · pooled pixels + b, b = 320, 320, 64, 64
    // on the box rows and 0 on the class rows, so their raw outputs can be compared.
    let source = "test(pattern: smpte, resolution: 640x640, frames: 1)";
    let nchw = raw_output("nchw", &fixture("det_fixed1.onnx"), source);
    assert_eq!(nchw.len(), 6 * 8400);
    let nhwc = raw_output("nhwc", &fixture("det_nhwc.onnx"), source);
    let f16 = raw_output("f16", &fixture("det_f16.onnx"), source);
    // u8 models are fed 0..=255 unscaled: (out − b) is 255 × the f32 model's.
    let u8 = raw_output("u8", &fixture("det_u8.onnx"), source);
    let bias = |i: usize| [320.0, 320.0, 64.0, 64.0, 0.0, 0.0][i / 8400];
    for (i, want) in nchw.iter().enumerate() {
        assert!(
            (nhwc[i] - want).abs() < 1e-3,
            "nhwc {i}: {} vs {want}",
            nhwc[i]
        );
        assert!(
            (f16[i] - want).abs() <= 0.5 + want.abs() * 2e-3,
            "f16 {i}: {} vs {want}",
            f16[i]
        );
        let scaled = (want - bias(i)) * 255.0 + bias(i);
        assert!(
            (u8[i] - scaled).abs() <= 0.05 + scaled.abs() * 1e-4,
            "u8 {i}: {} vs {scaled}",
            u8[i]
        );
    }
    // Gray models run too (one channel, BT.601 luma).
    let gray = raw_output("gray", &fixture("det_gray.onnx"), source);
    assert_eq!(gray.len(), 6 * 2100);
}

/// NudeNet 3.4.2 (YOLOv8n, 18 classes, `names` in its metadata) without `labels:`: its
/// own labels, and the same boxes as scripts/reference_detect.py (numpy + onnxruntime)
/// on vtest.avi. Confidence 0.19 sits between the reference's scores (0.15 and 0.22 are
/// the nearest on these frames), so no box is borderline.
#[test]
fn nudenet_labels_come_from_its_metadata_and_boxes_match_the_reference() {
    let dir = temp_dir("nudenet-names");
    let file = dir.join("p.vpl");
    let model = common::asset("assets/models/nudenet_320n.onnx");
    let video = common::asset("assets/media/vtest.avi");
    let text = format!(
        "model nude = onnx({model:?}, input: tensor<f32, [1, 3, 320, 320]>, decoder: yolov8(confidence: 0.19, iou: 0.45));\n\
         pipeline p {{ file({video:?}) | decode | infer(nude) | json | file(\"out/r.jsonl\"); }}\n"
    );
    std::fs::write(&file, text).expect("write");
    let check = vplc(&["check", &file.display().to_string()]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    run_ok(&file, &["--max-frames", "20"]);
    let records = lines(&dir.join("out/r.jsonl"));
    assert_eq!(records.len(), 20);
    let reference_file = dir.join("reference.jsonl");
    let status = std::process::Command::new(common::root().join(".venv/bin/python"))
        .arg(common::root().join("scripts/reference_detect.py"))
        .args([&model, &video, "--frames", "20", "--confidence", "0.19"])
        .args(["--iou", "0.45", "--size", "320x320", "--out"])
        .arg(&reference_file)
        .status()
        .expect("the reference script runs");
    assert!(status.success());
    let reference = lines(&reference_file);
    let mut matched = 0;
    for (i, (ours, theirs)) in records.iter().zip(&reference).enumerate() {
        let ours = ours["objects"].as_array().expect("objects");
        let theirs = theirs["objects"].as_array().expect("objects");
        assert_eq!(
            ours.len(),
            theirs.len(),
            "frame {i}: {ours:?} vs {theirs:?}"
        );
        for (o, t) in ours.iter().zip(theirs) {
            assert_eq!(o["label"], t["label"], "frame {i}");
            let overlap = common::iou(bbox(o), bbox(t));
            assert!(overlap >= 0.9, "frame {i}: IoU {overlap:.3}: {o} vs {t}");
            matched += 1;
        }
    }
    assert_eq!(matched, 3, "FEET_COVERED on frames 2, 15 and 16");
    assert_eq!(records[15]["objects"][0]["label"], "FEET_COVERED");
}

#[test]
fn a_two_output_decoder_runs_on_crops() {
    // yolov5 finds a dog at (44, 22) 40 x 20; ssd runs on that crop, stretched to 64 x 64
    // (1.6 x, 3.2 y), and its two faces come back in frame pixels.
    let dir = temp_dir("ssd-crops");
    let file = dir.join("p.vpl");
    let text = format!(
        "model y5 = onnx({}, labels: [\"cat\", \"dog\"], decoder: yolov5());\n\
         model face = onnx({}, labels: [\"face\"], decoder: ssd(strides: [32, 64], per_cell: [2, 3]));\n\
         pipeline p {{ test(resolution: 128x128, frames: 1) | infer(y5) | infer(face, on: [\"dog\"]) | json | file(\"out/r.jsonl\"); }}\n",
        fixture("box_yolov5.onnx"),
        fixture("box_ssd.onnx")
    );
    std::fs::write(&file, text).expect("write");
    run_ok(&file, &[]);
    let records = lines(&dir.join("out/r.jsonl"));
    let objects = records[0]["objects"].as_array().expect("objects");
    let faces: Vec<serde_json::Value> = objects
        .iter()
        .filter(|o| o["label"] == "face")
        .cloned()
        .collect();
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    assert_boxes(
        &faces,
        &[
            (
                "face",
                sigmoid(2.0),
                [44.0 + 30.0 / 1.6, 22.0 + 14.0 / 3.2, 12.5, 3.75],
            ),
            ("face", sigmoid(1.0), [44.0 + 10.0, 22.0 + 5.0, 20.0, 10.0]),
        ],
    );
}

/// Each box decoder on real 768x576 frames (letterboxed for yolov5 and ds_yolo: 96 rows of
/// padding; stretched for detr, ssd and detectnet_v2) against scripts/reference_boxes.py, numpy + onnxruntime
/// written from the models' own definitions: the same objects, IoU ≥ 0.999.
#[test]
fn box_decoders_match_the_numpy_reference_on_real_frames() {
    let video = common::asset("assets/media/vtest.avi");
    let cases: [(&str, &str, &str, &[&str]); 6] = [
        ("box_yolov5.onnx", "yolov5", "yolov5()", &[]),
        (
            "box_yolox.onnx",
            "yolov5",
            "yolov5(grid: true, strides: [32, 64])",
            &["--grid", "32,64"],
        ),
        (
            "box_detr2.onnx",
            "detr",
            "detr(activation: softmax)",
            &["--activation", "softmax", "--boxes", "pred_boxes"],
        ),
        (
            "box_ssd.onnx",
            "ssd",
            "ssd(strides: [32, 64], per_cell: [2, 3])",
            &[
                "--boxes",
                "regressors",
                "--strides",
                "32,64",
                "--per-cell",
                "2,3",
            ],
        ),
        // DeepStream-Yolo's decoded rows: overlapping, past the input's edge, in the
        // padding, under a pixel (scripts/make_decoder_models.py, DS_YOLO_ROWS).
        ("dec_ds_yolo_rows.onnx", "ds_yolo", "ds_yolo()", &[]),
        // DetectNet_v2's grids (TrafficCamNet's shapes), stretched: cells that overlap,
        // cross the input's corners, score low (DETECTNET_CELLS).
        (
            "dec_detectnet_cells.onnx",
            "detectnet_v2",
            "detectnet_v2()",
            &[],
        ),
    ];
    for (file, kind, decoder, reference_args) in cases {
        let dir = temp_dir(&format!("reference-{file}"));
        let program = dir.join("p.vpl");
        let model = common::asset(&format!("tests/fixtures/models/{file}"));
        std::fs::write(
            &program,
            format!(
                "model m = onnx({model:?}, decoder: {decoder});\n\
                 pipeline p {{ file({video:?}) | decode | infer(m) | json | file(\"out/r.jsonl\"); }}\n"
            ),
        )
        .expect("write");
        run_ok(&program, &["--max-frames", "2"]);
        let ours = lines(&dir.join("out/r.jsonl"));
        let reference_file = dir.join("reference.jsonl");
        let status = std::process::Command::new(common::root().join(".venv/bin/python"))
            .arg(common::root().join("scripts/reference_boxes.py"))
            .args([kind, &model, &video, "--frames", "2"])
            .args(reference_args)
            .arg("--out")
            .arg(&reference_file)
            .status()
            .expect("the reference script runs");
        assert!(status.success(), "{file}");
        let theirs = lines(&reference_file);
        assert_eq!((ours.len(), theirs.len()), (2, 2), "{file}");
        for (o, t) in ours.iter().zip(&theirs) {
            let (o, t) = (
                o["objects"].as_array().expect("objects"),
                t["objects"].as_array().expect("objects"),
            );
            assert!(!o.is_empty(), "{file}: no objects");
            assert_eq!(o.len(), t.len(), "{file}: {o:?} vs {t:?}");
            for (a, b) in o.iter().zip(t) {
                assert_eq!(a["class_id"], b["class_id"], "{file}");
                let (ca, cb) = (a["confidence"].as_f64(), b["confidence"].as_f64());
                assert!(
                    (ca.unwrap_or(0.0) - cb.unwrap_or(1.0)).abs() < 1e-4,
                    "{file}: {a} vs {b}"
                );
                let overlap = common::iou(bbox(a), bbox(b));
                assert!(overlap >= 0.999, "{file}: IoU {overlap:.4}: {a} vs {b}");
            }
        }
    }
}

/// Issue 22: the DeepStream-Yolo app config, imported with `vplc import deepstream` and its
/// model pointed at DeepStream-Yolo's `[1, N, 6]` rows (dec_ds_yolo_rows.onnx), finds on
/// vtest.avi the boxes scripts/reference_boxes.py's transcription of `NvDsInferParseYolo` +
/// NMS finds on the same frames as streammux gives them (stretched to its 640x640), within a
/// pixel.
#[test]
fn the_imported_deepstream_yolo_app_finds_the_reference_boxes() {
    let dir = temp_dir("import-yolo-reference");
    let fixture = common::root().join("tests/fixtures/deepstream/yolo");
    let model = common::asset("tests/fixtures/models/dec_ds_yolo_rows.onnx");
    let video = common::asset("assets/media/vtest.avi");
    for name in [
        "deepstream_app_config.txt",
        "config_infer_primary_yoloV8.txt",
        "labels.txt",
    ] {
        let text = std::fs::read_to_string(fixture.join(name)).expect("fixture");
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("onnx-file=") {
                    format!("onnx-file={model}")
                } else if l.starts_with("uri=") {
                    format!("uri=file://{video}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(dir.join(name), text + "\n").expect("write");
    }
    let program = dir.join("yolo.vpl");
    let o = vplc(&[
        "import",
        "deepstream",
        dir.join("deepstream_app_config.txt").to_str().unwrap(),
        "-o",
        program.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The imported program, with its detections written as records.
    let text = std::fs::read_to_string(&program).expect("imported");
    let end = text.rfind('}').expect("a pipeline");
    let text = format!(
        "{}    seen | json | file(\"out/r.jsonl\");\n}}\n",
        &text[..end]
    );
    assert!(text.contains("ds_yolo("), "{text}");
    assert!(text.contains("scale(640x640)"), "{text}");
    std::fs::write(&program, &text).expect("write");
    run_ok(&program, &["--max-frames", "2"]);
    let ours = lines(&dir.join("out/r.jsonl"));
    // The reference reads the frames as streammux gives them: stretched to 640x640.
    let stretched = dir.join("vtest_640.mkv");
    let status = std::process::Command::new("gst-launch-1.0")
        .args([
            "-q",
            "filesrc",
            &format!("location={video}"),
            "!",
            "decodebin",
            "!",
        ])
        .args([
            "identity",
            "eos-after=3",
            "!",
            "videoconvert",
            "!",
            "videoscale",
            "!",
        ])
        .args([
            "video/x-raw,format=I420,width=640,height=640",
            "!",
            "matroskamux",
            "!",
        ])
        .args(["filesink", &format!("location={}", stretched.display())])
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success());
    let reference_file = dir.join("reference.jsonl");
    let status = std::process::Command::new(common::root().join(".venv/bin/python"))
        .arg(common::root().join("scripts/reference_boxes.py"))
        .args([
            "ds_yolo",
            &model,
            stretched.to_str().unwrap(),
            "--frames",
            "2",
        ])
        .arg("--out")
        .arg(&reference_file)
        .status()
        .expect("the reference script runs");
    assert!(status.success());
    let theirs = lines(&reference_file);
    assert_eq!((ours.len(), theirs.len()), (2, 2));
    for (o, t) in ours.iter().zip(&theirs) {
        // Boxes in the frame's own pixels: the stretch undone where vpl reports the source's.
        let (sx, sy) = (
            o["width"].as_f64().unwrap_or(640.0) / 640.0,
            o["height"].as_f64().unwrap_or(640.0) / 640.0,
        );
        let (o, t) = (
            o["objects"].as_array().expect("objects"),
            t["objects"].as_array().expect("objects"),
        );
        assert!(!o.is_empty(), "no objects");
        assert_eq!(o.len(), t.len(), "{o:?} vs {t:?}");
        for (a, b) in o.iter().zip(t) {
            assert_eq!(a["class_id"], b["class_id"], "{a} vs {b}");
            let (ca, cb) = (a["confidence"].as_f64(), b["confidence"].as_f64());
            assert!(
                (ca.unwrap_or(0.0) - cb.unwrap_or(1.0)).abs() < 1e-3,
                "{a} vs {b}"
            );
            let (ba, bb) = (&a["bbox"], &b["bbox"]);
            for (key, s) in [("x", sx), ("y", sy), ("w", sx), ("h", sy)] {
                let (va, vb) = (
                    ba[key].as_f64().unwrap_or(f64::NAN),
                    bb[key].as_f64().unwrap_or(0.0) * s,
                );
                assert!((va - vb).abs() <= 1.0, "{key}: {a} vs {b}");
            }
        }
    }
}
