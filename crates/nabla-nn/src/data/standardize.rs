//! Per-channel (images) or per-column (tables) standardisation: statistics fitted on the
//! training split, applied to every split and again at prediction time.

/// A mean and a standard deviation for each channel or column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Standardization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardization {
    /// The mean and the population standard deviation (as `numpy.std` and scikit-learn's
    /// `StandardScaler`) of each of `channels` channels in `values`, laid out as samples of
    /// `channels` runs of `inner` values (`[N, C, H, W]` with `inner = H * W`, or `[N, D]` with
    /// `inner = 1`). Sums are taken in `f64`. A constant channel gets std 1, as in
    /// scikit-learn, so it becomes 0 instead of a division by zero.
    pub fn fit(values: &[f32], channels: usize, inner: usize) -> Standardization {
        let mut sum = vec![0f64; channels];
        let mut squares = vec![0f64; channels];
        let per_sample = channels * inner;
        for sample in values.chunks_exact(per_sample.max(1)) {
            for (c, run) in sample.chunks_exact(inner.max(1)).enumerate() {
                for &x in run {
                    let x = f64::from(x);
                    sum[c] += x;
                    squares[c] += x * x;
                }
            }
        }
        let count = (values.len() / channels.max(1)).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std = squares
            .iter()
            .zip(&mean)
            .map(|(sq, m)| {
                let sd = (sq / count - m * m).max(0.0).sqrt();
                if sd > 1e-12 { sd as f32 } else { 1.0 }
            })
            .collect();
        Standardization {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }

    /// `(x - mean[c]) / std[c]` in place, over the layout of [`Standardization::fit`].
    pub fn apply(&self, values: &mut [f32], inner: usize) {
        self.each_channel(values, inner, |x, mean, std| (x - mean) / std);
    }

    /// `x * std[c] + mean[c]` in place: the values [`Standardization::apply`] started from.
    pub fn undo(&self, values: &mut [f32], inner: usize) {
        self.each_channel(values, inner, |x, mean, std| x * std + mean);
    }

    /// `f(x, mean[c], std[c])` for every value `x` of channel `c`, in place.
    fn each_channel(&self, values: &mut [f32], inner: usize, f: impl Fn(f32, f32, f32) -> f32) {
        let per_sample = self.mean.len() * inner;
        for sample in values.chunks_exact_mut(per_sample.max(1)) {
            for (c, run) in sample.chunks_exact_mut(inner.max(1)).enumerate() {
                let (mean, std) = (self.mean[c], self.std[c]);
                for x in run {
                    *x = f(*x, mean, std);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_get_their_own_statistics_and_constant_ones_std_one() {
        // Two samples of two channels of two values: channel 0 is 1,3,5,7; channel 1 is 2s.
        let mut values = vec![1.0, 3.0, 2.0, 2.0, 5.0, 7.0, 2.0, 2.0];
        let s = Standardization::fit(&values, 2, 2);
        assert_eq!(s.mean, vec![4.0, 2.0]);
        assert_eq!(s.std, vec![5f32.sqrt(), 1.0]);
        s.apply(&mut values, 2);
        let r = 5f32.sqrt();
        assert_eq!(
            values,
            vec![-3.0 / r, -1.0 / r, 0.0, 0.0, 1.0 / r, 3.0 / r, 0.0, 0.0]
        );
    }
}
