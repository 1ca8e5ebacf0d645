//! `record(when: EVENT, at: NAME)`: whether a frame triggers a clip, decided by the same
//! [`EventMaker`] `events(on: [EVENT])` runs, so a clip is triggered on exactly the frames
//! where `events` would send that event (of that zone or line, when `at` names one).

use vpl_compiler::analytics::{EventKind, EventsConfig};

use crate::analytics::EventMaker;
use crate::meta::ObjectsData;

pub struct EventTrigger {
    maker: EventMaker,
    kind: EventKind,
    /// The zone or line the event must be about; empty: any.
    at: String,
}

impl EventTrigger {
    pub fn new(kind: EventKind, at: &str) -> EventTrigger {
        EventTrigger {
            maker: EventMaker::new(EventsConfig {
                on: vec![kind],
                every_ns: 0,
                stream: 0,
            }),
            kind,
            at: at.to_string(),
        }
    }

    /// Whether this frame (its analytics, at stream time `pts_ns`) makes the event.
    pub fn hit(&mut self, data: &ObjectsData, pts_ns: u64) -> bool {
        // The wall clock only dates messages; a trigger needs none.
        self.maker.process(data, pts_ns, 0).iter().any(|e| {
            e.kind == self.kind
                && (self.at.is_empty()
                    || e.zone.as_deref() == Some(self.at.as_str())
                    || e.line.as_deref() == Some(self.at.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use vpl_compiler::analytics::AnalyzeConfig;

    use super::*;
    use crate::analytics::Analyzer;
    use crate::analytics::testing::{FRAME_NS, door, frame, line, person};

    /// A zone `door` (left half), lines `gate` (y = 50) and `fence` (x = 80); track 1 walks
    /// down across the gate (steps 4→5), track 2 walks right across the fence (steps
    /// 10→11); track 3 appears at step 20 inside the door.
    fn frames() -> Vec<ObjectsData> {
        (0..30u64)
            .map(|step| {
                let s = step as f32;
                let mut objects = vec![
                    person(1, 20.0, 30.0 + s * 5.0),
                    person(2, 60.0 + s * 2.0, 95.0),
                ];
                if step >= 20 {
                    objects.push(person(3, 10.0, 90.0));
                }
                frame(objects)
            })
            .collect()
    }

    fn config() -> AnalyzeConfig {
        AnalyzeConfig {
            zones: vec![door(0)],
            lines: vec![
                line("gate", [0.0, 50.0], [100.0, 50.0]),
                line("fence", [80.0, 0.0], [80.0, 100.0]),
            ],
        }
    }

    /// The steps on which the trigger fires.
    fn hits(kind: EventKind, at: &str) -> Vec<u64> {
        let mut analyzer = Analyzer::new(config());
        let mut trigger = EventTrigger::new(kind, at);
        let mut out = Vec::new();
        for (step, mut data) in frames().into_iter().enumerate() {
            let step = step as u64;
            analyzer.process(&mut data, step * FRAME_NS);
            if trigger.hit(&data, step * FRAME_NS) {
                out.push(step);
            }
        }
        out
    }

    /// The steps on which `events(on: [kind])` sends an event about `at` (or any).
    fn events(kind: EventKind, at: &str) -> Vec<u64> {
        let mut analyzer = Analyzer::new(config());
        let mut maker = EventMaker::new(EventsConfig {
            on: vec![kind],
            every_ns: 0,
            stream: 0,
        });
        let mut out = Vec::new();
        for (step, mut data) in frames().into_iter().enumerate() {
            let step = step as u64;
            analyzer.process(&mut data, step * FRAME_NS);
            let sent = maker.process(&data, step * FRAME_NS, 1_000_000);
            if sent.iter().any(|e| {
                at.is_empty() || e.zone.as_deref() == Some(at) || e.line.as_deref() == Some(at)
            }) {
                out.push(step);
            }
        }
        out
    }

    #[test]
    fn a_crossing_triggers_on_the_frame_of_the_crossing() {
        // Track 2's anchor (60 + 2 * step) is on the fence at step 10, past it at 11.
        assert_eq!(hits(EventKind::Crossing, ""), [5, 11]);
        assert_eq!(hits(EventKind::Crossing, "gate"), [5]);
        assert_eq!(hits(EventKind::Crossing, "fence"), [11]);
        assert_eq!(hits(EventKind::Crossing, "door"), Vec::<u64>::new());
    }

    #[test]
    fn entries_and_first_appearances() {
        // Track 1 is in the door from the start; track 3 comes in at step 20.
        assert_eq!(hits(EventKind::Entry, "door"), [0, 20]);
        // Only the first person is news.
        assert_eq!(hits(EventKind::Appeared, ""), [0]);
    }

    #[test]
    fn fires_exactly_where_events_would_send() {
        for kind in [
            EventKind::Entry,
            EventKind::Exit,
            EventKind::Crossing,
            EventKind::Overcrowding,
            EventKind::Appeared,
        ] {
            for at in ["", "door", "gate", "fence"] {
                assert_eq!(hits(kind, at), events(kind, at), "{kind:?} at {at:?}");
            }
        }
    }
}
