//! Batching: `batch`, and `infer`'s batch size (explicit, the model's fixed dimension or
//! one frame from each stream): E0301, W0301 (batch size and streams), W0202 (rates that
//! differ); what `infer` attaches to the frames.

use super::errors::TypeError;
use super::model::ModelKind;
use super::types::{self, Format, Meta, Video};
use super::{Checker, InferSite, Ty};
use crate::hir::{BoundCall, Value};

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
            self.errors.push(TypeError::RatesDiffer {
                span: call.span,
                stage: call.name.clone(),
                rates,
            });
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
            self.errors.push(TypeError::BatchSizeStreams {
                span: call.span,
                size,
                streams: videos.len(),
            });
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
            self.errors.push(TypeError::InputIncompatible {
                span: call.span,
                model: info.name.clone(),
                model_span,
                problem: problem.clone(),
            });
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
                    self.errors.push(TypeError::BatchMismatch {
                        site: *site,
                        infer: call.span,
                        model: info.name.clone(),
                        model_span,
                        batch: *size,
                        model_batch: b,
                    });
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
                    self.errors.push(TypeError::NeedsObjects {
                        span: call.span,
                        stage: "infer(..., on: ...)".into(),
                    });
                    return Ty::Error;
                };
                if !self.labels_known(&on, objects, on_span) {
                    return Ty::Error;
                }
            }
            if !on.is_empty()
                && let Some(decoder) = super::model::segpose::crops_refused(&info)
            {
                self.errors.push(TypeError::DecoderOnCrops {
                    span: on_span,
                    decoder,
                });
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
        self.pending_infer = Some(InferSite {
            model: id,
            batch,
            streams,
            reason,
        });
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
