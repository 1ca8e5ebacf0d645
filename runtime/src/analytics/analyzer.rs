//! One stream's analytics: the objects of each frame → who is in which zone (counts by
//! label, overcrowding, dwell time per track), which tracks crossed which line since the
//! last frame (by direction and label, counted since the stream began) and where each
//! track is heading. Objects are placed by their anchor, the middle of their box's bottom
//! edge.

use std::collections::{BTreeMap, HashMap, VecDeque};

use vpl_compiler::analytics::{self, AnalyzeConfig, Direction, Point};

use super::{Both, Crossing, FrameAnalytics, InZone, LineCount, ZoneCount};
use crate::meta::ObjectsData;

/// Tracks unseen for this long are forgotten (their dwell times end).
const FORGET_NS: u64 = 10_000_000_000;
/// Headings are taken over this much stream time.
const HEADING_WINDOW_NS: u64 = 500_000_000;
/// A track that moved less than this (pixels) has no heading.
const HEADING_MIN_PX: f64 = 2.0;

#[derive(Debug, Default)]
struct TrackState {
    last_seen_ns: u64,
    /// Per zone: when the track entered it (stream time), while it is inside.
    entered: Vec<Option<u64>>,
    /// Per line: the side of the line the anchor was last seen on (not on the line) and
    /// where.
    sides: Vec<Option<(bool, Point)>>,
    /// Recent anchors, for the heading.
    history: VecDeque<(u64, Point)>,
}

/// Zones and lines in pixels of frames of one size.
type Scaled = ((u32, u32), Vec<Vec<Point>>, Vec<[Point; 2]>);

/// The analytics of one stream, frame after frame.
pub struct Analyzer {
    config: AnalyzeConfig,
    /// By track: after `tile`, each cell's tracker counts its ids from 1, so a track is
    /// its stream and its id ([`super::track_key`]).
    tracks: HashMap<super::TrackKey, TrackState>,
    lines: Vec<LineCount>,
    /// The shapes in pixels of the frames last seen, and that size.
    scaled: Option<Scaled>,
}

/// The middle of the bottom edge of a box.
pub fn anchor(x: f32, y: f32, w: f32, h: f32) -> Point {
    [(x + w / 2.0) as f64, (y + h) as f64]
}

impl Analyzer {
    pub fn new(config: AnalyzeConfig) -> Analyzer {
        let lines = config
            .lines
            .iter()
            .map(|l| LineCount {
                line: l.name.clone(),
                ..LineCount::default()
            })
            .collect();
        Analyzer {
            config,
            tracks: HashMap::new(),
            lines,
            scaled: None,
        }
    }

    /// Shapes in pixels of a `width` x `height` frame: normalised points are multiplied by
    /// the size, points drawn on another size scaled to it (the checker refuses a known
    /// different size; this covers sizes only known at run time). Kept while the size
    /// stays.
    fn shapes(&mut self, width: u32, height: u32) -> Scaled {
        if let Some(scaled) = self.scaled.take()
            && scaled.0 == (width, height)
        {
            return scaled;
        }
        let fit = |p: Point, size: Option<(u32, u32)>| -> Point {
            let (sw, sh) = size.map_or((1.0, 1.0), |(w, h)| (w.max(1) as f64, h.max(1) as f64));
            [p[0] * width as f64 / sw, p[1] * height as f64 / sh]
        };
        let zones: Vec<Vec<Point>> = self
            .config
            .zones
            .iter()
            .map(|z| z.points.iter().map(|p| fit(*p, z.size)).collect())
            .collect();
        let lines: Vec<[Point; 2]> = self
            .config
            .lines
            .iter()
            .map(|l| [fit(l.a, l.size), fit(l.b, l.size)])
            .collect();
        ((width, height), zones, lines)
    }

    /// Measures one frame at stream time `pts_ns` and writes the results into it, beside
    /// those of another `analyze` before it: the zones and lines of this one replace only
    /// results of the same names.
    pub fn process(&mut self, data: &mut ObjectsData, pts_ns: u64) {
        let scaled = self.shapes(data.source_width, data.source_height);
        let (zones, lines) = (&scaled.1, &scaled.2);
        let mut counts: Vec<ZoneCount> = self
            .config
            .zones
            .iter()
            .zip(zones)
            .map(|(z, points)| ZoneCount {
                zone: z.name.clone(),
                points: points.clone(),
                ..ZoneCount::default()
            })
            .collect();
        let (n_zones, n_lines) = (zones.len(), lines.len());
        for object in &mut data.objects {
            let at = anchor(object.x, object.y, object.w, object.h);
            let mut track = super::track_key(object).map(|key| {
                let t = self.tracks.entry(key).or_default();
                t.entered.resize(n_zones, None);
                t.sides.resize(n_lines, None);
                t.last_seen_ns = pts_ns;
                t
            });
            let config = &self.config;
            object
                .zones
                .retain(|z| !config.zones.iter().any(|mine| mine.name == z.zone));
            object
                .crossed
                .retain(|c| !config.lines.iter().any(|mine| mine.name == c.line));
            for (i, points) in zones.iter().enumerate() {
                let inside = analytics::inside(points, at);
                let dwell_s = match track.as_deref_mut() {
                    Some(t) if inside => {
                        let since = *t.entered[i].get_or_insert(pts_ns);
                        Some(pts_ns.saturating_sub(since) as f64 / 1e9)
                    }
                    Some(t) => {
                        t.entered[i] = None;
                        None
                    }
                    None => None,
                };
                if inside {
                    let c = &mut counts[i];
                    c.count += 1;
                    *c.classes.entry(object.label.clone()).or_default() += 1;
                    object.zones.push(InZone {
                        zone: c.zone.clone(),
                        dwell_s,
                    });
                }
            }
            if let Some(t) = track {
                for (i, [a, b]) in lines.iter().enumerate() {
                    let s = analytics::side(*a, *b, at);
                    if s == 0.0 {
                        continue;
                    }
                    let right = s > 0.0;
                    if let Some((was_right, from)) = t.sides[i]
                        && was_right != right
                        && analytics::segments_intersect(from, at, *a, *b)
                    {
                        let forward = right;
                        let counted = match self.config.lines[i].direction {
                            Direction::Both => true,
                            Direction::Forward => forward,
                            Direction::Backward => !forward,
                        };
                        if counted {
                            let line = &mut self.lines[i];
                            let class = line.classes.entry(object.label.clone()).or_default();
                            if forward {
                                line.forward += 1;
                                class.forward += 1;
                            } else {
                                line.backward += 1;
                                class.backward += 1;
                            }
                            object.crossed.push(Crossing {
                                line: line.line.clone(),
                                direction: if forward { "forward" } else { "backward" },
                            });
                        }
                    }
                    t.sides[i] = Some((right, at));
                }
                t.history.push_back((pts_ns, at));
                while t
                    .history
                    .front()
                    .is_some_and(|(ts, _)| pts_ns.saturating_sub(*ts) > HEADING_WINDOW_NS)
                {
                    t.history.pop_front();
                }
                object.heading_deg = t.history.front().and_then(|(_, from)| {
                    let (dx, dy) = (at[0] - from[0], at[1] - from[1]);
                    (dx.hypot(dy) >= HEADING_MIN_PX)
                        .then(|| (dy.atan2(dx).to_degrees().rem_euclid(360.0)) as f32)
                });
            } else {
                object.heading_deg = None;
            }
        }
        for (c, z) in counts.iter_mut().zip(&self.config.zones) {
            c.overcrowded = z.crowd > 0 && c.count > z.crowd;
        }
        self.tracks
            .retain(|_, t| pts_ns.saturating_sub(t.last_seen_ns) <= FORGET_NS);
        let lines: Vec<LineCount> = self
            .lines
            .iter()
            .zip(lines)
            .map(|(l, ends)| LineCount {
                ends: *ends,
                ..l.clone()
            })
            .collect();
        let before = data.analytics.take().unwrap_or_default();
        let mut zones: Vec<ZoneCount> = before
            .zones
            .into_iter()
            .filter(|z| !counts.iter().any(|mine| mine.zone == z.zone))
            .collect();
        zones.extend(counts);
        let mut all_lines: Vec<LineCount> = before
            .lines
            .into_iter()
            .filter(|l| !lines.iter().any(|mine| mine.line == l.line))
            .collect();
        all_lines.extend(lines);
        data.analytics = Some(FrameAnalytics {
            zones,
            lines: all_lines,
        });
        self.scaled = Some(scaled);
    }

    /// Crossings counted so far, by line, in `lines:` order.
    pub fn crossings(&self) -> Vec<(String, Both)> {
        self.lines
            .iter()
            .map(|l| {
                (
                    l.line.clone(),
                    Both {
                        forward: l.forward,
                        backward: l.backward,
                    },
                )
            })
            .collect()
    }
}

/// Counts by label, for tests and summaries.
pub fn by_label(counts: &BTreeMap<String, u32>, label: &str) -> u32 {
    counts.get(label).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use vpl_compiler::analytics::{Line, Zone};

    use super::*;
    use crate::analytics::testing::{FRAME_NS, frame, person};

    fn config(direction: Direction) -> AnalyzeConfig {
        AnalyzeConfig {
            zones: vec![Zone {
                name: "door".into(),
                // The left half of the picture, normalised.
                points: vec![[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]],
                size: None,
                crowd: 1,
            }],
            lines: vec![Line {
                name: "gate".into(),
                // Horizontal at y = 50 of a 100x100 frame, drawn left to right: forward
                // is downwards (to its right, looking along it).
                a: [0.0, 50.0],
                b: [100.0, 50.0],
                size: Some((100, 100)),
                direction,
            }],
        }
    }

    /// Three people walk down across the gate (two inside the door zone, one right of it),
    /// one walks up, one walks along the line without crossing it, then one walks back down.
    #[test]
    fn synthetic_tracks_give_exact_counts() {
        let mut a = Analyzer::new(config(Direction::Both));
        let mut last = ObjectsData::default();
        for step in 0..10u64 {
            let down = 23.0 + step as f32 * 6.0; // 23 → 77: crosses 50 between steps 4 and 5
            let up = 77.0 - step as f32 * 6.0;
            let mut objects = vec![
                person(1, 10.0, down),
                person(2, 30.0, down),
                person(3, 80.0, down),
                person(4, 70.0, up),
                person(5, 5.0 + step as f32 * 9.0, 30.0),
            ];
            if step >= 5 {
                // Track 6 appears below the line and walks further down: no crossing.
                objects.push(person(6, 40.0, 60.0 + step as f32));
            }
            let mut data = frame(objects);
            a.process(&mut data, step * FRAME_NS);
            if step == 5 {
                let crossed: Vec<(u64, &str)> = data
                    .objects
                    .iter()
                    .flat_map(|o| o.crossed.iter().map(|c| (o.track_id.unwrap(), c.direction)))
                    .collect();
                assert_eq!(
                    crossed,
                    [
                        (1, "forward"),
                        (2, "forward"),
                        (3, "forward"),
                        (4, "backward")
                    ]
                );
            }
            last = data;
        }
        assert_eq!(
            a.crossings(),
            [(
                "gate".to_string(),
                Both {
                    forward: 3,
                    backward: 1
                }
            )]
        );
        let analytics = last.analytics.expect("analytics on the frame");
        let line = &analytics.lines[0];
        assert_eq!((line.forward, line.backward), (3, 1));
        assert_eq!(
            line.classes["person"],
            Both {
                forward: 3,
                backward: 1
            }
        );
        // On the last frame: tracks 1, 2 (x 10, 30) and 6 (x 40) are in the left half;
        // track 5 walked out of it at x > 50.
        let zone = &analytics.zones[0];
        assert_eq!(zone.count, 3);
        assert_eq!(by_label(&zone.classes, "person"), 3);
        assert!(zone.overcrowded, "3 people in a zone of crowd 1");
        let dwell = |track: u64| {
            last.objects
                .iter()
                .find(|o| o.track_id == Some(track))
                .and_then(|o| o.zones.first())
                .and_then(|z| z.dwell_s)
        };
        assert_eq!(dwell(1), Some(0.9), "inside from the first frame");
        assert_eq!(dwell(6), Some(0.4), "inside from frame 5");
        assert_eq!(dwell(5), None, "left the zone");
        // Heading: track 1 walks straight down (90°), track 4 up (270°), track 5 right (0°).
        let heading = |track: u64| {
            last.objects
                .iter()
                .find(|o| o.track_id == Some(track))
                .and_then(|o| o.heading_deg)
        };
        assert_eq!(heading(1), Some(90.0));
        assert_eq!(heading(4), Some(270.0));
        assert_eq!(heading(5), Some(0.0));
    }

    #[test]
    fn a_one_way_line_counts_one_direction_and_jitter_on_the_line_counts_once() {
        let mut a = Analyzer::new(config(Direction::Forward));
        // Track 1 goes down onto the line, stays on it, wobbles across it and back, then
        // goes on down: one forward crossing, one backward (not counted), one forward.
        let ys = [40.0, 50.0, 50.0, 52.0, 48.0, 55.0, 70.0];
        for (i, y) in ys.iter().enumerate() {
            let mut data = frame(vec![person(1, 20.0, *y)]);
            a.process(&mut data, i as u64 * FRAME_NS);
        }
        assert_eq!(
            a.crossings(),
            [(
                "gate".to_string(),
                Both {
                    forward: 2,
                    backward: 0
                }
            )]
        );
    }

    #[test]
    fn untracked_objects_are_counted_in_zones_but_cross_nothing() {
        let mut a = Analyzer::new(config(Direction::Both));
        for (i, y) in [20.0, 80.0].iter().enumerate() {
            let mut o = person(1, 20.0, *y);
            o.track_id = None;
            let mut data = frame(vec![o]);
            a.process(&mut data, i as u64 * FRAME_NS);
            let analytics = data.analytics.unwrap();
            assert_eq!(analytics.zones[0].count, 1);
            assert_eq!(data.objects[0].zones[0].dwell_s, None);
            assert!(data.objects[0].crossed.is_empty());
        }
        assert_eq!(a.crossings()[0].1, Both::default());
    }

    #[test]
    fn shapes_follow_the_frame_size() {
        // The same normalised zone on a 200x200 frame: x = 90 is inside (< 100).
        let mut a = Analyzer::new(config(Direction::Both));
        let mut data = ObjectsData {
            source_width: 200,
            source_height: 200,
            objects: vec![person(1, 90.0, 150.0)],
            ..ObjectsData::default()
        };
        a.process(&mut data, 0);
        let analytics = data.analytics.unwrap();
        assert_eq!(analytics.zones[0].count, 1);
        assert_eq!(analytics.zones[0].points[1], [100.0, 0.0]);
        // The line drawn on 100x100 is at y = 100 of the 200x200 frame.
        assert_eq!(analytics.lines[0].ends, [[0.0, 100.0], [200.0, 100.0]]);
    }

    /// Found by a hostile test (issue 19): after `tile`, the objects of two streams share
    /// track ids (each stream's tracker counts from 1), and the analyser took them for one
    /// object jumping between cells: a crossing every frame. Tracks are keyed by stream and
    /// id: two people who stay on their side of the line cross nothing.
    #[test]
    fn equal_track_ids_of_two_streams_are_two_tracks() {
        let mut a = Analyzer::new(config(Direction::Both));
        for step in 0..20u64 {
            // Stream 0's track 1 stays above the gate (y 50), stream 1's track 1 below it.
            let mut above = person(1, 20.0 + step as f32, 30.0);
            above.stream = Some(0);
            let mut below = person(1, 80.0 - step as f32, 70.0);
            below.stream = Some(1);
            let mut data = frame(vec![above, below]);
            a.process(&mut data, step * FRAME_NS);
            assert!(
                data.objects.iter().all(|o| o.crossed.is_empty()),
                "step {step}: {:?}",
                data.objects
            );
            // Only `above` is in the door (the left half), inside since the first frame.
            let dwell = (step * FRAME_NS) as f64 / 1e9;
            assert_eq!(data.objects[0].zones[0].dwell_s, Some(dwell));
            assert!(data.objects[1].zones.is_empty());
        }
        assert_eq!(a.crossings()[0].1, Both::default());
    }

    /// Found by a user (issue 19): a second `analyze` replaced the first one's results.
    /// Each adds its own: the zones and lines of both are on the frame and on the objects.
    #[test]
    fn a_second_analyze_adds_its_results_to_the_first() {
        let mut first = Analyzer::new(config(Direction::Both));
        let mut second = Analyzer::new(AnalyzeConfig {
            zones: vec![Zone {
                name: "shelf".into(),
                // The bottom half of the picture.
                points: vec![[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]],
                size: None,
                crowd: 0,
            }],
            lines: Vec::new(),
        });
        let mut last = ObjectsData::default();
        for step in 0..10u64 {
            let down = 23.0 + step as f32 * 6.0; // crosses the gate between steps 4 and 5
            let mut data = frame(vec![person(1, 10.0, down)]);
            first.process(&mut data, step * FRAME_NS);
            second.process(&mut data, step * FRAME_NS);
            if step == 5 {
                assert_eq!(data.objects[0].crossed.len(), 1, "{:?}", data.objects[0]);
            }
            last = data;
        }
        let analytics = last.analytics.clone().expect("analytics");
        let zones: Vec<(&str, u32)> = analytics
            .zones
            .iter()
            .map(|z| (z.zone.as_str(), z.count))
            .collect();
        assert_eq!(zones, [("door", 1), ("shelf", 1)]);
        let lines: Vec<(&str, u64)> = analytics
            .lines
            .iter()
            .map(|l| (l.line.as_str(), l.forward))
            .collect();
        assert_eq!(lines, [("gate", 1)]);
        let inside: Vec<&str> = last.objects[0]
            .zones
            .iter()
            .map(|z| z.zone.as_str())
            .collect();
        assert_eq!(inside, ["door", "shelf"]);
        // The same analyze again replaces its own results, and adds nothing twice.
        let mut again = last.clone();
        again.analytics = Some(analytics.clone());
        second.process(&mut again, 10 * FRAME_NS);
        let analytics = again.analytics.expect("analytics");
        let zones: Vec<&str> = analytics.zones.iter().map(|z| z.zone.as_str()).collect();
        assert_eq!(zones, ["door", "shelf"]);
        let inside: Vec<&str> = again.objects[0]
            .zones
            .iter()
            .map(|z| z.zone.as_str())
            .collect();
        assert_eq!(inside, ["door", "shelf"]);
    }
}
