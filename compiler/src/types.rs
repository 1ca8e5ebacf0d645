//! Stream types (spec section 5) and how they are shown to users: the vocabulary the
//! checker, the IR, lowering and the language server share (re-exported as `check::types`).

use std::fmt;
use std::sync::Arc;

/// A list of labels, shared: types are cloned along every flow.
pub type Labels = Arc<[String]>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Not known at compile time.
    Unknown,
    /// Raw, but the pixel format is not known (a camera).
    AnyRaw,
    Raw(String),
    Encoded(String),
}

impl Format {
    pub fn is_raw(&self) -> Option<bool> {
        match self {
            Format::Unknown => None,
            Format::AnyRaw | Format::Raw(_) => Some(true),
            Format::Encoded(_) => Some(false),
        }
    }

    pub fn codec(&self) -> Option<&str> {
        match self {
            Format::Encoded(c) => Some(c),
            _ => None,
        }
    }

    /// Whether an ascribed format and a probed one can describe the same stream.
    pub fn agrees_with(&self, other: &Format) -> bool {
        match (self, other) {
            (Format::Unknown, _) | (_, Format::Unknown) => true,
            (Format::AnyRaw, f) | (f, Format::AnyRaw) => f.is_raw() == Some(true),
            (a, b) => a == b,
        }
    }

    /// A name from a media probe or an ascription.
    pub fn from_name(name: &str, raw: bool) -> Format {
        if raw || crate::media::is_raw_format(name) {
            Format::Raw(name.to_string())
        } else {
            Format::Encoded(name.to_string())
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Unknown => f.write_str("_"),
            Format::AnyRaw => f.write_str("raw"),
            Format::Raw(n) | Format::Encoded(n) => f.write_str(n),
        }
    }
}

/// The metadata a video stream carries, attached upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// Objects found by a detector, with the labels they may have.
    pub objects: Option<Labels>,
    pub tracks: bool,
    /// Labels of a classifier run on whole frames.
    pub labels: Option<Labels>,
    /// Labels of a classifier run on the objects' crops.
    pub object_labels: Option<Labels>,
    /// Raw output tensors (`decoder: raw`).
    pub tensors: bool,
    /// Zone and line analytics (`analyze`).
    pub analytics: bool,
    /// The zones and lines `analyze` measures, by name (what `record(when: EVENT, at:)`
    /// may name). Not shown in the type.
    pub shapes: Vec<(crate::stage::Geometry, String)>,
}

impl Meta {
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }

    /// Metadata of several streams composed into one (`tile`).
    pub fn union(metas: &[&Meta]) -> Meta {
        let merge = |get: &dyn Fn(&Meta) -> &Option<Labels>| {
            let mut out: Option<Vec<String>> = None;
            for m in metas {
                if let Some(labels) = get(m) {
                    let o = out.get_or_insert_with(Vec::new);
                    for l in labels.iter() {
                        if !o.contains(l) {
                            o.push(l.clone());
                        }
                    }
                }
            }
            out.map(Labels::from)
        };
        Meta {
            objects: merge(&|m| &m.objects),
            tracks: metas.iter().all(|m| m.tracks) && !metas.is_empty(),
            labels: merge(&|m| &m.labels),
            object_labels: merge(&|m| &m.object_labels),
            tensors: metas.iter().any(|m| m.tensors),
            analytics: metas.iter().any(|m| m.analytics),
            shapes: metas.iter().flat_map(|m| m.shapes.iter().cloned()).fold(
                Vec::new(),
                |mut all, s| {
                    if !all.contains(&s) {
                        all.push(s);
                    }
                    all
                },
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    pub format: Format,
    pub resolution: Option<(u32, u32)>,
    pub rate: Option<(u64, u64)>,
    pub meta: Meta,
}

impl Video {
    pub fn unknown() -> Video {
        Video {
            format: Format::Unknown,
            resolution: None,
            rate: None,
            meta: Meta::default(),
        }
    }

    /// The caps part, without metadata: `video<i420, 768x576, 10fps>`.
    pub fn caps(&self) -> String {
        let res = self
            .resolution
            .map_or("_".to_string(), |(w, h)| format!("{w}x{h}"));
        let rate = self.rate.map_or("_".to_string(), |(n, d)| rate_text(n, d));
        format!("video<{}, {res}, {rate}>", self.format)
    }
}

/// `10fps`, `12.5fps`, `30000/1001fps`.
pub fn rate_text(num: u64, den: u64) -> String {
    if den == 1 {
        return format!("{num}fps");
    }
    for decimals in 1..=3u32 {
        let scale = 10u64.pow(decimals);
        if (num * scale).is_multiple_of(den) {
            let v = num * scale / den;
            let int = v / scale;
            let frac = format!("{:0width$}", v % scale, width = decimals as usize);
            return format!("{int}.{}fps", frac.trim_end_matches('0'));
        }
    }
    format!("{num}/{den}fps")
}

impl fmt::Display for Video {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.caps())?;
        let m = &self.meta;
        if let Some(objects) = &m.objects {
            write!(f, " + objects[{}]", objects.join(", "))?;
        }
        if m.tracks {
            f.write_str(" + tracks")?;
        }
        if let Some(labels) = &m.object_labels {
            write!(f, " + object_labels[{}]", labels.join(", "))?;
        }
        if let Some(labels) = &m.labels {
            write!(f, " + labels[{}]", labels.join(", "))?;
        }
        if m.tensors {
            f.write_str(" + tensors")?;
        }
        if m.analytics {
            f.write_str(" + analytics")?;
        }
        Ok(())
    }
}

/// The type of a stream, or of several streams carried together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Video(Video),
    /// `size` frames from `streams` streams, bundled.
    Batch {
        size: u32,
        streams: usize,
        frame: Video,
        /// The `batch` call that made it, for E0301.
        site: crate::span::Span,
    },
    Records,
    List(Vec<Ty>),
    /// A type that could not be worked out; already reported.
    Error,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Video(v) => write!(f, "{v}"),
            Ty::Batch { size, frame, .. } => write!(f, "batch<{size}, {frame}>"),
            Ty::Records => f.write_str("records"),
            Ty::List(items) => {
                f.write_str("[")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("]")
            }
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_the_spec_writes_them() {
        let v = Video {
            format: Format::Raw("i420".into()),
            resolution: Some((768, 576)),
            rate: Some((10, 1)),
            meta: Meta {
                objects: Some(Labels::from(vec![
                    "person".to_string(),
                    "fallen".to_string(),
                ])),
                tracks: true,
                ..Meta::default()
            },
        };
        assert_eq!(
            v.to_string(),
            "video<i420, 768x576, 10fps> + objects[person, fallen] + tracks"
        );
        assert_eq!(rate_text(30000, 1001), "30000/1001fps");
        assert_eq!(rate_text(25, 2), "12.5fps");
        assert_eq!(Video::unknown().to_string(), "video<_, _, _>");
    }
}
