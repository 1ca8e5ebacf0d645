//! The `classify` decoder: a classifier's scores → its best classes.

/// The `top` best classes as (class id, probability), best first (ties: lower id first).
/// Scores that do not look like probabilities (a negative one, or a sum off 1 by more
/// than 1%) are logits: softmax is applied first.
pub fn classify(scores: &[f32], top: usize) -> Vec<(usize, f32)> {
    let sum: f32 = scores.iter().sum();
    let probabilities = scores.iter().all(|s| *s >= 0.0) && (sum - 1.0).abs() <= 0.01;
    let values: Vec<f32> = if probabilities {
        scores.to_vec()
    } else {
        softmax(scores)
    };
    let mut ranked: Vec<(usize, f32)> = values.into_iter().enumerate().collect();
    // NaN ranks last, whatever its sign.
    let key = |v: f32| if v.is_nan() { f32::NEG_INFINITY } else { v };
    ranked.sort_by(|a, b| key(b.1).total_cmp(&key(a.1)));
    ranked.truncate(top);
    ranked
}

fn softmax(scores: &[f32]) -> Vec<f32> {
    let max = scores
        .iter()
        .copied()
        .filter(|s| !s.is_nan())
        .fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f32 = exp.iter().filter(|e| !e.is_nan()).sum();
    exp.into_iter().map(|e| e / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_ranks_probabilities_and_softmaxes_logits() {
        assert_eq!(classify(&[0.1, 0.6, 0.3], 2), [(1, 0.6), (2, 0.3)]);
        let logits = classify(&[1.0, 3.0, -2.0, 2.0], 3);
        let ids: Vec<usize> = logits.iter().map(|c| c.0).collect();
        assert_eq!(ids, [1, 3, 0]);
        let total: f32 = [1.0f32, 3.0, -2.0, 2.0]
            .iter()
            .map(|s| (s - 3.0).exp())
            .sum();
        assert!((logits[0].1 - 1.0 / total).abs() < 1e-6);
        assert_eq!(classify(&[0.5, 0.5], 5).len(), 2);
        assert!(classify(&[], 3).is_empty());
        assert_eq!(classify(&[f32::NAN, 0.2, 0.1], 1)[0].0, 1);
    }
}
