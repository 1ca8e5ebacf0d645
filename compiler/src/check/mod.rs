//! Resolved program → typed program: the type of every stream (spec section 5), checked
//! against every stage's rule (section 6), with facts about media files and models read
//! through the `Host`. Reports E02xx, E03xx and their warnings; never panics.

mod batching;
mod brokers;
pub mod errors;
pub mod hls;
mod kafka;
pub mod model;
pub mod outputs;
pub mod pool;
mod record;
mod record_event;
pub mod replay;
mod sinks;
mod sources;
mod stages;
mod zones;
/// The type vocabulary lives in `crate::types`; this path is kept for its users.
pub use crate::types;
use sources::SourceError;

#[cfg(test)]
mod replay_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use errors::TypeError;
/// `check::text::metadata_alphabet` is read by the runtime.
pub use model::text;
pub use model::{ModelInfo, ModelKind, Preprocess};
pub use types::{Format, Meta, Ty, Video};

use crate::facts::{FactError, MediaFacts};
use crate::hir::{self, BoundCall, CallId, Flow, ModelId};
use crate::host::Host;
use crate::syntax::Span;
use crate::syntax::ast::Role;

/// The typed program: what lowering needs beyond the resolved program.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// By `ModelId`; `None` where the model could not be read or has errors.
    pub models: Vec<Option<ModelInfo>>,
    pub pipelines: Vec<TypedPipeline>,
}

#[derive(Debug, Clone, Default)]
pub struct TypedPipeline {
    pub name: String,
    /// The type of each `let`, in order.
    pub lets: Vec<(String, Span, Ty)>,
    /// Every call of the pipeline that carries a stream (sources, stages, sinks), with
    /// the types around it, in the order they were checked; found by the call's `CallId`.
    pub sites: Vec<Site>,
}

impl TypedPipeline {
    /// What the checker found at call `call`; `None` for a call it did not check (in a
    /// `let` with errors of its own).
    pub fn site(&self, call: CallId) -> Option<&Site> {
        self.sites.iter().find(|s| s.call == call)
    }
}

/// What the checker found at one call.
#[derive(Debug, Clone)]
pub struct Site {
    pub call: CallId,
    pub input: Ty,
    pub output: Ty,
    /// For sources read from files: what the probe found.
    pub media: Option<MediaFacts>,
    pub infer: Option<InferSite>,
    /// For `replay`: the frames it yields (the records' last frame number plus one).
    pub replay_frames: Option<u64>,
}

/// How an `infer` runs: its model and the batch size chosen, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct InferSite {
    pub model: ModelId,
    pub batch: u32,
    pub streams: usize,
    pub reason: String,
}

pub fn check(program: &hir::Program, host: &dyn Host, dir: &Path) -> (Typed, Vec<TypeError>) {
    let mut session = Session::new(program, host, dir);
    let pipelines = program
        .pipelines
        .iter()
        .map(|p| session.c.pipeline(p))
        .collect::<Vec<_>>();
    outputs::check(program, &pipelines, host, dir, &mut session.c.errors);
    (
        Typed {
            models: session.c.models,
            pipelines,
        },
        session.c.errors,
    )
}

/// The checker with the program's models and constants checked, ready to check its
/// pipelines one at a time (`crate::incremental`) in the order `check` takes them. A
/// pipeline's check reads the models and constants of `program`, never its other pipelines.
pub struct Session<'a> {
    c: Checker<'a>,
}

impl<'a> Session<'a> {
    pub fn new(program: &'a hir::Program, host: &'a dyn Host, dir: &Path) -> Session<'a> {
        let mut errors = Vec::new();
        let models = program
            .models
            .iter()
            .map(|m| model::analyse(m, host, dir, &mut errors))
            .collect();
        let mut c = Checker {
            host,
            program,
            models,
            errors,
            media: HashMap::new(),
            sites: Vec::new(),
            infers: HashMap::new(),
        };
        c.shape_consts(&program.consts);
        Session { c }
    }

    /// The errors found so far, taken.
    pub fn take_errors(&mut self) -> Vec<TypeError> {
        std::mem::take(&mut self.c.errors)
    }

    /// One pipeline, with the errors found in it and, apart (`check` finds them after
    /// every pipeline's), those of the `outputs` rules.
    pub fn pipeline(
        &mut self,
        pipeline: &hir::Pipeline,
        dir: &Path,
    ) -> (TypedPipeline, Vec<TypeError>, Vec<TypeError>) {
        let before = std::mem::take(&mut self.c.errors);
        let typed = self.c.pipeline(pipeline);
        let errors = std::mem::replace(&mut self.c.errors, before);
        let outputs_errors = self.outputs(pipeline, &typed, dir);
        (typed, errors, outputs_errors)
    }

    /// The errors of the `outputs` rules in one pipeline. They look at one pipeline at a
    /// time (and the files every model reads): the pipeline alone in a program of its own.
    pub fn outputs(
        &self,
        pipeline: &hir::Pipeline,
        typed: &TypedPipeline,
        dir: &Path,
    ) -> Vec<TypeError> {
        let alone = hir::Program {
            consts: Vec::new(),
            models: self.c.program.models.clone(),
            pipelines: vec![pipeline.clone()],
        };
        let mut errors = Vec::new();
        outputs::check(
            &alone,
            std::slice::from_ref(typed),
            self.c.host,
            dir,
            &mut errors,
        );
        errors
    }

    /// The models' facts, by `ModelId`.
    pub fn finish(self) -> Vec<Option<ModelInfo>> {
        self.c.models
    }
}

struct Checker<'a> {
    host: &'a dyn Host,
    program: &'a hir::Program,
    models: Vec<Option<ModelInfo>>,
    errors: Vec<TypeError>,
    /// Probes by file: each distinct file is probed once per compilation.
    media: HashMap<PathBuf, Result<MediaFacts, FactError>>,
    sites: Vec<Site>,
    /// The batch decision of each `infer` typed, recorded with its site.
    infers: HashMap<CallId, InferSite>,
}

impl Checker<'_> {
    fn pipeline(&mut self, p: &hir::Pipeline) -> TypedPipeline {
        let mut lets: Vec<(String, Span, Ty)> = Vec::new();
        let mut let_types: Vec<Ty> = Vec::new();
        for l in &p.lets {
            let ty = if l.broken {
                Ty::Error
            } else {
                self.flow(&l.flow, &let_types)
            };
            let_types.push(ty.clone());
            lets.push((l.name.name.clone(), l.name.span, ty));
        }
        for f in &p.flows {
            self.flow(&f.flow, &let_types);
        }
        TypedPipeline {
            name: p.name.name.clone(),
            lets,
            sites: std::mem::take(&mut self.sites),
        }
    }

    fn flow(&mut self, flow: &Flow, lets: &[Ty]) -> Ty {
        match flow {
            Flow::Source { call, ascription } => self.source(call, ascription.as_ref()),
            Flow::Stream {
                id,
                ascription,
                span,
            } => {
                let ty = lets.get(id.0 as usize).cloned().unwrap_or(Ty::Error);
                match (ascription, ty) {
                    (Some(a), Ty::Video(v)) => Ty::Video(self.ascribe(a, v, *span)),
                    (_, ty) => ty,
                }
            }
            Flow::List {
                items,
                ascription,
                span,
            } => {
                let items: Vec<Ty> = items.iter().map(|f| self.flow(f, lets)).collect();
                let items = match ascription {
                    Some(a) => items
                        .into_iter()
                        .map(|t| match t {
                            Ty::Video(v) => Ty::Video(self.ascribe(a, v, *span)),
                            other => other,
                        })
                        .collect(),
                    None => items,
                };
                Ty::List(items)
            }
            Flow::Ascribed {
                input,
                ascription,
                span,
            } => match self.flow(input, lets) {
                Ty::Video(v) => Ty::Video(self.ascribe(ascription, v, *span)),
                Ty::Error => Ty::Error,
                other => {
                    self.errors
                        .push(TypeError::Source(SourceError::BadAscription {
                            span: *span,
                            reason: format!("this flow carries {other}, not one video stream"),
                        }));
                    Ty::Error
                }
            },
            Flow::Apply { input, call } => {
                let input = self.flow(input, lets);
                let output = match call.role {
                    Role::Sink => {
                        self.sink(&input, call);
                        Ty::Error
                    }
                    _ => self.stage(&input, call),
                };
                if !matches!(call.role, Role::Source) {
                    self.sites.push(Site {
                        call: call.id,
                        input,
                        output: output.clone(),
                        media: None,
                        infer: self.infers.remove(&call.id),
                        replay_frames: None,
                    });
                }
                output
            }
        }
    }
}

impl Checker<'_> {
    pub(super) fn site(
        &mut self,
        call: &BoundCall,
        input: Ty,
        output: Ty,
        media: Option<MediaFacts>,
    ) {
        self.sites.push(Site {
            call: call.id,
            input,
            output,
            media,
            infer: None,
            replay_frames: None,
        });
    }
}
