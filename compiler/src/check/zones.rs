//! Zones, lines, `analyze` and `events`: shapes that cannot be drawn (E0401), polygons that
//! cross themselves (E0402), points off the frame (E0403), a shape used on a stream of
//! another size (E0404, with the points to write instead), crossings, dwell times and
//! entry/exit events with no tracks (E0405, W0401), events with no analytics (E0406), the
//! same shape twice in one `analyze` (E0407). Wording is at the end of this file.

use super::errors::TypeError;
use super::stages::StageError;
use super::types::Video;
use super::{Checker, Ty};
use crate::analytics::{self, EventKind, Shape};
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::{self, BoundCall, Value};
use crate::source::FileId;
use crate::stage::Geometry;
use crate::syntax::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum ZoneError {
    /// E0401: too few points, an item of `points:` that is not `[x, y]`, a point given
    /// twice (a closed ring, a repeated corner), or a zone whose points are on one line.
    BadShape {
        span: Span,
        kind: Geometry,
        problem: String,
    },
    /// E0402: edges `first` and `second` of the zone cross.
    SelfIntersecting {
        span: Span,
        first: usize,
        second: usize,
    },
    /// E0403: a point outside the frame the shape was drawn for (or outside 0..1).
    OffFrame {
        span: Span,
        index: usize,
        point: [f64; 2],
        size: Option<(u32, u32)>,
    },
    /// E0404: the shape was drawn for `drawn` and the stream is `stream`.
    SizeDiffers {
        span: Span,
        shape: String,
        shape_span: Span,
        drawn: (u32, u32),
        stream: (u32, u32),
        /// The shape's points from 0 to 1: what to write instead.
        normalised: Vec<[f64; 2]>,
        kind: Geometry,
    },
    /// E0405 (error) and W0401 (warning: zones counted, but no dwell and no entry/exit).
    NeedsTracks {
        span: Span,
        stage: String,
        what: &'static str,
        warning: bool,
    },
    /// E0406: `events` with no `analyze` upstream.
    NeedsAnalytics { span: Span },
    /// E0407: the same zone or line twice in one `analyze`.
    Repeated { span: Span, name: String },
}

impl Checker<'_> {
    fn zone_error(&mut self, e: ZoneError) {
        self.errors.push(TypeError::Zones(e));
    }

    /// Checks every shape declared as a constant, once, where it is declared.
    pub(super) fn shape_consts(&mut self, consts: &[hir::Const]) {
        for c in consts {
            if let Value::Shape { call, .. } = &c.value {
                self.shape(call);
            }
        }
    }

    /// E0401, E0402 and E0403 on one `zone(...)` or `line(...)`; false when it has any.
    fn shape(&mut self, call: &BoundCall) -> bool {
        let Some(shape) = Shape::of(call) else {
            return false;
        };
        let span = call.bound("points").map_or(call.span, |a| a.span);
        if let Some(&i) = shape.malformed.first() {
            self.zone_error(ZoneError::BadShape {
                span,
                kind: shape.kind,
                problem: format!("item {i} of `points` is not a point `[x, y]`"),
            });
            return false;
        }
        let n = shape.points.len();
        let problem = match shape.kind {
            Geometry::Zone if n < 3 => Some(format!("a zone needs at least 3 points, not {n}")),
            Geometry::Line if n != 2 => Some(format!("a line has 2 points, not {n}")),
            Geometry::Line if shape.points[0] == shape.points[1] => {
                Some("the two ends of the line are the same point".to_string())
            }
            Geometry::Zone => match analytics::repeated_point(&shape.points) {
                Some((0, last)) if last == n - 1 => Some(format!(
                    "the last point repeats the first, {}: leave it out, a zone closes by itself",
                    point_text(&shape.points[0])
                )),
                Some((first, again)) => Some(format!(
                    "point {again} repeats point {first}, {}: each corner is given once",
                    point_text(&shape.points[first])
                )),
                None if analytics::collinear(&shape.points) => Some(
                    "its points lie on one straight line, so it encloses nothing and nothing would ever be counted in it"
                        .to_string(),
                ),
                None => None,
            },
            _ => None,
        };
        if let Some(problem) = problem {
            self.zone_error(ZoneError::BadShape {
                span,
                kind: shape.kind,
                problem,
            });
            return false;
        }
        let (w, h) = shape.size.map_or((1.0, 1.0), |(w, h)| (w as f64, h as f64));
        if let Some((index, point)) = shape
            .points
            .iter()
            .enumerate()
            .find(|(_, p)| !(p[0] >= 0.0 && p[0] <= w && p[1] >= 0.0 && p[1] <= h))
        {
            self.zone_error(ZoneError::OffFrame {
                span,
                index,
                point: *point,
                size: shape.size,
            });
            return false;
        }
        if shape.kind == Geometry::Zone
            && let Some((first, second)) = analytics::self_intersection(&shape.points)
        {
            self.zone_error(ZoneError::SelfIntersecting {
                span,
                first,
                second,
            });
            return false;
        }
        true
    }

    pub(super) fn analyze(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let mut shapes: Vec<(String, &BoundCall, Span)> = Vec::new();
        for param in ["zones", "lines"] {
            let Some(arg) = call.bound(param) else {
                continue;
            };
            let Value::List(items) = &arg.value else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                if let Value::Shape { name, call: shape } = item {
                    if name.is_none() && !self.shape(shape) {
                        continue;
                    }
                    // Written in place: named after its place, as the runtime names it.
                    let name = name.clone().unwrap_or_else(|| format!("{param}[{i}]"));
                    if shapes.iter().any(|(n, _, _)| *n == name) {
                        self.zone_error(ZoneError::Repeated {
                            span: arg.span,
                            name: name.clone(),
                        });
                    }
                    shapes.push((name, shape, arg.span));
                }
            }
        }
        let has_lines = call
            .value("lines")
            .is_some_and(|v| matches!(v, Value::List(l) if !l.is_empty()));
        let has_zones = call
            .value("zones")
            .is_some_and(|v| matches!(v, Value::List(l) if !l.is_empty()));
        self.per_stream(input, call, &mut |c, v: &Video| {
            if !c.need_raw(call, v) {
                return Ty::Error;
            }
            if v.meta.objects.is_none() {
                c.errors.push(TypeError::Stage(StageError::NeedsObjects {
                    span: call.span,
                    stage: call.name.clone(),
                }));
                return Ty::Error;
            }
            if !v.meta.tracks {
                if has_lines {
                    c.zone_error(ZoneError::NeedsTracks {
                        span: call.span,
                        stage: call.name.clone(),
                        what: "line crossings",
                        warning: false,
                    });
                    return Ty::Error;
                }
                if has_zones {
                    c.zone_error(ZoneError::NeedsTracks {
                        span: call.span,
                        stage: call.name.clone(),
                        what: "dwell times",
                        warning: true,
                    });
                }
            }
            if let Some(stream) = v.resolution {
                for (name, shape, span) in &shapes {
                    let Some(s) = Shape::of(shape) else { continue };
                    if let Some(drawn) = s.size
                        && drawn != stream
                        && drawn.0 > 0
                        && drawn.1 > 0
                    {
                        let normalised = s
                            .points
                            .iter()
                            .map(|p| [p[0] / drawn.0 as f64, p[1] / drawn.1 as f64])
                            .collect();
                        c.zone_error(ZoneError::SizeDiffers {
                            span: *span,
                            shape: name.clone(),
                            shape_span: shape.span,
                            drawn,
                            stream,
                            normalised,
                            kind: s.kind,
                        });
                    }
                }
            }
            let mut v = v.clone();
            v.meta.analytics = true;
            v.meta.shapes = shapes
                .iter()
                .filter_map(|(name, shape, _)| Shape::of(shape).map(|s| (s.kind, name.clone())))
                .collect();
            Ty::Video(v)
        })
    }

    pub(super) fn events(&mut self, input: &Ty, call: &BoundCall) -> Ty {
        let config = analytics::events_config(call);
        let tracked_kinds = config
            .on
            .iter()
            .any(|k| matches!(k, EventKind::Entry | EventKind::Exit | EventKind::Crossing));
        self.per_stream(input, call, &mut |c, v: &Video| {
            if !v.meta.analytics {
                c.zone_error(ZoneError::NeedsAnalytics { span: call.span });
                return Ty::Error;
            }
            if tracked_kinds && !v.meta.tracks {
                c.zone_error(ZoneError::NeedsTracks {
                    span: call.span,
                    stage: call.name.clone(),
                    what: "entry, exit and crossing events",
                    warning: false,
                });
                return Ty::Error;
            }
            Ty::Records
        })
    }
}

fn point_text(p: &[f64; 2]) -> String {
    let n = |v: f64| {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() {
            "0".to_string()
        } else {
            s.to_string()
        }
    };
    format!("[{}, {}]", n(p[0]), n(p[1]))
}

impl ZoneError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            ZoneError::BadShape {
                span,
                kind,
                problem,
            } => {
                let what = match kind {
                    Geometry::Zone => "zone",
                    Geometry::Line => "line",
                };
                Diagnostic::new(Code::E0401, file, *span, format!("this {what} cannot be drawn: {problem}"))
                    .with_primary_label("the points")
                    .with_help(match kind {
                        Geometry::Zone => "give the corners in order around the zone, `[x, y]` each: `zone([[100, 200], [300, 200], [300, 400]])`",
                        Geometry::Line => "give the two ends, `[x, y]` each: `line([[0, 300], [768, 300]])`",
                    })
            }
            ZoneError::SelfIntersecting {
                span,
                first,
                second,
            } => Diagnostic::new(
                Code::E0402,
                file,
                *span,
                format!(
                    "the zone's edges cross: edge {first} (point {first} to {}) crosses edge {second} (point {second} to the next)",
                    first + 1
                ),
            )
            .with_primary_label("a polygon that crosses itself")
            .with_help("give the corners in order around the zone, clockwise or counter-clockwise, so no two edges cross"),
            ZoneError::OffFrame {
                span,
                index,
                point,
                size,
            } => {
                let (message, help) = match size {
                    Some((w, h)) => (
                        format!("point {index} {} is outside the {w}x{h} frame the shape was drawn for", point_text(point)),
                        format!("keep x from 0 to {w} and y from 0 to {h}, or give `size:` the frame the points were drawn on"),
                    ),
                    None => (
                        format!("point {index} {} is outside the frame: with no `size:`, coordinates go from 0 to 1", point_text(point)),
                        "give `size:` the frame size the points are pixels of (`size: 768x576`), or divide them by it".to_string(),
                    ),
                };
                Diagnostic::new(Code::E0403, file, *span, message)
                    .with_primary_label("off the frame")
                    .with_help(help)
            }
            ZoneError::SizeDiffers {
                span,
                shape,
                shape_span,
                drawn,
                stream,
                normalised,
                kind,
            } => {
                let points: Vec<String> = normalised.iter().map(point_text).collect();
                let ctor = match kind {
                    Geometry::Zone => "zone",
                    Geometry::Line => "line",
                };
                Diagnostic::new(
                    Code::E0404,
                    file,
                    *span,
                    format!(
                        "`{shape}` was drawn on a {}x{} frame, but this stream is {}x{}",
                        drawn.0, drawn.1, stream.0, stream.1
                    ),
                )
                .with_primary_label(format!("frames of {}x{} here", stream.0, stream.1))
                .with_label(file, *shape_span, format!("drawn for {}x{}", drawn.0, drawn.1))
                .with_help(format!(
                    "normalise it, so it fits any size: `{ctor}([{}])` (no `size:`), or draw it again on a {}x{} frame",
                    points.join(", "),
                    stream.0,
                    stream.1
                ))
            }
            ZoneError::NeedsTracks {
                span,
                stage,
                what,
                warning,
            } => {
                let code = if *warning { Code::W0401 } else { Code::E0405 };
                let message = if *warning {
                    format!("`{stage}` counts the zones' objects, but without tracks it has no {what} and no entries or exits")
                } else {
                    format!("`{stage}` needs tracks for {what}, but no `track` runs upstream")
                };
                Diagnostic::new(code, file, *span, message)
                    .with_primary_label("no track ids reach this stage")
                    .with_help(format!("insert `track()` before `{stage}`"))
            }
            ZoneError::NeedsAnalytics { span } => Diagnostic::new(
                Code::E0406,
                file,
                *span,
                "`events` needs analytics, but no `analyze` runs upstream",
            )
            .with_primary_label("no zones or lines reach this stage")
            .with_help("insert `analyze(zones: [...], lines: [...])` before `events`"),
            ZoneError::Repeated { span, name } => Diagnostic::new(
                Code::E0407,
                file,
                *span,
                format!("`{name}` is given twice to `analyze`"),
            )
            .with_primary_label("here twice")
            .with_help(format!("give `{name}` once: its counts would be reported twice")),
        }
    }
}
