//! Four streams of vtest.avi into the person detector (batch fixed at 1), with one session
//! of 2 threads against two sessions of 1 thread (`vplinfer sessions=`), twice each, in
//! this order. The figures in BENCHMARKS.md ("Sessions for a fixed-batch model").
//!
//!     cargo run --release --locked -p vpl-runtime --example bench_sessions [FRAMES]
//!
//! Run from the repository root after scripts/setup.sh; FRAMES per stream (default 20).

use std::path::PathBuf;
use std::time::Instant;

use gstreamer as gst;
use gstreamer::prelude::*;
use vpl_compiler::plan::{
    DType, Decoder, InferenceSpec, Layout, PixelOrder, PreprocessSpec, Resize,
};

/// The spec `infer(people)` gets for the person detector (`decoder: yolov8()`), stream `s`
/// of `group`.
fn spec(model: &str, group: String, stream: u32) -> InferenceSpec {
    InferenceSpec {
        model: model.to_string(),
        model_name: "people".into(),
        group,
        stream,
        batch: 1,
        batch_timeout_ns: 40_000_000,
        every: 1,
        preprocess: PreprocessSpec {
            width: 640,
            height: 640,
            layout: Layout::Nchw,
            order: PixelOrder::Rgb,
            resize: Resize::Letterbox,
            dtype: DType::F32,
            scale: 1.0 / 255.0,
            mean: vec![0.0],
            std: vec![1.0],
        },
        decoder: Decoder::Yolov8 {
            confidence: 0.25,
            iou: 0.45,
            max: 300,
        },
        output: String::new(),
        labels: Vec::new(),
        crops: None,
        batch_axes: Vec::new(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames: u32 = std::env::args().nth(1).map_or(Ok(20), |a| a.parse())?;
    gst::init()?;
    vpl_runtime::elements::register()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let library = std::fs::read_to_string(root.join("assets/onnxruntime.path"))?;
    let library = root.join(library.trim());
    let model = root.join("assets/models/person_yolov8s.onnx");
    let video = root.join("assets/media/vtest.avi");
    for (sessions, threads) in [(1u32, 2u32), (2, 1), (1, 2), (2, 1)] {
        let stream = |s: u32| {
            format!(
                "filesrc location={} ! avidemux ! avdec_msmpeg4 ! videoconvert \
                 ! video/x-raw,format=I420 ! identity eos-after={} ! queue \
                 ! vplinfer name=infer{s} library={} threads={threads} sessions={sessions} \
                 ! fakesink sync=false",
                video.display(),
                frames,
                library.display()
            )
        };
        let description: Vec<String> = (0..4).map(stream).collect();
        let pipeline = gst::parse::launch(&description.join("  "))?
            .downcast::<gst::Bin>()
            .map_err(|_| "not a bin")?;
        for s in 0..4 {
            let infer = pipeline
                .by_name(&format!("infer{s}"))
                .ok_or("no vplinfer")?;
            let group = format!("g{sessions}x{threads}");
            let model = model.display().to_string();
            infer.set_property(
                InferenceSpec::PROPERTY,
                spec(&model, group, s).to_property(),
            );
        }
        let start = Instant::now();
        pipeline.set_state(gst::State::Playing)?;
        let bus = pipeline.bus().ok_or("no bus")?;
        for message in bus.iter_timed(gst::ClockTime::from_seconds(600)) {
            match message.view() {
                gst::MessageView::Eos(_) => break,
                gst::MessageView::Error(e) => return Err(e.error().into()),
                _ => {}
            }
        }
        let wall = start.elapsed().as_secs_f64();
        pipeline.set_state(gst::State::Null)?;
        let total = 4 * frames;
        println!(
            "| {sessions} | {threads} | {total} | {wall:.1} | {:.2} |",
            f64::from(total) / wall
        );
    }
    Ok(())
}
