//! Objects of successive frames → stable track ids, by overlap (IoU) of their boxes.

use super::matching::{Candidate, greedy, keep_labels};
use crate::meta::Object;

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    class_id: u32,
    bbox: [f32; 4],
    /// Frames since the track was last matched.
    missed: u32,
    /// The object last matched, and the frame it was matched on.
    last: Object,
    seen: u64,
    /// Per-frame motion between the last two matches.
    velocity: [f32; 4],
}

/// A greedy IoU tracker: each object takes the id of the unmatched track of its class it
/// overlaps most (at least `iou`); objects left over start new tracks; a track unmatched
/// for more than `max_age` frames ends.
#[derive(Debug, Clone)]
pub struct IouTracker {
    tracks: Vec<Track>,
    next_id: u64,
    /// Frames seen, with or without inference.
    frame: u64,
    max_age: u32,
    iou: f32,
}

impl IouTracker {
    pub fn new(max_age: u32, iou: f32) -> IouTracker {
        IouTracker {
            tracks: Vec::new(),
            next_id: 1,
            frame: 0,
            max_age,
            iou,
        }
    }

    /// Gives every object of this frame its track id.
    pub fn update(&mut self, objects: &mut [Object]) {
        let boxes: Vec<[f32; 4]> = objects.iter().map(|o| [o.x, o.y, o.w, o.h]).collect();
        let tracks: Vec<Candidate> = self
            .tracks
            .iter()
            .map(|t| (t.class_id, t.bbox, true))
            .collect();
        let candidates: Vec<Candidate> = objects
            .iter()
            .zip(&boxes)
            .map(|(o, b)| (o.class_id, *b, true))
            .collect();
        let mut track_used = vec![false; self.tracks.len()];
        let mut object_used = vec![false; objects.len()];
        for (t, o) in greedy(&tracks, &candidates, self.iou) {
            track_used[t] = true;
            object_used[o] = true;
            let track = &mut self.tracks[t];
            let frames = self.frame.saturating_sub(track.seen).max(1) as f32;
            track.velocity = std::array::from_fn(|i| (boxes[o][i] - track.bbox[i]) / frames);
            track.bbox = boxes[o];
            track.missed = 0;
            track.seen = self.frame;
            objects[o].track_id = Some(track.id);
            keep_labels(&track.last, &mut objects[o]);
            track.last = objects[o].clone();
        }
        for (t, track) in self.tracks.iter_mut().enumerate() {
            if !track_used[t] {
                track.missed += 1;
            }
        }
        let max_age = self.max_age;
        self.tracks.retain(|t| t.missed <= max_age);
        for (o, object) in objects.iter_mut().enumerate() {
            if object_used[o] {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            object.track_id = Some(id);
            self.tracks.push(Track {
                id,
                class_id: object.class_id,
                bbox: boxes[o],
                missed: 0,
                last: object.clone(),
                seen: self.frame,
                velocity: [0.0; 4],
            });
        }
        self.frame += 1;
    }
}

impl IouTracker {
    /// A frame without inference (`infer(every: N)` skipped it): the tracks seen at the last
    /// inference, moved on by their last per-frame motion. Tracks do not age: only frames
    /// with inference count as missed.
    pub fn predict(&mut self) -> Vec<Object> {
        let frame = self.frame;
        self.frame += 1;
        self.tracks
            .iter()
            .filter(|t| t.missed == 0)
            .map(|t| {
                let k = frame.saturating_sub(t.seen) as f32;
                let [x, y, w, h]: [f32; 4] = std::array::from_fn(|i| t.bbox[i] + t.velocity[i] * k);
                Object {
                    x,
                    y,
                    w,
                    h,
                    track_id: Some(t.id),
                    predicted: true,
                    ..t.last.clone()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(class_id: u32, x: f32, y: f32) -> Object {
        Object {
            class_id,
            x,
            y,
            w: 40.0,
            h: 80.0,
            confidence: 0.9,
            ..Object::default()
        }
    }

    #[test]
    fn a_moving_box_keeps_its_id() {
        let mut t = IouTracker::new(30, 0.3);
        let mut ids = Vec::new();
        for step in 0..20 {
            let mut objects = vec![object(0, 100.0 + 4.0 * step as f32, 50.0)];
            t.update(&mut objects);
            ids.push(objects[0].track_id);
        }
        assert!(ids.iter().all(|id| *id == Some(1)), "{ids:?}");
    }

    #[test]
    fn separate_objects_get_separate_ids_and_classes_do_not_mix() {
        let mut t = IouTracker::new(30, 0.3);
        let mut objects = vec![
            object(0, 0.0, 0.0),
            object(0, 300.0, 0.0),
            object(1, 0.0, 0.0),
        ];
        t.update(&mut objects);
        let first: Vec<_> = objects.iter().map(|o| o.track_id).collect();
        assert_eq!(first, vec![Some(1), Some(2), Some(3)]);
        let mut objects = vec![
            object(1, 2.0, 0.0),
            object(0, 302.0, 0.0),
            object(0, 2.0, 0.0),
        ];
        t.update(&mut objects);
        let second: Vec<_> = objects.iter().map(|o| o.track_id).collect();
        assert_eq!(second, vec![Some(3), Some(2), Some(1)]);
    }

    #[test]
    fn frames_without_inference_carry_boxes_moved_on() {
        let mut t = IouTracker::new(30, 0.3);
        for step in 0..12 {
            let x = 100.0 + 4.0 * step as f32;
            if step % 4 == 0 {
                let mut objects = vec![object(0, x, 50.0)];
                t.update(&mut objects);
                assert_eq!(objects[0].track_id, Some(1));
            } else {
                let predicted = t.predict();
                assert_eq!(predicted.len(), 1, "frame {step}");
                assert!(predicted[0].predicted && predicted[0].track_id == Some(1));
                if step > 4 {
                    assert!((predicted[0].x - x).abs() < 1e-3, "frame {step}");
                }
            }
        }
    }

    #[test]
    fn a_track_survives_max_age_missed_frames_and_no_more() {
        let mut t = IouTracker::new(2, 0.3);
        t.update(&mut [object(0, 0.0, 0.0)]);
        t.update(&mut []);
        t.update(&mut []);
        let mut back = [object(0, 0.0, 0.0)];
        t.update(&mut back);
        assert_eq!(
            back[0].track_id,
            Some(1),
            "two missed frames are within max_age 2"
        );
        for _ in 0..3 {
            t.update(&mut []);
        }
        let mut later = [object(0, 0.0, 0.0)];
        t.update(&mut later);
        assert_eq!(
            later[0].track_id,
            Some(2),
            "three missed frames end the track"
        );
    }

    fn labelled(mut o: Object, model: &str, label: &str) -> Object {
        o.labels.push(crate::meta::Label {
            model: model.into(),
            label: label.into(),
            confidence: 0.8,
        });
        o
    }

    /// Found by a user (issue 19): a track missed for one frame came back without the
    /// labels a classifier had given it.
    #[test]
    fn a_track_missed_for_a_frame_keeps_its_classifier_labels() {
        let mut t = IouTracker::new(30, 0.3);
        let mut first = [labelled(object(0, 100.0, 50.0), "colours", "red")];
        t.update(&mut first);
        t.update(&mut []);
        let mut back = [object(0, 102.0, 50.0)];
        t.update(&mut back);
        assert_eq!(back[0].track_id, first[0].track_id);
        assert_eq!(back[0].labels, first[0].labels, "labels kept after a miss");
        // And while predicted, on a frame inference skipped.
        let predicted = t.predict();
        assert_eq!(predicted.len(), 1);
        assert_eq!(predicted[0].labels, first[0].labels);
        // A classifier's new label replaces its old one; another's is added beside it.
        let mut relabelled = [labelled(object(0, 104.0, 50.0), "colours", "blue")];
        t.update(&mut relabelled);
        let labels: Vec<&str> = relabelled[0]
            .labels
            .iter()
            .map(|l| l.label.as_str())
            .collect();
        assert_eq!(labels, ["blue"]);
        let mut other = [labelled(object(0, 106.0, 50.0), "age", "adult")];
        t.update(&mut other);
        let labels: Vec<&str> = other[0].labels.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["adult", "blue"]);
        // A new track starts with no labels but its own.
        let mut new = [object(0, 400.0, 300.0)];
        t.update(&mut new);
        assert!(new[0].labels.is_empty());
    }
}
