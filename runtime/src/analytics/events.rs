//! One stream's events: each frame's analytics (from `analyze`) → the events of
//! docs/records.md (entry, exit, crossing, overcrowding, appeared, count), rate-limited in
//! stream time so a file gives the same events at any speed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use vpl_compiler::analytics::{EventKind, EventsConfig};

use super::{Event, EventObject};
use crate::meta::{Object, ObjectsData};

/// A track unseen this long has left the zones it was in (its track ended).
pub const EXIT_AFTER_NS: u64 = 1_000_000_000;

#[derive(Debug)]
struct Inside {
    zones: Vec<String>,
    last_seen_ns: u64,
    object: EventObject,
}

pub struct EventMaker {
    config: EventsConfig,
    /// Numbers the events: this maker's own, or the stream's, shared by every `events`
    /// stage on it ([`super::stream_counter`]).
    seq: Arc<AtomicU64>,
    /// The wall clock (ms since 1970) at stream time 0, fixed on the first frame.
    start_ms: Option<i64>,
    seen_labels: HashSet<String>,
    /// By track ([`super::track_key`]: after `tile`, the stream and the id).
    inside: HashMap<super::TrackKey, Inside>,
    overcrowded: HashMap<String, bool>,
    sent_counts: HashMap<String, u32>,
    last_sent: HashMap<(EventKind, String), u64>,
}

fn event_object(o: &Object) -> EventObject {
    EventObject {
        track_id: o.track_id,
        label: o.label.clone(),
        class_id: o.class_id,
        confidence: o.confidence,
        bbox: [o.x, o.y, o.w, o.h],
    }
}

impl EventMaker {
    pub fn new(config: EventsConfig) -> EventMaker {
        EventMaker {
            config,
            seq: Arc::new(AtomicU64::new(0)),
            start_ms: None,
            seen_labels: HashSet::new(),
            inside: HashMap::new(),
            overcrowded: HashMap::new(),
            sent_counts: HashMap::new(),
            last_sent: HashMap::new(),
        }
    }

    /// Numbers the events with `counter` (shared with other makers of the same stream).
    pub fn numbered_by(mut self, counter: Arc<AtomicU64>) -> EventMaker {
        self.seq = counter;
        self
    }

    fn wants(&self, kind: EventKind) -> bool {
        self.config.on.contains(&kind)
    }

    /// Whether an event of `kind` about `key` may go out at `pts_ns` (and if so, notes it).
    fn allow(&mut self, kind: EventKind, key: &str, pts_ns: u64) -> bool {
        if !self.wants(kind) {
            return false;
        }
        let every = self.config.every_ns;
        let slot = (kind, key.to_string());
        if every > 0
            && let Some(last) = self.last_sent.get(&slot)
            && pts_ns.saturating_sub(*last) < every
        {
            return false;
        }
        self.last_sent.insert(slot, pts_ns);
        true
    }

    /// The events of one frame at stream time `pts_ns`; `now_ms` is the wall clock, read
    /// once (the first frame's) to date the stream.
    pub fn process(&mut self, data: &ObjectsData, pts_ns: u64, now_ms: i64) -> Vec<Event> {
        let start = *self
            .start_ms
            .get_or_insert(now_ms - (pts_ns / 1_000_000) as i64);
        let timestamp_ms = start + (pts_ns / 1_000_000) as i64;
        let mut out: Vec<Event> = Vec::new();
        let push = |out: &mut Vec<Event>, kind, fill: &dyn Fn(&mut Event)| {
            let mut e = Event {
                kind,
                seq: 0,
                timestamp_ms,
                zone: None,
                line: None,
                direction: None,
                count: None,
                classes: None,
                label: None,
                object: None,
            };
            fill(&mut e);
            out.push(e);
        };
        for o in &data.objects {
            if !self.seen_labels.contains(&o.label) {
                self.seen_labels.insert(o.label.clone());
                if self.allow(EventKind::Appeared, &o.label, pts_ns) {
                    push(&mut out, EventKind::Appeared, &|e| {
                        e.label = Some(o.label.clone());
                        e.object = Some(event_object(o));
                    });
                }
            }
            let Some(id) = super::track_key(o) else {
                continue;
            };
            let now: Vec<String> = o.zones.iter().map(|z| z.zone.clone()).collect();
            let before = self.inside.remove(&id).map(|i| i.zones).unwrap_or_default();
            for zone in now.iter().filter(|z| !before.contains(z)) {
                if self.allow(EventKind::Entry, zone, pts_ns) {
                    push(&mut out, EventKind::Entry, &|e| {
                        e.zone = Some(zone.clone());
                        e.object = Some(event_object(o));
                    });
                }
            }
            for zone in before.iter().filter(|z| !now.contains(z)) {
                if self.allow(EventKind::Exit, zone, pts_ns) {
                    push(&mut out, EventKind::Exit, &|e| {
                        e.zone = Some(zone.clone());
                        e.object = Some(event_object(o));
                    });
                }
            }
            for c in &o.crossed {
                if self.allow(EventKind::Crossing, &c.line, pts_ns) {
                    push(&mut out, EventKind::Crossing, &|e| {
                        e.line = Some(c.line.clone());
                        e.direction = Some(c.direction);
                        e.object = Some(event_object(o));
                    });
                }
            }
            if !now.is_empty() {
                self.inside.insert(
                    id,
                    Inside {
                        zones: now,
                        last_seen_ns: pts_ns,
                        object: event_object(o),
                    },
                );
            }
        }
        // Tracks gone for a while have left their zones.
        let gone: Vec<super::TrackKey> = self
            .inside
            .iter()
            .filter(|(_, i)| pts_ns.saturating_sub(i.last_seen_ns) >= EXIT_AFTER_NS)
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some(i) = self.inside.remove(&id) {
                for zone in &i.zones {
                    if self.allow(EventKind::Exit, zone, pts_ns) {
                        push(&mut out, EventKind::Exit, &|e| {
                            e.zone = Some(zone.clone());
                            e.object = Some(i.object.clone());
                        });
                    }
                }
            }
        }
        if let Some(analytics) = &data.analytics {
            for z in &analytics.zones {
                let was = self.overcrowded.insert(z.zone.clone(), z.overcrowded);
                if z.overcrowded
                    && was != Some(true)
                    && self.allow(EventKind::Overcrowding, &z.zone, pts_ns)
                {
                    push(&mut out, EventKind::Overcrowding, &|e| {
                        e.zone = Some(z.zone.clone());
                        e.count = Some(z.count);
                    });
                }
                if self.wants(EventKind::Count)
                    && self.sent_counts.get(&z.zone) != Some(&z.count)
                    && self.allow(EventKind::Count, &z.zone, pts_ns)
                {
                    self.sent_counts.insert(z.zone.clone(), z.count);
                    push(&mut out, EventKind::Count, &|e| {
                        e.zone = Some(z.zone.clone());
                        e.count = Some(z.count);
                        e.classes = Some(z.classes.clone());
                    });
                }
            }
        }
        for e in &mut out {
            e.seq = self.seq.fetch_add(1, Ordering::Relaxed);
        }
        out
    }
}

impl EventMaker {
    /// The stream leaves (a pool's stream removed, or its file ended): every track still
    /// inside a zone exits it now, at stream time `pts_ns`, and nothing of the stream is
    /// kept. The exits are numbered as the frames' events are; the rate limit does not
    /// hold them back (they are the last of the stream).
    pub fn leave(&mut self, pts_ns: u64, now_ms: i64) -> Vec<Event> {
        let start = *self
            .start_ms
            .get_or_insert(now_ms - (pts_ns / 1_000_000) as i64);
        let timestamp_ms = start + (pts_ns / 1_000_000) as i64;
        let mut inside: Vec<(super::TrackKey, Inside)> = self.inside.drain().collect();
        inside.sort_by_key(|(id, _)| *id);
        let mut out = Vec::new();
        if self.wants(EventKind::Exit) {
            for (_, i) in inside {
                for zone in i.zones {
                    out.push(Event {
                        kind: EventKind::Exit,
                        seq: self.seq.fetch_add(1, Ordering::Relaxed),
                        timestamp_ms,
                        zone: Some(zone),
                        line: None,
                        direction: None,
                        count: None,
                        classes: None,
                        label: None,
                        object: Some(i.object.clone()),
                    });
                }
            }
        }
        *self = EventMaker::new(self.config.clone()).numbered_by(self.seq.clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use vpl_compiler::analytics::AnalyzeConfig;

    use super::*;
    use crate::analytics::Analyzer;
    use crate::analytics::testing::{FRAME_NS, door, frame, line, person};

    fn analyze_config() -> AnalyzeConfig {
        AnalyzeConfig {
            zones: vec![door(1)],
            lines: vec![line("gate", [0.0, 50.0], [100.0, 50.0])],
        }
    }

    /// Track 1 walks right through the door zone (enters, leaves), track 2 walks down
    /// across the gate inside the zone and then vanishes (its track ends inside).
    fn run(on: &[EventKind], every_ns: u64) -> Vec<(u64, EventKind, Option<String>)> {
        let mut analyzer = Analyzer::new(analyze_config());
        let mut events = EventMaker::new(EventsConfig {
            on: on.to_vec(),
            every_ns,
            stream: 0,
        });
        let mut out = Vec::new();
        for step in 0..30u64 {
            let mut objects = vec![person(1, 30.0 + step as f32 * 2.0, 90.0)];
            if step < 10 {
                objects.push(person(2, 20.0, 30.0 + step as f32 * 5.0));
            }
            let mut data = frame(objects);
            analyzer.process(&mut data, step * FRAME_NS);
            for e in events.process(&data, step * FRAME_NS, 1_000_000) {
                let what = e.zone.clone().or(e.line.clone()).or(e.label.clone());
                out.push((step, e.kind, what));
            }
        }
        out
    }

    #[test]
    fn entries_exits_crossings_and_the_first_of_a_label() {
        let all = [
            EventKind::Entry,
            EventKind::Exit,
            EventKind::Crossing,
            EventKind::Overcrowding,
            EventKind::Appeared,
        ];
        let door = || Some("door".to_string());
        assert_eq!(
            run(&all, 0),
            [
                (0, EventKind::Appeared, Some("person".to_string())),
                (0, EventKind::Entry, door()),
                (0, EventKind::Entry, door()),
                (0, EventKind::Overcrowding, door()),
                // Track 2's anchor: 30 + 5 * step crosses 50 between steps 4 and 5.
                (5, EventKind::Crossing, Some("gate".to_string())),
                // Track 1's anchor: 30 + 2 * step leaves x < 50 at step 10.
                (10, EventKind::Exit, door()),
                // Track 2, last seen at step 9, is gone 1 s later.
                (19, EventKind::Exit, door()),
            ]
        );
    }

    #[test]
    fn counts_on_change_at_most_once_a_second() {
        // The door holds 2 on steps 0-9, then 0 from step 10 (track 1 walked out, track 2
        // is no longer detected): two counts sent.
        let counts = run(&[EventKind::Count], 0);
        assert_eq!(
            counts.iter().map(|e| e.0).collect::<Vec<_>>(),
            [0, 10],
            "{counts:?}"
        );
        // Every 1.5 s: the change at step 10 (1.0 s) is held back to step 15.
        let limited = run(&[EventKind::Count], 1_500_000_000);
        assert_eq!(limited.iter().map(|e| e.0).collect::<Vec<_>>(), [0, 15]);
        // Entries of one zone at most every second: the second entry at step 0 is dropped.
        let entries = run(&[EventKind::Entry], 1_000_000_000);
        assert_eq!(entries.len(), 1);
    }

    /// Found by a hostile test (issue 19): after `tile`, two streams' objects with the
    /// same track id were one track to the events: one in the door and one outside gave an
    /// entry and an exit every frame. Keyed by stream and id, there is one entry.
    #[test]
    fn equal_track_ids_of_two_streams_are_two_tracks() {
        let mut analyzer = Analyzer::new(analyze_config());
        let mut events = EventMaker::new(EventsConfig {
            on: vec![EventKind::Entry, EventKind::Exit],
            every_ns: 0,
            stream: 0,
        });
        let mut out = Vec::new();
        for step in 0..10u64 {
            let mut inside = person(1, 20.0, 90.0);
            inside.stream = Some(0);
            let mut outside = person(1, 80.0, 90.0);
            outside.stream = Some(1);
            let mut data = frame(vec![inside, outside]);
            analyzer.process(&mut data, step * FRAME_NS);
            for e in events.process(&data, step * FRAME_NS, 1_000_000) {
                out.push((step, e.kind, e.object.and_then(|o| o.track_id)));
            }
        }
        assert_eq!(out, [(0, EventKind::Entry, Some(1))]);
    }

    /// A stream that leaves with track 2 inside the door: one exit of the door for it, and
    /// the next stream in the slot starts with nothing of this one's.
    #[test]
    fn a_stream_that_leaves_exits_its_tracks_from_their_zones() {
        let mut analyzer = Analyzer::new(analyze_config());
        let mut events = EventMaker::new(EventsConfig {
            on: vec![EventKind::Entry, EventKind::Exit],
            every_ns: 0,
            stream: 0,
        });
        let mut data = frame(vec![person(2, 20.0, 60.0), person(3, 80.0, 60.0)]);
        analyzer.process(&mut data, 0);
        let entered = events.process(&data, 0, 1_000);
        assert_eq!(entered.len(), 1);
        let left = events.leave(FRAME_NS, 1_000);
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].kind, EventKind::Exit);
        assert_eq!(left[0].zone.as_deref(), Some("door"));
        assert_eq!(left[0].object.as_ref().and_then(|o| o.track_id), Some(2));
        assert_eq!(left[0].seq, entered[0].seq + 1);
        assert!(events.leave(2 * FRAME_NS, 1_000).is_empty());
        // Seen again after, track 2 enters anew.
        analyzer.process(&mut data, 3 * FRAME_NS);
        assert_eq!(events.process(&data, 3 * FRAME_NS, 1_000).len(), 1);
    }
}
