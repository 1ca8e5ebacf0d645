//! Pieces of generated `.vpl` text, each knowing which DeepStream key produced which of its
//! byte ranges; pieces join into the program and their ranges shift with them.

use super::Origin;
use crate::span::Span;

#[derive(Debug, Clone, Default)]
pub struct Frag {
    pub text: String,
    /// Ranges of `text` and the DeepStream key (or group) that produced them.
    pub map: Vec<(Span, Origin)>,
}

impl Frag {
    pub fn new() -> Frag {
        Frag::default()
    }

    pub fn from(text: impl AsRef<str>) -> Frag {
        let mut f = Frag::new();
        f.push(text);
        f
    }

    pub fn push(&mut self, text: impl AsRef<str>) -> &mut Frag {
        self.text.push_str(text.as_ref());
        self
    }

    /// Appends `text`, produced by `origin`.
    pub fn push_at(&mut self, text: impl AsRef<str>, origin: Option<Origin>) -> &mut Frag {
        let start = self.text.len();
        self.text.push_str(text.as_ref());
        if let Some(o) = origin {
            self.map.push((Span::new(start, self.text.len()), o));
        }
        self
    }

    pub fn append(&mut self, other: Frag) -> &mut Frag {
        let shift = self.text.len() as u32;
        self.text.push_str(&other.text);
        self.map.extend(other.map.into_iter().map(|(s, o)| {
            (
                Span {
                    start: s.start + shift,
                    end: s.end + shift,
                },
                o,
            )
        }));
        self
    }

    /// The whole piece was produced by `origin` (its inner ranges keep their own).
    pub fn at(mut self, origin: Option<Origin>) -> Frag {
        if let Some(o) = origin {
            self.map.push((Span::new(0, self.text.len()), o));
        }
        self
    }

    /// Items joined by `sep`.
    pub fn join(items: Vec<Frag>, sep: &str) -> Frag {
        let mut out = Frag::new();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            out.append(item);
        }
        out
    }
}

/// A vpl string literal.
pub fn string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A vpl float literal: always with a `.`, never with an exponent.
pub fn float(value: f64) -> String {
    let text = format!("{value}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// A range of `from` in `to`, through [`realign`]'s offsets: its first and last
/// characters are found, whatever the formatter put after them.
pub fn moved(to: &[usize], span: Span) -> Span {
    let (start, end) = (span.start as usize, span.end as usize);
    let moved_end = if end > start {
        to[end - 1] + 1
    } else {
        to[start]
    };
    Span::new(to[start], moved_end.max(to[start]))
}

/// Maps offsets of `from` onto `to`, a reformatting of it: the two differ in whitespace and
/// in characters the formatter adds (a trailing comma), which are skipped.
pub fn realign(from: &str, to: &str) -> Vec<usize> {
    let a = from.as_bytes();
    let b = to.as_bytes();
    let mut out = vec![0; a.len() + 1];
    let (mut i, mut j) = (0, 0);
    while i < a.len() {
        if a[i].is_ascii_whitespace() {
            out[i] = j;
            i += 1;
            continue;
        }
        while j < b.len() && b[j] != a[i] {
            j += 1;
        }
        out[i] = j.min(b.len());
        i += 1;
        j = (j + 1).min(b.len());
    }
    out[a.len()] = b.len();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realign_follows_whitespace_and_added_commas() {
        let from = "f(a,  b)";
        let to = "f(\n    a,\n    b,\n)";
        let map = realign(from, to);
        assert_eq!(&to[moved(&map, Span::new(2, 3)).range()], "a");
        assert_eq!(&to[moved(&map, Span::new(6, 7)).range()], "b");
        assert_eq!(&to[moved(&map, Span::new(0, 8)).range()], to);
        assert_eq!(map[from.len()], to.len());
    }

    #[test]
    fn literals() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(0.017), "0.017");
        assert_eq!(float(1e-7), "0.0000001");
        assert_eq!(string("a\"b\\"), "\"a\\\"b\\\\\"");
    }
}
