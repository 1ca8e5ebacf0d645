//! ByteTrack on hand-made detections whose answers are known.

use super::*;
use crate::elements::track::sort::SortTracker;

fn det(x: f32, y: f32, confidence: f32) -> Object {
    Object {
        x,
        y,
        w: 40.0,
        h: 80.0,
        confidence,
        label: "person".into(),
        ..Object::default()
    }
}

fn ids(objects: &[Object]) -> Vec<Option<u64>> {
    objects.iter().map(|o| o.track_id).collect()
}

fn tracker() -> ByteTracker {
    ByteTracker::new(ByteParams::default())
}

#[test]
fn a_moving_box_keeps_one_id_and_its_detected_box() {
    let mut t = tracker();
    for step in 0..30 {
        let x = 100.0 + 7.0 * step as f32;
        let mut objects = vec![det(x, 50.0 + step as f32, 0.9)];
        t.update(&mut objects);
        assert_eq!(ids(&objects), [Some(1)], "frame {step}");
        assert_eq!((objects[0].x, objects[0].w), (x, 40.0), "the detected box");
    }
}

#[test]
fn a_new_object_is_confirmed_on_its_second_frame_except_on_the_first_frame() {
    let mut t = tracker();
    let mut first = vec![det(0.0, 0.0, 0.9)];
    t.update(&mut first);
    assert_eq!(ids(&first), [Some(1)], "frame 1 confirms at once");
    let mut second = vec![det(2.0, 0.0, 0.9), det(300.0, 0.0, 0.9)];
    t.update(&mut second);
    assert_eq!(ids(&second), [Some(1)], "the newcomer waits a frame");
    let mut third = vec![det(4.0, 0.0, 0.9), det(302.0, 0.0, 0.9)];
    t.update(&mut third);
    assert_eq!(ids(&third), [Some(1), Some(2)]);
    // A one-frame false positive takes an id (2 was, 3 is) but never shows.
    let mut fourth = vec![
        det(6.0, 0.0, 0.9),
        det(304.0, 0.0, 0.9),
        det(600.0, 300.0, 0.9),
    ];
    t.update(&mut fourth);
    assert_eq!(ids(&fourth), [Some(1), Some(2)]);
    let mut fifth = vec![det(8.0, 0.0, 0.9), det(306.0, 0.0, 0.9)];
    t.update(&mut fifth);
    assert_eq!(ids(&fifth), [Some(1), Some(2)]);
    let mut sixth = vec![det(10.0, 0.0, 0.9), det(700.0, 0.0, 0.9)];
    t.update(&mut sixth);
    let mut seventh = vec![det(12.0, 0.0, 0.9), det(702.0, 0.0, 0.9)];
    t.update(&mut seventh);
    assert_eq!(
        ids(&seventh),
        [Some(1), Some(4)],
        "ids count every track born"
    );
}

#[test]
fn thresholds_sort_the_detections() {
    let p = ByteParams::default();
    let mut t = ByteTracker::new(p);
    // Low (0.3) and in-between (0.55, above high but below new_track) boxes start nothing;
    // boxes at or below low are ignored even by a track.
    let mut objects = vec![
        det(0.0, 0.0, 0.3),
        det(200.0, 0.0, 0.55),
        det(400.0, 0.0, 0.6),
    ];
    t.update(&mut objects);
    assert_eq!(ids(&objects), [Some(1)]);
    assert_eq!(objects[0].x, 400.0);
    let mut objects = vec![det(402.0, 0.0, 0.05)];
    t.update(&mut objects);
    assert!(objects.is_empty(), "a box at 0.05 continues nothing");
    assert_eq!(t.tracks().len(), 1, "the track is lost, not ended");
    let mut objects = vec![det(404.0, 0.0, 0.2)];
    t.update(&mut objects);
    assert!(
        objects.is_empty(),
        "a lost track is not in the second association"
    );
    let mut objects = vec![det(406.0, 0.0, 0.8)];
    t.update(&mut objects);
    assert_eq!(ids(&objects), [Some(1)], "found again by a strong box");
}

#[test]
fn a_lost_track_is_kept_max_age_frames_and_found_the_frame_after() {
    let p = ByteParams {
        max_age: 2,
        ..ByteParams::default()
    };
    for (gap, want) in [(2, Some(1)), (3, Some(1)), (4, None)] {
        let mut t = ByteTracker::new(p);
        t.update(&mut vec![det(0.0, 0.0, 0.9)]);
        for _ in 0..gap {
            t.update(&mut Vec::new());
        }
        let mut back = vec![det(0.0, 0.0, 0.9)];
        t.update(&mut back);
        assert_eq!(back.first().and_then(|o| o.track_id), want, "gap {gap}");
    }
}

#[test]
fn classes_do_not_mix_and_bad_boxes_do_not_panic() {
    let mut t = tracker();
    let mut objects = vec![
        det(0.0, 0.0, 0.9),
        Object {
            class_id: 1,
            ..det(0.0, 0.0, 0.9)
        },
        Object {
            x: f32::NAN,
            ..det(0.0, 0.0, 0.9)
        },
        Object {
            h: 0.0,
            ..det(0.0, 0.0, 0.9)
        },
    ];
    t.update(&mut objects);
    assert_eq!(ids(&objects), [Some(1), Some(2)]);
    for _ in 0..3 {
        let mut again = vec![
            Object {
                class_id: 1,
                ..det(1.0, 0.0, 0.9)
            },
            det(1.0, 0.0, 0.9),
        ];
        t.update(&mut again);
        assert_eq!(ids(&again), [Some(2), Some(1)]);
    }
}

/// A person walks right at 6 px a frame; for frames 10..20 another passes in front and the
/// detector still sees them, but weakly (0.3), a little smaller, and jittering; in frames
/// 12..16 a weak false positive (0.3) flickers elsewhere. The same detections, with every
/// box above 0.1 (what ByteTrack is fed), go through ByteTrack and SORT.
fn occlusion() -> Vec<Vec<Object>> {
    (0..30)
        .map(|step| {
            let x = 100.0 + 6.0 * step as f32;
            let mut frame = Vec::new();
            if (10..20).contains(&step) {
                let jitter = if step % 2 == 0 { 3.0 } else { -3.0 };
                frame.push(Object {
                    w: 36.0,
                    h: 72.0,
                    ..det(x + jitter, 54.0, 0.3)
                });
            } else {
                frame.push(det(x, 50.0, 0.9));
            }
            if (12..16).contains(&step) {
                frame.push(det(500.0, 300.0 + 10.0 * (step % 2) as f32, 0.3));
            }
            frame
        })
        .collect()
}

#[test]
fn a_weak_box_keeps_a_track_through_an_occlusion_that_sort_loses() {
    let max_age = 5;
    let p = ByteParams {
        max_age,
        ..ByteParams::default()
    };
    let mut byte = ByteTracker::new(p);
    for (step, frame) in occlusion().into_iter().enumerate() {
        let mut objects = frame;
        byte.update(&mut objects);
        assert_eq!(
            ids(&objects),
            [Some(1)],
            "frame {step}: one id, through the occlusion, and none for the false positive"
        );
    }

    // SORT with the detector's usual threshold (0.5) never sees the weak boxes: the track
    // ends during the ten-frame occlusion and the person comes back as someone new.
    let mut sort = SortTracker::new(max_age, 0.3);
    let mut after = Vec::new();
    for frame in occlusion() {
        let mut objects: Vec<Object> = frame.into_iter().filter(|o| o.confidence >= 0.5).collect();
        sort.update(&mut objects);
        after.push(ids(&objects));
    }
    assert_eq!(after[9], [Some(1)]);
    assert_eq!(after[20], [Some(2)], "SORT gives the person a new id");

    // SORT fed the weak boxes too keeps the person but tracks the false positive.
    let mut sort = SortTracker::new(max_age, 0.3);
    let mut ids_seen = std::collections::BTreeSet::new();
    for frame in occlusion() {
        let mut objects = frame;
        sort.update(&mut objects);
        ids_seen.extend(objects.iter().filter_map(|o| o.track_id));
    }
    assert!(
        ids_seen.len() > 1,
        "SORT tracks the false positive: {ids_seen:?}"
    );
}

#[test]
fn frames_without_inference_carry_predicted_boxes() {
    let mut t = tracker();
    for step in 0..30 {
        let x = 6.0 * step as f32;
        if step % 3 == 0 {
            let mut objects = vec![det(x, 50.0, 0.9)];
            t.update(&mut objects);
            assert_eq!(ids(&objects), [Some(1)], "frame {step}");
        } else {
            let predicted = t.predict();
            assert_eq!(predicted.len(), 1, "frame {step}");
            let p = &predicted[0];
            assert!(p.predicted && p.track_id == Some(1) && p.label == "person");
            if step > 9 {
                assert!((p.x - x).abs() < 3.0, "frame {step}: x {} for {x}", p.x);
            }
        }
    }
    t.update(&mut Vec::new());
    assert!(t.predict().is_empty(), "a lost track is not shown");
}

#[test]
fn a_track_keeps_its_classifier_labels_through_a_weak_frame() {
    let mut t = tracker();
    let mut first = det(0.0, 0.0, 0.9);
    first.labels.push(crate::meta::Label {
        model: "colours".into(),
        label: "red".into(),
        confidence: 0.7,
    });
    let mut objects = vec![first];
    t.update(&mut objects);
    let labels = objects[0].labels.clone();
    let mut weak = vec![det(2.0, 0.0, 0.3)];
    t.update(&mut weak);
    assert_eq!(ids(&weak), [Some(1)]);
    assert_eq!(weak[0].labels, labels);
    assert_eq!(weak[0].confidence, 0.3, "the object is this frame's");
}
