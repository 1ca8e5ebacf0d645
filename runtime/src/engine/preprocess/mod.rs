//! A decoded frame + a model's input description → one image of the model's input tensor.
//!
//! Fused: one pass over the output tensor. Each output pixel is mapped back to the source
//! frame, the four source pixels around that point are read in the frame's own format
//! (YUV converted on the fly) and blended (bilinear), and the result is ordered, normalised
//! and written at its place in the layout. No RGB or resized image is made: the only
//! buffers are two resampled rows (see `resample.rs`).
//!
//! The geometry follows Ultralytics' `LetterBox` and OpenCV's `INTER_LINEAR` exactly
//! (half-pixel centres, borders clamped), so boxes agree with the Python tools;
//! `scripts/reference_detect.py` implements the same definitions in numpy.

#[cfg(test)]
mod fixed_height_tests;
mod frame;
mod resample;
#[cfg(test)]
mod tests;

use frame::Reader;
pub use frame::{Frame, PixelFormat, PreprocessError};
use resample::Resampler;

/// Where channels sit in the model's input tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[N, C, H, W]`: one plane per channel (PyTorch exports).
    Nchw,
    /// `[N, H, W, C]`: channels interleaved (TensorFlow exports).
    Nhwc,
}

/// The channels the model expects, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOrder {
    Rgb,
    /// OpenCV-trained models.
    Bgr,
    /// One channel: BT.601 luma of the RGB pixel (what OpenCV's `RGB2GRAY` computes).
    Gray,
    /// Four channels, the fourth opaque (255 before normalisation): RGBA/RGBX models.
    Rgbx,
    Bgrx,
}

impl ChannelOrder {
    /// How many channels one pixel has in the tensor.
    pub fn channels(self) -> usize {
        match self {
            ChannelOrder::Rgb | ChannelOrder::Bgr => 3,
            ChannelOrder::Gray => 1,
            ChannelOrder::Rgbx | ChannelOrder::Bgrx => 4,
        }
    }
}

/// How a frame of another shape is fitted into the model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resize {
    /// Keep the aspect ratio, centre the picture and pad with grey [`PAD_VALUE`] (YOLO).
    Letterbox,
    /// Scale each axis independently to fill the input (most classifiers).
    Stretch,
    /// Text recognisers (PaddleOCR's `resize_norm_img`): the picture fills the input's
    /// height and keeps its aspect, `ceil(height * w / h)` wide but at most the input's
    /// width, at the left; the columns right of it are 0 after normalisation.
    FixedHeight,
}

/// The fourth channel of an RGBX model: frames have no alpha, so every pixel is opaque.
const OPAQUE: f32 = 255.0;

/// The grey Ultralytics pads letterboxed images with, before normalisation.
pub const PAD_VALUE: u8 = 114;

/// What one model input image looks like; built once per model from the compiler's
/// `Preprocess`.
#[derive(Debug, Clone, PartialEq)]
pub struct PreprocessConfig {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub order: ChannelOrder,
    pub resize: Resize,
    /// `value = (pixel * scale - mean[c]) / std[c]`, pixel in 0..=255.
    pub scale: f32,
    /// One value per channel, or one for all; empty means 0.
    pub mean: Vec<f32>,
    /// One value per channel, or one for all; empty means 1.
    pub std: Vec<f32>,
}

impl PreprocessConfig {
    /// How many values one image takes in the tensor: width x height x channels.
    pub fn values(&self) -> usize {
        (self.width as usize)
            .saturating_mul(self.height as usize)
            .saturating_mul(self.order.channels())
    }

    /// The shape of one image in the tensor, without the batch: `[C, H, W]` or `[H, W, C]`.
    pub fn image_dims(&self) -> Vec<usize> {
        let (h, w, c) = (
            self.height as usize,
            self.width as usize,
            self.order.channels(),
        );
        match self.layout {
            Layout::Nchw => vec![c, h, w],
            Layout::Nhwc => vec![h, w, c],
        }
    }
}

/// How source-frame pixels map into the model input: `model = source * scale + pad`
/// (continuous coordinates, pixel edges at whole numbers). Decoders use it to bring boxes
/// back to the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    pub scale_x: f32,
    pub scale_y: f32,
    pub pad_x: f32,
    pub pad_y: f32,
}

impl Letterbox {
    /// No resize and no padding: model-input pixels are source-frame pixels.
    pub const IDENTITY: Letterbox = Letterbox {
        scale_x: 1.0,
        scale_y: 1.0,
        pad_x: 0.0,
        pad_y: 0.0,
    };

    /// The mapping `preprocess` uses for a `source` (width, height) frame fitted into a
    /// `target` (width, height) input.
    pub fn new(source: (u32, u32), target: (u32, u32), resize: Resize) -> Letterbox {
        Placement::new(source, target, resize).letterbox(source)
    }

    /// A model-input point → the source-frame point it came from.
    pub fn to_source(&self, x: f32, y: f32) -> (f32, f32) {
        (
            (x - self.pad_x) / self.scale_x,
            (y - self.pad_y) / self.scale_y,
        )
    }

    /// A source-frame point → where it lands in the model input.
    pub fn to_model(&self, x: f32, y: f32) -> (f32, f32) {
        (x * self.scale_x + self.pad_x, y * self.scale_y + self.pad_y)
    }
}

/// Where the resized picture sits in the target, in whole pixels. Shared with the GPU
/// path (`gpu::FrameDescriptor`), so both place a frame alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    pub(crate) x: usize,
    pub(crate) y: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl Placement {
    /// Ultralytics' `LetterBox(auto=False, center=True)`: ratio `min(tw/sw, th/sh)`, size
    /// rounded half to even (Python's `round`), padding split with the odd pixel at the
    /// bottom/right.
    pub(crate) fn new(source: (u32, u32), target: (u32, u32), resize: Resize) -> Placement {
        let (sw, sh) = (f64::from(source.0.max(1)), f64::from(source.1.max(1)));
        let (tw, th) = (target.0.max(1) as usize, target.1.max(1) as usize);
        match resize {
            Resize::Stretch => Placement {
                x: 0,
                y: 0,
                width: tw,
                height: th,
            },
            Resize::FixedHeight => {
                let width = ((th as f64 * sw / sh).ceil() as usize).clamp(1, tw);
                Placement {
                    x: 0,
                    y: 0,
                    width,
                    height: th,
                }
            }
            Resize::Letterbox => {
                let ratio = (tw as f64 / sw).min(th as f64 / sh);
                let width = ((sw * ratio).round_ties_even() as usize).clamp(1, tw);
                let height = ((sh * ratio).round_ties_even() as usize).clamp(1, th);
                Placement {
                    x: (tw - width) / 2,
                    y: (th - height) / 2,
                    width,
                    height,
                }
            }
        }
    }

    pub(crate) fn letterbox(&self, source: (u32, u32)) -> Letterbox {
        Letterbox {
            scale_x: self.width as f32 / source.0.max(1) as f32,
            scale_y: self.height as f32 / source.1.max(1) as f32,
            pad_x: self.x as f32,
            pad_y: self.y as f32,
        }
    }
}

/// Writes one image of `config`'s shape into `out` (`C*H*W` values for NCHW, `H*W*C` for
/// NHWC) and returns how source points map into it.
///
/// Never panics: on a frame, configuration or buffer that [`try_preprocess`] refuses it
/// fills `out` with zeros (an empty picture, so no stale detections). Use `try_preprocess`
/// where the frame comes from outside and the reason matters.
pub fn preprocess(frame: &Frame, config: &PreprocessConfig, out: &mut [f32]) -> Letterbox {
    try_preprocess(frame, config, out).unwrap_or_else(|_| {
        out.fill(0.0);
        fallback(frame, config)
    })
}

/// [`preprocess`] for models with `uint8` inputs: raw 0..=255 values, no normalisation.
pub fn preprocess_u8(frame: &Frame, config: &PreprocessConfig, out: &mut [u8]) -> Letterbox {
    try_preprocess_u8(frame, config, out).unwrap_or_else(|_| {
        out.fill(0);
        fallback(frame, config)
    })
}

fn fallback(frame: &Frame, config: &PreprocessConfig) -> Letterbox {
    Letterbox::new(
        (frame.width, frame.height),
        (config.width, config.height),
        config.resize,
    )
}

/// [`preprocess`] that says why it cannot run.
pub fn try_preprocess(
    frame: &Frame,
    config: &PreprocessConfig,
    out: &mut [f32],
) -> Result<Letterbox, PreprocessError> {
    let (mul, add) = normalisation_n::<4>(config)?;
    let letterbox = run(frame, config, out.len(), |out_index, channel, value| {
        out[out_index] = value * mul[channel] + add[channel];
    })?;
    zero_right(frame, config, out, 0.0);
    Ok(letterbox)
}

/// `Resize::FixedHeight`: the columns right of the picture become `zero` (PaddleOCR pads
/// after normalisation); other resizes keep their grey padding.
fn zero_right<T: Copy>(frame: &Frame, config: &PreprocessConfig, out: &mut [T], zero: T) {
    if config.resize != Resize::FixedHeight {
        return;
    }
    let target = (config.width, config.height);
    let place = Placement::new((frame.width, frame.height), target, config.resize);
    let (width, height) = (config.width as usize, config.height as usize);
    let channels = config.order.channels();
    if place.width >= width || out.len() < width * height * channels {
        return;
    }
    match config.layout {
        Layout::Nchw => {
            for row in out.chunks_exact_mut(width) {
                row[place.width..].fill(zero);
            }
        }
        Layout::Nhwc => {
            for row in out.chunks_exact_mut(width * channels) {
                row[place.width * channels..].fill(zero);
            }
        }
    }
}

/// [`preprocess_u8`] that says why it cannot run.
pub fn try_preprocess_u8(
    frame: &Frame,
    config: &PreprocessConfig,
    out: &mut [u8],
) -> Result<Letterbox, PreprocessError> {
    let letterbox = run(frame, config, out.len(), |out_index, _, value| {
        out[out_index] = (value + 0.5) as u8;
    })?;
    zero_right(frame, config, out, 0);
    Ok(letterbox)
}

/// `(scale / std, -mean / std)` per channel, so each value costs one multiply-add. Shared
/// with the GPU path (`gpu::TensorParams`).
pub(crate) fn normalisation(
    config: &PreprocessConfig,
) -> Result<([f32; 3], [f32; 3]), PreprocessError> {
    normalisation_n::<3>(config)
}

/// [`normalisation`] for up to `N` channels (4 on the CPU: RGBX models).
fn normalisation_n<const N: usize>(
    config: &PreprocessConfig,
) -> Result<([f32; N], [f32; N]), PreprocessError> {
    let channels = config.order.channels();
    if channels > N {
        return Err(PreprocessError::Normalisation(format!(
            "{channels} channels, this path feeds at most {N}"
        )));
    }
    let pick = |values: &[f32], name: &str, default: f32| -> Result<[f32; N], PreprocessError> {
        match values.len() {
            0 => Ok([default; N]),
            1 => Ok([values[0]; N]),
            n if n == channels => Ok(std::array::from_fn(|c| values[c.min(n - 1)])),
            n => Err(PreprocessError::Normalisation(format!(
                "{name} has {n} values for {channels} channels"
            ))),
        }
    };
    let mean = pick(&config.mean, "mean", 0.0)?;
    let std = pick(&config.std, "std", 1.0)?;
    if std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
        return Err(PreprocessError::Normalisation(
            "std must be finite and non-zero".into(),
        ));
    }
    Ok((
        std::array::from_fn(|c| config.scale / std[c]),
        std::array::from_fn(|c| -mean[c] / std[c]),
    ))
}

/// The shared pass: checks everything, then calls `write(index, channel, value)` once per
/// tensor value with `value` in 0..=255.
fn run(
    frame: &Frame,
    config: &PreprocessConfig,
    out_len: usize,
    mut write: impl FnMut(usize, usize, f32),
) -> Result<Letterbox, PreprocessError> {
    let reader = Reader::new(frame)?;
    let (width, height) = (config.width as usize, config.height as usize);
    if width == 0 || height == 0 {
        return Err(PreprocessError::Empty);
    }
    let expected = config.values();
    if out_len != expected {
        return Err(PreprocessError::Output {
            expected,
            got: out_len,
        });
    }
    let source = (frame.width, frame.height);
    let place = Placement::new(source, (config.width, config.height), config.resize);
    let resampler = Resampler::new(
        (width, height),
        (place.x, place.y, place.width, place.height),
        (frame.width as usize, frame.height as usize),
    );

    let channels = config.order.channels();
    let (pixel_step, channel_step) = match config.layout {
        Layout::Nchw => (1, width * height),
        Layout::Nhwc => (channels, 1),
    };
    let order = config.order;
    let mut put = |pixel: usize, [r, g, b]: [f32; 3]| {
        let base = pixel * pixel_step;
        match order {
            ChannelOrder::Rgb => {
                write(base, 0, r);
                write(base + channel_step, 1, g);
                write(base + 2 * channel_step, 2, b);
            }
            ChannelOrder::Bgr => {
                write(base, 0, b);
                write(base + channel_step, 1, g);
                write(base + 2 * channel_step, 2, r);
            }
            ChannelOrder::Gray => write(base, 0, 0.299 * r + 0.587 * g + 0.114 * b),
            ChannelOrder::Rgbx | ChannelOrder::Bgrx => {
                let (first, last) = if order == ChannelOrder::Rgbx {
                    (r, b)
                } else {
                    (b, r)
                };
                write(base, 0, first);
                write(base + channel_step, 1, g);
                write(base + 2 * channel_step, 2, last);
                write(base + 3 * channel_step, 3, OPAQUE);
            }
        }
    };
    match &reader {
        Reader::I420(s) => resampler.fill(s, &mut put),
        Reader::Nv12(s) => resampler.fill(s, &mut put),
        Reader::Packed(s) => resampler.fill(s, &mut put),
        Reader::Gray(s) => resampler.fill(s, &mut put),
    }
    Ok(place.letterbox(source))
}
