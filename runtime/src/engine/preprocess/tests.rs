//! Synthetic frames of known content → the values and geometry `preprocess` must produce.

use super::*;

/// An owned picture with its planes, so tests can borrow a [`Frame`] from it.
struct Picture {
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: Vec<Vec<u8>>,
    strides: Vec<usize>,
}

impl Picture {
    fn frame(&self) -> Frame<'_> {
        Frame {
            format: self.format,
            width: self.width,
            height: self.height,
            planes: self.planes.iter().map(Vec::as_slice).collect(),
            strides: self.strides.clone(),
        }
    }
}

/// A plane of `rows` rows of `row` bytes each, `stride` apart; padding bytes are 0xEE.
fn plane(row: usize, rows: usize, stride: usize, at: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut data = vec![0xEE; stride * rows];
    for y in 0..rows {
        for x in 0..row {
            data[y * stride + x] = at(x, y);
        }
    }
    data
}

/// An I420 picture from per-pixel luma and per-2x2-block chroma functions.
fn i420(
    width: usize,
    height: usize,
    extra: usize,
    y: impl Fn(usize, usize) -> u8,
    u: impl Fn(usize, usize) -> u8,
    v: impl Fn(usize, usize) -> u8,
) -> Picture {
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    Picture {
        format: PixelFormat::I420,
        width: width as u32,
        height: height as u32,
        planes: vec![
            plane(width, height, width + extra, y),
            plane(cw, ch, cw + extra, u),
            plane(cw, ch, cw + extra, v),
        ],
        strides: vec![width + extra, cw + extra, cw + extra],
    }
}

/// A packed picture (RGB, BGR, RGBx, BGRx or GRAY8) from a per-pixel byte function.
fn packed(
    format: PixelFormat,
    width: usize,
    height: usize,
    at: impl Fn(usize, usize, usize) -> u8,
) -> Picture {
    let bytes = match format {
        PixelFormat::Rgb | PixelFormat::Bgr => 3,
        PixelFormat::Rgbx | PixelFormat::Bgrx => 4,
        _ => 1,
    };
    let row = width * bytes;
    Picture {
        format,
        width: width as u32,
        height: height as u32,
        planes: vec![plane(row, height, row, |x, y| at(x / bytes, y, x % bytes))],
        strides: vec![row],
    }
}

fn config(width: u32, height: u32, resize: Resize) -> PreprocessConfig {
    PreprocessConfig {
        width,
        height,
        layout: Layout::Nchw,
        order: ChannelOrder::Rgb,
        resize,
        scale: 1.0 / 255.0,
        mean: vec![0.0],
        std: vec![1.0],
    }
}

fn run_f32(picture: &Picture, config: &PreprocessConfig) -> (Vec<f32>, Letterbox) {
    let mut out = vec![f32::NAN; config.values()];
    match try_preprocess(&picture.frame(), config, &mut out) {
        Ok(letterbox) => (out, letterbox),
        Err(e) => panic!("preprocess refused a valid frame: {e}"),
    }
}

/// BT.601 limited range, written out independently of `frame.rs`.
fn bt601(y: f64, u: f64, v: f64) -> [f64; 3] {
    let (y, u, v) = (1.164_383 * (y - 16.0), u - 128.0, v - 128.0);
    [
        y + 1.596_027 * v,
        y - 0.391_762 * u - 0.812_968 * v,
        y + 2.017_232 * u,
    ]
    .map(|c| c.clamp(0.0, 255.0))
}

#[test]
fn i420_of_one_colour_gives_that_colour_everywhere() {
    let picture = i420(64, 48, 0, |_, _| 120, |_, _| 100, |_, _| 150);
    let expected = bt601(120.0, 100.0, 150.0);
    let (out, _) = run_f32(&picture, &config(40, 40, Resize::Stretch));
    let plane = 40 * 40;
    for (i, value) in out.iter().enumerate() {
        let want = expected[i / plane] / 255.0;
        assert!(
            (f64::from(*value) - want).abs() <= 1.0 / 255.0,
            "value {i}: {value} vs {want}"
        );
    }
}

#[test]
fn mean_and_std_normalise_each_channel() {
    let picture = packed(PixelFormat::Rgb, 8, 8, |_, _, c| [255, 128, 0][c]);
    let mut config = config(4, 4, Resize::Stretch);
    config.mean = vec![0.485, 0.456, 0.406];
    config.std = vec![0.229, 0.224, 0.225];
    let (out, _) = run_f32(&picture, &config);
    for c in 0..3 {
        let pixel = [255.0, 128.0, 0.0][c] / 255.0;
        let want = (pixel - config.mean[c]) / config.std[c];
        assert!((out[c * 16] - want).abs() < 1e-5, "channel {c}");
    }
}

#[test]
fn letterbox_of_768x576_into_640_pads_80_rows_and_undoes_exactly() {
    // A white square at x 300..400, y 200..300 of a black frame.
    let white = |x: usize, y: usize| (300..400).contains(&x) && (200..300).contains(&y);
    let picture = packed(PixelFormat::Rgb, 768, 576, |x, y, _| {
        if white(x, y) { 255 } else { 0 }
    });
    let (out, letterbox) = run_f32(&picture, &config(640, 640, Resize::Letterbox));
    assert!((letterbox.scale_x - 0.8333).abs() < 1e-4);
    assert!((letterbox.scale_y - 0.8333).abs() < 1e-4);
    assert_eq!((letterbox.pad_x, letterbox.pad_y), (0.0, 80.0));

    let grey = f32::from(PAD_VALUE) / 255.0;
    let at = |x: usize, y: usize| out[y * 640 + x];
    assert!(
        (0..80)
            .chain(560..640)
            .all(|y| (at(320, y) - grey).abs() < 1e-6)
    );
    assert_eq!(at(5, 80), 0.0, "the picture starts at row 80");

    for (x, y) in [(0.0, 0.0), (300.0, 200.0), (767.5, 575.5), (12.25, 431.0)] {
        let (mx, my) = letterbox.to_model(x, y);
        let (sx, sy) = letterbox.to_source(mx, my);
        assert!((sx - x).abs() < 1e-3 && (sy - y).abs() < 1e-3, "({x}, {y})");
    }
    // The square's edges in the model input map back to its edges in the frame.
    let inside: Vec<(usize, usize)> = (0..640)
        .flat_map(|y| (0..640).map(move |x| (x, y)))
        .filter(|&(x, y)| at(x, y) > 0.5)
        .collect();
    let left = inside.iter().map(|p| p.0).min().unwrap_or(0) as f32;
    let right = inside.iter().map(|p| p.0).max().unwrap_or(0) as f32 + 1.0;
    let top = inside.iter().map(|p| p.1).min().unwrap_or(0) as f32;
    let bottom = inside.iter().map(|p| p.1).max().unwrap_or(0) as f32 + 1.0;
    let (x0, y0) = letterbox.to_source(left, top);
    let (x1, y1) = letterbox.to_source(right, bottom);
    for (got, want) in [(x0, 300.0), (y0, 200.0), (x1, 400.0), (y1, 300.0)] {
        assert!((got - want).abs() <= 1.5, "edge {got} vs {want}");
    }
}

#[test]
fn letterbox_centres_a_tall_frame_horizontally() {
    let letterbox = Letterbox::new((480, 640), (640, 640), Resize::Letterbox);
    assert_eq!((letterbox.pad_x, letterbox.pad_y), (80.0, 0.0));
    assert_eq!((letterbox.scale_x, letterbox.scale_y), (1.0, 1.0));
    // An odd padding puts the extra pixel at the right, as Ultralytics does.
    let odd = Letterbox::new((101, 100), (100, 100), Resize::Letterbox);
    assert_eq!(odd.pad_y, 0.0);
    assert_eq!(
        Placement::new((101, 100), (100, 100), Resize::Letterbox).height,
        99
    );
}

#[test]
fn stretch_scales_each_axis_and_blends_neighbours() {
    // R = x, so a 2:1 horizontal shrink averages columns 2o and 2o + 1.
    let picture = packed(PixelFormat::Rgb, 100, 50, |x, y, c| {
        [x as u8, y as u8, 7][c]
    });
    let mut config = config(50, 50, Resize::Stretch);
    config.scale = 1.0;
    let (out, letterbox) = run_f32(&picture, &config);
    assert_eq!(
        letterbox,
        Letterbox {
            scale_x: 0.5,
            scale_y: 1.0,
            pad_x: 0.0,
            pad_y: 0.0
        }
    );
    for o in 0..50 {
        assert_eq!(out[10 * 50 + o], 2.0 * o as f32 + 0.5, "column {o}");
        assert_eq!(out[2500 + o * 50 + 3], o as f32, "row {o} keeps G = y");
    }
}

#[test]
fn nhwc_holds_the_same_values_as_nchw_interleaved() {
    let picture = i420(
        37,
        23,
        3,
        |x, y| (x * 7 + y * 3) as u8,
        |x, _| (90 + x) as u8,
        |_, y| (160 - y) as u8,
    );
    let nchw = config(16, 16, Resize::Letterbox);
    let nhwc = PreprocessConfig {
        layout: Layout::Nhwc,
        ..nchw.clone()
    };
    let (planar, _) = run_f32(&picture, &nchw);
    let (interleaved, _) = run_f32(&picture, &nhwc);
    for p in 0..256 {
        for c in 0..3 {
            assert_eq!(planar[c * 256 + p], interleaved[p * 3 + c]);
        }
    }
}

#[test]
fn bgr_order_and_bgr_frames_swap_red_and_blue() {
    let rgb = packed(PixelFormat::Rgb, 6, 6, |_, _, c| [10, 20, 30][c]);
    let bgrx = packed(PixelFormat::Bgrx, 6, 6, |_, _, c| [30, 20, 10, 99][c]);
    let rgbx = packed(PixelFormat::Rgbx, 6, 6, |_, _, c| [10, 20, 30, 99][c]);
    let bgr = packed(PixelFormat::Bgr, 6, 6, |_, _, c| [30, 20, 10][c]);
    let mut config = config(3, 3, Resize::Stretch);
    config.scale = 1.0;
    config.order = ChannelOrder::Bgr;
    for picture in [&rgb, &bgrx, &rgbx, &bgr] {
        let (out, _) = run_f32(picture, &config);
        assert_eq!([out[0], out[9], out[18]], [30.0, 20.0, 10.0]);
    }
}

#[test]
fn gray8_frames_and_gray_models() {
    let gray = packed(PixelFormat::Gray8, 9, 5, |x, _, _| (x * 20) as u8);
    let mut rgb_config = config(9, 5, Resize::Stretch);
    rgb_config.scale = 1.0;
    let (out, _) = run_f32(&gray, &rgb_config);
    assert_eq!([out[4], out[45 + 4], out[90 + 4]], [80.0; 3]);

    let gray_config = PreprocessConfig {
        order: ChannelOrder::Gray,
        ..rgb_config
    };
    let (out, _) = run_f32(&gray, &gray_config);
    assert_eq!(out.len(), 45);
    assert!((out[4] - 80.0).abs() < 1e-3);
    // Luma of a colour: 0.299 R + 0.587 G + 0.114 B.
    let colour = packed(PixelFormat::Rgb, 9, 5, |_, _, c| [200, 100, 50][c]);
    let (out, _) = run_f32(&colour, &gray_config);
    assert!((out[0] - 124.2).abs() < 1e-3);
}

#[test]
fn nv12_gives_the_same_tensor_as_i420() {
    let (w, h) = (31usize, 17usize);
    let luma = |x: usize, y: usize| ((x * 13 + y * 29) % 220 + 16) as u8;
    let cb = |x: usize, y: usize| ((x * 31 + y * 7) % 200 + 28) as u8;
    let cr = |x: usize, y: usize| ((x * 5 + y * 37) % 190 + 33) as u8;
    let planar = i420(w, h, 0, luma, cb, cr);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let semi = Picture {
        format: PixelFormat::Nv12,
        width: w as u32,
        height: h as u32,
        planes: vec![
            plane(w, h, w + 1, luma),
            plane(2 * cw, ch, 2 * cw + 5, |x, y| {
                if x % 2 == 0 {
                    cb(x / 2, y)
                } else {
                    cr(x / 2, y)
                }
            }),
        ],
        strides: vec![w + 1, 2 * cw + 5],
    };
    let config = config(20, 20, Resize::Letterbox);
    assert_eq!(run_f32(&planar, &config).0, run_f32(&semi, &config).0);
}

#[test]
fn odd_sizes_and_padded_strides_read_only_the_pixels() {
    let y = |x: usize, y: usize| (16 + x * 9 + y * 11) as u8;
    let u = |x: usize, y: usize| (100 + x * 3 + y) as u8;
    let v = |x: usize, y: usize| (140 - x - y * 2) as u8;
    let tight = i420(13, 7, 0, y, u, v);
    let padded = i420(13, 7, 9, y, u, v);
    for resize in [Resize::Letterbox, Resize::Stretch] {
        let config = config(11, 9, resize);
        assert_eq!(run_f32(&tight, &config).0, run_f32(&padded, &config).0);
    }
    // Same content 1:1: each output pixel is exactly its source pixel.
    let (out, _) = run_f32(&tight, &config(13, 7, Resize::Stretch));
    let want = bt601(f64::from(y(12, 6)), f64::from(u(6, 3)), f64::from(v(6, 3)));
    for c in 0..3 {
        let got = f64::from(out[c * 91 + 6 * 13 + 12]) * 255.0;
        assert!(
            (got - want[c]).abs() <= 0.5 + 1e-3,
            "channel {c}: {got} vs {}",
            want[c]
        );
    }
}

#[test]
fn u8_output_is_raw_and_pads_with_114() {
    let picture = packed(PixelFormat::Rgb, 20, 10, |_, _, c| [1, 2, 250][c]);
    let config = config(20, 20, Resize::Letterbox);
    let mut out = vec![0u8; config.values()];
    let letterbox = preprocess_u8(&picture.frame(), &config, &mut out);
    assert_eq!(letterbox.pad_y, 5.0);
    assert_eq!(out[0], PAD_VALUE);
    let row = 10 * 20;
    assert_eq!([out[row], out[400 + row], out[800 + row]], [1, 2, 250]);
}

#[test]
fn bad_frames_and_buffers_are_refused_without_panicking() {
    let picture = i420(16, 16, 0, |_, _| 50, |_, _| 128, |_, _| 128);
    let config = config(8, 8, Resize::Stretch);
    let mut out = vec![1.0; config.values()];

    let mut short = picture.frame();
    let chroma: &[u8] = short.planes[2];
    short.planes[2] = &chroma[..10];
    let err = try_preprocess(&short, &config, &mut out);
    assert!(matches!(
        err,
        Err(PreprocessError::PlaneTooShort { plane: 2, .. })
    ));
    preprocess(&short, &config, &mut out);
    assert!(
        out.iter().all(|v| *v == 0.0),
        "a refused frame leaves zeros"
    );

    let mut missing = picture.frame();
    missing.planes.pop();
    assert!(matches!(
        try_preprocess(&missing, &config, &mut out),
        Err(PreprocessError::Planes {
            expected: 3,
            got: 2
        })
    ));

    let mut narrow = picture.frame();
    narrow.strides[0] = 15;
    assert!(matches!(
        try_preprocess(&narrow, &config, &mut out),
        Err(PreprocessError::Stride { plane: 0, .. })
    ));

    let mut small = vec![0.0; 10];
    assert!(matches!(
        try_preprocess(&picture.frame(), &config, &mut small),
        Err(PreprocessError::Output {
            expected: 192,
            got: 10
        })
    ));
    preprocess(&picture.frame(), &config, &mut small);

    let two_means = PreprocessConfig {
        mean: vec![0.1, 0.2],
        ..config.clone()
    };
    assert!(matches!(
        try_preprocess(&picture.frame(), &two_means, &mut out),
        Err(PreprocessError::Normalisation(_))
    ));
    let empty = Frame {
        width: 0,
        ..picture.frame()
    };
    assert_eq!(
        try_preprocess(&empty, &config, &mut out),
        Err(PreprocessError::Empty)
    );
    preprocess(&empty, &config, &mut out);
}
