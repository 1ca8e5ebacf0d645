//! Objects of successive frames → stable track ids, by SORT (Bewley et al. 2016, "Simple
//! Online and Realtime Tracking"): a constant-velocity Kalman filter per track predicts
//! where its box will be, and detections are matched to the predicted boxes by overlap.
//!
//! Unlike [`IouTracker`](super::tracker::IouTracker), which compares with where a track
//! *was*, this follows fast objects and keeps the ids of objects that cross each other.
//!
//! Differences from the reference implementation, kept deliberately:
//! - matching is greedy by decreasing IoU, not the Hungarian algorithm; the two agree
//!   unless one detection is the best match of two tracks with similar overlaps;
//! - only objects of the same class are matched, as in the IoU tracker;
//! - every detection gets an id from its first frame (`min_hits` = 1), and the objects
//!   keep their detected boxes: the filter decides the matching, not the reported box.

use super::matching::{Candidate, greedy, keep_labels};
use crate::meta::Object;

type Matrix<const R: usize, const C: usize> = [[f64; C]; R];

const STATE: usize = 7;
const MEASURE: usize = 4;

fn mul<const R: usize, const K: usize, const C: usize>(
    a: &Matrix<R, K>,
    b: &Matrix<K, C>,
) -> Matrix<R, C> {
    let mut out = [[0.0; C]; R];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..K).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

fn transpose<const R: usize, const C: usize>(a: &Matrix<R, C>) -> Matrix<C, R> {
    let mut out = [[0.0; R]; C];
    for (i, row) in a.iter().enumerate() {
        for (j, value) in row.iter().enumerate() {
            out[j][i] = *value;
        }
    }
    out
}

/// The inverse by Gauss-Jordan elimination with partial pivoting; `None` when singular.
fn invert<const N: usize>(a: &Matrix<N, N>) -> Option<Matrix<N, N>> {
    let mut m = *a;
    let mut inv = [[0.0; N]; N];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..N {
        let pivot = (col..N).max_by(|&p, &q| m[p][col].abs().total_cmp(&m[q][col].abs()))?;
        let size = m[pivot][col].abs();
        if !size.is_finite() || size <= 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let scale = m[col][col];
        for j in 0..N {
            m[col][j] /= scale;
            inv[col][j] /= scale;
        }
        for r in 0..N {
            if r == col {
                continue;
            }
            let factor = m[r][col];
            if factor == 0.0 {
                continue;
            }
            for j in 0..N {
                m[r][j] -= factor * m[col][j];
                inv[r][j] -= factor * inv[col][j];
            }
        }
    }
    Some(inv)
}

/// `[x, y, w, h]` (top-left corner) → the measurement `[cx, cy, area, aspect ratio w/h]`.
fn measurement(bbox: &[f32; 4]) -> [f64; MEASURE] {
    let [x, y, w, h] = bbox.map(f64::from);
    let ratio = if h > 0.0 { w / h } else { 0.0 };
    [x + w / 2.0, y + h / 2.0, w * h, ratio]
}

/// SORT's Kalman filter over `[cx, cy, s, r, vx, vy, vs]` (centre, area, aspect ratio and
/// the velocities of the first three; the aspect ratio is taken as constant), with SORT's
/// noise: measurement noise 1 on the centre and 10 on area and ratio, process noise 1 on
/// the positions, 0.01 on the centre velocity and 1e-4 on the area velocity, and an initial
/// uncertainty of 10 on the measured components and 10⁴ on the unobserved velocities.
#[derive(Debug, Clone)]
struct Kalman {
    x: [f64; STATE],
    p: Matrix<STATE, STATE>,
}

impl Kalman {
    fn new(z: [f64; MEASURE]) -> Kalman {
        let mut x = [0.0; STATE];
        x[..MEASURE].copy_from_slice(&z);
        let mut p = [[0.0; STATE]; STATE];
        for (i, row) in p.iter_mut().enumerate() {
            row[i] = if i < MEASURE { 10.0 } else { 10_000.0 };
        }
        Kalman { x, p }
    }

    fn transition() -> Matrix<STATE, STATE> {
        let mut f = [[0.0; STATE]; STATE];
        for (i, row) in f.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        f[0][4] = 1.0;
        f[1][5] = 1.0;
        f[2][6] = 1.0;
        f
    }

    fn predict(&mut self) {
        // An area about to turn negative stops shrinking, as in SORT.
        if self.x[2] + self.x[6] <= 0.0 {
            self.x[6] = 0.0;
        }
        let f = Self::transition();
        self.x[0] += self.x[4];
        self.x[1] += self.x[5];
        self.x[2] += self.x[6];
        let mut p = mul(&mul(&f, &self.p), &transpose(&f));
        let q = [1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 1e-4];
        for (i, noise) in q.iter().enumerate() {
            p[i][i] += noise;
        }
        self.p = p;
    }

    fn update(&mut self, z: [f64; MEASURE]) {
        // H selects the first four components, so H P Hᵀ and P Hᵀ are slices of P.
        let mut s = [[0.0; MEASURE]; MEASURE];
        let mut pht = [[0.0; MEASURE]; STATE];
        for i in 0..STATE {
            for j in 0..MEASURE {
                pht[i][j] = self.p[i][j];
                if i < MEASURE {
                    s[i][j] = self.p[i][j];
                }
            }
        }
        let r = [1.0, 1.0, 10.0, 10.0];
        for (i, noise) in r.iter().enumerate() {
            s[i][i] += noise;
        }
        let Some(s_inv) = invert(&s) else {
            // Cannot happen with positive measurement noise; restart from the measurement
            // rather than keep a broken state.
            *self = Kalman::new(z);
            return;
        };
        let k = mul(&pht, &s_inv);
        let innovation: Matrix<MEASURE, 1> = std::array::from_fn(|i| [z[i] - self.x[i]]);
        let dx = mul(&k, &innovation);
        for (x, d) in self.x.iter_mut().zip(dx) {
            *x += d[0];
        }
        // P = (I - K H) P = P - K (H P), and H P is the first four rows of P.
        let hp: Matrix<MEASURE, STATE> = std::array::from_fn(|i| self.p[i]);
        let khp = mul(&k, &hp);
        for (row, delta) in self.p.iter_mut().zip(khp) {
            for (cell, d) in row.iter_mut().zip(delta) {
                *cell -= d;
            }
        }
    }

    /// The state as `[x, y, w, h]` (top-left corner).
    fn bbox(&self) -> [f32; 4] {
        let [cx, cy, s, r] = [self.x[0], self.x[1], self.x[2], self.x[3]];
        let w = if s > 0.0 && r > 0.0 {
            (s * r).sqrt()
        } else {
            0.0
        };
        let h = if w > 0.0 { s / w } else { 0.0 };
        [cx - w / 2.0, cy - h / 2.0, w, h].map(|v| v as f32)
    }

    fn is_finite(&self) -> bool {
        self.x.iter().all(|v| v.is_finite())
    }
}

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    class_id: u32,
    kalman: Kalman,
    /// Frames since the track was last matched.
    missed: u32,
    /// The object last matched, shown with the predicted box on frames without inference.
    last: Object,
}

/// A SORT tracker: each frame, every track's box is predicted one frame ahead; each object
/// takes the id of the unmatched track of its class whose predicted box it overlaps most
/// (at least `iou`), greedily by decreasing overlap; matched tracks are corrected by the
/// object's box; objects left over start new tracks; a track unmatched for more than
/// `max_age` frames ends.
#[derive(Debug, Clone)]
pub struct SortTracker {
    tracks: Vec<Track>,
    next_id: u64,
    max_age: u32,
    iou: f32,
}

impl SortTracker {
    pub fn new(max_age: u32, iou: f32) -> SortTracker {
        SortTracker {
            tracks: Vec::new(),
            next_id: 1,
            max_age,
            iou,
        }
    }

    /// Gives every object of this frame its track id. A frame without objects still
    /// advances the tracks (their predicted boxes move on and their age grows).
    pub fn update(&mut self, objects: &mut [Object]) {
        for track in &mut self.tracks {
            track.kalman.predict();
        }
        self.tracks.retain(|t| t.kalman.is_finite());

        let boxes: Vec<[f32; 4]> = objects.iter().map(|o| [o.x, o.y, o.w, o.h]).collect();
        // A box with a NaN or infinite coordinate neither matches nor starts a track.
        let usable: Vec<bool> = boxes
            .iter()
            .map(|b| b.iter().all(|v| v.is_finite()))
            .collect();
        let tracks: Vec<Candidate> = self
            .tracks
            .iter()
            .map(|t| (t.class_id, t.kalman.bbox(), true))
            .collect();
        let candidates: Vec<Candidate> = objects
            .iter()
            .zip(&boxes)
            .zip(&usable)
            .map(|((o, b), ok)| (o.class_id, *b, *ok))
            .collect();
        let mut track_used = vec![false; self.tracks.len()];
        let mut object_used = vec![false; objects.len()];
        for (t, o) in greedy(&tracks, &candidates, self.iou) {
            track_used[t] = true;
            object_used[o] = true;
            let track = &mut self.tracks[t];
            track.kalman.update(measurement(&boxes[o]));
            track.missed = 0;
            objects[o].track_id = Some(track.id);
            keep_labels(&track.last, &mut objects[o]);
            track.last = objects[o].clone();
        }
        for (t, track) in self.tracks.iter_mut().enumerate() {
            if !track_used[t] {
                track.missed = track.missed.saturating_add(1);
            }
        }
        let max_age = self.max_age;
        self.tracks.retain(|t| t.missed <= max_age);
        for (o, object) in objects.iter_mut().enumerate() {
            if object_used[o] || !usable[o] {
                continue;
            }
            let kalman = Kalman::new(measurement(&boxes[o]));
            if !kalman.is_finite() {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            object.track_id = Some(id);
            self.tracks.push(Track {
                id,
                class_id: object.class_id,
                kalman,
                missed: 0,
                last: object.clone(),
            });
        }
    }

    /// A frame without inference (`infer(every: N)` skipped it): every track moves on one
    /// frame, and the tracks seen at the last inference are returned as objects with their
    /// predicted boxes. Tracks do not age: only frames with inference count as missed.
    pub fn predict(&mut self) -> Vec<Object> {
        for track in &mut self.tracks {
            track.kalman.predict();
        }
        self.tracks.retain(|t| t.kalman.is_finite());
        self.tracks
            .iter()
            .filter(|t| t.missed == 0)
            .map(|t| {
                let [x, y, w, h] = t.kalman.bbox();
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

    /// Each live track's id and box `[x, y, w, h]` after the last update: corrected by its
    /// object when matched, predicted when missed (what frames without detections can show).
    pub fn boxes(&self) -> Vec<(u64, [f32; 4])> {
        self.tracks
            .iter()
            .map(|t| (t.id, t.kalman.bbox()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(x: f32, y: f32) -> Object {
        Object {
            x,
            y,
            w: 40.0,
            h: 80.0,
            confidence: 0.9,
            ..Object::default()
        }
    }

    #[test]
    fn a_box_at_constant_velocity_keeps_one_id() {
        let mut t = SortTracker::new(30, 0.3);
        let mut ids = Vec::new();
        for step in 0..30 {
            let mut objects = vec![object(100.0 + 12.0 * step as f32, 50.0 + 3.0 * step as f32)];
            t.update(&mut objects);
            ids.push(objects[0].track_id);
        }
        assert!(ids.iter().all(|id| *id == Some(1)), "{ids:?}");
        let boxes = t.boxes();
        assert_eq!(boxes.len(), 1);
        let [x, y, w, h] = boxes[0].1;
        assert!((x - (100.0 + 12.0 * 29.0)).abs() < 1.0, "x {x}");
        assert!((y - (50.0 + 3.0 * 29.0)).abs() < 1.0, "y {y}");
        assert!((w - 40.0).abs() < 1.0 && (h - 80.0).abs() < 1.0, "{w}x{h}");
    }

    /// Two boxes moving along the same line in opposite directions, listed left to right
    /// as a detector scanning the frame would: (id of the right-mover, id of the left-mover)
    /// per frame. At frame 10 they are the same box, and on frame 11 each overlaps both
    /// tracks' last boxes equally, so only the predicted positions tell them apart.
    fn cross(update: &mut dyn FnMut(&mut [Object])) -> Vec<(Option<u64>, Option<u64>)> {
        (0..21)
            .map(|step| {
                let s = step as f32;
                let right = object(10.0 * s, 50.0);
                let left = object(200.0 - 10.0 * s, 50.0);
                let mut objects = if step <= 10 {
                    vec![right, left]
                } else {
                    vec![left, right]
                };
                update(&mut objects);
                if step <= 10 {
                    (objects[0].track_id, objects[1].track_id)
                } else {
                    (objects[1].track_id, objects[0].track_id)
                }
            })
            .collect()
    }

    #[test]
    fn crossing_boxes_keep_their_own_ids() {
        let mut t = SortTracker::new(30, 0.3);
        let ids = cross(&mut |objects| t.update(objects));
        for (step, pair) in ids.iter().enumerate() {
            if step == 10 {
                assert!(
                    *pair == (Some(1), Some(2)) || *pair == (Some(2), Some(1)),
                    "identical boxes at frame 10: {pair:?}"
                );
            } else {
                assert_eq!(*pair, (Some(1), Some(2)), "frame {step}: {ids:?}");
            }
        }
    }

    #[test]
    fn a_track_coasts_through_max_age_missed_frames_and_no_more() {
        let max_age = 5;
        let mut t = SortTracker::new(max_age, 0.3);
        for step in 0..10 {
            t.update(&mut [object(10.0 * step as f32, 50.0)]);
        }
        let mut last_x = 90.0;
        for step in 10..10 + max_age {
            t.update(&mut []);
            let boxes = t.boxes();
            assert_eq!(boxes.len(), 1, "the track is alive after {step}");
            let x = boxes[0].1[0];
            assert!(
                (x - 10.0 * step as f32).abs() < 1.0 && x > last_x,
                "frame {step}: predicted x {x} keeps moving"
            );
            last_x = x;
        }
        // Reappearing where predicted, far from where it was last seen (x 90).
        let mut back = [object(10.0 * (10 + max_age) as f32, 50.0)];
        t.update(&mut back);
        assert_eq!(back[0].track_id, Some(1));

        for _ in 0..=max_age {
            t.update(&mut []);
        }
        assert!(
            t.boxes().is_empty(),
            "max_age + 1 missed frames end the track"
        );
        let mut later = [object(10.0 * (10 + 2 * max_age + 2) as f32, 50.0)];
        t.update(&mut later);
        assert_eq!(later[0].track_id, Some(2));
    }

    #[test]
    fn classes_do_not_mix_and_degenerate_boxes_do_not_panic() {
        let mut t = SortTracker::new(3, 0.3);
        let mut objects = vec![
            object(0.0, 0.0),
            Object {
                class_id: 1,
                ..object(0.0, 0.0)
            },
            Object {
                w: 0.0,
                h: 0.0,
                ..object(500.0, 0.0)
            },
            Object {
                x: f32::NAN,
                ..object(0.0, 0.0)
            },
        ];
        t.update(&mut objects);
        let ids: Vec<_> = objects.iter().map(|o| o.track_id).collect();
        assert_eq!(ids, [Some(1), Some(2), Some(3), None]);
        for _ in 0..5 {
            t.update(&mut objects);
        }
        assert_eq!(objects[0].track_id, Some(1));
        assert_eq!(objects[1].track_id, Some(2));
    }

    #[test]
    fn frames_without_inference_carry_predicted_boxes() {
        let mut t = SortTracker::new(30, 0.3);
        // Detections on one frame in three of a box moving 6 px a frame.
        for step in 0..30 {
            let x = 6.0 * step as f32;
            if step % 3 == 0 {
                let mut objects = vec![Object {
                    label: "person".into(),
                    ..object(x, 50.0)
                }];
                t.update(&mut objects);
                assert_eq!(objects[0].track_id, Some(1), "frame {step}");
                assert!(!objects[0].predicted);
            } else {
                let predicted = t.predict();
                assert_eq!(predicted.len(), 1, "frame {step}");
                let p = &predicted[0];
                assert_eq!((p.track_id, p.label.as_str()), (Some(1), "person"));
                assert!(p.predicted);
                if step > 6 {
                    assert!((p.x - x).abs() < 3.0, "frame {step}: x {} for {x}", p.x);
                }
            }
        }
        t.update(&mut []);
        assert!(
            t.predict().is_empty(),
            "a track missed at the last inference is not shown"
        );
    }

    #[test]
    fn inverse_of_a_small_matrix() {
        let a = [[4.0, 7.0], [2.0, 6.0]];
        let inv = invert(&a).expect("invertible");
        let id = mul(&a, &inv);
        for (i, row) in id.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-12);
            }
        }
        assert!(invert(&[[1.0, 2.0], [2.0, 4.0]]).is_none());
    }

    /// Found by a user (issue 19): a track the detector missed for a frame came back
    /// without the labels a classifier had given it; it keeps them, also while predicted.
    #[test]
    fn a_coasting_track_keeps_its_classifier_labels() {
        let mut t = SortTracker::new(30, 0.3);
        let mut first = object(0.0, 50.0);
        first.labels.push(crate::meta::Label {
            model: "colours".into(),
            label: "red".into(),
            confidence: 0.7,
        });
        let mut objects = [first];
        t.update(&mut objects);
        let labels = objects[0].labels.clone();
        for step in 1..4 {
            t.update(&mut [object(10.0 * step as f32, 50.0)]);
        }
        t.update(&mut []);
        let mut back = [object(50.0, 50.0)];
        t.update(&mut back);
        assert_eq!(back[0].track_id, Some(1));
        assert_eq!(back[0].labels, labels, "labels kept after a miss");
        let predicted = t.predict();
        assert_eq!(predicted.len(), 1);
        assert_eq!(predicted[0].labels, labels, "and while predicted");
    }
}
