//! Text decoders: a DB text detector's probability map → text boxes (`text_boxes`), and a
//! CTC recogniser's scores → a string (`ctc`).
//!
//! `decode_text_boxes` follows PaddleOCR's `DBPostProcess` with axis-aligned boxes (what
//! `get_mini_boxes` gives for a region whose minimum-area rectangle is upright):
//! threshold, 8-connected regions, the box of each region's pixel centres, its score the
//! mean probability over the box's pixels (`box_score_fast`), unclipped by
//! `area * unclip_ratio / perimeter` on each side (pyclipper's round offset of a
//! rectangle, whose minimum-area rectangle grows by that distance), regions whose box is
//! shorter than 3 map pixels (5 after unclipping) dropped. `decode_ctc` is PaddleOCR's
//! `CTCLabelDecode`: argmax per step, blank (0) dropped, repeats merged, the confidence
//! the mean of the kept steps' scores. `scripts/reference_ocr.py` implements both in numpy.

use super::Detection;
use crate::engine::preprocess::Letterbox;

/// The `text_boxes(thresh:, box_thresh:, unclip_ratio:, max:)` decoder's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBoxesConfig {
    /// A map pixel above this is text.
    pub thresh: f32,
    /// A region whose box's mean probability is below this is dropped.
    pub box_thresh: f32,
    /// Boxes grow by `area * unclip_ratio / perimeter` on every side.
    pub unclip_ratio: f32,
    /// At most this many regions are considered (PaddleOCR's `max_candidates`).
    pub max: usize,
}

/// PaddleOCR's `min_size`: a region's box must be at least this many map pixels on its
/// short side (and this + 2 after unclipping).
const MIN_SIZE: f32 = 3.0;

/// Decodes one image's `[H, W]` probability map (`map_size` = (W, H)); the model input
/// was `input_size` (W, H) (the map may be smaller: its pixels scale to the input's).
/// Boxes come back in source-frame pixels, clamped to the frame, top to bottom, left to
/// right; `class_id` 0, confidence the box's mean probability.
pub fn decode_text_boxes(
    map: &[f32],
    map_size: (usize, usize),
    input_size: (u32, u32),
    config: &TextBoxesConfig,
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Vec<Detection> {
    let (width, height) = map_size;
    if width == 0 || height == 0 || width.checked_mul(height).is_none_or(|n| map.len() < n) {
        return Vec::new();
    }
    let to_input_x = input_size.0 as f32 / width as f32;
    let to_input_y = input_size.1 as f32 / height as f32;
    let (frame_w, frame_h) = (source.0 as f32, source.1 as f32);
    let mut found = Vec::new();
    for [x0, y0, x1, y1] in regions(map, width, height, config.thresh, config.max) {
        let (w, h) = ((x1 - x0) as f32, (y1 - y0) as f32);
        if w.min(h) < MIN_SIZE {
            continue;
        }
        let score = mean(map, width, [x0, y0, x1, y1]);
        if score < config.box_thresh {
            continue;
        }
        let distance = w * h * config.unclip_ratio / (2.0 * (w + h));
        let (uw, uh) = (w + 2.0 * distance, h + 2.0 * distance);
        if uw.min(uh) < MIN_SIZE + 2.0 {
            continue;
        }
        let (bx0, by0) = (x0 as f32 - distance, y0 as f32 - distance);
        let (bx1, by1) = (x1 as f32 + distance, y1 as f32 + distance);
        let (sx0, sy0) = letterbox.to_source(bx0 * to_input_x, by0 * to_input_y);
        let (sx1, sy1) = letterbox.to_source(bx1 * to_input_x, by1 * to_input_y);
        let (sx0, sx1) = (sx0.clamp(0.0, frame_w), sx1.clamp(0.0, frame_w));
        let (sy0, sy1) = (sy0.clamp(0.0, frame_h), sy1.clamp(0.0, frame_h));
        if sx1 > sx0 && sy1 > sy0 {
            found.push(Detection::from_corners(0, score, (sx0, sy0), (sx1, sy1)));
        }
    }
    found.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    found
}

/// The bounding boxes `[x0, y0, x1, y1]` (pixel indices, inclusive) of the 8-connected
/// regions of pixels above `thresh`, in the order their first pixel is met row by row;
/// at most `max`.
fn regions(map: &[f32], width: usize, height: usize, thresh: f32, max: usize) -> Vec<[usize; 4]> {
    let mut seen = vec![false; width * height];
    let mut boxes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..width * height {
        if seen[start] || map[start] <= thresh {
            continue;
        }
        if boxes.len() >= max {
            break;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (width, height, 0, 0);
        while let Some(p) = stack.pop() {
            let (x, y) = (p % width, p / width);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            for dy in [-1isize, 0, 1] {
                for dx in [-1isize, 0, 1] {
                    let (nx, ny) = (x as isize + dx, y as isize + dy);
                    if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
                        continue;
                    }
                    let q = ny as usize * width + nx as usize;
                    if !seen[q] && map[q] > thresh {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
        boxes.push([x0, y0, x1, y1]);
    }
    boxes
}

/// The mean of the map over the box's pixels, both ends included.
fn mean(map: &[f32], width: usize, [x0, y0, x1, y1]: [usize; 4]) -> f32 {
    let mut sum = 0.0f64;
    for y in y0..=y1 {
        sum += map[y * width + x0..=y * width + x1]
            .iter()
            .map(|v| f64::from(*v))
            .sum::<f64>();
    }
    (sum / ((x1 - x0 + 1) * (y1 - y0 + 1)) as f64) as f32
}

/// Greedy CTC decoding of one image's `[steps, classes]` scores: the best class at each
/// step; the blank (class `blank`: 0, PaddleOCR's, or the last, a CRNN's) and repeats of
/// the previous step's class are dropped; the other classes are the alphabet's
/// characters in order (class `k` is `alphabet[k - 1]` after a first blank, `alphabet[k]`
/// before a last one), the class after the alphabet a space (PaddleOCR's
/// `use_space_char`), any later one U+FFFD. Returns the string and the mean score of the
/// steps kept (0 when none is).
pub fn decode_ctc(
    scores: &[f32],
    steps: usize,
    classes: usize,
    blank: usize,
    alphabet: &[String],
) -> (String, f32) {
    if classes == 0 || steps.checked_mul(classes).is_none_or(|n| scores.len() < n) {
        return (String::new(), 0.0);
    }
    let mut text = String::new();
    let mut kept = Vec::new();
    let mut previous = None;
    for step in scores.chunks_exact(classes).take(steps) {
        let (mut best, mut score) = (0, f32::NEG_INFINITY);
        for (k, s) in step.iter().enumerate() {
            if *s > score {
                (best, score) = (k, *s);
            }
        }
        if best != blank && previous != Some(best) {
            let index = if best > blank { best - 1 } else { best };
            let character = match alphabet.get(index) {
                Some(c) => c.as_str(),
                None if index == alphabet.len() => " ",
                None => "\u{FFFD}",
            };
            text.push_str(character);
            kept.push(score);
        }
        previous = Some(best);
    }
    let confidence = if kept.is_empty() {
        0.0
    } else {
        kept.iter().sum::<f32>() / kept.len() as f32
    };
    (text, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAME: Letterbox = Letterbox::IDENTITY;

    fn config() -> TextBoxesConfig {
        TextBoxesConfig {
            thresh: 0.3,
            box_thresh: 0.6,
            unclip_ratio: 1.5,
            max: 1000,
        }
    }

    /// A `width` x `height` map of `background` with `value` in each rectangle (x, y, w, h).
    fn map(width: usize, height: usize, rects: &[(usize, usize, usize, usize, f32)]) -> Vec<f32> {
        let mut m = vec![0.01; width * height];
        for (x, y, w, h, v) in rects {
            for row in *y..y + h {
                m[row * width + x..row * width + x + w].fill(*v);
            }
        }
        m
    }

    #[test]
    fn a_region_becomes_its_box_unclipped() {
        // Pixels 10..=29 x 20..=29: a 19 x 9 box of pixel centres, mean 0.9.
        let m = map(64, 48, &[(10, 20, 20, 10, 0.9)]);
        let found = decode_text_boxes(&m, (64, 48), (64, 48), &config(), &SAME, (64, 48));
        assert_eq!(found.len(), 1);
        let d = found[0];
        let distance = 19.0 * 9.0 * 1.5 / (2.0 * 28.0);
        let near = |a: f32, b: f32| (a - b).abs() < 1e-4;
        assert!(
            near(d.x, 10.0 - distance) && near(d.y, 20.0 - distance),
            "{d:?}"
        );
        assert!(
            near(d.w, 19.0 + 2.0 * distance) && near(d.h, 9.0 + 2.0 * distance),
            "{d:?}"
        );
        assert!(near(d.confidence, 0.9));
    }

    #[test]
    fn weak_small_and_separate_regions() {
        let m = map(
            100,
            60,
            &[
                (5, 5, 30, 8, 0.9),   // kept
                (50, 5, 30, 8, 0.5),  // above thresh, below box_thresh: dropped
                (5, 30, 2, 20, 0.95), // 1 pixel wide between centres: too small
                (60, 40, 30, 10, 0.8),
            ],
        );
        let found = decode_text_boxes(&m, (100, 60), (100, 60), &config(), &SAME, (100, 60));
        let scores: Vec<f32> = found.iter().map(|d| d.confidence).collect();
        assert_eq!(scores, [0.9, 0.8], "top to bottom: {found:?}");
        // Diagonal neighbours join one region (8-connectivity): one box over both, whose
        // mean is half the squares' (0.9 on 50 of its 100 pixels).
        let m = map(20, 20, &[(2, 2, 5, 5, 0.9), (7, 7, 5, 5, 0.9)]);
        let loose = TextBoxesConfig {
            box_thresh: 0.3,
            ..config()
        };
        let found = decode_text_boxes(&m, (20, 20), (20, 20), &loose, &SAME, (20, 20));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].confidence - (0.9 * 50.0 + 0.01 * 50.0) / 100.0).abs() < 1e-5);
    }

    #[test]
    fn boxes_map_to_the_frame_through_the_input_and_are_clamped() {
        // A 32 x 24 map of a 64 x 48 input of a 128 x 96 frame (stretch: scale 1/2).
        let letterbox = Letterbox {
            scale_x: 0.5,
            scale_y: 0.5,
            pad_x: 0.0,
            pad_y: 0.0,
        };
        let m = map(32, 24, &[(0, 4, 10, 6, 0.9)]);
        let found = decode_text_boxes(&m, (32, 24), (64, 48), &config(), &letterbox, (128, 96));
        let d = found[0];
        let distance = 9.0 * 5.0 * 1.5 / 28.0;
        assert_eq!(d.x, 0.0, "clamped at the left edge");
        assert!((d.y - (4.0 - distance) * 4.0).abs() < 1e-3, "{d:?}");
        assert!((d.w - (9.0 + distance) * 4.0).abs() < 1e-3, "{d:?}");
        // Short maps decode to nothing, not a panic.
        assert!(
            decode_text_boxes(&m[..10], (32, 24), (64, 48), &config(), &SAME, (64, 48)).is_empty()
        );
        assert!(decode_text_boxes(&m, (0, 24), (64, 48), &config(), &SAME, (64, 48)).is_empty());
    }

    #[test]
    fn ctc_drops_blanks_and_merges_repeats() {
        // "a", "b", and the space PaddleOCR's models add as the last class.
        let alphabet: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        // Steps: a a blank a b b blank space b → "aab b".
        let best = [1, 1, 0, 1, 2, 2, 0, 3, 2];
        let mut scores = vec![0.0f32; best.len() * 4];
        for (t, k) in best.iter().enumerate() {
            scores[t * 4..t * 4 + 4].fill(0.1);
            scores[t * 4 + k] = if *k == 3 { 0.5 } else { 0.7 };
        }
        let (text, confidence) = decode_ctc(&scores, best.len(), 4, 0, &alphabet);
        assert_eq!(text, "aab b");
        assert!((confidence - (0.7 * 4.0 + 0.5) / 5.0).abs() < 1e-6);
        assert_eq!(
            decode_ctc(&scores[..5], 9, 4, 0, &alphabet),
            (String::new(), 0.0)
        );
        assert_eq!(decode_ctc(&[0.9, 0.1], 1, 2, 0, &[]), (String::new(), 0.0));
        assert_eq!(decode_ctc(&[0.1, 0.9], 1, 2, 0, &[]).0, " ");
        assert_eq!(decode_ctc(&[0.1, 0.0, 0.9], 1, 3, 0, &[]).0, "\u{FFFD}");
    }

    #[test]
    fn ctc_with_the_blank_last() {
        // Classes a, b, space, blank (a CRNN's order): a blank a b b space → "aab ".
        let alphabet: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let best = [0, 3, 0, 1, 1, 2];
        let mut scores = vec![0.1f32; best.len() * 4];
        for (t, k) in best.iter().enumerate() {
            scores[t * 4 + k] = 0.8;
        }
        assert_eq!(decode_ctc(&scores, best.len(), 4, 3, &alphabet).0, "aab ");
        // Read with the blank first, the same scores are other text.
        assert_ne!(decode_ctc(&scores, best.len(), 4, 0, &alphabet).0, "aab ");
    }
}
