//! Objects of successive frames → stable track ids, by overlap (IoU) of their boxes.

use super::matching::{Candidate, greedy};
use crate::meta::Object;

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    class_id: u32,
    bbox: [f32; 4],
    /// Frames since the track was last matched.
    missed: u32,
}

/// A greedy IoU tracker: each object takes the id of the unmatched track of its class it
/// overlaps most (at least `iou`); objects left over start new tracks; a track unmatched
/// for more than `max_age` frames ends.
#[derive(Debug, Clone)]
pub struct IouTracker {
    tracks: Vec<Track>,
    next_id: u64,
    max_age: u32,
    iou: f32,
}

impl IouTracker {
    pub fn new(max_age: u32, iou: f32) -> IouTracker {
        IouTracker {
            tracks: Vec::new(),
            next_id: 1,
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
            track.bbox = boxes[o];
            track.missed = 0;
            objects[o].track_id = Some(track.id);
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
            });
        }
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
}
