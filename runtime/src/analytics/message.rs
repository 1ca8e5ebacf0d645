//! Events → the JSON messages of docs/records.md, close to DeepStream's nvmsgconv schema
//! (`messageid`, `mdsversion`, `@timestamp`, `sensorId`, `object`, `event`), one a line.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;

use serde::Serialize;

use super::Event;
/// `2026-11-30T19:30:04.000Z` for milliseconds since 1970 (UTC): events' `@timestamp`.
pub use crate::utc::iso8601;

/// What the sink knows about the frame an event came from.
pub struct Origin<'a> {
    pub pipeline: &'a str,
    pub source: &'a str,
    pub stream: u32,
    /// The id of a pool's stream (`stream_id`): its events' `sensorId` too, rather than
    /// the slot's source.
    pub stream_id: Option<&'a str>,
    pub frame: u64,
    pub pts_ns: Option<u64>,
    /// The run's id in message ids ([`run_id`]).
    pub run: &'a str,
}

#[derive(Serialize)]
struct Message<'a> {
    messageid: &'a str,
    mdsversion: &'static str,
    #[serde(rename = "@timestamp")]
    timestamp: String,
    #[serde(rename = "sensorId")]
    sensor_id: &'a str,
    /// DeepStream's full schema names the source `sensor.id`; both are written.
    sensor: Sensor<'a>,
    pipeline: &'a str,
    stream: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_id: Option<&'a str>,
    frame: u64,
    pts_ns: Option<u64>,
    event: EventPart<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<ObjectPart<'a>>,
}

#[derive(Serialize)]
struct Sensor<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct EventPart<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<&'a BTreeMap<String, u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
}

#[derive(Serialize)]
struct ObjectPart<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    label: &'a str,
    class_id: u32,
    confidence: f32,
    bbox: Corners,
}

/// DeepStream's box: corners in whole pixels.
#[derive(Serialize)]
struct Corners {
    topleftx: i64,
    toplefty: i64,
    bottomrightx: i64,
    bottomrighty: i64,
}

/// This run's id: 16 hex digits, drawn when the first event is written, from the clock,
/// the process id and the system's randomness (std's hasher keys), so two runs (restarts,
/// or processes on two machines) do not share one.
pub fn run_id() -> &'static str {
    static RUN: LazyLock<String> = LazyLock::new(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id = RandomState::new().hash_one((nanos, std::process::id()));
        format!("{id:016x}")
    });
    &RUN
}

/// A message's id, `PIPELINE-STREAM-RUN-N` (docs/records.md): unique across the `events`
/// stages of a run (they share the stream's numbering) and across runs (`RUN`).
pub fn message_id(pipeline: &str, stream: u32, run: &str, seq: u64) -> String {
    format!("{pipeline}-{stream}-{run}-{seq}")
}

/// The JSON lines (each ending in `\n`) of a frame's events.
pub fn event_lines(origin: &Origin, events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let id = message_id(origin.pipeline, origin.stream, origin.run, e.seq);
        let object = e.object.as_ref().map(|o| ObjectPart {
            id: o.track_id.map(|t| t.to_string()),
            label: &o.label,
            class_id: o.class_id,
            confidence: o.confidence,
            bbox: Corners {
                topleftx: o.bbox[0].round() as i64,
                toplefty: o.bbox[1].round() as i64,
                bottomrightx: (o.bbox[0] + o.bbox[2]).round() as i64,
                bottomrighty: (o.bbox[1] + o.bbox[3]).round() as i64,
            },
        });
        let message = Message {
            messageid: &id,
            mdsversion: "1.0",
            timestamp: iso8601(e.timestamp_ms),
            sensor_id: origin.stream_id.unwrap_or(origin.source),
            sensor: Sensor {
                id: origin.stream_id.unwrap_or(origin.source),
            },
            pipeline: origin.pipeline,
            stream: origin.stream,
            stream_id: origin.stream_id,
            frame: origin.frame,
            pts_ns: origin.pts_ns,
            event: EventPart {
                id: &id,
                kind: e.kind.as_str(),
                zone: e.zone.as_deref(),
                line: e.line.as_deref(),
                direction: e.direction,
                count: e.count,
                classes: e.classes.as_ref(),
                label: e.label.as_deref(),
            },
            object,
        };
        // Plain structs with string keys: serialising cannot fail.
        out.push_str(&serde_json::to_string(&message).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::EventObject;
    use vpl_compiler::analytics::EventKind;

    #[test]
    fn the_run_id_is_sixteen_hex_digits_and_the_same_all_run() {
        let run = run_id();
        assert_eq!(run.len(), 16);
        assert!(run.chars().all(|c| c.is_ascii_hexdigit()), "{run}");
        assert_eq!(run, run_id());
        assert_eq!(message_id("zones", 1, run, 7), format!("zones-1-{run}-7"));
    }

    #[test]
    fn an_entry_reads_as_docs_records_md_shows_it() {
        let event = Event {
            kind: EventKind::Entry,
            seq: 17,
            timestamp_ms: 1_796_067_004_000,
            zone: Some("door".into()),
            line: None,
            direction: None,
            count: None,
            classes: None,
            label: None,
            object: Some(EventObject {
                track_id: Some(3),
                label: "person".into(),
                class_id: 0,
                confidence: 0.8,
                bbox: [412.0, 140.4, 30.0, 80.0],
            }),
        };
        let origin = Origin {
            pipeline: "zones",
            source: "vtest.avi",
            stream: 0,
            stream_id: None,
            frame: 40,
            pts_ns: Some(4_000_000_000),
            run: "0f1e2d3c4b5a6978",
        };
        assert_eq!(
            event_lines(&origin, &[event]),
            concat!(
                r#"{"messageid":"zones-0-0f1e2d3c4b5a6978-17","mdsversion":"1.0","#,
                r#""@timestamp":"2026-11-30T19:30:04.000Z","sensorId":"vtest.avi","#,
                r#""sensor":{"id":"vtest.avi"},"pipeline":"zones","stream":0,"frame":40,"#,
                r#""pts_ns":4000000000,"event":{"id":"zones-0-0f1e2d3c4b5a6978-17","#,
                r#""type":"entry","zone":"door"},"#,
                r#""object":{"id":"3","label":"person","class_id":0,"confidence":0.8,"#,
                r#""bbox":{"topleftx":412,"toplefty":140,"bottomrightx":442,"bottomrighty":220}}}"#,
                "\n"
            )
        );
    }
}
