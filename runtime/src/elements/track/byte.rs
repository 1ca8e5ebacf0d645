//! Objects of successive frames → stable track ids, by ByteTrack (Zhang et al. 2022,
//! "ByteTrack: Multi-Object Tracking by Associating Every Detection Box"), step for step as
//! ifzhang/ByteTrack's `byte_tracker.py` and its port `supervision.ByteTrack` (0.26) do it,
//! so that on the same detections the tracks are the same:
//!
//! 1. every confirmed track, tracked or lost, is predicted one frame ahead by its Kalman
//!    filter ([`xyah`](super::xyah));
//! 2. detections above `high` are matched to them by the least total cost
//!    `1 − IoU × confidence` ([`assign`](super::assign)), a pair costing at most `matching`;
//! 3. detections above `low` and below `high` are matched to the tracked (not lost) tracks
//!    still unmatched, by `1 − IoU` at most 0.5: a weak box (a person half hidden) keeps
//!    its track, and is dropped when no track wants it;
//! 4. tracks unmatched after that are lost; the high detections left are matched to the
//!    unconfirmed tracks (born on the previous frame) by `1 − IoU × confidence` at most
//!    0.7, and the unconfirmed tracks unmatched are removed;
//! 5. high detections still left start tracks when above `new_track`: confirmed at once
//!    on the first frame, otherwise unconfirmed until matched on the next;
//! 6. a lost track unmatched for more than `max_age` frames ends (as in ByteTrack, it can
//!    still be found again on the frame after), and of a tracked and a lost track
//!    overlapping by more than IoU 0.85 the younger goes.
//!
//! The frame's objects are the confirmed tracks matched on it, each with its detected box
//! (as `supervision` returns them); detections no track took leave the frame.
//!
//! Differences from the reference, kept deliberately: only objects of the same class are
//! matched (as by the other trackers; ByteTrack ignores classes), boxes that are not
//! finite or have no height are dropped, and frames `infer(every: N)` skipped move the
//! tracks on ([`ByteTracker::predict`]) without counting as missed.

use super::assign::thresholded;
use super::matching::keep_labels;
use super::xyah::{self, Covariance, Vector};
use crate::meta::Object;

/// ByteTrack's thresholds (`track(byte, ...)` in vpl).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteParams {
    /// Detections above this take part in the first association and may start tracks.
    pub high: f64,
    /// Detections above this (and below `high`) take part in the second association.
    pub low: f64,
    /// The least confidence for a detection to start a track.
    pub new_track: f64,
    /// The largest cost `1 − IoU × confidence` of a match in the first association.
    pub matching: f64,
    /// Frames a lost track is kept.
    pub max_age: u32,
}

/// ByteTrack's own: `track_thresh` 0.5, `det_thresh` 0.6, `match_thresh` 0.8,
/// `track_buffer` 30 and the low threshold 0.1.
pub const BYTETRACK: ByteParams = ByteParams {
    high: 0.5,
    low: 0.1,
    new_track: 0.6,
    matching: 0.8,
    max_age: 30,
};

impl Default for ByteParams {
    fn default() -> Self {
        BYTETRACK
    }
}

/// The second association's largest cost `1 − IoU` (ByteTrack's fixed 0.5).
const SECOND: f64 = 0.5;
/// The largest cost of an unconfirmed track's match (ByteTrack's fixed 0.7).
const UNCONFIRMED: f64 = 0.7;
/// A tracked and a lost track closer than this (`1 − IoU`) are one object twice.
const DUPLICATE: f64 = 0.15;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Tracked,
    Lost,
    Removed,
}

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    class_id: u32,
    mean: Vector,
    cov: Covariance,
    state: State,
    /// Confirmed: born on the first frame or matched on the frame after its birth.
    activated: bool,
    /// The frame of its last match, and of its birth.
    frame: u64,
    start: u64,
    /// The object last matched (its index in this frame's objects when matched on it).
    last: Object,
    matched: Option<usize>,
}

impl Track {
    fn corners(&self) -> [f64; 4] {
        xyah::corners(&self.mean)
    }

    fn is_finite(&self) -> bool {
        self.mean.iter().all(|v| v.is_finite())
    }

    /// Corrected by detection `index`: ByteTrack's `update` (and `re_activate`).
    fn take(&mut self, det: &Detection, objects: &[Object], frame: u64) {
        xyah::update(&mut self.mean, &mut self.cov, xyah::measure(&det.bbox));
        self.state = State::Tracked;
        self.frame = frame;
        self.activated = true;
        self.matched = Some(det.index);
        let mut object = objects[det.index].clone();
        keep_labels(&self.last, &mut object);
        self.last = object;
    }
}

/// A detection taking part: its object's index, class, box and confidence.
#[derive(Debug, Clone)]
struct Detection {
    index: usize,
    class_id: u32,
    bbox: [f32; 4],
    score: f64,
}

impl Detection {
    /// Its corners and area as ByteTrack computes them on `float32` boxes.
    fn corners(&self) -> ([f64; 4], f64) {
        let [x, y, w, h] = self.bbox;
        let (x2, y2) = (x + w, y + h);
        let area = (x2 - x) * (y2 - y);
        ([x, y, x2, y2].map(f64::from), f64::from(area))
    }
}

/// IoU of a track's box and a detection's, as `supervision`'s `box_iou_batch` computes it.
fn iou(a: &[f64; 4], b: &[f64; 4], b_area: f64) -> f64 {
    let a_area = (a[2] - a[0]) * (a[3] - a[1]);
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = a_area + b_area - inter;
    let v = if union != 0.0 { inter / union } else { 0.0 };
    if v.is_finite() { v } else { 0.0 }
}

/// `1 − IoU` (× the detection's confidence with `fuse`) of each track against each
/// detection; pairs of different classes cost infinitely much.
fn costs(tracks: &[&Track], dets: &[&Detection], fuse: bool) -> Vec<Vec<f64>> {
    let boxes: Vec<([f64; 4], f64)> = dets.iter().map(|d| d.corners()).collect();
    tracks
        .iter()
        .map(|t| {
            let corners = t.corners();
            dets.iter()
                .zip(&boxes)
                .map(|(d, (b, area))| {
                    if d.class_id != t.class_id {
                        return f64::INFINITY;
                    }
                    let sim = iou(&corners, b, *area);
                    if fuse { 1.0 - sim * d.score } else { 1.0 - sim }
                })
                .collect()
        })
        .collect()
}

/// The detections above `high`, and those between `low` and `high` (ByteTrack's strict
/// comparisons: a score equal to `high` is in neither), each with its object's index.
fn split(objects: &[Object], p: &ByteParams) -> (Vec<Detection>, Vec<Detection>) {
    let (mut high, mut low) = (Vec::new(), Vec::new());
    for (index, o) in objects.iter().enumerate() {
        let bbox = [o.x, o.y, o.w, o.h];
        if !bbox.iter().all(|v| v.is_finite()) || o.h <= 0.0 {
            continue;
        }
        let det = Detection {
            index,
            class_id: o.class_id,
            bbox,
            score: f64::from(o.confidence),
        };
        if det.score > p.high {
            high.push(det);
        } else if det.score > p.low && det.score < p.high {
            low.push(det);
        }
    }
    (high, low)
}

/// A ByteTrack tracker (`track(byte)`).
#[derive(Debug, Clone)]
pub struct ByteTracker {
    params: ByteParams,
    /// Every track alive, by id; `tracked` and `lost` list ids in ByteTrack's order.
    tracks: Vec<Track>,
    tracked: Vec<u64>,
    lost: Vec<u64>,
    /// The tracks removed on the previous frame (ByteTrack drops them from `lost` a frame late).
    removed: Vec<u64>,
    /// Frames with inference seen: ByteTrack's `frame_id`.
    frame: u64,
    next_id: u64,
}

impl ByteTracker {
    pub fn new(params: ByteParams) -> ByteTracker {
        ByteTracker {
            params,
            tracks: Vec::new(),
            tracked: Vec::new(),
            lost: Vec::new(),
            removed: Vec::new(),
            frame: 0,
            next_id: 1,
        }
    }

    fn at(&self, id: u64) -> usize {
        self.tracks
            .iter()
            .position(|t| t.id == id)
            .expect("listed tracks are alive")
    }

    fn refs(&self, ids: &[u64]) -> Vec<&Track> {
        ids.iter().map(|id| &self.tracks[self.at(*id)]).collect()
    }

    /// Tracks this frame's objects: objects that continue or start a confirmed track get
    /// its id; the others (weak boxes no track took, a new object's first frame after the
    /// first) leave `objects`.
    pub fn update(&mut self, objects: &mut Vec<Object>) {
        self.frame += 1;
        let frame = self.frame;
        let p = self.params;
        for t in &mut self.tracks {
            t.matched = None;
        }
        let (high, low) = split(objects, &p);

        // Step 2: confirmed tracks (tracked, then lost) against the high detections.
        let (unconfirmed, confirmed): (Vec<u64>, Vec<u64>) = self
            .tracked
            .iter()
            .copied()
            .partition(|id| !self.tracks[self.at(*id)].activated);
        let mut pool = confirmed.clone();
        pool.extend(self.lost.iter().filter(|id| !confirmed.contains(id)));
        for id in &pool {
            let i = self.at(*id);
            let t = &mut self.tracks[i];
            if t.state != State::Tracked {
                t.mean[7] = 0.0;
            }
            xyah::predict(&mut t.mean, &mut t.cov);
        }
        let (mut activated, mut refound) = (Vec::new(), Vec::new());
        let high_refs: Vec<&Detection> = high.iter().collect();
        let cost = costs(&self.refs(&pool), &high_refs, true);
        let (matches, u_track, u_high) = thresholded(cost, high.len(), p.matching);
        for (t, d) in matches {
            let i = self.at(pool[t]);
            let was_tracked = self.tracks[i].state == State::Tracked;
            self.tracks[i].take(&high[d], objects, frame);
            if was_tracked {
                activated.push(pool[t]);
            } else {
                refound.push(pool[t]);
            }
        }

        // Step 3: the tracked tracks left against the low detections.
        let remaining: Vec<u64> = u_track
            .iter()
            .map(|t| pool[*t])
            .filter(|id| self.tracks[self.at(*id)].state == State::Tracked)
            .collect();
        let low_refs: Vec<&Detection> = low.iter().collect();
        let cost = costs(&self.refs(&remaining), &low_refs, false);
        let (matches, u_remaining, _) = thresholded(cost, low.len(), SECOND);
        for (t, d) in matches {
            let i = self.at(remaining[t]);
            self.tracks[i].take(&low[d], objects, frame);
            activated.push(remaining[t]);
        }
        let mut newly_lost = Vec::new();
        for t in u_remaining {
            let i = self.at(remaining[t]);
            if self.tracks[i].state != State::Lost {
                self.tracks[i].state = State::Lost;
                newly_lost.push(remaining[t]);
            }
        }

        // Step 4: unconfirmed tracks against the high detections left.
        let left: Vec<&Detection> = u_high.iter().map(|d| &high[*d]).collect();
        let cost = costs(&self.refs(&unconfirmed), &left, true);
        let (matches, u_unconfirmed, u_left) = thresholded(cost, left.len(), UNCONFIRMED);
        for (t, d) in matches {
            let i = self.at(unconfirmed[t]);
            self.tracks[i].take(left[d], objects, frame);
            activated.push(unconfirmed[t]);
        }
        let mut removed = Vec::new();
        for t in u_unconfirmed {
            let i = self.at(unconfirmed[t]);
            self.tracks[i].state = State::Removed;
            removed.push(unconfirmed[t]);
        }

        // Step 5: new tracks from the high detections still left.
        let births: Vec<Detection> = u_left
            .iter()
            .map(|d| left[*d].clone())
            .filter(|d| d.score >= p.new_track)
            .collect();
        for det in births {
            let (mean, cov) = xyah::initiate(xyah::measure(&det.bbox));
            let id = self.next_id;
            self.next_id += 1;
            self.tracks.push(Track {
                id,
                class_id: det.class_id,
                mean,
                cov,
                state: State::Tracked,
                activated: frame == 1,
                frame,
                start: frame,
                last: objects[det.index].clone(),
                matched: Some(det.index),
            });
            activated.push(id);
        }

        // Step 6: the lists for the next frame.
        self.next_lists(activated, refound, newly_lost, removed);
        self.label(objects);
    }

    /// ByteTrack's step 6: lost tracks unmatched for more than `max_age` frames end; the
    /// tracked list gains the tracks matched and born, the lost list the newly lost; the
    /// removed of the previous frame leave it; duplicates go.
    fn next_lists(
        &mut self,
        activated: Vec<u64>,
        refound: Vec<u64>,
        newly_lost: Vec<u64>,
        mut removed: Vec<u64>,
    ) {
        let (frame, max_age) = (self.frame, u64::from(self.params.max_age));
        for id in &self.lost {
            let i = self.at(*id);
            let t = &mut self.tracks[i];
            if frame - t.frame > max_age {
                t.state = State::Removed;
                removed.push(*id);
            }
        }
        let mut tracked: Vec<u64> = self
            .tracked
            .iter()
            .copied()
            .filter(|id| self.tracks[self.at(*id)].state == State::Tracked)
            .collect();
        for id in activated.into_iter().chain(refound) {
            if !tracked.contains(&id) {
                tracked.push(id);
            }
        }
        let mut lost: Vec<u64> = self
            .lost
            .iter()
            .copied()
            .filter(|id| !tracked.contains(id))
            .collect();
        for id in newly_lost {
            if !lost.contains(&id) {
                lost.push(id);
            }
        }
        lost.retain(|id| !self.removed.contains(id));
        self.removed = removed;
        self.drop_duplicates(&mut tracked, &mut lost);
        self.tracked = tracked;
        self.lost = lost;
        let (tracked, lost) = (&self.tracked, &self.lost);
        self.tracks
            .retain(|t| (tracked.contains(&t.id) || lost.contains(&t.id)) && t.is_finite());
        self.tracked
            .retain(|id| self.tracks.iter().any(|t| t.id == *id));
        self.lost
            .retain(|id| self.tracks.iter().any(|t| t.id == *id));
    }

    /// Of a tracked and a lost track of one class overlapping by more than IoU 0.85, the
    /// one followed for fewer frames is dropped (the tracked one on a tie, as in ByteTrack).
    fn drop_duplicates(&self, tracked: &mut Vec<u64>, lost: &mut Vec<u64>) {
        let (a, b) = (self.refs(tracked), self.refs(lost));
        let mut drop_a = vec![false; a.len()];
        let mut drop_b = vec![false; b.len()];
        for (i, ta) in a.iter().enumerate() {
            let ca = ta.corners();
            for (j, tb) in b.iter().enumerate() {
                let cb = tb.corners();
                let area = (cb[2] - cb[0]) * (cb[3] - cb[1]);
                if ta.class_id != tb.class_id || 1.0 - iou(&ca, &cb, area) >= DUPLICATE {
                    continue;
                }
                let age_a = ta.frame - ta.start;
                let age_b = tb.frame - tb.start;
                if age_a > age_b {
                    drop_b[j] = true;
                } else {
                    drop_a[i] = true;
                }
            }
        }
        let mut i = 0;
        tracked.retain(|_| (!drop_a[i], i += 1).0);
        let mut j = 0;
        lost.retain(|_| (!drop_b[j], j += 1).0);
    }

    /// Gives each object its confirmed track's id and drops the objects without one.
    fn label(&self, objects: &mut Vec<Object>) {
        let mut ids: Vec<Option<&Track>> = vec![None; objects.len()];
        for id in &self.tracked {
            let t = &self.tracks[self.at(*id)];
            if let (true, Some(index)) = (t.activated, t.matched) {
                ids[index] = Some(t);
            }
        }
        let kept: Vec<Object> = std::mem::take(objects)
            .into_iter()
            .zip(ids)
            .filter_map(|(_, t)| {
                let t = t?;
                Some(Object {
                    track_id: Some(t.id),
                    ..t.last.clone()
                })
            })
            .collect();
        *objects = kept;
    }

    /// A frame without inference (`infer(every: N)` skipped it): the confirmed tracks move
    /// on one frame, and those tracked at the last inference are returned as objects with
    /// their predicted boxes. Tracks do not age: only frames with inference count.
    pub fn predict(&mut self) -> Vec<Object> {
        let confirmed: Vec<u64> = self
            .tracked
            .iter()
            .chain(&self.lost)
            .copied()
            .filter(|id| self.tracks[self.at(*id)].activated)
            .collect();
        for id in &confirmed {
            let i = self.at(*id);
            let t = &mut self.tracks[i];
            if t.state != State::Tracked {
                t.mean[7] = 0.0;
            }
            xyah::predict(&mut t.mean, &mut t.cov);
        }
        self.tracked
            .iter()
            .map(|id| &self.tracks[self.at(*id)])
            .filter(|t| t.activated && t.state == State::Tracked && t.is_finite())
            .map(|t| {
                let [x1, y1, x2, y2] = t.corners().map(|v| v as f32);
                Object {
                    x: x1,
                    y: y1,
                    w: x2 - x1,
                    h: y2 - y1,
                    track_id: Some(t.id),
                    predicted: true,
                    ..t.last.clone()
                }
            })
            .collect()
    }

    /// Each live track's id, whether it is tracked (not lost) and confirmed, and its box
    /// `[x1, y1, x2, y2]` as its filter has it.
    pub fn tracks(&self) -> Vec<(u64, bool, [f64; 4])> {
        self.tracked
            .iter()
            .chain(&self.lost)
            .map(|id| {
                let t = &self.tracks[self.at(*id)];
                (t.id, t.state == State::Tracked && t.activated, t.corners())
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "byte_tests.rs"]
mod tests;
