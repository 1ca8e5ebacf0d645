//! Output dimensions the model file leaves open, resolved from the input the model will
//! be fed (the file's fixed dimensions, the declared `input:` for the rest). The host runs
//! the model on zeros of that shape (`Host::output_shapes`; twice, at batches 1 and 2,
//! when the batch is open, which tells the batch axis of each output apart), and each open
//! dimension takes the size the run gave. A host that cannot run the model leaves them
//! open: the decoders then say what they cannot check (W0302).
//!
//! The batch axis of an output: the one a run shows following the input's batch, else the
//! one named by the input's batch symbol (`[T, batch, C]` from `[batch, 3, 32, W]`), else
//! the first.

use std::collections::BTreeMap;
use std::path::Path;

use crate::facts::{Dim, ModelFacts, TensorFacts};
use crate::host::Host;
use crate::syntax::ast;
use crate::syntax::literal::LitValue;

/// Each output's batch axis, where a run showed it.
pub type RunAxes = BTreeMap<String, usize>;

/// The input's shape with every dimension known: the file's, or the declaration's; the
/// batch (axis 0) is `None` where the file leaves it open. `None` when another
/// dimension is open.
fn concrete_input(input: &TensorFacts, declared: Option<&[ast::Dim]>) -> Option<Vec<Option<i64>>> {
    let declared_at = |i: usize| -> Option<i64> {
        match declared?.get(i)? {
            ast::Dim::Number(lit, _) => match lit.value {
                LitValue::Int(v) if v > 0 => Some(v),
                _ => None,
            },
            _ => None,
        }
    };
    if declared.is_some_and(|d| d.len() != input.shape.len()) || input.shape.is_empty() {
        return None;
    }
    input
        .shape
        .iter()
        .enumerate()
        .map(|(i, d)| match (d.fixed(), declared_at(i)) {
            (Some(n), _) => Some(Some(n)),
            // A batch the file leaves open stays open whatever the declaration says:
            // `infer` may batch streams, and the runs tell which axis follows it.
            (None, _) if i == 0 => Some(None),
            (None, Some(n)) => Some(Some(n)),
            (None, None) => None,
        })
        .collect()
}

/// Whether an output has a dimension open that a run could fix: any open dimension but
/// the input's own batch symbol.
fn has_open(output: &TensorFacts, batch: &Dim) -> bool {
    output.shape.iter().any(|d| match d {
        Dim::Fixed(_) => false,
        Dim::Named(n) => !matches!(batch, Dim::Named(b) if b == n),
        Dim::Unknown => true,
    })
}

/// Fixes the open output dimensions of `facts` (one input) by running the model at
/// `path` through the host; says which axis of each resolved output follows the batch.
pub(super) fn resolve(
    facts: &mut ModelFacts,
    path: &Path,
    host: &dyn Host,
    declared: Option<&[ast::Dim]>,
) -> RunAxes {
    let mut axes = RunAxes::new();
    let [input] = facts.inputs.as_slice() else {
        return axes;
    };
    let batch = input.shape.first().cloned().unwrap_or(Dim::Unknown);
    if !facts.outputs.iter().any(|o| has_open(o, &batch)) {
        return axes;
    }
    let Some(shape) = concrete_input(input, declared) else {
        return axes;
    };
    let with_batch = |b: i64| -> Vec<i64> {
        shape
            .iter()
            .enumerate()
            .map(|(i, d)| d.unwrap_or(if i == 0 { b } else { 1 }))
            .collect()
    };
    let open_batch = shape[0].is_none();
    let inputs = if open_batch {
        vec![with_batch(1), with_batch(2)]
    } else {
        vec![with_batch(1)]
    };
    let Ok(runs) = host.output_shapes(path, &inputs) else {
        return axes;
    };
    let find = |run: usize, name: &str| -> Option<&Vec<i64>> {
        runs.get(run)?
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, shape)| shape)
    };
    for output in &mut facts.outputs {
        let Some(one) = find(0, &output.name).cloned() else {
            continue;
        };
        let two = if open_batch {
            match find(1, &output.name) {
                Some(two) if two.len() == one.len() => Some(two.clone()),
                _ => continue,
            }
        } else {
            None
        };
        if !output.shape.is_empty() && output.shape.len() != one.len() {
            continue;
        }
        if output.shape.is_empty() {
            output.shape = vec![Dim::Unknown; one.len()];
        }
        let batch_axes: Vec<usize> = match &two {
            Some(two) => (0..one.len()).filter(|&i| one[i] != two[i]).collect(),
            None => Vec::new(),
        };
        if let [axis] = batch_axes[..] {
            axes.insert(output.name.clone(), axis);
        }
        for (i, dim) in output.shape.iter_mut().enumerate() {
            if dim.fixed().is_some() {
                continue;
            }
            if batch_axes.contains(&i) {
                // Follows the batch: kept open, under the input's batch symbol.
                if matches!(batch, Dim::Named(_)) || *dim == Dim::Unknown {
                    *dim = batch.clone();
                }
            } else if one[i] > 0 {
                *dim = Dim::Fixed(one[i]);
            }
        }
    }
    axes
}

/// The axis of `output` that carries the batch (see the module's doc).
pub fn batch_axis(facts: &ModelFacts, output: &TensorFacts, runs: &RunAxes) -> usize {
    if let Some(axis) = runs.get(&output.name) {
        return *axis;
    }
    let Some(batch) = facts.inputs.first().and_then(|i| i.shape.first()) else {
        return 0;
    };
    // A fixed batch: the first axis when it has that size, else the only one that has.
    if let Dim::Fixed(_) = batch
        && output.shape.first() == Some(batch)
    {
        return 0;
    }
    let same: Vec<usize> = output
        .shape
        .iter()
        .enumerate()
        .filter(|(_, d)| match (d, batch) {
            (Dim::Named(n), Dim::Named(b)) => n == b,
            (Dim::Fixed(n), Dim::Fixed(b)) => n == b,
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    match same[..] {
        [axis] => axis,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::check::ModelKind;
    use crate::facts::{DType, Dim, ModelFacts, TensorFacts};
    use crate::host::MemoryHost;
    use crate::onnx::model_bytes;
    use crate::{SourceMap, compile};

    fn tensor(name: &str, shape: &[Dim]) -> TensorFacts {
        TensorFacts {
            name: name.into(),
            dtype: DType::F32,
            shape: shape.to_vec(),
        }
    }

    fn named(n: &str) -> Dim {
        Dim::Named(n.into())
    }

    /// A PaddleOCR-style detector: input [n, 3, h, w], output [o0, o1, o2, o3].
    fn text_model() -> Vec<u8> {
        model_bytes(&ModelFacts {
            inputs: vec![tensor(
                "x",
                &[named("n"), Dim::Fixed(3), named("h"), named("w")],
            )],
            outputs: vec![tensor(
                "maps",
                &[named("o0"), named("o1"), named("o2"), named("o3")],
            )],
            ..ModelFacts::default()
        })
    }

    /// A CRNN whose symbols say nothing: input [b, 3, 32, 80], output [t, m, 37].
    fn crnn_model() -> Vec<u8> {
        model_bytes(&ModelFacts {
            inputs: vec![tensor(
                "x",
                &[named("b"), Dim::Fixed(3), Dim::Fixed(32), Dim::Fixed(80)],
            )],
            outputs: vec![tensor("logits", &[named("t"), named("m"), Dim::Fixed(37)])],
            ..ModelFacts::default()
        })
    }

    fn compile_with(
        host: &MemoryHost,
        model: &str,
    ) -> (Vec<String>, Option<crate::check::ModelInfo>) {
        let text = format!(
            "model m = onnx({model});\npipeline p {{ test() | infer(m) | json | stdout; }}"
        );
        let mut sources = SourceMap::default();
        let c = compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), &text, host);
        let codes = c.diagnostics.iter().map(|d| d.code.to_string()).collect();
        (codes, c.typed.models.first().cloned().flatten())
    }

    const TEXT: &str =
        "\"/m/det.onnx\", decoder: text_boxes(), input: tensor<f32, [1, 3, 576, 768]>";

    #[test]
    fn open_outputs_take_the_sizes_of_a_run_on_the_declared_input() {
        let host = MemoryHost::new()
            .with_file("/m/det.onnx", text_model())
            .with_output_shapes(
                "/m/det.onnx",
                &[1, 3, 576, 768],
                &[("maps", &[1, 1, 576, 768])],
            )
            .with_output_shapes(
                "/m/det.onnx",
                &[2, 3, 576, 768],
                &[("maps", &[2, 1, 576, 768])],
            );
        let (codes, info) = compile_with(&host, TEXT);
        assert!(codes.is_empty(), "{codes:?}");
        let info = info.expect("the model is read");
        // The batch stays open (the input's own symbol): `infer` may batch streams.
        assert_eq!(
            info.facts.outputs[0].signature(),
            "tensor<f32, [n, 1, 576, 768]>"
        );
        assert_eq!(info.kind, ModelKind::Detector { classes: Some(1) });
        assert_eq!(info.batch_axis("maps"), 0);
    }

    #[test]
    fn without_a_run_an_open_channel_is_a_warning_not_an_error() {
        let host = MemoryHost::new().with_file("/m/det.onnx", text_model());
        let (codes, info) = compile_with(&host, TEXT);
        assert_eq!(codes, ["W0302"]);
        assert!(info.is_some());
    }

    #[test]
    fn the_batch_axis_is_the_one_that_follows_the_input_batch() {
        // The runs tell it where the symbols cannot: T stays 20, the batch is axis 1.
        let host = MemoryHost::new()
            .with_file("/m/rec.onnx", crnn_model())
            .with_output_shapes("/m/rec.onnx", &[1, 3, 32, 80], &[("logits", &[20, 1, 37])])
            .with_output_shapes("/m/rec.onnx", &[2, 3, 32, 80], &[("logits", &[20, 2, 37])]);
        let (codes, info) = compile_with(&host, "\"/m/rec.onnx\"");
        assert!(codes.is_empty(), "{codes:?}");
        let info = info.expect("the model is read");
        assert_eq!(info.batch_axis("logits"), 1);
        assert_eq!(
            info.facts.outputs[0].signature(),
            "tensor<f32, [20, b, 37]>"
        );
        // The input's batch symbol on an output axis says it without a run.
        let symbolic = model_bytes(&ModelFacts {
            inputs: vec![tensor(
                "x",
                &[
                    named("batch"),
                    Dim::Fixed(3),
                    Dim::Fixed(32),
                    Dim::Fixed(80),
                ],
            )],
            outputs: vec![tensor(
                "logits",
                &[Dim::Fixed(20), named("batch"), Dim::Fixed(37)],
            )],
            ..ModelFacts::default()
        });
        let host = MemoryHost::new().with_file("/m/rec.onnx", symbolic);
        let (codes, info) = compile_with(&host, "\"/m/rec.onnx\"");
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(info.expect("read").batch_axis("logits"), 1);
    }

    #[test]
    fn a_run_is_asked_only_where_an_output_is_open_beyond_the_batch() {
        /// A host that fails the test when asked to run a model.
        struct NoRuns(MemoryHost);
        impl crate::Host for NoRuns {
            fn check_file(&self, path: &Path) -> Result<(), crate::host::FileProblem> {
                self.0.check_file(path)
            }
            fn probe_media(
                &self,
                path: &Path,
            ) -> Result<crate::facts::MediaFacts, crate::facts::FactError> {
                self.0.probe_media(path)
            }
            fn model_signature(&self, path: &Path) -> Result<ModelFacts, crate::facts::FactError> {
                self.0.model_signature(path)
            }
            fn read_labels(&self, path: &Path) -> Result<Vec<String>, crate::facts::FactError> {
                self.0.read_labels(path)
            }
            fn output_shapes(
                &self,
                path: &Path,
                _: &[Vec<i64>],
            ) -> Result<Vec<crate::host::OutputShapes>, crate::facts::FactError> {
                panic!("{} was run", path.display())
            }
        }
        let yolo = model_bytes(&ModelFacts {
            inputs: vec![tensor(
                "images",
                &[
                    named("batch"),
                    Dim::Fixed(3),
                    Dim::Fixed(640),
                    Dim::Fixed(640),
                ],
            )],
            outputs: vec![tensor(
                "output0",
                &[named("batch"), Dim::Fixed(84), Dim::Fixed(8400)],
            )],
            ..ModelFacts::default()
        });
        let host = NoRuns(MemoryHost::new().with_file("/m/yolo.onnx", yolo));
        let text = "model m = onnx(\"/m/yolo.onnx\", decoder: yolov8());\n\
                    pipeline p { test() | infer(m) | json | stdout; }";
        let mut sources = SourceMap::default();
        let c = compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), text, &host);
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    }
}
