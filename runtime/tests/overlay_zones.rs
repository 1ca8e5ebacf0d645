//! `vploverlay` draws what `analyze` measured: each zone's outline and each line, from the
//! frame's analytics, on a uniform grey I420 frame pushed through a `Harness`.

use gstreamer as gst;
use gstreamer_check::Harness;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use vpl_runtime::analytics::{FrameAnalytics, LineCount, ZoneCount};
use vpl_runtime::meta::{ObjectsData, VplObjectsMeta};

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
const CAPS: &str = "video/x-raw,format=I420,width=320,height=240,framerate=25/1";
const GREY: u8 = 128;

/// The luma plane of the frame `vploverlay` makes of a grey frame carrying `analytics`.
fn overlay(analytics: Option<FrameAnalytics>) -> Vec<u8> {
    vpl_runtime::elements::register().expect("vpl elements register");
    let mut h = Harness::new("vploverlay");
    h.set_src_caps_str(CAPS);
    let info =
        gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, WIDTH as u32, HEIGHT as u32)
            .build()
            .expect("I420 video info");
    let mut buffer = gst::Buffer::from_mut_slice(vec![GREY; info.size()]);
    {
        let b = buffer.get_mut().expect("a new buffer is writable");
        b.set_pts(gst::ClockTime::ZERO);
        VplObjectsMeta::add(
            b,
            ObjectsData {
                source_width: WIDTH as u32,
                source_height: HEIGHT as u32,
                analytics,
                ..ObjectsData::default()
            },
        );
    }
    h.push(buffer).expect("the frame is accepted");
    let out = h.pull().expect("a frame comes out");
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(out.as_ref(), &info)
        .expect("the output is an I420 frame");
    let stride = frame.plane_stride()[0] as usize;
    let data = frame.plane_data(0).expect("luma plane");
    (0..HEIGHT)
        .flat_map(|row| data[row * stride..row * stride + WIDTH].to_vec())
        .collect()
}

fn analytics(overcrowded: bool) -> FrameAnalytics {
    FrameAnalytics {
        zones: vec![ZoneCount {
            zone: "door".into(),
            count: 2,
            overcrowded,
            points: vec![[40.0, 40.0], [200.0, 40.0], [200.0, 200.0], [40.0, 200.0]],
            ..ZoneCount::default()
        }],
        lines: vec![LineCount {
            line: "gate".into(),
            ends: [[260.0, 220.0], [260.0, 20.0]],
            ..LineCount::default()
        }],
    }
}

#[test]
fn zones_and_lines_are_outlined_and_overcrowding_turns_red() {
    let at = |y: &[u8], px: usize, py: usize| y[py * WIDTH + px];
    let plain = overlay(None);
    assert!(plain.iter().all(|&v| v == GREY), "nothing to draw");
    let drawn = overlay(Some(analytics(false)));
    // The zone's left and right edges, the line, and not the inside of the zone.
    let (zone, line) = (at(&drawn, 40, 150), at(&drawn, 260, 100));
    assert_ne!(zone, GREY);
    assert_eq!(at(&drawn, 200, 150), zone);
    assert_ne!(line, GREY);
    assert_ne!(zone, line, "zones and lines have their own colours");
    assert_eq!(
        at(&drawn, 120, 150),
        GREY,
        "the zone is outlined, not filled"
    );
    assert_eq!(at(&drawn, 300, 150), GREY);
    let crowded = overlay(Some(analytics(true)));
    assert_ne!(
        at(&crowded, 40, 150),
        zone,
        "an overcrowded zone changes colour"
    );
    assert_eq!(at(&crowded, 260, 100), line);
}

/// Found by a user (issue 19): `overlay` after `tile` drew no zones, lines or counts, as
/// the compositor's frames carried only the objects. Two black 160x120 streams, each with
/// a zone and a line from its own `analyze`, tiled side by side: both are drawn in each
/// cell, moved there as the objects are.
#[test]
fn after_tile_each_cells_zones_and_lines_are_drawn_in_its_cell() {
    use gstreamer::prelude::*;
    vpl_runtime::elements::register().expect("vpl elements register");
    let cell = "video/x-raw,format=I420,width=160,height=120,framerate=25/1";
    let pipeline = gst::parse::launch(&format!(
        "compositor name=comp background=black \
           sink_0::xpos=0 sink_0::ypos=0 sink_0::width=160 sink_0::height=120 \
           sink_1::xpos=160 sink_1::ypos=0 sink_1::width=160 sink_1::height=120 \
         ! video/x-raw,format=I420,width=320,height=120 ! vploverlay ! appsink name=out sync=false \
         videotestsrc pattern=black num-buffers=3 ! {cell} ! identity name=in0 ! comp.sink_0 \
         videotestsrc pattern=black num-buffers=3 ! {cell} ! identity name=in1 ! comp.sink_1"
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    for stream in 0..2u32 {
        let input = pipeline.by_name(&format!("in{stream}")).expect("identity");
        input.static_pad("src").expect("src").add_probe(
            gst::PadProbeType::BUFFER,
            move |_, info| {
                if let Some(buffer) = info.buffer_mut() {
                    VplObjectsMeta::set(
                        buffer.make_mut(),
                        ObjectsData {
                            stream,
                            source_width: 160,
                            source_height: 120,
                            analytics: Some(FrameAnalytics {
                                zones: vec![ZoneCount {
                                    zone: "door".into(),
                                    points: vec![
                                        [20.0, 20.0],
                                        [100.0, 20.0],
                                        [100.0, 100.0],
                                        [20.0, 100.0],
                                    ],
                                    ..ZoneCount::default()
                                }],
                                lines: vec![LineCount {
                                    line: "gate".into(),
                                    ends: [[130.0, 110.0], [130.0, 30.0]],
                                    ..LineCount::default()
                                }],
                            }),
                            ..ObjectsData::default()
                        },
                    );
                }
                gst::PadProbeReturn::Ok
            },
        );
    }
    let comp = pipeline.by_name("comp").expect("compositor");
    vpl_runtime::tile::carry_objects(&comp);
    let sink = pipeline
        .by_name("out")
        .expect("appsink")
        .downcast::<gstreamer_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let sample = sink
        .try_pull_sample(gst::ClockTime::from_seconds(10))
        .expect("a tiled frame");
    pipeline.set_state(gst::State::Null).expect("stops");
    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, WIDTH as u32, 120)
        .build()
        .expect("I420 video info");
    let buffer = sample.buffer().expect("a buffer");
    let frame =
        gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).expect("an I420 frame");
    let stride = frame.plane_stride()[0] as usize;
    let luma = frame.plane_data(0).expect("luma");
    let at = |x: usize, y: usize| luma[y * stride + x];
    const BLACK: u8 = 16;
    for x0 in [0, 160] {
        // The zone's left and right edges, the line; not the inside of the zone.
        assert_ne!(
            at(x0 + 20, 60),
            BLACK,
            "the zone's left edge in the cell at {x0}"
        );
        assert_ne!(
            at(x0 + 100, 60),
            BLACK,
            "its right edge in the cell at {x0}"
        );
        assert_ne!(at(x0 + 130, 70), BLACK, "the line in the cell at {x0}");
        assert_eq!(
            at(x0 + 60, 70),
            BLACK,
            "inside the zone in the cell at {x0}"
        );
    }
}
