//! `yolov8_seg`, `yolov8_pose` and `semantic` end to end with the real `vplc` binary on
//! vtest.avi (768x576, letterboxed into 640x640): the fixture models of
//! scripts/make_segpose_models.py output known constants, and their records are compared
//! with scripts/reference_segpose.py's independent decoding (numpy + onnxruntime):
//! same objects, boxes IoU ≥ 0.9, masks IoU ≥ 0.9, keypoints within 1 px.

mod common;

use std::process::Command;

use common::{asset, bbox, iou, lines, root, run_ok, temp_dir};
use serde_json::Value;

const WIDTH: usize = 768;
const HEIGHT: usize = 576;

/// Runs `model` (a declaration) on 3 frames of vtest.avi into records.
fn records(name: &str, model: &str) -> Vec<Value> {
    let dir = temp_dir(name);
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "{model}\n\npipeline p {{\n    file({:?}) | decode | infer(m) | json | file(\"out/r.jsonl\");\n}}\n",
            asset("assets/media/vtest.avi")
        ),
    )
    .expect("write program");
    run_ok(&program, &["--max-frames", "3"]);
    let records = lines(&dir.join("out/r.jsonl"));
    assert_eq!(records.len(), 3);
    records
}

fn fixture(file: &str) -> String {
    asset(&format!("tests/fixtures/models/{file}"))
}

/// The reference's objects for `model` decoded as `decoder`.
fn reference(name: &str, model: &str, decoder: &str) -> Vec<Value> {
    let out = temp_dir(&format!("{name}-ref")).join("reference.json");
    let status = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("scripts/reference_segpose.py"))
        .args([&fixture(model), decoder, "--source", "768x576", "--out"])
        .arg(&out)
        .status()
        .expect("the reference script runs");
    assert!(status.success());
    let text = std::fs::read_to_string(&out).expect("reference written");
    let v: Value = serde_json::from_str(&text).expect("reference is JSON");
    v["objects"].as_array().expect("objects").clone()
}

/// A COCO RLE (column by column, from 0) over `width x height` → row-major pixels.
fn unrle(counts: &[Value], width: usize, height: usize) -> Vec<bool> {
    let mut column_major = Vec::with_capacity(width * height);
    for (i, n) in counts.iter().enumerate() {
        let n = n.as_u64().expect("a count") as usize;
        column_major.extend(std::iter::repeat_n(i % 2 == 1, n));
    }
    assert_eq!(column_major.len(), width * height, "the runs cover the box");
    let mut rows = vec![false; width * height];
    for (i, v) in column_major.into_iter().enumerate() {
        let (col, row) = (i / height, i % height);
        rows[row * width + col] = v;
    }
    rows
}

/// vpl's mask record (`rle` on the object's box) → the whole frame's pixels.
fn frame_mask(mask: &Value) -> Vec<bool> {
    assert_eq!(mask["format"], "rle", "{mask}");
    let b: Vec<usize> = mask["box"]
        .as_array()
        .expect("box")
        .iter()
        .map(|v| v.as_u64().expect("whole pixels") as usize)
        .collect();
    assert_eq!(
        mask["size"],
        serde_json::json!([b[3], b[2]]),
        "size is [h, w]"
    );
    let inner = unrle(mask["counts"].as_array().expect("counts"), b[2], b[3]);
    let mut frame = vec![false; WIDTH * HEIGHT];
    for row in 0..b[3] {
        for col in 0..b[2] {
            frame[(b[1] + row) * WIDTH + b[0] + col] = inner[row * b[2] + col];
        }
    }
    frame
}

fn reference_mask(mask: &Value) -> Vec<bool> {
    assert_eq!(mask["size"], serde_json::json!([HEIGHT, WIDTH]));
    unrle(mask["counts"].as_array().expect("counts"), WIDTH, HEIGHT)
}

fn mask_iou(a: &[bool], b: &[bool]) -> f64 {
    let inter = a.iter().zip(b).filter(|(x, y)| **x && **y).count();
    let union = a.iter().zip(b).filter(|(x, y)| **x || **y).count();
    inter as f64 / union.max(1) as f64
}

/// Each record's objects match the reference's in order: class, confidence, box.
fn same_objects<'a>(record: &'a Value, theirs: &[Value]) -> Vec<(&'a Value, usize)> {
    let ours = record["objects"].as_array().expect("objects");
    assert_eq!(ours.len(), theirs.len(), "{record}\nreference: {theirs:?}");
    ours.iter()
        .zip(theirs)
        .enumerate()
        .map(|(i, (o, t))| {
            assert_eq!(o["class_id"], t["class_id"], "{o} / {t}");
            let (c, d) = (o["confidence"].as_f64(), t["confidence"].as_f64());
            assert!(
                (c.unwrap_or(0.0) - d.unwrap_or(1.0)).abs() < 1e-4,
                "{o} / {t}"
            );
            let overlap = iou(bbox(o), bbox(t));
            assert!(overlap >= 0.9, "box IoU {overlap:.3}: {o} / {t}");
            (o, i)
        })
        .collect()
}

#[test]
fn segmentation_masks_match_the_reference() {
    let records = records(
        "seg",
        &format!(
            "model m = onnx({:?}, labels: [\"person\", \"car\"], decoder: yolov8_seg());",
            fixture("seg_fixture.onnx")
        ),
    );
    let theirs = reference("seg", "seg_fixture.onnx", "seg");
    assert_eq!(
        theirs.len(),
        2,
        "NMS, the threshold and the padding leave 2 of 5: {theirs:?}"
    );
    for record in &records {
        for (o, i) in same_objects(record, &theirs) {
            let ours = frame_mask(&o["mask"]);
            let reference = reference_mask(&theirs[i]["mask"]);
            let overlap = mask_iou(&ours, &reference);
            assert!(overlap >= 0.9, "mask IoU {overlap:.3} for {}", o["label"]);
            // Cropped to the box: nothing outside it.
            let b = bbox(o);
            let outside = ours.iter().enumerate().filter(|(p, set)| {
                let (x, y) = ((p % WIDTH) as f64 + 0.5, (p / WIDTH) as f64 + 0.5);
                **set && (x < b.x || y < b.y || x > b.x + b.w || y > b.y + b.h)
            });
            assert_eq!(outside.count(), 0, "{}'s mask leaves its box", o["label"]);
        }
    }
    // The person's mask is the prototypes' disc: radius 48 input pixels, 57.6 source.
    let area = frame_mask(&records[0]["objects"][0]["mask"])
        .iter()
        .filter(|v| **v)
        .count() as f64;
    let disc = std::f64::consts::PI * 57.6 * 57.6;
    assert!(
        (area - disc).abs() / disc < 0.03,
        "{area} pixels, {disc:.0} expected"
    );
}

/// Signed area of a polygon `[x0, y0, x1, y1, ...]` (shoelace).
fn signed_area(points: &[Value]) -> f64 {
    let p: Vec<f64> = points
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect();
    let n = p.len() / 2;
    (0..n)
        .map(|i| {
            let j = (i + 1) % n;
            p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1]
        })
        .sum::<f64>()
        / 2.0
}

#[test]
fn polygons_outline_the_same_pixels_as_rle() {
    let declare = |masks: &str| {
        format!(
            "model m = onnx({:?}, labels: [\"background\", \"road\", \"car\"], decoder: semantic(masks: {masks}));",
            fixture("sem_fixture.onnx")
        )
    };
    let rle = records("sem-rle", &declare("rle"));
    let polygons = records("sem-polygons", &declare("polygons"));
    let (a, b) = (
        rle[0]["objects"].as_array().expect("objects"),
        polygons[0]["objects"].as_array().expect("objects"),
    );
    assert_eq!(a.len(), 3);
    assert_eq!(a.len(), b.len());
    for (r, p) in a.iter().zip(b) {
        assert_eq!(p["mask"]["format"], "polygons");
        let pixels = frame_mask(&r["mask"]).iter().filter(|v| **v).count() as f64;
        // Outlines clockwise, holes counter-clockwise: the signed areas add up.
        let area: f64 = p["mask"]["polygons"]
            .as_array()
            .expect("polygons")
            .iter()
            .map(|poly| signed_area(poly.as_array().expect("points")))
            .sum();
        assert_eq!(area, pixels, "{}", r["label"]);
    }
    // The background has the car as a hole.
    assert_eq!(b[0]["mask"]["polygons"].as_array().map(Vec::len), Some(3));
}

#[test]
fn semantic_regions_match_the_reference() {
    let records = records(
        "sem",
        &format!(
            "model m = onnx({:?}, labels: [\"background\", \"road\", \"car\"], decoder: semantic());",
            fixture("sem_fixture.onnx")
        ),
    );
    let theirs = reference("sem", "sem_fixture.onnx", "semantic");
    assert_eq!(theirs.len(), 3);
    for (o, i) in same_objects(&records[0], &theirs) {
        let overlap = mask_iou(&frame_mask(&o["mask"]), &reference_mask(&theirs[i]["mask"]));
        assert!(overlap >= 0.9, "mask IoU {overlap:.3} for {}", o["label"]);
    }
    assert_eq!(records[0]["objects"][2]["label"], "car");
}

#[test]
fn pose_keypoints_match_the_reference() {
    let records = records(
        "pose",
        &format!(
            "model m = onnx({:?}, decoder: yolov8_pose());",
            fixture("pose_fixture.onnx")
        ),
    );
    let theirs = reference("pose", "pose_fixture.onnx", "pose");
    assert_eq!(theirs.len(), 2, "NMS leaves 2 of 3");
    for record in &records {
        for (o, i) in same_objects(record, &theirs) {
            assert_eq!(o["label"], "person", "labels from the model's `names`");
            let ours = o["keypoints"].as_array().expect("keypoints");
            let reference = theirs[i]["keypoints"].as_array().expect("keypoints");
            assert_eq!(ours.len(), 17);
            assert_eq!(ours.len(), reference.len());
            for (k, (a, b)) in ours.iter().zip(reference).enumerate() {
                let f = |v: &Value, j: usize| v[j].as_f64().expect("a number");
                let distance = (f(a, 0) - f(b, 0)).hypot(f(a, 1) - f(b, 1));
                assert!(distance <= 1.0, "keypoint {k}: {a} / {b}");
                assert!((f(a, 2) - f(b, 2)).abs() < 1e-6, "keypoint {k}: {a} / {b}");
            }
        }
    }
}
