//! `yolov8_pose` outputs (`[4 + 1 + 3 × keypoints, anchors]`) → boxes with keypoints in
//! source-frame pixels: detections as YOLOv8's (`yolov8::detect`, one class), each with
//! its anchor's keypoints (x, y mapped back through the letterbox, visibility as given).

use super::yolov8::detect;
use super::{Detection, Yolov8Config};
use crate::engine::preprocess::Letterbox;
use crate::masks::Keypoint;

/// Decodes one image's output (row-major `[rows, anchors]`): nothing when `rows` is not
/// 5 + 3 × keypoints.
pub fn decode_yolov8_pose(
    output: &[f32],
    rows: usize,
    anchors: usize,
    config: &Yolov8Config,
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Vec<(Detection, Vec<Keypoint>)> {
    if rows < 8 || !(rows - 5).is_multiple_of(3) {
        return Vec::new();
    }
    let keypoints = (rows - 5) / 3;
    detect(output, rows, anchors, 1, config, letterbox, source)
        .into_iter()
        .map(|(d, a)| {
            let at = |r: usize| output[r * anchors + a];
            let points = (0..keypoints)
                .map(|k| {
                    let (x, y) = letterbox.to_source(at(5 + 3 * k), at(6 + 3 * k));
                    Keypoint {
                        x,
                        y,
                        confidence: at(7 + 3 * k),
                    }
                })
                .collect();
            (d, points)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::preprocess::Resize;

    #[test]
    fn keypoints_map_back_through_the_letterbox() {
        // 768x576 into 640x640: scale 5/6, 80 rows of padding on top.
        let letterbox = Letterbox::new((768, 576), (640, 640), Resize::Letterbox);
        let anchors = 10;
        let rows = 5 + 3 * 2;
        let mut out = vec![0.0f32; rows * anchors];
        let values = [
            320.0, 320.0, 100.0, 200.0, 0.8, 300.0, 280.0, 0.9, 340.0, 380.0, 0.2,
        ];
        for (r, v) in values.iter().enumerate() {
            out[r * anchors + 7] = *v;
        }
        let config = Yolov8Config {
            confidence: 0.5,
            iou: 0.45,
            max: 5,
        };
        let found = decode_yolov8_pose(&out, rows, anchors, &config, &letterbox, (768, 576));
        assert_eq!(found.len(), 1);
        let (d, k) = &found[0];
        assert_eq!(d.confidence, 0.8);
        let near = |a: f32, b: f32| (a - b).abs() < 1e-3;
        assert!(near(k[0].x, 360.0) && near(k[0].y, 240.0), "{k:?}");
        assert!(near(k[1].x, 408.0) && near(k[1].y, 360.0), "{k:?}");
        assert_eq!((k[0].confidence, k[1].confidence), (0.9, 0.2));
        assert!(decode_yolov8_pose(&out, 10, anchors, &config, &letterbox, (768, 576)).is_empty());
    }
}
