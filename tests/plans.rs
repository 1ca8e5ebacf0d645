//! Lowering, seen as people read it: every example is snapshotted as its optimised plan
//! and as a gst-launch description, so a change in lowering shows as a readable diff. The
//! graph's invariants are checked after every pass over every example and clean ui case.

use std::path::Path;

use vpl_compiler::plan::Prop;
use vpl_compiler::{SourceMap, Target, compile};
use vpl_runtime::pipeline::Running;
use vplc::cli::Backend;
use vplc::host::FsHost;

fn compile_file(path: &Path) -> (SourceMap, vpl_compiler::Compilation) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(path).expect("readable");
    let mut sources = SourceMap::default();
    let host = FsHost::with_cache_file(None);
    let c = compile(&mut sources, &name, Path::new(&name), &text, &host);
    assert!(!c.has_errors(), "{name} has errors: {:?}", c.diagnostics);
    (sources, c)
}

#[test]
fn example_plans() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples"),
        "*.vpl",
        |path| {
            let (sources, c) = compile_file(path);
            let mut out = String::new();
            for index in 0..c.program.pipelines.len() {
                let (graph, plan) = c.lower(index).expect("lowering keeps the graph valid");
                out.push_str(&graph.describe(&sources, c.file));
                out.push_str(&plan.describe_pools());
                out.push_str("----- gst-launch-1.0 -----\n");
                out.push_str(&plan.launch_text().replace("  ", "\n"));
                out.push('\n');
            }
            insta::assert_snapshot!(out);
        }
    );
}

#[test]
fn every_clean_program_lowers_with_valid_graphs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in ["examples", "tests/ui/ok"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "vpl") {
                continue;
            }
            let (_, c) = compile_file(&path);
            for index in 0..c.program.pipelines.len() {
                let (graph, plan) = c
                    .lower(index)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                graph.validate(true).expect("valid after all passes");
                // Every link names elements of the plan, and names are unique.
                let names: std::collections::HashSet<&str> =
                    plan.elements.iter().map(|e| e.name.as_str()).collect();
                assert_eq!(
                    names.len(),
                    plan.elements.len(),
                    "{}: duplicate element names",
                    path.display()
                );
                for l in &plan.links {
                    assert!(
                        names.contains(l.from.as_str()) && names.contains(l.to.as_str()),
                        "{l:?}"
                    );
                }
                count += 1;
            }
        }
    }
    assert!(count >= 40, "{count} pipelines lowered");
}

/// The plan → element boundary: the GStreamer pipeline of every example and every clean ui
/// program is built (not played), every property set from the plan as `vplc run` sets it,
/// engine settings included. A value an element refuses fails here, at the element.
#[test]
fn every_clean_program_builds_its_gstreamer_pipeline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let library = Path::new("/nonexistent/libonnxruntime.so");
    let mut failures = Vec::new();
    let mut count = 0;
    for dir in ["examples", "tests/ui/ok"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "vpl") {
                continue;
            }
            let (_, c) = compile_file(&path);
            for index in 0..c.program.pipelines.len() {
                let (graph, mut plan) = c.lower(index).expect("lowers");
                vplc::run::configure_inference(&mut plan, Backend::Cpu, 0, library);
                let counting = vplc::run::stream_counters(&graph, &plan);
                // A pool's slots are taken hold of as `vplc run` does: each slot's head,
                // elements and `{stream}` templates are in the pipeline.
                let built = Running::build(&plan, &counting, Some(1)).and_then(|running| {
                    vpl_runtime::pool::Pools::new(
                        &running.pipeline,
                        &plan.pools,
                        running.end_flag(),
                    )
                    .map(|_| running)
                    .map_err(vpl_runtime::pipeline::RunError::Start)
                });
                match built {
                    Ok(_) => count += 1,
                    Err(e) => failures.push(format!("{}: {e:?}", path.display())),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(count >= 40, "{count} pipelines built");
}

/// A pool of 3 is three chains, each headed by a `vplslot` with the pool's type, each
/// slot listing the elements it alone owns; `{stream}` stays in the slots' paths and
/// topics, to be filled in with the id of the stream bound to the slot, and records name
/// that id (`stream-id`). A plain list's `{stream}` is still its index.
#[test]
fn pools_lower_to_one_vplslot_chain_a_slot() {
    let dir = std::env::temp_dir().join(format!("vpl-plans-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("live.vpl");
    std::fs::write(
        &path,
        "pipeline p {\n    \
         let cams = pool(max: 3) : video<h264, 320x240, 25fps>;\n    \
         let pics = cams | decode;\n    \
         pics | json | file(\"out/{stream}.jsonl\");\n    \
         pics | json | mqtt(\"mqtt://localhost\", \"cams/{stream}\");\n    \
         pics | tile(2, 2) | encode(h264) | file(\"out/wall.mp4\");\n    \
         cams | file(\"out/cam_{stream}.mkv\");\n    \
         [test(), test()] | encode(h264) | file(\"out/test_{stream}.mp4\");\n}\n",
    )
    .expect("write");
    let (_, c) = compile_file(&path);
    let (_, plan) = c.lower(0).expect("lowers");
    let prop = |e: &vpl_compiler::plan::Element, name: &str| {
        e.props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let heads: Vec<&vpl_compiler::plan::Element> = plan
        .elements
        .iter()
        .filter(|e| e.factory == "vplslot")
        .collect();
    assert_eq!(heads.len(), 3);
    for (i, head) in heads.iter().enumerate() {
        assert_eq!(prop(head, "pool"), Some(Prop::Str("cams".into())));
        assert_eq!(prop(head, "slot"), Some(Prop::UInt(i as u64)));
        assert_eq!(prop(head, "codec"), Some(Prop::Str("h264".into())));
        assert_eq!(prop(head, "width"), Some(Prop::UInt(320)));
        assert_eq!(prop(head, "height"), Some(Prop::UInt(240)));
        assert_eq!(prop(head, "rate"), Some(Prop::Str("25/1".into())));
    }
    let gst = plan.launch_text();
    assert_eq!(gst.matches("vplslot ").count(), 3, "{gst}");

    assert_eq!(plan.pools.len(), 1);
    let pool = &plan.pools[0];
    assert_eq!((pool.name.as_str(), pool.max), ("cams", 3));
    assert_eq!(
        pool.ty,
        vpl_compiler::plan::PoolType {
            codec: "h264".into(),
            width: 320,
            height: 240,
            rate: (25, 1),
        }
    );
    assert_eq!(pool.type_text, "video<h264, 320x240, 25fps>");
    assert_eq!(pool.streams_file, None);
    assert_eq!(pool.slots.len(), 3);
    let element = |name: &str| {
        plan.elements
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} in the plan"))
    };
    let mut owned = std::collections::HashSet::new();
    for (i, slot) in pool.slots.iter().enumerate() {
        assert_eq!((slot.index, slot.stream), (i, i));
        assert_eq!(slot.head, heads[i].name);
        assert_eq!(slot.elements[0], slot.head, "the head first");
        // Each element belongs to one slot; the tile's compositor, shared, to none.
        for name in &slot.elements {
            assert!(owned.insert(name.clone()), "{name} in two slots");
            assert_ne!(element(name).factory, "compositor");
        }
        let factories: Vec<&str> = slot
            .elements
            .iter()
            .map(|n| element(n).factory.as_str())
            .collect();
        for f in [
            "vplslot",
            "h264parse",
            "vplrecords",
            "matroskamux",
            "filesink",
        ] {
            assert!(factories.contains(&f), "slot {i} lacks {f}: {factories:?}");
        }
        // `{stream}` kept: in the records file, the MQTT topic, the copied stream's file.
        let mut templates: Vec<(String, String, String)> = slot
            .templates
            .iter()
            .map(|t| {
                assert!(slot.elements.contains(&t.element), "{t:?}");
                (
                    element(&t.element).factory.clone(),
                    t.property.clone(),
                    t.text.clone(),
                )
            })
            .collect();
        templates.sort();
        let expected: Vec<(String, String, String)> = [
            ("filesink", "location", "out/cam_{stream}.mkv"),
            ("vplrecords", "location", "out/{stream}.jsonl"),
            ("vplrecords", "stream-id", "{stream}"),
            ("vplrecords", "stream-id", "{stream}"),
            ("vplrecords", "topic", "cams/{stream}"),
        ]
        .iter()
        .map(|(f, p, t)| {
            let t = if t.starts_with("out/") {
                dir.join(t).display().to_string()
            } else {
                t.to_string()
            };
            (f.to_string(), p.to_string(), t)
        })
        .collect();
        assert_eq!(templates, expected, "slot {i}");
        let template = &slot.templates[0];
        assert!(
            element(&template.element)
                .props
                .contains(&(template.property.clone(), Prop::Str(template.text.clone())))
        );
    }
    // A plain list's `{stream}` is its index, as before.
    let files: Vec<String> = plan
        .elements
        .iter()
        .filter(|e| e.factory == "filesink")
        .filter_map(|e| match prop(e, "location") {
            Some(Prop::Str(s)) => Some(s),
            _ => None,
        })
        .filter(|s| s.contains("test_"))
        .collect();
    assert_eq!(
        files,
        ["test_0.mp4", "test_1.mp4"]
            .iter()
            .map(|f| dir.join("out").join(f).display().to_string())
            .collect::<Vec<_>>()
    );
    // `--emit dot` boxes each slot's elements.
    let dot = plan.dot();
    for (i, slot) in pool.slots.iter().enumerate() {
        let cluster = format!(
            "subgraph \"cluster_cams_{i}\" {{\n    label=\"pool cams slot {i}\";\n    \"{}\"",
            slot.head
        );
        assert!(dot.contains(&cluster), "{dot}");
    }
    assert_eq!(dot.matches("[label=\"compositor").count(), 1, "{dot}");
    let described = plan.describe_pools();
    assert!(
        described.starts_with(
            "pools:\n  cams: max 3, video<h264, 320x240, 25fps>\n    slot 0 (stream 0): n0_pool "
        ),
        "{described}"
    );
}

#[test]
fn passes_do_what_the_plan_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("vpl-plans-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let video = root.join("tests/fixtures/media/h264_640x360_25fps.mp4");
    let program = format!(
        "pipeline p {{\n    let a = file({video:?});\n    a | decode | convert(i420) | scale(320x180) | discard;\n    a | decode | rate(25fps) | encode(h264) | file(\"out.mp4\");\n}}\n"
    );
    let path = dir.join("p.vpl");
    std::fs::write(&path, program).expect("write");
    let (_, c) = compile_file(&path);
    let (graph, plan) = c.lower(0).expect("lowers");
    let kinds: Vec<&str> = graph.live().map(|(_, n)| n.kind.name()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "decode").count(),
        1,
        "one decoder: {kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "file").count(),
        2,
        "one source and one sink: {kinds:?}"
    );
    assert!(
        !kinds.contains(&"convert") && !kinds.contains(&"rate"),
        "redundant conversions stay: {kinds:?}"
    );
    assert!(
        kinds.contains(&"tee") && kinds.contains(&"queue"),
        "{kinds:?}"
    );
    let factories: Vec<&str> = plan.elements.iter().map(|e| e.factory.as_str()).collect();
    assert_eq!(
        factories.iter().filter(|f| **f == "avdec_h264").count(),
        1,
        "{factories:?}"
    );
    assert!(
        factories.contains(&"qtdemux") && !factories.contains(&"decodebin"),
        "{factories:?}"
    );
}

#[test]
fn rtsp_sources_reconnect_and_rtsp_out_gets_a_client_friendly_encoder() {
    let dir = std::env::temp_dir().join(format!("vpl-plans-rtsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("relay.vpl");
    std::fs::write(
        &path,
        "pipeline p {\n    \
         let cam = rtsp(\"rtsp://10.0.0.5/s\", reconnect: 500ms) : video<h264, 640x360, 25fps>;\n    \
         cam | file(\"rec.mkv\");\n    \
         let pic = cam | decode;\n    \
         pic | encode(h264) | rtsp_out(port: 8600, path: \"/a\");\n    \
         pic | encode(h264) | file(\"out.mp4\");\n    \
         rtsp(\"rtsp://10.0.0.6/s\", tcp: false, reconnect: 0s) | decode | discard;\n}\n",
    )
    .expect("write");
    let (_, c) = compile_file(&path);
    let (_, plan) = c.lower(0).expect("lowers");
    let props = |e: &vpl_compiler::plan::Element| -> Vec<(String, String)> {
        e.props
            .iter()
            .map(|(k, v)| (k.clone(), format!("{v:?}")))
            .collect()
    };
    let by_factory = |f: &str| -> Vec<&vpl_compiler::plan::Element> {
        plan.elements.iter().filter(|e| e.factory == f).collect()
    };

    // Each source is one element that connects (and reconnects) by itself.
    assert!(by_factory("rtspsrc").is_empty());
    let sources = by_factory("vplrtspsrc");
    assert_eq!(sources.len(), 2);
    let expect = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        props(sources[0]),
        expect(&[
            ("location", "Str(\"rtsp://10.0.0.5/s\")"),
            ("latency", "UInt(200)"),
            ("protocols", "Str(\"tcp\")"),
            ("reconnect", "UInt(500000000)"),
            ("codec", "Str(\"h264\")"),
        ])
    );
    assert_eq!(
        props(sources[1]),
        expect(&[
            ("location", "Str(\"rtsp://10.0.0.6/s\")"),
            ("latency", "UInt(200)"),
            ("protocols", "Str(\"udp\")"),
            ("reconnect", "UInt(0)"),
            ("codec", "Str(\"\")"),
        ])
    );
    // An unascribed stream is decoded by decodebin, behind the source's static pad.
    assert_eq!(by_factory("decodebin").len(), 1);

    // The recording of the received stream is parsed before its muxer.
    let mux = by_factory("matroskamux")[0].name.clone();
    let into_mux = plan
        .links
        .iter()
        .find(|l| l.to == mux)
        .expect("the muxer's input");
    let parser = plan
        .elements
        .iter()
        .find(|e| e.name == into_mux.from)
        .expect("an element");
    assert_eq!(parser.factory, "h264parse");

    // Only the encoder that feeds rtsp_out is tuned for clients: no reordering, a key
    // frame every 2 s (50 frames at 25 fps).
    let encoders = by_factory("x264enc");
    assert_eq!(encoders.len(), 2);
    let tuned: Vec<bool> = encoders
        .iter()
        .map(|e| {
            e.props
                .contains(&("tune".into(), Prop::Enum("zerolatency".into())))
                && e.props.contains(&("key-int-max".into(), Prop::UInt(50)))
        })
        .collect();
    assert_eq!(tuned.iter().filter(|t| **t).count(), 1, "{encoders:?}");
    let untuned = encoders
        .iter()
        .zip(&tuned)
        .find(|(_, t)| !**t)
        .map(|(e, _)| e)
        .expect("the file's encoder");
    assert!(
        untuned
            .props
            .iter()
            .all(|(k, _)| k != "tune" && k != "key-int-max"),
        "{untuned:?}"
    );
}

/// The three GPU machines lowering meets: one with NVDEC and NVENC (an L4, an A10, an RTX),
/// one with NVDEC only (an H100, an H200), and one whose GStreamer has no nvcodec elements
/// (no driver, or no plugin). The CPU machine is `example_plans`.
fn gpu_targets() -> [(&'static str, Target); 3] {
    let nvdec = [
        "nvh264dec",
        "nvh265dec",
        "nvjpegdec",
        "nvvp8dec",
        "nvvp9dec",
        "nvav1dec",
        "nvmpeg2videodec",
        "nvmpeg4videodec",
        "cudadownload",
    ];
    let with_nvenc = nvdec.iter().chain(&["nvh264enc", "nvh265enc"]).copied();
    [
        ("nvdec_nvenc", Target::gpu(with_nvenc)),
        ("nvdec_only", Target::gpu(nvdec)),
        ("no_nvcodec", Target::gpu(Vec::<String>::new())),
    ]
}

/// Lowering for a GPU, without one: which decoder and encoder each stream gets on each
/// kind of machine, and the pass log saying why.
#[test]
fn gpu_plans() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for program in [
        "tests/fixtures/gpu/streams.vpl",
        "examples/rtsp_relay.vpl",
        "examples/people.vpl",
    ] {
        let (sources, c) = compile_file(&root.join(program));
        for (machine, target) in gpu_targets() {
            let (graph, lowered) = c.lower_for(0, &target).expect("lowers");
            let mut out = graph.describe(&sources, c.file);
            out.push_str("----- gst-launch-1.0 -----\n");
            out.push_str(&lowered.plan.launch_text().replace("  ", "\n"));
            out.push_str("\n----- decoding on the CPU -----\n");
            for reason in &lowered.cpu_decoding {
                out.push_str(reason);
                out.push('\n');
            }
            let stem = Path::new(program)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            insta::assert_snapshot!(format!("gpu_{stem}_{machine}"), out);
        }
    }
}

/// NVDEC's frames reach inference as NV12 from `cudadownload`, with no CPU conversion in
/// between; a stream other stages read is converted to the I420 it was checked as. The
/// stream counters (`nN_decode_caps`) stay where `vplc run` looks for them.
#[test]
fn gpu_decoding_hands_nv12_to_inference() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, c) = compile_file(&root.join("tests/fixtures/gpu/streams.vpl"));
    let [_, (_, h200), (_, bare)] = gpu_targets();
    let (graph, lowered) = c.lower_for(0, &h200).expect("lowers");
    let plan = &lowered.plan;
    let next = |name: &str| -> &vpl_compiler::plan::Element {
        let to = &plan
            .links
            .iter()
            .find(|l| l.from == name)
            .expect("a link")
            .to;
        plan.elements
            .iter()
            .find(|e| &e.name == to)
            .expect("element")
    };
    let h264 = plan
        .elements
        .iter()
        .find(|e| e.factory == "nvh264dec")
        .expect("NVDEC for the H.264 file");
    let download = next(&h264.name);
    assert_eq!(download.factory, "cudadownload");
    let convert = next(&download.name);
    assert_eq!(convert.factory, "videoconvert", "passes NV12 through");
    let caps = next(&convert.name);
    assert_eq!(
        caps.props,
        vec![(
            "caps".to_string(),
            Prop::Caps("video/x-raw,format=NV12".into())
        )]
    );
    assert_eq!(next(&caps.name).factory, "queue");
    assert_eq!(next(&next(&caps.name).name).factory, "vplinfer");
    // The H.265 stream goes on to an overlay: converted to I420 on the host.
    let h265 = plan
        .elements
        .iter()
        .find(|e| e.factory == "nvh265dec")
        .expect("h265");
    let caps = next(&next(&next(&h265.name).name).name);
    assert_eq!(
        caps.props,
        vec![(
            "caps".to_string(),
            Prop::Caps("video/x-raw,format=I420".into())
        )]
    );
    // No NVENC on an H200: x264 and x265 encode.
    let factories: Vec<&str> = plan.elements.iter().map(|e| e.factory.as_str()).collect();
    assert!(factories.contains(&"x264enc") && factories.contains(&"x265enc"));
    assert!(
        lowered.cpu_decoding.is_empty(),
        "{:?}",
        lowered.cpu_decoding
    );
    // Every stream is still counted where `vplc run` counts it.
    let names: Vec<&str> = plan.elements.iter().map(|e| e.name.as_str()).collect();
    for counter in vplc::run::stream_counters(&graph, plan) {
        assert!(names.contains(&counter.as_str()), "{counter} in {names:?}");
    }
    // Without nvcodec: the CPU's decoders, and a reason for the one warning.
    let (_, lowered) = c.lower_for(0, &bare).expect("lowers");
    assert!(
        lowered
            .plan
            .elements
            .iter()
            .all(|e| !e.factory.starts_with("nv"))
    );
    assert_eq!(
        lowered.plan,
        c.lower(0).expect("lowers").1,
        "no nvcodec lowers as the CPU does"
    );
    assert!(!lowered.cpu_decoding.is_empty());
}

/// A camera whose pixel format only the device knows (YUY2 for most webcams) gets a
/// `videoconvert` in front of the elements that take only some formats: checked as raw,
/// it must link whatever the camera sends.
#[test]
fn a_camera_of_unknown_format_is_converted_before_overlay_and_infer() {
    let dir = std::env::temp_dir().join(format!("vplc-plan-camera-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let program = dir.join("cam.vpl");
    std::fs::write(
        &program,
        format!(
            "model m = onnx({:?}, decoder: classify());\npipeline p {{\n    let cam = camera() : video<_, 640x480, 30fps>;\n    cam | overlay | encode(h264) | file(\"o.mp4\");\n    cam | infer(m) | json | stdout;\n}}\n",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/models/colour_classifier.onnx")
                .display()
                .to_string()
        ),
    )
    .expect("write");
    let (_, c) = compile_file(&program);
    let (_, plan) = c.lower(0).expect("lowers");
    let text = plan.launch_text();
    for element in ["vploverlay", "vplinfer"] {
        let at = text.find(element).expect("the element");
        let before = &text[..at];
        let last_link = before.rfind(" ! ").expect("linked");
        let previous = before[..last_link]
            .rsplit(" ! ")
            .next()
            .expect("an element");
        assert!(
            previous.starts_with("videoconvert "),
            "{element} follows `{previous}`:\n{text}"
        );
    }
}

/// Found by a user (issue 19): two `test()` sources that differ only in resolution or rate
/// were merged by one-decoder-per-source, so both streams came out at the first's size.
/// Sources are one only when their parameters and their stream types are.
#[test]
fn test_sources_of_different_sizes_or_rates_stay_apart() {
    let dir = std::env::temp_dir().join(format!("vpl-plans-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("sizes.vpl");
    std::fs::write(
        &path,
        "pipeline p {\n    \
         [test(resolution: 320x240), test(resolution: 640x480), test(resolution: 320x240, rate: 15fps), test(resolution: 320x240)]\n        \
         | json\n        | file(\"out/s{stream}.jsonl\");\n}\n",
    )
    .expect("write");
    let (sources, c) = compile_file(&path);
    let (graph, plan) = c.lower(0).expect("lowers");
    let caps: Vec<String> = plan
        .elements
        .iter()
        .filter(|e| e.name.ends_with("_test_caps"))
        .flat_map(|e| e.props.iter().map(|(_, v)| format!("{v:?}")))
        .collect();
    assert_eq!(
        caps.len(),
        3,
        "the last source is the first again: {caps:?}"
    );
    let mut out = graph.describe(&sources, c.file);
    out.push_str("----- gst-launch-1.0 -----\n");
    out.push_str(&plan.launch_text().replace("  ", "\n"));
    let out = out.replace(&dir.display().to_string(), "[dir]");
    insta::assert_snapshot!("test_sources_of_different_sizes", out);
}

/// The key frames an encoder makes for the sinks it feeds, on the CPU (x264enc's
/// `key-int-max`) and with NVENC (nvh264enc's `gop-size`): `record` needs one a second (its
/// pre-roll starts at one), `rtsp_out` one every 2 s, `hls` one a segment (3 s at 25 fps:
/// 75 frames); an encoder feeding both `record` and `rtsp_out` makes the smaller, one a
/// second.
#[test]
fn encoders_make_key_frames_as_often_as_their_sinks_need() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("vpl-plans-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = root.join("tests/fixtures/models/det_dynamic.onnx");
    let path = dir.join("keys.vpl");
    std::fs::write(
        &path,
        format!(
            "model people = onnx({model:?}, labels: [\"person\", \"fallen\"], decoder: yolov8());\n\
             pipeline p {{\n    \
             let seen = test(pattern: ball, rate: 30fps) | infer(people);\n    \
             let both = seen | encode(h264);\n    \
             both | record(when: \"person\", before: 2s, after: 3s, path: \"clips/{{time}}.mp4\");\n    \
             both | rtsp_out(path: \"/both\");\n    \
             test(pattern: snow, rate: 30fps) | infer(people) | encode(h264) \
             | record(when: \"person\", before: 2s, after: 3s, path: \"other/{{time}}.mp4\");\n    \
             test(pattern: smpte, rate: 30fps) | encode(h264) | rtsp_out(path: \"/served\", port: 8555);\n    \
             test(pattern: gradient, rate: 25fps) | encode(h264) | hls(\"hls\", segment: 3s);\n}}\n"
        ),
    )
    .expect("write");
    let (_, c) = compile_file(&path);
    let interval = |plan: &vpl_compiler::plan::Plan, factory: &str, key: &str| {
        let mut found: Vec<Option<Prop>> = plan
            .elements
            .iter()
            .filter(|e| e.factory == factory)
            .map(|e| {
                e.props
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
            })
            .collect();
        found.sort_by_key(|p| format!("{p:?}"));
        found
    };
    let (_, cpu) = c.lower(0).expect("lowers");
    assert_eq!(
        interval(&cpu, "x264enc", "key-int-max"),
        [
            Some(Prop::UInt(30)),
            Some(Prop::UInt(30)),
            Some(Prop::UInt(60)),
            Some(Prop::UInt(75))
        ],
        "{cpu:#?}"
    );
    let [(_, nvenc), ..] = gpu_targets();
    let (_, gpu) = c.lower_for(0, &nvenc).expect("lowers");
    assert_eq!(
        interval(&gpu.plan, "nvh264enc", "gop-size"),
        [
            Some(Prop::Int(30)),
            Some(Prop::Int(30)),
            Some(Prop::Int(60)),
            Some(Prop::Int(75))
        ],
        "{:#?}",
        gpu.plan
    );
}

/// `kafka(…, key: stream)`: a pool's slot keys its messages by the admitted id (the `key`
/// property keeps `{stream}`, a template of the slot), a plain list's streams by their
/// index as text; without `key:` there is no `key` property. Only `kafka` has `key:`.
#[test]
fn kafka_key_stream_is_the_streams_id() {
    let dir = std::env::temp_dir().join(format!("vpl-plans-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("keyed.vpl");
    std::fs::write(
        &path,
        "pipeline p {\n    \
         let cams = pool(max: 2) : video<h264, 320x240, 25fps>;\n    \
         cams | decode | json | kafka(\"localhost:9092\", \"cams\", key: stream);\n    \
         [test(), test()] | json | kafka(\"localhost:9092\", \"tests\", key: stream);\n    \
         test() | json | kafka(\"localhost:9092\", \"plain\");\n}\n",
    )
    .expect("write");
    let (_, c) = compile_file(&path);
    let (_, plan) = c.lower(0).expect("lowers");
    let prop = |e: &vpl_compiler::plan::Element, name: &str| {
        e.props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let records: Vec<&vpl_compiler::plan::Element> = plan
        .elements
        .iter()
        .filter(|e| e.factory == "vplrecords")
        .collect();
    let keys: Vec<(Option<Prop>, Option<Prop>)> = records
        .iter()
        .map(|e| (prop(e, "topic"), prop(e, "key")))
        .collect();
    let s = |t: &str| Some(Prop::Str(t.into()));
    assert_eq!(
        keys,
        vec![
            (s("cams"), s("{stream}")),
            (s("cams"), s("{stream}")),
            (s("tests"), s("2")),
            (s("tests"), s("3")),
            (s("plain"), None),
        ]
    );
    for slot in &plan.pools[0].slots {
        assert!(
            slot.templates
                .iter()
                .any(|t| t.property == "key" && t.text == "{stream}"),
            "{:?}",
            slot.templates
        );
    }

    // `key:` is Kafka's: an MQTT sink refuses it.
    let mqtt = dir.join("mqtt.vpl");
    let text =
        "pipeline p {\n    test() | json | mqtt(\"mqtt://localhost\", \"t\", key: stream);\n}\n";
    std::fs::write(&mqtt, text).expect("write");
    let mut sources = SourceMap::default();
    let host = FsHost::with_cache_file(None);
    let c = compile(&mut sources, "mqtt.vpl", &mqtt, text, &host);
    assert!(c.has_errors());
    let said = format!("{:?}", c.diagnostics);
    assert!(said.contains("key"), "{said}");
}
