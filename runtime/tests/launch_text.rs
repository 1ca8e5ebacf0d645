//! `vplc run --emit gst`: the printed gst-launch-1.0 line reproduces the plan, down to the
//! per-pad properties of request pads (a compositor's cells).

use std::path::Path;

use gstreamer as gst;
use gstreamer::prelude::*;
use vpl_compiler::host::MemoryHost;
use vpl_compiler::plan::InferenceSpec;
use vpl_compiler::{SourceMap, compile};

/// The launch line of the only pipeline of `text`.
fn launch_line(text: &str) -> String {
    let mut sources = SourceMap::default();
    let host = MemoryHost::new();
    let c = compile(&mut sources, "t.vpl", Path::new("t.vpl"), text, &host);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let (_, plan) = c.lower(0).expect("lowers");
    plan.launch_text()
}

fn pad_int(pad: &gst::Pad, name: &str) -> i64 {
    let value = pad.property_value(name);
    value
        .get::<i32>()
        .map(i64::from)
        .or_else(|_| value.get::<i64>())
        .expect("an integer property")
}

#[test]
fn tile_positions_survive_the_launch_line() {
    gst::init().expect("gstreamer");
    let line = launch_line(
        "pipeline p {\n  [test(ball, 320x240, frames: 3), test(snow, 320x240, frames: 3), test(red, 320x240, frames: 3)]\n    | tile(cols: 2, rows: 2, resolution: 640x480)\n    | discard;\n}\n",
    );
    assert!(line.contains("::xpos="), "{line}");
    let pipeline = gst::parse::launch(&line)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let compositor = pipeline
        .iterate_elements()
        .into_iter()
        .flatten()
        .find(|e| e.factory().is_some_and(|f| f.name() == "compositor"))
        .expect("a compositor");
    let mut cells: Vec<(i64, i64, i64, i64)> = compositor
        .sink_pads()
        .iter()
        .map(|pad| {
            (
                pad_int(pad, "xpos"),
                pad_int(pad, "ypos"),
                pad_int(pad, "width"),
                pad_int(pad, "height"),
            )
        })
        .collect();
    cells.sort();
    assert_eq!(
        cells,
        vec![(0, 0, 320, 240), (0, 240, 320, 240), (320, 0, 320, 240)],
        "{line}"
    );
    // And it runs: three frames through the compositor to the end.
    pipeline.set_state(gst::State::Playing).expect("plays");
    let bus = pipeline.bus().expect("bus");
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(20),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("ends");
    pipeline.set_state(gst::State::Null).expect("stops");
    assert!(matches!(msg.view(), gst::MessageView::Eos(_)), "{msg:?}");
}

/// `infer`'s spec is JSON inside the launch line: quoted and escaped so that gst-launch
/// gives `vplinfer` the spec the plan wrote, labels with spaces, quotes and newlines
/// included.
#[test]
fn an_inference_spec_survives_the_launch_line() {
    gst::init().expect("gstreamer");
    vpl_runtime::elements::register().expect("vpl elements register");
    let model = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/models/cls_dynamic.onnx"),
    )
    .expect("the fixture model");
    let labels = (0..10)
        .map(|i| format!("class \\\"{i}\\\" = {i}; a, b!"))
        .collect::<Vec<_>>()
        .join("\", \"");
    let text = format!(
        "model m = onnx(\"m.onnx\", decoder: classify(top: 2), labels: [\"{labels}\"]);\n\
         pipeline p {{\n  test(ball, 320x240, frames: 1) | infer(m) | json | stdout;\n}}\n"
    );
    let mut sources = SourceMap::default();
    let host = MemoryHost::new().with_file("m.onnx", model);
    let c = compile(&mut sources, "t.vpl", Path::new("t.vpl"), &text, &host);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let (_, plan) = c.lower(0).expect("lowers");
    let planned = plan
        .elements
        .iter()
        .find_map(vpl_compiler::plan::Element::inference_spec)
        .expect("a vplinfer");
    assert_eq!(planned.labels[3], "class \"3\" = 3; a, b!");
    let line = plan.launch_text();
    let pipeline = gst::parse::launch(&line)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let infer = pipeline
        .iterate_elements()
        .into_iter()
        .flatten()
        .find(|e| e.factory().is_some_and(|f| f.name() == "vplinfer"))
        .expect("a vplinfer");
    let held: String = infer.property(InferenceSpec::PROPERTY);
    assert_eq!(InferenceSpec::from_property(&held), Ok(planned), "{line}");
}
