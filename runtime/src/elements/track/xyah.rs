//! ByteTrack's (and DeepSORT's) Kalman filter: a constant-velocity model over the state
//! `[cx, cy, a, h, vcx, vcy, va, vh]` (box centre, aspect ratio w/h, height, and their
//! velocities), the box `[cx, cy, a, h]` observed directly. The noise scales with the
//! box's height: 1/20 of it for positions, 1/160 for velocities (1e-2 and 1e-5 on the
//! aspect ratio, 1e-1 on its measurement), as in ByteTrack's `kalman_filter.py`.

pub type Vector = [f64; 8];
pub type Covariance = [[f64; 8]; 8];

const POSITION: f64 = 1.0 / 20.0;
const VELOCITY: f64 = 1.0 / 160.0;

/// `[x, y, w, h]` (top-left corner, `f32` as detections are) → `[cx, cy, a, h]`, computed
/// in `f32` as ByteTrack does on its `float32` boxes.
pub fn measure(bbox: &[f32; 4]) -> [f64; 4] {
    let [x, y, w, h] = *bbox;
    [x + w / 2.0, y + h / 2.0, w / h, h].map(f64::from)
}

fn diagonal(std: [f64; 8]) -> Covariance {
    let mut m = [[0.0; 8]; 8];
    for (i, s) in std.iter().enumerate() {
        m[i][i] = s * s;
    }
    m
}

/// A new track's state from its first box: zero velocities, uncertain in proportion to
/// the box's height.
pub fn initiate(z: [f64; 4]) -> (Vector, Covariance) {
    let h = z[3];
    let mut mean = [0.0; 8];
    mean[..4].copy_from_slice(&z);
    let std = [
        2.0 * POSITION * h,
        2.0 * POSITION * h,
        1e-2,
        2.0 * POSITION * h,
        10.0 * VELOCITY * h,
        10.0 * VELOCITY * h,
        1e-5,
        10.0 * VELOCITY * h,
    ];
    (mean, diagonal(std))
}

/// One frame ahead: `x ← F x`, `P ← F P Fᵀ + Q`, with `F` adding each velocity to its
/// component and `Q` from the height before the step.
pub fn predict(mean: &mut Vector, cov: &mut Covariance) {
    let h = mean[3];
    let q = [
        POSITION * h,
        POSITION * h,
        1e-2,
        POSITION * h,
        VELOCITY * h,
        VELOCITY * h,
        1e-5,
        VELOCITY * h,
    ];
    for i in 0..4 {
        mean[i] += mean[i + 4];
    }
    // F P: row i gains row i + 4 (i < 4); then (F P) Fᵀ: column j gains column j + 4.
    let mut p = *cov;
    let (top, bottom) = p.split_at_mut(4);
    for (row, below) in top.iter_mut().zip(bottom.iter()) {
        for (cell, b) in row.iter_mut().zip(below) {
            *cell += b;
        }
    }
    for row in p.iter_mut() {
        for j in 0..4 {
            row[j] += row[j + 4];
        }
    }
    for (i, s) in q.iter().enumerate() {
        p[i][i] += s * s;
    }
    *cov = p;
}

/// Solves `S X = B` for a symmetric positive-definite 4×4 `S` by its Cholesky factor
/// (`cho_factor`/`cho_solve` in ByteTrack); `None` when `S` is not positive definite.
fn cholesky_solve(s: &[[f64; 4]; 4], b: &[[f64; 8]; 4]) -> Option<[[f64; 8]; 4]> {
    let mut l = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = s[i][i] - sum;
                if d.is_nan() || d <= 0.0 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (s[i][j] - sum) / l[j][j];
            }
        }
    }
    let mut x = [[0.0; 8]; 4];
    for col in 0..8 {
        // L y = b, then Lᵀ x = y, on one column.
        let mut v: [f64; 4] = std::array::from_fn(|i| b[i][col]);
        for i in 0..4 {
            let sum: f64 = (0..i).map(|k| l[i][k] * v[k]).sum();
            v[i] = (v[i] - sum) / l[i][i];
        }
        for i in (0..4).rev() {
            let sum: f64 = (i + 1..4).map(|k| l[k][i] * v[k]).sum();
            v[i] = (v[i] - sum) / l[i][i];
        }
        for (row, value) in x.iter_mut().zip(v) {
            row[col] = value;
        }
    }
    Some(x)
}

/// Corrects the state by a measured box `[cx, cy, a, h]`. Returns `false` (state kept)
/// when the innovation covariance is not positive definite, which needs a box of zero
/// height and a height of zero in the state.
pub fn update(mean: &mut Vector, cov: &mut Covariance, z: [f64; 4]) -> bool {
    let h = mean[3];
    let r = [POSITION * h, POSITION * h, 1e-1, POSITION * h];
    let mut s = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            s[i][j] = cov[i][j];
        }
        s[i][i] += r[i] * r[i];
    }
    // (P Hᵀ)ᵀ = H P: the first four rows of P.
    let hp: [[f64; 8]; 4] = std::array::from_fn(|i| cov[i]);
    let Some(kt) = cholesky_solve(&s, &hp) else {
        return false;
    };
    // K = (S⁻¹ H P)ᵀ, 8×4.
    let innovation: [f64; 4] = std::array::from_fn(|i| z[i] - mean[i]);
    for (i, m) in mean.iter_mut().enumerate() {
        *m += (0..4).map(|k| kt[k][i] * innovation[k]).sum::<f64>();
    }
    // P ← P − K S Kᵀ, and K S = (H P)ᵀ, so K S Kᵀ = (H P)ᵀ Kᵀ.
    for i in 0..8 {
        for j in 0..8 {
            cov[i][j] -= (0..4).map(|k| hp[k][i] * kt[k][j]).sum::<f64>();
        }
    }
    true
}

/// The state's box as `[x1, y1, x2, y2]`.
pub fn corners(mean: &Vector) -> [f64; 4] {
    let w = mean[2] * mean[3];
    let h = mean[3];
    let x = mean[0] - w / 2.0;
    let y = mean[1] - h / 2.0;
    [x, y, x + w, y + h]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_box_is_followed_and_its_velocity_learned() {
        let (mut mean, mut cov) = initiate(measure(&[100.0, 50.0, 40.0, 80.0]));
        for step in 1..40 {
            predict(&mut mean, &mut cov);
            let x = 100.0 + 5.0 * step as f32;
            assert!(update(&mut mean, &mut cov, measure(&[x, 50.0, 40.0, 80.0])));
        }
        assert!((mean[4] - 5.0).abs() < 0.05, "vx {}", mean[4]);
        assert!(mean[5].abs() < 0.05 && mean[7].abs() < 0.05);
        predict(&mut mean, &mut cov);
        let [x1, y1, x2, y2] = corners(&mean);
        assert!((x1 - (100.0 + 5.0 * 40.0)).abs() < 0.5, "x1 {x1}");
        assert!((y1 - 50.0).abs() < 0.5 && (x2 - x1 - 40.0).abs() < 0.5);
        assert!((y2 - y1 - 80.0).abs() < 0.5);
        // The covariance stays symmetric.
        for (i, row) in cov.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                assert!((cell - cov[j][i]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn the_gain_matches_an_explicit_inverse() {
        // One update by hand: with P diagonal, K = P Hᵀ (H P Hᵀ + R)⁻¹ is diagonal too.
        let (mut mean, mut cov) = initiate([10.0, 20.0, 0.5, 40.0]);
        let p00 = cov[0][0];
        let r = (POSITION * 40.0) * (POSITION * 40.0);
        assert!(update(&mut mean, &mut cov, [12.0, 20.0, 0.5, 40.0]));
        let k = p00 / (p00 + r);
        assert!((mean[0] - (10.0 + 2.0 * k)).abs() < 1e-12);
        assert!((cov[0][0] - (p00 - k * p00)).abs() < 1e-12);
        // A box of zero height gives no positive-definite innovation: the state is kept.
        let (mut mean, mut cov) = initiate([0.0, 0.0, 0.0, 0.0]);
        assert!(!update(&mut mean, &mut cov, [1.0, 1.0, 1.0, 1.0]));
    }
}
