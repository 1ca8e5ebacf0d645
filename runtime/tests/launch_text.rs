//! `vplc run --emit gst`: the printed gst-launch-1.0 line reproduces the plan, down to the
//! per-pad properties of request pads (a compositor's cells).

use std::path::Path;

use gstreamer as gst;
use gstreamer::prelude::*;
use vpl_compiler::host::MemoryHost;
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
