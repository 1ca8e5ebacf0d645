//! A decoded frame in one of the pixel formats vpl reads → checked planes, and one source
//! pixel as 8-bit RGB, read in the frame's own format.

use std::fmt;

/// The raw formats the fused preprocessing reads directly, so no `videoconvert` is needed
/// in front of a model: decoders hand out I420 or NV12, cameras and tests the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// Planar Y, U, V; chroma at half width and height.
    I420,
    /// Planar Y, then interleaved U/V at half width and height.
    Nv12,
    Rgb,
    Bgr,
    /// RGB with a fourth, unused byte per pixel.
    Rgbx,
    /// BGR with a fourth, unused byte per pixel.
    Bgrx,
    Gray8,
}

impl PixelFormat {
    /// The planes this format has, as (bytes per row, rows) for a `width` x `height` frame.
    pub(crate) fn plane_sizes(self, width: usize, height: usize) -> Vec<(usize, usize)> {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        match self {
            PixelFormat::I420 => vec![(width, height), (cw, ch), (cw, ch)],
            PixelFormat::Nv12 => vec![(width, height), (2 * cw, ch)],
            PixelFormat::Rgb | PixelFormat::Bgr => vec![(3 * width, height)],
            PixelFormat::Rgbx | PixelFormat::Bgrx => vec![(4 * width, height)],
            PixelFormat::Gray8 => vec![(width, height)],
        }
    }
}

/// One decoded picture, borrowed from wherever it lives (a GStreamer buffer, a test
/// vector): the planes and their strides, as `gst_video::VideoFrame` describes them.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Each plane starts at its first row; rows are `strides[i]` bytes apart.
    pub planes: Vec<&'a [u8]>,
    pub strides: Vec<usize>,
}

/// Why a frame, a configuration or an output buffer cannot be preprocessed.
#[derive(Debug, Clone, PartialEq)]
pub enum PreprocessError {
    /// The frame or the target has no pixels.
    Empty,
    /// The format needs `expected` planes (and strides); the frame has `got`.
    Planes { expected: usize, got: usize },
    /// A plane's stride is shorter than one row of pixels.
    Stride {
        plane: usize,
        stride: usize,
        row: usize,
    },
    /// A plane is shorter than its rows and strides need.
    PlaneTooShort {
        plane: usize,
        len: usize,
        needed: usize,
    },
    /// `mean` or `std` has neither 1 nor one value per channel, or a `std` is 0.
    Normalisation(String),
    /// The output buffer does not hold exactly one image.
    Output { expected: usize, got: usize },
}

impl fmt::Display for PreprocessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreprocessError::Empty => write!(f, "the frame or the model input has no pixels"),
            PreprocessError::Planes { expected, got } => write!(
                f,
                "the frame's format has {expected} planes but {got} planes or strides were given"
            ),
            PreprocessError::Stride { plane, stride, row } => write!(
                f,
                "plane {plane} has a stride of {stride} bytes, shorter than a row ({row} bytes)"
            ),
            PreprocessError::PlaneTooShort { plane, len, needed } => write!(
                f,
                "plane {plane} has {len} bytes but its rows need {needed}"
            ),
            PreprocessError::Normalisation(why) => write!(f, "bad normalisation: {why}"),
            PreprocessError::Output { expected, got } => write!(
                f,
                "the output buffer has {got} values but one image needs {expected}"
            ),
        }
    }
}

impl std::error::Error for PreprocessError {}

impl Frame<'_> {
    /// Checks that every plane the format needs is there and long enough, so reading any
    /// pixel afterwards stays in bounds.
    pub fn check(&self) -> Result<(), PreprocessError> {
        if self.width == 0 || self.height == 0 {
            return Err(PreprocessError::Empty);
        }
        let sizes = self
            .format
            .plane_sizes(self.width as usize, self.height as usize);
        let got = self.planes.len().min(self.strides.len());
        if got < sizes.len() {
            return Err(PreprocessError::Planes {
                expected: sizes.len(),
                got,
            });
        }
        for (plane, &(row, rows)) in sizes.iter().enumerate() {
            let stride = self.strides[plane];
            if stride < row {
                return Err(PreprocessError::Stride { plane, stride, row });
            }
            let needed = stride
                .checked_mul(rows - 1)
                .and_then(|n| n.checked_add(row))
                .unwrap_or(usize::MAX);
            let len = self.planes[plane].len();
            if len < needed {
                return Err(PreprocessError::PlaneTooShort { plane, len, needed });
            }
        }
        Ok(())
    }
}

/// Reads one source pixel as RGB in 0..=255 (whole numbers, as an 8-bit RGB frame would
/// hold). Only built from a frame that passed [`Frame::check`].
pub(super) trait Source {
    fn rgb(&self, x: usize, y: usize) -> [f32; 3];
}

/// BT.601 limited range ("studio swing") YUV → RGB, what GStreamer assumes for SD video
/// without colorimetry. Chroma is taken from the 2x2 block's sample (no chroma
/// interpolation), as `videoconvert`'s 8-bit path does.
#[inline]
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [f32; 3] {
    let y = (f32::from(y) - 16.0) * (255.0 / 219.0);
    let u = f32::from(u) - 128.0;
    let v = f32::from(v) - 128.0;
    let r = y + 1.596_027 * v;
    let g = y - 0.391_762 * u - 0.812_968 * v;
    let b = y + 2.017_232 * u;
    [quantise(r), quantise(g), quantise(b)]
}

/// Clamps to 0..=255 and rounds to the nearest whole value (half up). Truncating with
/// `as` instead of `floor()`, which is a library call on baseline x86-64.
#[inline]
fn quantise(v: f32) -> f32 {
    f32::from((v.clamp(0.0, 255.0) + 0.5) as u8)
}

pub(super) struct I420<'a> {
    planes: [&'a [u8]; 3],
    strides: [usize; 3],
}

impl Source for I420<'_> {
    #[inline]
    fn rgb(&self, x: usize, y: usize) -> [f32; 3] {
        let [ys, us, vs] = self.strides;
        let c = x / 2;
        yuv_to_rgb(
            self.planes[0][y * ys + x],
            self.planes[1][(y / 2) * us + c],
            self.planes[2][(y / 2) * vs + c],
        )
    }
}

pub(super) struct Nv12<'a> {
    luma: &'a [u8],
    chroma: &'a [u8],
    strides: [usize; 2],
}

impl Source for Nv12<'_> {
    #[inline]
    fn rgb(&self, x: usize, y: usize) -> [f32; 3] {
        let at = (y / 2) * self.strides[1] + (x / 2) * 2;
        yuv_to_rgb(
            self.luma[y * self.strides[0] + x],
            self.chroma[at],
            self.chroma[at + 1],
        )
    }
}

/// RGB, BGR, RGBx and BGRx: `bytes` per pixel, red at `r`, green at 1, blue at `2 - r`.
pub(super) struct Packed<'a> {
    data: &'a [u8],
    stride: usize,
    bytes: usize,
    r: usize,
}

impl Source for Packed<'_> {
    #[inline]
    fn rgb(&self, x: usize, y: usize) -> [f32; 3] {
        let at = y * self.stride + x * self.bytes;
        [
            f32::from(self.data[at + self.r]),
            f32::from(self.data[at + 1]),
            f32::from(self.data[at + 2 - self.r]),
        ]
    }
}

pub(super) struct Gray<'a> {
    data: &'a [u8],
    stride: usize,
}

impl Source for Gray<'_> {
    #[inline]
    fn rgb(&self, x: usize, y: usize) -> [f32; 3] {
        let v = f32::from(self.data[y * self.stride + x]);
        [v, v, v]
    }
}

/// The frame's reader, one type per format so the per-pixel loop is specialised.
pub(super) enum Reader<'a> {
    I420(I420<'a>),
    Nv12(Nv12<'a>),
    Packed(Packed<'a>),
    Gray(Gray<'a>),
}

impl<'a> Reader<'a> {
    /// The reader for a frame; checks the frame first.
    pub(super) fn new(frame: &Frame<'a>) -> Result<Self, PreprocessError> {
        frame.check()?;
        let p = &frame.planes;
        let s = &frame.strides;
        let packed = |bytes, r| {
            Reader::Packed(Packed {
                data: p[0],
                stride: s[0],
                bytes,
                r,
            })
        };
        Ok(match frame.format {
            PixelFormat::I420 => Reader::I420(I420 {
                planes: [p[0], p[1], p[2]],
                strides: [s[0], s[1], s[2]],
            }),
            PixelFormat::Nv12 => Reader::Nv12(Nv12 {
                luma: p[0],
                chroma: p[1],
                strides: [s[0], s[1]],
            }),
            PixelFormat::Rgb => packed(3, 0),
            PixelFormat::Bgr => packed(3, 2),
            PixelFormat::Rgbx => packed(4, 0),
            PixelFormat::Bgrx => packed(4, 2),
            PixelFormat::Gray8 => Reader::Gray(Gray {
                data: p[0],
                stride: s[0],
            }),
        })
    }
}
