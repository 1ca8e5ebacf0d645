//! One frame's metadata → one line of spec §8's records (`{"pipeline", "stream", …}`).

use serde::Serialize;

use crate::meta::{self, Object, ObjectsData};

/// What a record says about its frame besides the meta.
pub struct Frame<'a> {
    pub pipeline: &'a str,
    pub source: &'a str,
    /// Used when the buffer has no meta.
    pub stream: u32,
    /// The id of a pool's stream (`stream_id`), for the slot's records.
    pub stream_id: Option<&'a str>,
    /// Used when the buffer has no meta.
    pub frame: u64,
    pub pts_ns: Option<u64>,
    /// From the caps; when unknown, the meta's source size is used.
    pub size: Option<(u32, u32)>,
    /// With `--latency`: the time since the frame left its source (`latency_ms`).
    pub latency_ns: Option<u64>,
    /// `vplc run --shard I/N`: I, in every record.
    pub shard: Option<u32>,
}

/// Field order is the spec's: serde writes fields in declaration order.
#[derive(Serialize)]
struct Record<'a> {
    pipeline: &'a str,
    stream: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_id: Option<&'a str>,
    /// The shard of `vplc run --shard I/N` that made the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<u32>,
    source: &'a str,
    frame: u64,
    pts_ns: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    objects: Vec<ObjectRecord<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<Label<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tensors: &'a [meta::Tensor],
    /// The objects are the last inference's, repeated on a frame `every` skipped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    repeated: bool,
    /// After `analyze`: counts per zone and line.
    #[serde(skip_serializing_if = "Option::is_none")]
    analytics: Option<&'a crate::analytics::FrameAnalytics>,
    /// With `--latency`: milliseconds from the source to the records sink, to the
    /// microsecond. Last: it is the only field of the record not about the frame itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<f64>,
}

#[derive(Serialize)]
struct ObjectRecord<'a> {
    label: &'a str,
    class_id: u32,
    confidence: f32,
    bbox: BBox,
    #[serde(skip_serializing_if = "Option::is_none")]
    track_id: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<Label<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tensors: &'a [meta::Tensor],
    /// A tracker's predicted box on a frame `every` skipped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    predicted: bool,
    /// After `tile`: the stream whose cell the object is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<u32>,
    /// What a text recogniser (`ctc`) read in the object's crop.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    /// `yolov8_seg`, `semantic`: RLE or polygons (`masks.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    mask: Option<serde_json::Value>,
    /// `yolov8_pose`: `[x, y, visibility]` each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keypoints: Vec<[f32; 3]>,
    /// After `analyze`: the zones the object is in, the lines it crossed, its heading.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    zones: &'a [crate::analytics::InZone],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    crossed: &'a [crate::analytics::Crossing],
    #[serde(skip_serializing_if = "Option::is_none")]
    heading_deg: Option<f32>,
}

#[derive(Serialize)]
struct BBox {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

#[derive(Serialize)]
struct Label<'a> {
    model: &'a str,
    label: &'a str,
    confidence: f32,
}

/// The JSON line for one frame, ending in `\n`.
///
/// After `events`, the frame's event messages instead (docs/records.md), one a line, or
/// nothing for a frame without events.
pub fn record_line(frame: &Frame, meta: Option<&ObjectsData>) -> String {
    if let Some(m) = meta
        && let Some(events) = &m.events
    {
        let origin = crate::analytics::message::Origin {
            pipeline: frame.pipeline,
            source: frame.source,
            stream: frame.stream,
            stream_id: frame.stream_id,
            frame: m.frame,
            pts_ns: frame.pts_ns,
            run: crate::analytics::message::run_id(),
        };
        return crate::analytics::message::event_lines(&origin, events);
    }
    let meta_size = meta
        .filter(|m| m.source_width > 0 && m.source_height > 0)
        .map(|m| (m.source_width, m.source_height));
    let size = frame.size.or(meta_size);
    let record = Record {
        pipeline: frame.pipeline,
        // The sink's own: the id of the stream it was built for (the metadata's may have
        // been made by an element that does not know it).
        stream: frame.stream,
        stream_id: frame.stream_id,
        shard: frame.shard,
        source: frame.source,
        frame: meta.map_or(frame.frame, |m| m.frame),
        pts_ns: frame.pts_ns,
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        objects: meta.map_or_else(Vec::new, |m| m.objects.iter().map(object).collect()),
        labels: meta.map_or_else(Vec::new, |m| labels(&m.labels)),
        tensors: meta.map_or(&[], |m| &m.tensors),
        repeated: meta.is_some_and(|m| m.repeated),
        analytics: meta.and_then(|m| m.analytics.as_ref()),
        latency_ms: frame.latency_ns.map(milliseconds),
    };
    // Serialising these plain structs cannot fail: every key is a string.
    let mut line = serde_json::to_string(&record).unwrap_or_default();
    line.push('\n');
    line
}

/// Nanoseconds as milliseconds with three decimals (whole microseconds).
fn milliseconds(ns: u64) -> f64 {
    (ns as f64 / 1e3).round() / 1e3
}

fn object(o: &Object) -> ObjectRecord<'_> {
    ObjectRecord {
        label: &o.label,
        class_id: o.class_id,
        confidence: o.confidence,
        bbox: BBox {
            x: o.x,
            y: o.y,
            w: o.w,
            h: o.h,
        },
        track_id: o.track_id,
        labels: labels(&o.labels),
        tensors: &o.tensors,
        predicted: o.predicted,
        stream: o.stream,
        text: o.text.as_deref(),
        mask: o.mask.as_ref().map(crate::masks::Mask::record),
        keypoints: crate::masks::keypoints_record(&o.keypoints),
        zones: &o.zones,
        crossed: &o.crossed,
        heading_deg: o.heading_deg,
    }
}

fn labels(labels: &[meta::Label]) -> Vec<Label<'_>> {
    labels
        .iter()
        .map(|l| Label {
            model: &l.model,
            label: &l.label,
            confidence: l.confidence,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::Event;
    use vpl_compiler::analytics::EventKind;

    fn frame(shard: Option<u32>) -> Frame<'static> {
        Frame {
            pipeline: "p",
            source: "cam.mp4",
            stream: 2,
            frame: 7,
            pts_ns: Some(280_000_000),
            size: Some((64, 48)),
            stream_id: None,
            latency_ns: None,
            shard,
        }
    }

    /// `--shard 1/3`: `"shard": 1` after `"stream"`; without it, no `shard` key at all.
    #[test]
    fn records_name_their_shard_only_when_run_as_one() {
        let line = record_line(&frame(Some(1)), None);
        assert!(
            line.starts_with(
                r#"{"pipeline":"p","stream":2,"shard":1,"source":"cam.mp4","frame":7"#
            ),
            "{line}"
        );
        let line = record_line(&frame(None), None);
        assert!(!line.contains("shard"), "{line}");
    }

    /// A pool stream's event lines name it: `stream_id`, and `sensorId` is its id, not
    /// the slot's source.
    #[test]
    fn a_pool_streams_event_lines_carry_its_id() {
        let meta = ObjectsData {
            events: Some(vec![Event {
                kind: EventKind::Exit,
                seq: 3,
                timestamp_ms: 1_796_067_004_000,
                zone: Some("door".into()),
                line: None,
                direction: None,
                count: None,
                classes: None,
                label: None,
                object: None,
            }]),
            ..ObjectsData::default()
        };
        let frame = |stream_id| Frame {
            pipeline: "live",
            source: "pool cams, slot 1",
            stream: 1,
            stream_id,
            frame: 0,
            pts_ns: Some(40_000_000),
            size: None,
            latency_ns: None,
            shard: None,
        };
        let line: serde_json::Value =
            serde_json::from_str(&record_line(&frame(Some("door-1")), Some(&meta)))
                .expect("a JSON line");
        assert_eq!(line["stream_id"], "door-1");
        assert_eq!(line["sensorId"], "door-1");
        assert_eq!(line["sensor"]["id"], "door-1");
        assert_eq!(line["stream"], 1);
        // A program's own stream keeps its source as the sensor, and no stream_id.
        let line: serde_json::Value =
            serde_json::from_str(&record_line(&frame(None), Some(&meta))).expect("a JSON line");
        assert!(line.get("stream_id").is_none(), "{line}");
        assert_eq!(line["sensorId"], "pool cams, slot 1");
    }
}
