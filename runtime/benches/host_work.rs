//! The host's work a frame before the model runs (issue 15, "CPU time a frame"): the CPU
//! path builds the 640x640 f32 input tensor from the decoded NV12 frame (12 bytes a pixel
//! of the input); the frame path of a GPU backend (`elements/infer/device.rs`) copies the
//! NV12 planes as they are (1.5 bytes a pixel of the frame) and leaves the tensor to the
//! kernel. Release build, one thread:
//!
//!     cargo bench -p vpl-runtime --bench host_work

use std::hint::black_box;
use std::time::Instant;

use vpl_runtime::engine::preprocess::{
    ChannelOrder, Frame, Layout, PixelFormat, PreprocessConfig, Resize, preprocess,
};

fn nv12(width: usize, height: usize) -> Vec<Vec<u8>> {
    let luma = (0..width * height).map(|i| (i * 7 % 251) as u8).collect();
    let chroma = (0..width * height / 2)
        .map(|i| (i * 13 % 241) as u8)
        .collect();
    vec![luma, chroma]
}

/// Milliseconds a call of `f`, the best of 5 rounds of `n` calls.
fn time(n: u32, mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_secs_f64() * 1e3 / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let config = PreprocessConfig {
        width: 640,
        height: 640,
        layout: Layout::Nchw,
        order: ChannelOrder::Rgb,
        resize: Resize::Letterbox,
        scale: 1.0 / 255.0,
        mean: vec![0.0],
        std: vec![1.0],
    };
    println!(
        "| frame | CPU path: f32 tensor built on the host | frame path: NV12 planes copied | ratio |"
    );
    println!("|---|---|---|---|");
    for (width, height) in [(768, 576), (1920, 1080)] {
        let planes = nv12(width, height);
        let frame = Frame {
            format: PixelFormat::Nv12,
            width: width as u32,
            height: height as u32,
            planes: planes.iter().map(Vec::as_slice).collect(),
            strides: vec![width, width],
        };
        let mut out = vec![0f32; config.values()];
        let cpu = time(20, || {
            black_box(preprocess(black_box(&frame), &config, &mut out));
        });
        let copy = time(200, || {
            let copied: Vec<Vec<u8>> = frame.planes.iter().map(|p| p.to_vec()).collect();
            black_box(copied);
        });
        println!(
            "| {width}x{height} NV12 | {cpu:.3} ms | {copy:.3} ms | {:.0}x less |",
            cpu / copy
        );
    }
}
