//! `vplrecords`: frames with `VplObjectsMeta` → JSON lines (spec §8, docs/records.md) in a file or stdout.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::prelude::*;
use gstreamer_base::subclass::prelude::*;

use super::line::{Frame, record_line};
use super::writer::{SharedWriter, broker_writer_for, writer_for};
use crate::meta::VplObjectsMeta;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "vplrecords",
        gst::DebugColorFlags::empty(),
        Some("vpl metadata records writer"),
    )
});

const DEFAULT_LOCATION: &str = "-";
const DEFAULT_STREAM: u32 = 0;
const DEFAULT_BUFFER: u32 = 10_000;

#[derive(Debug, Clone)]
struct Settings {
    location: String,
    pipeline: String,
    source: String,
    stream: u32,
    /// The id of the stream a pool's slot is bound to (`{stream}` filled in): written in
    /// every record as `stream_id` when not empty.
    stream_id: String,
    /// With a broker's URL as `location`: the MQTT topic or Redis stream, and the queue.
    topic: String,
    buffer: u32,
    /// `vplc run --latency`: each frame record's `latency_ms`.
    latency: bool,
    /// With a Kafka location: every message's key (`key: stream`), none when empty.
    key: String,
    /// `vplc run --shard I/N`: I, written in every record; -1: none.
    shard: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            location: DEFAULT_LOCATION.to_string(),
            pipeline: String::new(),
            source: String::new(),
            stream: DEFAULT_STREAM,
            stream_id: String::new(),
            topic: String::new(),
            buffer: DEFAULT_BUFFER,
            latency: false,
            key: String::new(),
            shard: -1,
        }
    }
}

struct State {
    writer: Arc<SharedWriter>,
    settings: Settings,
    /// Frame size from the caps, when they have one.
    size: Option<(u32, u32)>,
    /// Frames seen, for records of buffers without a meta.
    frames: u64,
}

#[derive(Default)]
pub struct VplRecords {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
}

impl VplRecords {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, Option<State>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn stream_removed(&self, frames: u64, reason: &str) -> Result<(), String> {
        let guard = self.state();
        let Some(state) = guard.as_ref() else {
            return Err("the records element is not started".into());
        };
        let settings = &state.settings;
        #[derive(serde::Serialize)]
        struct Removed<'a> {
            event: &'a str,
            pipeline: &'a str,
            stream: u32,
            stream_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            shard: Option<u32>,
            frames: u64,
            reason: &'a str,
        }
        let line = serde_json::to_string(&Removed {
            event: "stream_removed",
            pipeline: &settings.pipeline,
            stream: settings.stream,
            stream_id: &settings.stream_id,
            shard: u32::try_from(settings.shard).ok(),
            frames,
            reason,
        })
        .map_err(|e| e.to_string())?;
        let writer = state.writer.clone();
        let key = settings.key.clone();
        drop(guard);
        // Keyed as the stream's frames are: its last line in the same partition, after them.
        let line = format!("{line}\n");
        let written = if key.is_empty() {
            writer.write_line(&line)
        } else {
            writer.write_keyed_line(&key, &line)
        };
        written.map_err(|e| format!("cannot write records to {}: {e}", self.settings().location))
    }

    fn flush(&self) -> Result<(), gst::ErrorMessage> {
        let writer = self.state().as_ref().map(|s| s.writer.clone());
        match writer.map(|w| w.flush()) {
            Some(Err(e)) => Err(gst::error_msg!(
                gst::ResourceError::Write,
                (
                    "Could not write records to {}: {}",
                    self.settings().location,
                    e
                )
            )),
            _ => Ok(()),
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for VplRecords {
    const NAME: &'static str = "VplRecords";
    type Type = super::VplRecords;
    type ParentType = gst_base::BaseSink;
}

impl ObjectImpl for VplRecords {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb("File to write the records to, \"-\" for standard output, or a broker (mqtt[s]://, redis[s]://, kafka[s]://LIST)")
                    .default_value(Some(DEFAULT_LOCATION))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("pipeline")
                    .nick("Pipeline")
                    .blurb("Name of the vpl pipeline, written in every record")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("source")
                    .nick("Source")
                    .blurb("Name of the stream's source (a file name), written in every record")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("topic")
                    .nick("Topic")
                    .blurb("With a broker location: the MQTT or Kafka topic or the Redis stream key")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("buffer")
                    .nick("Buffer")
                    .blurb("With a broker location: messages held until acknowledged; the oldest is dropped when full")
                    .minimum(1)
                    .default_value(DEFAULT_BUFFER)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("key")
                    .nick("Key")
                    .blurb("With a Kafka location: the key of every message (the stream's id), so they share a partition; none when empty")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecInt::builder("shard")
                    .nick("Shard")
                    .blurb("The shard of `vplc run --shard I/N` (I), written in every record as \"shard\"; -1: none")
                    .minimum(-1)
                    .default_value(-1)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("stream")
                    .nick("Stream")
                    .blurb("Stream index for frames that carry no vpl metadata")
                    .default_value(DEFAULT_STREAM)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("latency")
                    .nick("Latency")
                    .blurb("Write each frame's time since it left its source as \"latency_ms\" (frames stamped by vplc run --latency or --metrics)")
                    .default_value(false)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("stream-id")
                    .nick("Stream id")
                    .blurb("The id of the pool stream the records are of, written as stream_id")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings();
        match pspec.name() {
            "location" => {
                settings.location = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| DEFAULT_LOCATION.to_string())
            }
            "pipeline" => {
                settings.pipeline = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            }
            "source" => {
                settings.source = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            }
            "stream" => settings.stream = value.get().unwrap_or(DEFAULT_STREAM),
            "stream-id" => {
                settings.stream_id = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            }
            "topic" => {
                settings.topic = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            }
            "buffer" => settings.buffer = value.get().unwrap_or(DEFAULT_BUFFER),
            "latency" => settings.latency = value.get().unwrap_or(false),
            "shard" => settings.shard = value.get().unwrap_or(-1),
            "key" => {
                settings.key = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            }
            other => gst::warning!(CAT, imp = self, "no property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings();
        match pspec.name() {
            "location" => settings.location.to_value(),
            "pipeline" => settings.pipeline.to_value(),
            "source" => settings.source.to_value(),
            "stream" => settings.stream.to_value(),
            "stream-id" => settings.stream_id.to_value(),
            "topic" => settings.topic.to_value(),
            "buffer" => settings.buffer.to_value(),
            "latency" => settings.latency.to_value(),
            "key" => settings.key.to_value(),
            "shard" => settings.shard.to_value(),
            // GLib only asks for properties listed above.
            _ => glib::Value::from_type(pspec.value_type()),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        // Records are data, not playback: write as fast as frames come.
        self.obj().set_sync(false);
    }
}

impl GstObjectImpl for VplRecords {}

impl ElementImpl for VplRecords {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "vpl records",
                "Sink/Metadata",
                "Writes the vpl object metadata of each frame as one JSON line",
                "vpl",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink = gst::PadTemplate::new(
                "sink",
                gst::PadDirection::Sink,
                gst::PadPresence::Always,
                &gst::Caps::new_any(),
            );
            // A static template with ANY caps is always valid.
            vec![sink.expect("sink pad template")]
        });
        TEMPLATES.as_ref()
    }
}

impl BaseSinkImpl for VplRecords {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self.settings().clone();
        let writer = if crate::brokers::protocol_of(&settings.location).is_some() {
            // Broker trouble is a warning on the bus, from the sink of the first stream.
            let element = self.obj().downgrade();
            let report: crate::brokers::Reporter = Box::new(move |text: &str| {
                if let Some(element) = element.upgrade() {
                    let message = gst::message::Warning::builder(gst::ResourceError::Write, text)
                        .src(&element)
                        .build();
                    let _ = element.post_message(message);
                }
            });
            broker_writer_for(
                &settings.location,
                &settings.topic,
                settings.buffer as usize,
                report,
            )
        } else {
            writer_for(&settings.location)
        };
        let writer = writer.map_err(|e| {
            gst::error_msg!(
                gst::ResourceError::OpenWrite,
                ("Could not create records file {}: {}", settings.location, e)
            )
        })?;
        gst::debug!(CAT, imp = self, "writing records to {}", settings.location);
        *self.state() = Some(State {
            writer,
            settings,
            size: None,
            frames: 0,
        });
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        let flushed = self.flush();
        *self.state() = None;
        flushed
    }

    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let size = caps.structure(0).and_then(|s| {
            let width = s.get::<i32>("width").ok()?;
            let height = s.get::<i32>("height").ok()?;
            Some((u32::try_from(width).ok()?, u32::try_from(height).ok()?))
        });
        if let Some(state) = self.state().as_mut() {
            state.size = size;
        }
        Ok(())
    }

    fn render(&self, buffer: &gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut guard = self.state();
        let Some(state) = guard.as_mut() else {
            return Err(gst::FlowError::Flushing);
        };
        let frame = Frame {
            pipeline: &state.settings.pipeline,
            source: &state.settings.source,
            stream: state.settings.stream,
            stream_id: Some(state.settings.stream_id.as_str()).filter(|id| !id.is_empty()),
            frame: state.frames,
            pts_ns: buffer.pts().map(gst::ClockTime::nseconds),
            size: state.size,
            latency_ns: if state.settings.latency {
                crate::metrics::since_entered(buffer)
            } else {
                None
            },
            shard: u32::try_from(state.settings.shard).ok(),
        };
        let line = record_line(&frame, VplObjectsMeta::get(buffer));
        state.frames += 1;
        let writer = state.writer.clone();
        let key = state.settings.key.clone();
        drop(guard);
        let written = if key.is_empty() {
            writer.write_line(&line)
        } else {
            writer.write_keyed_line(&key, &line)
        };
        written.map_err(|e| {
            gst::element_imp_error!(
                self,
                gst::ResourceError::Write,
                (
                    "Could not write records to {}: {}",
                    self.settings().location,
                    e
                )
            );
            gst::FlowError::Error
        })?;
        Ok(gst::FlowSuccess::Ok)
    }

    fn event(&self, event: gst::Event) -> bool {
        if let gst::EventView::Eos(_) = event.view()
            && let Err(e) = self.flush()
        {
            self.post_error_message(e);
            return false;
        }
        self.parent_event(event)
    }
}
