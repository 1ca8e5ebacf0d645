//! The GPU preprocessing kernels without a GPU: every kernel compiles with NVRTC for the
//! architectures CI names (NVRTC from `assets/nvrtc.path`, which `scripts/setup.sh`
//! writes), and the kernel's CPU reference (`gpu::reference`) agrees with the CPU
//! preprocessor on real decoded frames (vtest.avi and an odd-sized fixture, as NV12, I420,
//! RGB, BGRx and GRAY8) and maps boxes back as the CPU does. With the `gpu` feature, on a
//! machine with a GPU, the kernel itself is compared to the reference.

use std::path::{Path, PathBuf};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::AppSink;
use gstreamer_video::{VideoFrameRef, VideoInfo};
use vpl_runtime::engine::decode::{Yolov8Config, decode_yolov8};
use vpl_runtime::engine::preprocess::{
    ChannelOrder, Frame, Layout, Letterbox, PixelFormat, PreprocessConfig, Resize, try_preprocess,
    try_preprocess_u8,
};
use vpl_runtime::gpu::nvrtc::{self, KernelCache};
use vpl_runtime::gpu::reference::{BatchOutput, preprocess_batch};
use vpl_runtime::gpu::{CI_ARCHITECTURES, KERNELS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// NVRTC, loaded once for the process; a missing library fails the test (setup.sh
/// guarantees it), it does not skip it.
fn load_nvrtc() -> (i32, i32) {
    let Some(library) = nvrtc::find_library(&[Path::new(env!("CARGO_MANIFEST_DIR"))]) else {
        panic!(
            "libnvrtc not found: no ${} and no assets/nvrtc.path naming a file. Run \
             scripts/setup.sh (it installs nvidia-cuda-nvrtc into .venv and writes \
             assets/nvrtc.path)",
            nvrtc::LIBRARY_VARIABLE
        );
    };
    nvrtc::load(&library).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_kernel_compiles_with_nvrtc_for_the_ci_architectures() {
    let version = load_nvrtc();
    assert!(version.0 >= 12, "NVRTC {version:?} is older than CUDA 12");
    for kernel in KERNELS {
        for arch in CI_ARCHITECTURES {
            let ptx = nvrtc::compile(kernel, arch).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                ptx.contains(&format!(".target {arch}")),
                "{}: PTX for {arch} does not target it",
                kernel.name
            );
            for function in kernel.functions {
                assert!(
                    ptx.contains(&format!(".entry {function}(")),
                    "{}: no entry point {function} in the PTX for {arch}",
                    kernel.name
                );
            }
            // --fmad=false: no fused multiply-add anywhere, so rounding is the reference's.
            assert!(
                !ptx.contains("fma.rn.f32"),
                "{}: the PTX for {arch} fuses multiply-adds",
                kernel.name
            );
        }
    }
}

#[test]
fn a_kernel_that_does_not_compile_is_an_error_with_nvrtc_s_log() {
    load_nvrtc();
    let broken = vpl_runtime::gpu::KernelSource {
        name: "broken",
        source: "extern \"C\" __global__ void k(float* x) { x[0] = undeclared; }",
        functions: &["k"],
    };
    let error = nvrtc::compile(&broken, "sm_80").expect_err("must not compile");
    let text = error.to_string();
    assert!(
        text.contains("broken") && text.contains("undeclared"),
        "{text}"
    );
}

#[test]
fn the_ptx_cache_is_keyed_by_content_and_reused() {
    let version = load_nvrtc();
    let dir = std::env::temp_dir().join(format!("vpl-ptx-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = KernelCache::new(&dir);
    let kernel = &KERNELS[0];
    let ptx = cache.ptx(kernel, "sm_90").unwrap_or_else(|e| panic!("{e}"));
    let path = cache.path(kernel, "sm_90", version);
    assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some(&*ptx));
    // A second start reads the file instead of compiling.
    std::fs::write(&path, "// cached\n").expect("write");
    assert_eq!(
        cache.ptx(kernel, "sm_90").unwrap_or_else(|e| panic!("{e}")),
        "// cached\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One decoded frame, planes copied out of GStreamer.
struct Decoded {
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: Vec<Vec<u8>>,
    strides: Vec<usize>,
}

impl Decoded {
    fn frame(&self) -> Frame<'_> {
        Frame {
            format: self.format,
            width: self.width,
            height: self.height,
            planes: self.planes.iter().map(Vec::as_slice).collect(),
            strides: self.strides.clone(),
        }
    }
}

/// Frames `picks` (ascending) of `video`, converted by GStreamer to `format`.
fn decode(video: &Path, format: PixelFormat, picks: &[usize]) -> Vec<Decoded> {
    gst::init().expect("GStreamer");
    let caps = match format {
        PixelFormat::I420 => "I420",
        PixelFormat::Nv12 => "NV12",
        PixelFormat::Rgb => "RGB",
        PixelFormat::Bgr => "BGR",
        PixelFormat::Rgbx => "RGBx",
        PixelFormat::Bgrx => "BGRx",
        PixelFormat::Gray8 => "GRAY8",
    };
    let description = format!(
        "filesrc location={} ! decodebin ! videoconvert ! video/x-raw,format={caps} \
         ! appsink name=sink sync=false max-buffers=2",
        video.display()
    );
    let pipeline = gst::parse::launch(&description)
        .expect("pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let sink = pipeline
        .by_name("sink")
        .and_then(|s| s.downcast::<AppSink>().ok())
        .expect("appsink");
    pipeline.set_state(gst::State::Playing).expect("playing");
    let last = picks.iter().copied().max().unwrap_or(0);
    let mut frames = Vec::new();
    for index in 0..=last {
        let sample = sink
            .pull_sample()
            .unwrap_or_else(|_| panic!("{}: no frame {index}", video.display()));
        if !picks.contains(&index) {
            continue;
        }
        let info = VideoInfo::from_caps(sample.caps().expect("caps")).expect("video caps");
        let buffer = sample.buffer().expect("buffer");
        let frame = VideoFrameRef::from_buffer_ref_readable(buffer, &info).expect("mapped");
        frames.push(Decoded {
            format,
            width: info.width(),
            height: info.height(),
            planes: (0..info.n_planes())
                .map(|p| frame.plane_data(p).expect("plane").to_vec())
                .collect(),
            strides: info.stride().iter().map(|s| *s as usize).collect(),
        });
    }
    pipeline.set_state(gst::State::Null).expect("stopped");
    frames
}

fn config(
    (width, height): (u32, u32),
    layout: Layout,
    order: ChannelOrder,
    resize: Resize,
    (scale, mean, std): (f32, Vec<f32>, Vec<f32>),
) -> PreprocessConfig {
    PreprocessConfig {
        width,
        height,
        layout,
        order,
        resize,
        scale,
        mean,
        std,
    }
}

/// Model inputs of every kind: YOLO (letterbox into a square, NCHW RGB), ImageNet
/// (stretch, NHWC BGR, mean/std), grey (side bars) and a tall input (bars above and below).
fn configs() -> Vec<PreprocessConfig> {
    let yolo = (1.0 / 255.0, vec![], vec![]);
    vec![
        config(
            (640, 640),
            Layout::Nchw,
            ChannelOrder::Rgb,
            Resize::Letterbox,
            yolo.clone(),
        ),
        config(
            (224, 224),
            Layout::Nhwc,
            ChannelOrder::Bgr,
            Resize::Stretch,
            (
                1.0 / 255.0,
                vec![0.485, 0.456, 0.406],
                vec![0.229, 0.224, 0.225],
            ),
        ),
        config(
            (96, 64),
            Layout::Nchw,
            ChannelOrder::Gray,
            Resize::Letterbox,
            (1.0, vec![127.5], vec![127.5]),
        ),
        config(
            (200, 320),
            Layout::Nhwc,
            ChannelOrder::Rgb,
            Resize::Letterbox,
            yolo,
        ),
    ]
}

/// The reference (one batch of all `frames`) against the CPU preprocessor (one frame at a
/// time), in f32, f16 and u8, and their letterboxes.
fn agree(frames: &[Decoded], what: &str) {
    let frames: Vec<Frame<'_>> = frames.iter().map(Decoded::frame).collect();
    for config in configs() {
        let values = config.values();
        let n = frames.len();
        let mut f32s = vec![f32::NAN; n * values];
        let mut f16s = vec![0u16; n * values];
        let mut u8s = vec![0u8; n * values];
        let letterboxes = preprocess_batch(&frames, &config, BatchOutput::F32(&mut f32s))
            .unwrap_or_else(|e| panic!("{what}: reference refused: {e}"));
        preprocess_batch(&frames, &config, BatchOutput::F16(&mut f16s)).expect("f16");
        preprocess_batch(&frames, &config, BatchOutput::U8(&mut u8s)).expect("u8");
        for (i, frame) in frames.iter().enumerate() {
            let image = i * values..(i + 1) * values;
            let mut cpu = vec![f32::NAN; values];
            let letterbox = try_preprocess(frame, &config, &mut cpu).expect("cpu");
            let mut cpu_u8 = vec![0u8; values];
            try_preprocess_u8(frame, &config, &mut cpu_u8).expect("cpu u8");
            assert_eq!(
                letterboxes[i], letterbox,
                "{what} {i}: letterbox, {config:?}"
            );
            let worst = cpu
                .iter()
                .zip(&f32s[image.clone()])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 1e-5,
                "{what} {i}: reference and CPU differ by {worst} for {config:?}"
            );
            // f16 is the CPU's f32 rounded to nearest even (what ONNX Runtime's Cast does).
            let halves: Vec<u16> = cpu
                .iter()
                .map(|v| half::f16::from_f32(*v).to_bits())
                .collect();
            assert!(halves == f16s[image.clone()], "{what} {i}: f16, {config:?}");
            assert!(cpu_u8 == u8s[image], "{what} {i}: u8, {config:?}");
        }
    }
}

fn vtest() -> PathBuf {
    root().join("assets/media/vtest.avi")
}

/// Not only the first frame: people move, so later frames differ.
const PICKS: [usize; 3] = [0, 7, 20];

#[test]
fn reference_and_cpu_agree_on_vtest_as_nv12() {
    agree(&decode(&vtest(), PixelFormat::Nv12, &PICKS), "vtest NV12");
}

#[test]
fn reference_and_cpu_agree_on_vtest_as_i420() {
    agree(&decode(&vtest(), PixelFormat::I420, &PICKS), "vtest I420");
}

#[test]
fn reference_and_cpu_agree_on_vtest_as_rgb_bgrx_and_gray() {
    for format in [PixelFormat::Rgb, PixelFormat::Bgrx, PixelFormat::Gray8] {
        agree(
            &decode(&vtest(), format, &[3]),
            &format!("vtest {format:?}"),
        );
    }
}

#[test]
fn reference_and_cpu_agree_on_an_odd_sized_frame() {
    // 321x241: chroma planes of odd size, rows padded to GStreamer's stride.
    let video = root().join("tests/fixtures/media/mjpeg_odd_321x241_25fps.mkv");
    for format in [PixelFormat::Nv12, PixelFormat::I420, PixelFormat::Rgb] {
        let frames = decode(&video, format, &[0, 2]);
        assert_eq!((frames[0].width, frames[0].height), (321, 241));
        agree(&frames, &format!("odd {format:?}"));
    }
}

/// A white rectangle on black, RGB.
fn rectangle(size: (usize, usize), (x0, y0, x1, y1): (usize, usize, usize, usize)) -> Decoded {
    let (w, h) = size;
    let mut data = vec![0u8; w * h * 3];
    for y in y0..y1 {
        for x in x0..x1 {
            data[(y * w + x) * 3..(y * w + x) * 3 + 3].fill(255);
        }
    }
    Decoded {
        format: PixelFormat::Rgb,
        width: w as u32,
        height: h as u32,
        planes: vec![data],
        strides: vec![w * 3],
    }
}

#[test]
fn the_reference_maps_boxes_back_as_the_cpu_does() {
    let yolo = &configs()[0];
    let painted = (200, 100, 300, 400);
    let picture = rectangle((768, 576), painted);
    let mut tensor = vec![0.0f32; yolo.values()];
    let letterboxes =
        preprocess_batch(&[picture.frame()], yolo, BatchOutput::F32(&mut tensor)).expect("ok");
    let letterbox: Letterbox = letterboxes[0];
    assert_eq!(
        letterbox,
        Letterbox::new((768, 576), (640, 640), Resize::Letterbox)
    );
    // Where the rectangle is in the tensor (red plane, more than half white) ...
    let lit = |x: usize, y: usize| tensor[y * 640 + x] > 0.5;
    let mid = (letterbox.to_model(250.0, 250.0).1) as usize;
    let columns: Vec<usize> = (0..640).filter(|&x| lit(x, mid)).collect();
    let rows: Vec<usize> = (0..640).filter(|&y| lit(250 * 5 / 6, y)).collect();
    let (mx0, mx1) = (
        columns[0] as f32,
        *columns.last().expect("lit") as f32 + 1.0,
    );
    let (my0, my1) = (rows[0] as f32, *rows.last().expect("lit") as f32 + 1.0);
    // ... maps back onto the painted one, to within one model pixel.
    let (sx0, sy0) = letterbox.to_source(mx0, my0);
    let (sx1, sy1) = letterbox.to_source(mx1, my1);
    let px = 1.0 / letterbox.scale_x;
    for (got, want) in [(sx0, 200.0), (sy0, 100.0), (sx1, 300.0), (sy1, 400.0)] {
        assert!(
            (got - want).abs() <= px,
            "box edge {got}, painted at {want}"
        );
    }
    // A detection the model would give for that place decodes to the painted box.
    let (cx, cy) = letterbox.to_model(250.0, 250.0);
    let (w, h) = (100.0 * letterbox.scale_x, 300.0 * letterbox.scale_y);
    let output = [cx, cy, w, h, 0.9];
    let yolov8 = Yolov8Config {
        confidence: 0.5,
        iou: 0.5,
        max: 10,
    };
    let found = decode_yolov8(&output, 5, 1, &yolov8, &letterbox, (768, 576));
    assert_eq!(found.len(), 1);
    let d = &found[0];
    for (got, want) in [(d.x, 200.0), (d.y, 100.0), (d.w, 100.0), (d.h, 300.0)] {
        assert!((got - want).abs() < 1e-3, "decoded {got}, painted {want}");
    }
}

#[cfg(feature = "gpu")]
mod on_the_gpu {
    //! Needs a CUDA GPU and driver: run with `--features vpl-runtime/gpu` on such a machine
    //! (`scripts/gpu-check.sh`). Fails, with the reason, where there is none.

    use super::*;
    use vpl_runtime::gpu::OutputType;
    use vpl_runtime::gpu::launch::Preprocessor;

    #[test]
    fn the_kernel_writes_what_the_reference_writes() {
        load_nvrtc();
        let dir = std::env::temp_dir().join(format!("vpl-gpu-ptx-{}", std::process::id()));
        let gpu = Preprocessor::new(0, &KernelCache::new(&dir)).unwrap_or_else(|e| panic!("{e}"));
        let mut decoded = decode(&vtest(), PixelFormat::Nv12, &PICKS);
        decoded.extend(decode(&vtest(), PixelFormat::I420, &[1]));
        decoded.extend(decode(&vtest(), PixelFormat::Bgrx, &[2]));
        let frames: Vec<Frame<'_>> = decoded.iter().map(Decoded::frame).collect();
        for config in configs() {
            let n = frames.len() * config.values();
            let mut want = vec![0.0f32; n];
            let boxes =
                preprocess_batch(&frames, &config, BatchOutput::F32(&mut want)).expect("reference");
            let (tensor, gpu_boxes) = gpu
                .run(&frames, &config, OutputType::F32)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(boxes, gpu_boxes);
            let bytes = gpu.download(&tensor).unwrap_or_else(|e| panic!("{e}"));
            let got: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let worst = want
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 1e-5,
                "GPU and reference differ by {worst}: {config:?}"
            );

            let mut want16 = vec![0u16; n];
            preprocess_batch(&frames, &config, BatchOutput::F16(&mut want16)).expect("f16");
            let (tensor, _) = gpu.run(&frames, &config, OutputType::F16).expect("f16 run");
            let got16: Vec<u16> = gpu
                .download(&tensor)
                .expect("download")
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect();
            assert!(want16 == got16, "f16 differs: {config:?}");

            let mut want8 = vec![0u8; n];
            preprocess_batch(&frames, &config, BatchOutput::U8(&mut want8)).expect("u8");
            let (tensor, _) = gpu.run(&frames, &config, OutputType::U8).expect("u8 run");
            assert!(
                gpu.download(&tensor).expect("download") == want8,
                "u8: {config:?}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
