//! `vplfilter` and `vpltrack kind=sort` as elements: buffers with hand-made object
//! metadata pushed through a `Harness`, and the metadata that comes out.

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_check::Harness;
use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};

const CAPS: &str = "video/x-raw,format=I420,width=640,height=480,framerate=25/1";

fn init() {
    vpl_runtime::elements::register().expect("vpl elements register");
}

fn object(label: &str, confidence: f32, x: f32, y: f32) -> Object {
    Object {
        class_id: if label == "person" { 0 } else { 2 },
        label: label.into(),
        confidence,
        x,
        y,
        w: 40.0,
        h: 80.0,
        ..Object::default()
    }
}

fn frame(index: u64, objects: Option<Vec<Object>>) -> gst::Buffer {
    let mut buffer = gst::Buffer::new();
    let b = buffer.get_mut().expect("a new buffer is writable");
    b.set_pts(gst::ClockTime::from_mseconds(40 * index));
    if let Some(objects) = objects {
        VplObjectsMeta::add(
            b,
            ObjectsData {
                frame: index,
                source_width: 640,
                source_height: 480,
                objects,
                ..ObjectsData::default()
            },
        );
    }
    buffer
}

fn harness(element: &gst::Element) -> Harness {
    let mut h = Harness::with_element(element, Some("sink"), Some("src"));
    h.set_src_caps_str(CAPS);
    h
}

/// Pushes `buffer` and returns the objects of the buffer that comes out (`None`: no meta).
fn through(h: &mut Harness, buffer: gst::Buffer) -> Option<ObjectsData> {
    let pts = buffer.pts();
    h.push(buffer).expect("the buffer is accepted");
    let out = h.pull().expect("a buffer comes out");
    assert_eq!(out.pts(), pts, "timestamps are kept");
    VplObjectsMeta::get(&out).cloned()
}

fn labelled(data: &ObjectsData) -> Vec<(&str, f32)> {
    data.objects
        .iter()
        .map(|o| (o.label.as_str(), o.confidence))
        .collect()
}

#[test]
fn filter_keeps_the_classes_asked_for_above_the_confidence() {
    init();
    let element = gst::ElementFactory::make("vplfilter")
        .property("classes", "person\ncar")
        .property("min-confidence", 0.5f64)
        .build()
        .expect("vplfilter is registered");
    assert_eq!(element.property::<String>("classes"), "person\ncar");
    let mut h = harness(&element);

    let objects = vec![
        object("person", 0.9, 10.0, 10.0),
        object("car", 0.4, 100.0, 10.0),
        object("dog", 0.95, 200.0, 10.0),
        object("car", 0.5, 300.0, 10.0),
        object("person", 0.1, 400.0, 10.0),
    ];
    let out = through(&mut h, frame(0, Some(objects))).expect("the meta is kept");
    assert_eq!(labelled(&out), [("person", 0.9), ("car", 0.5)]);
    assert_eq!(out.objects[1].x, 300.0, "kept objects are unchanged");
    assert_eq!((out.frame, out.source_width), (0, 640));

    let out = through(&mut h, frame(1, Some(vec![object("dog", 0.99, 0.0, 0.0)])))
        .expect("the meta is kept even when every object goes");
    assert!(out.objects.is_empty());

    assert_eq!(through(&mut h, frame(2, None)), None, "no meta, none added");
}

#[test]
fn filter_with_default_properties_keeps_everything() {
    init();
    let element = gst::ElementFactory::make("vplfilter")
        .build()
        .expect("vplfilter is registered");
    assert_eq!(element.property::<String>("classes"), "");
    assert_eq!(element.property::<f64>("min-confidence"), 0.0);
    let mut h = harness(&element);
    let objects = vec![
        object("dog", 0.0, 0.0, 0.0),
        object("person", 1.0, 50.0, 0.0),
    ];
    let out = through(&mut h, frame(0, Some(objects))).expect("the meta is kept");
    assert_eq!(labelled(&out), [("dog", 0.0), ("person", 1.0)]);
}

#[test]
fn filter_of_confidence_only_keeps_every_label() {
    init();
    let element = gst::ElementFactory::make("vplfilter")
        .property("min-confidence", 0.3f64)
        .build()
        .expect("vplfilter is registered");
    let mut h = harness(&element);
    let objects = vec![
        object("dog", 0.2, 0.0, 0.0),
        object("cat", 0.3, 50.0, 0.0),
        object("person", 0.7, 100.0, 0.0),
    ];
    let out = through(&mut h, frame(0, Some(objects))).expect("the meta is kept");
    assert_eq!(labelled(&out), [("cat", 0.3), ("person", 0.7)]);
}

fn sort_tracker() -> Harness {
    let element = gst::ElementFactory::make("vpltrack")
        .property("kind", "sort")
        .property("max-age", 5u32)
        .property("iou", 0.3f64)
        .build()
        .expect("vpltrack is registered");
    harness(&element)
}

#[test]
fn sort_keeps_the_id_of_a_moving_box_over_20_frames() {
    init();
    let mut h = sort_tracker();
    let mut ids = Vec::new();
    for index in 0..20u64 {
        let step = index as f32;
        // A person walking right and down, and a parked car that never moves.
        let walker = object("person", 0.9, 20.0 + 9.0 * step, 100.0 + 2.0 * step);
        let parked = object("car", 0.8, 500.0, 300.0);
        // Frame 10 has no meta at all (a detector that skipped it): the track coasts.
        let objects = (index != 10).then(|| vec![walker, parked]);
        let out = through(&mut h, frame(index, objects));
        if index == 10 {
            assert_eq!(out, None);
            continue;
        }
        let out = out.expect("the meta is kept");
        assert_eq!(out.objects.len(), 2, "frame {index}");
        assert_eq!(out.objects[0].x, 20.0 + 9.0 * step, "boxes are not moved");
        ids.push((index, out.objects[0].track_id, out.objects[1].track_id));
    }
    for (index, walker, parked) in ids {
        assert_eq!(walker, Some(1), "walker at frame {index}");
        assert_eq!(parked, Some(2), "parked car at frame {index}");
    }
}

#[test]
fn sort_keeps_crossing_boxes_apart() {
    init();
    let mut h = sort_tracker();
    for index in 0..21u64 {
        let step = index as f32;
        let right = object("person", 0.9, 10.0 * step, 50.0);
        let left = object("person", 0.9, 200.0 - 10.0 * step, 50.0);
        // Listed left to right, as a detector scanning the frame would: the order swaps
        // once they have crossed, and only the predicted boxes say who is who.
        let crossed = index > 10;
        let objects = if crossed {
            vec![left, right]
        } else {
            vec![right, left]
        };
        let out = through(&mut h, frame(index, Some(objects))).expect("the meta is kept");
        let [first, second] = [out.objects[0].track_id, out.objects[1].track_id];
        let (right_id, left_id) = if crossed {
            (second, first)
        } else {
            (first, second)
        };
        if index == 10 {
            // The two boxes are the same box on this frame: either way round is right.
            assert!(
                [(Some(1), Some(2)), (Some(2), Some(1))].contains(&(right_id, left_id)),
                "{right_id:?} {left_id:?}"
            );
        } else {
            assert_eq!((right_id, left_id), (Some(1), Some(2)), "frame {index}");
        }
    }
}

#[test]
fn an_unknown_tracker_kind_refuses_to_start() {
    init();
    let element = gst::ElementFactory::make("vpltrack")
        .property("kind", "kalman")
        .build()
        .expect("vpltrack is registered");
    assert!(element.set_state(gst::State::Paused).is_err());
    let _ = element.set_state(gst::State::Null);
}

/// Found by a user (issue 19): an object the detector missed for one frame came back from
/// the tracker without the labels a classifier had given it. Both trackers keep them,
/// also on the frames `infer(every: N)` skipped, where the objects are predictions.
#[test]
fn a_track_missed_for_a_frame_keeps_its_classifier_labels() {
    init();
    for kind in ["iou", "sort"] {
        let element = gst::ElementFactory::make("vpltrack")
            .property("kind", kind)
            .build()
            .expect("vpltrack is registered");
        let mut h = harness(&element);
        let mut person = object("person", 0.9, 100.0, 100.0);
        person.labels.push(vpl_runtime::meta::Label {
            model: "colours".into(),
            label: "red".into(),
            confidence: 0.75,
        });
        let out = through(&mut h, frame(0, Some(vec![person.clone()]))).expect("meta");
        let id = out.objects[0].track_id;
        assert!(id.is_some(), "{kind}");
        // The detector misses the person on the next frame ...
        through(&mut h, frame(1, Some(Vec::new())));
        // ... and finds it again, the classifier (every: N) skipping this frame.
        let out = through(
            &mut h,
            frame(2, Some(vec![object("person", 0.9, 102.0, 100.0)])),
        )
        .expect("meta");
        assert_eq!(out.objects[0].track_id, id, "{kind}");
        assert_eq!(out.objects[0].labels, person.labels, "{kind}: labels kept");
        // A frame inference skipped: the prediction has them too.
        let mut skipped = frame(3, Some(Vec::new()));
        VplObjectsMeta::update(
            skipped.get_mut().expect("writable"),
            ObjectsData::default,
            |d| d.repeated = true,
        );
        let out = through(&mut h, skipped).expect("meta");
        assert_eq!(out.objects.len(), 1, "{kind}");
        assert!(out.objects[0].predicted, "{kind}");
        assert_eq!(
            out.objects[0].labels, person.labels,
            "{kind}: while predicted"
        );
    }
}
