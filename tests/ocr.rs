//! OCR with the real PP-OCRv4 models (rapidocr-onnxruntime 1.4.4, fetched by
//! scripts/setup.sh): `text_boxes` on the detector, `ctc` on the recogniser's crops
//! (`resize: fixed_height`), on frames with known text (scripts/make_ocr_media.py), read
//! back as strings and compared with the independent numpy reference
//! (scripts/reference_ocr.py).

mod common;

use std::process::Command;

use common::{asset, bbox, iou, lines, root, run_ok, temp_dir};

/// The lines scripts/make_ocr_media.py draws on every frame, top to bottom.
const TEXTS: [&str; 4] = ["HELLO WORLD", "VPL 2026", "PARKING 42", "42"];

const FRAMES: usize = 6;

fn media() -> String {
    asset("tests/fixtures/media/ocr_lines_640x480.mkv")
}

/// The OCR program: detector, recogniser on the "text" crops (with `alphabet`, or the
/// model's metadata when `None`), records into `out/r.jsonl`.
fn program(alphabet: Option<&str>) -> String {
    let ctc = alphabet.map_or_else(|| "ctc()".to_string(), |a| format!("ctc(alphabet: {a:?})"));
    format!(
        "model det = onnx({det:?}, decoder: text_boxes(thresh: 0.3, box_thresh: 0.6, unclip_ratio: 1.5),\n\
         \x20   color: bgr, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],\n\
         \x20   input: tensor<f32, [1, 3, 480, 640]>);\n\
         model rec = onnx({rec:?}, decoder: {ctc}, resize: fixed_height,\n\
         \x20   color: bgr, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],\n\
         \x20   input: tensor<f32, [_, 3, 48, 320]>);\n\
         pipeline p {{ file({media:?}) | infer(det) | infer(rec, on: [\"text\"]) | json | file(\"out/r.jsonl\"); }}\n",
        det = asset("assets/models/ppocrv4_det.onnx"),
        rec = asset("assets/models/ppocrv4_rec.onnx"),
        media = media(),
    )
}

fn run(name: &str, text: &str, frames: usize) -> Vec<serde_json::Value> {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    std::fs::write(&file, text).expect("write");
    run_ok(&file, &["--max-frames", &frames.to_string()]);
    lines(&dir.join("out/r.jsonl"))
}

fn texts(record: &serde_json::Value) -> Vec<&str> {
    record["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["text"].as_str().unwrap_or("(no text)"))
        .collect()
}

#[test]
fn ppocr_reads_the_drawn_lines_as_the_reference_does() {
    let records = run("ocr", &program(None), FRAMES);
    assert_eq!(records.len(), FRAMES);
    for r in &records {
        assert_eq!(texts(r), TEXTS, "{r}");
        for o in r["objects"].as_array().expect("objects") {
            assert_eq!(o["label"], "text", "{o}");
            let confidence = o["confidence"].as_f64().unwrap_or(0.0);
            assert!((0.6..=1.0).contains(&confidence), "box_thresh 0.6: {o}");
        }
    }

    let dir = temp_dir("ocr-reference");
    let reference_file = dir.join("reference.jsonl");
    let status = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("scripts/reference_ocr.py"))
        .args([
            asset("assets/models/ppocrv4_det.onnx"),
            asset("assets/models/ppocrv4_rec.onnx"),
            media(),
        ])
        .args(["--frames", &FRAMES.to_string(), "--out"])
        .arg(&reference_file)
        .status()
        .expect("the reference script runs");
    assert!(status.success());
    let reference = lines(&reference_file);
    assert_eq!(reference.len(), FRAMES);
    for (i, (ours, theirs)) in records.iter().zip(&reference).enumerate() {
        assert_eq!(texts(ours), texts(theirs), "frame {i}");
        let ours = ours["objects"].as_array().expect("objects");
        let theirs = theirs["objects"].as_array().expect("objects");
        for (o, t) in ours.iter().zip(theirs) {
            let overlap = iou(bbox(o), bbox(t));
            assert!(
                overlap >= 0.9,
                "frame {i}: {o} matches the reference {t} at IoU {overlap:.3}"
            );
        }
    }
}

#[test]
fn an_alphabet_file_reads_as_the_metadata_does() {
    // PaddleOCR's dictionary is the model's `character` metadata, one a line: it holds
    // U+3000 (an ideographic space) as a character, which must not be trimmed away.
    let out = Command::new(root().join(".venv/bin/python"))
        .arg("-c")
        .arg(
            "import onnx, sys\n\
             m = onnx.load(sys.argv[1], load_external_data=False)\n\
             sys.stdout.buffer.write(dict((p.key, p.value) for p in m.metadata_props)['character'].encode())\n",
        )
        .arg(asset("assets/models/ppocrv4_rec.onnx"))
        .output()
        .expect("python runs");
    assert!(out.status.success());
    let dictionary = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(dictionary.lines().any(|l| l == "\u{3000}"));
    let dir = temp_dir("ocr-alphabet");
    let file = dir.join("keys.txt");
    std::fs::write(&file, format!("{dictionary}\n")).expect("write");
    let records = run(
        "ocr-alphabet-run",
        &program(Some(&file.display().to_string())),
        2,
    );
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(texts(r), TEXTS, "{r}");
    }
}

#[test]
fn a_recogniser_on_whole_frames_gives_each_frame_a_label() {
    let text = format!(
        "model rec = onnx({rec:?}, decoder: ctc(), resize: fixed_height,\n\
         \x20   color: bgr, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],\n\
         \x20   input: tensor<f32, [1, 3, 48, 320]>);\n\
         pipeline p {{ test(resolution: 320x48) | infer(rec) | json | file(\"out/r.jsonl\"); }}\n",
        rec = asset("assets/models/ppocrv4_rec.onnx"),
    );
    let records = run("ocr-whole-frames", &text, 2);
    assert_eq!(records.len(), 2);
    for r in &records {
        let labels = r["labels"].as_array().expect("labels");
        assert_eq!(labels.len(), 1, "{r}");
        assert_eq!(labels[0]["model"], "rec", "{r}");
        assert!(labels[0]["label"].is_string(), "{r}");
    }
}
