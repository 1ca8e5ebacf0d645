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
                // Follows the batch: keep it open, under the input's batch symbol.
                if *dim == Dim::Unknown {
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
