//! What segmentation and pose decoders add to an object: a binary mask over its box, and
//! keypoints, with the skeleton `overlay` joins them by. Records write masks in the form
//! the decoder's `masks:` chose ([`Mask::record`], docs/records.md).

use serde_json::{Value, json};

/// How records write a mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaskFormat {
    /// COCO's uncompressed run lengths, column by column, over the mask's own box.
    #[default]
    Rle,
    /// The outlines of the mask's regions along pixel edges, in frame pixels.
    Polygons,
}

impl MaskFormat {
    pub fn parse(text: &str) -> Option<MaskFormat> {
        match text {
            "rle" | "" => Some(MaskFormat::Rle),
            "polygons" => Some(MaskFormat::Polygons),
            _ => None,
        }
    }
}

/// A binary mask over a whole-pixel box of the source frame: `data[row * width + col]`
/// is 1 where the object covers pixel `(x + col, y + row)`, else 0.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mask {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
    pub format: MaskFormat,
}

/// One keypoint in source-frame pixels, with the model's visibility (0 to 1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Keypoint {
    pub x: f32,
    pub y: f32,
    pub confidence: f32,
}

/// COCO's 17-keypoint skeleton (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
/// ankles): the 19 bones Ultralytics draws, as pairs of keypoint indices from 0.
pub const COCO17: [[u8; 2]; 19] = [
    [15, 13],
    [13, 11],
    [16, 14],
    [14, 12],
    [11, 12],
    [5, 11],
    [6, 12],
    [5, 6],
    [5, 7],
    [6, 8],
    [7, 9],
    [8, 10],
    [1, 2],
    [0, 1],
    [0, 2],
    [1, 3],
    [2, 4],
    [3, 5],
    [4, 6],
];

impl Mask {
    /// Whether pixel `(col, row)` of the box is set; outside the box is not.
    pub fn get(&self, col: u32, row: u32) -> bool {
        col < self.width
            && row < self.height
            && self
                .data
                .get((row * self.width + col) as usize)
                .is_some_and(|v| *v != 0)
    }

    /// How many pixels are set.
    pub fn area(&self) -> usize {
        self.data.iter().filter(|v| **v != 0).count()
    }

    /// COCO run lengths: the box read column by column (top to bottom, left to right),
    /// alternating runs of 0 and 1, starting with 0 (a first run of 0 when the first pixel
    /// is set).
    pub fn rle(&self) -> Vec<u32> {
        let mut counts = Vec::new();
        let (mut current, mut run) = (false, 0u32);
        for col in 0..self.width {
            for row in 0..self.height {
                let v = self.get(col, row);
                if v != current {
                    counts.push(run);
                    (current, run) = (v, 0);
                }
                run += 1;
            }
        }
        counts.push(run);
        counts
    }

    /// The outlines of the set regions, along pixel edges, in frame pixels
    /// (`[x0, y0, x1, y1, ...]`, corners only): an outer outline runs clockwise on screen,
    /// the outline of a hole counter-clockwise. Pixels touching at a corner only are
    /// separate regions.
    pub fn polygons(&self) -> Vec<Vec<f32>> {
        use std::collections::BTreeMap;
        let (w, h) = (self.width as i64, self.height as i64);
        let set =
            |c: i64, r: i64| c >= 0 && r >= 0 && c < w && r < h && self.get(c as u32, r as u32);
        // Directed edges with the region on their right (y down): from corner → to corners.
        let mut edges: BTreeMap<(i64, i64), Vec<(i64, i64)>> = BTreeMap::new();
        for r in 0..h {
            for c in 0..w {
                if !set(c, r) {
                    continue;
                }
                let mut add = |from, to| edges.entry(from).or_default().push(to);
                if !set(c, r - 1) {
                    add((c, r), (c + 1, r));
                }
                if !set(c + 1, r) {
                    add((c + 1, r), (c + 1, r + 1));
                }
                if !set(c, r + 1) {
                    add((c + 1, r + 1), (c, r + 1));
                }
                if !set(c - 1, r) {
                    add((c, r + 1), (c, r));
                }
            }
        }
        let mut polygons = Vec::new();
        while let Some((&start, _)) = edges.iter().find(|(_, to)| !to.is_empty()) {
            let mut points = vec![start];
            let mut at = start;
            let mut heading = (0, 0);
            while let Some(outs) = edges.get_mut(&at) {
                if outs.is_empty() {
                    break;
                }
                // At a corner two regions touch: turn right, keeping the regions apart.
                let pick = outs
                    .iter()
                    .position(|to| {
                        let d = (to.0 - at.0, to.1 - at.1);
                        d == (-heading.1, heading.0)
                    })
                    .unwrap_or(0);
                let to = outs.swap_remove(pick);
                heading = (to.0 - at.0, to.1 - at.1);
                at = to;
                if at == start {
                    break;
                }
                points.push(at);
            }
            // Corners only: drop points in the middle of a straight run.
            let n = points.len();
            let corners: Vec<(i64, i64)> = (0..n)
                .filter(|&i| {
                    let (p, q, s) = (points[(i + n - 1) % n], points[i], points[(i + 1) % n]);
                    (q.0 - p.0) * (s.1 - q.1) != (q.1 - p.1) * (s.0 - q.0)
                })
                .map(|i| points[i])
                .collect();
            polygons.push(
                corners
                    .iter()
                    .flat_map(|(c, r)| [(c + self.x as i64) as f32, (r + self.y as i64) as f32])
                    .collect(),
            );
        }
        polygons
    }

    /// The mask as records write it (docs/records.md).
    pub fn record(&self) -> Value {
        match self.format {
            MaskFormat::Rle => json!({
                "format": "rle",
                "box": [self.x, self.y, self.width, self.height],
                "size": [self.height, self.width],
                "counts": self.rle(),
            }),
            MaskFormat::Polygons => json!({
                "format": "polygons",
                "polygons": self.polygons(),
            }),
        }
    }
}

impl Mask {
    /// The mask moved into a cell at `(x, y)` and scaled by `(fx, fy)` (what `tile` does to
    /// its object): each pixel of the new whole-pixel box takes the old pixel under its
    /// centre.
    pub fn placed(&self, (x, y): (f32, f32), (fx, fy): (f32, f32)) -> Mask {
        if fx <= 0.0 || fy <= 0.0 || !fx.is_finite() || !fy.is_finite() {
            return Mask {
                data: Vec::new(),
                width: 0,
                height: 0,
                ..self.clone()
            };
        }
        let x0 = (x + self.x as f32 * fx).floor().max(0.0);
        let y0 = (y + self.y as f32 * fy).floor().max(0.0);
        let x1 = (x + (self.x + self.width) as f32 * fx).ceil().max(x0);
        let y1 = (y + (self.y + self.height) as f32 * fy).ceil().max(y0);
        let (width, height) = ((x1 - x0) as u32, (y1 - y0) as u32);
        let old = |v: f32, origin: f32, f: f32, start: u32| {
            let p = ((v - origin) / f).floor();
            (p >= start as f32).then(|| p as u32 - start)
        };
        let mut data = vec![0u8; (width * height) as usize];
        for row in 0..height {
            let Some(r) = old(y0 + row as f32 + 0.5, y, fy, self.y) else {
                continue;
            };
            for col in 0..width {
                if let Some(c) = old(x0 + col as f32 + 0.5, x, fx, self.x)
                    && self.get(c, r)
                {
                    data[(row * width + col) as usize] = 1;
                }
            }
        }
        Mask {
            x: x0 as u32,
            y: y0 as u32,
            width,
            height,
            data,
            format: self.format,
        }
    }
}

/// Moves an object's mask and keypoints into a cell at `origin`, scaled by `scale` (its
/// box is moved by the caller: `tile::place`).
pub fn place(object: &mut crate::meta::Object, origin: (f32, f32), scale: (f32, f32)) {
    if let Some(mask) = &object.mask {
        object.mask = Some(mask.placed(origin, scale));
    }
    for k in &mut object.keypoints {
        k.x = origin.0 + k.x * scale.0;
        k.y = origin.1 + k.y * scale.1;
    }
}

/// Keypoints as records write them: `[x, y, visibility]` each.
pub fn keypoints_record(keypoints: &[Keypoint]) -> Vec<[f32; 3]> {
    keypoints.iter().map(|k| [k.x, k.y, k.confidence]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> Mask {
        let height = rows.len() as u32;
        let width = rows.first().map_or(0, |r| r.len()) as u32;
        Mask {
            x: 10,
            y: 20,
            width,
            height,
            data: rows
                .iter()
                .flat_map(|r| r.bytes().map(|b| u8::from(b == b'#')))
                .collect(),
            format: MaskFormat::Rle,
        }
    }

    #[test]
    fn rle_runs_column_by_column_from_zero() {
        let m = mask(&["#..", "##.", "..."]);
        // Columns: [1,1,0], [0,1,0], [0,0,0] → 0 zeros, 2 ones, 2 zeros, 1 one, 3 zeros.
        assert_eq!(m.rle(), [0, 2, 2, 1, 4]);
        assert_eq!(mask(&["..", ".."]).rle(), [4]);
        assert_eq!(m.area(), 3);
    }

    #[test]
    fn placing_moves_and_scales_the_mask() {
        // The 3x3 mask at (10, 20) halved into a cell at (100, 0): (105, 10) to (106.5,
        // 11.5), so the box is 105..107 x 10..12.
        let m = mask(&["##.", "##.", "..."]);
        let placed = m.placed((100.0, 0.0), (0.5, 0.5));
        assert_eq!(
            (placed.x, placed.y, placed.width, placed.height),
            (105, 10, 2, 2)
        );
        // Pixel centres 105.5 → old column 11 (set), 106.5 → 13 (outside the box).
        assert!(placed.get(0, 0) && !placed.get(1, 0) && !placed.get(0, 1));
        let doubled = m.placed((0.0, 0.0), (2.0, 2.0));
        assert_eq!(
            (doubled.x, doubled.y, doubled.width, doubled.height),
            (20, 40, 6, 6)
        );
        assert_eq!(doubled.area(), 16);
    }

    #[test]
    fn polygons_follow_pixel_edges_in_frame_pixels() {
        let square = mask(&["...", ".#.", "..."]);
        assert_eq!(
            square.polygons(),
            [vec![11.0, 21.0, 12.0, 21.0, 12.0, 22.0, 11.0, 22.0]]
        );
        let l = mask(&["#.", "##"]);
        let p = l.polygons();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].len(), 12, "an L has 6 corners: {p:?}");
        // A ring: an outline and a hole.
        let ring = mask(&["###", "#.#", "###"]);
        assert_eq!(ring.polygons().len(), 2);
        // Two pixels touching at a corner are two regions.
        assert_eq!(mask(&["#.", ".#"]).polygons().len(), 2);
    }
}
