//! A records file → each frame's metadata, by frame number (no GStreamer).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use vpl_compiler::records::{FrameRecord, LabelRecord, Line, ObjectRecord, parse_line};

use crate::masks::Keypoint;
use crate::meta::{Label, Object, ObjectsData};

/// The metadata of each recorded frame, by frame number.
#[derive(Debug, Default)]
pub struct Recorded {
    frames: HashMap<u64, ObjectsData>,
    /// The frames' size, from the first record that gives it.
    size: (u32, u32),
}

impl Recorded {
    /// Reads the records of `text` (a records file's lines).
    pub fn from_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Recorded, String> {
        let mut recorded = Recorded::default();
        for (i, line) in lines.into_iter().enumerate() {
            recorded.add(i + 1, line)?;
        }
        Ok(recorded)
    }

    fn add(&mut self, number: usize, line: &str) -> Result<(), String> {
        let record = match parse_line(line).map_err(|e| format!("line {number}: {e}"))? {
            Line::Frame(r) => r,
            Line::Skipped => return Ok(()),
        };
        if let (Some(w), Some(h), (0, 0)) = (record.width, record.height, self.size) {
            self.size = (w, h);
        }
        let frame = record.frame;
        if self.frames.insert(frame, data(*record)).is_some() {
            return Err(format!("line {number}: frame {frame} has a record already"));
        }
        Ok(())
    }

    /// The metadata of frame `frame` (counted from 0), taken: the recorded objects, or none
    /// on a frame without a record.
    pub fn take(&mut self, frame: u64, stream: u32) -> ObjectsData {
        let mut data = self.frames.remove(&frame).unwrap_or_else(|| ObjectsData {
            frame,
            source_width: self.size.0,
            source_height: self.size.1,
            ..ObjectsData::default()
        });
        data.stream = stream;
        data
    }

    /// How many recorded frames are still to come.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

/// Reads the records file at `path`, a line at a time.
pub fn read_records(path: &Path) -> Result<Recorded, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut recorded = Recorded::default();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.map_err(|e| format!("cannot read {}: line {}: {e}", path.display(), i + 1))?;
        recorded
            .add(i + 1, &line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(recorded)
}

/// A record → the frame's metadata. A frame whose objects include a tracker's predictions
/// was skipped by `infer(every: N)`: it is marked `repeated` again, so that a `track`
/// downstream predicts on it as it did in the recorded run.
fn data(record: FrameRecord) -> ObjectsData {
    let repeated = record.repeated || record.objects.iter().any(|o| o.predicted);
    ObjectsData {
        stream: record.stream,
        frame: record.frame,
        source_width: record.width.unwrap_or(0),
        source_height: record.height.unwrap_or(0),
        objects: record.objects.into_iter().map(object).collect(),
        labels: record.labels.into_iter().map(label).collect(),
        repeated,
        ..ObjectsData::default()
    }
}

fn object(o: ObjectRecord) -> Object {
    Object {
        class_id: o.class_id,
        label: o.label,
        confidence: o.confidence,
        x: o.bbox.x,
        y: o.bbox.y,
        w: o.bbox.w,
        h: o.bbox.h,
        track_id: o.track_id,
        labels: o.labels.into_iter().map(label).collect(),
        predicted: o.predicted,
        text: o.text,
        keypoints: o
            .keypoints
            .into_iter()
            .map(|[x, y, confidence]| Keypoint { x, y, confidence })
            .collect(),
        ..Object::default()
    }
}

fn label(l: LabelRecord) -> Label {
    Label {
        model: l.model,
        label: l.label,
        confidence: l.confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDS: &str = r#"{"pipeline":"p","stream":0,"source":"s","frame":0,"pts_ns":0,"width":64,"height":48,"objects":[{"label":"car","class_id":2,"confidence":0.5,"bbox":{"x":1.5,"y":2.0,"w":3.0,"h":4.0},"track_id":9}]}

{"pipeline":"p","stream":0,"source":"s","frame":2,"pts_ns":0,"width":64,"height":48,"objects":[{"label":"person","class_id":0,"confidence":0.25,"bbox":{"x":1.0,"y":2.0,"w":3.0,"h":4.0},"predicted":true,"labels":[{"model":"c","label":"red","confidence":0.75}]}]}
"#;

    #[test]
    fn each_frame_gets_its_records_objects_and_others_none() {
        let mut recorded = Recorded::from_lines(RECORDS.lines()).expect("records");
        assert_eq!(recorded.len(), 2);
        let first = recorded.take(0, 3);
        assert_eq!(first.stream, 3);
        assert_eq!((first.source_width, first.source_height), (64, 48));
        let car = &first.objects[0];
        assert_eq!(
            (
                car.label.as_str(),
                car.class_id,
                car.confidence,
                car.x,
                car.track_id
            ),
            ("car", 2, 0.5, 1.5, Some(9))
        );
        assert!(!first.repeated);
        let none = recorded.take(1, 3);
        assert!(none.objects.is_empty());
        assert_eq!((none.frame, none.source_width), (1, 64));
        let predicted = recorded.take(2, 3);
        assert!(
            predicted.repeated,
            "a frame of predictions was one inference skipped"
        );
        assert_eq!(predicted.objects[0].labels[0].label, "red");
        assert!(recorded.is_empty());
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = Recorded::from_lines(["", "{\"frame\": 0}"]).expect_err("not a record");
        assert!(err.starts_with("line 2:"), "{err}");
    }
}
