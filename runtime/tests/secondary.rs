//! `vplinfer` in crop mode (its spec's `crops`): a secondary classifier on the crops of the
//! upstream objects, one label per object.

use std::path::PathBuf;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_check::Harness;
use vpl_compiler::plan::{
    CropSpec, DType, Decoder, InferenceSpec, Layout, PixelOrder, PreprocessSpec, Resize,
};
use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};

const WIDTH: usize = 320;
const HEIGHT: usize = 240;

fn init() {
    gst::init().unwrap();
    vpl_runtime::elements::register().unwrap();
}

fn onnxruntime() -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/onnxruntime.path");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", file.display()));
    text.trim().to_string()
}

fn classifier() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/models/colour_classifier.onnx")
        .display()
        .to_string()
}

/// The spec the plan writes for `infer(colours, on: ["person"])` with `model colours =
/// onnx(PATH, decoder: classify(), labels: ["red", "green", "blue"])`: a 64x64 input,
/// stretched; its group is the model's path.
fn classifier_spec(model: &str) -> InferenceSpec {
    InferenceSpec {
        model: model.to_string(),
        model_name: "colours".into(),
        group: model.to_string(),
        stream: 0,
        batch: 1,
        batch_timeout_ns: 40_000_000,
        every: 1,
        preprocess: PreprocessSpec {
            width: 64,
            height: 64,
            layout: Layout::Nchw,
            order: PixelOrder::Rgb,
            resize: Resize::Stretch,
            dtype: DType::F32,
            scale: 1.0 / 255.0,
            mean: vec![0.0],
            std: vec![1.0],
        },
        decoder: Decoder::Classify { top: 1 },
        output: String::new(),
        labels: vec!["red".into(), "green".into(), "blue".into()],
        crops: Some(CropSpec {
            labels: vec!["person".into()],
            min_size: None,
        }),
        batch_axes: Vec::new(),
    }
}

/// `vplinfer` with the spec `text`.
fn infer_element(text: &str) -> gst::Element {
    gst::ElementFactory::make("vplinfer")
        .property("library", onnxruntime())
        .property(InferenceSpec::PROPERTY, text)
        .build()
        .unwrap()
}

/// A 320x240 I420 frame: pure red on the left half, pure blue on the right.
fn red_blue_frame() -> Vec<u8> {
    let (cw, ch) = (WIDTH / 2, HEIGHT / 2);
    let mut data = Vec::with_capacity(WIDTH * HEIGHT + 2 * cw * ch);
    for _ in 0..HEIGHT {
        for x in 0..WIDTH {
            data.push(if x < WIDTH / 2 { 81 } else { 41 });
        }
    }
    for (red, blue) in [(90u8, 240u8), (240, 110)] {
        for _ in 0..ch {
            for x in 0..cw {
                data.push(if x < cw / 2 { red } else { blue });
            }
        }
    }
    data
}

fn object(label: &str, x: f32, y: f32, w: f32, h: f32) -> Object {
    Object {
        class_id: 0,
        label: label.into(),
        confidence: 0.9,
        x,
        y,
        w,
        h,
        ..Object::default()
    }
}

/// Pushes the red/blue frame with a red person, a blue person and a car through a
/// `vplinfer` in crop mode, and gives back the objects of the meta that comes out.
fn classify_objects(min_width: u32) -> Vec<Object> {
    classify_objects_with(&classifier(), min_width)
}

fn classify_objects_with(model: &str, min_width: u32) -> Vec<Object> {
    init();
    let spec = InferenceSpec {
        crops: Some(CropSpec {
            labels: vec!["person".into()],
            min_size: Some((min_width, 0)),
        }),
        // A group of its own, so the batch counts are this element's alone.
        group: format!("secondary-{model}-{min_width}"),
        ..classifier_spec(model)
    };
    let infer = infer_element(&spec.to_property());
    let mut h = Harness::with_element(&infer, Some("sink"), Some("src"));
    h.set_src_caps_str("video/x-raw,format=I420,width=320,height=240,framerate=10/1");
    let mut buffer = gst::Buffer::from_mut_slice(red_blue_frame());
    VplObjectsMeta::set(
        buffer.get_mut().unwrap(),
        ObjectsData {
            source_width: WIDTH as u32,
            source_height: HEIGHT as u32,
            objects: vec![
                object("person", 21.0, 33.0, 50.0, 101.0),
                object("person", 201.0, 61.0, 60.0, 120.0),
                object("car", 100.0, 150.0, 120.0, 40.0),
            ],
            ..ObjectsData::default()
        },
    );
    h.push(buffer).unwrap();
    let out = h.pull().unwrap();
    let data = VplObjectsMeta::get(&out).expect("the meta is kept");
    assert_eq!(data.objects.len(), 3);
    // The crops of one frame go to the model together, in one batch (none when no crop).
    let batches = infer.property::<u64>("batches");
    let ran = data.objects.iter().any(|o| !o.labels.is_empty());
    assert_eq!(batches, u64::from(ran));
    data.objects.clone()
}

#[test]
fn each_person_gets_the_colour_of_its_crop_and_the_car_none() {
    let objects = classify_objects(0);
    let labels: Vec<Vec<&str>> = objects
        .iter()
        .map(|o| o.labels.iter().map(|l| l.label.as_str()).collect())
        .collect();
    assert_eq!(
        labels,
        vec![vec!["red"], vec!["blue"], vec![]],
        "{objects:?}"
    );
    for o in &objects[..2] {
        let p = o.labels[0].confidence;
        assert!(p > 0.34 && p <= 1.0, "{o:?}");
    }
    // The rest of the objects is as it came in.
    assert_eq!(objects[0].x, 21.0);
    assert_eq!(objects[2].label, "car");
}

/// A model whose batch axis is fixed at 1 runs once per crop; every crop still gets its
/// label, and the element still submits one batch for the frame.
#[test]
fn a_fixed_batch_1_classifier_labels_every_crop() {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/models/cls_fixed.onnx")
        .display()
        .to_string();
    let objects = classify_objects_with(&model, 0);
    let counts: Vec<usize> = objects.iter().map(|o| o.labels.len()).collect();
    assert_eq!(counts, [1, 1, 0], "{objects:?}");
    for o in &objects[..2] {
        let (label, p) = (&o.labels[0].label, o.labels[0].confidence);
        assert!(["red", "green", "blue"].contains(&label.as_str()) && p > 0.0 && p <= 1.0);
    }
}

#[test]
fn boxes_smaller_than_min_size_are_not_classified() {
    let objects = classify_objects(100);
    assert!(objects.iter().all(|o| o.labels.is_empty()), "{objects:?}");
}

#[test]
fn a_frame_without_matching_objects_passes_untouched() {
    init();
    let infer = infer_element(&classifier_spec(&classifier()).to_property());
    let mut h = Harness::with_element(&infer, Some("sink"), Some("src"));
    h.set_src_caps_str("video/x-raw,format=I420,width=320,height=240,framerate=10/1");
    h.push(gst::Buffer::from_mut_slice(red_blue_frame()))
        .unwrap();
    let out = h.pull().unwrap();
    assert!(VplObjectsMeta::get(&out).is_none());
    assert_eq!(
        out.map_readable().unwrap().as_slice(),
        &red_blue_frame()[..]
    );
}

/// Crop mode runs classifiers, detectors and raw models (tests/models.rs); a decoder the
/// element does not know is refused when it starts, in crop mode as on whole frames.
#[test]
fn crop_mode_refuses_an_unknown_decoder() {
    init();
    let mut spec: serde_json::Value =
        serde_json::from_str(&classifier_spec(&classifier()).to_property()).unwrap();
    spec["decoder"] = serde_json::json!({"kind": "no-such-decoder"});
    let infer = infer_element(&spec.to_string());
    assert!(infer.set_state(gst::State::Paused).is_err());
    let _ = infer.set_state(gst::State::Null);
}

/// Found by a user (issue 19): with `every: N`, a tracked object that was missing from one
/// frame (the detector missed it) came back on a skipped frame without its label: the
/// labels of a track are kept while it is away, and given back when it returns.
#[test]
fn a_track_missing_for_a_frame_gets_its_label_back_on_a_skipped_frame() {
    init();
    let spec = InferenceSpec {
        every: 3,
        group: "secondary-missing-track".into(),
        ..classifier_spec(&classifier())
    };
    let infer = infer_element(&spec.to_property());
    let mut h = Harness::with_element(&infer, Some("sink"), Some("src"));
    h.set_src_caps_str("video/x-raw,format=I420,width=320,height=240,framerate=10/1");
    let tracked = |id| Object {
        track_id: Some(id),
        ..object("person", 21.0, 33.0, 50.0, 101.0)
    };
    let mut labels = Vec::new();
    for (frame, objects) in [
        vec![tracked(7)],
        Vec::new(),
        vec![tracked(7)],
        vec![tracked(7)],
    ]
    .into_iter()
    .enumerate()
    {
        let mut buffer = gst::Buffer::from_mut_slice(red_blue_frame());
        VplObjectsMeta::set(
            buffer.get_mut().unwrap(),
            ObjectsData {
                frame: frame as u64,
                source_width: WIDTH as u32,
                source_height: HEIGHT as u32,
                objects,
                ..ObjectsData::default()
            },
        );
        h.push(buffer).unwrap();
        let out = h.pull().unwrap();
        let data = VplObjectsMeta::get(&out).expect("the meta is kept");
        labels.push(
            data.objects
                .iter()
                .map(|o| o.labels.iter().map(|l| l.label.clone()).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        labels,
        [
            vec![vec!["red".to_string()]],
            vec![],
            vec![vec!["red".to_string()]],
            vec![vec!["red".to_string()]],
        ],
        "frames 0 and 3 inferred, 1 without the person, 2 skipped"
    );
}
