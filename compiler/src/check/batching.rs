//! Batching: `batch`, and `infer`'s batch size (explicit, the model's fixed dimension or
//! one frame from each stream): E0301, W0301 (batch size and streams), W0202 (rates that
//! differ); what `infer` attaches to the frames.

use super::errors::TypeError;
use super::model::ModelKind;
use super::model::input::InputProblem;
use super::model::segpose::SegposeError;
use super::stages::StageError;
use super::types::{self, Format, Meta, Video};
use super::{Checker, InferSite, Ty};
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::{BoundCall, Value};
use crate::source::FileId;
use crate::syntax::Span;

/// What is wrong with batches and the model `infer` runs on them (E0301, E0302, W0301,
/// W0202).
#[derive(Debug, Clone, PartialEq)]
pub enum BatchError {
    BatchMismatch {
        site: Span,
        infer: Span,
        model: String,
        model_span: Span,
        batch: u32,
        model_batch: i64,
    },
    InputIncompatible {
        span: Span,
        model: String,
        model_span: Span,
        problem: InputProblem,
    },
    BatchSizeStreams {
        span: Span,
        size: u32,
        streams: usize,
    },
    RatesDiffer {
        span: Span,
        stage: String,
        rates: Vec<String>,
    },
}

pub(super) fn rates_of(videos: &[&Video]) -> Option<Vec<String>> {
    let rates: Vec<(u64, u64)> = videos.iter().filter_map(|v| v.rate).collect();
    let differ = rates.windows(2).any(|w| w[0].0 * w[1].1 != w[1].0 * w[0].1);
    differ.then(|| {
        rates
            .iter()
            .map(|(n, d)| types::rate_text(*n, *d))
            .collect()
    })
}

/// The frame type of a batch: the common format and size of its streams.
pub(super) fn common_frame(videos: &[Video], resolution: Option<(u32, u32)>) -> Video {
    let first = videos.first().cloned().unwrap_or_else(Video::unknown);
    let same_format = videos.iter().all(|v| v.format == first.format);
    let same_size = videos.iter().all(|v| v.resolution == first.resolution);
    let metas: Vec<&Meta> = videos.iter().map(|v| &v.meta).collect();
    Video {
        format: if same_format {
            first.format.clone()
        } else {
            Format::AnyRaw
        },
        resolution: resolution.or(if same_size { first.resolution } else { None }),
        rate: first.rate,
        meta: Meta::union(&metas),
    }
}

impl Checker<'_> {
    pub(super) fn warn_rates(&mut self, call: &BoundCall, videos: &[Video]) {
        let refs: Vec<&Video> = videos.iter().collect();
        if let Some(rates) = rates_of(&refs) {
            self.errors.push(TypeError::Batch(BatchError::RatesDiffer {
                span: call.span,
                stage: call.name.clone(),
                rates,
            }));
        }
    }

    pub(super) fn batch(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let Some(videos) = self.raw_streams(input, call) else {
            return Ty::Error;
        };
        let given = call.int("size").and_then(|s| u32::try_from(s).ok());
        let size = given.unwrap_or(1);
        let resolution = call.resolution("resolution");
        self.check_size(call, resolution);
        self.warn_rates(call, &videos);
        // An invalid size was reported already (E0107): no warning about it.
        if given.is_some() && size as usize != videos.len() {
            self.errors
                .push(TypeError::Batch(BatchError::BatchSizeStreams {
                    span: call.span,
                    size,
                    streams: videos.len(),
                }));
        }
        Ty::Batch {
            size,
            streams: videos.len(),
            frame: common_frame(&videos, resolution),
            site: call.span,
        }
    }

    pub(super) fn infer(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let Some(Value::Model(id)) = call.bound("model").map(|a| &a.value) else {
            return Ty::Error;
        };
        let id = *id;
        let Some(Some(info)) = self.models.get(id.0 as usize).cloned() else {
            // The model has errors of its own or cannot be read: pass the frames through.
            return input.clone();
        };
        let model_span = self.program.models[id.0 as usize].name.span;
        if let Some(problem) = &info.input_problem {
            self.errors
                .push(TypeError::Batch(BatchError::InputIncompatible {
                    span: call.span,
                    model: info.name.clone(),
                    model_span,
                    problem: problem.clone(),
                }));
            return Ty::Error;
        }
        let on = call.strings("on");
        let on_span = call.bound("on").map_or(call.span, |a| a.span);
        let (videos, batch_in) = match input {
            Ty::Batch {
                size,
                frame,
                site,
                streams,
            } => {
                if let Some(b) = info.batch
                    && b != *size as i64
                {
                    self.errors
                        .push(TypeError::Batch(BatchError::BatchMismatch {
                            site: *site,
                            infer: call.span,
                            model: info.name.clone(),
                            model_span,
                            batch: *size,
                            model_batch: b,
                        }));
                    return Ty::Error;
                }
                (vec![frame.clone()], Some((*size, *streams, *site)))
            }
            other => match self.raw_streams(other, call) {
                Some(v) => (v, None),
                None => return Ty::Error,
            },
        };
        let streams = batch_in.map_or(videos.len(), |(_, s, _)| s);
        let (batch, reason) = match (batch_in, info.batch) {
            (Some((size, _, _)), _) => (size, format!("batch({size}) upstream")),
            (None, Some(b)) => (
                b.max(1) as u32,
                format!("the model's batch dimension is fixed at {b}"),
            ),
            (None, None) => (
                streams.max(1) as u32,
                format!(
                    "the model's batch dimension is dynamic: one frame from each of the {streams} stream(s)"
                ),
            ),
        };
        if batch_in.is_none() && videos.len() > 1 {
            self.warn_rates(call, &videos);
        }
        let mut outputs = Vec::new();
        for v in &videos {
            let mut v = v.clone();
            if !on.is_empty() {
                let Some(objects) = &v.meta.objects else {
                    self.errors.push(TypeError::Stage(StageError::NeedsObjects {
                        span: call.span,
                        stage: "infer(..., on: ...)".into(),
                    }));
                    return Ty::Error;
                };
                if !self.labels_known(&on, objects, on_span) {
                    return Ty::Error;
                }
            }
            if !on.is_empty()
                && let Some(decoder) = super::model::segpose::crops_refused(&info)
            {
                self.errors.push(TypeError::Segpose(SegposeError::OnCrops {
                    span: on_span,
                    decoder,
                }));
                return Ty::Error;
            }
            match (&info.kind, on.is_empty()) {
                (ModelKind::Detector { .. }, true) => v.meta.objects = Some(info.labels.clone()),
                (ModelKind::Detector { .. }, false) => {
                    let mut objects: Vec<String> =
                        v.meta.objects.as_deref().unwrap_or_default().to_vec();
                    objects.extend(
                        info.labels
                            .iter()
                            .filter(|l| !objects.contains(l))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                    v.meta.objects = Some(types::Labels::from(objects));
                }
                (ModelKind::Classifier { .. }, true) => v.meta.labels = Some(info.labels.clone()),
                (ModelKind::Classifier { .. }, false) => {
                    v.meta.object_labels = Some(info.labels.clone())
                }
                // A recogniser's strings go onto the objects (crops) or the frame's labels.
                (ModelKind::Recognizer { .. }, true) => {
                    v.meta.labels = Some(types::Labels::from(Vec::<String>::new()))
                }
                (ModelKind::Recognizer { .. }, false) => {}
                (ModelKind::Raw, _) => v.meta.tensors = true,
            }
            outputs.push(Ty::Video(v));
        }
        self.infers.insert(
            call.id,
            InferSite {
                model: id,
                batch,
                streams,
                reason,
            },
        );
        match (input, batch_in) {
            (_, Some((size, streams, site))) => match outputs.pop() {
                Some(Ty::Video(frame)) => Ty::Batch {
                    size,
                    streams,
                    frame,
                    site,
                },
                _ => Ty::Error,
            },
            (Ty::List(_), None) => Ty::List(outputs),
            _ => outputs.pop().unwrap_or(Ty::Error),
        }
    }
}

impl BatchError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            BatchError::BatchMismatch {
                site,
                infer,
                model,
                model_span,
                batch,
                model_batch,
            } => Diagnostic::new(
                Code::E0301,
                file,
                *site,
                format!("batches of {batch} frames reach `{model}`, whose batch dimension is fixed at {model_batch}"),
            )
            .with_primary_label(format!("batches of {batch}"))
            .with_label(file, *infer, format!("`{model}` runs here"))
            .with_label(file, *model_span, format!("the model takes exactly {model_batch} frame(s) at a time"))
            .with_help(format!(
                "the model's batch dimension is fixed at {model_batch}: use `batch(size: {model_batch})` or export the model with a dynamic batch axis"
            )),
            BatchError::InputIncompatible {
                span,
                model,
                model_span,
                problem,
            } => {
                let (message, help) = problem.words(model);
                Diagnostic::new(Code::E0302, file, *span, message)
                    .with_primary_label("frames cannot be fed to this model")
                    .with_label(file, *model_span, "model declared here")
                    .with_help(help)
            }
            BatchError::BatchSizeStreams { span, size, streams } => Diagnostic::new(
                Code::W0301,
                file,
                *span,
                format!("batches of {size} frames from {streams} stream(s)"),
            )
            .with_primary_label(format!("size {size}, {streams} stream(s)"))
            .with_help(if *size as usize > *streams {
                "batches will wait for frames from the same streams (or the timeout); a size equal to the number of streams is usual"
            } else {
                "some streams' frames will wait for the next batch; a size equal to the number of streams is usual"
            }),
            BatchError::RatesDiffer { span, stage, rates } => Diagnostic::new(
                Code::W0202,
                file,
                *span,
                format!("streams of different frame rates ({}) meet in `{stage}`", rates.join(", ")),
            )
            .with_primary_label("the slower streams will repeat frames or hold batches back")
            .with_help("insert `rate(...)` on the streams to give them one frame rate"),
        }
    }
}
