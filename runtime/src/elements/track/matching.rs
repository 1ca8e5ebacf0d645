//! This frame's objects matched to existing tracks, the same way for every tracker.

use crate::meta::{Label, Object};

/// Overlap of two `[x, y, w, h]` boxes: intersection over union, 0 when they do not touch.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let x1 = a[0].max(b[0]);
    let y1 = a[1].max(b[1]);
    let x2 = (a[0] + a[2]).min(b[0] + b[2]);
    let y2 = (a[1] + a[3]).min(b[1] + b[3]);
    let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// A box that can be matched: its class, `[x, y, w, h]`, and whether it may take part.
pub type Candidate = (u32, [f32; 4], bool);

/// Greedy matching by overlap: `(track, object)` pairs of one class whose boxes overlap at
/// least `min_iou` (and at all), best overlap first, each track and object used once.
/// (SORT uses the Hungarian method; greedy differs only when one object is the best match
/// of two tracks with close overlaps.)
pub fn greedy(tracks: &[Candidate], objects: &[Candidate], min_iou: f32) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (t, (track_class, track_box, track_ok)) in tracks.iter().enumerate() {
        for (o, (class, bbox, ok)) in objects.iter().enumerate() {
            if class != track_class || !ok || !track_ok {
                continue;
            }
            let overlap = iou(track_box, bbox);
            if overlap >= min_iou && overlap > 0.0 {
                pairs.push((overlap, t, o));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut track_used = vec![false; tracks.len()];
    let mut object_used = vec![false; objects.len()];
    let mut matches = Vec::new();
    for (_, t, o) in pairs {
        if !track_used[t] && !object_used[o] {
            track_used[t] = true;
            object_used[o] = true;
            matches.push((t, o));
        }
    }
    matches
}

/// An object that continues a track keeps the classifier labels its track had: each
/// classifier (by model) whose labels the object lacks gives the ones the track last had.
/// A classifier upstream that skipped this frame (`every`), or a frame the tracker missed
/// the object on, does not take its labels away.
pub fn keep_labels(last: &Object, object: &mut Object) {
    let missing: Vec<Label> = last
        .labels
        .iter()
        .filter(|l| !object.labels.iter().any(|o| o.model == l.model))
        .cloned()
        .collect();
    object.labels.extend(missing);
}
