//! Frames in host memory + a model's input description → the batch tensor the GPU kernel
//! (`kernels/preprocess.cu`) writes, computed on the CPU with the kernel's arithmetic.
//!
//! Each function here is the twin of the kernel's function of the same name (`vpl_read` →
//! [`read`], `vpl_tap` → [`tap`], …), with the same operations in the same order and the
//! same types, so results are bit-identical when the kernel is compiled with
//! `--fmad=false` ([`super::NVRTC_OPTIONS`]). It is also, by construction, the arithmetic
//! of `engine::preprocess` (separable there, per pixel here), which the tests check on
//! real frames. Slow (four reads and a YUV conversion per output pixel): a specification,
//! not a fallback.

use super::{FrameDescriptor, OutputType, TensorParams};
use crate::engine::preprocess::{
    Frame, Letterbox, PAD_VALUE, PixelFormat, PreprocessConfig, PreprocessError,
};

/// Where the batch tensor goes: one buffer of the model input's element type, holding
/// exactly one image per frame.
#[derive(Debug)]
pub enum BatchOutput<'a> {
    F32(&'a mut [f32]),
    /// IEEE half bits.
    F16(&'a mut [u16]),
    U8(&'a mut [u8]),
}

impl BatchOutput<'_> {
    fn len(&self) -> usize {
        match self {
            BatchOutput::F32(out) => out.len(),
            BatchOutput::F16(out) => out.len(),
            BatchOutput::U8(out) => out.len(),
        }
    }

    fn dtype(&self) -> OutputType {
        match self {
            BatchOutput::F32(_) => OutputType::F32,
            BatchOutput::F16(_) => OutputType::F16,
            BatchOutput::U8(_) => OutputType::U8,
        }
    }

    /// `vpl_store`.
    fn store(&mut self, index: usize, value: f32, mul: f32, add: f32) {
        match self {
            BatchOutput::U8(out) => out[index] = (value + 0.5).min(255.0) as u8,
            BatchOutput::F16(out) => out[index] = f16_bits(value * mul + add),
            BatchOutput::F32(out) => out[index] = value * mul + add,
        }
    }
}

/// What the kernel does for the whole batch: one image of `config` per frame, written at
/// its index in `out`; returns each frame's letterbox, in order.
pub fn preprocess_batch(
    frames: &[Frame<'_>],
    config: &PreprocessConfig,
    mut out: BatchOutput<'_>,
) -> Result<Vec<Letterbox>, PreprocessError> {
    let params = TensorParams::new(config, out.dtype())?;
    let expected = params.values.saturating_mul(frames.len());
    if out.len() != expected {
        return Err(PreprocessError::Output {
            expected,
            got: out.len(),
        });
    }
    let mut letterboxes = Vec::with_capacity(frames.len());
    for (n, frame) in frames.iter().enumerate() {
        frame.check()?;
        let (descriptor, letterbox) = FrameDescriptor::new(
            frame.format,
            (frame.width, frame.height),
            [0; 3],
            &frame.strides,
            config,
        )?;
        for oy in 0..params.height {
            for ox in 0..params.width {
                pixel(&descriptor, &frame.planes, &params, n, ox, oy, &mut out);
            }
        }
        letterboxes.push(letterbox);
    }
    Ok(letterboxes)
}

/// The body of `vpl_preprocess` for thread (ox, oy, n).
fn pixel(
    f: &FrameDescriptor,
    planes: &[&[u8]],
    params: &TensorParams,
    n: usize,
    ox: u32,
    oy: u32,
    out: &mut BatchOutput<'_>,
) {
    let [px, py, pw, ph] = f.place;
    let pad = f32::from(PAD_VALUE);
    let rgb = if ox < px || oy < py || ox - px >= pw || oy - py >= ph {
        [pad; 3]
    } else {
        let (x0, x1, fx) = tap(ox - px, f.ratio_x, f.width);
        let (y0, y1, fy) = tap(oy - py, f.ratio_y, f.height);
        let a = read(f, planes, x0, y0);
        let b = read(f, planes, x1, y0);
        let c = read(f, planes, x0, y1);
        let d = read(f, planes, x1, y1);
        std::array::from_fn(|k| {
            let upper = a[k] * (1.0 - fx) + b[k] * fx;
            let lower = c[k] * (1.0 - fx) + d[k] * fx;
            upper * (1.0 - fy) + lower * fy
        })
    };
    let gray = params.order == 2;
    let channels = if gray { 1 } else { 3 };
    let pixels = params.width as usize * params.height as usize;
    let pixel = oy as usize * params.width as usize + ox as usize;
    let image = n * pixels * channels;
    let nchw = params.layout == 0;
    let base = image + if nchw { pixel } else { pixel * channels };
    let step = if nchw { pixels } else { 1 };
    let (mul, add) = (params.mul, params.add);
    if gray {
        let value = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        out.store(base, value, mul[0], add[0]);
    } else {
        let rgb_order = params.order == 0;
        let first = if rgb_order { rgb[0] } else { rgb[2] };
        let last = if rgb_order { rgb[2] } else { rgb[0] };
        out.store(base, first, mul[0], add[0]);
        out.store(base + step, rgb[1], mul[1], add[1]);
        out.store(base + 2 * step, last, mul[2], add[2]);
    }
}

/// `vpl_tap`: OpenCV `INTER_LINEAR`'s two source neighbours of output coordinate `o` and
/// the weight of the second, the sampling coordinate computed in f64.
fn tap(o: u32, ratio: f64, source: u32) -> (u32, u32, f32) {
    let last = f64::from(source - 1);
    let s = ((f64::from(o) + 0.5) * ratio - 0.5).clamp(0.0, last);
    let i0 = s.floor() as u32;
    (i0, (i0 + 1).min(source - 1), (s - f64::from(i0)) as f32)
}

/// `vpl_quantise`: clamp to 0..=255, round half up.
fn quantise(v: f32) -> f32 {
    f32::from((v.clamp(0.0, 255.0) + 0.5) as u8)
}

/// `vpl_yuv`: BT.601 limited range.
fn yuv(y: u8, u: u8, v: u8) -> [f32; 3] {
    let fy = (f32::from(y) - 16.0) * 1.164_383_5;
    let fu = f32::from(u) - 128.0;
    let fv = f32::from(v) - 128.0;
    [
        quantise(fy + 1.596_027 * fv),
        quantise(fy - 0.391_762 * fu - 0.812_968 * fv),
        quantise(fy + 2.017_232 * fu),
    ]
}

/// `vpl_read`: one source pixel as RGB in 0..=255.
fn read(f: &FrameDescriptor, planes: &[&[u8]], x: u32, y: u32) -> [f32; 3] {
    let (x, y) = (x as usize, y as usize);
    let s = f.strides.map(|s| s as usize);
    match f.format {
        PixelFormat::I420 => {
            let c = x / 2;
            yuv(
                planes[0][y * s[0] + x],
                planes[1][(y / 2) * s[1] + c],
                planes[2][(y / 2) * s[2] + c],
            )
        }
        PixelFormat::Nv12 => {
            let at = (y / 2) * s[1] + (x / 2) * 2;
            yuv(planes[0][y * s[0] + x], planes[1][at], planes[1][at + 1])
        }
        PixelFormat::Gray8 => [f32::from(planes[0][y * s[0] + x]); 3],
        PixelFormat::Rgb | PixelFormat::Bgr | PixelFormat::Rgbx | PixelFormat::Bgrx => {
            let three = matches!(f.format, PixelFormat::Rgb | PixelFormat::Bgr);
            let bytes = if three { 3 } else { 4 };
            let r = if matches!(f.format, PixelFormat::Rgb | PixelFormat::Rgbx) {
                0
            } else {
                2
            };
            let at = y * s[0] + x * bytes;
            let p = planes[0];
            [
                f32::from(p[at + r]),
                f32::from(p[at + 1]),
                f32::from(p[at + 2 - r]),
            ]
        }
    }
}

/// `vpl_f16`: f32 → IEEE half bits, rounded to nearest even (what `half::f16::from_f32`
/// and ONNX Runtime's `Cast` compute), in integer operations the kernel can mirror.
pub fn f16_bits(value: f32) -> u16 {
    let x = value.to_bits();
    let sign = (x >> 16) & 0x8000;
    let mag = x & 0x7fff_ffff;
    if mag >= 0x7f80_0000 {
        let nan = if mag > 0x7f80_0000 { 0x0200 } else { 0 };
        return (sign | 0x7c00 | nan | ((mag & 0x7f_ffff) >> 13)) as u16;
    }
    if mag >= 0x4780_0000 {
        return (sign | 0x7c00) as u16;
    }
    if mag >= 0x3880_0000 {
        let mut h = (mag >> 13) - (112 << 10);
        let rest = mag & 0x1fff;
        if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) {
            h += 1;
        }
        return (sign | h) as u16;
    }
    if mag < 0x3300_0000 {
        return sign as u16;
    }
    let e = mag >> 23;
    let m = (mag & 0x7f_ffff) | 0x80_0000;
    let shift = 126 - e;
    let mut h = m >> shift;
    let rest = m & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    if rest > half || (rest == half && h & 1 == 1) {
        h += 1;
    }
    (sign | h) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_bits_round_as_the_half_crate_does() {
        let check = |x: f32| {
            let want = half::f16::from_f32(x);
            let got = f16_bits(x);
            if x.is_nan() {
                assert!(half::f16::from_bits(got).is_nan(), "{x:e}");
            } else {
                assert_eq!(got, want.to_bits(), "{x:e} ({:#010x})", x.to_bits());
            }
        };
        // Every 251st bit pattern (all exponents, signs and many mantissas) ...
        (0..=u32::MAX)
            .step_by(251)
            .for_each(|b| check(f32::from_bits(b)));
        // ... and the edges: ties, the largest half, overflow, the subnormal range.
        for x in [
            0.0,
            -0.0,
            65504.0,
            65519.99,
            65520.0,
            1e9,
            6.103_515_6e-5,
            5.960_464_5e-8,
            2.980_232_2e-8,
            2.980_233e-8,
            1.0 + 1.0 / 2048.0,
            1.0 + 3.0 / 2048.0,
            0.1,
            -2.5,
        ] {
            check(x);
            check(-x);
        }
    }

    #[test]
    fn the_yuv_constant_is_255_over_219_in_f32() {
        assert_eq!(1.164_383_5f32, 255.0f32 / 219.0);
    }

    #[test]
    fn taps_are_resample_rs_taps() {
        // Halving: output 1 of 3 reads source 2.5; enlarging clamps at both ends.
        assert_eq!(tap(1, 2.0, 6), (2, 3, 0.5));
        assert_eq!(tap(0, 0.5, 2), (0, 1, 0.0));
        assert_eq!(tap(1, 0.5, 2), (0, 1, 0.25));
        assert_eq!(tap(3, 0.5, 2), (1, 1, 0.0));
    }
}
