//! `Resize::FixedHeight`: a crop keeps its aspect at the input's height, at the left, and
//! the rest of each row is 0 after normalisation (PaddleOCR's `resize_norm_img`).

use super::*;

fn gray(width: u32, height: u32, value: u8) -> Vec<u8> {
    vec![value; (width * height) as usize]
}

fn frame(pixels: &[u8], width: u32, height: u32) -> Frame<'_> {
    Frame {
        format: PixelFormat::Gray8,
        width,
        height,
        planes: vec![pixels],
        strides: vec![width as usize],
    }
}

fn config(layout: Layout) -> PreprocessConfig {
    PreprocessConfig {
        width: 40,
        height: 8,
        layout,
        order: ChannelOrder::Rgb,
        resize: Resize::FixedHeight,
        scale: 1.0 / 255.0,
        mean: vec![0.5],
        std: vec![0.5],
    }
}

#[test]
fn a_wide_crop_keeps_its_aspect_and_the_rest_is_zero() {
    // 30 x 16 at height 8: ceil(8 * 30 / 16) = 15 columns of picture, 25 of zeros.
    let pixels = gray(30, 16, 255);
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let config = config(layout);
        let mut out = vec![f32::NAN; config.values()];
        let letterbox = try_preprocess(&frame(&pixels, 30, 16), &config, &mut out).unwrap();
        assert_eq!((letterbox.scale_x, letterbox.scale_y), (0.5, 0.5));
        for y in 0..8 {
            for x in 0..40 {
                for c in 0..3 {
                    let index = match layout {
                        Layout::Nchw => c * 320 + y * 40 + x,
                        Layout::Nhwc => (y * 40 + x) * 3 + c,
                    };
                    let expected = if x < 15 { 1.0 } else { 0.0 };
                    assert!(
                        (out[index] - expected).abs() < 1e-5,
                        "{layout:?} ({x}, {y}, {c}): {}",
                        out[index]
                    );
                }
            }
        }
    }
}

#[test]
fn a_crop_wider_than_the_input_is_squeezed_to_it() {
    let pixels = gray(200, 10, 0);
    let config = config(Layout::Nchw);
    let mut out = vec![f32::NAN; config.values()];
    let letterbox = try_preprocess(&frame(&pixels, 200, 10), &config, &mut out).unwrap();
    assert_eq!(letterbox.scale_x, 40.0 / 200.0);
    assert!(
        out.iter().all(|v| (*v + 1.0).abs() < 1e-5),
        "black everywhere"
    );
    // u8 models get 0 in the padding too.
    let pixels = gray(10, 10, 200);
    let mut out = vec![7u8; config.values()];
    try_preprocess_u8(&frame(&pixels, 10, 10), &config, &mut out).unwrap();
    assert_eq!(&out[..8], &[200; 8]);
    assert!(out[8..40].iter().all(|v| *v == 0), "{:?}", &out[..40]);
}
