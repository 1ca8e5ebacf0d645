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
                 ! vplinfer model={} library={} threads={threads} sessions={sessions} \
                 group=g{sessions}x{threads} stream={s} ! fakesink sync=false",
                video.display(),
                frames,
                model.display(),
                library.display()
            )
        };
        let description: Vec<String> = (0..4).map(stream).collect();
        let pipeline = gst::parse::launch(&description.join("  "))?;
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
