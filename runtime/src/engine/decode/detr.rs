//! The `detr` decoder: one box per query, no NMS (DETR, Deformable DETR, RT-DETR).
//! Boxes are centre x, centre y, width, height as fractions of the model input; each
//! query's class and score come from its logits by the configured activation (the
//! original DETR's softmax drops the last, "no object", class: its `PostProcess`).

use super::Detection;
use super::boxes::{Activation, Rows, finish, scored_candidates};
use crate::engine::preprocess::Letterbox;

/// The `detr(confidence:, max:, activation:)` decoder's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DetrConfig {
    pub confidence: f32,
    pub max: usize,
    pub activation: Activation,
}

/// Decodes one image's queries: `boxes` rows of 4 and `logits` rows, as many of each.
/// `input` is the model's input size (boxes are fractions of it).
pub fn decode_detr(
    boxes: Rows,
    logits: Rows,
    config: &DetrConfig,
    input: (u32, u32),
    letterbox: &Letterbox,
    source: (u32, u32),
) -> Result<Vec<Detection>, String> {
    if boxes.count() != logits.count() {
        return Err(format!(
            "the detr decoder has {} boxes but {} rows of scores: the two outputs must be for the same queries",
            boxes.count(),
            logits.count()
        ));
    }
    let (w, h) = (input.0 as f32, input.1 as f32);
    let centre = |q: usize| {
        boxes
            .row(q)
            .map(|b| (b[0] * w, b[1] * h, b[2] * w, b[3] * h))
    };
    let candidates = scored_candidates(
        logits,
        config.activation,
        config.confidence,
        letterbox,
        centre,
    );
    Ok(finish(candidates, None, config.max, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAME: Letterbox = Letterbox::IDENTITY;

    #[test]
    fn one_output_boxes_then_scores_no_nms() {
        // Two overlapping queries of one class are both kept: DETR has no NMS.
        #[rustfmt::skip]
        let data = [
            0.5, 0.5, 0.25, 0.5, 0.9, 0.05,
            0.5, 0.5, 0.25, 0.5, 0.8, 0.1,
            0.1, 0.1, 0.1, 0.1, 0.2, 0.3,
        ];
        let boxes = Rows {
            data: &data,
            stride: 6,
            offset: 0,
            len: 4,
        };
        let logits = Rows {
            data: &data,
            stride: 6,
            offset: 4,
            len: 2,
        };
        let config = DetrConfig {
            confidence: 0.5,
            max: 10,
            activation: Activation::None,
        };
        let found = decode_detr(boxes, logits, &config, (200, 100), &SAME, (200, 100)).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            (
                found[0].x,
                found[0].y,
                found[0].w,
                found[0].h,
                found[0].confidence
            ),
            (75.0, 25.0, 50.0, 50.0, 0.9)
        );
        assert_eq!(found[1].confidence, 0.8);
    }

    #[test]
    fn two_outputs_of_other_lengths_are_an_error() {
        let boxes = [0.5; 8];
        let logits = [0.0; 3];
        let config = DetrConfig {
            confidence: 0.5,
            max: 10,
            activation: Activation::Sigmoid,
        };
        let err = decode_detr(
            Rows::whole(&boxes, 4),
            Rows::whole(&logits, 1),
            &config,
            (100, 100),
            &SAME,
            (100, 100),
        )
        .unwrap_err();
        assert!(err.contains("2 boxes but 3"), "{err}");
    }
}
