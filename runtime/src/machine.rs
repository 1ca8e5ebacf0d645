//! What this machine offers a plan, asked at start: the CUDA driver and its first GPU,
//! which of nvcodec's GPU elements GStreamer has, and whether this build runs models on a
//! GPU. The answers are plain data; the command line turns them into a lowering `Target`.

// The CUDA driver is a C library opened at run time (no CUDA is needed to build vpl); its
// four calls below are the only foreign code here.
#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::ffi::{c_char, c_int};

use gstreamer as gst;

/// A GPU the CUDA driver reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    /// The CUDA ordinal vpl uses (the first device the driver lists).
    pub index: u32,
    /// The driver's name for it (`NVIDIA H200`).
    pub name: String,
    /// Devices the driver reports in all.
    pub count: u32,
}

/// Whether this build of vpl runs models on a GPU (the `gpu` feature: ONNX Runtime's CUDA
/// and TensorRT execution providers).
pub const fn gpu_inference_built() -> bool {
    cfg!(feature = "gpu")
}

/// The first GPU of the CUDA driver, or why there is none usable: the driver library does
/// not load, does not start, or reports no device. Opening the library is all this costs:
/// no context is created.
pub fn probe_gpu() -> Result<Gpu, String> {
    let library = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"]
        .into_iter()
        // SAFETY: loading the CUDA driver runs its initialisers, which have no
        // preconditions; it is the library every CUDA program loads.
        .find_map(|name| unsafe { libloading::Library::new(name) }.ok())
        .ok_or_else(|| "no CUDA driver (libcuda.so.1 does not load)".to_string())?;
    type Init = unsafe extern "C" fn(u32) -> c_int;
    type Count = unsafe extern "C" fn(*mut c_int) -> c_int;
    type Device = unsafe extern "C" fn(*mut c_int, c_int) -> c_int;
    type Name = unsafe extern "C" fn(*mut c_char, c_int, c_int) -> c_int;
    let missing = |e: libloading::Error| format!("the CUDA driver lacks a function: {e}");
    // SAFETY: the types are those of the CUDA driver API's declarations (cuda.h): CUresult
    // is a C enum (int), CUdevice an int.
    let (init, count, device, name) = unsafe {
        (
            library.get::<Init>("cuInit").map_err(missing)?,
            library.get::<Count>("cuDeviceGetCount").map_err(missing)?,
            library.get::<Device>("cuDeviceGet").map_err(missing)?,
            library.get::<Name>("cuDeviceGetName").map_err(missing)?,
        )
    };
    // SAFETY: cuInit takes flags (0 is the only value); the out-pointers point at live
    // locals and the name buffer's length is passed with it.
    unsafe {
        let status = init(0);
        if status != 0 {
            return Err(format!(
                "the CUDA driver does not start (cuInit: error {status}{})",
                if status == 100 {
                    ", no CUDA device"
                } else {
                    ""
                }
            ));
        }
        let mut devices: c_int = 0;
        let status = count(&mut devices);
        if status != 0 || devices <= 0 {
            return Err("the CUDA driver reports no device".into());
        }
        let mut handle: c_int = 0;
        if device(&mut handle, 0) != 0 {
            return Err("the CUDA driver does not open device 0".into());
        }
        let mut buffer = [0 as c_char; 256];
        let name = if name(buffer.as_mut_ptr(), buffer.len() as c_int, handle) == 0 {
            let bytes: Vec<u8> = buffer
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| *b as u8)
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            "an unnamed GPU".into()
        };
        Ok(Gpu {
            index: 0,
            name,
            count: devices as u32,
        })
    }
}

/// Which of `factories` GStreamer's registry has here. nvcodec registers its decoders and
/// encoders only for what the machine's GPU can do, so `nvh264enc` is absent on an H200.
pub fn elements_present<'a>(factories: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    if gst::init().is_err() {
        return BTreeSet::new();
    }
    factories
        .into_iter()
        .filter(|f| gst::ElementFactory::find(f).is_some())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_asked_element_by_element() {
        let found = elements_present(["videoconvert", "no-such-element-vpl"]);
        assert!(found.contains("videoconvert"), "{found:?}");
        assert!(!found.contains("no-such-element-vpl"));
    }

    #[test]
    fn the_probe_answers_without_panicking() {
        // No GPU in CI: an explanation. On a GPU machine: a named device.
        match probe_gpu() {
            Ok(gpu) => assert!(gpu.count >= 1 && !gpu.name.is_empty()),
            Err(reason) => assert!(reason.contains("CUDA"), "{reason}"),
        }
    }
}
