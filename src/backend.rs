//! `--backend`: what `auto` means on this machine, and the lowering target each backend
//! gets. The machine is asked once (the CUDA driver, GStreamer's registry); the choice
//! itself is a pure function of the answers, so it is tested without a GPU.

use std::collections::BTreeSet;

use vpl_compiler::Target;
use vpl_compiler::plan::Plan;
use vpl_runtime::machine::{self, Gpu};

use crate::cli::Backend;

/// What the machine offers, as asked at start.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The first GPU of the CUDA driver, or why there is none.
    pub gpu: Result<Gpu, String>,
    /// This build runs models on a GPU (the runtime's `gpu` feature).
    pub gpu_inference: bool,
    /// The GPU elements (`vpl_compiler::target::gpu_elements`) GStreamer has.
    pub elements: BTreeSet<String>,
}

impl Machine {
    /// Asks the driver and, where lowering for a GPU could use them, the registry.
    pub fn probe(asked: Backend) -> Machine {
        let gpu = match asked {
            Backend::Cpu => Err("the CPU was asked for".to_string()),
            _ => machine::probe_gpu(),
        };
        let elements = match asked {
            Backend::Cpu => BTreeSet::new(),
            _ => machine::elements_present(vpl_compiler::target::gpu_elements()),
        };
        Machine {
            gpu,
            gpu_inference: machine::gpu_inference_built(),
            elements,
        }
    }
}

/// A backend resolved for this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Where models run: `Cpu`, `Cuda` or `Tensorrt`, never `Auto`.
    pub backend: Backend,
    pub target: Target,
    /// The GPU the run uses, for the line said on start.
    pub gpu: Option<Gpu>,
    /// A line for the user when `auto` found a GPU it cannot use.
    pub note: Option<String>,
}

/// `auto` is the GPU where the driver reports one and this build can run models on it,
/// else the CPU (with a note when a GPU was there). A GPU backend asked for by name is
/// kept even where the machine cannot run it: the stage that needs it says why (E0504 at
/// `infer`), and decoding falls back to the CPU with one warning.
pub fn choose(asked: Backend, machine: &Machine) -> Chosen {
    let gpu_target = || Target::gpu(machine.elements.iter().cloned());
    match asked {
        Backend::Cpu => Chosen {
            backend: Backend::Cpu,
            target: Target::cpu(),
            gpu: None,
            note: None,
        },
        Backend::Cuda | Backend::Tensorrt => Chosen {
            backend: asked,
            target: gpu_target(),
            gpu: machine.gpu.clone().ok(),
            note: None,
        },
        Backend::Auto => match &machine.gpu {
            Ok(gpu) if machine.gpu_inference => Chosen {
                backend: Backend::Cuda,
                target: gpu_target(),
                gpu: Some(gpu.clone()),
                note: None,
            },
            Ok(gpu) => Chosen {
                backend: Backend::Cpu,
                target: Target::cpu(),
                gpu: None,
                note: Some(format!(
                    "vplc: note: found GPU {} ({}), but this vplc was built without GPU support (cargo build --features vpl-runtime/gpu): running on the CPU",
                    gpu.index, gpu.name
                )),
            },
            Err(_) => Chosen {
                backend: Backend::Cpu,
                target: Target::cpu(),
                gpu: None,
                note: None,
            },
        },
    }
}

/// `vplc: using GPU 0 (NVIDIA H200) for decode and inference`: what of `plan` runs on the GPU.
pub fn using_line(gpu: &Gpu, plan: &Plan) -> String {
    let gpu_factories: BTreeSet<&str> = vpl_compiler::target::gpu_elements().into_iter().collect();
    let uses = |suffix: &str| {
        plan.elements
            .iter()
            .any(|e| gpu_factories.contains(e.factory.as_str()) && e.factory.ends_with(suffix))
    };
    let mut parts = Vec::new();
    if uses("dec") {
        parts.push("decode");
    }
    if plan.elements.iter().any(|e| e.factory == "vplinfer") {
        parts.push("inference");
    }
    if uses("enc") {
        parts.push("encode");
    }
    let what = match parts.as_slice() {
        [] => " (nothing in this pipeline runs on it)".to_string(),
        [one] => format!(" for {one}"),
        [init @ .., last] => format!(" for {} and {last}", init.join(", ")),
    };
    format!("vplc: using GPU {} ({}){what}", gpu.index, gpu.name)
}

/// The one warning for streams a GPU backend decodes on the CPU.
pub fn cpu_decoding_warning(reasons: &[String]) -> Option<String> {
    let mut reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
    reasons.sort_unstable();
    reasons.dedup();
    (!reasons.is_empty()).then(|| {
        format!(
            "vplc: warning: decoding on the CPU, not the GPU: {}",
            reasons.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h200(elements: &[&str], gpu_inference: bool) -> Machine {
        Machine {
            gpu: Ok(Gpu {
                index: 0,
                name: "NVIDIA H200".into(),
                count: 1,
            }),
            gpu_inference,
            elements: elements.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn no_gpu() -> Machine {
        Machine {
            gpu: Err("no CUDA driver (libcuda.so.1 does not load)".into()),
            gpu_inference: true,
            elements: BTreeSet::new(),
        }
    }

    #[test]
    fn auto_is_the_gpu_where_one_is_found_and_usable() {
        let c = choose(Backend::Auto, &h200(&["nvh264dec", "cudadownload"], true));
        assert_eq!(c.backend, Backend::Cuda);
        assert!(c.target.has("nvh264dec") && c.target.has("cudadownload"));
        assert_eq!(c.gpu.map(|g| g.name).as_deref(), Some("NVIDIA H200"));
        assert_eq!(c.note, None);
    }

    #[test]
    fn auto_is_the_cpu_silently_without_a_gpu() {
        let c = choose(Backend::Auto, &no_gpu());
        assert_eq!(c.backend, Backend::Cpu);
        assert_eq!(c.target, Target::cpu());
        assert_eq!((c.gpu, c.note), (None, None));
    }

    #[test]
    fn auto_says_why_a_gpu_it_found_is_not_used() {
        let c = choose(Backend::Auto, &h200(&["nvh264dec"], false));
        assert_eq!(c.backend, Backend::Cpu);
        assert!(!c.target.gpu);
        let note = c.note.expect("a note");
        assert!(note.contains("NVIDIA H200") && note.contains("without GPU support"));
    }

    #[test]
    fn a_gpu_backend_asked_for_is_kept_where_unusable() {
        for asked in [Backend::Cuda, Backend::Tensorrt] {
            let c = choose(asked, &no_gpu());
            assert_eq!(c.backend, asked);
            assert!(c.target.gpu && c.target.elements.is_empty());
        }
        assert_eq!(choose(Backend::Cpu, &h200(&[], true)).target, Target::cpu());
    }

    #[test]
    fn the_start_line_names_what_runs_on_the_gpu() {
        let gpu = h200(&[], true).gpu.expect("gpu");
        let plan = |factories: &[&str]| Plan {
            elements: factories
                .iter()
                .map(|f| vpl_compiler::plan::Element {
                    name: format!("e_{f}"),
                    factory: f.to_string(),
                    props: vec![],
                    pad_props: vec![],
                    node: vpl_compiler::ir::NodeId(0),
                    span: vpl_compiler::span::Span::new(0, 0),
                    role: None,
                })
                .collect(),
            ..Plan::default()
        };
        assert_eq!(
            using_line(
                &gpu,
                &plan(&["nvh264dec", "cudadownload", "vplinfer", "x264enc"])
            ),
            "vplc: using GPU 0 (NVIDIA H200) for decode and inference"
        );
        assert_eq!(
            using_line(&gpu, &plan(&["avdec_h264", "vplinfer", "nvh264enc"])),
            "vplc: using GPU 0 (NVIDIA H200) for inference and encode"
        );
        assert!(using_line(&gpu, &plan(&["avdec_h264"])).contains("nothing"));
    }

    #[test]
    fn cpu_decoding_is_one_warning() {
        assert_eq!(cpu_decoding_warning(&[]), None);
        let w = cpu_decoding_warning(&[
            "NVDEC does not decode msmpeg4".into(),
            "NVDEC does not decode msmpeg4".into(),
        ])
        .expect("warning");
        assert_eq!(w.matches("msmpeg4").count(), 1, "{w}");
        assert_eq!(w.lines().count(), 1);
    }
}
