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
}
