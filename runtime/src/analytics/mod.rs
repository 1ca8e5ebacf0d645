//! Zone and line analytics and events, in plain Rust: what `vplanalyze` and `vplevents`
//! run on each frame's [`ObjectsData`](crate::meta::ObjectsData). `analyzer` counts objects
//! in zones, crossings of lines, dwell times and headings; `events` turns the results into
//! event messages, rate-limited in stream time; `message` writes them as docs/records.md's
//! JSON. No GStreamer here: the elements only hand frames over, so the logic is tested on
//! synthetic tracks.

pub mod analyzer;
pub mod events;
pub mod message;
#[cfg(test)]
pub(crate) mod testing;

use std::collections::BTreeMap;

use serde::Serialize;

pub use analyzer::Analyzer;
pub use events::EventMaker;

/// The counter that numbers the events of stream `stream` in this run, shared by every
/// `events` stage on that stream, so two stages never give two events one number.
pub fn stream_counter(stream: u32) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex, atomic::AtomicU64};
    static COUNTERS: LazyLock<Mutex<HashMap<u32, Arc<AtomicU64>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut counters = COUNTERS.lock().unwrap_or_else(|p| p.into_inner());
    counters.entry(stream).or_default().clone()
}

/// What names a track for the analytics: the stream its object came from and its id. After
/// `tile` one frame holds the objects of several streams, whose trackers each count ids
/// from 1; before it, `stream` is `None` and the id alone names the track.
pub type TrackKey = (Option<u32>, u64);

/// The track an object belongs to, if it is tracked.
pub fn track_key(object: &crate::meta::Object) -> Option<TrackKey> {
    object.track_id.map(|id| (object.stream, id))
}

/// A zone an object is in (`"zones"` on objects).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct InZone {
    pub zone: String,
    /// Seconds of stream time its track has been inside; `None` without a track.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dwell_s: Option<f64>,
}

/// A line an object's track crossed on this frame (`"crossed"` on objects).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Crossing {
    pub line: String,
    /// `forward` or `backward`.
    pub direction: &'static str,
}

/// One zone on one frame (`"analytics": {"zones": [...]}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ZoneCount {
    pub zone: String,
    pub count: u32,
    pub classes: BTreeMap<String, u32>,
    pub overcrowded: bool,
    /// The corners in the frame's pixels, for `overlay`.
    #[serde(skip)]
    pub points: Vec<[f64; 2]>,
}

/// Crossings in each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Both {
    pub forward: u64,
    pub backward: u64,
}

/// One line on one frame: crossings since the stream began (`"analytics": {"lines": [...]}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LineCount {
    pub line: String,
    pub forward: u64,
    pub backward: u64,
    pub classes: BTreeMap<String, Both>,
    /// The ends in the frame's pixels, for `overlay`.
    #[serde(skip)]
    pub ends: [[f64; 2]; 2],
}

/// What `analyze` measured on a frame.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FrameAnalytics {
    pub zones: Vec<ZoneCount>,
    pub lines: Vec<LineCount>,
}

/// The object an event is about, as it was on the event's frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventObject {
    pub track_id: Option<u64>,
    pub label: String,
    pub class_id: u32,
    pub confidence: f32,
    pub bbox: [f32; 4],
}

/// One event `events` made on a frame; written by the records sinks as docs/records.md's
/// message (`message::event_line`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: vpl_compiler::analytics::EventKind,
    /// Counts the stream's events in the run from 0 (over all its `events` stages): the
    /// message id's last part.
    pub seq: u64,
    /// The frame's time on the wall clock, in milliseconds since 1970.
    pub timestamp_ms: i64,
    pub zone: Option<String>,
    pub line: Option<String>,
    pub direction: Option<&'static str>,
    pub count: Option<u32>,
    pub classes: Option<BTreeMap<String, u32>>,
    pub label: Option<String>,
    pub object: Option<EventObject>,
}
