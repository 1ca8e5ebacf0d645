//! An nvdsanalytics config → `zone` and `line` constants for `analyze`: overcrowding ROIs
//! become zones with `crowd:`, 8-integer line-crossing settings lines with `direction:
//! forward` (DeepStream's first two points are the direction, the last two the line),
//! points scaled from `config-width`×`config-height` to the stream's size.

use super::emit::Frag;
use super::keys::GroupKind;
use super::{Importer, ident};
use crate::diagnostics::Code;

#[derive(Default)]
pub struct Shapes {
    /// `const` items.
    pub items: Vec<Frag>,
    pub zones: Vec<String>,
    pub lines: Vec<String>,
}

/// Reads the analytics config `file`; `size` is the streams' size (the streammux's).
pub fn shapes(im: &mut Importer<'_>, file: usize, size: Option<(i64, i64)>) -> Shapes {
    let mut out = Shapes::default();
    let groups = im.files[file].ini.groups.clone();
    let config = kinds(im, file, &groups);
    let (cw, ch) = match config {
        Some(p) => {
            im.int(file, p, "enable");
            let w = im.int(file, p, "config-width").map(|v| v.0);
            let h = im.int(file, p, "config-height").map(|v| v.0);
            (w, h)
        }
        None => (None, None),
    };
    let from = match (cw, ch) {
        (Some(w), Some(h)) if w > 0 && h > 0 => Some((w, h)),
        _ => size,
    };
    let to = size.or(from);
    let point = |x: i64, y: i64| -> String {
        match (from, to) {
            (Some((fw, fh)), Some((tw, th))) if (fw, fh) != (tw, th) => {
                let sx = x as f64 * tw as f64 / fw as f64;
                let sy = y as f64 * th as f64 / fh as f64;
                format!("[{}, {}]", trim(sx), trim(sy))
            }
            _ => format!("[{x}, {y}]"),
        }
    };
    let size_arg = to
        .map(|(w, h)| format!(", size: {w}x{h}"))
        .unwrap_or_default();
    for (gi, g) in groups.iter().enumerate() {
        let Some(kind) = im.kinds.get(&(file, gi)).copied() else {
            continue;
        };
        if !matches!(kind, GroupKind::Overcrowding | GroupKind::LineCrossing) {
            continue;
        }
        if let Some((0, _)) = im.int(file, gi, "enable") {
            im.whole_group(
                file,
                gi,
                Code::W0602,
                format!("[{}] is disabled (`enable=0`): not imported", g.name),
            );
            continue;
        }
        let stream = g
            .name
            .rsplit_once("-stream-")
            .map_or("0", |(_, n)| n)
            .to_string();
        let suffix = if stream == "0" {
            String::new()
        } else {
            format!("_s{stream}")
        };
        let entries = g.entries.clone();
        match kind {
            GroupKind::Overcrowding => {
                let crowd = im.int(file, gi, "object-threshold").map(|v| v.0.max(0));
                for e in entries {
                    let entry = im.entry(file, e).clone();
                    let Some(label) = entry.key.strip_prefix("roi-") else {
                        continue;
                    };
                    let Some(numbers) =
                        ints(&entry.value).filter(|n| n.len() >= 6 && n.len() % 2 == 0)
                    else {
                        im.report(file, e, Code::E0601, format!("`{}` is not an even list of at least 6 integers (x;y of each corner)", entry.key), None);
                        continue;
                    };
                    im.accounted.insert((file, e), super::How::Mapped);
                    let name = format!("{}{suffix}", ident(label));
                    let points: Vec<String> =
                        numbers.chunks(2).map(|c| point(c[0], c[1])).collect();
                    let crowd = crowd.map(|c| format!(", crowd: {c}")).unwrap_or_default();
                    out.items.push(
                        Frag::from(format!(
                            "const {name} = zone([{}]{size_arg}{crowd});\n",
                            points.join(", ")
                        ))
                        .at(Some(im.origin(file, e))),
                    );
                    out.zones.push(name);
                }
            }
            _ => {
                if let Some((x, e)) = im.int(file, gi, "extended")
                    && x != 0
                {
                    im.report(file, e, Code::W0602, "`extended=1` (the line taken as infinite) has no equivalent: vpl counts crossings of the segment".into(), None);
                }
                for e in entries {
                    let entry = im.entry(file, e).clone();
                    let Some(label) = entry.key.strip_prefix("line-crossing-") else {
                        continue;
                    };
                    let Some(n) = ints(&entry.value).filter(|n| n.len() == 8) else {
                        im.report(file, e, Code::E0601, format!("`{}` is not 8 integers (two points giving the direction, two the line)", entry.key), None);
                        continue;
                    };
                    im.accounted.insert((file, e), super::How::Mapped);
                    let name = format!("{}{suffix}", ident(label));
                    let (p, q) = line_points(n);
                    out.items.push(
                        Frag::from(format!(
                            "const {name} = line([{}, {}]{size_arg}, direction: forward);\n",
                            point(p.0, p.1),
                            point(q.0, q.1)
                        ))
                        .at(Some(im.origin(file, e))),
                    );
                    out.lines.push(name);
                }
            }
        }
    }
    out
}

/// Gives each group of the analytics config `file` its kind (a group nvdsanalytics does
/// not read is reported as a whole); the index of its `[property]` group.
fn kinds(im: &mut Importer<'_>, file: usize, groups: &[super::ini::Group]) -> Option<usize> {
    let mut config = None;
    for (gi, g) in groups.iter().enumerate() {
        let base = g
            .name
            .rsplit_once("-stream-")
            .map_or(g.name.as_str(), |(b, _)| b);
        let kind = match base {
            "property" => GroupKind::AnalyticsProperty,
            "roi-filtering" => GroupKind::RoiFiltering,
            "overcrowding" => GroupKind::Overcrowding,
            "line-crossing" => GroupKind::LineCrossing,
            "direction-detection" => GroupKind::DirectionDetection,
            n => {
                let s = crate::suggest::did_you_mean(
                    n,
                    [
                        "property",
                        "roi-filtering",
                        "overcrowding",
                        "line-crossing",
                        "direction-detection",
                    ],
                );
                im.whole_group(
                    file,
                    gi,
                    Code::W0603,
                    format!("nvdsanalytics does not read a group [{}]", g.name),
                );
                if let (Some(s), Some(f)) = (s, im.findings.last_mut()) {
                    f.help = Some(format!("did you mean `{s}-stream-0`?"));
                    f.suggestion = Some(format!("{s}-stream-0"));
                }
                continue;
            }
        };
        im.kinds.insert((file, gi), kind);
        if kind == GroupKind::AnalyticsProperty {
            config = Some(gi);
        }
    }
    config
}

/// DeepStream's 8 integers (direction from (n0, n1) to (n2, n3); the line from (n4, n5) to
/// (n6, n7)) → the line's ends in the order that makes DeepStream's direction vpl's
/// `forward`: from the line's left to its right, looking from its first end to its second
/// (picture coordinates, y down).
pub fn line_points(n: Vec<i64>) -> ((i64, i64), (i64, i64)) {
    let d = (n[2].saturating_sub(n[0]), n[3].saturating_sub(n[1]));
    let (p, q) = ((n[4], n[5]), (n[6], n[7]));
    // In f64: the integers are the user's and may be anything.
    let cross = (q.0 as f64 - p.0 as f64) * d.1 as f64 - (q.1 as f64 - p.1 as f64) * d.0 as f64;
    if cross >= 0.0 { (p, q) } else { (q, p) }
}

fn ints(value: &str) -> Option<Vec<i64>> {
    super::ini::list(value)
        .iter()
        .map(|v| v.parse().ok())
        .collect()
}

fn trim(v: f64) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    super::emit::float(r)
}

#[cfg(test)]
mod tests {
    use super::line_points;

    #[test]
    fn deepstream_direction_is_forward() {
        // Moving right (+x) across a vertical line: drawn upwards, so right is its right.
        assert_eq!(
            line_points(vec![0, 5, 10, 5, 5, 10, 5, 0]),
            ((5, 10), (5, 0))
        );
        assert_eq!(
            line_points(vec![0, 5, 10, 5, 5, 0, 5, 10]),
            ((5, 10), (5, 0))
        );
        // Moving down (+y) across a horizontal line: drawn left to right.
        assert_eq!(
            line_points(vec![5, 0, 5, 10, 10, 5, 0, 5]),
            ((0, 5), (10, 5))
        );
        // Integers at the ends of i64 do not overflow.
        let m = i64::MAX / 2;
        let _ = line_points(vec![-m, -m, m, m, m, -m, -m, m]);
    }
}
