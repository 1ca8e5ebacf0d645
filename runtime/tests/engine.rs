//! The engine on the fixture models (`scripts/make_models.py --fixtures`) and on the real
//! person detector and video (`scripts/setup.sh`): loading, batches, element types,
//! errors, and frame 0 of vtest.avi end to end, checked against
//! `scripts/reference_detect.py` when the venv is there.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::AppSink;
use gstreamer_video::{VideoFrameRef, VideoInfo};
use half::f16;
use vpl_runtime::engine::decode::{Detection, Yolov8Config, decode_yolov8, iou};
use vpl_runtime::engine::preprocess::{
    ChannelOrder, Frame, Layout, PixelFormat, PreprocessConfig, Resize, preprocess,
};
use vpl_runtime::engine::{
    Backend, Engine, EngineConfig, EngineError, InputTensor, TensorData, find_library,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn config(model: PathBuf, backend: Backend) -> EngineConfig {
    let library = find_library(&[Path::new(env!("CARGO_MANIFEST_DIR"))])
        .expect("no assets/onnxruntime.path naming a library: run scripts/setup.sh");
    EngineConfig {
        model,
        library,
        backend,
        threads: 2,
        engine_cache: None,
        max_batch: 1,
    }
}

fn load(model: PathBuf) -> Engine {
    match Engine::load(&config(model.clone(), Backend::Cpu)) {
        Ok(engine) => engine,
        Err(e) => panic!("{}: {e}", model.display()),
    }
}

fn images(batch: usize, value: f32) -> InputTensor {
    InputTensor {
        shape: vec![batch, 3, 640, 640],
        data: TensorData::F32(vec![value; batch * 3 * 640 * 640]),
    }
}

fn run(engine: &Engine, input: InputTensor) -> Vec<vpl_runtime::engine::OutputTensor> {
    match engine.run(input) {
        Ok(outputs) => outputs,
        Err(e) => panic!("run failed: {e}"),
    }
}

#[test]
fn dynamic_batch_runs_batches_of_one_and_two() {
    let engine = load(fixture("det_dynamic.onnx"));
    assert_eq!(engine.input_names(), ["images"]);
    assert_eq!(engine.input().shape, [-1, 3, 640, 640]);
    assert_eq!(engine.output_names(), ["output0"]);
    for batch in [1, 2] {
        let outputs = run(&engine, images(batch, 0.5));
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].name, "output0");
        assert_eq!(outputs[0].shape, [batch, 6, 8400]);
        assert_eq!(outputs[0].data.len(), batch * 6 * 8400);
    }
}

#[test]
fn float16_model_takes_f16_or_f32_and_gives_f32() {
    let engine = load(fixture("det_f16.onnx"));
    let half = InputTensor {
        shape: vec![1, 3, 640, 640],
        data: TensorData::F16(vec![f16::from_f32(0.5); 3 * 640 * 640]),
    };
    let from_half = run(&engine, half);
    assert_eq!(from_half[0].shape, [1, 6, 8400]);
    assert!(from_half[0].data.iter().all(|v| v.is_finite()));
    assert!(
        from_half[0].data.iter().any(|v| *v != 0.0),
        "box rows depend on the pixels"
    );
    let from_float = run(&engine, images(1, 0.5));
    assert_eq!(
        from_half, from_float,
        "0.5 is exact in f16: same input, same output"
    );
}

#[test]
fn uint8_model_takes_u8_and_refuses_floats() {
    let engine = load(fixture("det_u8.onnx"));
    let input = InputTensor {
        shape: vec![1, 3, 640, 640],
        data: TensorData::U8(vec![114; 3 * 640 * 640]),
    };
    assert_eq!(run(&engine, input)[0].shape, [1, 6, 8400]);
    match engine.run(images(1, 0.5)) {
        Err(EngineError::Run { reason }) => assert!(reason.contains("uint8"), "{reason}"),
        other => panic!("expected a Run error, got {other:?}"),
    }
}

#[test]
fn double_outputs_come_back_as_f32() {
    let engine = load(fixture("det_f64_out.onnx"));
    assert_eq!(run(&engine, images(1, 0.25))[0].shape, [1, 6, 8400]);
}

#[test]
fn models_vpl_cannot_load_are_model_load_errors() {
    for (name, words) in [
        ("no_such_model.onnx", "no such file"),
        ("not_onnx.onnx", ""),
        ("truncated.onnx", ""),
        ("two_inputs.onnx", "2 inputs"),
        ("det_i64.onnx", "int64"),
    ] {
        let path = fixture(name);
        match Engine::load(&config(path.clone(), Backend::Cpu)) {
            Err(EngineError::ModelLoad { path: got, reason }) => {
                assert_eq!(got, path);
                assert!(reason.contains(words), "{name}: {reason}");
                let message = EngineError::ModelLoad { path, reason }.to_string();
                assert!(message.contains(name), "{message}");
            }
            Err(e) => panic!("{name}: expected ModelLoad, got {e}"),
            Ok(_) => panic!("{name} loaded"),
        }
    }
}

#[test]
fn gpu_backends_without_the_gpu_feature_are_unavailable() {
    for backend in [Backend::Cuda, Backend::TensorRt] {
        let result = Engine::load(&config(fixture("det_fixed1.onnx"), backend));
        match result {
            Err(EngineError::BackendUnavailable {
                backend: got,
                reason,
            }) => {
                assert_eq!(got, backend);
                if cfg!(not(feature = "gpu")) {
                    assert!(reason.contains("gpu"), "{reason}");
                }
                let message = EngineError::BackendUnavailable { backend, reason }.to_string();
                eprintln!("{message}");
                assert!(message.contains(&backend.to_string()), "{message}");
            }
            // With the feature on a machine that has the GPU, the backend may load.
            Ok(_) if cfg!(feature = "gpu") => {}
            Ok(_) => panic!("{backend} loaded without the gpu feature"),
            Err(e) => panic!("{backend}: expected BackendUnavailable, got {e}"),
        }
    }
}

#[test]
fn inputs_that_do_not_fit_are_refused() {
    let engine = load(fixture("det_fixed1.onnx"));
    let small = InputTensor {
        shape: vec![1, 3, 320, 320],
        data: TensorData::F32(vec![0.0; 3 * 320 * 320]),
    };
    match engine.run(small) {
        Err(EngineError::Shape { expected, got }) => {
            assert_eq!(expected, [1, 3, 640, 640]);
            assert_eq!(got, [1, 3, 320, 320]);
        }
        other => panic!("expected a Shape error, got {other:?}"),
    }
    let short = InputTensor {
        shape: vec![1, 3, 640, 640],
        data: TensorData::F32(vec![0.0; 10]),
    };
    assert!(matches!(engine.run(short), Err(EngineError::Run { .. })));
    let message = EngineError::Shape {
        expected: vec![-1, 3, 640, 640],
        got: vec![1, 3, 320, 320],
    }
    .to_string();
    assert!(message.contains("[?, 3, 640, 640]"), "{message}");
}

#[test]
fn one_engine_serves_several_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    let engine = load(fixture("det_dynamic.onnx"));
    let engine = &engine;
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|i| scope.spawn(move || run(engine, images(1, 0.1 * i as f32))))
            .collect();
        for handle in runs {
            match handle.join() {
                Ok(outputs) => assert_eq!(outputs[0].shape, [1, 6, 8400]),
                Err(_) => panic!("a thread running the engine panicked"),
            }
        }
    });
}

#[test]
fn a_pool_of_sessions_gives_the_same_outputs_and_runs_them_side_by_side() {
    let engine = load(fixture("det_fixed1.onnx"));
    assert_eq!((engine.sessions(), engine.fixed_batch()), (1, Some(1)));
    let want: Vec<_> = (0..4)
        .map(|i| run(&engine, images(1, 0.2 * i as f32)))
        .collect();
    assert_eq!(engine.grow(3).expect("grow"), 3);
    assert_eq!(engine.grow(2).expect("never shrinks"), 3);
    let engine = &engine;
    // Four threads, each running every input twice: whichever session serves a run,
    // its outputs are the single session's.
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4)
            .map(|t| {
                scope.spawn(move || {
                    (0..8)
                        .map(|k| {
                            let i = (t + k) % 4;
                            (i, run(engine, images(1, 0.2 * i as f32)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in runs {
            let Ok(results) = handle.join() else {
                panic!("a thread running the engine panicked");
            };
            for (i, outputs) in results {
                assert_eq!(outputs, want[i]);
            }
        }
    });
    assert_eq!(load(fixture("det_dynamic.onnx")).fixed_batch(), None);
}

/// Frame 0 of a video as I420, decoded by GStreamer: planes (copied) and strides.
fn first_frame(video: &Path) -> (u32, u32, Vec<Vec<u8>>, Vec<usize>) {
    gst::init().expect("GStreamer");
    let description = format!(
        "filesrc location={} ! decodebin ! videoconvert ! video/x-raw,format=I420 \
         ! appsink name=sink sync=false max-buffers=1",
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
    let sample = sink.pull_sample().expect("a decoded frame");
    let info = VideoInfo::from_caps(sample.caps().expect("caps")).expect("video caps");
    let buffer = sample.buffer().expect("buffer");
    let frame = VideoFrameRef::from_buffer_ref_readable(buffer, &info).expect("mapped");
    let planes = (0..3)
        .map(|p| frame.plane_data(p).expect("plane").to_vec())
        .collect();
    let strides = info.stride().iter().map(|s| *s as usize).collect();
    pipeline.set_state(gst::State::Null).expect("stopped");
    (info.width(), info.height(), planes, strides)
}

#[test]
fn person_detector_finds_pedestrians_in_vtest() {
    let model = root().join("assets/models/person_yolov8s.onnx");
    let video = root().join("assets/media/vtest.avi");
    let engine = load(model.clone());
    let (width, height, planes, strides) = first_frame(&video);
    assert_eq!((width, height), (768, 576));
    let frame = Frame {
        format: PixelFormat::I420,
        width,
        height,
        planes: planes.iter().map(Vec::as_slice).collect(),
        strides,
    };
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
    let mut tensor = vec![0.0; config.values()];
    let started = Instant::now();
    let rounds = 10;
    let mut letterbox = preprocess(&frame, &config, &mut tensor);
    for _ in 1..rounds {
        letterbox = preprocess(&frame, &config, &mut tensor);
    }
    let preprocess_time = started.elapsed() / rounds;

    let input = || InputTensor {
        shape: vec![1, 3, 640, 640],
        data: TensorData::F32(tensor.clone()),
    };
    let mut outputs = run(&engine, input());
    let started = Instant::now();
    for _ in 0..3 {
        outputs = run(&engine, input());
    }
    let inference_time = started.elapsed() / 3;
    eprintln!(
        "person_yolov8s on vtest frame 0: preprocess {preprocess_time:?}, \
         inference {inference_time:?} (2 threads, {} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );

    let output = &outputs[0];
    assert_eq!(output.shape, [1, 6, 8400]);
    let decoder = Yolov8Config {
        confidence: 0.4,
        iou: 0.5,
        max: 300,
    };
    let found = decode_yolov8(&output.data, 6, 8400, &decoder, &letterbox, (width, height));
    for d in &found {
        eprintln!("  {d:?}");
    }
    assert!(found.len() >= 3, "only {} people found", found.len());
    for d in &found {
        assert!(d.x >= 0.0 && d.y >= 0.0 && d.w > 0.0 && d.h > 0.0, "{d:?}");
        assert!(d.x + d.w <= 768.0 && d.y + d.h <= 576.0, "{d:?}");
    }
    compare_with_reference(&model, &video, &found);
}

/// Runs `scripts/reference_detect.py` on frame 0 (when the venv exists) and checks the
/// same boxes come out: same count, each matched box of the same class with IoU >= 0.9.
fn compare_with_reference(model: &Path, video: &Path, found: &[Detection]) {
    let python = root().join(".venv/bin/python");
    if !python.exists() {
        eprintln!("no .venv (scripts/setup.sh makes it): reference comparison skipped");
        return;
    }
    let out = std::env::temp_dir().join(format!("vpl-reference-{}.jsonl", std::process::id()));
    let status = Command::new(&python)
        .arg(root().join("scripts/reference_detect.py"))
        .args([model.as_os_str(), video.as_os_str()])
        .args([
            "--frames",
            "1",
            "--confidence",
            "0.4",
            "--iou",
            "0.5",
            "--out",
        ])
        .arg(&out)
        .status()
        .expect("running reference_detect.py");
    assert!(status.success(), "reference_detect.py failed");
    let text = std::fs::read_to_string(&out).expect("reference output");
    let _ = std::fs::remove_file(&out);
    let line: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or("")).expect("a JSON line");
    let reference: Vec<Detection> = line["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| Detection {
            class_id: o["class_id"].as_u64().unwrap_or(u64::MAX) as usize,
            confidence: o["confidence"].as_f64().unwrap_or(0.0) as f32,
            x: o["bbox"]["x"].as_f64().unwrap_or(-1.0) as f32,
            y: o["bbox"]["y"].as_f64().unwrap_or(-1.0) as f32,
            w: o["bbox"]["w"].as_f64().unwrap_or(0.0) as f32,
            h: o["bbox"]["h"].as_f64().unwrap_or(0.0) as f32,
        })
        .collect();
    assert_eq!(found.len(), reference.len(), "reference: {reference:?}");
    for d in found {
        let best = reference
            .iter()
            .filter(|r| r.class_id == d.class_id)
            .map(|r| iou(d, r))
            .fold(0.0, f32::max);
        assert!(
            best >= 0.9,
            "{d:?} has IoU {best} with the reference {reference:?}"
        );
    }
}
