//! Rectangles drawn into planar and packed frames.

/// A class's colour: BT.601 limited-range YUV and RGB of one palette entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Colour {
    pub rgb: [u8; 3],
    pub yuv: [u8; 3],
}

const PALETTE: [[u8; 3]; 8] = [
    [255, 56, 56],
    [50, 205, 50],
    [0, 128, 255],
    [255, 178, 29],
    [207, 42, 210],
    [0, 210, 210],
    [255, 255, 255],
    [128, 64, 0],
];

pub fn colour(class_id: u32) -> Colour {
    let [r, g, b] = PALETTE[class_id as usize % PALETTE.len()];
    let (r, g, b) = (r as f32, g as f32, b as f32);
    let y = 16.0 + (65.738 * r + 129.057 * g + 25.064 * b) / 256.0;
    let u = 128.0 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256.0;
    let v = 128.0 + (112.439 * r - 94.154 * g - 18.285 * b) / 256.0;
    Colour {
        rgb: [r as u8, g as u8, b as u8],
        yuv: [y.round() as u8, u.round() as u8, v.round() as u8],
    }
}

/// A plane of 8-bit samples with its stride.
pub struct Plane<'a> {
    pub data: &'a mut [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
    /// Bytes per pixel in this plane and the offset of the sample to write.
    pub step: usize,
    pub offset: usize,
}

/// Outlines the rectangle `x0..x1, y0..y1` (plane coordinates) `thickness` samples thick.
pub fn outline(plane: &mut Plane, rect: [usize; 4], thickness: usize, value: u8) {
    let [x0, y0, x1, y1] = rect;
    let (x1, y1) = (
        x1.min(plane.width.saturating_sub(1)),
        y1.min(plane.height.saturating_sub(1)),
    );
    if x0 > x1 || y0 > y1 {
        return;
    }
    let mut put = |x: usize, y: usize| {
        let i = y * plane.stride + x * plane.step + plane.offset;
        if let Some(p) = plane.data.get_mut(i) {
            *p = value;
        }
    };
    for t in 0..thickness {
        for x in x0..=x1 {
            put(x, (y0 + t).min(y1));
            put(x, y1.saturating_sub(t).max(y0));
        }
        for y in y0..=y1 {
            put((x0 + t).min(x1), y);
            put(x1.saturating_sub(t).max(x0), y);
        }
    }
}

/// How much of each pixel of a `width * height` patch a shape covers, 0.0 to 1.0, row by row.
pub struct Mask {
    pub width: usize,
    pub height: usize,
    pub coverage: Vec<f32>,
}

/// Sets the samples of `x0..x1, y0..y1` (plane coordinates, end excluded) to `value`;
/// what lies outside the plane is left out.
pub fn fill(plane: &mut Plane, rect: [usize; 4], value: u8) {
    let [x0, y0, x1, y1] = rect;
    let (x1, y1) = (x1.min(plane.width), y1.min(plane.height));
    for y in y0..y1 {
        for x in x0..x1 {
            let i = y * plane.stride + x * plane.step + plane.offset;
            if let Some(p) = plane.data.get_mut(i) {
                *p = value;
            }
        }
    }
}

/// Blends `value` into the plane through `mask`, whose top-left corner goes to `origin`:
/// each sample moves towards `value` by the mask's coverage, so edges stay anti-aliased.
pub fn blend(plane: &mut Plane, origin: [usize; 2], mask: &Mask, value: u8) {
    let [ox, oy] = origin;
    for my in 0..mask.height {
        let y = oy + my;
        if y >= plane.height {
            break;
        }
        for mx in 0..mask.width {
            let x = ox + mx;
            if x >= plane.width {
                break;
            }
            let a = mask
                .coverage
                .get(my * mask.width + mx)
                .copied()
                .unwrap_or(0.0);
            if a <= 0.0 {
                continue;
            }
            let i = y * plane.stride + x * plane.step + plane.offset;
            if let Some(p) = plane.data.get_mut(i) {
                let mixed = f32::from(*p) * (1.0 - a) + f32::from(value) * a;
                *p = mixed.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// Where a `size` label goes for the box `rect` in a `frame` (all in luma pixels, `rect`
/// end included): on the box's left edge, just above its top, or just below the top when
/// there is no room above; always inside the frame, and on even coordinates so that it
/// covers whole chroma samples. `None` when the frame is empty.
pub fn place_label(rect: [usize; 4], size: [usize; 2], frame: [usize; 2]) -> Option<[usize; 4]> {
    let [x0, y0, _, _] = rect;
    let [fw, fh] = frame;
    if fw == 0 || fh == 0 {
        return None;
    }
    let w = (size[0] + size[0] % 2).min(fw);
    let h = (size[1] + size[1] % 2).min(fh);
    let y = if y0 >= h { y0 - h } else { y0 };
    let x = x0.min(fw - w) & !1;
    let y = y.min(fh - h) & !1;
    Some([x, y, x + w, y + h])
}

/// Luma of text that reads well on a background of luma `background`: white or black
/// (limited range).
pub fn text_luma(background: u8) -> u8 {
    if background < 128 { 235 } else { 16 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_touches_the_border_only() {
        let mut data = vec![0u8; 10 * 10];
        let mut plane = Plane {
            data: &mut data,
            stride: 10,
            width: 10,
            height: 10,
            step: 1,
            offset: 0,
        };
        outline(&mut plane, [2, 2, 7, 7], 1, 255);
        assert_eq!(data[2 * 10 + 2], 255);
        assert_eq!(data[7 * 10 + 5], 255);
        assert_eq!(data[5 * 10 + 5], 0, "inside stays");
        assert_eq!(data[0], 0, "outside stays");
    }

    #[test]
    fn red_is_red_in_yuv() {
        let c = colour(0);
        assert!(c.yuv[2] > 200 && c.yuv[1] < 128, "{c:?}");
    }

    fn plane(data: &mut [u8]) -> Plane<'_> {
        Plane {
            data,
            stride: 10,
            width: 10,
            height: 10,
            step: 1,
            offset: 0,
        }
    }

    #[test]
    fn fill_is_clipped_to_the_plane() {
        let mut data = vec![0u8; 10 * 10];
        fill(&mut plane(&mut data), [8, 8, 20, 20], 9);
        assert_eq!(data[9 * 10 + 9], 9);
        assert_eq!(data[7 * 10 + 9], 0);
        assert_eq!(data.iter().filter(|&&v| v == 9).count(), 4);
    }

    #[test]
    fn blend_mixes_by_coverage() {
        let mut data = vec![100u8; 10 * 10];
        let mask = Mask {
            width: 3,
            height: 1,
            coverage: vec![0.0, 0.5, 1.0],
        };
        blend(&mut plane(&mut data), [8, 0], &mask, 200);
        assert_eq!(data[8], 100);
        assert_eq!(data[9], 150);
        assert_eq!(data[10], 100, "clipped at the right edge, not wrapped");
    }

    #[test]
    fn labels_go_above_the_box_or_inside_the_frame() {
        assert_eq!(
            place_label([40, 60, 100, 120], [30, 17], [320, 240]),
            Some([40, 42, 70, 60])
        );
        // No room above: just below the box's top.
        assert_eq!(
            place_label([40, 0, 100, 120], [30, 18], [320, 240]),
            Some([40, 0, 70, 18])
        );
        // Near the right and bottom edges: pushed back in.
        assert_eq!(
            place_label([310, 239, 319, 239], [30, 18], [320, 240]),
            Some([290, 220, 320, 238])
        );
        // Wider than the frame: as wide as the frame.
        assert_eq!(
            place_label([0, 0, 5, 5], [400, 18], [320, 240]),
            Some([0, 0, 320, 18])
        );
        assert_eq!(place_label([0, 0, 5, 5], [30, 18], [0, 0]), None);
    }

    #[test]
    fn text_contrasts_with_its_background() {
        assert_eq!(text_luma(colour(0).yuv[0]), 235);
        assert_eq!(text_luma(colour(6).yuv[0]), 16);
    }
}
