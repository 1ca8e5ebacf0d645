//! Pools at run time, on plans built by hand as the compiler lowers `pool(max: N) :
//! video<h264, 320x240, 25fps>`: each slot `vplslot ! h264parse ! avdec_h264 ! tee`, one
//! branch to a records file all slots share, one re-encoded to `cam_{stream}.mp4`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use vpl_compiler::ir::NodeId;
use vpl_compiler::plan::{Element, Link, Plan, PoolPlan, PoolType, Prop, SlotPlan, Template};
use vpl_compiler::pool::{Entry, StreamSource};
use vpl_compiler::span::Span;
use vpl_runtime::pipeline::{Ending, Running};
use vpl_runtime::pool::{PoolError, Pools};

/// Long enough for anything that works; only a broken slot gets near it.
const LIMIT: Duration = Duration::from_secs(60);

fn init() {
    vpl_runtime::elements::register().expect("vpl elements register");
}

fn launch(description: &str) -> gst::Pipeline {
    gst::parse::launch(description)
        .expect("valid pipeline description")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline")
}

/// Runs `pipeline` to its end; panics on an error.
fn run_to_end(pipeline: &gst::Pipeline) {
    pipeline.set_state(gst::State::Playing).expect("plays");
    let bus = pipeline.bus().expect("a bus");
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the pipeline ends");
    let _ = pipeline.set_state(gst::State::Null);
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("{}: {:?}", e.error(), e.debug());
    }
}

/// An MP4 of `frames` frames of a moving ball, 25 a second.
fn clip(dir: &Path, name: &str, size: (u32, u32), frames: u32, encoder: &str) -> PathBuf {
    let path = dir.join(name);
    let (w, h) = size;
    run_to_end(&launch(&format!(
        "videotestsrc num-buffers={frames} pattern=ball \
         ! video/x-raw,format=I420,width={w},height={h},framerate=25/1 \
         ! {encoder} ! mp4mux ! filesink location={}",
        path.display()
    )));
    path
}

/// The frames an MP4 file decodes to.
fn decoded_frames(path: &Path) -> u64 {
    let pipeline = launch(&format!(
        "filesrc location={} ! qtdemux ! h264parse ! avdec_h264 ! appsink name=out sync=false",
        path.display()
    ));
    let sink = pipeline
        .by_name("out")
        .and_downcast::<gst_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let mut frames = 0;
    while sink
        .try_pull_sample(gst::ClockTime::from_seconds(10))
        .is_some()
    {
        frames += 1;
    }
    let bus = pipeline.bus().expect("a bus");
    let error = bus.pop_filtered(&[gst::MessageType::Error]);
    let _ = pipeline.set_state(gst::State::Null);
    assert!(
        error.is_none(),
        "{} does not play: {error:?}",
        path.display()
    );
    frames
}

fn element(name: &str, factory: &str, props: &[(&str, Prop)]) -> Element {
    Element {
        name: name.into(),
        factory: factory.into(),
        props: props
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect(),
        pad_props: vec![],
        node: NodeId(0),
        span: Span::default(),
        role: None,
    }
}

fn link(from: &str, to: &str) -> Link {
    Link {
        from: from.into(),
        to: to.into(),
        dynamic: false,
    }
}

/// A pool `cams` of `max` slots, as the compiler lowers it; with `video`, each slot's
/// frames are encoded again into `cam_{stream}.mp4` too.
fn pool_plan(max: usize, dir: &Path, video: bool) -> Plan {
    let mut plan = Plan {
        pipeline: "pools".into(),
        ..Plan::default()
    };
    let mut slots = Vec::new();
    for s in 0..max {
        let n = |what: &str| format!("s{s}_{what}");
        let elements = vec![
            element(
                &n("slot"),
                "vplslot",
                &[
                    ("pool", Prop::Str("cams".into())),
                    ("slot", Prop::UInt(s as u64)),
                    ("codec", Prop::Str("h264".into())),
                    ("width", Prop::UInt(320)),
                    ("height", Prop::UInt(240)),
                    ("rate", Prop::Str("25/1".into())),
                ],
            ),
            element(&n("parse"), "h264parse", &[]),
            element(&n("decode"), "avdec_h264", &[]),
            element(&n("tee"), "tee", &[]),
            element(&n("q1"), "queue", &[]),
            element(
                &n("records"),
                "vplrecords",
                &[
                    (
                        "location",
                        Prop::Str(dir.join("records.jsonl").display().to_string()),
                    ),
                    ("pipeline", Prop::Str("pools".into())),
                    ("stream", Prop::UInt(s as u64)),
                    ("stream-id", Prop::Str("{stream}".into())),
                ],
            ),
            element(&n("q2"), "queue", &[]),
            element(&n("convert"), "videoconvert", &[]),
            element(
                &n("encode"),
                "x264enc",
                &[("speed-preset", Prop::Enum("ultrafast".into()))],
            ),
            element(&n("mux"), "mp4mux", &[]),
            element(
                &n("file"),
                "filesink",
                &[(
                    "location",
                    Prop::Str(dir.join("cam_{stream}.mp4").display().to_string()),
                )],
            ),
        ];
        let (elements, links, templates) = if video {
            (elements, &LINKS[..], 2)
        } else {
            (elements[..6].to_vec(), &LINKS[..5], 1)
        };
        for (from, to) in links.iter().copied() {
            plan.links.push(link(&n(from), &n(to)));
        }
        let templates = vec![
            Template {
                element: n("records"),
                property: "stream-id".into(),
                text: "{stream}".into(),
            },
            Template {
                element: n("file"),
                property: "location".into(),
                text: dir.join("cam_{stream}.mp4").display().to_string(),
            },
        ][..templates]
            .to_vec();
        slots.push(SlotPlan {
            index: s,
            stream: s,
            head: n("slot"),
            elements: elements.iter().map(|e| e.name.clone()).collect(),
            templates,
        });
        plan.elements.extend(elements);
    }
    plan.pools.push(PoolPlan {
        name: "cams".into(),
        max,
        ty: PoolType {
            codec: "h264".into(),
            width: 320,
            height: 240,
            rate: (25, 1),
        },
        type_text: "video<h264, 320x240, 25fps>".into(),
        streams_file: None,
        slots,
    });
    plan
}

/// A slot's links, by the short names of its elements: the records branch first.
const LINKS: [(&str, &str); 10] = [
    ("slot", "parse"),
    ("parse", "decode"),
    ("decode", "tee"),
    ("tee", "q1"),
    ("q1", "records"),
    ("tee", "q2"),
    ("q2", "convert"),
    ("convert", "encode"),
    ("encode", "mux"),
    ("mux", "file"),
];

fn file(id: &str, path: &Path, looping: bool) -> Entry {
    Entry {
        id: id.into(),
        url: path.display().to_string(),
        source: StreamSource::File {
            path: path.to_path_buf(),
            looping,
        },
    }
}

/// Waits until `done` holds, at most [`LIMIT`].
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "waited too long for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The records file's lines, as JSON, by `stream_id` in file order.
fn records_by_id(path: &Path) -> HashMap<String, Vec<serde_json::Value>> {
    let text = std::fs::read_to_string(path).expect("the records file");
    let mut out: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let id = value["stream_id"]
            .as_str()
            .expect("a stream_id")
            .to_string();
        out.entry(id).or_default().push(value);
    }
    out
}

/// A stream's records: `frames` records of frames in order, whose timestamps go forward,
/// then its `stream_removed` line.
fn assert_whole(lines: &[serde_json::Value], id: &str, frames: u64, reason: &str) {
    let (last, records) = lines.split_last().expect("records");
    assert_eq!(records.len() as u64, frames, "{id}: one record a frame");
    let pts: Vec<u64> = records
        .iter()
        .map(|r| r["pts_ns"].as_u64().expect("pts_ns"))
        .collect();
    assert!(
        pts.windows(2).all(|w| w[0] < w[1]),
        "{id}: timestamps go forward: {pts:?}"
    );
    assert!(records.iter().all(|r| r.get("event").is_none()));
    assert_eq!(last["event"], "stream_removed", "{id}");
    assert_eq!(last["stream_id"], id);
    assert_eq!(last["pipeline"], "pools");
    assert_eq!(last["frames"], frames, "{id}");
    assert_eq!(last["reason"], reason, "{id}");
    assert_eq!(last["stream"], records[0]["stream"], "{id}");
}

#[test]
fn streams_come_and_go_through_the_slots_of_a_playing_pipeline() {
    init();
    let dir = tempdir("pool");
    let media = dir.join("media");
    std::fs::create_dir_all(&media).expect("a folder");
    let a = clip(&media, "a.mp4", (320, 240), 40, "x264enc key-int-max=25");
    let b = clip(&media, "b.mp4", (320, 240), 30, "x264enc key-int-max=25");
    let c = clip(&media, "c.mp4", (320, 240), 25, "x264enc key-int-max=25");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).expect("a folder");
    let plan = pool_plan(2, &out, true);
    let running = Running::build(&plan, &[], None).expect("the plan builds");
    let pools = Pools::new(&running.pipeline, &plan.pools, running.end_flag()).expect("pools");
    let never = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let run = scope.spawn(|| running.run(&never, |_| {}));
        // A failed assertion ends the run too, so the test ends with it.
        let _end = EndOnDrop(running.end_flag());
        until("the pipeline to play", || {
            running.pipeline.current_state() == gst::State::Playing
        });
        // No stream yet: nothing of a slot is open.
        assert_eq!(files(&out), vec!["records.jsonl".to_string()]);

        // A file stream leaves by itself at its end.
        assert_eq!(pools.add("cams", file("a", &a, false)), Ok(0));
        until("a to end", || pools.list().is_empty());
        // Every slot idle again; the next streams take the lowest free slots.
        assert_eq!(pools.add("cams", file("b", &b, true)), Ok(0));
        assert_eq!(pools.add("cams", file("c", &c, false)), Ok(1));
        assert!(matches!(
            pools.add("cams", file("b", &a, false)),
            Err(PoolError::Conflict(_))
        ));
        assert!(matches!(
            pools.add("cams", file("d", &a, false)),
            Err(PoolError::Conflict(_))
        ));
        assert!(matches!(
            pools.add("nope", file("d", &a, false)),
            Err(PoolError::NotFound(_))
        ));
        let listed = pools.list();
        assert_eq!(
            listed
                .iter()
                .map(|s| (s.id.as_str(), s.slot))
                .collect::<Vec<_>>(),
            vec![("b", 0), ("c", 1)]
        );
        // b loops: past its file's end it goes on, until removed.
        until("b to loop", || {
            pools.list().iter().any(|s| s.id == "b" && s.frames > 40)
        });
        let k = pools.remove("b").expect("b is removed");
        assert!(k > 40, "{k}");
        assert_eq!(
            pools.remove("b"),
            Err(PoolError::NotFound("no stream `b`".into()))
        );
        until("c to end", || pools.list().is_empty());
        pools.finish();
        assert_eq!(run.join().expect("the run"), Ok(Ending::Eos));
        let records = records_by_id(&out.join("records.jsonl"));
        assert_whole(&records["a"], "a", 40, "ended");
        assert_whole(&records["b"], "b", k, "removed");
        assert_whole(&records["c"], "c", 25, "ended");
        assert_eq!(records["a"][0]["stream"], 0);
        assert_eq!(records["c"][0]["stream"], 1);
    });
    drop(running);
    assert_eq!(
        files(&out),
        vec!["cam_a.mp4", "cam_b.mp4", "cam_c.mp4", "records.jsonl"]
    );
    assert_eq!(decoded_frames(&out.join("cam_a.mp4")), 40);
    assert_eq!(decoded_frames(&out.join("cam_c.mp4")), 25);
    let records = records_by_id(&out.join("records.jsonl"));
    let k = records["b"].len() as u64 - 1;
    assert_eq!(decoded_frames(&out.join("cam_b.mp4")), k);
}

struct EndOnDrop(std::sync::Arc<AtomicBool>);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The names of the files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A fresh folder of this test's own under the system's temporary folder.
fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vpl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

#[test]
fn a_file_is_probed_for_its_type_and_a_missing_one_says_so() {
    init();
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/media");
    let source = StreamSource::File {
        path: media.join("h264_640x360_25fps.mp4"),
        looping: false,
    };
    let facts = vpl_runtime::probe::probe_stream(&source, Duration::from_secs(5))
        .expect("the file is probed");
    let video = facts.video.expect("video");
    assert_eq!(video.format, "h264");
    assert_eq!((video.width, video.height), (Some(640), Some(360)));
    assert_eq!(video.rate, Some((25, 1)));
    let missing = StreamSource::File {
        path: media.join("no_such_file.mp4"),
        looping: false,
    };
    assert_eq!(
        vpl_runtime::probe::probe_stream(&missing, Duration::from_secs(5)),
        Err("no such file".to_string())
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn an_rtsp_stream_is_probed_through_its_first_key_frame() {
    init();
    let port = free_port();
    let server = launch(&format!(
        "videotestsrc pattern=ball is-live=true \
         ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
         ! x264enc tune=zerolatency key-int-max=25 speed-preset=ultrafast \
         ! h264parse ! vplrtspout port={port} address=127.0.0.1 path=/t"
    ));
    server
        .set_state(gst::State::Playing)
        .expect("the server plays");
    let source = StreamSource::Rtsp {
        url: format!("rtsp://127.0.0.1:{port}/t"),
        latency_ns: 200_000_000,
        tcp: true,
        reconnect_ns: 0,
    };
    let facts = vpl_runtime::probe::probe_stream(&source, Duration::from_secs(20))
        .expect("the stream is probed");
    let _ = server.set_state(gst::State::Null);
    let video = facts.video.expect("video");
    assert_eq!(video.format, "h264");
    assert_eq!((video.width, video.height), (Some(320), Some(240)));
    assert_eq!(video.rate, Some((25, 1)));
    // Nobody there: refused at once, or at the timeout.
    let nobody = StreamSource::Rtsp {
        url: format!("rtsp://127.0.0.1:{}/t", free_port()),
        latency_ns: 200_000_000,
        tcp: true,
        reconnect_ns: 0,
    };
    assert!(vpl_runtime::probe::probe_stream(&nobody, Duration::from_secs(5)).is_err());
}

/// A camera served at `rtsp://127.0.0.1:port/t`, 25 frames a second, until stopped.
fn camera(port: u16) -> gst::Pipeline {
    let server = launch(&format!(
        "videotestsrc pattern=ball is-live=true \
         ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
         ! x264enc tune=zerolatency key-int-max=25 speed-preset=ultrafast \
         ! h264parse ! vplrtspout port={port} address=127.0.0.1 path=/t"
    ));
    server
        .set_state(gst::State::Playing)
        .expect("the camera plays");
    server
}

fn rtsp(id: &str, port: u16) -> Entry {
    let url = format!("rtsp://127.0.0.1:{port}/t");
    Entry {
        id: id.into(),
        url: url.clone(),
        source: StreamSource::Rtsp {
            url,
            latency_ns: 100_000_000,
            tcp: true,
            reconnect_ns: 300_000_000,
        },
    }
}

/// Three cameras in three slots; one is killed and comes back: it reconnects inside its
/// slot (the pool lists it `reconnecting` meanwhile), and every stream's records stay in
/// order, one a frame the slot took, each ending with its `stream_removed`.
#[test]
fn a_camera_that_goes_away_reconnects_inside_its_slot() {
    init();
    let out = tempdir("pool-rtsp");
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut cameras: Vec<gst::Pipeline> = ports.iter().map(|p| camera(*p)).collect();
    let plan = pool_plan(3, &out, false);
    let running = Running::build(&plan, &[], None).expect("the plan builds");
    let pools = Pools::new(&running.pipeline, &plan.pools, running.end_flag()).expect("pools");
    let never = AtomicBool::new(false);
    let ids = ["north", "south", "west"];
    std::thread::scope(|scope| {
        let run = scope.spawn(|| running.run(&never, |_| {}));
        let _end = EndOnDrop(running.end_flag());
        until("the pipeline to play", || {
            running.pipeline.current_state() == gst::State::Playing
        });
        for (slot, (id, port)) in ids.iter().zip(&ports).enumerate() {
            assert_eq!(pools.add("cams", rtsp(id, *port)), Ok(slot));
        }
        let frames = |id: &str| {
            pools
                .list()
                .iter()
                .find(|s| s.id == id)
                .map_or(0, |s| s.frames)
        };
        let state = |id: &str| pools.list().iter().find(|s| s.id == id).map(|s| s.state);
        until("every camera's frames", || {
            ids.iter().all(|id| frames(id) > 25)
        });
        // South goes away: it waits for its camera, the others go on.
        let _ = cameras[1].set_state(gst::State::Null);
        until("south to reconnect", || {
            state("south") == Some("reconnecting")
        });
        let (north, west) = (frames("north"), frames("west"));
        until("the others to go on", || {
            frames("north") > north + 25 && frames("west") > west + 25
        });
        cameras[1] = camera(ports[1]);
        let back = frames("south");
        until("south to come back", || frames("south") > back + 25);
        assert_eq!(state("south"), Some("playing"));
        let taken: Vec<u64> = ids
            .iter()
            .map(|id| pools.remove(id).expect("removed"))
            .collect();
        pools.finish();
        assert_eq!(run.join().expect("the run"), Ok(Ending::Eos));
        let records = records_by_id(&out.join("records.jsonl"));
        for (id, k) in ids.iter().zip(taken) {
            assert_whole(&records[*id], id, k, "removed");
        }
    });
    for camera in cameras {
        let _ = camera.set_state(gst::State::Null);
    }
}

/// The slot's "stream leaves" event reaches `events(on: [exit])` after the stream's last
/// frame: a track still inside a zone exits it then, in one more buffer before the event.
#[test]
fn a_stream_that_leaves_its_slot_exits_the_zones_its_tracks_are_in() {
    use vpl_runtime::analytics::InZone;
    use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};
    init();
    let pipeline = launch(
        "appsrc name=in format=time caps=video/x-raw,format=GRAY8,width=4,height=4,framerate=25/1 \
         ! vplevents name=events \
         ! appsink name=out sync=false",
    );
    let events = pipeline.by_name("events").expect("vplevents");
    events.set_property("config", r#"{"on":["entry","exit"],"every_ns":0}"#);
    let appsrc = pipeline
        .by_name("in")
        .and_downcast::<gst_app::AppSrc>()
        .expect("an appsrc");
    let appsink = pipeline
        .by_name("out")
        .and_downcast::<gst_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let person = Object {
        label: "person".into(),
        track_id: Some(7),
        w: 10.0,
        h: 20.0,
        zones: vec![InZone {
            zone: "door".into(),
            dwell_s: None,
        }],
        ..Object::default()
    };
    for i in 0..3u64 {
        let mut buffer = gst::Buffer::with_size(16).expect("a buffer");
        {
            let buffer = buffer.get_mut().expect("writable");
            buffer.set_pts(gst::ClockTime::from_mseconds(40 * i));
            VplObjectsMeta::set(
                buffer,
                ObjectsData {
                    objects: vec![person.clone()],
                    ..ObjectsData::default()
                },
            );
        }
        appsrc.push_buffer(buffer).expect("pushed");
    }
    let leaves = gst::Structure::new_empty(vpl_runtime::elements::slot::STREAM_LEAVES);
    appsrc.send_event(gst::event::CustomDownstream::new(leaves));
    appsrc.end_of_stream().expect("ended");
    let mut kinds = Vec::new();
    while let Some(sample) = appsink.try_pull_sample(gst::ClockTime::from_seconds(10)) {
        let buffer = sample.buffer().expect("a buffer");
        let events = VplObjectsMeta::get(buffer)
            .and_then(|d| d.events.clone())
            .unwrap_or_default();
        kinds.push(
            events
                .iter()
                .map(|e| format!("{:?} {}", e.kind, e.zone.as_deref().unwrap_or("")))
                .collect::<Vec<_>>(),
        );
    }
    let _ = pipeline.set_state(gst::State::Null);
    assert_eq!(
        kinds,
        vec![
            vec!["Entry door".to_string()],
            vec![],
            vec![],
            vec!["Exit door".to_string()],
        ]
    );
}

/// A tile's cell whose stream has no frame any more (a pool's slot whose stream left, a
/// shorter file of a list) is the background: the objects of its last frame are not carried
/// into the grid's later frames, where `overlay` would draw them and `analyze` count them
/// in an empty cell.
#[test]
fn an_empty_cell_of_a_tile_carries_no_objects() {
    use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};
    init();
    let cell = "video/x-raw,format=I420,width=160,height=120,framerate=25/1";
    let pipeline = launch(&format!(
        "compositor name=comp background=black \
           sink_0::xpos=0 sink_0::ypos=0 sink_0::width=160 sink_0::height=120 \
           sink_1::xpos=160 sink_1::ypos=0 sink_1::width=160 sink_1::height=120 \
         ! video/x-raw,format=I420,width=320,height=120 ! appsink name=out sync=false \
         videotestsrc pattern=black num-buffers=1 ! {cell} ! identity name=in0 ! comp.sink_0 \
         videotestsrc pattern=black num-buffers=4 ! {cell} ! identity name=in1 ! comp.sink_1"
    ));
    let input = pipeline.by_name("in0").expect("identity");
    input
        .static_pad("src")
        .expect("src")
        .add_probe(gst::PadProbeType::BUFFER, |_, info| {
            if let Some(buffer) = info.buffer_mut() {
                VplObjectsMeta::set(
                    buffer.make_mut(),
                    ObjectsData {
                        source_width: 160,
                        source_height: 120,
                        objects: vec![Object {
                            label: "person".into(),
                            w: 10.0,
                            h: 20.0,
                            ..Object::default()
                        }],
                        ..ObjectsData::default()
                    },
                );
            }
            gst::PadProbeReturn::Ok
        });
    let comp = pipeline.by_name("comp").expect("compositor");
    vpl_runtime::tile::carry_objects(&comp);
    let sink = pipeline
        .by_name("out")
        .and_downcast::<gst_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let mut objects = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(10)) {
        let buffer = sample.buffer().expect("a buffer");
        objects.push(VplObjectsMeta::get(buffer).map_or(0, |d| d.objects.len()));
    }
    let _ = pipeline.set_state(gst::State::Null);
    assert_eq!(objects, [1, 0, 0, 0]);
}
