//! What the machine a plan runs on offers lowering: whether it lowers for a GPU, and which
//! of the GPU's GStreamer elements exist there. The compiler does no IO, so the command
//! line asks the GStreamer registry and the CUDA driver, and passes the answer in as data;
//! tests pass any set they like.

use std::collections::BTreeSet;

use crate::media;

/// The element that copies a decoded frame from CUDA memory to the host (nvcodec).
pub const CUDA_DOWNLOAD: &str = "cudadownload";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Lower for a GPU backend: decode and encode with nvcodec's elements where they exist.
    pub gpu: bool,
    /// The GPU elements (of [`gpu_elements`]) that exist on the machine.
    pub elements: BTreeSet<String>,
}

impl Target {
    /// The CPU: every stage on GStreamer's CPU elements, as `--backend cpu` runs.
    pub fn cpu() -> Target {
        Target::default()
    }

    /// A GPU backend on a machine that has these GPU elements.
    pub fn gpu<S: Into<String>>(elements: impl IntoIterator<Item = S>) -> Target {
        Target {
            gpu: true,
            elements: elements.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the GPU element `factory` can be used.
    pub fn has(&self, factory: &str) -> bool {
        self.gpu && self.elements.contains(factory)
    }
}

/// Every GPU element lowering may choose, for the command line to look up at start.
pub fn gpu_elements() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = media::CODECS
        .iter()
        .flat_map(|c| [c.gpu_decoder, c.gpu_encoder])
        .flatten()
        .collect();
    names.push(CUDA_DOWNLOAD);
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_target_has_no_gpu_element_even_when_listed() {
        let mut t = Target::cpu();
        t.elements.insert("nvh264dec".into());
        assert!(!t.has("nvh264dec"));
        assert!(Target::gpu(["nvh264dec"]).has("nvh264dec"));
        assert!(!Target::gpu(["nvh264dec"]).has("nvh265dec"));
    }

    #[test]
    fn the_gpu_elements_cover_nvdec_nvenc_and_the_download() {
        let names = gpu_elements();
        for expected in [
            "nvh264dec",
            "nvh265dec",
            "nvjpegdec",
            "nvvp8dec",
            "nvvp9dec",
            "nvav1dec",
            "nvmpeg2videodec",
            "nvmpeg4videodec",
            "nvh264enc",
            "nvh265enc",
            "cudadownload",
        ] {
            assert!(names.contains(&expected), "{expected} in {names:?}");
        }
    }
}
