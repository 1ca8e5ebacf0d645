//! The linear assignment problem: rows matched to columns at the least total cost, as
//! `scipy.optimize.linear_sum_assignment` solves it, and ByteTrack's thresholded use of it.
//!
//! The Hungarian method with potentials (Kuhn–Munkres, O(n²m) for n ≤ m), on `f64` costs.
//! `pathfinding`'s `kuhn_munkres` needs totally ordered (integer) weights, so IoU costs
//! would have to be rounded, which can change the assignment; this is exact on the floats.

/// The least-cost assignment of a `rows × cols` matrix (`cost[r][c]`, every entry finite):
/// `min(rows, cols)` pairs `(row, col)`, each row and column used at most once, sorted by row.
pub fn linear_sum_assignment(cost: &[Vec<f64>], cols: usize) -> Vec<(usize, usize)> {
    let rows = cost.len();
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let mut pairs = if rows <= cols {
        hungarian(rows, cols, |r, c| cost[r][c])
    } else {
        hungarian(cols, rows, |c, r| cost[r][c])
            .into_iter()
            .map(|(c, r)| (r, c))
            .collect()
    };
    pairs.sort_unstable();
    pairs
}

/// Every one of `n` rows assigned to one of `m ≥ n` columns at the least total cost.
fn hungarian(n: usize, m: usize, cost: impl Fn(usize, usize) -> f64) -> Vec<(usize, usize)> {
    // 1-based as in the textbook form: row 0 and column 0 are the virtual start.
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut owner = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for row in 1..=n {
        owner[0] = row;
        let mut j0 = 0;
        let mut min = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let reduced = cost(i0 - 1, j - 1) - u[i0] - v[j];
                if reduced < min[j] {
                    min[j] = reduced;
                    way[j] = j0;
                }
                if min[j] < delta {
                    delta = min[j];
                    j1 = j;
                }
            }
            if j1 == 0 {
                // Only with costs that are not finite, which callers never pass.
                break;
            }
            for j in 0..=m {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    min[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        while j0 != 0 {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
        }
    }
    (1..=m)
        .filter(|&j| owner[j] != 0)
        .map(|j| (owner[j] - 1, j - 1))
        .collect()
}

/// ByteTrack's `linear_assignment(cost, thresh)`: costs above `thresh` are lowered to
/// `thresh + 1e-4` (so they still fill the assignment but never count), the least-cost
/// assignment is found, and the pairs costing at most `thresh` are the matches. Returns the
/// matches and the rows and columns left unmatched, each in increasing order.
pub fn thresholded(
    mut cost: Vec<Vec<f64>>,
    cols: usize,
    thresh: f64,
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    for cell in cost.iter_mut().flatten() {
        if cell.is_nan() || *cell > thresh {
            *cell = thresh + 1e-4;
        }
    }
    let matches: Vec<(usize, usize)> = linear_sum_assignment(&cost, cols)
        .into_iter()
        .filter(|&(r, c)| cost[r][c] <= thresh)
        .collect();
    let rows: Vec<usize> = (0..cost.len())
        .filter(|r| !matches.iter().any(|m| m.0 == *r))
        .collect();
    let columns: Vec<usize> = (0..cols)
        .filter(|c| !matches.iter().any(|m| m.1 == *c))
        .collect();
    (matches, rows, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every assignment of min(rows, cols) pairs, by brute force: the least total cost.
    fn brute(cost: &[Vec<f64>], cols: usize) -> f64 {
        fn go(cost: &[Vec<f64>], r: usize, used: &mut Vec<bool>, left: usize) -> f64 {
            if left == 0 || r == cost.len() {
                return if left == 0 { 0.0 } else { f64::INFINITY };
            }
            // Row r unassigned (possible only when rows > cols).
            let mut best = if cost.len() - r > left {
                go(cost, r + 1, used, left)
            } else {
                f64::INFINITY
            };
            for c in 0..used.len() {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[r][c] + go(cost, r + 1, used, left - 1));
                    used[c] = false;
                }
            }
            best
        }
        go(cost, 0, &mut vec![false; cols], cost.len().min(cols))
    }

    #[test]
    fn a_known_square_case() {
        // Greedy by least cost takes (0, 0) at 1 and leaves row 1 a 9 (11 in all); the
        // optimum is 2 + 2 + 1 = 5.
        let cost = vec![
            vec![1.0, 2.0, 9.0],
            vec![2.0, 9.0, 9.0],
            vec![9.0, 9.0, 1.0],
        ];
        assert_eq!(
            linear_sum_assignment(&cost, 3),
            vec![(0, 1), (1, 0), (2, 2)]
        );
    }

    #[test]
    fn rectangular_both_ways_agree_with_brute_force() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for rows in 1..6 {
            for cols in 1..6 {
                for _ in 0..20 {
                    let cost: Vec<Vec<f64>> = (0..rows)
                        .map(|_| (0..cols).map(|_| next()).collect())
                        .collect();
                    let pairs = linear_sum_assignment(&cost, cols);
                    assert_eq!(pairs.len(), rows.min(cols));
                    let mut seen_r = vec![false; rows];
                    let mut seen_c = vec![false; cols];
                    for &(r, c) in &pairs {
                        assert!(!seen_r[r] && !seen_c[c], "{pairs:?}");
                        seen_r[r] = true;
                        seen_c[c] = true;
                    }
                    let total: f64 = pairs.iter().map(|&(r, c)| cost[r][c]).sum();
                    assert!((total - brute(&cost, cols)).abs() < 1e-9, "{cost:?}");
                }
            }
        }
    }

    #[test]
    fn thresholded_keeps_only_cheap_pairs() {
        let cost = vec![vec![0.1, 0.95], vec![0.9, 0.99], vec![0.3, 0.2]];
        let (matches, rows, cols) = thresholded(cost, 2, 0.8);
        assert_eq!(matches, vec![(0, 0), (2, 1)]);
        assert_eq!(rows, vec![1]);
        assert!(cols.is_empty());
        let (matches, rows, cols) = thresholded(vec![vec![f64::INFINITY]], 1, 0.5);
        assert!(matches.is_empty());
        assert_eq!((rows, cols), (vec![0], vec![0]));
        let (matches, rows, cols) = thresholded(Vec::new(), 3, 0.5);
        assert!(matches.is_empty() && rows.is_empty());
        assert_eq!(cols, vec![0, 1, 2]);
    }
}
