//! vpl's GStreamer elements and their metadata: `VplObjectsMeta` through copies, queues and
//! tees; `vplrecords` lines; the `Batcher`; `vplinfer` on the fixture models
//! (`tests/fixtures/models`, ONNX Runtime from `assets/onnxruntime.path`).

use std::path::PathBuf;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_check::Harness;
use vpl_compiler::plan::{
    Activation, DType, Decoder, InferenceSpec, Layout, MaskFormat, PixelOrder, PreprocessSpec,
    Resize, Skeleton,
};
use vpl_runtime::elements::infer::batcher::{BatchError, BatchStats, Batcher, Item, batcher_for};
use vpl_runtime::meta::{Label, Object, ObjectsData, Tensor, VplObjectsMeta};

fn init() {
    vpl_runtime::elements::register().expect("vpl elements register");
}

/// A fresh path in the temporary directory, unique to this test process and `name`.
fn temp_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("vpl-elements-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn person() -> Object {
    Object {
        class_id: 0,
        label: "person".into(),
        confidence: 0.83,
        x: 412.0,
        y: 140.5,
        w: 30.0,
        h: 80.0,
        track_id: Some(3),
        labels: vec![],
        tensors: vec![],
        predicted: false,
        stream: None,
        ..Object::default()
    }
}

fn label(model: &str, label: &str, confidence: f32) -> Label {
    Label {
        model: model.into(),
        label: label.into(),
        confidence,
    }
}

fn sample_data() -> ObjectsData {
    ObjectsData {
        stream: 1,
        frame: 12,
        source_width: 768,
        source_height: 576,
        objects: vec![person()],
        labels: vec![label("daytime", "day", 0.5)],
        tensors: vec![],
        repeated: false,
        ..ObjectsData::default()
    }
}

/// Plays `pipeline` to EOS and stops it; the error on the bus, if any.
fn run_to_end(pipeline: &gst::Pipeline) -> Option<gst::glib::Error> {
    let result = play(pipeline);
    pipeline
        .set_state(gst::State::Null)
        .expect("pipeline stops");
    result.err()
}

fn launch(description: &str) -> gst::Pipeline {
    gst::parse::launch(description)
        .expect("valid pipeline description")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline")
}

// ---- VplObjectsMeta

#[test]
fn meta_is_added_read_replaced_and_updated() {
    init();
    let mut buffer = gst::Buffer::with_size(16).unwrap();
    let b = buffer.get_mut().unwrap();
    assert_eq!(VplObjectsMeta::get(b), None);
    VplObjectsMeta::add(b, sample_data());
    assert_eq!(VplObjectsMeta::get(b), Some(&sample_data()));

    VplObjectsMeta::set(b, ObjectsData::default());
    assert_eq!(VplObjectsMeta::get(b), Some(&ObjectsData::default()));
    assert_eq!(
        b.iter_meta::<VplObjectsMeta>().count(),
        1,
        "set replaces, not adds"
    );

    let n = VplObjectsMeta::update(b, ObjectsData::default, |d| {
        d.objects.push(person());
        d.objects.len()
    });
    assert_eq!(n, 1);
    assert_eq!(
        b.meta::<VplObjectsMeta>().unwrap().data().objects,
        [person()]
    );
}

#[test]
fn meta_survives_buffer_copies() {
    init();
    let mut buffer = gst::Buffer::with_size(16).unwrap();
    VplObjectsMeta::add(buffer.get_mut().unwrap(), sample_data());
    let shallow = buffer.copy();
    let deep = buffer.copy_deep().unwrap();
    drop(buffer);
    assert_eq!(VplObjectsMeta::get(&shallow), Some(&sample_data()));
    assert_eq!(VplObjectsMeta::get(&deep), Some(&sample_data()));
    // The copies own their data: changing one leaves the other alone.
    let mut shallow = shallow;
    VplObjectsMeta::set(shallow.make_mut(), ObjectsData::default());
    assert_eq!(VplObjectsMeta::get(&deep), Some(&sample_data()));
}

#[test]
fn meta_survives_a_queue_a_tee_and_a_scaler() {
    init();
    let pipeline = launch(
        "appsrc name=src caps=video/x-raw,format=I420,width=320,height=240,framerate=10/1 format=time \
         ! queue ! tee name=t \
         t. ! queue ! appsink name=a sync=false \
         t. ! queue ! videoconvert ! videoscale ! video/x-raw,format=RGB,width=160,height=120 \
            ! appsink name=b sync=false",
    );
    let by_name = |name: &str| pipeline.by_name(name).unwrap();
    let src = by_name("src").downcast::<gst_app::AppSrc>().unwrap();
    let sinks = ["a", "b"].map(|n| by_name(n).downcast::<gst_app::AppSink>().unwrap());
    pipeline.set_state(gst::State::Playing).unwrap();

    let mut buffer = gst::Buffer::with_size(320 * 240 * 3 / 2).unwrap();
    {
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(100));
        VplObjectsMeta::add(b, sample_data());
    }
    src.push_buffer(buffer).unwrap();
    src.end_of_stream().unwrap();
    for sink in &sinks {
        let sample = sink.pull_sample().expect("a frame reaches every branch");
        let buffer = sample.buffer().unwrap();
        assert_eq!(
            VplObjectsMeta::get(buffer),
            Some(&sample_data()),
            "{}",
            sink.name()
        );
    }
    pipeline.set_state(gst::State::Null).unwrap();
}

// ---- vplrecords

fn records_sink(location: &std::path::Path) -> gst::Element {
    gst::ElementFactory::make("vplrecords")
        .property("location", location.to_str().unwrap())
        .property("pipeline", "watch")
        .property("source", "vtest.avi")
        .property("stream", 4u32)
        .build()
        .unwrap()
}

fn frame(pts_ms: u64, meta: Option<ObjectsData>) -> gst::Buffer {
    let mut buffer = gst::Buffer::new();
    let b = buffer.get_mut().unwrap();
    b.set_pts(gst::ClockTime::from_mseconds(pts_ms));
    if let Some(meta) = meta {
        VplObjectsMeta::add(b, meta);
    }
    buffer
}

/// Every line names the sink's own stream (its `stream` property, the id of the source the
/// plan built it for), whatever the metadata says: an `infer` of its own upstream numbers
/// its frames' metadata as its stream 0.
#[test]
fn records_are_the_spec_json_lines() {
    init();
    let path = temp_path("records.jsonl");
    let mut h = Harness::with_element(&records_sink(&path), Some("sink"), None);
    h.set_src_caps_str("video/x-raw,format=I420,width=768,height=576,framerate=25/1");

    let mut tracked = sample_data();
    tracked.stream = 0;
    tracked.labels.clear();
    // The caps' size wins over the meta's.
    tracked.source_width = 1920;
    h.push(frame(1200, Some(tracked))).unwrap();

    let classified = ObjectsData {
        stream: 2,
        frame: 7,
        objects: vec![Object {
            track_id: None,
            labels: vec![label("colours", "red", 0.25)],
            ..person()
        }],
        labels: vec![label("pets", "cat", 0.75)],
        tensors: vec![Tensor {
            name: "scores".into(),
            dtype: "f32".into(),
            shape: vec![1, 2],
            data: vec![0.25, 0.75],
        }],
        ..ObjectsData::default()
    };
    h.push(frame(40, Some(classified))).unwrap();
    h.push(frame(80, None)).unwrap();
    assert!(h.push_event(gst::event::Eos::new()));

    let text = std::fs::read_to_string(&path).expect("records written by EOS");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"pipeline":"watch","stream":4,"source":"vtest.avi","frame":12,"pts_ns":1200000000,"width":768,"height":576,"objects":[{"label":"person","class_id":0,"confidence":0.83,"bbox":{"x":412.0,"y":140.5,"w":30.0,"h":80.0},"track_id":3}]}"#,
            r#"{"pipeline":"watch","stream":4,"source":"vtest.avi","frame":7,"pts_ns":40000000,"width":768,"height":576,"objects":[{"label":"person","class_id":0,"confidence":0.83,"bbox":{"x":412.0,"y":140.5,"w":30.0,"h":80.0},"labels":[{"model":"colours","label":"red","confidence":0.25}]}],"labels":[{"model":"pets","label":"cat","confidence":0.75}],"tensors":[{"name":"scores","dtype":"f32","shape":[1,2],"data":[0.25,0.75]}]}"#,
            // No meta: the `stream` property and the sink's own frame count.
            r#"{"pipeline":"watch","stream":4,"source":"vtest.avi","frame":2,"pts_ns":80000000,"width":768,"height":576,"objects":[]}"#,
        ]
    );
    drop(h);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn records_without_size_in_the_caps_use_the_meta() {
    init();
    let path = temp_path("records-any.jsonl");
    let mut h = Harness::with_element(&records_sink(&path), Some("sink"), None);
    h.set_src_caps_str("application/x-vpl-test");
    h.push(frame(0, Some(sample_data()))).unwrap();
    drop(h); // stop() flushes too
    let text = std::fs::read_to_string(&path).unwrap();
    let record: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(
        (record["width"].as_u64(), record["height"].as_u64()),
        (Some(768), Some(576))
    );
    assert_eq!(record["labels"][0]["label"], "day");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn records_of_two_sinks_share_one_file_line_by_line() {
    init();
    let path = temp_path("shared.jsonl");
    let location = path.to_str().unwrap();
    let pipeline = launch(&format!(
        "videotestsrc num-buffers=50 ! video/x-raw,width=64,height=48 \
           ! vplrecords location={location} stream=0 source=a \
         videotestsrc num-buffers=50 ! video/x-raw,width=32,height=24 \
           ! vplrecords location={location} stream=1 source=b"
    ));
    assert_eq!(run_to_end(&pipeline), None);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut frames = [Vec::new(), Vec::new()];
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("whole JSON lines");
        let stream = record["stream"].as_u64().unwrap() as usize;
        let width = if stream == 0 { 64 } else { 32 };
        assert_eq!(record["width"], width);
        frames[stream].push(record["frame"].as_u64().unwrap());
    }
    let all: Vec<u64> = (0..50).collect();
    assert_eq!(frames, [all.clone(), all]);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn records_to_an_uncreatable_file_are_an_open_write_error() {
    init();
    let pipeline =
        launch("videotestsrc num-buffers=1 ! vplrecords location=/nonexistent-vpl-dir/out.jsonl");
    let error = run_to_end(&pipeline).expect("an error on the bus");
    assert!(error.matches(gst::ResourceError::OpenWrite), "{error:?}");
    assert!(
        error.message().contains("/nonexistent-vpl-dir/out.jsonl"),
        "{error}"
    );
}

// ---- Batcher

/// A batcher that records the streams and values of every batch it ran.
type Log = Arc<Mutex<Vec<Vec<(u32, u32)>>>>;

fn recording(size: usize, timeout: Duration) -> (Arc<Batcher<u32, u32>>, Log) {
    let seen = Log::default();
    let log = seen.clone();
    let batcher = Batcher::new(size, timeout, move |items: Vec<Item<u32>>| {
        log.lock()
            .unwrap()
            .push(items.iter().map(|i| (i.stream, i.value)).collect());
        items.iter().map(|i| i.value * 10 + i.stream).collect()
    });
    (Arc::new(batcher), seen)
}

#[test]
fn batcher_of_size_one_runs_each_item_alone_in_order() {
    let (batcher, seen) = recording(1, Duration::from_secs(10));
    let results: Vec<u32> = (1..=3).map(|v| batcher.submit(0, v).unwrap()).collect();
    assert_eq!(results, [10, 20, 30]);
    assert_eq!(
        *seen.lock().unwrap(),
        [vec![(0, 1)], vec![(0, 2)], vec![(0, 3)]]
    );
    assert_eq!(
        batcher.stats(),
        BatchStats {
            batches: 3,
            items: 3
        }
    );
}

#[test]
fn batcher_runs_a_lone_item_after_the_timeout() {
    let (batcher, seen) = recording(4, Duration::from_millis(50));
    let start = Instant::now();
    assert_eq!(batcher.submit(2, 7), Ok(72));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(50), "ran after {waited:?}");
    assert!(waited < Duration::from_secs(2), "ran after {waited:?}");
    assert_eq!(*seen.lock().unwrap(), [vec![(2, 7)]]);
}

#[test]
fn batcher_joins_two_threads_in_one_batch_and_each_gets_its_own_result() {
    let (batcher, seen) = recording(2, Duration::from_secs(10));
    let handles: Vec<_> = (0..2u32)
        .map(|stream| {
            let batcher = batcher.clone();
            thread::spawn(move || batcher.submit(stream, 5 + stream))
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results, [Ok(50), Ok(61)]);
    let batches = seen.lock().unwrap();
    assert_eq!(batches.len(), 1);
    let mut batch = batches[0].clone();
    batch.sort();
    assert_eq!(batch, [(0, 5), (1, 6)]);
}

#[test]
fn batcher_keeps_submission_order_and_never_exceeds_the_size() {
    let (batcher, seen) = recording(3, Duration::from_millis(20));
    let threads = 7u32;
    let barrier = Arc::new(Barrier::new(threads as usize));
    let handles: Vec<_> = (0..threads)
        .map(|stream| {
            let (batcher, barrier) = (batcher.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                (0..4)
                    .map(|v| batcher.submit(stream, v).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (stream, handle) in (0u32..).zip(handles) {
        let want: Vec<u32> = (0..4).map(|v| v * 10 + stream).collect();
        assert_eq!(handle.join().unwrap(), want);
    }
    let batches = seen.lock().unwrap();
    assert!(
        batches.iter().all(|b| !b.is_empty() && b.len() <= 3),
        "{batches:?}"
    );
    for stream in 0..threads {
        let order: Vec<u32> = batches
            .iter()
            .flatten()
            .filter(|(s, _)| *s == stream)
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(order, [0, 1, 2, 3], "stream {stream}");
    }
    assert_eq!(batcher.stats().items, 28);
}

/// Four streams into batches of 4, each batch taking 200 ms; stream 3 comes back 100 ms
/// after the others every time (a slower decoder), longer than the 30 ms timeout. A
/// partial batch must wait for the running one instead of starting beside it: then the
/// late stream joins the next batch, instead of the streams splitting for good into
/// batches of 3 and 1 that run side by side (what made 16 streams batched slower than
/// unbatched in issue 15).
#[test]
fn batcher_keeps_late_streams_in_step_instead_of_running_partial_batches_side_by_side() {
    let in_flight = Arc::new(Mutex::new((0usize, 0usize)));
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let (flight, log) = (in_flight.clone(), sizes.clone());
    let batcher = Arc::new(Batcher::new(
        4,
        Duration::from_millis(30),
        move |items: Vec<Item<u32>>| {
            {
                let mut f = flight.lock().unwrap();
                f.0 += 1;
                f.1 = f.1.max(f.0);
            }
            log.lock().unwrap().push(items.len());
            thread::sleep(Duration::from_millis(200));
            flight.lock().unwrap().0 -= 1;
            items.iter().map(|i| i.value).collect()
        },
    ));
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4u32)
        .map(|stream| {
            let (batcher, barrier) = (batcher.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                for v in 0..6 {
                    assert_eq!(batcher.submit(stream, v), Ok(v));
                    if stream == 3 {
                        thread::sleep(Duration::from_millis(100));
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let sizes = sizes.lock().unwrap().clone();
    let most_at_once = in_flight.lock().unwrap().1;
    assert_eq!(
        most_at_once, 1,
        "partial batches ran side by side: {sizes:?}"
    );
    // The late stream joins the others' batches instead of running alone beside them: the
    // streams split for good would make 12 batches of 3 and 1 for these 24 frames. On an
    // idle machine about every other batch is full ([4, 3, 4, 3, ...]); how many exactly
    // depends on how the machine schedules the threads' sleeps, so only the split is
    // refused here (a loaded CI machine gave [4, 3, 2, 3, 4, 3, 3, 1, 1]).
    let full = sizes.iter().filter(|n| **n == 4).count();
    assert!(full >= 1 && sizes.len() < 12, "batches of {sizes:?}");
}

#[test]
fn batcher_reports_a_short_or_panicking_batch_instead_of_hanging() {
    let short = Batcher::new(1, Duration::ZERO, |_: Vec<Item<u8>>| Vec::<u8>::new());
    assert_eq!(
        short.submit(0, 1),
        Err(BatchError::MissingResult {
            got: 0,
            expected: 1
        })
    );
    let panicking = Batcher::new(1, Duration::ZERO, |_: Vec<Item<u8>>| -> Vec<u8> {
        panic!("model exploded")
    });
    assert_eq!(
        panicking.submit(0, 1),
        Err(BatchError::Panicked("model exploded".into()))
    );
}

#[test]
fn batcher_for_gives_one_batcher_per_group_while_it_is_alive() {
    let make = || {
        Ok::<_, String>(Batcher::new(2, Duration::ZERO, |i: Vec<Item<u8>>| {
            vec![i.len() as u8; i.len()]
        }))
    };
    let a = batcher_for("tests::group-a", make).unwrap();
    let b = batcher_for("tests::group-a", || Err("must not be called".to_string())).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let other = batcher_for::<u8, u8, String>("tests::group-b", make).unwrap();
    assert!(!Arc::ptr_eq(&a, &other));
    assert!(batcher_for::<u16, u8, String>("tests::group-a", || Err("x".into())).is_err());
    drop((a, b));
    let again = batcher_for::<u8, u8, String>("tests::group-a", || Err("made again".into()));
    assert_eq!(
        again.err().map(|e| e.to_string()),
        Some("made again".into())
    );
}

// ---- vplinfer

fn model(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/models")
        .join(name);
    path.to_str().unwrap().to_string()
}

fn onnxruntime() -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/onnxruntime.path");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", file.display()));
    text.trim().to_string()
}

/// The spec the plan writes for `infer(m)` with `model m = onnx(PATH, decoder: yolov8())`
/// and stdlib's values, on a 640x640 letterboxed RGB input; its group is the model's path.
fn spec(model: &str) -> InferenceSpec {
    InferenceSpec {
        model: model.to_string(),
        model_name: "m".into(),
        group: model.to_string(),
        stream: 0,
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

/// [`spec`] with a `size` x `size` input.
fn sized(model: &str, size: u32) -> InferenceSpec {
    let spec = spec(model);
    InferenceSpec {
        preprocess: PreprocessSpec {
            width: size,
            height: size,
            ..spec.preprocess.clone()
        },
        ..spec
    }
}

/// `vplinfer` with the spec `text`, its ONNX Runtime from `assets/onnxruntime.path`.
fn infer_element(text: &str) -> gst::Element {
    gst::ElementFactory::make("vplinfer")
        .property("library", onnxruntime())
        .property(InferenceSpec::PROPERTY, text)
        .build()
        .unwrap()
}

/// `videotestsrc num-buffers=N ! I420 320x240 ! vplinfer spec=... ! appsink` per spec in
/// one pipeline; the sinks in stream order.
fn infer_pipeline(
    frames: u32,
    specs: &[InferenceSpec],
) -> (gst::Pipeline, Vec<gst::Element>, Vec<gst_app::AppSink>) {
    let texts: Vec<String> = specs.iter().map(InferenceSpec::to_property).collect();
    infer_pipeline_in("I420", frames, &texts)
}

/// [`infer_pipeline`] with frames in `format`, each `vplinfer`'s spec as text.
fn infer_pipeline_in(
    format: &str,
    frames: u32,
    specs: &[String],
) -> (gst::Pipeline, Vec<gst::Element>, Vec<gst_app::AppSink>) {
    init();
    let pipeline = gst::Pipeline::new();
    let mut infers = Vec::new();
    let mut sinks = Vec::new();
    for spec in specs {
        let src = gst::ElementFactory::make("videotestsrc")
            .property("num-buffers", frames as i32)
            .build()
            .unwrap();
        let caps = gst::Caps::builder("video/x-raw")
            .field("format", format)
            .field("width", 320)
            .field("height", 240)
            .build();
        let filter = gst::ElementFactory::make("capsfilter")
            .property("caps", caps)
            .build()
            .unwrap();
        let infer = infer_element(spec);
        // Samples are pulled after EOS: appsink must not wait for them to be taken.
        let sink = gst_app::AppSink::builder()
            .sync(false)
            .wait_on_eos(false)
            .build();
        pipeline
            .add_many([&src, &filter, &infer, sink.upcast_ref()])
            .unwrap();
        gst::Element::link_many([&src, &filter, &infer, sink.upcast_ref()]).unwrap();
        infers.push(infer);
        sinks.push(sink);
    }
    (pipeline, infers, sinks)
}

/// Plays until EOS or an error; leaves the pipeline playing so counters can be read.
fn play(pipeline: &gst::Pipeline) -> Result<(), gst::glib::Error> {
    let _ = pipeline.set_state(gst::State::Playing);
    let bus = pipeline.bus().unwrap();
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(120)) {
        match msg.view() {
            gst::MessageView::Eos(_) => return Ok(()),
            gst::MessageView::Error(e) => return Err(e.error()),
            _ => {}
        }
    }
    panic!("no EOS within two minutes");
}

fn metas(sink: &gst_app::AppSink) -> Vec<ObjectsData> {
    std::iter::from_fn(|| sink.try_pull_sample(gst::ClockTime::ZERO))
        .map(|s| {
            VplObjectsMeta::get(s.buffer().unwrap())
                .cloned()
                .expect("every frame has a meta")
        })
        .collect()
}

#[test]
fn infer_attaches_a_meta_to_every_frame() {
    let spec = InferenceSpec {
        stream: 3,
        labels: vec!["person".into(), "ball".into()],
        ..spec(&model("det_dynamic.onnx"))
    };
    let (pipeline, _, sinks) = infer_pipeline(5, &[spec]);
    assert_eq!(play(&pipeline), Ok(()));
    let metas = metas(&sinks[0]);
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(metas.len(), 5);
    for (n, meta) in (0u64..).zip(&metas) {
        // This model's class scores are all 0: nothing reaches the default confidence.
        let want = ObjectsData {
            stream: 3,
            frame: n,
            source_width: 320,
            source_height: 240,
            ..ObjectsData::default()
        };
        assert_eq!(meta, &want);
    }
}

#[test]
fn infer_with_zero_confidence_keeps_boxes_in_the_frame() {
    let spec = InferenceSpec {
        decoder: Decoder::Yolov8 {
            confidence: 0.0,
            iou: 0.45,
            max: 7,
        },
        labels: vec!["person".into(), "ball".into()],
        ..spec(&model("det_dynamic.onnx"))
    };
    let (pipeline, _, sinks) = infer_pipeline(2, &[spec]);
    assert_eq!(play(&pipeline), Ok(()));
    let metas = metas(&sinks[0]);
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(metas.len(), 2);
    for meta in metas {
        assert!(
            !meta.objects.is_empty() && meta.objects.len() <= 7,
            "{meta:?}"
        );
        for o in &meta.objects {
            assert!(o.label == "person" || o.label == "ball", "{o:?}");
            assert!(
                o.x >= 0.0 && o.y >= 0.0 && o.x + o.w <= 320.0 && o.y + o.h <= 240.0,
                "{o:?}"
            );
        }
    }
}

#[test]
fn infer_streams_of_one_group_share_batches() {
    let common = InferenceSpec {
        group: "pair".into(),
        batch: 2,
        // Long enough that only full batches run: the two streams always pair up.
        batch_timeout_ns: 20_000_000_000,
        ..spec(&model("det_dynamic.onnx"))
    };
    let streams = [0, 1].map(|stream| InferenceSpec {
        stream,
        ..common.clone()
    });
    let (pipeline, infers, sinks) = infer_pipeline(5, &streams);
    assert_eq!(play(&pipeline), Ok(()));
    let batches: u64 = infers[0].property("batches");
    let frames: u64 = infers[1].property("batched-frames");
    let metas: Vec<Vec<ObjectsData>> = sinks.iter().map(metas).collect();
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!((batches, frames), (5, 10), "five batches of two frames");
    for (stream, metas) in (0u32..).zip(metas) {
        let seen: Vec<(u32, u64)> = metas.iter().map(|m| (m.stream, m.frame)).collect();
        let want: Vec<(u32, u64)> = (0..5).map(|f| (stream, f)).collect();
        assert_eq!(seen, want);
    }
}

/// Three streams into a model whose batch is fixed at 1, with `sessions` as given: the
/// sessions the group loaded, and each stream's metas.
fn fixed_batch_streams(sessions: u32) -> (u64, Vec<Vec<ObjectsData>>) {
    let common = InferenceSpec {
        group: format!("sessions-{sessions}"),
        decoder: Decoder::Yolov8 {
            confidence: 0.0,
            iou: 0.45,
            max: 5,
        },
        ..spec(&model("det_fixed1.onnx"))
    };
    let streams = [0, 1, 2].map(|stream| InferenceSpec {
        stream,
        ..common.clone()
    });
    let (pipeline, infers, sinks) = infer_pipeline(4, &streams);
    for infer in &infers {
        infer.set_property("sessions", sessions);
    }
    assert_eq!(play(&pipeline), Ok(()));
    let loaded: u64 = infers[0].property("sessions-loaded");
    let metas = sinks.iter().map(metas).collect();
    pipeline.set_state(gst::State::Null).unwrap();
    (loaded, metas)
}

#[test]
fn a_fixed_batch_model_fed_by_several_streams_gets_a_session_each_up_to_the_limit() {
    let (one, alone) = fixed_batch_streams(1);
    let (two, pooled) = fixed_batch_streams(2);
    let (auto, _) = fixed_batch_streams(0);
    assert_eq!(
        (one, two, auto),
        (1, 2, 1),
        "sessions: 1, 2 of 3 streams, auto on the CPU"
    );
    // Which session runs a frame changes nothing in what is found.
    assert_eq!(pooled, alone);
    for (stream, metas) in (0u32..).zip(&pooled) {
        assert_eq!(metas.len(), 4);
        assert!(
            metas
                .iter()
                .all(|m| m.stream == stream && !m.objects.is_empty())
        );
    }
}

#[test]
fn infer_as_a_classifier_labels_the_frame() {
    let labels = std::fs::read_to_string(model("cls_dynamic.labels")).unwrap();
    let base = spec(&model("cls_dynamic.onnx"));
    let spec = InferenceSpec {
        decoder: Decoder::Classify { top: 2 },
        preprocess: PreprocessSpec {
            width: 224,
            height: 224,
            resize: Resize::Stretch,
            ..base.preprocess.clone()
        },
        labels: labels.lines().map(str::to_string).collect(),
        every: 2,
        ..base
    };
    let (pipeline, _, sinks) = infer_pipeline(3, &[spec]);
    assert_eq!(play(&pipeline), Ok(()));
    let metas = metas(&sinks[0]);
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(metas.len(), 3);
    let names: Vec<&str> = labels.lines().collect();
    for meta in &metas {
        assert!(meta.objects.is_empty());
        assert_eq!(meta.labels.len(), 2, "{meta:?}");
        for l in &meta.labels {
            assert!(names.contains(&l.label.as_str()), "{l:?}");
            assert!((0.0..=1.0).contains(&l.confidence), "{l:?}");
        }
        assert!(
            meta.labels[0].confidence >= meta.labels[1].confidence,
            "best first"
        );
    }
    // Frame 1 is skipped by `every: 2` and carries frame 0's labels.
    assert_eq!(metas[1].labels, metas[0].labels);
    assert_eq!(metas.iter().map(|m| m.frame).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn infer_pads_a_short_batch_for_a_fixed_batch_model() {
    let (pipeline, infers, sinks) = infer_pipeline(2, &[sized(&model("det_fixed4.onnx"), 320)]);
    assert_eq!(play(&pipeline), Ok(()));
    let batches: u64 = infers[0].property("batches");
    assert_eq!(metas(&sinks[0]).len(), 2);
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(batches, 2);
}

#[test]
fn infer_reports_a_missing_model_on_the_bus() {
    let (pipeline, _, _) = infer_pipeline(1, &[spec("/nonexistent/model.onnx")]);
    let error = play(&pipeline).expect_err("a missing model is an error");
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(error.matches(gst::ResourceError::OpenRead), "{error:?}");
    assert!(
        error.message().contains("/nonexistent/model.onnx"),
        "{error}"
    );
}

#[test]
fn infer_reports_a_bad_property_value_on_the_bus() {
    let mut spec: serde_json::Value =
        serde_json::from_str(&spec(&model("det_dynamic.onnx")).to_property()).unwrap();
    spec["preprocess"]["layout"] = "chwn".into();
    let (pipeline, _, _) = infer_pipeline_in("I420", 1, &[spec.to_string()]);
    let error = play(&pipeline).expect_err("a bad layout is an error");
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(error.matches(gst::ResourceError::Settings), "{error:?}");
    let message = error.message();
    assert!(
        message.contains("`spec`") && message.contains("chwn"),
        "{error}"
    );
}

#[test]
fn infer_refuses_a_frame_smaller_than_its_caps() {
    init();
    let infer = infer_element(&spec(&model("det_dynamic.onnx")).to_property());
    let mut h = Harness::with_element(&infer, Some("sink"), Some("src"));
    h.set_src_caps_str("video/x-raw,format=I420,width=320,height=240,framerate=10/1");
    assert_eq!(
        h.push(gst::Buffer::with_size(10).unwrap()),
        Err(gst::FlowError::Error)
    );
}

#[test]
fn infer_reads_every_accepted_format_and_feeds_every_input_type() {
    let det = model("det_dynamic.onnx");
    let (f16, u8_, nhwc, gray) = (
        model("det_f16.onnx"),
        model("det_u8.onnx"),
        model("det_nhwc.onnx"),
        model("det_gray.onnx"),
    );
    let with = |model: &str, change: &dyn Fn(&mut PreprocessSpec)| {
        let mut spec = spec(model);
        change(&mut spec.preprocess);
        spec
    };
    let cases: [(&str, InferenceSpec); 7] = [
        ("I420", with(&f16, &|p| p.dtype = DType::F16)),
        ("NV12", with(&u8_, &|p| p.dtype = DType::U8)),
        ("RGB", with(&nhwc, &|p| p.layout = Layout::Nhwc)),
        (
            "BGR",
            with(&det, &|p| {
                p.order = PixelOrder::Bgr;
                p.resize = Resize::Stretch;
            }),
        ),
        (
            "RGBx",
            with(&det, &|p| {
                p.mean = vec![0.485, 0.456, 0.406];
                p.std = vec![0.229, 0.224, 0.225];
            }),
        ),
        (
            "BGRx",
            InferenceSpec {
                every: 3,
                ..spec(&det)
            },
        ),
        (
            "GRAY8",
            InferenceSpec {
                preprocess: PreprocessSpec {
                    order: PixelOrder::Gray,
                    ..sized(&gray, 320).preprocess
                },
                ..sized(&gray, 320)
            },
        ),
    ];
    for (format, spec) in cases {
        let (pipeline, _, sinks) = infer_pipeline_in(format, 2, &[spec.to_property()]);
        let played = play(&pipeline);
        let metas = metas(&sinks[0]);
        pipeline.set_state(gst::State::Null).unwrap();
        assert_eq!(played, Ok(()), "{format}");
        let frames: Vec<u64> = metas.iter().map(|m| m.frame).collect();
        assert_eq!(frames, [0, 1], "{format}");
    }
}

/// One decoder of each kind, every parameter away from stdlib's defaults; `alphabet` is
/// the `ctc` decoder's file.
fn every_decoder(alphabet: &str) -> Vec<Decoder> {
    let all = vec![
        Decoder::Yolov8 {
            confidence: 0.4,
            iou: 0.5,
            max: 7,
        },
        Decoder::Classify { top: 3 },
        Decoder::TextBoxes {
            thresh: 0.2,
            box_thresh: 0.7,
            unclip_ratio: 2.0,
            max: 50,
        },
        Decoder::Ctc {
            alphabet: alphabet.to_string(),
            blank_last: true,
        },
        Decoder::Yolov5 {
            confidence: 0.3,
            iou: 0.6,
            max: 9,
            strides: vec![8, 16, 32],
        },
        Decoder::Detr {
            confidence: 0.7,
            max: 20,
            activation: Activation::Softmax,
            boxes: "pred_boxes".into(),
        },
        Decoder::Ssd {
            confidence: 0.6,
            iou: 0.2,
            max: 30,
            activation: Activation::None,
            boxes: "regressors".into(),
            anchors: vec![[0.5, 0.5, 1.0, 1.0], [0.25, 0.75, 0.125, 0.0625]],
            strides: vec![8, 16],
            per_cell: vec![2, 6],
        },
        Decoder::Raw,
        Decoder::Yolov8Seg {
            confidence: 0.35,
            iou: 0.55,
            max: 40,
            protos: "output1".into(),
            masks: MaskFormat::Polygons,
        },
        Decoder::Yolov8Pose {
            confidence: 0.45,
            iou: 0.65,
            max: 11,
            skeleton: Skeleton::None,
        },
        Decoder::Semantic {
            masks: MaskFormat::Polygons,
            min_area: 12,
        },
        Decoder::DsYolo {
            confidence: 0.15,
            iou: 0.35,
            max: 13,
        },
        Decoder::DetectnetV2 {
            confidence: 0.25,
            iou: 0.4,
            max: 17,
            boxes: "output_bbox/BiasAdd".into(),
        },
    ];
    // rustc stops here at a new decoder: give it a case above.
    for d in &all {
        match d {
            Decoder::Yolov8 { .. }
            | Decoder::Classify { .. }
            | Decoder::TextBoxes { .. }
            | Decoder::Ctc { .. }
            | Decoder::Yolov5 { .. }
            | Decoder::Detr { .. }
            | Decoder::Ssd { .. }
            | Decoder::Raw
            | Decoder::Yolov8Seg { .. }
            | Decoder::Yolov8Pose { .. }
            | Decoder::Semantic { .. }
            | Decoder::DsYolo { .. }
            | Decoder::DetectnetV2 { .. } => {}
        }
    }
    all
}

/// Every decoder the plan can write goes through `vplinfer`'s `spec` property as it was
/// written (spec → property text → the element → property text → spec), and the element
/// starts with it: its one `match` makes the engine's decoding of each.
#[test]
fn every_decoder_reaches_the_element_through_its_spec_property() {
    init();
    let alphabet = temp_path("alphabet.txt");
    std::fs::write(&alphabet, "a\nb\nc\n").unwrap();
    let decoders = every_decoder(alphabet.to_str().unwrap());
    let kinds: std::collections::HashSet<_> = decoders.iter().map(std::mem::discriminant).collect();
    assert_eq!(kinds.len(), decoders.len(), "one case a decoder");
    for decoder in decoders {
        let spec = InferenceSpec {
            group: "every-decoder".into(),
            decoder,
            ..spec(&model("det_dynamic.onnx"))
        };
        let infer = infer_element(&spec.to_property());
        let held: String = infer.property(InferenceSpec::PROPERTY);
        assert_eq!(InferenceSpec::from_property(&held), Ok(spec.clone()));
        let started = infer.set_state(gst::State::Paused);
        infer.set_state(gst::State::Null).unwrap();
        assert!(started.is_ok(), "{:?} does not start", spec.decoder);
    }
}
