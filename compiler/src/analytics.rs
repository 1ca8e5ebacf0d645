//! Zones, lines and events as plain data: read from the resolved program's `zone(...)` /
//! `line(...)` values, checked by `check/zones.rs`, lowered into the `config` property of
//! `vplanalyze` and `vplevents` (as JSON) and read back by the runtime. The geometry the
//! checker and the runtime both need (segment intersection, point in polygon) is here, once.

use serde::{Deserialize, Serialize};

use crate::hir::{BoundCall, Value};
use crate::stage::{Geometry, StageKind};

/// A point `[x, y]`: pixels of a frame of the shape's `size`, or 0..1 when it has none.
pub type Point = [f64; 2];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    pub points: Vec<Point>,
    /// The frame size the points were drawn on; `None`: normalised coordinates.
    pub size: Option<(u32, u32)>,
    /// More objects inside than this is overcrowding; 0: never.
    pub crowd: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Both,
    Forward,
    Backward,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub name: String,
    pub a: Point,
    pub b: Point,
    pub size: Option<(u32, u32)>,
    pub direction: Direction,
}

/// What `analyze(...)` measures: the `config` property of `vplanalyze`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnalyzeConfig {
    pub zones: Vec<Zone>,
    pub lines: Vec<Line>,
}

/// The kinds of events `events(on: [...])` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Entry,
    Exit,
    Crossing,
    Overcrowding,
    Appeared,
    Count,
}

impl EventKind {
    pub fn from_word(word: &str) -> Option<EventKind> {
        Some(match word {
            "entry" => EventKind::Entry,
            "exit" => EventKind::Exit,
            "crossing" => EventKind::Crossing,
            "overcrowding" => EventKind::Overcrowding,
            "appeared" => EventKind::Appeared,
            "count" => EventKind::Count,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Entry => "entry",
            EventKind::Exit => "exit",
            EventKind::Crossing => "crossing",
            EventKind::Overcrowding => "overcrowding",
            EventKind::Appeared => "appeared",
            EventKind::Count => "count",
        }
    }
}

/// What `events(...)` sends: the `config` property of `vplevents`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventsConfig {
    pub on: Vec<EventKind>,
    /// The least stream time between two events of one kind and zone or line; 0: no limit.
    pub every_ns: u64,
    /// The id of the stream the events are about (its source's place in the pipeline, as
    /// in records): the events of one stream are numbered together, whichever `events`
    /// stage makes them, so message ids stay unique in the run.
    #[serde(default, skip_serializing_if = "is_first")]
    pub stream: u32,
}

fn is_first(stream: &u32) -> bool {
    *stream == 0
}

/// A `zone(...)` or `line(...)` value as written, before any check: points that are not
/// `[x, y]` pairs of numbers are kept out (and counted in `malformed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub kind: Geometry,
    pub points: Vec<Point>,
    /// Indexes of the items of `points:` that are not `[x, y]`.
    pub malformed: Vec<usize>,
    pub size: Option<(u32, u32)>,
    pub crowd: u32,
    pub direction: Direction,
}

impl Shape {
    pub fn of(call: &BoundCall) -> Option<Shape> {
        let StageKind::Geometry(kind) = call.kind else {
            return None;
        };
        let mut points = Vec::new();
        let mut malformed = Vec::new();
        if let Some(Value::List(items)) = call.value("points") {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::List(xy) if xy.len() == 2 => match (number(&xy[0]), number(&xy[1])) {
                        (Some(x), Some(y)) => points.push([x, y]),
                        _ => malformed.push(i),
                    },
                    _ => malformed.push(i),
                }
            }
        }
        let direction = match call.string("direction") {
            Some("forward") => Direction::Forward,
            Some("backward") => Direction::Backward,
            _ => Direction::Both,
        };
        Some(Shape {
            kind,
            points,
            malformed,
            size: call.resolution("size"),
            crowd: call.int("crowd").unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
            direction,
        })
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// The configuration of an `analyze` call, from its bound arguments. Shapes written in
/// place (not constants) are named after their place: `zones[0]`.
pub fn analyze_config(call: &BoundCall) -> AnalyzeConfig {
    let mut config = AnalyzeConfig::default();
    for (param, list) in [("zones", true), ("lines", false)] {
        let Some(Value::List(items)) = call.value(param) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let Value::Shape { name, call } = item else {
                continue;
            };
            let Some(shape) = Shape::of(call) else {
                continue;
            };
            let name = name.clone().unwrap_or_else(|| format!("{param}[{i}]"));
            if list {
                config.zones.push(Zone {
                    name,
                    points: shape.points,
                    size: shape.size,
                    crowd: shape.crowd,
                });
            } else if let [a, b] = shape.points[..] {
                config.lines.push(Line {
                    name,
                    a,
                    b,
                    size: shape.size,
                    direction: shape.direction,
                });
            }
        }
    }
    config
}

pub fn events_config(call: &BoundCall) -> EventsConfig {
    let on = match call.value("on") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Symbol(s) => EventKind::from_word(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    EventsConfig {
        on,
        every_ns: call.int("every").unwrap_or(0).max(0) as u64,
        stream: 0,
    }
}

/// Which side of the line `a → b` point `p` is on, as seen on the picture (y down): > 0 to
/// the right looking from `a` to `b`, < 0 to the left, 0 on it. A track crosses `forward`
/// from < 0 to > 0.
pub fn side(a: Point, b: Point, p: Point) -> f64 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

/// Whether the segments `p1 p2` and `q1 q2` cross or touch.
pub fn segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool {
    let d1 = side(q1, q2, p1);
    let d2 = side(q1, q2, p2);
    let d3 = side(p1, p2, q1);
    let d4 = side(p1, p2, q2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    let on = |a: Point, b: Point, p: Point, d: f64| {
        d == 0.0
            && p[0] >= a[0].min(b[0])
            && p[0] <= a[0].max(b[0])
            && p[1] >= a[1].min(b[1])
            && p[1] <= a[1].max(b[1])
    };
    on(q1, q2, p1, d1) || on(q1, q2, p2, d2) || on(p1, p2, q1, d3) || on(p1, p2, q2, d4)
}

/// The first two edges of the polygon that cross (edge `i` goes from point `i` to `i + 1`),
/// neighbours excepted; `None` for a simple polygon.
pub fn self_intersection(points: &[Point]) -> Option<(usize, usize)> {
    let n = points.len();
    if n < 4 {
        return None;
    }
    let edge = |i: usize| (points[i], points[(i + 1) % n]);
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // neighbours through the closing edge
            }
            let (a, b) = edge(i);
            let (c, d) = edge(j);
            if segments_intersect(a, b, c, d) {
                return Some((i, j));
            }
        }
    }
    None
}

/// The first point that repeats an earlier one, as (earlier, later): a polygon visits each
/// corner once (a closed ring repeats its first point last; a repeated corner pinches it).
pub fn repeated_point(points: &[Point]) -> Option<(usize, usize)> {
    (1..points.len()).find_map(|j| (0..j).find(|&i| points[i] == points[j]).map(|i| (i, j)))
}

/// Whether all the points lie on one straight line: such a zone encloses nothing, and
/// nothing is ever inside it. Distances from the line are compared with the points' extent
/// (so `[0, 0], [1, 1e-12], [2, 0]` is a line too).
pub fn collinear(points: &[Point]) -> bool {
    let Some(&a) = points.first() else {
        return true;
    };
    let extent = points
        .iter()
        .map(|p| (p[0] - a[0]).abs().max((p[1] - a[1]).abs()))
        .fold(0.0, f64::max);
    let Some(&b) = points
        .iter()
        .find(|p| (p[0] - a[0]).abs().max((p[1] - a[1]).abs()) == extent)
    else {
        return true;
    };
    if extent == 0.0 {
        return true;
    }
    // `side` is the distance from the line `a b` times the length of `a b` (≥ extent).
    points
        .iter()
        .all(|&p| side(a, b, p).abs() <= 1e-9 * extent * extent)
}

/// Whether `p` is inside the polygon (even-odd rule; points on an edge may go either way).
pub fn inside(points: &[Point], p: Point) -> bool {
    let mut inside = false;
    let n = points.len();
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (points[i], points[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0];
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// A shape in words, for the language server's hover: what it is, in which coordinates,
/// where it lies.
pub fn describe(call: &BoundCall) -> Option<String> {
    let shape = Shape::of(call)?;
    let coords = match shape.size {
        Some((w, h)) => format!("pixels of {w}x{h} frames"),
        None => "fractions of the frame (0 to 1), any size".to_string(),
    };
    let n = |v: f64| {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    let (xs, ys): (Vec<f64>, Vec<f64>) = shape.points.iter().map(|p| (p[0], p[1])).unzip();
    let span = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{} to {}", n(lo), n(hi))
    };
    Some(match shape.kind {
        Geometry::Zone => {
            let mut text = format!(
                "Zone of {} points in {coords}: x {}, y {}.",
                shape.points.len(),
                span(&xs),
                span(&ys)
            );
            if shape.crowd > 0 {
                text.push_str(&format!(" Overcrowded above {} objects.", shape.crowd));
            }
            text
        }
        Geometry::Line => {
            let ends: Vec<String> = shape
                .points
                .iter()
                .map(|p| format!("[{}, {}]", n(p[0]), n(p[1])))
                .collect();
            let counts = match shape.direction {
                Direction::Both => "both directions",
                Direction::Forward => "forward crossings only",
                Direction::Backward => "backward crossings only",
            };
            format!(
                "Line from {} in {coords}; counts {counts} (forward: from its left to its right, looking from the first point to the second).",
                ends.join(" to ")
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bow_tie_crosses_itself_and_a_square_does_not() {
        let square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert_eq!(self_intersection(&square), None);
        let bow_tie = [[0.0, 0.0], [10.0, 10.0], [10.0, 0.0], [0.0, 10.0]];
        assert_eq!(self_intersection(&bow_tie), Some((0, 2)));
        assert!(inside(&square, [5.0, 5.0]));
        assert!(!inside(&square, [15.0, 5.0]));
        // Concave: an L shape.
        let l = [
            [0.0, 0.0],
            [4.0, 0.0],
            [4.0, 6.0],
            [10.0, 6.0],
            [10.0, 10.0],
            [0.0, 10.0],
        ];
        assert_eq!(self_intersection(&l), None);
        assert!(inside(&l, [2.0, 2.0]));
        assert!(!inside(&l, [8.0, 2.0]));
        assert!(inside(&l, [8.0, 8.0]));
    }

    #[test]
    fn degenerate_zones_are_found() {
        let ring = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 0.0]];
        assert_eq!(repeated_point(&ring), Some((0, 3)));
        let pinched = [
            [0.0, 0.0],
            [10.0, 0.0],
            [5.0, 5.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [5.0, 5.0],
        ];
        assert_eq!(repeated_point(&pinched), Some((2, 5)));
        assert_eq!(repeated_point(&[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), None);
        assert!(collinear(&[[0.0, 0.0], [5.0, 5.0], [10.0, 10.0]]));
        assert!(collinear(&[
            [10.0, 10.0],
            [0.0, 0.0],
            [5.0, 5.0],
            [2.0, 2.0]
        ]));
        assert!(collinear(&[[0.0, 0.0], [1.0, 1e-12], [2.0, 0.0]]));
        assert!(!collinear(&[[0.0, 0.0], [10.0, 0.0], [10.0, 1.0]]));
        // A bow tie encloses area on both sides: it crosses itself, it is not a line.
        assert!(!collinear(&[
            [0.0, 0.0],
            [10.0, 10.0],
            [10.0, 0.0],
            [0.0, 10.0]
        ]));
    }

    #[test]
    fn sides_follow_the_picture_with_y_down() {
        // A horizontal line drawn left to right: its right (looking along it) is down.
        let (a, b) = ([0.0, 10.0], [10.0, 10.0]);
        assert!(side(a, b, [5.0, 20.0]) > 0.0);
        assert!(side(a, b, [5.0, 0.0]) < 0.0);
    }
}
