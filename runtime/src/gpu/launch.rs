//! A batch of frame descriptors + the model input's parameters → the batch tensor in device
//! memory, by one launch of `vpl_preprocess` (feature `gpu`).
//!
//! The driver is probed before any context is made (cudarc would panic on a machine
//! without `libcuda.so`); the kernel is compiled by NVRTC for the device's architecture
//! (through the PTX cache) and loaded into the context. Frames already in device memory
//! (nvcodec's `CUDAMemory`, mapped with the CUDA flag) are launched on directly
//! ([`Preprocessor::launch`]); frames in host memory are uploaded once, at 1 to 4 bytes a
//! pixel, by [`Preprocessor::run`], instead of building the f32 tensor on the CPU.

#![allow(unsafe_code)] // the driver probe and the kernel launch: foreign calls on raw pointers

use std::fmt;
use std::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, DriverError, LaunchConfig,
    PushKernelArg,
};

use super::nvrtc::{KernelCache, NvrtcError};
use super::{FrameDescriptor, OutputType, PREPROCESS, PREPROCESS_FUNCTION, TensorParams};
use crate::engine::preprocess::{Frame, Letterbox, PreprocessConfig, PreprocessError};

/// Why the GPU preprocessor cannot start or run.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuError {
    /// No CUDA driver library (`libcuda.so`) on this machine.
    NoDriver,
    /// The driver is there but has no device `ordinal` (it has `count`).
    NoDevice {
        ordinal: usize,
        count: usize,
    },
    /// A CUDA driver call failed.
    Driver(String),
    Nvrtc(NvrtcError),
    Frame(PreprocessError),
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoDriver => write!(f, "no CUDA driver (libcuda.so) on this machine"),
            GpuError::NoDevice { ordinal, count } => {
                write!(f, "no CUDA device {ordinal}: the driver sees {count}")
            }
            GpuError::Driver(e) => write!(f, "CUDA driver error: {e}"),
            GpuError::Nvrtc(e) => e.fmt(f),
            GpuError::Frame(e) => write!(f, "cannot preprocess the frame: {e}"),
        }
    }
}

impl std::error::Error for GpuError {}

impl From<DriverError> for GpuError {
    fn from(e: DriverError) -> Self {
        GpuError::Driver(e.to_string())
    }
}

impl From<NvrtcError> for GpuError {
    fn from(e: NvrtcError) -> Self {
        GpuError::Nvrtc(e)
    }
}

impl From<PreprocessError> for GpuError {
    fn from(e: PreprocessError) -> Self {
        GpuError::Frame(e)
    }
}

/// How many CUDA devices the driver sees; [`GpuError::NoDriver`] where there is no driver
/// library. Safe to call on any machine.
pub fn probe_driver() -> Result<usize, GpuError> {
    // SAFETY: only tries to open libcuda.so by its usual names.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(GpuError::NoDriver);
    }
    let count = CudaContext::device_count()?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// The architecture to compile for: the device's own where NVRTC knows it, else the
/// newest older one (PTX runs on later GPUs).
pub fn architecture((major, minor): (i32, i32)) -> &'static str {
    const KNOWN: &[((i32, i32), &str)] = &[
        ((7, 5), "sm_75"),
        ((8, 0), "sm_80"),
        ((8, 6), "sm_86"),
        ((8, 7), "sm_87"),
        ((8, 9), "sm_89"),
        ((9, 0), "sm_90"),
        ((10, 0), "sm_100"),
        ((12, 0), "sm_120"),
    ];
    KNOWN
        .iter()
        .rev()
        .find(|(cc, _)| *cc <= (major, minor))
        .map_or("sm_75", |(_, arch)| arch)
}

/// The kernel loaded in one device's context, with the stream it launches on.
pub struct Preprocessor {
    context: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    function: CudaFunction,
    arch: &'static str,
}

impl Preprocessor {
    /// Probes the driver, makes a context on device `ordinal`, compiles (or takes from
    /// `cache`) the kernel for its architecture and loads it. NVRTC must be loaded
    /// ([`super::nvrtc::load`]).
    pub fn new(ordinal: usize, cache: &KernelCache) -> Result<Preprocessor, GpuError> {
        let count = probe_driver()?;
        if ordinal >= count {
            return Err(GpuError::NoDevice { ordinal, count });
        }
        let context = CudaContext::new(ordinal)?;
        Preprocessor::in_context(context, cache)
    }

    /// As [`Preprocessor::new`] in an existing context (nvcodec's, so that its frames can be
    /// read where they are).
    pub fn in_context(
        context: Arc<CudaContext>,
        cache: &KernelCache,
    ) -> Result<Preprocessor, GpuError> {
        let arch = architecture(context.compute_capability()?);
        let ptx = cache.ptx(&PREPROCESS, arch)?;
        let module = context.load_module(cudarc::nvrtc::Ptx::from_src(ptx))?;
        let function = module.load_function(PREPROCESS_FUNCTION)?;
        let stream = context.default_stream();
        Ok(Preprocessor {
            context,
            stream,
            function,
            arch,
        })
    }

    pub fn context(&self) -> &Arc<CudaContext> {
        &self.context
    }

    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// The architecture the kernel was compiled for.
    pub fn arch(&self) -> &'static str {
        self.arch
    }

    /// One launch for the whole batch: image `n` of the tensor at device address `out`
    /// from `frames[n]`. Asynchronous on [`Preprocessor::stream`].
    ///
    /// # Safety
    /// Every plane address in `frames` must point to device memory of this context holding
    /// the rows its stride and the frame's height need, and `out` to at least
    /// `frames.len() * params.values` values of `params`' type, until the stream has run.
    pub unsafe fn launch(
        &self,
        frames: &[FrameDescriptor],
        params: &TensorParams,
        out: u64,
    ) -> Result<(), GpuError> {
        if frames.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = frames.iter().flat_map(|f| f.to_bytes()).collect();
        let descriptors = self.stream.clone_htod(&bytes)?;
        let count = u32::try_from(frames.len()).map_err(|_| {
            GpuError::Frame(PreprocessError::Output {
                expected: u32::MAX as usize,
                got: frames.len(),
            })
        })?;
        const BLOCK: u32 = 16;
        let config = LaunchConfig {
            grid_dim: (
                params.width.div_ceil(BLOCK),
                params.height.div_ceil(BLOCK),
                count,
            ),
            block_dim: (BLOCK, BLOCK, 1),
            shared_mem_bytes: 0,
        };
        let [mul0, mul1, mul2] = params.mul;
        let [add0, add1, add2] = params.add;
        let mut builder = self.stream.launch_builder(&self.function);
        builder
            .arg(&descriptors)
            .arg(&count)
            .arg(&out)
            .arg(&params.width)
            .arg(&params.height)
            .arg(&params.layout)
            .arg(&params.order)
            .arg(&params.dtype)
            .arg(&mul0)
            .arg(&mul1)
            .arg(&mul2)
            .arg(&add0)
            .arg(&add1)
            .arg(&add2);
        // SAFETY: the arguments match vpl_preprocess's parameters in number, order and
        // size; the memory they address is the caller's promise (above).
        unsafe { builder.launch(config) }?;
        Ok(())
    }

    /// Uploads host frames (each plane once, as it is) and preprocesses them into a new
    /// device tensor of `dtype`; returns the tensor (`frames.len()` images) and each
    /// frame's letterbox.
    pub fn run(
        &self,
        frames: &[Frame<'_>],
        config: &PreprocessConfig,
        dtype: OutputType,
    ) -> Result<(CudaSlice<u8>, Vec<Letterbox>), GpuError> {
        let params = TensorParams::new(config, dtype)?;
        let mut uploads = Vec::new();
        let mut descriptors = Vec::new();
        let mut letterboxes = Vec::new();
        for frame in frames {
            frame.check()?;
            let mut planes = [0u64; 3];
            for (slot, plane) in planes.iter_mut().zip(&frame.planes) {
                let slice = self.stream.clone_htod(*plane)?;
                *slot = slice.device_ptr(&self.stream).0;
                uploads.push(slice);
            }
            let (descriptor, letterbox) = FrameDescriptor::new(
                frame.format,
                (frame.width, frame.height),
                planes,
                &frame.strides,
                config,
            )?;
            descriptors.push(descriptor);
            letterboxes.push(letterbox);
        }
        let len = params.values * frames.len() * dtype.bytes();
        let tensor = self.stream.alloc_zeros::<u8>(len.max(1))?;
        let out = tensor.device_ptr(&self.stream).0;
        // SAFETY: the planes were uploaded whole from frames that passed `check`, and the
        // tensor holds every image; both outlive the stream's work (synchronised below).
        unsafe { self.launch(&descriptors, &params, out) }?;
        self.stream.synchronize()?;
        drop(uploads);
        Ok((tensor, letterboxes))
    }

    /// A device tensor back into host memory.
    pub fn download(&self, tensor: &CudaSlice<u8>) -> Result<Vec<u8>, GpuError> {
        Ok(self.stream.clone_dtoh(tensor)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_architecture_is_the_newest_known_not_above_the_device() {
        assert_eq!(architecture((9, 0)), "sm_90");
        assert_eq!(architecture((8, 0)), "sm_80");
        assert_eq!(architecture((8, 8)), "sm_87");
        assert_eq!(architecture((13, 0)), "sm_120");
        assert_eq!(architecture((6, 1)), "sm_75");
    }
}
