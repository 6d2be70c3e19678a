//! The most probable classes of one row of probabilities (or logits).

/// The `k` largest values of `row` with their indices, largest first; equal values keep index
/// order (the first largest is what `argmax` picks) and NaN comes last, as in top-k accuracy.
/// Gives `min(k, row.len())` pairs.
///
/// ```
/// use nabla_nn::report::top_k;
/// assert_eq!(top_k(&[0.1, 0.6, 0.3], 2), vec![(1, 0.6), (2, 0.3)]);
/// assert_eq!(top_k(&[0.5, f64::NAN, 0.5], 3)[..2], [(0, 0.5), (2, 0.5)]);
/// ```
pub fn top_k(row: &[f64], k: usize) -> Vec<(usize, f64)> {
    let mut order: Vec<usize> = (0..row.len()).collect();
    // A stable sort on "larger first, NaN last" keeps equal values in index order.
    order.sort_by(|&a, &b| {
        let (x, y) = (row[a], row[b]);
        y.partial_cmp(&x)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan()))
    });
    order.into_iter().take(k).map(|i| (i, row[i])).collect()
}
