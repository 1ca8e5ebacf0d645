//! Type errors as data: one enum a family of rules, worded at the end of the file of its
//! rules (as `check/zones.rs` does for E04xx), gathered here by `TypeError`, whose
//! `to_diagnostic` hands each to its family.

use super::batching::BatchError;
use super::brokers::BrokerError;
use super::model::boxes::BoxError;
use super::model::errors::DecoderError;
use super::model::input::InputError;
use super::model::metadata::LabelError;
use super::model::preprocess::PreprocessError;
use super::model::segpose::SegposeError;
use super::model::text::TextError;
use super::outputs::OutputError;
use super::sinks::SinkError;
use super::sources::SourceError;
use super::stages::StageError;
use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// What the checker finds wrong, by family.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeError {
    /// Sources and ascriptions (worded in `check/sources.rs`).
    Source(SourceError),
    /// A pool's declared type (worded in `check/pool.rs`).
    Pool(super::pool::PoolError),
    /// Per-stream stages and `tile` (worded in `check/stages.rs`).
    Stage(StageError),
    /// Sinks (worded in `check/sinks.rs`).
    Sink(SinkError),
    /// Where outputs go (worded in `check/outputs.rs`).
    Output(OutputError),
    /// Broker sinks (worded in `check/brokers.rs`).
    Broker(BrokerError),
    /// `batch` and `infer`'s batches (worded in `check/batching.rs`).
    Batch(BatchError),
    /// The model file and its input (worded in `check/model/input.rs`).
    Input(InputError),
    /// The preprocessing (worded in `check/model/preprocess.rs`).
    Preprocess(PreprocessError),
    /// The outputs a decoder reads (worded in `check/model/errors.rs`).
    Decoder(DecoderError),
    /// The box decoders (worded in `check/model/boxes.rs`).
    Boxes(BoxError),
    /// The text decoders (worded in `check/model/text.rs`).
    Text(TextError),
    /// The masks and keypoints decoders (worded in `check/model/segpose.rs`).
    Segpose(SegposeError),
    /// A model's labels (worded in `check/model/metadata.rs`).
    Labels(LabelError),
    /// Zones, lines, `analyze` and `events` (worded in `check/zones.rs`).
    Zones(super::zones::ZoneError),
    /// `record(when: EVENT)` (worded in `check/record_event.rs`).
    RecordEvent(super::record_event::RecordEventError),
    /// `replay` and its records file (worded in `check/replay.rs`).
    Replay(super::replay::ReplayError),
    /// `hls` (worded in `check/hls.rs`).
    Hls(super::hls::HlsError),
}

impl TypeError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            TypeError::Source(e) => e.to_diagnostic(file),
            TypeError::Pool(e) => e.to_diagnostic(file),
            TypeError::Stage(e) => e.to_diagnostic(file),
            TypeError::Sink(e) => e.to_diagnostic(file),
            TypeError::Output(e) => e.to_diagnostic(file),
            TypeError::Broker(e) => e.to_diagnostic(file),
            TypeError::Batch(e) => e.to_diagnostic(file),
            TypeError::Input(e) => e.to_diagnostic(file),
            TypeError::Preprocess(e) => e.to_diagnostic(file),
            TypeError::Decoder(e) => e.to_diagnostic(file),
            TypeError::Boxes(e) => e.to_diagnostic(file),
            TypeError::Text(e) => e.to_diagnostic(file),
            TypeError::Segpose(e) => e.to_diagnostic(file),
            TypeError::Labels(e) => e.to_diagnostic(file),
            TypeError::Zones(e) => e.to_diagnostic(file),
            TypeError::RecordEvent(e) => e.to_diagnostic(file),
            TypeError::Replay(e) => e.to_diagnostic(file),
            TypeError::Hls(e) => e.to_diagnostic(file),
        }
    }
}
