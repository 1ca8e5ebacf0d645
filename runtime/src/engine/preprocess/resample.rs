//! A placement of the picture in the target + a source reader → every output pixel's
//! bilinear RGB, in row order.
//!
//! Separable, as OpenCV's resize: each source row that is needed is read once (only the
//! columns the taps use) and blended horizontally into a line of the output's width;
//! output rows blend two such lines vertically. At most two lines are kept, so memory
//! stays at two rows whatever the frame size. The arithmetic is exactly the four-tap
//! formula `(a (1 - fx) + b fx) (1 - fy) + (c (1 - fx) + d fx) fy`.

use super::PAD_VALUE;
use super::frame::Source;

/// One output coordinate's two source neighbours and the weight of the second.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tap {
    i0: usize,
    i1: usize,
    f: f32,
}

/// Taps for the `len` output coordinates the picture covers along one axis. OpenCV's
/// `INTER_LINEAR`: `s = (o + 0.5) * source / len - 0.5`, clamped to the source.
fn taps(len: usize, source: usize) -> Vec<Tap> {
    let ratio = source as f64 / len as f64;
    let last = (source - 1) as f64;
    (0..len)
        .map(|o| {
            let s = ((o as f64 + 0.5) * ratio - 0.5).clamp(0.0, last);
            let i0 = s.floor() as usize;
            Tap {
                i0,
                i1: (i0 + 1).min(source - 1),
                f: (s - i0 as f64) as f32,
            }
        })
        .collect()
}

type Rgb = [f32; 3];

/// Everything about the geometry that does not depend on the pixels.
pub(super) struct Resampler {
    target: (usize, usize),
    /// The picture's left, top, width and height in the target.
    place: (usize, usize, usize, usize),
    ys: Vec<Tap>,
    /// The distinct source columns the horizontal taps read, ascending.
    columns: Vec<usize>,
    /// Horizontal taps as indices into `columns`.
    xs: Vec<Tap>,
}

impl Resampler {
    /// `target` and `source` are (width, height), all non-zero; `place` is (x, y, width,
    /// height) inside the target.
    pub(super) fn new(
        target: (usize, usize),
        place: (usize, usize, usize, usize),
        source: (usize, usize),
    ) -> Resampler {
        let xs = taps(place.2, source.0);
        let mut columns: Vec<usize> = xs.iter().flat_map(|t| [t.i0, t.i1]).collect();
        columns.sort_unstable();
        columns.dedup();
        let index = |i: usize| columns.binary_search(&i).unwrap_or(0);
        let xs = xs
            .iter()
            .map(|t| Tap {
                i0: index(t.i0),
                i1: index(t.i1),
                f: t.f,
            })
            .collect();
        Resampler {
            target,
            place,
            ys: taps(place.3, source.1),
            columns,
            xs,
        }
    }

    /// Calls `put(pixel index, rgb)` for every target pixel in row order; padding is grey.
    pub(super) fn fill<S: Source>(&self, source: &S, put: &mut impl FnMut(usize, Rgb)) {
        let pad = [f32::from(PAD_VALUE); 3];
        let (width, height) = self.target;
        let (left, top, inner_width, _) = self.place;
        let mut lines = Lines::new(self.columns.len(), inner_width);
        for oy in 0..height {
            let row = oy * width;
            let Some(ty) = oy.checked_sub(top).and_then(|r| self.ys.get(r)).copied() else {
                (row..row + width).for_each(|p| put(p, pad));
                continue;
            };
            let (upper, lower) = lines.pair(self, source, ty.i0, ty.i1);
            (row..row + left).for_each(|p| put(p, pad));
            let fy = ty.f;
            for (c, (a, b)) in upper.iter().zip(lower).enumerate() {
                put(
                    row + left + c,
                    std::array::from_fn(|k| a[k] * (1.0 - fy) + b[k] * fy),
                );
            }
            (row + left + inner_width..row + width).for_each(|p| put(p, pad));
        }
    }

    /// Source row `y`, horizontally resampled into `line`; `pixels` is scratch space.
    fn line<S: Source>(&self, source: &S, y: usize, pixels: &mut [Rgb], line: &mut [Rgb]) {
        for (pixel, &x) in pixels.iter_mut().zip(&self.columns) {
            *pixel = source.rgb(x, y);
        }
        for (out, t) in line.iter_mut().zip(&self.xs) {
            let (a, b) = (pixels[t.i0], pixels[t.i1]);
            *out = std::array::from_fn(|k| a[k] * (1.0 - t.f) + b[k] * t.f);
        }
    }
}

/// The last two resampled source rows, so each source row is read once.
struct Lines {
    rows: [Option<usize>; 2],
    lines: [Vec<Rgb>; 2],
    pixels: Vec<Rgb>,
}

impl Lines {
    fn new(columns: usize, width: usize) -> Lines {
        Lines {
            rows: [None; 2],
            lines: [vec![[0.0; 3]; width], vec![[0.0; 3]; width]],
            pixels: vec![[0.0; 3]; columns],
        }
    }

    /// Resampled source rows `y0` and `y1`, reading only those not already held.
    fn pair<S: Source>(
        &mut self,
        resampler: &Resampler,
        source: &S,
        y0: usize,
        y1: usize,
    ) -> (&[Rgb], &[Rgb]) {
        let first = self.load(resampler, source, y0, y1);
        let second = match self.held(y1) {
            Some(slot) => slot,
            None => self.read(resampler, source, y1, 1 - first),
        };
        (&self.lines[first], &self.lines[second])
    }

    /// The slot holding `y`, reading it into a slot that does not hold `keep` if needed.
    fn load<S: Source>(
        &mut self,
        resampler: &Resampler,
        source: &S,
        y: usize,
        keep: usize,
    ) -> usize {
        if let Some(slot) = self.held(y) {
            return slot;
        }
        let slot = if self.rows[0] == Some(keep) { 1 } else { 0 };
        self.read(resampler, source, y, slot)
    }

    fn held(&self, y: usize) -> Option<usize> {
        self.rows.iter().position(|r| *r == Some(y))
    }

    fn read<S: Source>(
        &mut self,
        resampler: &Resampler,
        source: &S,
        y: usize,
        slot: usize,
    ) -> usize {
        resampler.line(source, y, &mut self.pixels, &mut self.lines[slot]);
        self.rows[slot] = Some(y);
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_follow_opencv_inter_linear() {
        // Halving: output o reads source 2o + 0.5, half way between 2o and 2o + 1.
        let half = taps(3, 6);
        assert_eq!(
            half[1],
            Tap {
                i0: 2,
                i1: 3,
                f: 0.5
            }
        );
        // Enlarging: the first output pixels clamp to the first source pixel.
        let double = taps(4, 2);
        assert_eq!(
            double[0],
            Tap {
                i0: 0,
                i1: 1,
                f: 0.0
            }
        );
        assert_eq!(
            double[1],
            Tap {
                i0: 0,
                i1: 1,
                f: 0.25
            }
        );
        assert_eq!(
            double[3],
            Tap {
                i0: 1,
                i1: 1,
                f: 0.0
            }
        );
    }
}
