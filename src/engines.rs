//! `vplc build --engine FILE`: the models a pipeline infers with → their TensorRT engines,
//! built ahead of time into the engine cache, so `vplc run --backend tensorrt` starts
//! without building them. Prints where each went.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use vpl_compiler::plan::Plan;
use vpl_runtime::engine::{
    Backend, EngineConfig, EngineError, build_engine, default_cache_dir, find_library_near,
};

use crate::cli::BuildArgs;
use crate::commands::{CANNOT_RUN, OK, compile_one};

/// One model to build an engine for: the file and the batch it is run at (its engine's
/// largest batch, part of the cache key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModelUse {
    pub model: PathBuf,
    pub max_batch: usize,
}

/// The distinct (model, batch) pairs of a plan's `vplinfer`s, in the order they first
/// appear: each is the engine `vplc run --backend tensorrt` will look for.
pub fn models(plan: &Plan) -> Vec<ModelUse> {
    let mut found: Vec<ModelUse> = Vec::new();
    for e in plan.elements.iter().filter(|e| e.factory == "vplinfer") {
        let Some(spec) = e.inference_spec() else {
            continue;
        };
        let model = ModelUse {
            model: PathBuf::from(spec.model),
            max_batch: usize::try_from(spec.batch).unwrap_or(1).max(1),
        };
        if !found.contains(&model) {
            found.push(model);
        }
    }
    found
}

pub fn build(args: &BuildArgs) -> u8 {
    let (_sources, c, index) = match compile_one(&args.file, args.pipeline.as_deref()) {
        Ok(ok) => ok,
        Err(status) => return status,
    };
    let plan = match c.lower(index) {
        Ok((_, plan)) => plan,
        Err(e) => {
            eprintln!("vplc: internal error while lowering (please report it): {e}");
            return CANNOT_RUN;
        }
    };
    let uses = models(&plan);
    if uses.is_empty() {
        eprintln!(
            "vplc: {} runs no model: there is no engine to build",
            args.file.display()
        );
        return OK;
    }
    let Some(library) = find_library_near(&args.file) else {
        eprintln!(
            "vplc: ONNX Runtime was not found: run scripts/setup.sh, or set VPL_ONNXRUNTIME to the path of libonnxruntime.so"
        );
        return CANNOT_RUN;
    };
    let root = args.engine_cache.clone().or_else(default_cache_dir);
    match &root {
        Some(root) => eprintln!("vplc: the engine cache is {}", root.display()),
        None => {
            eprintln!(
                "vplc: there is no engine cache directory: give --engine-cache DIR, or set VPL_ENGINE_CACHE"
            );
            return CANNOT_RUN;
        }
    }
    let total = uses.len();
    for (i, model) in uses.into_iter().enumerate() {
        let config = EngineConfig {
            model: model.model.clone(),
            library: library.clone(),
            backend: Backend::TensorRt,
            threads: 0,
            engine_cache: root.clone(),
            max_batch: model.max_batch,
        };
        let progress = spinner(format!(
            "[{}/{total}] {} (batch up to {}): building the TensorRT engine",
            i + 1,
            model.model.display(),
            model.max_batch
        ));
        let start = Instant::now();
        let result = build_engine(&config);
        progress.finish_and_clear();
        match result {
            Ok(built) => eprintln!(
                "vplc: {}: {} in {} ({:.1} s)",
                model.model.display(),
                if built.reused {
                    "engine already built, loaded"
                } else {
                    "engine built"
                },
                built.dir.display(),
                start.elapsed().as_secs_f64()
            ),
            Err(e) => {
                let why = match e {
                    EngineError::BackendUnavailable { reason, .. } => {
                        format!("TensorRT is not available: {reason}")
                    }
                    other => other.to_string(),
                };
                eprintln!(
                    "vplc: cannot build the TensorRT engine of {}: {why}",
                    model.model.display()
                );
                return CANNOT_RUN;
            }
        }
    }
    OK
}

/// A spinner with the elapsed time on a terminal; hidden otherwise (indicatif draws
/// nothing when standard error is not a terminal).
fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
