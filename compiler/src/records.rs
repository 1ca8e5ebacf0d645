//! Records files (docs/records.md, what `json | file("run.jsonl")` writes) read back, for
//! `replay`: one line's frame record ([`parse_line`]), shared by the checker (through the
//! `Host`, which summarises a file into [`RecordsFacts`]) and the runtime's `vplreplay`,
//! which attaches each record's objects to its frame. Plain data, no IO.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One frame's record, as much of it as a replay carries: the fields a record always has
/// (docs/records.md) and the optional ones that say something about the objects. Fields
/// not named here (`pipeline`, `source`, `pts_ns`, `analytics`, ...) are read past.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FrameRecord {
    /// The stream's id; 0 where the record leaves it out.
    #[serde(default)]
    pub stream: u32,
    pub frame: u64,
    /// `null` where the writer did not know the frame's size.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub objects: Vec<ObjectRecord>,
    /// A whole-frame classifier's results.
    #[serde(default)]
    pub labels: Vec<LabelRecord>,
    /// `infer(every: N)` skipped the frame: its objects repeat the last inference's.
    #[serde(default)]
    pub repeated: bool,
}

/// One recorded object.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ObjectRecord {
    pub label: String,
    pub class_id: u32,
    pub confidence: f32,
    pub bbox: BoxRecord,
    #[serde(default)]
    pub track_id: Option<u64>,
    /// Secondary classifiers' results on the object.
    #[serde(default)]
    pub labels: Vec<LabelRecord>,
    /// A tracker's prediction on a frame `infer(every: N)` skipped, not a detection.
    #[serde(default)]
    pub predicted: bool,
    /// What a text recogniser read in the object's crop.
    #[serde(default)]
    pub text: Option<String>,
    /// `[x, y, visibility]` each, for a pose model's objects.
    #[serde(default)]
    pub keypoints: Vec<[f32; 3]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct BoxRecord {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LabelRecord {
    pub model: String,
    pub label: String,
    pub confidence: f32,
}

/// What a line of a records file is.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Frame(Box<FrameRecord>),
    /// Nothing to replay: a blank line, or a pool stream's closing
    /// `{"event": "stream_removed", ...}`.
    Skipped,
}

/// Reads one line of a records file; `Err` says why it is not a frame record.
pub fn parse_line(text: &str) -> Result<Line, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Line::Skipped);
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("it is not JSON ({e})"))?;
    let Some(object) = value.as_object() else {
        return Err("it is not a JSON object".into());
    };
    if object.get("event").and_then(|e| e.as_str()) == Some("stream_removed") {
        return Ok(Line::Skipped);
    }
    if object.contains_key("messageid") {
        return Err("it is an event message (what `events` writes), not a frame's record".into());
    }
    serde_json::from_value::<FrameRecord>(value)
        .map(|r| Line::Frame(Box::new(r)))
        .map_err(|e| format!("it is not a frame's record: {e}"))
}

/// What the checker knows of a records file, as it knows a model's labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordsFacts {
    /// The objects' labels, in the order of their class ids (then of first appearance).
    pub labels: Vec<String>,
    /// The secondary classifiers' labels on objects, in order of first appearance.
    pub object_labels: Vec<String>,
    /// The whole-frame classifiers' labels, in order of first appearance.
    pub frame_labels: Vec<String>,
    /// The frames' size, where the records give it.
    pub size: Option<(u32, u32)>,
    /// The records' last frame number plus one: how many frames the replay yields.
    pub frames: u64,
    /// Frame records in the file.
    pub records: u64,
    /// Every object has a track id (the run had `track`).
    pub tracks: bool,
}

/// Why a records file cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordsProblem {
    /// Line `line` (from 1) is not a frame record, or contradicts an earlier one.
    Line { line: usize, reason: String },
    /// No frame record at all.
    Empty,
    /// Records of more than one stream: `line` is the first of `other`'s.
    Streams { first: u32, other: u32, line: usize },
}

/// Reads a records file a line at a time ([`Summary::line`]) into its facts.
#[derive(Debug, Default)]
pub struct Summary {
    lines: usize,
    classes: BTreeMap<(u32, usize), String>,
    seen_labels: Vec<String>,
    object_labels: Vec<String>,
    frame_labels: Vec<String>,
    size: Option<((u32, u32), usize)>,
    stream: Option<u32>,
    frames: BTreeMap<u64, usize>,
    objects: u64,
    tracked: u64,
}

impl Summary {
    pub fn new() -> Summary {
        Summary::default()
    }

    /// The next line of the file.
    pub fn line(&mut self, text: &str) -> Result<(), RecordsProblem> {
        self.lines += 1;
        let line = self.lines;
        let bad = |reason: String| RecordsProblem::Line { line, reason };
        let record = match parse_line(text).map_err(bad)? {
            Line::Frame(r) => r,
            Line::Skipped => return Ok(()),
        };
        match self.stream {
            None => self.stream = Some(record.stream),
            Some(first) if first != record.stream => {
                return Err(RecordsProblem::Streams {
                    first,
                    other: record.stream,
                    line,
                });
            }
            Some(_) => {}
        }
        if let Some(earlier) = self.frames.insert(record.frame, line) {
            return Err(bad(format!(
                "frame {} has a record already, on line {earlier}",
                record.frame
            )));
        }
        if let (Some(w), Some(h)) = (record.width, record.height) {
            match self.size {
                None => self.size = Some(((w, h), line)),
                Some(((sw, sh), first)) if (sw, sh) != (w, h) => {
                    return Err(bad(format!(
                        "its frame is {w}x{h}, but line {first}'s is {sw}x{sh}: the frames of one stream have one size"
                    )));
                }
                Some(_) => {}
            }
        }
        for o in &record.objects {
            self.objects += 1;
            self.tracked += u64::from(o.track_id.is_some());
            if !self.seen_labels.contains(&o.label) {
                self.seen_labels.push(o.label.clone());
                self.classes
                    .insert((o.class_id, self.seen_labels.len()), o.label.clone());
            }
            for l in &o.labels {
                push_new(&mut self.object_labels, &l.label);
            }
        }
        for l in &record.labels {
            push_new(&mut self.frame_labels, &l.label);
        }
        Ok(())
    }

    /// The facts of the whole file.
    pub fn finish(self) -> Result<RecordsFacts, RecordsProblem> {
        let Some((&last, _)) = self.frames.last_key_value() else {
            return Err(RecordsProblem::Empty);
        };
        Ok(RecordsFacts {
            labels: self.classes.into_values().collect(),
            object_labels: self.object_labels,
            frame_labels: self.frame_labels,
            size: self.size.map(|(s, _)| s),
            frames: last + 1,
            records: self.frames.len() as u64,
            tracks: self.objects > 0 && self.tracked == self.objects,
        })
    }
}

fn push_new(all: &mut Vec<String>, label: &str) {
    if !all.iter().any(|l| l == label) {
        all.push(label.to_string());
    }
}

/// The facts of a records file's whole text.
pub fn summarise(text: &str) -> Result<RecordsFacts, RecordsProblem> {
    let mut summary = Summary::new();
    for line in text.lines() {
        summary.line(line)?;
    }
    summary.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"pipeline":"p","stream":0,"source":"s","frame":0,"pts_ns":0,"width":64,"height":48,"objects":[{"label":"car","class_id":2,"confidence":0.5,"bbox":{"x":1.0,"y":2.0,"w":3.0,"h":4.0}}]}
{"pipeline":"p","stream":0,"source":"s","frame":2,"pts_ns":0,"width":64,"height":48,"objects":[{"label":"person","class_id":0,"confidence":0.5,"bbox":{"x":1.0,"y":2.0,"w":3.0,"h":4.0}}]}
"#;

    #[test]
    fn the_always_present_fields_are_enough() {
        let facts = summarise(MINIMAL).expect("records");
        assert_eq!(facts.labels, ["person", "car"], "by class id");
        assert_eq!(facts.size, Some((64, 48)));
        assert_eq!(facts.frames, 3, "frames 0 to 2, 1 without a record");
        assert_eq!(facts.records, 2);
        assert!(!facts.tracks);
    }

    #[test]
    fn each_problem_names_its_line() {
        let twice = format!("{MINIMAL}{}", MINIMAL.lines().next().unwrap_or_default());
        assert!(matches!(
            summarise(&twice),
            Err(RecordsProblem::Line { line: 3, reason }) if reason.contains("line 1")
        ));
        let resized = MINIMAL.replacen("\"width\":64", "\"width\":32", 1);
        assert!(matches!(
            summarise(&resized),
            Err(RecordsProblem::Line { line: 2, reason }) if reason.contains("32x48")
        ));
        let other = MINIMAL.replacen("\"stream\":0", "\"stream\":1", 1);
        assert_eq!(
            summarise(&other),
            Err(RecordsProblem::Streams {
                first: 1,
                other: 0,
                line: 2
            })
        );
        assert!(matches!(
            summarise("{\"frame\": 1}\n"),
            Err(RecordsProblem::Line { line: 1, reason }) if reason.contains("objects")
        ));
        assert!(matches!(
            summarise("\nnot json\n"),
            Err(RecordsProblem::Line { line: 2, .. })
        ));
        assert_eq!(summarise("\n\n"), Err(RecordsProblem::Empty));
    }

    #[test]
    fn tracks_labels_and_closing_lines() {
        let text = r#"{"stream":3,"frame":0,"width":null,"height":null,"objects":[{"label":"p","class_id":0,"confidence":0.5,"bbox":{"x":1,"y":2,"w":3,"h":4},"track_id":7,"labels":[{"model":"c","label":"red","confidence":0.3}]}],"labels":[{"model":"s","label":"day","confidence":1.0}]}
{"event": "stream_removed", "pipeline": "live", "stream": 3, "frames": 1, "reason": "removed"}
"#;
        let facts = summarise(text).expect("records");
        assert!(facts.tracks);
        assert_eq!(facts.size, None);
        assert_eq!(facts.object_labels, ["red"]);
        assert_eq!(facts.frame_labels, ["day"]);
    }
}
