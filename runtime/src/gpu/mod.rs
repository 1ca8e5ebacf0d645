//! Preprocessing on the GPU: a batch of decoded frames → one model input tensor in device
//! memory, in one launch of a CUDA kernel.
//!
//! The kernels are CUDA C (`kernels/*.cu`), compiled at start by NVRTC (`nvrtc`, loaded at
//! run time, PTX cached by content hash). Each has a CPU twin in `reference`, written line
//! by line after it, that builds and is tested everywhere: against the CPU preprocessor
//! (`engine::preprocess`) and, on a GPU, against the kernel itself. `launch` (feature `gpu`)
//! holds the CUDA context, loads the module and launches.
//!
//! What the host computes for each frame (here, shared by the kernel and the reference) is
//! a [`FrameDescriptor`]: where the planes are, their strides, and the frame's placement in
//! the model input. The placement is `engine::preprocess`'s own, so the [`Letterbox`] that
//! goes with the frame maps boxes back exactly as on the CPU.

#[cfg(feature = "gpu")]
pub mod launch;
pub mod nvrtc;
pub mod reference;

use crate::engine::preprocess::{
    ChannelOrder, Layout, Letterbox, PixelFormat, Placement, PreprocessConfig, PreprocessError,
    normalisation,
};

/// One CUDA C source and the kernels (`extern "C" __global__` functions) it defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSource {
    /// A short name, used in the PTX cache's file names and in errors.
    pub name: &'static str,
    pub source: &'static str,
    pub functions: &'static [&'static str],
}

/// The preprocessing kernel: frames → letterbox or stretch → channel order → scale, mean,
/// std → NCHW or NHWC, f32, f16 or u8.
pub const PREPROCESS: KernelSource = KernelSource {
    name: "preprocess",
    source: include_str!("kernels/preprocess.cu"),
    functions: &[PREPROCESS_FUNCTION],
};

/// The kernel function of [`PREPROCESS`].
pub const PREPROCESS_FUNCTION: &str = "vpl_preprocess";

/// Every kernel vpl ships; CI compiles each for every architecture in [`CI_ARCHITECTURES`].
pub const KERNELS: &[KernelSource] = &[PREPROCESS];

/// The architectures CI compiles the kernels for: A100 (sm_80) and H100/H200 (sm_90).
pub const CI_ARCHITECTURES: &[&str] = &["sm_80", "sm_90"];

/// The NVRTC options every kernel is compiled with. `--fmad=false`: no multiply-add is
/// fused, so the kernel's rounding is the reference's (Rust never fuses).
pub const NVRTC_OPTIONS: &[&str] = &["--fmad=false", "--std=c++17"];

/// The element type of the model input tensor the kernel writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    F32,
    /// IEEE half, rounded to nearest even from the f32 value.
    F16,
    /// Raw 0..=255 values, no normalisation (as `preprocess_u8`).
    U8,
}

impl OutputType {
    /// Bytes per value.
    pub fn bytes(self) -> usize {
        match self {
            OutputType::F32 => 4,
            OutputType::F16 => 2,
            OutputType::U8 => 1,
        }
    }

    fn code(self) -> u32 {
        match self {
            OutputType::F32 => 0,
            OutputType::F16 => 1,
            OutputType::U8 => 2,
        }
    }
}

/// The size of one [`FrameDescriptor`] in device memory (`struct VplFrame`; the kernel
/// source asserts the same size and offsets).
pub const FRAME_DESCRIPTOR_BYTES: usize = 88;

/// What the kernel needs to know about one frame of the batch (`struct VplFrame`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameDescriptor {
    /// Device addresses of the planes' first rows; unused planes are 0.
    pub planes: [u64; 3],
    pub strides: [u32; 3],
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Source size / placed size per axis, as OpenCV's `INTER_LINEAR` computes it.
    pub ratio_x: f64,
    pub ratio_y: f64,
    /// The picture's left, top, width and height in the model input.
    pub place: [u32; 4],
}

impl FrameDescriptor {
    /// The descriptor of a `width` x `height` frame of `format` whose planes start at
    /// `planes` with `strides`, fitted into `config`'s input; and how its points map into
    /// that input. Checks the geometry (sizes, plane count, strides) but not the memory
    /// behind the addresses: that is the launcher's caller's promise.
    pub fn new(
        format: PixelFormat,
        (width, height): (u32, u32),
        planes: [u64; 3],
        strides: &[usize],
        config: &PreprocessConfig,
    ) -> Result<(FrameDescriptor, Letterbox), PreprocessError> {
        if width == 0 || height == 0 || config.width == 0 || config.height == 0 {
            return Err(PreprocessError::Empty);
        }
        let rows = format.plane_sizes(width as usize, height as usize);
        if strides.len() < rows.len() {
            return Err(PreprocessError::Planes {
                expected: rows.len(),
                got: strides.len(),
            });
        }
        let mut fixed = [0u32; 3];
        for (plane, &(row, _)) in rows.iter().enumerate() {
            let stride = strides[plane];
            if stride < row || u32::try_from(stride).is_err() {
                return Err(PreprocessError::Stride { plane, stride, row });
            }
            fixed[plane] = stride as u32;
        }
        let source = (width, height);
        let place = Placement::new(source, (config.width, config.height), config.resize);
        let descriptor = FrameDescriptor {
            planes,
            strides: fixed,
            format,
            width,
            height,
            ratio_x: f64::from(width) / place.width as f64,
            ratio_y: f64::from(height) / place.height as f64,
            place: [place.x, place.y, place.width, place.height].map(|v| v as u32),
        };
        Ok((descriptor, place.letterbox(source)))
    }

    /// The descriptor as the kernel reads it: `struct VplFrame`, little-endian.
    pub fn to_bytes(&self) -> [u8; FRAME_DESCRIPTOR_BYTES] {
        let mut bytes = [0u8; FRAME_DESCRIPTOR_BYTES];
        let mut at = 0;
        let mut put = |field: &[u8]| {
            bytes[at..at + field.len()].copy_from_slice(field);
            at += field.len();
        };
        self.planes.iter().for_each(|p| put(&p.to_le_bytes()));
        put(&self.ratio_x.to_le_bytes());
        put(&self.ratio_y.to_le_bytes());
        self.strides.iter().for_each(|s| put(&s.to_le_bytes()));
        put(&format_code(self.format).to_le_bytes());
        put(&self.width.to_le_bytes());
        put(&self.height.to_le_bytes());
        self.place.iter().for_each(|p| put(&p.to_le_bytes()));
        bytes
    }
}

/// `VPL_I420` … in the kernel source.
fn format_code(format: PixelFormat) -> u32 {
    match format {
        PixelFormat::I420 => 0,
        PixelFormat::Nv12 => 1,
        PixelFormat::Rgb => 2,
        PixelFormat::Bgr => 3,
        PixelFormat::Rgbx => 4,
        PixelFormat::Bgrx => 5,
        PixelFormat::Gray8 => 6,
    }
}

/// The launch's batch-wide parameters, in the kernel's order after the frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorParams {
    pub width: u32,
    pub height: u32,
    pub layout: u32,
    pub order: u32,
    pub dtype: u32,
    /// `scale / std` per channel.
    pub mul: [f32; 3],
    /// `-mean / std` per channel.
    pub add: [f32; 3],
    /// Values per image (width x height x channels).
    pub values: usize,
}

impl TensorParams {
    /// The parameters for `config` and `dtype`; the normalisation is the CPU's own.
    pub fn new(config: &PreprocessConfig, dtype: OutputType) -> Result<Self, PreprocessError> {
        if config.width == 0 || config.height == 0 {
            return Err(PreprocessError::Empty);
        }
        let (mul, add) = normalisation(config)?;
        Ok(TensorParams {
            width: config.width,
            height: config.height,
            layout: match config.layout {
                Layout::Nchw => 0,
                Layout::Nhwc => 1,
            },
            order: match config.order {
                ChannelOrder::Rgb => 0,
                ChannelOrder::Bgr => 1,
                ChannelOrder::Gray => 2,
                // The kernel writes 1 or 3 channels; normalisation above refused 4.
                ChannelOrder::Rgbx | ChannelOrder::Bgrx => {
                    return Err(PreprocessError::Normalisation(
                        "the GPU kernel feeds 1 or 3 channels".into(),
                    ));
                }
            },
            dtype: dtype.code(),
            mul,
            add,
            values: config.values(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::preprocess::Resize;

    fn config() -> PreprocessConfig {
        PreprocessConfig {
            width: 640,
            height: 640,
            layout: Layout::Nchw,
            order: ChannelOrder::Rgb,
            resize: Resize::Letterbox,
            scale: 1.0 / 255.0,
            mean: vec![],
            std: vec![],
        }
    }

    #[test]
    fn descriptor_bytes_follow_struct_vplframe() {
        let (d, letterbox) = FrameDescriptor::new(
            PixelFormat::Nv12,
            (768, 576),
            [0x1000, 0x2000, 0],
            &[1024, 1024],
            &config(),
        )
        .expect("valid frame");
        assert_eq!(d.place, [0, 80, 640, 480]);
        assert_eq!((letterbox.pad_x, letterbox.pad_y), (0.0, 80.0));
        let bytes = d.to_bytes();
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        assert_eq!(bytes[8..16], 0x2000u64.to_le_bytes());
        assert_eq!(bytes[24..32], (768.0f64 / 640.0).to_le_bytes());
        assert_eq!((word(40), word(44), word(48)), (1024, 1024, 0));
        assert_eq!((word(52), word(56), word(60)), (1, 768, 576));
        assert_eq!((word(64), word(68), word(72), word(76)), (0, 80, 640, 480));
        assert_eq!(bytes[80..], [0; 8]);
    }

    #[test]
    fn bad_geometry_is_refused() {
        let refused = |format, size, strides: &[usize]| {
            FrameDescriptor::new(format, size, [0; 3], strides, &config()).is_err()
        };
        assert!(refused(PixelFormat::I420, (0, 10), &[10, 5, 5]));
        assert!(refused(PixelFormat::I420, (10, 10), &[10, 5]));
        assert!(refused(PixelFormat::Rgb, (10, 10), &[29]));
        assert!(!refused(PixelFormat::Rgb, (10, 10), &[30]));
    }
}
