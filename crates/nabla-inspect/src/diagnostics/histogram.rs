//! Fixed-bin histograms of tensor values with their summary statistics: what the diagnostics
//! record per layer and epoch for activations, weights and gradients, and what the charts draw.

use serde::Serialize;

/// Counts of values in `bins` equal-width bins over `[lo, hi]`. A value equal to `hi` falls in
/// the last bin; values outside the range are counted in `below` and `above`, NaN and
/// infinities in `non_finite`, so no value is silently lost.
///
/// ```
/// use nabla_inspect::diagnostics::Histogram;
/// let h = Histogram::new(&[0.0, 0.1, 0.5, 1.0, 1.5, f64::NAN], 0.0, 1.0, 4);
/// assert_eq!(h.counts, [2, 0, 1, 1]);
/// assert_eq!((h.below, h.above, h.non_finite), (0, 1, 1));
/// assert_eq!(h.edges(), [0.0, 0.25, 0.5, 0.75, 1.0]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
    pub below: u64,
    pub above: u64,
    pub non_finite: u64,
}

impl Histogram {
    /// The histogram of `values` over `[lo, hi]` (which must satisfy `lo < hi`) in `bins` bins.
    pub fn new(values: &[f64], lo: f64, hi: f64, bins: usize) -> Histogram {
        let mut h = Histogram {
            lo,
            hi,
            counts: vec![0; bins.max(1)],
            below: 0,
            above: 0,
            non_finite: 0,
        };
        let last = h.counts.len() - 1;
        let scale = h.counts.len() as f64 / (hi - lo);
        for &v in values {
            if !v.is_finite() {
                h.non_finite += 1;
            } else if v < lo {
                h.below += 1;
            } else if v > hi {
                h.above += 1;
            } else {
                h.counts[(((v - lo) * scale) as usize).min(last)] += 1;
            }
        }
        h
    }

    /// The histogram over the finite values' own range, widened by 0.5 on each side when they
    /// are all equal (or absent) so the range is never empty.
    ///
    /// ```
    /// use nabla_inspect::diagnostics::Histogram;
    /// let h = Histogram::spanning(&[-2.0, 0.0, 2.0], 2);
    /// assert_eq!((h.lo, h.hi, h.counts.clone()), (-2.0, 2.0, vec![1, 2]));
    /// assert_eq!(Histogram::spanning(&[3.0], 1).edges(), [2.5, 3.5]);
    /// ```
    pub fn spanning(values: &[f64], bins: usize) -> Histogram {
        let (lo, hi) = finite_range(values).unwrap_or((0.0, 0.0));
        let (lo, hi) = if lo < hi {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        };
        Histogram::new(values, lo, hi, bins)
    }

    /// The `bins + 1` bin edges from `lo` to `hi`.
    pub fn edges(&self) -> Vec<f64> {
        let n = self.counts.len();
        (0..=n)
            .map(|i| self.lo + (self.hi - self.lo) * i as f64 / n as f64)
            .collect()
    }

    /// The value below which a fraction `q` of the in-range values lie, interpolated within
    /// its bin; `None` when no value is in range.
    ///
    /// ```
    /// use nabla_inspect::diagnostics::Histogram;
    /// let h = Histogram::new(&[0.1, 0.2, 0.6, 0.7], 0.0, 1.0, 2);
    /// assert_eq!(h.quantile(0.5), Some(0.5));
    /// assert_eq!(h.quantile(0.25), Some(0.25));
    /// assert_eq!(h.quantile(1.0), Some(1.0));
    /// ```
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return None;
        }
        let target = q.clamp(0.0, 1.0) * total as f64;
        let edges = self.edges();
        let mut below = 0.0;
        for (i, &c) in self.counts.iter().enumerate() {
            let c = c as f64;
            if c > 0.0 && below + c >= target {
                let within = ((target - below) / c).clamp(0.0, 1.0);
                return Some(edges[i] + within * (edges[i + 1] - edges[i]));
            }
            below += c;
        }
        Some(self.hi)
    }

    /// Values counted, in range or not.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.below + self.above + self.non_finite
    }
}

/// The smallest and largest finite value, if any.
fn finite_range(values: &[f64]) -> Option<(f64, f64)> {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(None, |range, &v| match range {
            None => Some((v, v)),
            Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
        })
}

/// A tensor's values summarised: mean, standard deviation (population), extremes over the
/// finite values, and the histogram.
///
/// ```
/// use nabla_inspect::diagnostics::{Histogram, TensorStats};
/// let s = TensorStats::new(&[1.0, 3.0], Histogram::new(&[1.0, 3.0], 0.0, 4.0, 2));
/// assert_eq!((s.mean, s.std, s.min, s.max), (2.0, 1.0, 1.0, 3.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TensorStats {
    pub count: usize,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    pub histogram: Histogram,
}

impl TensorStats {
    /// Statistics of `values`, with their histogram already binned by the caller's choice of
    /// range. With no finite value, the mean, std and extremes are NaN.
    pub fn new(values: &[f64], histogram: Histogram) -> TensorStats {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = finite.len() as f64;
        let mean = finite.iter().sum::<f64>() / n;
        let var = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let (min, max) = finite_range(&finite).unwrap_or((f64::NAN, f64::NAN));
        TensorStats {
            count: values.len(),
            mean,
            std: var.sqrt(),
            min,
            max,
            histogram,
        }
    }
}
