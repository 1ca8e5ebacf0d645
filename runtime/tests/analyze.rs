//! `vplanalyze` as an element: frames with hand-made tracked objects pushed through two
//! `analyze` stages in a row, and the analytics that come out.

use gstreamer as gst;
use gstreamer_check::Harness;
use vpl_compiler::analytics::{AnalyzeConfig, Direction, Line, Zone};
use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};

fn analyze(config: &AnalyzeConfig) -> String {
    let json = serde_json::to_string(config).expect("a config is JSON");
    format!("vplanalyze config=\"{}\"", json.replace('"', "\\\""))
}

/// Found by a user (issue 19): two `analyze` stages in a row lost the first one's results.
/// The first measures a zone and a line, the second another zone: the frames and the
/// objects carry all three.
#[test]
fn two_analyze_stages_in_a_row_keep_both_results() {
    gst::init().expect("GStreamer");
    vpl_runtime::elements::register().expect("vpl elements register");
    let first = AnalyzeConfig {
        zones: vec![Zone {
            name: "door".into(),
            points: vec![[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]],
            size: None,
            crowd: 0,
        }],
        lines: vec![Line {
            name: "gate".into(),
            a: [0.0, 50.0],
            b: [100.0, 50.0],
            size: Some((100, 100)),
            direction: Direction::Both,
        }],
    };
    let second = AnalyzeConfig {
        zones: vec![Zone {
            name: "shelf".into(),
            points: vec![[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]],
            size: None,
            crowd: 0,
        }],
        lines: Vec::new(),
    };
    let mut h = Harness::new_parse(&format!("{} ! {}", analyze(&first), analyze(&second)));
    h.set_src_caps_str("video/x-raw,format=I420,width=100,height=100,framerate=10/1");
    let mut crossings = 0;
    let mut last = None;
    for step in 0..10u64 {
        // One person walking down across the gate (y 50) in the left half.
        let bottom = 23.0 + step as f32 * 6.0;
        let mut buffer = gst::Buffer::new();
        {
            let b = buffer.get_mut().expect("writable");
            b.set_pts(gst::ClockTime::from_mseconds(100 * step));
            VplObjectsMeta::add(
                b,
                ObjectsData {
                    frame: step,
                    source_width: 100,
                    source_height: 100,
                    objects: vec![Object {
                        label: "person".into(),
                        x: 0.0,
                        y: bottom - 40.0,
                        w: 20.0,
                        h: 40.0,
                        track_id: Some(1),
                        ..Object::default()
                    }],
                    ..ObjectsData::default()
                },
            );
        }
        h.push(buffer).expect("accepted");
        let out = h.pull().expect("a frame");
        let data = VplObjectsMeta::get(&out).expect("the meta").clone();
        crossings += data.objects[0].crossed.len();
        last = Some(data);
    }
    assert_eq!(crossings, 1, "the first analyze's crossing is on its frame");
    let last = last.expect("frames");
    let analytics = last.analytics.expect("analytics");
    let zones: Vec<(&str, u32)> = analytics
        .zones
        .iter()
        .map(|z| (z.zone.as_str(), z.count))
        .collect();
    assert_eq!(zones, [("door", 1), ("shelf", 1)]);
    let lines: Vec<(&str, u64)> = analytics
        .lines
        .iter()
        .map(|l| (l.line.as_str(), l.forward))
        .collect();
    assert_eq!(lines, [("gate", 1)]);
    let inside: Vec<&str> = last.objects[0]
        .zones
        .iter()
        .map(|z| z.zone.as_str())
        .collect();
    assert_eq!(inside, ["door", "shelf"]);
}
